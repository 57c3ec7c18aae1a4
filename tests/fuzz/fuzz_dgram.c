/*
 * fuzz_dgram.c - libFuzzer target for the UDP datagram path: the
 * reflection guard and access lists (admit_datagram), every protocol's
 * datagram hook, the drop counters and the per-source rate limit
 * (admit_reply), called in the order net/listen_udp.c calls them, on a
 * real service made from a config (conf_load_buf, services_apply) and a
 * real worker.  The flood summary runs at the end of every input.
 *
 * Contracts (SPEC section 9), checked after every datagram; a violation
 * aborts, which libFuzzer reports:
 * - a source port below 1024, or a source in 0/8, 224/4, 240/4 (with
 *   255.255.255.255), ::, ff00::/8, or one of these IPv4-mapped, never
 *   reaches the protocol, and is counted as source-port or source-address;
 *   a denied source is counted as acl; every other one reaches it;
 * - echo returns the same bytes; add returns the 8·k sums of an 8·k-byte
 *   datagram, in order, and PROTO_MALFORMED for any other length; daytime,
 *   hello and time give their fixed shapes; discard PROTO_NO_REPLY; a reply
 *   that does not fit the buffer is PROTO_NO_REPLY (or, for add,
 *   malformed), and nothing is written past it (AddressSanitizer);
 * - a source never gets more replies than an ideal token bucket allows
 *   (burst twice the rate, then rate a second), and while one source is
 *   alone in an input it gets exactly what that bucket allows;
 * - received, bytes and drops by reason count each datagram once.
 *
 * Input: byte 0 picks the service (protocol and variant), bytes 1-4 the
 * clock's start; then records until the input ends: a flags byte, the time
 * that passes (1 or 2 bytes), the source (kept, picked from a table of
 * special addresses, or 2 port bytes and 4 or 16 address bytes), the
 * length (2 bytes), the datagram.
 */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "admit/admit.h"
#include "conf/conf.h"
#include "log.h"
#include "proto/proto.h"
#include "service.h"
#include "stats.h"
#include "wire.h"
#include "worker.h"

#define UDP_MAX		65536		/* net/listen_udp.c's reply buffer */
#define NVARIANTS	6
#define MAX_KEYS	32

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const protos[] = { "daytime", "hello", "echo", "add", "discard", "time" };
#define NPROTOS	(sizeof(protos) / sizeof(protos[0]))

/* Per variant: the rate limit ("" is the default, 20) and the access lists. */
static const struct {
	int		 rate;
	const char	*text;
} variants[NVARIANTS] = {
	{ 0, "rate-limit = 0" },
	{ 20, "" },
	{ 1, "rate-limit = 1" },
	{ 1000000, "rate-limit = 1000000" },
	{ 3, "rate-limit = 3  deny = { \"10.0.0.0/8\", \"2001:db8::/32\" }" },
	{ 0, "rate-limit = 0  allow = { \"192.0.2.0/24\", \"fd00::/8\" }" },
};

#define LONG_FORMAT_X	250		/* x's before "%Y": a 254-character line */

static struct netlab_conf *confs[NPROTOS][NVARIANTS];
static char long_message[WIRE_HELLO_MAX + 1];
static struct worker w;
static unsigned char replybuf[UDP_MAX];

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_dgram: contract violated: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* The protocol's own options of a variant: three shapes each for daytime and hello. */
static void
proto_options(const char *p, int v, char *buf, size_t size)
{
	buf[0] = '\0';
	if (strcmp(p, "daytime") == 0) {
		if (v % 3 == 1)
			snprintf(buf, size, "format = \"%%Y-%%m-%%dT%%H:%%M:%%SZ\"  utc = true");
		else if (v % 3 == 2)
			snprintf(buf, size, "format = \"%.*s%%Y\"", LONG_FORMAT_X,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	} else if (strcmp(p, "hello") == 0) {
		if (v % 3 == 1)
			snprintf(buf, size, "message = \"\"");
		else if (v % 3 == 2)
			snprintf(buf, size, "message = \"%s\"", long_message);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char text[4096];
	char opts[1200];

	(void)argc;
	(void)argv;
	log_init(getenv("FUZZ_VERBOSE") != NULL ? LOG_DEBUG : LOG_CRIT, 0);
	stats_init();
	if (worker_init(&w) < 0)
		fail("worker_init");
	for (size_t i = 0; i < WIRE_HELLO_MAX; i++)
		long_message[i] = (char)('a' + i % 26);
	for (size_t p = 0; p < NPROTOS; p++)
		for (int v = 0; v < NVARIANTS; v++) {
			proto_options(protos[p], v, opts, sizeof(opts));
			snprintf(text, sizeof(text), "service u {\n  protocol = %s\n  transport = udp\n"
			    "  port = 9\n  address = { \"::1\" }\n  %s\n  %s\n}\n", protos[p],
			    variants[v].text, opts);
			confs[p][v] = conf_load_buf("fuzz.conf", text, strlen(text));
			if (confs[p][v] == NULL || confs[p][v]->nsvcs != 1 ||
			    confs[p][v]->svcs[0]->rate_limit != variants[v].rate)
				fail("seed config refused:\n%s", text);
		}
	return 0;
}

/* Sources the guard must know, as a forger would send them. */
static const char *const specials[] = {
	"0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
	"223.255.255.255", "1.0.0.0", "::", "ff02::1", "ff00::", "feff::1", "::ffff:0.0.0.0",
	"::ffff:255.255.255.255", "::ffff:224.0.0.251", "::ffff:10.9.8.7", "::ffff:192.0.2.9",
	"10.1.2.3", "11.0.0.1", "2001:db8::1", "2001:db9::1", "192.0.2.1", "192.0.3.1",
	"fd00::1", "fe00::1", "127.0.0.1", "::1", "::2",
};
#define NSPECIALS	(sizeof(specials) / sizeof(specials[0]))

/* The input, read front to back; past its end everything reads as 0. */
struct input {
	const uint8_t	*p;
	size_t		 left;
};

static unsigned
byte(struct input *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static unsigned
u16(struct input *in)
{
	unsigned hi = byte(in);

	return hi << 8 | byte(in);
}

/* What the guard must say of a source, written from SPEC 9, not from admit.c. */
static int
guard_expect(const struct sockaddr_storage *ss)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;
	int port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		port = ntohs(sin->sin_port);
		a = (const uint8_t *)&sin->sin_addr;
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		port = ntohs(sin6->sin6_port);
		a = sin6->sin6_addr.s6_addr;
		if (memcmp(a, mapped, 12) != 0) {
			static const uint8_t zero[16];

			if (port < 1024)
				return DROP_PORT;
			return memcmp(a, zero, 16) == 0 || a[0] == 0xff ? DROP_ADDR : -1;
		}
		a += 12;
	}
	if (port < 1024)
		return DROP_PORT;
	return a[0] == 0 || a[0] >= 224 ? DROP_ADDR : -1;
}

/* The variants' lists: deny 10/8 and 2001:db8::/32 (4), allow only 192.0.2/24 and fd00::/8 (5). */
static bool
acl_expect_denied(int v, const struct peer *pe)
{
	if (v == 4)
		return pe->family == AF_INET ? pe->addr[0] == 10 :
		    pe->addr[0] == 0x20 && pe->addr[1] == 0x01 && pe->addr[2] == 0x0d &&
		    pe->addr[3] == 0xb8;
	if (v == 5)
		return pe->family == AF_INET ?
		    !(pe->addr[0] == 192 && pe->addr[1] == 0 && pe->addr[2] == 2) :
		    pe->addr[0] != 0xfd;
	return false;
}

static void
check_daytime(int v, const unsigned char *rep, ssize_t r, size_t cap, time_t t0, time_t t1)
{
	size_t want = v % 3 == 0 ? 26 : v % 3 == 1 ? 22 : LONG_FORMAT_X + 4 + 2;

	if (want > cap) {
		if (r != PROTO_NO_REPLY)
			fail("daytime: %zd for a %zu-byte line into %zu bytes", r, want, cap);
		return;
	}
	if (r != (ssize_t)want || rep[r - 2] != '\r' || rep[r - 1] != '\n')
		fail("daytime: %zd bytes, want %zu ending in CRLF", r, want);
	for (ssize_t i = 0; i < r - 2; i++)
		if (rep[i] < 0x20 || rep[i] >= 0x7f)
			fail("daytime: control byte 0x%02x at %zd", rep[i], i);
	if (v % 3 == 0) {
		/* ctime(3)'s layout: "Tue Apr  4 09:21:32 2018". */
		static const char shape[] = "aaa aaa _d dd:dd:dd dddd";

		for (size_t i = 0; i < sizeof(shape) - 1; i++) {
			int c = rep[i];
			bool ok = shape[i] == 'a' ? (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') :
			    shape[i] == 'd' ? c >= '0' && c <= '9' :
			    shape[i] == '_' ? c == ' ' || (c >= '0' && c <= '9') : c == shape[i];

			if (!ok)
				fail("daytime: \"%.24s\" is not ctime's layout at %zu", rep, i);
		}
	} else if (v % 3 == 1) {
		char a[32], b[32];
		struct tm tm;

		strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &tm));
		if (memcmp(rep, a, 20) != 0 && memcmp(rep, b, 20) != 0)
			fail("daytime: \"%.20s\" is not now (%s)", rep, a);
	} else {
		for (int i = 0; i < LONG_FORMAT_X; i++)
			if (rep[i] != 'x')
				fail("daytime: long format's byte %d is 0x%02x", i, rep[i]);
	}
}

static void
check_reply(size_t p, int v, const unsigned char *req, size_t len, const unsigned char *rep,
    ssize_t r, size_t cap, time_t t0, time_t t1)
{
	const char *name = protos[p];

	if (r < 0 && r != PROTO_NO_REPLY && r != PROTO_MALFORMED)
		fail("%s: returned %zd", name, r);
	if (r >= 0 && (size_t)r > cap)
		fail("%s: %zd-byte reply into %zu bytes", name, r, cap);
	if (strcmp(name, "echo") == 0) {
		if (len > cap ? r != PROTO_NO_REPLY : r != (ssize_t)len || memcmp(rep, req, len) != 0)
			fail("echo: %zd for %zu bytes (cap %zu), or not the same bytes", r, len, cap);
	} else if (strcmp(name, "add") == 0) {
		if (len == 0 || len % WIRE_ADD_REQ != 0 || len > cap) {
			if (r != PROTO_MALFORMED && r != PROTO_NO_REPLY)
				fail("add: %zd for a %zu-byte datagram (cap %zu)", r, len, cap);
			if (len <= cap && r != PROTO_MALFORMED)
				fail("add: a %zu-byte datagram is malformed, got %zd", len, r);
			return;
		}
		if (r != (ssize_t)len)
			fail("add: %zd bytes for %zu requests", r, len / WIRE_ADD_REQ);
		for (size_t i = 0; i < len / WIRE_ADD_REQ; i++) {
			uint32_t a, b;
			uint64_t got;

			memcpy(&a, req + 8 * i, 4);
			memcpy(&b, req + 8 * i + 4, 4);
			memcpy(&got, rep + 8 * i, 8);
			if ((int64_t)be64toh(got) != (int64_t)(int32_t)ntohl(a) + (int32_t)ntohl(b))
				fail("add: sum %zu is %lld", i, (long long)(int64_t)be64toh(got));
		}
	} else if (strcmp(name, "daytime") == 0) {
		check_daytime(v, rep, r, cap, t0, t1);
	} else if (strcmp(name, "hello") == 0) {
		size_t mlen = v % 3 == 0 ? 5 : v % 3 == 1 ? 0 : WIRE_HELLO_MAX;
		const char *msg = v % 3 == 0 ? "HELLO" : v % 3 == 1 ? "" : long_message;

		if (mlen + 1 > cap ? r != PROTO_NO_REPLY :
		    r != (ssize_t)mlen + 1 || memcmp(rep, msg, mlen) != 0 || rep[mlen] != '\n')
			fail("hello: %zd bytes, want the %zu-byte message and a newline", r, mlen);
	} else if (strcmp(name, "time") == 0) {
		uint32_t lo = (uint32_t)((uint64_t)t0 + WIRE_TIME_EPOCH);
		uint32_t hi = (uint32_t)((uint64_t)t1 + WIRE_TIME_EPOCH), got;

		if (cap < WIRE_TIME_LEN) {
			if (r != PROTO_NO_REPLY)
				fail("time: %zd into %zu bytes", r, cap);
			return;
		}
		if (r != WIRE_TIME_LEN)
			fail("time: %zd bytes", r);
		got = (uint32_t)rep[0] << 24 | (uint32_t)rep[1] << 16 | (uint32_t)rep[2] << 8 | rep[3];
		if (got - lo > hi - lo)
			fail("time: %u is not between %u and %u", got, lo, hi);
	} else if (strcmp(name, "discard") == 0) {
		if (r != PROTO_NO_REPLY)
			fail("discard: %zd", r);
	}
}

/* One source's replies, and the ideal bucket (in thousandths of a token) that bounds them. */
struct source {
	uint64_t	 key;
	uint64_t	 replies;
	uint64_t	 first;		/* the fuzzer's clock at its first reply */
	uint32_t	 tokens, stamp;
	bool		 used;
};

/* The ideal token bucket: burst 2 x rate, rate a second, on the same millisecond clock. */
static bool
bucket_take(struct source *src, int rate, uint32_t now)
{
	uint32_t burst = (uint32_t)rate * 2 * 1000;
	uint64_t t;

	if (now == 0)
		now = 1;	/* as ratelimit.c: its 0 means a bucket never used */
	if (!src->used) {
		src->used = true;
		src->tokens = burst;
		src->stamp = now;
	}
	t = src->tokens + (uint64_t)(uint32_t)(now - src->stamp) * (uint64_t)rate;
	src->tokens = t > burst ? burst : (uint32_t)t;
	src->stamp = now;
	if (src->tokens < 1000)
		return false;
	src->tokens -= 1000;
	return true;
}

/* Make the peer of one record: kept, special, or from the input's bytes. */
static void
record_source(struct input *in, unsigned flags, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	int kind = flags & 3;

	if ((flags & 0x04) && ss->ss_family != 0)
		return;			/* the previous datagram's source again */
	memset(ss, 0, sizeof(*ss));
	if (kind == 3) {
		const char *a = specials[byte(in) % NSPECIALS];
		unsigned port = flags & 0x08 ? u16(in) : 40000;

		if (inet_pton(AF_INET, a, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
		} else {
			inet_pton(AF_INET6, a, &sin6->sin6_addr);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
		}
		return;
	}
	if (kind == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)u16(in));
		for (int i = 0; i < 4; i++)
			((uint8_t *)&sin->sin_addr)[i] = (uint8_t)byte(in);
		return;
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)u16(in));
	if (kind == 2) {
		sin6->sin6_addr.s6_addr[10] = 0xff;
		sin6->sin6_addr.s6_addr[11] = 0xff;
		for (int i = 12; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] = (uint8_t)byte(in);
	} else {
		for (int i = 0; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] = (uint8_t)byte(in);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct services ss;
	struct service *s;
	const struct svc_conf *cf;
	struct sockaddr_storage from;
	struct source srcs[MAX_KEYS];
	uint64_t dropped[STATS_NDROPS] = { 0 }, received = 0, bytes = 0, clock;
	size_t p, nsrcs = 0;
	int v, rate;
	bool alone = true;

	if (size < 5)
		return 0;
	p = byte(&in) % (NPROTOS * NVARIANTS);
	v = (int)(p % NVARIANTS);
	p /= NVARIANTS;
	clock = (uint64_t)byte(&in) << 24;
	clock |= (uint64_t)byte(&in) << 16;
	clock |= (uint64_t)byte(&in) << 8;
	clock |= byte(&in);
	services_init(&ss);
	if (services_apply(&ss, confs[p][v], true) < 0 || (s = TAILQ_FIRST(&ss.live)) == NULL)
		fail("services_apply");
	cf = s->run->cf;
	rate = cf->rate_limit;
	memset(&from, 0, sizeof(from));
	memset(srcs, 0, sizeof(srcs));

	while (in.left > 0) {
		unsigned flags = byte(&in);
		size_t len, cap;
		const unsigned char *req;
		unsigned char *rep;
		struct peer peer;
		struct source *src = NULL;
		time_t t0, t1;
		ssize_t r;
		int expect;
		bool passed, replied;

		clock += flags & 0x10 ? u16(&in) : byte(&in);
		record_source(&in, flags, &from);
		len = u16(&in);
		if (len > in.left)
			len = in.left;
		req = in.p;
		in.p += len;
		in.left -= len;
		/* A reply buffer of the fuzzer's size now and then, to find writes past it. */
		cap = flags & 0x20 ? byte(&in) * 8 + (flags >> 6) : UDP_MAX;

		/* As udp_readable: counted, the guard and the lists, the protocol, a token. */
		s->stats.dgrams_in++;
		s->stats.bytes_in += len;
		received++;
		bytes += len;
		if (peer_from_sockaddr(&peer, (struct sockaddr *)&from) < 0)
			fail("peer_from_sockaddr");
		expect = guard_expect(&from);
		if (expect < 0 && acl_expect_denied(v, &peer))
			expect = DROP_ACL;
		passed = admit_datagram(&w, s, cf, &peer);
		if (passed != (expect < 0))
			fail("admit_datagram said %d for a source that %s", passed,
			    expect < 0 ? "may be answered" : stats_drop_label((enum stats_drop)expect));
		if (!passed) {
			dropped[expect]++;
			goto counted;
		}
		rep = cap == UDP_MAX ? replybuf : malloc(cap);
		if (rep == NULL)
			fail("malloc");
		t0 = time(NULL);
		r = cf->proto->datagram(cf->proto_conf, s->run->proto_svc, req, len, rep, cap);
		t1 = time(NULL);
		check_reply(p, v, req, len, rep, r, cap, t0, t1);
		if (rep != replybuf)
			free(rep);
		if (r == PROTO_MALFORMED) {
			admit_drop(&w, s, &peer, DROP_MALFORMED);
			dropped[DROP_MALFORMED]++;
			goto counted;
		}
		if (r < 0)
			goto counted;
		for (size_t i = 0; i < nsrcs; i++)
			if (srcs[i].key == peer_source_key(&peer))
				src = &srcs[i];
		if (src == NULL && nsrcs < MAX_KEYS) {
			src = &srcs[nsrcs++];
			src->key = peer_source_key(&peer);
			src->first = clock;
		}
		if (nsrcs > 1)
			alone = false;
		replied = admit_reply(&w, s, cf, &peer, (uint32_t)clock);
		if (!replied)
			dropped[DROP_RATE]++;
		if (rate == 0) {
			if (!replied)
				fail("rate-limit = 0 dropped a reply");
		} else if (src != NULL) {
			bool ideal = bucket_take(src, rate, (uint32_t)clock);

			if (replied)
				src->replies++;
			if (src->replies > 2 * (uint64_t)rate + (clock - src->first) * rate / 1000)
				fail("%llu replies to one source in %llu ms at rate %d",
				    (unsigned long long)src->replies,
				    (unsigned long long)(clock - src->first), rate);
			if (alone && replied != ideal)
				fail("a lone source %s at %llu ms; its bucket says %s",
				    replied ? "answered" : "dropped",
				    (unsigned long long)(clock - src->first), ideal ? "yes" : "no");
		}
counted:
		if (s->stats.dgrams_in != received || s->stats.bytes_in != bytes)
			fail("received %llu, %llu bytes",
			    (unsigned long long)s->stats.dgrams_in, (unsigned long long)s->stats.bytes_in);
		for (int i = 0; i < STATS_NDROPS; i++)
			if (s->stats.dropped[i] != dropped[i])
				fail("%llu drops for %s, want %llu",
				    (unsigned long long)s->stats.dropped[i],
				    stats_drop_label((enum stats_drop)i), (unsigned long long)dropped[i]);
	}

	/* The summary line the flood timer would write, then nothing is due. */
	if (w.flood_timer != NULL && s->flood.on != NULL) {
		event_active(w.flood_timer, EV_TIMEOUT, 1);
		event_base_loop(w.base, EVLOOP_NONBLOCK);
		if (s->flood.on != NULL || s->flood.total != 0)
			fail("the summary left %llu drops due", (unsigned long long)s->flood.total);
	}
	services_free(&ss);
	return 0;
}
