/*
 * daemon.h - what is process-wide: the config in force, the services, the
 * signals, sd_notify and the timers behind STATUS= and WATCHDOG=.  The
 * event loop it drives (and everything per connection) is the worker's.
 */
#ifndef NETLABD_DAEMON_H
#define NETLABD_DAEMON_H

#include <stdbool.h>

#include "conf/conf.h"
#include "service.h"
#include "worker.h"

struct daemon {
	const char		*conf_path;
	bool			 debug;
	struct netlab_conf	*conf;		/* in force */
	struct services		 services;
	struct worker		 w;
	bool			 stopping;
	struct event		*signals[4];
	struct event		*shutdown_timer;
	struct event		*status_timer;
	struct event		*watchdog_timer;
	char			 status[160];	/* the last STATUS= sent */
};

/* Start serving conf (the daemon owns it from here): 0, or -1 after logging why. */
int	daemon_start(struct daemon *, struct netlab_conf *conf);
/* Run the loop until stopped; 0 after SIGTERM/SIGINT. */
int	daemon_run(struct daemon *);
void	daemon_free(struct daemon *);

#endif
