/* worker.c - the event loop's own state: made, counted, stopped, freed. */
#include "config.h"

#include <stdlib.h>

#include "worker.h"

static struct event_base *
base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	/* One thread: no locks.  The changelist folds an event armed and disarmed
	 * within one loop pass (a reply written at once) into no epoll_ctl at all. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * Activated by the pass's first read, so it runs after the read callbacks
 * that one epoll_wait made active.  (libevent's cached time is no pass
 * counter: it comes from the coarse monotonic clock and stays the same
 * for several passes.)
 */
static void
worker_pass_end(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->pass_bytes = 0;
}

void
worker_count_read(struct worker *w, size_t n)
{
	if (w->pass_bytes == 0 && n > 0)
		event_active(w->pass_end, EV_TIMEOUT, 0);
	w->pass_bytes += n;
}

int
worker_init(struct worker *w)
{
	TAILQ_INIT(&w->listeners);
	w->unclaimed.name = w->unclaimed_dgram.name = "netlabd";
	w->unclaimed_dgram.datagrams = true;
	TAILQ_INIT(&w->floods);
	w->base = base_new();
	w->rbuf = malloc(WORKER_READ_SIZE);
	w->scratch_in = evbuffer_new();
	w->scratch_out = evbuffer_new();
	if (w->base == NULL || w->rbuf == NULL || w->scratch_in == NULL || w->scratch_out == NULL)
		return -1;
	if ((w->pass_end = event_new(w->base, -1, 0, worker_pass_end, w)) == NULL)
		return -1;
	return 0;
}

void
worker_free(struct worker *w)
{
	if (w->emfile_timer != NULL)
		event_free(w->emfile_timer);
	if (w->flood_timer != NULL)
		event_free(w->flood_timer);
	if (w->pass_end != NULL)
		event_free(w->pass_end);
	free(w->unclaimed.seen);
	free(w->unclaimed_dgram.seen);
	if (w->scratch_in != NULL)
		evbuffer_free(w->scratch_in);
	if (w->scratch_out != NULL)
		evbuffer_free(w->scratch_out);
	free(w->rbuf);
	free(w->udp_scratch);
	free(w->conns);
	if (w->base != NULL)
		event_base_free(w->base);
}

void
worker_stop(struct worker *w)
{
	w->stopping = true;
	if (w->nconns == 0)
		event_base_loopexit(w->base, NULL);
}

const struct timeval *
worker_timeout(struct worker *w, int seconds)
{
	struct timeval tv = { seconds, 0 };
	const struct timeval *common;

	for (size_t i = 0; i < w->ntimeouts; i++)
		if (w->timeouts[i].seconds == seconds)
			return w->timeouts[i].tv;
	if (w->ntimeouts == sizeof(w->timeouts) / sizeof(w->timeouts[0]) ||
	    (common = event_base_init_common_timeout(w->base, &tv)) == NULL)
		return NULL;
	w->timeouts[w->ntimeouts].seconds = seconds;
	w->timeouts[w->ntimeouts++].tv = common;
	return common;
}

int
worker_reserve(struct worker *w, size_t n)
{
	struct conn **v;

	if (n <= w->nslots)
		return 0;
	if ((v = realloc(w->conns, n * sizeof(*v))) == NULL)
		return -1;
	for (size_t i = w->nslots; i < n; i++)
		v[i] = NULL;
	w->conns = v;
	w->nslots = n;
	return 0;
}

int
worker_conn_add(struct worker *w, int fd, struct conn *c)
{
	if ((size_t)fd >= w->nslots && worker_reserve(w, ((size_t)fd + 1) * 2) < 0)
		return -1;
	w->conns[fd] = c;
	w->nconns++;
	return 0;
}

void
worker_conn_remove(struct worker *w, int fd)
{
	w->conns[fd] = NULL;
	if (--w->nconns == 0 && w->stopping)
		event_base_loopexit(w->base, NULL);
}
