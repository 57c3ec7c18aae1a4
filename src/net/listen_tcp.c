/*
 * listen_tcp.c - the TCP half of a listener: accepted through
 * evconnlistener into session/conn.c, paused (not spinning) on EMFILE.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "admit/admit.h"
#include "log.h"
#include "net/listener.h"
#include "session/conn.h"
#include "stats.h"
#include "worker.h"

#define ACCEPT_PAUSE_MS	100
/*
 * defer-accept: how long the kernel holds a connection that sent nothing.
 * A proxy sends its header at once; a client that does not is handed over
 * after about this long anyway (Linux counts it in SYN-ACK retransmissions:
 * one, a second after the first).
 */
#define DEFER_SECONDS	1

static void
tcp_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct listener *l = arg;

	(void)evl;
	(void)len;
	if (l->svc == NULL || l->w->stopping) {
		/* A passed socket no service uses: no client is left waiting on it. */
		struct peer peer;

		if (!l->w->stopping && peer_from_sockaddr(&peer, sa) == 0)
			admit_unclaimed(l->w, &peer, false);
		close(fd);
		return;
	}
	conn_accept(l->w, l->svc, fd, sa);
}

static void
tcp_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	if (!l->w->stopping && (l->svc != NULL || l->adopted))
		evconnlistener_enable(l->evl);
}

/* An episode ends after a second with no EMFILE, not at the first accept that works. */
static void
tcp_emfile_over(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->accept_paused = false;
	log_notice("netlabd: accepting connections again");
}

/* Out of descriptors: stop accepting for a moment instead of spinning. */
static void
tcp_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	struct worker *w = l->w;
	int err = errno;
	char ep[ENDPOINT_STRLEN];
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 }, quiet = { 1, 0 };

	endpoint_str(&l->ep, ep, sizeof(ep));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("netlabd: accept on %s", ep);
		return;
	}
	if (!w->accept_paused) {
		w->accept_paused = true;
		log_warn("netlabd: accept on %s: pausing new connections", ep);
	}
	if (w->emfile_timer == NULL)
		w->emfile_timer = evtimer_new(w->base, tcp_emfile_over, w);
	if (w->emfile_timer != NULL)
		evtimer_add(w->emfile_timer, &quiet);
	evconnlistener_disable(evl);
	evtimer_add(l->ev, &tv);
}

int
tcp_listener_start(struct listener *l)
{
	/* Backlog 0: the socket is already listening (ours, or systemd's). */
	l->evl = evconnlistener_new(l->w->base, tcp_accept_cb, l, LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
	l->ev = evtimer_new(l->w->base, tcp_resume_cb, l);
	if (l->evl == NULL || l->ev == NULL) {
		tcp_listener_stop(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, tcp_error_cb);
	evconnlistener_disable(l->evl);
	return 0;
}

void
tcp_listener_enable(struct listener *l, bool on)
{
	if (on)
		evconnlistener_enable(l->evl);
	else
		evconnlistener_disable(l->evl);
}

/*
 * The kernel completes the handshake but queues the connection for accept
 * only once its first bytes (the PROXY header) are in, so one wake-up takes
 * the connection and its header together.  Only what netlabd set is
 * cleared: a systemd socket's DeferAcceptSec= stays.
 */
void
tcp_listener_defer(struct listener *l, bool on)
{
	int secs = on ? DEFER_SECONDS : 0;
	char ep[ENDPOINT_STRLEN];

	if (on == l->deferred)
		return;
	if (setsockopt(l->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) < 0) {
		endpoint_str(&l->ep, ep, sizeof(ep));
		log_warn("netlabd: %s: TCP_DEFER_ACCEPT", ep);
		return;
	}
	l->deferred = on;
}

void
tcp_listener_stop(struct listener *l)
{
	if (l->evl != NULL)
		evconnlistener_free(l->evl);
	if (l->ev != NULL)
		event_free(l->ev);
	l->evl = NULL;
	l->ev = NULL;
}
