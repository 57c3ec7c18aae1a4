/*
 * service.h - services built from the config.  A new config is applied by
 * mark and sweep: services are found by name and keep their counters;
 * connections finish under the settings they started with (a svc_run).
 */
#ifndef NETLABD_SERVICE_H
#define NETLABD_SERVICE_H

#include <stdbool.h>

#include "admit/floodlog.h"
#include "admit/ratelimit.h"
#include "admit/srctab.h"
#include "conf/conf.h"
#include "stats.h"
#include "tailq.h"

/* One generation of a service's settings, with the protocol's state made for them. */
struct svc_run {
	int			 refcnt;	/* the service while current, and each connection */
	struct svc_conf		*cf;
	void			*proto_svc;	/* the protocol's svc_new state */
};

struct service_list;

struct service {
	TAILQ_ENTRY(service)	 entry;
	struct service_list	*on;		/* live or retired, NULL once on neither */
	int			 refcnt;	/* the service list, each listener, each connection */
	bool			 marked;	/* mark and sweep on reload */
	char			*name;
	struct svc_run		*run;		/* what new connections get */
	struct stats_svc	 stats;
	struct srctab		 sources;	/* open connections per source */
	struct ratelimit	 rate;		/* new connections, or replies, per source */
	struct floodlog		 flood;		/* refusals and drops */
	struct floodlog		 answered;	/* UDP: answered datagrams past their line rate */
};

TAILQ_HEAD(service_list, service);

/*
 * A removed service stays retired while connections hold it: re-added by a
 * later reload, it comes back with its counters and its open connections'
 * per-source counts, instead of forgetting them.
 */
struct services {
	struct service_list	 live;		/* in config order */
	struct service_list	 retired;
};

struct svc_run *svc_run_new(struct svc_conf *);
void	svc_run_unref(struct svc_run *);

void	services_init(struct services *);
struct service *service_find(struct services *, const char *name);
void	service_ref(struct service *);
void	service_unref(struct service *);
void	services_free(struct services *);

/* Bring the services in line with nc: -1 (nothing changed) when out of memory; logs changes unless quiet. */
int	services_apply(struct services *, const struct netlab_conf *nc, bool quiet);

#endif
