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
TAILQ_HEAD(listener_list, listener);

/*
 * A read's bytes become one evbuffer chain: a chain of 64 KiB of data would
 * take a 128 KiB allocation (its header pushes it over the power of two),
 * so a read stops short of that by more than the header.
 */
#define WORKER_READ_SIZE	(64 * 1024 - 256)
/*
 * Fairness: once a loop pass has read this much, each connection gets only
 * FAIR_READ more in it, so that a thousand busy senders cost one pass a few
 * milliseconds and the next client is answered in the same pass.
 */
#define WORKER_PASS_BUDGET	(1024 * 1024)
#define WORKER_FAIR_READ	(4096 - 256)

struct worker {
	struct event_base	*base;
	struct listener_list	 listeners;
	struct conn		**conns;	/* by descriptor: memcached's conns[fd] */
	size_t			 nslots;
	int			 nconns;
	int			 max_conns;	/* the global limit in force */
	size_t			 budget;	/* buffer-budget in force, bytes */
	size_t			 buffered;	/* bytes all connections hold: unsent output, unconsumed input */
	size_t			 pass_bytes;	/* read in this loop pass, by every connection */
	struct event		*pass_end;	/* runs after the pass's callbacks: pass_bytes = 0 */
	bool			 stopping;	/* no new clients; the loop ends with the last one */
	bool			 accept_paused;	/* in an EMFILE episode: logged once */
	struct event		*emfile_timer;	/* ends the episode after a quiet second */
	unsigned char		*rbuf;		/* every read lands here first */
	struct evbuffer		*scratch_in;	/* a connection's buffers during one call: empty between calls */
	struct evbuffer		*scratch_out;
	void			*udp_scratch;	/* net/listen_udp.c's batch buffers, made on first use */
	struct floodlog_list	 floods;	/* services with a log summary due */
	struct floodlog		 unclaimed;	/* clients of passed sockets no service uses */
	struct floodlog		 unclaimed_dgram;	/* their datagrams */
	struct event		*flood_timer;
	struct {
		int		 seconds;
		const struct timeval *tv;
	}			 timeouts[16];	/* libevent common timeouts, by duration */
	size_t			 ntimeouts;
};

/* The loop, its buffers and timers; -1 when out of memory. */
int	worker_init(struct worker *);
void	worker_free(struct worker *);
/* Stop taking new clients; the loop exits when the last connection closes (now, if none). */
void	worker_stop(struct worker *);
/*
 * A timeout of that many seconds for event_add.  Connections share a few
 * durations (idle-timeout), so they use libevent's common timeouts: a queue
 * per duration instead of a heap slot per connection.
 */
const struct timeval *worker_timeout(struct worker *, int seconds);
/* A connection read n bytes in this loop pass (the fairness budget counts them). */
void	worker_count_read(struct worker *, size_t n);
/* Room for connections on descriptors below n (made before clients come). */
int	worker_reserve(struct worker *, size_t n);
/* Connections enter and leave the table here; -1 when out of memory. */
int	worker_conn_add(struct worker *, int fd, struct conn *);
void	worker_conn_remove(struct worker *, int fd);

#endif
