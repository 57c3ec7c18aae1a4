/* main.c - start-up sequence, command line, signals, reload, shutdown, exit codes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "activate.h"
#include "conf.h"
#include "log.h"
#include "netlabd.h"
#include "notify.h"

#define STATUS_INTERVAL_SEC	1
#define SPARE_FDS		64	/* listeners, config file, log, libevent */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: netlabd [-c FILE] [-t [--listen-units]] [-d] [-V] [-h]\n"
	    "  -c, --config FILE   config file (default: %s/netlabd.conf)\n"
	    "  -t, --test          check the config and exit: 0 if valid, 1 if not\n"
	    "      --listen-units  with -t: print the ListenStream= lines of the config's sockets\n"
	    "  -d, --debug         log debug messages as well\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this help\n", SYSCONFDIR);
}

static void
status_text(struct netlabd *nd, char *buf, size_t size)
{
	snprintf(buf, size, "%d open connection%s, %llu accepted", nd->nconns,
	    nd->nconns == 1 ? "" : "s", (unsigned long long)nd->accepted_total);
}

static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct netlabd *nd = arg;
	char status[128];

	(void)fd;
	(void)what;
	status_text(nd, status, sizeof(status));
	notify_status(status);
}

/* Keep STATUS= current, but send it at most once a second. */
void
netlabd_status_changed(struct netlabd *nd)
{
	struct timeval tv = { STATUS_INTERVAL_SEC, 0 };

	if (nd->status_timer != NULL && !evtimer_pending(nd->status_timer, NULL))
		evtimer_add(nd->status_timer, &tv);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_watchdog();
}

/* Enough descriptors for max-connections, or say why there cannot be. */
static void
raise_nofile(const struct netlab_conf *nc)
{
	rlim_t need = (rlim_t)nc->max_conns + SPARE_FDS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("netlabd: cannot raise the descriptor limit to %llu",
		    (unsigned long long)rl.rlim_cur);
	if (rl.rlim_cur < need)
		log_warnx("netlabd: max-connections %d needs %llu descriptors, but the hard"
		    " limit is %llu: accepts will pause when descriptors run out", nc->max_conns,
		    (unsigned long long)need, (unsigned long long)rl.rlim_max);
}

static void
drop_privileges(const struct netlab_conf *nc)
{
	if (nc->user == NULL) {
		if (geteuid() != 0)
			return;
		if (nc->group != NULL) {
			if (setgroups(1, &nc->gid) < 0 || setgid(nc->gid) < 0)
				fatal("netlabd: cannot switch to group %s", nc->group);
			log_info("netlabd: running with group %s (gid %d)", nc->group, (int)nc->gid);
		}
		log_notice("netlabd: running as root; set user to drop privileges");
		return;
	}
	if (geteuid() != 0) {
		if (getuid() != nc->uid)
			log_warnx("netlabd: not started as root: cannot switch to user %s,"
			    " staying uid %d", nc->user, (int)getuid());
		return;
	}
	if (setgroups(1, &nc->gid) < 0 || setgid(nc->gid) < 0 || setuid(nc->uid) < 0)
		fatal("netlabd: cannot switch to user %s", nc->user);
	if (nc->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("netlabd: could regain root after switching to user %s", nc->user);
	log_info("netlabd: running as user %s (uid %d, gid %d)", nc->user, (int)nc->uid,
	    (int)nc->gid);
}

static void
reload(struct netlabd *nd)
{
	struct netlab_conf *nc;
	char status[128];

	notify_reloading();
	tzset();	/* pick up a changed /etc/localtime */
	log_info("netlabd: reloading %s", nd->conf_path);
	if ((nc = conf_load(nd->conf_path)) == NULL) {
		log_warnx("netlabd: reload failed: keeping the old configuration");
	} else {
		if (!nd->debug)
			log_setlevel(nc->log_level);
		if (nc->uid != nd->conf->uid || nc->gid != nd->conf->gid ||
		    (nc->user == NULL) != (nd->conf->user == NULL) ||
		    (nc->group == NULL) != (nd->conf->group == NULL))
			log_warnx("netlabd: a change of user or group takes effect only on restart");
		raise_nofile(nc);
		conf_free(nd->conf);
		nd->conf = nc;
		if (services_apply(nd, nc, false) < 0)
			log_warnx("netlabd: reloaded with errors: some listeners could not be opened");
		else
			log_info("netlabd: reloaded %s", nd->conf_path);
	}
	status_text(nd, status, sizeof(status));
	notify_ready(status);
}

static void
shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct netlabd *nd = arg;

	(void)fd;
	(void)what;
	log_notice("netlabd: shutdown timeout: closing %d open connection(s)", nd->nconns);
	conns_close_all(nd);
	event_base_loopexit(nd->base, NULL);
}

static void
stop(struct netlabd *nd, int sig)
{
	struct timeval tv = { nd->conf->shutdown_timeout, 0 };

	if (nd->stopping) {
		log_notice("netlabd: %s again: exiting now", strsignal(sig));
		conns_close_all(nd);
		event_base_loopexit(nd->base, NULL);
		return;
	}
	nd->stopping = true;
	notify_stopping();
	log_info("netlabd: %s: stopping, %d open connection(s) get %d s to finish",
	    strsignal(sig), nd->nconns, nd->conf->shutdown_timeout);
	listeners_stop(nd);
	if (nd->nconns == 0) {
		event_base_loopexit(nd->base, NULL);
		return;
	}
	nd->shutdown_timer = evtimer_new(nd->base, shutdown_timeout_cb, nd);
	if (nd->shutdown_timer == NULL)
		fatalx("netlabd: evtimer_new");
	evtimer_add(nd->shutdown_timer, &tv);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct netlabd *nd = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		if (!nd->stopping)
			reload(nd);
		break;
	case SIGUSR1:
		services_stats(nd);
		break;
	default:
		stop(nd, (int)sig);
		break;
	}
}

static void
signals_init(struct netlabd *nd)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		nd->signals[i] = evsignal_new(nd->base, sigs[i], signal_cb, nd);
		if (nd->signals[i] == NULL || evsignal_add(nd->signals[i], NULL) < 0)
			fatalx("netlabd: cannot install signal handlers");
	}
}

static void
timers_init(struct netlabd *nd)
{
	uint64_t usec = notify_watchdog_usec();

	if (notify_enabled() &&
	    (nd->status_timer = evtimer_new(nd->base, status_cb, nd)) == NULL)
		fatalx("netlabd: evtimer_new");
	if (usec > 0) {
		struct timeval tv = { (time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000) };

		nd->watchdog_timer = event_new(nd->base, -1, EV_PERSIST, watchdog_cb, nd);
		if (nd->watchdog_timer == NULL || evtimer_add(nd->watchdog_timer, &tv) < 0)
			fatalx("netlabd: cannot start the watchdog timer");
		notify_watchdog();
	}
}

static struct event_base *
base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	/* One thread: no locks.  The changelist folds an event armed and disarmed
	 * within one loop pass (a reply written at once) into no epoll_ctl at all. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

static void
cleanup(struct netlabd *nd)
{
	conns_close_all(nd);
	listeners_stop(nd);
	services_free(nd);
	for (size_t i = 0; i < sizeof(nd->signals) / sizeof(nd->signals[0]); i++)
		if (nd->signals[i] != NULL)
			event_free(nd->signals[i]);
	if (nd->shutdown_timer != NULL)
		event_free(nd->shutdown_timer);
	if (nd->status_timer != NULL)
		event_free(nd->status_timer);
	if (nd->watchdog_timer != NULL)
		event_free(nd->watchdog_timer);
	if (nd->emfile_timer != NULL)
		event_free(nd->emfile_timer);
	conf_free(nd->conf);
	free(nd->rbuf);
	if (nd->scratch_in != NULL)
		evbuffer_free(nd->scratch_in);
	if (nd->scratch_out != NULL)
		evbuffer_free(nd->scratch_out);
	event_base_free(nd->base);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "listen-units", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct netlabd nd = { .conf_path = SYSCONFDIR "/netlabd.conf" };
	char status[128];
	bool test = false, units = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:tdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			nd.conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'd':
			nd.debug = true;
			break;
		case 'L':
			units = true;
			break;
		case 'V':
			printf("netlabd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netlabd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}

	log_init(LOG_INFO, nd.debug);
	signal(SIGPIPE, SIG_IGN);
	tzset();
	if (units && !test) {
		fprintf(stderr, "netlabd: --listen-units needs -t\n");
		return 1;
	}
	if ((nd.conf = conf_load(nd.conf_path)) == NULL) {
		/* Left pending, a passed socket makes systemd start us again at once. */
		if (!test)
			activate_refuse_pending();
		return 1;
	}
	if (units) {
		conf_print_listen(nd.conf, stdout);
		conf_free(nd.conf);
		return 0;
	}
	if (test) {
		printf("%s: configuration OK\n", nd.conf_path);
		conf_free(nd.conf);
		return 0;
	}
	if (!nd.debug)
		log_setlevel(nd.conf->log_level);
	TAILQ_INIT(&nd.services);
	TAILQ_INIT(&nd.listeners);
	TAILQ_INIT(&nd.conns);
	if ((nd.base = base_new()) == NULL)
		fatalx("netlabd: cannot create the event loop");
	raise_nofile(nd.conf);
	activate_adopt(&nd);
	if (services_apply(&nd, nd.conf, true) < 0) {
		log_msg(LOG_ERR, "netlabd: cannot open every listener: exiting");
		cleanup(&nd);
		return 1;
	}
	drop_privileges(nd.conf);
	log_batch(nd.base);
	signals_init(&nd);
	timers_init(&nd);
	log_info("netlabd: netlabd %s started (libevent %s, %s backend)", PACKAGE_VERSION,
	    event_get_version(), event_base_get_method(nd.base));
	status_text(&nd, status, sizeof(status));
	notify_ready(status);

	event_base_dispatch(nd.base);

	log_info("netlabd: stopped");
	log_batch(NULL);
	cleanup(&nd);
	return 0;
}
