/* listener.c - open, adopt, attach and close listeners of either transport. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net/listener.h"
#include "service.h"
#include "worker.h"

#define LISTEN_BACKLOG	4096

static bool
is_udp(const struct listener *l)
{
	return l->ep.socktype == SOCK_DGRAM;
}

/* Wrap fd (bound, and listening for TCP); NULL when out of memory, fd untouched. */
static struct listener *
listener_new(struct worker *w, int fd, const struct endpoint *ep, bool adopted)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->w = w;
	l->ep = *ep;
	l->fd = fd;
	l->adopted = adopted;
	if ((is_udp(l) ? udp_listener_start(l) : tcp_listener_start(l)) < 0) {
		free(l);
		return NULL;
	}
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
	fd = socket(sa->sa_family, ep->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	call = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		goto fail;
	/* IPv4 clients belong to the IPv4 sockets: keep "::" from claiming them. */
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		goto fail;
	if (ep->socktype == SOCK_DGRAM && udp_listener_setup(fd, sa->sa_family) < 0)
		goto fail;
	call = "bind";
	if (bind(fd, sa, ep->len) < 0)
		goto fail;
	call = "listen";
	if (ep->socktype == SOCK_STREAM && listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	call = "out of memory";
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
listener_adopt(struct worker *w, int fd, int socktype, const char *name)
{
	struct endpoint ep = { .len = sizeof(ep.ss), .socktype = socktype };
	struct listener *l;
	int flags;

	if (getsockname(fd, (struct sockaddr *)&ep.ss, &ep.len) < 0) {
		log_warn("netlabd: passed socket %d (%s): getsockname", fd, name);
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    (socktype == SOCK_DGRAM && udp_listener_setup(fd, ep.ss.ss_family) < 0)) {
		log_warn("netlabd: passed socket %d (%s): fcntl or setsockopt", fd, name);
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
	bool on = (s != NULL || l->adopted) && !l->w->stopping;

	if (s != NULL)
		service_ref(s);
	if (l->svc != NULL)
		service_unref(l->svc);
	l->svc = s;
	if (s != NULL && !is_udp(l))
		tcp_listener_defer(l, s->run->cf->defer_accept);
	if (is_udp(l))
		udp_listener_enable(l, on);
	else
		tcp_listener_enable(l, on);
}

void
listener_close(struct listener *l)
{
	TAILQ_REMOVE(&l->w->listeners, l, entry);
	if (l->svc != NULL)
		service_unref(l->svc);
	if (is_udp(l))
		udp_listener_stop(l);
	else
		tcp_listener_stop(l);
	close(l->fd);
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
