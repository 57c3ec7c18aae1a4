/*
 * daemon.c - start-up as a checklist, SIGHUP reload (parse, open, then
 * swap), graceful stop, SIGUSR1, STATUS= and the watchdog.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "net/activate.h"
#include "net/bind.h"
#include "net/listener.h"
#include "notify.h"
#include "privs.h"
#include "session/conn.h"
#include "stats.h"
#include "tailq.h"

#define STATUS_INTERVAL_SEC	1

static const int daemon_sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };

static void
daemon_status(char *buf, size_t size)
{
	stats_status(buf, size);
	if (!stats.last_reload_ok)
		strncat(buf, "; last reload failed, the previous configuration is in force",
		    size - strlen(buf) - 1);
}

/* STATUS= when it changed, at most once a second; nothing below has to tell us. */
static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char status[sizeof(d->status)];

	(void)fd;
	(void)what;
	daemon_status(status, sizeof(status));
	if (strcmp(status, d->status) != 0) {
		memcpy(d->status, status, sizeof(status));
		notify_status(status);
	}
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_watchdog();
}

static int
count_listeners(struct worker *w)
{
	struct listener *l;
	int n = 0;

	TAILQ_FOREACH(l, &w->listeners, entry)
		n++;
	return n;
}

/* The global limit in force: max-connections, or fewer if descriptors do not allow it. */
static void
daemon_limits(struct daemon *d)
{
	int n = count_listeners(&d->w);

	d->w.max_conns = privs_raise_nofile(d->conf->max_conns, n);
	d->w.budget = d->conf->buffer_budget;
	/* The table of connections by descriptor, made now rather than while clients come. */
	(void)worker_reserve(&d->w, (size_t)d->w.max_conns + (size_t)n + PRIVS_SPARE_FDS);
}

static void
daemon_ready(struct daemon *d)
{
	daemon_status(d->status, sizeof(d->status));
	notify_ready(d->status);
}

static bool
reload_apply(struct daemon *d, struct netlab_conf *nc)
{
	const char *restart[CONF_RESTART_MAX + 1];
	struct bind_plan *plan;

	/* Every new socket opens before anything changes; one failure keeps it all. */
	if ((plan = bind_prepare(&d->w, nc)) == NULL) {
		log_warnx("netlabd: reload failed: a listener could not be opened:"
		    " keeping the old configuration");
		return false;
	}
	if (services_apply(&d->services, nc, false) < 0) {
		bind_abort(&d->w, plan);
		log_warnx("netlabd: reload failed: keeping the old configuration");
		return false;
	}
	bind_commit(&d->w, plan, &d->services, false);
	conf_restart_changes(d->conf, nc, restart, sizeof(restart) / sizeof(restart[0]));
	for (size_t i = 0; restart[i] != NULL; i++)
		log_warnx("netlabd: a change of %s takes effect only on restart", restart[i]);
	if (!d->debug)
		log_setlevel(nc->log_level);
	conf_free(d->conf);
	d->conf = nc;
	daemon_limits(d);
	log_info("netlabd: reloaded %s", d->conf_path);
	return true;
}

static void
reload(struct daemon *d)
{
	struct netlab_conf *nc;
	bool ok = false;

	notify_reloading();
	tzset();	/* pick up a changed /etc/localtime */
	log_info("netlabd: reloading %s", d->conf_path);
	if ((nc = conf_load(d->conf_path)) == NULL)
		log_warnx("netlabd: reload failed: keeping the old configuration");
	else if (!(ok = reload_apply(d, nc)))
		conf_free(nc);
	stats_reloaded(ok, time(NULL));
	daemon_ready(d);
}

static void
shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_notice("netlabd: shutdown timeout: closing %d open connection(s)", d->w.nconns);
	conns_close_all(&d->w);
	event_base_loopexit(d->w.base, NULL);
}

static void
stop(struct daemon *d, int sig)
{
	struct timeval tv = { d->conf->shutdown_timeout, 0 };

	if (d->stopping) {
		log_notice("netlabd: %s again: exiting now", strsignal(sig));
		conns_close_all(&d->w);
		event_base_loopexit(d->w.base, NULL);
		return;
	}
	d->stopping = true;
	notify_stopping();
	listeners_free(&d->w);
	log_info("netlabd: %s: stopping, %d open connection(s) get %d s to finish",
	    strsignal(sig), d->w.nconns, d->conf->shutdown_timeout);
	worker_stop(&d->w);
	if (d->w.nconns == 0)
		return;
	if ((d->shutdown_timer = evtimer_new(d->w.base, shutdown_timeout_cb, d)) == NULL) {
		conns_close_all(&d->w);
		event_base_loopexit(d->w.base, NULL);
		return;
	}
	evtimer_add(d->shutdown_timer, &tv);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		if (!d->stopping)
			reload(d);
		break;
	case SIGUSR1:
		stats_log();
		break;
	default:
		stop(d, (int)sig);
		break;
	}
}

static int
signals_init(struct daemon *d)
{
	sigset_t set;

	for (size_t i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++) {
		d->signals[i] = evsignal_new(d->w.base, daemon_sigs[i], signal_cb, d);
		if (d->signals[i] == NULL || evsignal_add(d->signals[i], NULL) < 0)
			return -1;
	}
	/* main() blocked them for the start-up: one that came meanwhile is handled now. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(daemon_sigs) / sizeof(daemon_sigs[0]); i++)
		sigaddset(&set, daemon_sigs[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}

static int
timers_init(struct daemon *d)
{
	uint64_t usec = notify_watchdog_usec();
	struct timeval second = { STATUS_INTERVAL_SEC, 0 };

	if (notify_enabled()) {
		d->status_timer = event_new(d->w.base, -1, EV_PERSIST, status_cb, d);
		if (d->status_timer == NULL || evtimer_add(d->status_timer, &second) < 0)
			return -1;
	}
	if (usec > 0) {
		struct timeval tv = { (time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000) };

		d->watchdog_timer = event_new(d->w.base, -1, EV_PERSIST, watchdog_cb, d);
		if (d->watchdog_timer == NULL || evtimer_add(d->watchdog_timer, &tv) < 0)
			return -1;
		notify_watchdog();
	}
	return 0;
}

int
daemon_start(struct daemon *d, struct netlab_conf *conf)
{
	struct passed_fd *passed;
	struct bind_plan *plan;
	size_t npassed;

	d->conf = conf;
	services_init(&d->services);
	stats_init();
	if (!d->debug)
		log_setlevel(conf->log_level);
	if (worker_init(&d->w) < 0) {
		log_msg(LOG_ERR, "netlabd: cannot create the event loop");
		return -1;
	}
	passed = activate_fds(&npassed);
	bind_adopt(&d->w, passed, npassed);
	activate_free(passed, npassed);
	if ((plan = bind_prepare(&d->w, conf)) == NULL) {
		log_msg(LOG_ERR, "netlabd: cannot open every listener: exiting");
		return -1;
	}
	if (services_apply(&d->services, conf, true) < 0) {
		bind_abort(&d->w, plan);
		return -1;
	}
	bind_commit(&d->w, plan, &d->services, true);
	daemon_limits(d);
	privs_drop(conf);
	log_batch(d->w.base);
	if (signals_init(d) < 0 || timers_init(d) < 0) {
		log_msg(LOG_ERR, "netlabd: cannot install signal handlers and timers");
		return -1;
	}
	log_info("netlabd: netlabd %s started (libevent %s, %s backend)", PACKAGE_VERSION,
	    event_get_version(), event_base_get_method(d->w.base));
	daemon_ready(d);
	return 0;
}

int
daemon_run(struct daemon *d)
{
	event_base_dispatch(d->w.base);
	log_info("netlabd: stopped");
	return 0;
}

void
daemon_free(struct daemon *d)
{
	conns_close_all(&d->w);
	listeners_free(&d->w);
	services_free(&d->services);
	for (size_t i = 0; i < sizeof(d->signals) / sizeof(d->signals[0]); i++)
		if (d->signals[i] != NULL)
			event_free(d->signals[i]);
	if (d->shutdown_timer != NULL)
		event_free(d->shutdown_timer);
	if (d->status_timer != NULL)
		event_free(d->status_timer);
	if (d->watchdog_timer != NULL)
		event_free(d->watchdog_timer);
	log_batch(NULL);
	worker_free(&d->w);
	conf_free(d->conf);
}
