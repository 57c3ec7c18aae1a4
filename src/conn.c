/*
 * conn.c - one client connection: its read event, its bufferevent, peer,
 * counters and idle timer, and the one path every connection leaves by
 * (conn_close).
 *
 * Reads are the connection's own: one persistent read event (which also
 * carries the idle timeout) and one read(2) into a scratch buffer.  libevent
 * 2.1's bufferevent read path asks FIONREAD before every read and reads at
 * most 4 KiB, a third more syscalls per round trip.  The bufferevent keeps
 * the buffers and the write side, and is made only once a client has
 * something to say (bufferevent_socket_new alone allocates 976 bytes).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "netlabd.h"
#include "proto.h"

/* Stop reading from a client while this much output is unsent; resume below the low mark. */
#define OUT_HIGH_WATER	(64 * 1024)
#define OUT_LOW_WATER	(16 * 1024)
/* How long a closing connection drains what the client still sends, so it sees our FIN, not a reset. */
#define LINGER_SECONDS	2
/* The most one read takes. */
#define READ_SIZE	(64 * 1024)

static void conn_readable(evutil_socket_t, short, void *);
static void conn_writecb(struct bufferevent *, void *);
static void conn_eventcb(struct bufferevent *, short, void *);
static void conn_event(struct conn *, short);

/* The per-source key: IPv4 address, or the /64 of an IPv6 address. */
static void
conn_source(const struct prefix *p, uint16_t *family, uint64_t *key)
{
	uint64_t k = 0;

	memcpy(&k, p->bytes, p->family == AF_INET ? 4 : 8);
	*family = (uint16_t)p->family;
	*key = k;
}

static void
conn_refuse(struct service *s, int fd, const char *peer, int port, const char *why)
{
	s->refused++;
	log_notice("%s: refused connection from %s, port=%d: %s", s->name, peer, port, why);
	close(fd);
}

/* Wait for the client's next bytes (and time it out when idle). */
static void
conn_read_on(struct conn *c)
{
	struct timeval tv = { c->cf->idle_timeout, 0 };

	event_add(c->rd, c->cf->idle_timeout > 0 && !c->lingering ? &tv : NULL);
}

static void
conn_read_off(struct conn *c)
{
	event_del(c->rd);
}

/* Give the connection its buffers and write side; false if it is gone. */
static bool
conn_activate(struct conn *c)
{
	c->bev = bufferevent_socket_new(c->nd->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("%s: out of memory: closing connection from %s, port=%d", c->svc->name,
		    c->peer, c->port);
		conn_close(c);
		return false;
	}
	bufferevent_setcb(c->bev, NULL, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW_WATER, 0);
	/* A client that stops reading its replies is idle too. */
	if (c->cf->idle_timeout > 0) {
		struct timeval tv = { c->cf->idle_timeout, 0 };

		bufferevent_set_timeouts(c->bev, NULL, &tv);
	}
	/* Output goes out directly (conn_flush); the write event is for leftovers. */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	return true;
}

/*
 * Write what the protocol produced at once: when it all goes out, no write
 * event is ever armed (no epoll_ctl per round trip).  The write event is
 * enabled only while output is left over.
 */
static void
conn_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) > 0) {
		/* A socket bufferevent freezes the front of its output; so does its writer. */
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, c->fd);
		evbuffer_freeze(out, 1);
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
	else
		bufferevent_disable(c->bev, EV_WRITE);
}

static bool
conn_unread(struct conn *c)
{
	int n = 0;

	return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

static void
conn_linger_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg);
}

/* Drain for at most LINGER_SECONDS in all: a fixed deadline, not one that reads renew. */
static void
conn_linger(struct conn *c)
{
	struct timeval tv = { LINGER_SECONDS, 0 };

	c->lingering = 1;
	shutdown(c->fd, SHUT_WR);
	if (c->bev != NULL)
		bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->deadline = evtimer_new(c->nd->base, conn_linger_done, c);
	if (c->deadline == NULL) {
		conn_close(c);
		return;
	}
	evtimer_add(c->deadline, &tv);
	conn_read_on(c);
}

/* Everything is sent: close, or drain first; false when the connection is gone. */
static bool
conn_finish(struct conn *c)
{
	/* Unread input would turn our close into a reset that can eat the reply. */
	if (!c->eof && conn_unread(c)) {
		conn_linger(c);
		return true;
	}
	conn_close(c);
	return false;
}

/* Call one protocol handler on in and out: count the bytes, log its error. */
static enum proto_next
conn_call(struct conn *c, enum proto_next (*fn)(struct proto_io *), struct evbuffer *in,
    struct evbuffer *out)
{
	struct proto_io io = {
		.in = in, .out = out, .conf = c->cf->proto_conf, .state = c->state,
	};
	size_t out_before = evbuffer_get_length(out);
	enum proto_next next;

	c->svc->bytes_in += evbuffer_get_length(in) - c->in_left;
	io.error[0] = '\0';
	next = fn(&io);
	c->in_left = evbuffer_get_length(in);
	c->svc->bytes_out += evbuffer_get_length(out) - out_before;
	if (io.error[0] != '\0')
		log_notice("%s: %s, port=%d: %s", c->svc->name, c->peer, c->port, io.error);
	return next;
}

/* Run one protocol handler on the connection's buffers; false when it is gone. */
static bool
conn_run(struct conn *c, enum proto_next (*fn)(struct proto_io *))
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	enum proto_next next = conn_call(c, fn, bufferevent_get_input(c->bev), out);

	if (next == PROTO_CLOSE && !c->closing) {
		c->closing = 1;
		conn_read_off(c);
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	}
	conn_flush(c);
	if (c->closing) {
		if (evbuffer_get_length(out) > 0)
			return true;
		return conn_finish(c);
	}
	if (evbuffer_get_length(out) >= OUT_HIGH_WATER && !c->paused) {
		/* The client is not reading: stop reading its requests until it does. */
		c->paused = 1;
		conn_read_off(c);
	}
	return true;
}

/*
 * A greeting protocol usually says everything at accept: write it from a
 * shared scratch buffer and close, and make the connection's own buffers
 * only if the socket takes less than all of it.  False if the connection
 * is gone.
 */
static bool
conn_greet(struct conn *c)
{
	struct netlabd *nd = c->nd;
	struct evbuffer *out;
	enum proto_next next;

	if (nd->scratch_in == NULL)
		nd->scratch_in = evbuffer_new();
	if (nd->scratch_out == NULL)
		nd->scratch_out = evbuffer_new();
	if (nd->scratch_in == NULL || nd->scratch_out == NULL)
		return conn_activate(c) && conn_run(c, c->cf->proto->start);
	out = nd->scratch_out;
	next = conn_call(c, c->cf->proto->start, nd->scratch_in, out);
	if (evbuffer_get_length(out) > 0)
		(void)evbuffer_write(out, c->fd);
	if (next == PROTO_CLOSE && evbuffer_get_length(out) == 0) {
		c->closing = 1;
		return conn_finish(c);
	}
	if (!conn_activate(c)) {
		evbuffer_drain(out, evbuffer_get_length(out));
		return false;
	}
	evbuffer_add_buffer(bufferevent_get_output(c->bev), out);
	if (next == PROTO_CLOSE) {
		c->closing = 1;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	}
	conn_flush(c);
	return true;
}

void
conn_accept(struct netlabd *nd, struct service *s, int fd, struct sockaddr *sa, int len)
{
	const struct svc_conf *cf = s->cf;
	const struct proto *p = cf->proto;
	char peer[INET6_ADDRSTRLEN];
	struct prefix src;
	uint16_t family;
	uint64_t key;
	struct conn *c;
	int port = addr_port(sa);

	(void)len;
	addr_ntop(sa, peer, sizeof(peer));
	prefix_from_sockaddr(sa, &src);
	conn_source(&src, &family, &key);
	if (!svc_conf_allows(cf, &src)) {
		conn_refuse(s, fd, peer, port, "denied by access list");
		return;
	}
	if (nd->nconns >= nd->conf->max_conns) {
		conn_refuse(s, fd, peer, port, "global max-connections reached");
		return;
	}
	if (cf->max_conns > 0 && s->active >= cf->max_conns) {
		conn_refuse(s, fd, peer, port, "service max-connections reached");
		return;
	}
	if (cf->max_per_source > 0 &&
	    srctab_count(&s->sources, family, key) >= (uint32_t)cf->max_per_source) {
		conn_refuse(s, fd, peer, port, "max-per-source reached");
		return;
	}

	if ((c = calloc(1, sizeof(*c) + p->state_size)) == NULL) {
		conn_refuse(s, fd, peer, port, "out of memory");
		return;
	}
	c->nd = nd;
	c->fd = fd;
	c->svc = s;
	s->refcnt++;
	c->cf = s->cf;
	svc_conf_ref(c->cf);
	c->port = (uint16_t)port;
	c->srcfamily = family;
	c->srckey = key;
	memcpy(c->peer, peer, sizeof(peer));
	TAILQ_INSERT_TAIL(&nd->conns, c, entry);
	nd->nconns++;
	nd->accepted_total++;
	s->active++;
	s->accepted++;
	srctab_add(&s->sources, family, key, 1);
	log_info("%s: accepted connection from %s, port=%d", s->name, peer, port);
	netlabd_status_changed(nd);

	c->rd = event_new(nd->base, fd, EV_READ | EV_PERSIST, conn_readable, c);
	if (c->rd == NULL) {
		log_warnx("%s: out of memory: closing connection from %s, port=%d", s->name, peer,
		    port);
		conn_close(c);
		return;
	}
	if (p->start != NULL && (!conn_greet(c) || c->closing))
		return;
	/* Until it sends something, a connection is this one event: no buffers. */
	conn_read_on(c);
}

/* One read into the scratch buffer, then into the connection's input. */
static ssize_t
conn_read(struct conn *c)
{
	struct netlabd *nd = c->nd;
	struct evbuffer *in;
	ssize_t n;

	if (nd->rbuf == NULL && (nd->rbuf = malloc(READ_SIZE)) == NULL)
		return -1;
	n = read(c->fd, nd->rbuf, READ_SIZE);
	if (n <= 0 || c->lingering || c->closing)
		return n;
	in = bufferevent_get_input(c->bev);
	/* The input's end is frozen for everyone but the bufferevent's reader: us. */
	evbuffer_unfreeze(in, 0);
	if (evbuffer_add(in, nd->rbuf, (size_t)n) < 0)
		n = -1;
	evbuffer_freeze(in, 0);
	return n;
}

static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)fd;
	if (what & EV_TIMEOUT) {
		conn_event(c, BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
		return;
	}
	if (c->bev == NULL && !c->lingering && !conn_activate(c))
		return;
	n = conn_read(c);
	if (n == 0) {
		conn_event(c, BEV_EVENT_READING | BEV_EVENT_EOF);
	} else if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_event(c, BEV_EVENT_READING | BEV_EVENT_ERROR);
	} else if (!c->lingering && !c->closing &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) >= c->cf->proto->frame) {
		/* A binary protocol is called once a whole request is in. */
		(void)conn_run(c, c->cf->proto->input);
	}
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->closing) {
		if (left == 0 && !c->lingering)
			conn_finish(c);
		return;
	}
	if (c->paused && left <= OUT_LOW_WATER) {
		c->paused = 0;
		conn_read_on(c);
	}
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	conn_event(arg, what);
}

static void
conn_event(struct conn *c, short what)
{
	if (c->lingering) {
		conn_close(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* Half-close: the protocol answers what it still owes, then we close. */
		c->eof = 1;
		conn_read_off(c);
		if (!c->closing)
			(void)conn_run(c, c->cf->proto->eof);
		else if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_close(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_info("%s: idle timeout, closing connection from %s, port=%d", c->svc->name,
		    c->peer, c->port);
	} else if (what & BEV_EVENT_ERROR) {
		log_debug("%s: connection from %s, port=%d: %s", c->svc->name, c->peer, c->port,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	conn_close(c);
}

void
conn_close(struct conn *c)
{
	struct netlabd *nd = c->nd;

	TAILQ_REMOVE(&nd->conns, c, entry);
	nd->nconns--;
	c->svc->active--;
	srctab_add(&c->svc->sources, c->srcfamily, c->srckey, -1);
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	else
		close(c->fd);
	svc_conf_unref(c->cf);
	service_unref(c->svc);
	free(c);
	netlabd_status_changed(nd);
	if (nd->stopping && nd->nconns == 0)
		event_base_loopexit(nd->base, NULL);
}

void
conns_close_all(struct netlabd *nd)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&nd->conns)) != NULL)
		conn_close(c);
}
