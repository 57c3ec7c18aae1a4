/*
 * bench-udp.c - netlab-bench's UDP workloads: "udp", closed-loop flows that
 * each keep K datagrams in flight and verify every reply, and "flood", as
 * many datagrams as one core can send from many 127.x.y.z source addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench.h"

#define SCAN_NS		10000000u	/* look for lost datagrams every 10 ms */

enum ustate { U_FREE, U_OUT, U_UNSENT };

struct uslot {
	uint64_t	 t0;		/* when it was sent */
	uint32_t	 seq;		/* its tag, to tell a late reply from the current one */
	enum ustate	 state;
};

/* One flow: its own connected socket and K slots, each a datagram in flight. */
struct uflow {
	int		 fd;
	uint32_t	 seq;
	struct uslot	*slot;
};

struct udp_run {
	struct bench	*b;
	struct uflow	*f;
	int		 nf, k;
	bool		 echo;		/* the reply is the datagram itself */
	uint64_t	 loss_ns;
	uint64_t	 sent, lost, late, unsent;
	unsigned char	 out[UDP_MAX];	/* the datagram being sent */
	unsigned char	 want[UDP_MAX];	/* the echo expected */
};

/*
 * An echo datagram: an 8-byte tag (sequence number, slot) and bytes of the
 * pool at an offset that the tag decides, so a reply is checked byte for
 * byte without storing what was sent.
 */
static void
udp_make(struct udp_run *u, int fi, int si, uint32_t seq, unsigned char *p)
{
	struct bench *b = u->b;
	size_t len = b->o.line, body = len - 8;
	uint64_t h = ((uint64_t)seq * 2654435761u) ^ ((uint64_t)fi << 20) ^ (uint64_t)si;
	uint32_t s = htonl(seq), k = htonl((uint32_t)si);

	memcpy(p, &s, 4);
	memcpy(p + 4, &k, 4);
	memcpy(p + 8, b->pool + h % (POOL_SIZE - body), body);
}

static void
udp_send(struct udp_run *u, int fi, int si)
{
	struct bench *b = u->b;
	struct uflow *f = &u->f[fi];
	struct uslot *sl = &f->slot[si];
	ssize_t n;

	sl->seq = ++f->seq;
	if (u->echo)
		udp_make(u, fi, si, sl->seq, u->out);
	else
		memcpy(u->out, b->pool, b->o.line);
	n = send(f->fd, u->out, b->o.line, 0);
	sl->t0 = b->now;
	if (n == (ssize_t)b->o.line) {
		sl->state = U_OUT;
		if (b->measuring)
			u->sent++;
		return;
	}
	/* No room in our own socket buffer: try again at the next scan. */
	sl->state = U_UNSENT;
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
		u->unsent++;
		return;
	}
	if (n < 0 && errno == ECONNREFUSED)
		bench_error(b, "udp: port unreachable (is the server listening on UDP?)");
	else
		bench_error(b, "udp: send: %s", n < 0 ? strerror(errno) : "short datagram");
}

/* A slot's datagram was answered: count it and send the next one. */
static void
udp_answered(struct udp_run *u, int fi, int si)
{
	struct bench *b = u->b;
	struct uslot *sl = &u->f[fi].slot[si];

	if (b->measuring) {
		uint64_t ns = b->now - sl->t0;

		b->ops++;
		hist_add(b, ns);
		if (ns > b->max_ns)
			b->max_ns = ns;
	}
	b->warm++;
	udp_send(u, fi, si);
}

static bool
udp_reply_ok(const struct bench *b, const unsigned char *p, size_t n)
{
	if (b->o.expect != NULL)
		return n == strlen(b->o.expect) && memcmp(p, b->o.expect, n) == 0;
	if (b->o.anyline)
		return line_shape(p, n);
	return daytime_shape(p, n);
}

/* One datagram per readiness event: level-triggered epoll reports the rest. */
static void
udp_read(struct udp_run *u, int fi)
{
	struct bench *b = u->b;
	struct uflow *f = &u->f[fi];
	ssize_t n = recv(f->fd, b->rdbuf, sizeof(b->rdbuf), 0);
	int si, oldest = -1;

	if (n < 0) {
		if (errno == ECONNREFUSED)
			bench_error(b, "udp: port unreachable (is the server listening on UDP?)");
		else if (errno != EAGAIN)
			bench_error(b, "udp: recv: %s", strerror(errno));
		return;
	}
	if (u->echo) {
		uint32_t seq, k;

		if ((size_t)n != b->o.line) {
			bench_error(b, "udp: echo reply of %zd bytes, %zu sent", n, b->o.line);
			return;
		}
		memcpy(&seq, b->rdbuf, 4);
		memcpy(&k, b->rdbuf + 4, 4);
		seq = ntohl(seq);
		si = (int)ntohl(k);
		if (si < 0 || si >= u->k) {
			bench_error(b, "udp: echo reply with a tag never sent");
			return;
		}
		udp_make(u, fi, si, seq, u->want);
		if (memcmp(b->rdbuf, u->want, (size_t)n) != 0) {
			bench_error(b, "udp: echo reply differs from the datagram sent");
			return;
		}
		if (f->slot[si].state == U_OUT && f->slot[si].seq == seq)
			udp_answered(u, fi, si);
		else if (b->measuring)
			u->late++;	/* already counted lost and replaced */
		return;
	}
	if (!udp_reply_ok(b, b->rdbuf, (size_t)n)) {
		bench_error(b, "udp: unexpected reply (%zd bytes): %.*s", n, (int)(n > 80 ? 80 : n),
		    (const char *)b->rdbuf);
		return;
	}
	/* A daytime reply names no request: it answers the oldest one in flight. */
	for (si = 0; si < u->k; si++)
		if (f->slot[si].state == U_OUT &&
		    (oldest < 0 || f->slot[si].t0 < f->slot[oldest].t0))
			oldest = si;
	if (oldest >= 0)
		udp_answered(u, fi, oldest);
	else if (b->measuring)
		u->late++;
}

/* Datagrams unanswered for loss_ns are lost: count them and send others. */
static void
udp_scan(struct udp_run *u)
{
	struct bench *b = u->b;

	for (int fi = 0; fi < u->nf; fi++)
		for (int si = 0; si < u->k; si++) {
			struct uslot *sl = &u->f[fi].slot[si];

			if (sl->state == U_OUT && b->now - sl->t0 >= u->loss_ns) {
				if (b->measuring)
					u->lost++;
				udp_send(u, fi, si);
			} else if (sl->state == U_UNSENT) {
				udp_send(u, fi, si);
			}
		}
}

static void
udp_run_for(struct udp_run *u, double seconds, uint64_t *next_scan)
{
	struct bench *b = u->b;
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	struct epoll_event evs[512];

	while (!interrupted && (b->now = now_ns()) < end) {
		uint64_t until = *next_scan < end ? *next_scan : end;
		int n, ms = until > b->now ? (int)((until - b->now + 999999) / 1000000) : 0;

		n = epoll_wait(b->ep, evs, 512, ms);
		if (n < 0 && errno != EINTR) {
			bench_error(b, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			b->now = now_ns();
			udp_read(u, (int)evs[i].data.u32);
		}
		b->now = now_ns();
		if (b->now >= *next_scan) {
			udp_scan(u);
			*next_scan = b->now + SCAN_NS;
		}
	}
}

static bool
udp_open_flows(struct udp_run *u)
{
	struct bench *b = u->b;

	for (int fi = 0; fi < u->nf; fi++) {
		struct uflow *f = &u->f[fi];
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)fi };

		f->fd = socket(b->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f->fd < 0 || connect(f->fd, (struct sockaddr *)&b->ss, b->sslen) < 0 ||
		    epoll_ctl(b->ep, EPOLL_CTL_ADD, f->fd, &e) < 0) {
			bench_error(b, "udp: flow socket: %s", strerror(errno));
			return false;
		}
		if ((f->slot = calloc((size_t)u->k, sizeof(*f->slot))) == NULL) {
			perror("netlab-bench: calloc");
			exit(2);
		}
	}
	return true;
}

int
run_udp(struct bench *b)
{
	struct udp_run *u;
	uint64_t cpu0 = 0, cpu1 = 0, self0, self1, t0, t1, next_scan;
	long rcv0 = udp_rcvbuf_errors(), rcv1;
	double secs;

	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->f = calloc((size_t)b->o.conns, sizeof(*u->f))) == NULL) {
		perror("netlab-bench: calloc");
		return 2;
	}
	u->b = b;
	u->nf = b->o.conns;
	u->k = b->o.depth;
	u->echo = !b->o.daytime && !b->o.anyline && b->o.expect == NULL;
	u->loss_ns = (uint64_t)(b->o.loss_ms * 1e6);
	if (!udp_open_flows(u)) {
		printf("mode=udp flows=%d ops=0 errors=%" PRIu64 " setup=failed\n", u->nf, b->errors);
		return 1;
	}
	b->now = now_ns();
	for (int fi = 0; fi < u->nf; fi++)
		for (int si = 0; si < u->k; si++)
			udp_send(u, fi, si);
	next_scan = b->now + SCAN_NS;
	udp_run_for(u, b->o.warmup, &next_scan);
	if (b->o.pid > 0)
		cpu0 = server_cpu_ns(b->o.pid);
	self0 = self_cpu_ns();
	t0 = now_ns();
	b->measuring = true;
	udp_run_for(u, b->o.duration, &next_scan);
	b->measuring = false;
	t1 = now_ns();
	self1 = self_cpu_ns();
	if (b->o.pid > 0)
		cpu1 = server_cpu_ns(b->o.pid);
	rcv1 = udp_rcvbuf_errors();
	secs = (double)(t1 - t0) / 1e9;

	printf("mode=udp flows=%d depth=%d duration_s=%.2f ops=%" PRIu64 " ops_s=%.0f sent=%"
	    PRIu64 " lost=%" PRIu64 " late=%" PRIu64 " lost_pct=%.2f p50_us=%.1f p99_us=%.1f"
	    " max_us=%.1f errors=%" PRIu64, u->nf, u->k, secs, b->ops, (double)b->ops / secs,
	    u->sent, u->lost, u->late,
	    b->ops + u->lost > 0 ? 100.0 * (double)u->lost / (double)(b->ops + u->lost) : 0.0,
	    hist_pct(b, 50), hist_pct(b, 99), (double)b->max_ns / 1000.0, b->errors);
	if (u->unsent > 0)
		printf(" unsent=%" PRIu64, u->unsent);
	if (secs > 0.01)
		printf(" client_cpu_util=%.2f", (double)(self1 - self0) / 1e9 / secs);
	if (b->o.pid > 0) {
		double cpu_us = (double)(cpu1 - cpu0) / 1000.0;

		printf(" server_cpu_util=%.2f", cpu_us / 1e6 / secs);
		if (b->ops > 0)
			printf(" server_cpu_us_per_op=%.3f", cpu_us / (double)b->ops);
	}
	if (rcv0 >= 0 && rcv1 >= 0)
		printf(" rcvbuf_errors_before=%ld rcvbuf_errors_after=%ld rcvbuf_errors=%ld",
		    rcv0, rcv1, rcv1 - rcv0);
	printf("\n");
	return b->errors > 0 || b->ops == 0 ? 1 : 0;
}

/* --- flood: many forged-looking sources, as fast as one core sends --- */

/* Source i: 127.X.Y.Z with Z in 1..254, never 127.0.0.x (the probes' own). */
static void
flood_source(int i, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)(1 + i / 65024) << 16 |
	    (uint32_t)((i / 254) % 256) << 8 | (uint32_t)(1 + i % 254));
}

struct flood {
	int		*fd;
	uint32_t	*answers;	/* per source, in the window */
	uint64_t	 sent, answered, full;
};

static void
flood_drain(struct bench *b, struct flood *fl, int ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(b->ep, evs, 512, ms);

	for (int i = 0; i < n; i++) {
		int si = (int)evs[i].data.u32;
		ssize_t r;

		while ((r = recv(fl->fd[si], b->rdbuf, sizeof(b->rdbuf), 0)) >= 0 ||
		    errno == ECONNREFUSED) {
			if (r < 0) {
				bench_error(b, "flood: port unreachable (is the server listening on UDP?)");
				continue;
			}
			if ((size_t)r != b->o.line || memcmp(b->rdbuf, b->pool, (size_t)r) != 0) {
				bench_error(b, "flood: reply differs from the datagram sent");
				continue;
			}
			if (b->measuring) {
				fl->answered++;
				fl->answers[si]++;
			}
		}
	}
}

static void
flood_for(struct bench *b, struct flood *fl, double seconds, struct mmsghdr *msgs, int *next)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	int n = b->o.conns;

	while (!interrupted && (b->now = now_ns()) < end) {
		for (int j = 0; j < 64; j++) {
			int r = sendmmsg(fl->fd[*next], msgs, (unsigned)b->o.batch, 0);

			if (r > 0 && b->measuring)
				fl->sent += (uint64_t)r;
			else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS))
				fl->full++;
			else if (r < 0 && errno == ECONNREFUSED)
				bench_error(b, "flood: port unreachable (is the server listening on UDP?)");
			else if (r < 0)
				bench_error(b, "flood: sendmmsg: %s", strerror(errno));
			*next = (*next + 1) % n;
		}
		flood_drain(b, fl, 0);
		rss_sample(b);
	}
}

int
run_flood(struct bench *b)
{
	struct mmsghdr *msgs;
	struct iovec iov = { .iov_base = b->pool, .iov_len = b->o.line };
	struct flood fl = { 0 };
	uint64_t cpu0 = 0, cpu1 = 0, self0, self1, t0, t1, max = 0;
	long rcv0, rcv1;
	int n = b->o.conns, next = 0;
	double secs;

	if (b->ss.ss_family != AF_INET) {
		fprintf(stderr, "netlab-bench: flood: IPv4 only (its sources are 127.x.y.z)\n");
		return 2;
	}
	if ((fl.fd = calloc((size_t)n, sizeof(*fl.fd))) == NULL ||
	    (fl.answers = calloc((size_t)n, sizeof(*fl.answers))) == NULL ||
	    (msgs = calloc((size_t)b->o.batch, sizeof(*msgs))) == NULL) {
		perror("netlab-bench: calloc");
		return 2;
	}
	for (int j = 0; j < b->o.batch; j++) {
		msgs[j].msg_hdr.msg_iov = &iov;
		msgs[j].msg_hdr.msg_iovlen = 1;
	}
	b->now = now_ns();
	rss_sample(b);
	/* Every 127/8 address is local on Linux: bind each socket to its own. */
	for (int i = 0; i < n; i++) {
		struct sockaddr_in src;
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		flood_source(i, &src);
		fl.fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fl.fd[i] < 0 || bind(fl.fd[i], (struct sockaddr *)&src, sizeof(src)) < 0 ||
		    connect(fl.fd[i], (struct sockaddr *)&b->ss, b->sslen) < 0 ||
		    epoll_ctl(b->ep, EPOLL_CTL_ADD, fl.fd[i], &e) < 0) {
			fprintf(stderr, "netlab-bench: flood: source %d (%s): %s\n", i,
			    inet_ntoa(src.sin_addr), strerror(errno));
			printf("mode=flood sources=%d answered=0 errors=1 setup=failed\n", n);
			return 1;
		}
	}
	rcv0 = udp_rcvbuf_errors();
	flood_for(b, &fl, b->o.warmup, msgs, &next);
	if (b->o.pid > 0)
		cpu0 = server_cpu_ns(b->o.pid);
	self0 = self_cpu_ns();
	t0 = now_ns();
	b->measuring = true;
	flood_for(b, &fl, b->o.duration, msgs, &next);
	/* Replies already on their way still belong to the window. */
	flood_drain(b, &fl, 10);
	b->measuring = false;
	t1 = now_ns();
	self1 = self_cpu_ns();
	if (b->o.pid > 0)
		cpu1 = server_cpu_ns(b->o.pid);
	rcv1 = udp_rcvbuf_errors();
	b->rss_next = 0;
	b->now = t1;
	rss_sample(b);
	secs = (double)(t1 - t0) / 1e9;
	for (int i = 0; i < n; i++)
		if (fl.answers[i] > max)
			max = fl.answers[i];

	printf("mode=flood sources=%d batch=%d len=%zu duration_s=%.2f sent=%" PRIu64
	    " offered_s=%.0f answered=%" PRIu64 " answered_s=%.0f answered_src_max_s=%.1f"
	    " send_full=%" PRIu64 " errors=%" PRIu64, n, b->o.batch, b->o.line, secs, fl.sent,
	    (double)fl.sent / secs, fl.answered, (double)fl.answered / secs, (double)max / secs,
	    fl.full, b->errors);
	if (secs > 0.01)
		printf(" client_cpu_util=%.2f", (double)(self1 - self0) / 1e9 / secs);
	if (b->o.pid > 0)
		printf(" server_cpu_util=%.2f", (double)(cpu1 - cpu0) / 1e9 / secs);
	if (rcv0 >= 0 && rcv1 >= 0)
		printf(" rcvbuf_errors=%ld", rcv1 - rcv0);
	if (b->rss_start >= 0)
		printf(" rss_start_kb=%ld rss_peak_kb=%ld rss_end_kb=%ld", b->rss_start,
		    b->rss_peak, b->rss_end);
	printf("\n");
	return b->errors > 0 || fl.sent == 0 ? 1 : 0;
}
