/*
 * listen_tcp.h - listening TCP sockets: bound from the config or adopted
 * from systemd, accepted through evconnlistener, paused (not spinning) when
 * descriptors run out.  Accepted clients go to session/conn.c.
 */
#ifndef NETLABD_NET_LISTEN_TCP_H
#define NETLABD_NET_LISTEN_TCP_H

#include <stdbool.h>
#include <sys/queue.h>

#include "net/endpoint.h"

struct service;
struct worker;

struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct worker		*w;
	struct evconnlistener	*evl;
	struct event		*resume;	/* restarts accepting after EMFILE */
	struct endpoint		 ep;
	char			*fdname;	/* the name systemd gave an adopted socket, or NULL */
	bool			 adopted;	/* systemd owns it: never closed or rebound, except at start-up */
	bool			 keep;		/* mark while a config is applied */
	struct service		*svc;		/* NULL while idle */
};

/* Bind and listen on ep for service name; NULL (logged: "NAME: cannot listen on EP: CALL: error"). */
struct listener *listener_open(struct worker *, const struct endpoint *, const char *name);
/* A socket systemd passed, already bound and listening; NULL when it cannot be used (logged). */
struct listener *listener_adopt(struct worker *, int fd, const char *name);
/* Serve s on it (NULL: idle - an adopted socket then accepts and closes at once). */
void	listener_attach(struct listener *, struct service *);
void	listener_close(struct listener *);
/* Close every listener: at shutdown, new clients are refused (or wait in systemd's socket). */
void	listeners_free(struct worker *);

#endif
