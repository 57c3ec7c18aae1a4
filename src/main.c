/* main.c - the command line, -t, and the exit codes; the daemon itself is daemon.c's. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "conf/conf.h"
#include "daemon.h"
#include "log.h"
#include "net/activate.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: netlabd [-c FILE] [-t [--listen-units]] [-d] [-V] [-h]\n"
	    "  -c, --config FILE   config file (default: %s/netlabd.conf)\n"
	    "  -t, --test          check the config and exit: 0 if valid, 1 if not\n"
	    "      --listen-units  with -t: print the ListenStream=/ListenDatagram= lines"
	    " of the config's sockets\n"
	    "  -d, --debug         log debug messages as well\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this help\n", SYSCONFDIR);
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
	struct daemon d = { .conf_path = SYSCONFDIR "/netlabd.conf" };
	struct netlab_conf *conf;
	bool test = false, units = false;
	sigset_t set;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:tdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'd':
			d.debug = true;
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
	if (units && !test) {
		fprintf(stderr, "netlabd: --listen-units needs -t\n");
		return 1;
	}

	/* A signal during start-up waits for the loop, instead of killing us unlogged. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_INFO, d.debug);
	tzset();
	if (conf_schema_check() < 0)
		return 1;
	conf_skip_lookups(units);
	if ((conf = conf_load(d.conf_path)) == NULL) {
		/* Left pending, a passed socket makes systemd start us again at once. */
		if (!test)
			activate_refuse_pending();
		return 1;
	}
	if (units) {
		conf_print_listen(conf, stdout);
		conf_free(conf);
		return 0;
	}
	if (test) {
		printf("%s: configuration OK\n", d.conf_path);
		conf_free(conf);
		return 0;
	}
	rc = daemon_start(&d, conf) < 0 ? 1 : daemon_run(&d);
	daemon_free(&d);
	return rc;
}
