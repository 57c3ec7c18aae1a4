/*
 * conn.c - one TCP connection on plain evbuffers with its own events.
 *
 * Every read lands in the worker's read buffer.  For one protocol call the
 * connection's bytes sit in the worker's two scratch evbuffers; afterwards
 * what the protocol left unconsumed is copied into an allocation of exactly
 * its size, and what the socket did not take moves into the connection's
 * own output buffer.  So a connection between requests costs the struct,
 * its read event and the bytes it really holds - never a read-sized chunk -
 * and a reply that goes out at once costs no buffer of its own.
 *
 * A connection from a proxy (proxy-from) starts in CONN_PROXY: not admitted,
 * its protocol not started, reading no more than its PROXY header can take
 * under a fixed deadline; once the header is read the client it names is
 * admitted and served, and the bytes that followed the header are its first
 * input.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit/admit.h"
#include "conf/conf.h"
#include "log.h"
#include "proto/proto.h"
#include "service.h"
#include "session/conn.h"
#include "session/drive.h"
#include "session/proxy.h"
#include "stats.h"
#include "worker.h"

/* How long a closing connection drains what the client still sends, so it sees our FIN, not a reset. */
#define LINGER_SECONDS	2
/* A PROXY header must be complete this long after accept (SPEC 10), however it trickles in. */
#define PROXY_SECONDS	5
/* The most a PROXY header takes: a v2 one, 16 bytes and its address block and TLVs. */
#define PROXY_HDR_MAX	(16 + PROXY_V2_MAX)

static void conn_readable(evutil_socket_t, short, void *);
static void conn_writable(evutil_socket_t, short, void *);
static void conn_deadline(evutil_socket_t, short, void *);

static size_t event_size;

static struct event *
conn_rd(struct conn *c)
{
	return (struct event *)c->extra;
}

static void *
conn_pstate(struct conn *c)
{
	/* event_size is rounded to 16: the protocol's state is aligned for anything. */
	return c->extra + event_size;
}

static const struct svc_conf *
conn_cf(const struct conn *c)
{
	return c->run->cf;
}

/* The optional part, made on first need; false when out of memory. */
static bool
conn_io(struct conn *c)
{
	return c->io != NULL || (c->io = calloc(1, sizeof(*c->io))) != NULL;
}

static void
conn_io_free(struct conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL)
		return;
	c->w->buffered -= io->counted;
	if (io->wr != NULL)
		event_free(io->wr);
	if (io->timer != NULL)
		event_free(io->timer);
	if (io->out != NULL)
		evbuffer_free(io->out);
	free(io->left);
	free(io);
	c->io = NULL;
}

static void
conn_close(struct conn *c)
{
	struct worker *w = c->w;
	int fd = c->fd;

	admit_release(c->svc, &c->peer, (enum admit_count)c->counted);
	event_del(conn_rd(c));
	conn_io_free(c);
	close(fd);
	svc_run_unref(c->run);
	service_unref(c->svc);
	free(c);
	worker_conn_remove(w, fd);
}

static void
conn_log(struct conn *c, int pri, const char *what)
{
	char host[INET6_ADDRSTRLEN];

	peer_ntop(&c->peer, host, sizeof(host));
	log_msg(pri, "%s: %s, port=%u: %s", c->svc->name, host, c->peer.port, what);
}

static size_t
conn_pending(const struct conn *c)
{
	return c->io != NULL && c->io->out != NULL ? evbuffer_get_length(c->io->out) : 0;
}

static size_t
conn_nleft(const struct conn *c)
{
	return c->io != NULL ? c->io->nleft : 0;
}

/* Keep the worker's count of buffered bytes (the budget) true for this connection. */
static void
conn_account(struct conn *c)
{
	size_t now;

	if (c->io == NULL)
		return;
	now = conn_pending(c) + c->io->nleft;
	c->w->buffered = c->w->buffered - c->io->counted + now;
	c->io->counted = now;
}

/*
 * The budget is spent: reads are small (conn_read_size) and a client that
 * leaves output unread is paused at the low mark rather than the high one,
 * so the busiest non-readers stop being read first.  (What a connection holds of unfinished input is bounded by
 * its protocol - max-line, a request's size - and is not paused for: its
 * client can only finish it by sending more.)
 */
static bool
conn_over_budget(const struct conn *c)
{
	return c->w->buffered > c->w->budget && conn_pending(c) >= DRIVE_LOW_WATER;
}

static bool
conn_timer_on(struct conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };
	const struct timeval *common = worker_timeout(c->w, seconds);

	if (!conn_io(c) ||
	    (c->io->timer == NULL && (c->io->timer = evtimer_new(c->w->base, conn_deadline, c)) == NULL))
		return false;
	/* Every connection waits the same few seconds: a queue, not a heap slot each. */
	evtimer_add(c->io->timer, common != NULL ? common : &tv);
	return true;
}

/* The idle timeout, or NULL for none. */
static const struct timeval *
conn_idle_tv(struct conn *c, struct timeval *tv)
{
	const struct svc_conf *cf = conn_cf(c);
	const struct timeval *common;

	if (cf->idle_timeout <= 0)
		return NULL;
	if ((common = worker_timeout(c->w, cf->idle_timeout)) != NULL)
		return common;
	tv->tv_sec = cf->idle_timeout;
	tv->tv_usec = 0;
	return tv;
}

static bool
conn_write_on(struct conn *c, bool on)
{
	struct timeval tv;

	if (!on) {
		if (c->io != NULL && c->io->wr != NULL)
			event_del(c->io->wr);
		return true;
	}
	if (!conn_io(c) || (c->io->wr == NULL && (c->io->wr = event_new(c->w->base, c->fd,
	    EV_WRITE | EV_PERSIST, conn_writable, c)) == NULL))
		return false;
	/* A client that stops reading its replies is idle too. */
	if (!event_pending(c->io->wr, EV_WRITE, NULL))
		event_add(c->io->wr, conn_idle_tv(c, &tv));
	return true;
}

static void
conn_read_on(struct conn *c, bool on, bool idle_timeout)
{
	struct timeval tv;

	/* Re-adding a pending event would reschedule its timeout every round trip. */
	if (on && !event_pending(conn_rd(c), EV_READ, NULL))
		event_add(conn_rd(c), idle_timeout ? conn_idle_tv(c, &tv) : NULL);
	else if (!on)
		event_del(conn_rd(c));
}

/* Everything is sent: close, or first drain what the client sent, so that it sees our FIN. */
static void
conn_finish(struct conn *c)
{
	int n = 0;

	/* A read that just emptied the socket answers as well as FIONREAD would, and costs nothing more. */
	if (!c->read_all && ioctl(c->fd, FIONREAD, &n) == 0 && n > 0) {
		c->state = CONN_LINGER;
		shutdown(c->fd, SHUT_WR);
		conn_write_on(c, false);
		if (!conn_timer_on(c, LINGER_SECONDS)) {
			conn_close(c);
			return;
		}
		conn_read_on(c, true, false);
		return;
	}
	conn_close(c);
}

/* Arm the events the state asks for; false when the connection is gone. */
static bool
conn_enter(struct conn *c, enum conn_state st)
{
	size_t pending = conn_pending(c);

	c->state = (uint8_t)st;
	switch (st) {
	case CONN_OPEN:
		conn_read_on(c, true, true);
		/* Back between requests with nothing held: only the read event stays. */
		if (pending == 0 && conn_nleft(c) == 0 && conn_cf(c)->proto->drained == NULL) {
			conn_io_free(c);
			return true;
		}
		break;
	case CONN_PAUSED:
		conn_read_on(c, false, false);
		break;
	case CONN_CLOSING:
		conn_read_on(c, false, false);
		if (pending == 0) {
			conn_finish(c);
			return false;
		}
		break;
	case CONN_PROXY:
	case CONN_LINGER:
		return true;
	}
	/* A streaming protocol is driven by the socket's room for more. */
	if (!conn_write_on(c, pending > 0 || (st == CONN_OPEN && conn_cf(c)->proto->drained != NULL) ||
	    st == CONN_PAUSED)) {
		conn_log(c, LOG_WARNING, "out of memory: closing");
		conn_close(c);
		return false;
	}
	return true;
}

static void
conn_keep_free(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

/* Keep what the protocol left in in, at exactly its size; false when out of memory. */
static bool
conn_keep_input(struct conn *c, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return true;
	if (len > UINT32_MAX || !conn_io(c) || (c->io->left = malloc(len)) == NULL) {
		evbuffer_drain(in, len);
		return false;
	}
	evbuffer_remove(in, c->io->left, len);
	c->io->nleft = (uint32_t)len;
	return true;
}

/* Send out now, or keep what the socket does not take; false when the connection failed. */
static bool
conn_send(struct conn *c, struct evbuffer *out)
{
	if (evbuffer_get_length(out) == 0)
		return true;
	if (conn_pending(c) > 0)
		return evbuffer_add_buffer(c->io->out, out) == 0;
	if (evbuffer_write(out, c->fd) < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		evbuffer_drain(out, evbuffer_get_length(out));
		log_debug("%s: write to a client: %s", c->svc->name, strerror(errno));
		return false;
	}
	if (evbuffer_get_length(out) == 0)
		return true;
	if (!conn_io(c) || (c->io->out == NULL && (c->io->out = evbuffer_new()) == NULL)) {
		evbuffer_drain(out, evbuffer_get_length(out));
		return false;
	}
	return evbuffer_add_buffer(c->io->out, out) == 0;
}

/*
 * One protocol call through the driver: the held input and n new bytes in
 * the scratch input, the reply into the scratch output, then keep or send.
 * False when the connection is gone.
 */
static bool
conn_run(struct conn *c, enum drive_event ev, const void *data, size_t n)
{
	struct worker *w = c->w;
	const struct svc_conf *cf = conn_cf(c);
	struct proto_io io = {
		.in = w->scratch_in, .out = w->scratch_out, .conf = cf->proto_conf,
		.svc = c->run->proto_svc, .state = conn_pstate(c), .peer = &c->peer,
	};
	enum conn_state st;
	bool ok;

	if (c->io != NULL && c->io->left != NULL) {
		/* The chain owns the bytes from here on: freed when they are consumed. */
		if (evbuffer_add_reference(io.in, c->io->left, c->io->nleft, conn_keep_free,
		    NULL) < 0)
			goto nomem;
		c->io->left = NULL;
		c->io->nleft = 0;
	}
	if (n > 0 && evbuffer_add(io.in, data, n) < 0)
		goto nomem;
	io.error[0] = '\0';
	st = drive(c->state, ev, cf->proto, &io);
	c->svc->stats.bytes_out += evbuffer_get_length(io.out);
	if (io.error[0] != '\0') {
		c->svc->stats.errors[io.errkind == PROTO_ERR_TRUNCATED ? PERR_TRUNCATED :
		    PERR_MALFORMED]++;
		conn_log(c, LOG_NOTICE, io.error);
	}
	ok = conn_keep_input(c, io.in);
	if (!conn_send(c, io.out)) {
		conn_close(c);
		return false;
	}
	if (!ok)
		goto nomem;
	conn_account(c);
	st = drive_flow(st, conn_pending(c));
	if (st == CONN_OPEN && conn_over_budget(c))
		st = CONN_PAUSED;
	return conn_enter(c, st);

nomem:
	evbuffer_drain(io.in, evbuffer_get_length(io.in));
	evbuffer_drain(io.out, evbuffer_get_length(io.out));
	conn_log(c, LOG_WARNING, "out of memory: closing");
	conn_close(c);
	return false;
}

static void
conn_idle(struct conn *c)
{
	char host[INET6_ADDRSTRLEN];

	c->svc->stats.errors[PERR_IDLE]++;
	peer_ntop(&c->peer, host, sizeof(host));
	log_info("%s: idle timeout, closing connection from %s, port=%u", c->svc->name, host,
	    c->peer.port);
	conn_close(c);
}

/* What one read may take: all of the read buffer, unless this pass read much already or the budget is spent. */
static size_t
conn_read_size(struct worker *w)
{
	/* Over the buffer budget every read is small, so no one read adds much to it. */
	if (w->pass_bytes >= WORKER_PASS_BUDGET || w->buffered > w->budget)
		return WORKER_FAIR_READ;
	return WORKER_READ_SIZE;
}

/* How many bytes a header that starts with b[0..n) takes at most: never a byte of what follows it. */
static size_t
proxy_room(const unsigned char *b, size_t n)
{
	size_t len;

	if (n > 0 && b[0] == 'P')
		return PROXY_V1_MAX;
	if (n < 16)
		return PROXY_HDR_MAX;
	len = 16 + ((size_t)b[14] << 8 | b[15]);
	return len < PROXY_HDR_MAX ? len : PROXY_HDR_MAX;
}

/* The health check a header is (its text for the debug line), or NULL for a relayed client. */
static const char *
conn_proxy_check(const struct conn *c, const struct proxy_hdr *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct peer src, dst, here;

	if (h->local)
		return h->version == 1 ? "PROXY v1 UNKNOWN" : "PROXY v2 LOCAL";
	/*
	 * HAProxy's v1 checks (send-proxy) do not say UNKNOWN but name their
	 * own connection.  A header whose source and destination are this
	 * connection's own two ends relays no one: the proxy speaks for itself.
	 * (No relayed client can have that source and destination: its
	 * connection would be this one.)  The source is compared first, so a
	 * relayed client costs no getsockname.
	 */
	if (peer_from_sockaddr(&src, (const struct sockaddr *)&h->src) < 0 ||
	    !peer_equal(&src, &c->peer))
		return NULL;
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0 ||
	    peer_from_sockaddr(&here, (const struct sockaddr *)&ss) < 0 ||
	    peer_from_sockaddr(&dst, (const struct sockaddr *)&h->dst) < 0 ||
	    !peer_equal(&dst, &here))
		return NULL;
	return h->version == 1 ? "PROXY v1 naming its own connection" :
	    "PROXY v2 naming its own connection";
}

/* The header is read: serve the client it names, the bytes after it its first input. */
static void
conn_proxy_done(struct conn *c, const struct proxy_hdr *h, const unsigned char *rest,
    size_t nrest, bool read_all)
{
	struct worker *w = c->w;
	const struct svc_conf *cf = conn_cf(c);
	struct peer via = c->peer;
	const char *check;

	if (c->io != NULL && c->io->timer != NULL)
		evtimer_del(c->io->timer);
	/* Re-armed, with the idle timeout, by the state the protocol asks for. */
	event_del(conn_rd(c));
	if ((check = conn_proxy_check(c, h)) != NULL) {
		/* A health check: the proxy itself is the client. */
		if (!admit_local(w, c->svc, cf, &c->peer, check)) {
			conn_close(c);
			return;
		}
		c->counted = ADMIT_LOCAL;
	} else {
		if (peer_from_sockaddr(&c->peer, (const struct sockaddr *)&h->src) < 0) {
			admit_proxy_error(w, c->svc, &via, PERR_PROXY_BAD, "no source address");
			conn_close(c);
			return;
		}
		if (!admit_conn(w, c->svc, cf, &c->peer, &via)) {
			conn_close(c);
			return;
		}
		c->counted = ADMIT_SOURCE;
	}
	c->state = CONN_OPEN;
	c->read_all = read_all;
	if (!conn_run(c, DRIVE_START, NULL, 0))
		return;
	if (nrest > 0) {
		c->svc->stats.bytes_in += nrest;
		if (!conn_run(c, DRIVE_INPUT, rest, nrest))
			return;
	}
	c->read_all = false;
}

/*
 * Read toward the PROXY header: the bytes held so far and the new ones
 * together in the read buffer, never more than the header can take, so
 * what follows it stays the protocol's.  False when the connection is gone
 * or admitted; true while it waits for more.
 */
static bool
conn_proxy_read(struct conn *c)
{
	struct worker *w = c->w;
	size_t have = conn_nleft(c), room;
	struct proxy_hdr h;
	const char *why = "?";
	enum proxy_result r;
	unsigned char *keep;
	ssize_t n;
	bool all;

	if (have > 0)
		memcpy(w->rbuf, c->io->left, have);
	room = proxy_room(w->rbuf, have);
	if (room <= have) {
		/* The parser refuses a header before this; kept in case it ever does not. */
		admit_proxy_error(w, c->svc, &c->peer, PERR_PROXY_BAD, "header too long");
		conn_close(c);
		return false;
	}
	n = read(c->fd, w->rbuf + have, room - have);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return true;
		log_debug("%s: read from a proxy: %s", c->svc->name, strerror(errno));
		conn_close(c);
		return false;
	}
	if (n == 0) {
		/* A bare TCP health check connects and closes: not an error, if it sent nothing. */
		if (have == 0)
			conn_log(c, LOG_DEBUG, "closed before a PROXY header");
		else
			admit_proxy_error(w, c->svc, &c->peer, PERR_PROXY_BAD,
			    "connection closed inside the header");
		conn_close(c);
		return false;
	}
	worker_count_read(w, (size_t)n);
	all = (size_t)n < room - have;
	have += (size_t)n;
	r = proxy_parse(w->rbuf, have, &h, &why);
	if (r == PROXY_MORE) {
		if (!conn_io(c) || (keep = realloc(c->io->left, have)) == NULL) {
			conn_log(c, LOG_WARNING, "out of memory: closing");
			conn_close(c);
			return false;
		}
		memcpy(keep, w->rbuf, have);
		c->io->left = keep;
		c->io->nleft = (uint32_t)have;
		conn_account(c);
		return true;
	}
	if (c->io != NULL) {
		free(c->io->left);
		c->io->left = NULL;
		c->io->nleft = 0;
		conn_account(c);
	}
	if (r == PROXY_BAD) {
		admit_proxy_error(w, c->svc, &c->peer, PERR_PROXY_BAD, why);
		conn_close(c);
		return false;
	}
	conn_proxy_done(c, &h, w->rbuf + h.len, have - h.len, all);
	return false;
}

static void
conn_proxy_late(struct conn *c)
{
	admit_proxy_error(c->w, c->svc, &c->peer, PERR_PROXY_TIMEOUT, conn_nleft(c) == 0 ?
	    "nothing received in 5 s" : "header incomplete after 5 s");
	conn_close(c);
}

static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	ssize_t n;

	if (c->state == CONN_PROXY) {
		(void)conn_proxy_read(c);
		return;
	}
	if (what & EV_TIMEOUT) {
		/*
		 * Nothing came in, but a stream still going out means the client reads:
		 * not idle.  The write event's own timeout watches that it keeps reading.
		 */
		if (c->io == NULL || c->io->wr == NULL || !event_pending(c->io->wr, EV_WRITE, NULL))
			conn_idle(c);
		return;
	}
	n = read(fd, w->rbuf, conn_read_size(w));
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		log_debug("%s: read from a client: %s", c->svc->name, strerror(errno));
		conn_close(c);
		return;
	}
	if (c->state == CONN_LINGER) {
		if (n == 0)
			conn_close(c);
		return;
	}
	c->svc->stats.bytes_in += (uint64_t)n;
	worker_count_read(w, (size_t)n);
	if (n == 0)
		(void)conn_run(c, DRIVE_EOF, NULL, 0);
	else
		(void)conn_run(c, DRIVE_INPUT, w->rbuf, (size_t)n);
}

static void
conn_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t left;

	if (what & EV_TIMEOUT) {
		conn_idle(c);
		return;
	}
	if (conn_pending(c) > 0 && evbuffer_write(c->io->out, fd) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR) {
		log_debug("%s: write to a client: %s", c->svc->name, strerror(errno));
		conn_close(c);
		return;
	}
	conn_account(c);
	left = conn_pending(c);
	if (left == 0 && (c->state != CONN_OPEN || conn_cf(c)->proto->drained == NULL))
		conn_write_on(c, false);
	switch (c->state) {
	case CONN_CLOSING:
		if (left == 0)
			conn_finish(c);
		break;
	case CONN_PAUSED:
	case CONN_OPEN:
		if (left > DRIVE_LOW_WATER)
			break;
		if (c->state == CONN_OPEN && conn_cf(c)->proto->drained == NULL)
			break;
		/* Reading again: first what arrived before the pause, then the protocol's turn. */
		if (!conn_run(c, DRIVE_DRAINED, NULL, 0))
			break;
		if (conn_nleft(c) > 0 && c->state == CONN_OPEN)
			(void)conn_run(c, DRIVE_INPUT, NULL, 0);
		break;
	default:
		break;
	}
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_PROXY)
		conn_proxy_late(c);
	else
		conn_close(c);
}

/* Must this peer of service cf begin with a PROXY header? */
static bool
conn_proxied(const struct svc_conf *cf, const struct peer *peer)
{
	struct prefix src;

	if (cf->proxy_from.nprefixes == 0)
		return false;
	peer_prefix(peer, &src);
	return acl_match(&cf->proxy_from, &src);
}

/* A connection that could not be made after all: undo what was counted for it. */
static void
conn_unmade(struct worker *w, struct service *s, const struct peer *peer, bool proxied)
{
	if (proxied)
		admit_refuse(w, s, peer, REFUSE_NOMEM);
	else
		admit_revoke(w, s, peer, REFUSE_NOMEM);
}

void
conn_accept(struct worker *w, struct service *s, int fd, const struct sockaddr *sa)
{
	struct svc_run *run = s->run;
	const struct svc_conf *cf = run->cf;
	struct peer peer;
	struct conn *c;
	size_t size;
	bool proxied;

	if (event_size == 0)
		event_size = (event_get_struct_event_size() + 15) & ~(size_t)15;
	if (peer_from_sockaddr(&peer, sa) < 0) {
		close(fd);
		return;
	}
	/*
	 * A proxy's connection is admitted once its header names the client;
	 * until then it holds a descriptor, so the global limit counts it.
	 */
	if ((proxied = conn_proxied(cf, &peer))) {
		if (w->nconns >= w->max_conns) {
			admit_refuse(w, s, &peer, REFUSE_GLOBAL);
			close(fd);
			return;
		}
	} else if (!admit_conn(w, s, cf, &peer, NULL)) {
		close(fd);
		return;
	}
	/* malloc and memset, not calloc: glibc 2.36's calloc skips the thread cache. */
	size = sizeof(*c) + event_size + cf->proto->state_size;
	if ((c = malloc(size)) == NULL) {
		conn_unmade(w, s, &peer, proxied);
		close(fd);
		return;
	}
	memset(c, 0, size);
	c->w = w;
	c->fd = fd;
	c->peer = peer;
	c->svc = s;
	service_ref(s);
	c->run = run;
	run->refcnt++;
	event_assign(conn_rd(c), w->base, fd, EV_READ | EV_PERSIST, conn_readable, c);
	if (worker_conn_add(w, fd, c) < 0) {
		svc_run_unref(run);
		service_unref(s);
		free(c);
		conn_unmade(w, s, &peer, proxied);
		close(fd);
		return;
	}
	if (proxied) {
		c->state = CONN_PROXY;
		c->counted = ADMIT_NONE;
		/*
		 * A proxy writes the header as soon as it is connected, so it is
		 * often here already: then no read event and no timer at all.
		 */
		if (!conn_proxy_read(c))
			return;
		if (!conn_timer_on(c, PROXY_SECONDS)) {
			conn_log(c, LOG_WARNING, "out of memory: closing");
			conn_close(c);
			return;
		}
		conn_read_on(c, true, false);
		return;
	}
	c->state = CONN_OPEN;
	c->counted = ADMIT_SOURCE;
	(void)conn_run(c, DRIVE_START, NULL, 0);
}

void
conns_close_all(struct worker *w)
{
	for (size_t fd = 0; fd < w->nslots && w->nconns > 0; fd++)
		if (w->conns[fd] != NULL)
			conn_close(w->conns[fd]);
}
