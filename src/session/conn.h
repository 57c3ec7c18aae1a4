/*
 * conn.h - one TCP connection: its socket, its read and write events, the
 * bytes it holds between calls, its state, and the one path it leaves by.
 */
#ifndef NETLABD_SESSION_CONN_H
#define NETLABD_SESSION_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/buffer.h>

#include "net/addr.h"

struct service;
struct svc_run;
struct worker;

/* What a connection needs only while it holds bytes or waits on more than reads. */
struct conn_io {
	unsigned char		*left;		/* input the protocol has not consumed yet */
	uint32_t		 nleft;
	struct evbuffer		*out;		/* output the socket has not taken yet */
	struct event		*wr;		/* writable */
	struct event		*timer;		/* a fixed deadline: the PROXY header, lingering */
	size_t			 counted;	/* of the worker's buffered bytes, those this one holds */
};

/*
 * An idle connection is this struct and its read event, nothing more: the
 * worker finds it by descriptor, and conn_io is made only when needed.
 */
struct conn {
	struct worker		*w;
	struct service		*svc;
	struct svc_run		*run;		/* the settings it started with */
	struct conn_io		*io;		/* NULL while it holds nothing */
	struct peer		 peer;
	int			 fd;
	uint8_t			 state;		/* enum conn_state (session/drive.h) */
	uint8_t			 counted;	/* enum admit_count: what admission counted, for the close to undo */
	bool			 read_all;	/* within one callback: its read emptied the socket */
	/* Then the read event (event_get_struct_event_size() bytes) and the protocol's state. */
	_Alignas(8) unsigned char extra[];
};

/*
 * A client the listener accepted on service s: admit it, then serve it (or
 * close fd).  From an address in the service's proxy-from, read its PROXY
 * header first, then admit and serve the client the header names.
 */
void	conn_accept(struct worker *, struct service *, int fd, const struct sockaddr *);
void	conns_close_all(struct worker *);

#endif
