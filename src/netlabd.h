/* netlabd.h - the daemon's one state object and the core's objects: services, listeners, connections. */
#ifndef NETLABD_H
#define NETLABD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>

#include "addr.h"
#include "conf.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif

/* Open connections from one client address (IPv4 /32, IPv6 /64). */
struct srcent {
	struct srcent	*next;
	uint64_t	 key;
	uint32_t	 family;
	uint32_t	 count;
};

struct srctab {
	struct srcent	**buckets;
	size_t		 nbuckets, nentries;
};

struct service {
	TAILQ_ENTRY(service)	 entry;
	int			 refcnt;	/* the service list, and each connection */
	bool			 marked;	/* mark and sweep on reload */
	bool			 in_list;
	char			*name;
	struct svc_conf		*cf;		/* the settings new connections get */
	uint64_t		 accepted, refused, bytes_in, bytes_out;
	int			 active;
	struct srctab		 sources;
};

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct netlabd		*nd;
	struct evconnlistener	*evl;
	struct event		*resume;	/* restarts accepting after EMFILE */
	struct endpoint		 ep;
	char			*fdname;	/* name systemd gave an adopted socket */
	bool			 adopted;	/* systemd owns it: never closed or rebound */
	bool			 used;		/* mark while applying a config */
	struct service		*svc;		/* NULL while idle */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct netlabd		*nd;
	struct service		*svc;
	struct svc_conf		*cf;		/* the settings it started with */
	struct bufferevent	*bev;		/* buffers and writes; NULL until needed */
	struct event		*rd;		/* readable, or idle for idle-timeout */
	struct event		*deadline;	/* while lingering: when to give up */
	int			 fd;
	size_t			 in_left;	/* input the protocol left unconsumed */
	uint64_t		 srckey;
	uint16_t		 srcfamily;
	uint16_t		 port;
	uint8_t			 closing;	/* close once the output is sent */
	uint8_t			 lingering;	/* output sent; draining input before close */
	uint8_t			 paused;	/* not reading: output above the high-water mark */
	uint8_t			 eof;		/* the client half-closed */
	char			 peer[INET6_ADDRSTRLEN];
	_Alignas(max_align_t) unsigned char state[];	/* the protocol's per-connection state */
};

TAILQ_HEAD(service_list, service);
TAILQ_HEAD(listener_list, listener);
TAILQ_HEAD(conn_list, conn);

struct netlabd {
	struct event_base	*base;
	const char		*conf_path;
	struct netlab_conf	*conf;
	bool			 debug;
	struct service_list	 services;
	struct listener_list	 listeners;
	struct conn_list	 conns;
	int			 nconns;
	uint64_t		 accepted_total;
	bool			 stopping;
	bool			 accept_paused;	/* in an EMFILE episode: logged once */
	struct event		*emfile_timer;	/* ends the episode after a quiet second */
	unsigned char		*rbuf;		/* scratch for reads, copied into a connection's input */
	struct evbuffer		*scratch_in;	/* a greeting's buffers, empty between uses */
	struct evbuffer		*scratch_out;
	struct event		*signals[5];
	struct event		*shutdown_timer;
	struct event		*status_timer;
	struct event		*watchdog_timer;
};

/* service.c */
int	services_apply(struct netlabd *, struct netlab_conf *, bool startup);
void	service_unref(struct service *);
void	services_stats(struct netlabd *);
void	services_free(struct netlabd *);
uint32_t srctab_count(struct srctab *, uint32_t family, uint64_t key);
void	srctab_add(struct srctab *, uint32_t family, uint64_t key, int delta);

/* listener.c */
int	listener_adopt(struct netlabd *, int fd, const char *name);
int	listener_open(struct netlabd *, struct service *, const struct endpoint *);
void	listener_attach(struct listener *, struct service *);
void	listener_close(struct listener *);
void	listeners_stop(struct netlabd *);

/* conn.c */
void	conn_accept(struct netlabd *, struct service *, int fd, struct sockaddr *, int len);
void	conn_close(struct conn *);
void	conns_close_all(struct netlabd *);

/* main.c */
void	netlabd_status_changed(struct netlabd *);

#endif
