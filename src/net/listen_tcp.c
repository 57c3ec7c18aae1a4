/*
 * listen_tcp.c - listening TCP sockets: bound or adopted, accepted through
 * evconnlistener, paused (not spinning) on EMFILE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"
#include "net/listen_tcp.h"
#include "service.h"
#include "session/conn.h"
#include "stats.h"
#include "worker.h"

#define LISTEN_BACKLOG	4096
#define ACCEPT_PAUSE_MS	100

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct listener *l = arg;

	(void)evl;
	(void)len;
	if (l->svc == NULL || l->w->stopping) {
		/* A passed socket no service uses: no client is left waiting on it. */
		if (!l->w->stopping)
			stats.unclaimed++;
		close(fd);
		return;
	}
	conn_accept(l->w, l->svc, fd, sa);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	if (!l->w->stopping && (l->svc != NULL || l->adopted))
		evconnlistener_enable(l->evl);
}

/* An episode ends after a second with no EMFILE, not at the first accept that works. */
static void
listener_emfile_over(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->accept_paused = false;
	log_notice("netlabd: accepting connections again");
}

/* Out of descriptors: stop accepting for a moment instead of spinning. */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
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
		w->emfile_timer = evtimer_new(w->base, listener_emfile_over, w);
	if (w->emfile_timer != NULL)
		evtimer_add(w->emfile_timer, &quiet);
	evconnlistener_disable(evl);
	evtimer_add(l->resume, &tv);
}

/* Wrap fd (listening already); NULL when out of memory, fd untouched. */
static struct listener *
listener_new(struct worker *w, int fd, const struct endpoint *ep, bool adopted)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->w = w;
	l->ep = *ep;
	l->adopted = adopted;
	/* Backlog 0: the socket is already listening (ours, or systemd's). */
	l->evl = evconnlistener_new(w->base, listener_accept_cb, l, LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	l->resume = evtimer_new(w->base, listener_resume_cb, l);
	if (l->evl == NULL || l->resume == NULL) {
		if (l->evl != NULL)
			evconnlistener_free(l->evl);
		if (l->resume != NULL)
			event_free(l->resume);
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	evconnlistener_disable(l->evl);
	TAILQ_INSERT_TAIL(&w->listeners, l, entry);
	return l;
}

struct listener *
listener_open(struct worker *w, const struct endpoint *ep, const char *name)
{
	const struct sockaddr *sa = (const struct sockaddr *)&ep->ss;
	char where[ENDPOINT_STRLEN];
	const char *call;
	struct listener *l;
	int fd, on = 1;

	endpoint_str(ep, where, sizeof(where));
	call = "socket";
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	call = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		goto fail;
	/* IPv4 clients belong to the IPv4 sockets: keep "::" from claiming them. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		goto fail;
	call = "bind";
	if (bind(fd, sa, ep->len) < 0)
		goto fail;
	call = "listen";
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	call = "evconnlistener_new";
	errno = ENOMEM;
	if ((l = listener_new(w, fd, ep, false)) == NULL)
		goto fail;
	log_debug("%s: listening on %s", name, where);
	return l;
fail:
	log_warn("%s: cannot listen on %s: %s", name, where, call);
	if (fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return NULL;
}

struct listener *
listener_adopt(struct worker *w, int fd, const char *name)
{
	struct endpoint ep = { .len = sizeof(ep.ss), .socktype = SOCK_STREAM };
	struct listener *l;
	int flags;

	if (getsockname(fd, (struct sockaddr *)&ep.ss, &ep.len) < 0) {
		log_warn("netlabd: passed socket %d (%s): getsockname", fd, name);
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_warn("netlabd: passed socket %d (%s): fcntl", fd, name);
		return NULL;
	}
	if ((l = listener_new(w, fd, &ep, true)) == NULL) {
		log_warnx("netlabd: passed socket %d (%s): out of memory", fd, name);
		return NULL;
	}
	/* Without FileDescriptorName= systemd names it after the unit, or "unknown". */
	if (name != NULL && strcmp(name, "unknown") != 0 && (l->fdname = strdup(name)) == NULL) {
		listener_close(l);
		return NULL;
	}
	return l;
}

void
listener_attach(struct listener *l, struct service *s)
{
	if (s != NULL)
		service_ref(s);
	if (l->svc != NULL)
		service_unref(l->svc);
	l->svc = s;
	if ((s != NULL || l->adopted) && !l->w->stopping)
		evconnlistener_enable(l->evl);
	else
		evconnlistener_disable(l->evl);
}

void
listener_close(struct listener *l)
{
	int fd = evconnlistener_get_fd(l->evl);

	TAILQ_REMOVE(&l->w->listeners, l, entry);
	if (l->svc != NULL)
		service_unref(l->svc);
	evconnlistener_free(l->evl);
	close(fd);
	event_free(l->resume);
	free(l->fdname);
	free(l);
}

void
listeners_free(struct worker *w)
{
	struct listener *l;

	while ((l = TAILQ_FIRST(&w->listeners)) != NULL)
		listener_close(l);
}
