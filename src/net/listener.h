/*
 * listener.h - the transport layer: sockets that services listen on, TCP
 * (listen_tcp.c: accepted connections go to session/conn.c) or UDP
 * (listen_udp.c: datagrams answered in batches), bound from the config or
 * adopted from systemd.
 */
#ifndef NETLABD_NET_LISTENER_H
#define NETLABD_NET_LISTENER_H

#include <stdbool.h>
#include <sys/queue.h>

#include "net/endpoint.h"

struct service;
struct worker;

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct worker		*w;
	struct endpoint		 ep;		/* its socket type says TCP or UDP */
	int			 fd;
	char			*fdname;	/* the name systemd gave an adopted socket, or NULL */
	bool			 adopted;	/* systemd owns it: never closed or rebound, except at start-up */
	bool			 keep;		/* mark while a config is applied */
	bool			 deferred;	/* TCP_DEFER_ACCEPT set by netlabd (defer-accept) */
	struct service		*svc;		/* NULL while idle */
	struct evconnlistener	*evl;		/* TCP */
	struct event		*ev;		/* TCP: resumes accepting after EMFILE; UDP: readable */
};

/* Bind (and listen on) ep for service name; NULL (logged: "NAME: cannot listen on EP: CALL: error"). */
struct listener *listener_open(struct worker *, const struct endpoint *, const char *name);
/* A socket systemd passed, already bound (and listening); NULL when it cannot be used (logged). */
struct listener *listener_adopt(struct worker *, int fd, int socktype, const char *name);
/* Serve s on it (NULL: idle - an adopted socket then turns clients away at once). */
void	listener_attach(struct listener *, struct service *);
void	listener_close(struct listener *);
/* Close every listener: at shutdown, new clients are refused (or wait in systemd's socket). */
void	listeners_free(struct worker *);

/* The halves of each transport, for listener.c. */
int	tcp_listener_start(struct listener *);
void	tcp_listener_enable(struct listener *, bool);
void	tcp_listener_defer(struct listener *, bool);
void	tcp_listener_stop(struct listener *);
int	udp_listener_setup(int fd, int family);
int	udp_listener_start(struct listener *);
void	udp_listener_enable(struct listener *, bool);
void	udp_listener_stop(struct listener *);

#endif
