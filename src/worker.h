/*
 * worker.h - one event loop and what belongs to it: its listeners, its
 * connections, its scratch buffers, its EMFILE episode and its log
 * summaries.  The daemon (daemon.c) owns what is process-wide; a second
 * loop (workers = N) would be a second struct worker.
 */
#ifndef NETLABD_WORKER_H
#define NETLABD_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/buffer.h>

#include "admit/floodlog.h"

struct conn;
struct listener;
TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(listener_list, listener);

#define WORKER_READ_SIZE	(64 * 1024)

struct worker {
	struct event_base	*base;
	struct listener_list	 listeners;
	struct conn_list	 conns;
	int			 nconns;
	int			 max_conns;	/* the global limit in force */
	bool			 stopping;	/* no new clients; the loop ends with the last one */
	bool			 accept_paused;	/* in an EMFILE episode: logged once */
	struct event		*emfile_timer;	/* ends the episode after a quiet second */
	unsigned char		*rbuf;		/* every read lands here first */
	struct evbuffer		*scratch_in;	/* a connection's buffers during one call: empty between calls */
	struct evbuffer		*scratch_out;
	struct floodlog_list	 floods;	/* services with a log summary due */
	struct event		*flood_timer;
};

/* The loop, its buffers and timers; -1 when out of memory. */
int	worker_init(struct worker *);
void	worker_free(struct worker *);
/* Stop taking new clients; the loop exits when the last connection closes (now, if none). */
void	worker_stop(struct worker *);
/* Connections count themselves in and out here. */
void	worker_conn_added(struct worker *);
void	worker_conn_removed(struct worker *);

#endif
