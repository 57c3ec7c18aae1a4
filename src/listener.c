/*
 * listener.c - listening sockets: bound from the config or adopted from
 * systemd, accepted through evconnlistener, paused (not spinning) on EMFILE.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "netlabd.h"

#define LISTEN_BACKLOG	4096
#define ACCEPT_PAUSE_MS	100

static void
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
    int len, void *arg)
{
	struct listener *l = arg;
	struct netlabd *nd = l->nd;

	(void)evl;
	if (l->svc == NULL || nd->stopping) {
		if (l->svc == NULL && !nd->stopping)
			log_debug("netlabd: closed a connection on a passed socket no service uses");
		close(fd);
		return;
	}
	conn_accept(nd, l->svc, fd, sa, len);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	if (l->svc != NULL && !l->nd->stopping)
		evconnlistener_enable(l->evl);
}

/* An episode ends after a second with no EMFILE, not at the first accept that works. */
static void
listener_emfile_over(evutil_socket_t fd, short what, void *arg)
{
	struct netlabd *nd = arg;

	(void)fd;
	(void)what;
	nd->accept_paused = false;
	log_notice("netlabd: accepting connections again");
}

/* Out of descriptors: stop accepting for a moment instead of spinning. */
static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int err = errno;
	char ep[ADDR_STRLEN];
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 }, quiet = { 1, 0 };

	addr_endpoint((struct sockaddr *)&l->ep.ss, ep, sizeof(ep));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warn("netlabd: accept on %s", ep);
		return;
	}
	if (!l->nd->accept_paused) {
		l->nd->accept_paused = true;
		log_warn("netlabd: accept on %s: pausing new connections", ep);
	}
	if (l->nd->emfile_timer == NULL)
		l->nd->emfile_timer = evtimer_new(l->nd->base, listener_emfile_over, l->nd);
	if (l->nd->emfile_timer != NULL)
		evtimer_add(l->nd->emfile_timer, &quiet);
	evconnlistener_disable(evl);
	evtimer_add(l->resume, &tv);
}

static struct listener *
listener_new(struct netlabd *nd, int fd, const struct endpoint *ep, bool adopted)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		fatal("calloc");
	l->nd = nd;
	l->ep = *ep;
	l->adopted = adopted;
	/* Backlog 0: the socket is already listening (ours, or systemd's). */
	l->evl = evconnlistener_new(nd->base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	l->resume = evtimer_new(nd->base, listener_resume_cb, l);
	if (l->evl == NULL || l->resume == NULL)
		fatalx("netlabd: cannot create a listener");
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	evconnlistener_disable(l->evl);
	TAILQ_INSERT_TAIL(&nd->listeners, l, entry);
	return l;
}

int
listener_open(struct netlabd *nd, struct service *s, const struct endpoint *ep)
{
	const struct sockaddr *sa = (const struct sockaddr *)&ep->ss;
	char where[ADDR_STRLEN];
	const char *call;
	int fd, on = 1;

	addr_endpoint(sa, where, sizeof(where));
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
	listener_attach(listener_new(nd, fd, ep, false), s);
	log_debug("%s: listening on %s", s->name, where);
	return 0;
fail:
	log_warn("%s: cannot listen on %s: %s", s->name, where, call);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A socket systemd passed: already bound and listening; it stays open across reloads. */
int
listener_adopt(struct netlabd *nd, int fd, const char *name)
{
	struct endpoint ep = { .len = sizeof(ep.ss) };
	struct listener *l;
	int flags;

	if (getsockname(fd, (struct sockaddr *)&ep.ss, &ep.len) < 0) {
		log_warn("netlabd: passed socket %d (%s): getsockname", fd, name);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_warn("netlabd: passed socket %d (%s): fcntl", fd, name);
		return -1;
	}
	l = listener_new(nd, fd, &ep, true);
	/* Without FileDescriptorName= systemd names it after the unit, or "unknown". */
	if (name != NULL && strcmp(name, "unknown") != 0 && (l->fdname = strdup(name)) == NULL)
		fatal("strdup");
	return 0;
}

void
listener_attach(struct listener *l, struct service *s)
{
	if (s != NULL)
		s->refcnt++;
	if (l->svc != NULL)
		service_unref(l->svc);
	l->svc = s;
	/* An idle passed socket still accepts, and closes at once: no client waits on it. */
	if ((s != NULL || l->adopted) && !l->nd->stopping)
		evconnlistener_enable(l->evl);
	else
		evconnlistener_disable(l->evl);
}

void
listener_close(struct listener *l)
{
	TAILQ_REMOVE(&l->nd->listeners, l, entry);
	if (l->svc != NULL)
		service_unref(l->svc);
	evconnlistener_free(l->evl);
	event_free(l->resume);
	free(l->fdname);
	free(l);
}

void
listeners_stop(struct netlabd *nd)
{
	struct listener *l;

	while ((l = TAILQ_FIRST(&nd->listeners)) != NULL)
		listener_close(l);
}
