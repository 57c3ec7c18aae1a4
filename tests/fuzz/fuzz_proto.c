/*
 * fuzz_proto.c - libFuzzer target for one protocol, named at run time by
 * NETLAB_FUZZ_PROTO (add, echo, daytime, hello, ...; tests/fuzz/run.sh sets
 * it per run).
 *
 * The protocol runs through session/drive.c, the rule the daemon uses: the
 * client's bytes arrive in fuzzer-chosen chunks, the "socket" takes the
 * output in fuzzer-chosen amounts (so connections pause at the high-water
 * mark and resume at the low one), the client half-closes at the end.
 * After every call the protocol's contract (SPEC section 5) is checked; a
 * violation aborts, which libFuzzer reports.
 *
 * Input layout: byte 0 selects the service config (protocol-specific),
 * byte 1 the chunking, byte 2 the socket's appetite, the rest is what the
 * client sends (for daytime and hello, a prefix of it is first taken as the
 * format or message option).  For metrics, two services of made-up
 * counters are registered, one with quotes, a backslash and a newline in
 * its name, so that every family and the label escaping are rendered.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "conf/conf.h"
#include "log.h"
#include "proto/http_head.h"
#include "proto/proto.h"
#include "service.h"
#include "session/drive.h"
#include "stats.h"
#include "wire.h"

#define ADD_REQ		WIRE_ADD_REQ
#define DAYTIME_MAX	1026		/* daytime.c's longest reply: 1024 bytes and CRLF */
#define HELLO_MAX	WIRE_HELLO_MAX

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One connection, driven the way session/conn.c drives it. */
struct run {
	const struct proto	*p;
	struct svc_run		*svc;
	struct proto_io		 io;
	size_t			 pending;	/* bytes written by the protocol the socket has not taken */
	uint32_t		 sock;		/* the socket's appetite: a generator of amounts */
	enum conn_state		 st;
	const uint8_t		*data;		/* what the client sends */
	size_t			 size;
	size_t			 fed;		/* bytes of data put into io.in so far */
	uint8_t			*out;		/* everything the socket took, in order */
	size_t			 outlen, outcap;
	size_t			 seen;		/* bytes of out already checked */
	size_t			 produced;	/* bytes the protocol wrote in all */
	int			 closing;	/* st reached CONN_CLOSING */
	int			 eof;		/* the client half-closed */
	size_t			 max_line;	/* echo only */
	size_t			 base;		/* chargen: bytes checked and forgotten before out */
	size_t			 req;		/* metrics: where the next unanswered request starts in data */
	int			 said_close;	/* metrics: a response closed the connection */
};

static const struct proto *proto;
static const char *proto_name;
static const size_t echo_lines[] = { 1, 2, 3, 7, 8, 64, 100, 8192 };
static struct netlab_conf *echo_confs[sizeof(echo_lines) / sizeof(echo_lines[0])];
static struct netlab_conf *plain_conf;

/* Report a broken contract on one line (control bytes escaped) and abort. */
static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: contract violated: ", proto_name);
	for (const char *c = msg; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned char)*c);
		else
			fputc(*c, stderr);
	}
	fputc('\n', stderr);
	abort();
}

static struct netlab_conf *
load(const char *text)
{
	return conf_load_buf("fuzz.conf", text, strlen(text));
}

static struct netlab_conf *
load_or_die(const char *text)
{
	struct netlab_conf *nc = load(text);

	if (nc == NULL || nc->nsvcs != 1 || nc->svcs[0]->proto != proto)
		fail("seed config refused:\n%s", text);
	return nc;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char text[256];

	(void)argc;
	(void)argv;
	/* Config errors are expected (daytime formats, hello messages): keep them quiet. */
	log_init(getenv("FUZZ_VERBOSE") != NULL ? LOG_DEBUG : LOG_CRIT, 0);
	if ((proto_name = getenv("NETLAB_FUZZ_PROTO")) == NULL ||
	    (proto = proto_find(proto_name)) == NULL) {
		fprintf(stderr, "fuzz_proto: set NETLAB_FUZZ_PROTO to a protocol of the table\n");
		exit(2);
	}
	if (strcmp(proto_name, "echo") == 0) {
		for (size_t i = 0; i < sizeof(echo_lines) / sizeof(echo_lines[0]); i++) {
			snprintf(text, sizeof(text), "service echo {\n  port = 7\n"
			    "  address = { \"127.0.0.1\" }\n  max-line = %zu\n}\n", echo_lines[i]);
			echo_confs[i] = load_or_die(text);
		}
	} else {
		snprintf(text, sizeof(text), "service %s {\n  port = 9\n  address = { \"::1\" }\n}\n",
		    proto_name);
		plain_conf = load_or_die(text);
	}
	if (strcmp(proto_name, "metrics") == 0) {
		static struct stats_svc tcp, udp;

		stats_init();
		stats_register(&tcp, "we\"ird\\name\nhere", "echo", "tcp");
		stats_register(&udp, "eu", "echo", "udp");
		tcp.accepted = UINT64_MAX;
		tcp.active = -1;
		tcp.refused[REFUSE_ACL] = 3;
		udp.dropped[DROP_PORT] = 7;
		udp.dgrams_in = 9;
	}
	return 0;
}

enum { CALL_START, CALL_INPUT, CALL_DRAINED, CALL_EOF };

static uint32_t rnd(uint32_t *);

/* The socket takes some of what is pending: all of it, or a fuzzer-steered part. */
static void
take(struct run *r)
{
	size_t n = r->sock & 0x80000000u ? r->pending : (rnd(&r->sock) % (2 * DRIVE_HIGH_WATER));

	r->pending -= n < r->pending ? n : r->pending;
}

/* One drive() call, as conn_run makes it: the output goes behind what is pending. */
static void
call(struct run *r, enum drive_event ev, void (*check)(struct run *, int), int what)
{
	enum conn_state st;
	size_t n;

	r->io.error[0] = '\0';
	st = drive(r->st, ev, r->p, &r->io);
	if (st != CONN_OPEN && st != CONN_CLOSING && st != r->st)
		fail("drive went from state %d to %d", (int)r->st, (int)st);
	if (memchr(r->io.error, '\0', sizeof(r->io.error)) == NULL)
		fail("error message not NUL-terminated");
	n = evbuffer_get_length(r->io.out);
	if (n > r->outcap - r->outlen)
		fail("%zu bytes of output exceed the %zu possible", r->outlen + n, r->outcap);
	evbuffer_remove(r->io.out, r->out + r->outlen, n);
	r->outlen += n;
	r->pending += n;
	take(r);
	r->st = drive_flow(st, r->pending);
	if (r->st == CONN_CLOSING)
		r->closing = 1;
	check(r, what);
	r->seen = r->outlen;
}

/* xorshift32: sizes that the fuzzer steers through one byte. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
free_chunk(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

/*
 * Feed r->data in chunks.  Bits 0-3 of ctl bound the chunk size (1 to 2^15),
 * bits 4-5 seed the sizes; bit 6 appends up to 32 chunks before each input
 * call (reads that pile up), bit 7 makes each chunk an evbuffer chain of its
 * own (evbuffer_add_reference), so the buffer can be long and fragmented.
 * The checks see output as the protocol makes it; the pause and resume of
 * drive_flow follow from the socket's appetite in byte 2.
 */
static void
run_drive(struct run *r, uint8_t ctl, uint8_t appetite, void (*check)(struct run *, int))
{
	size_t limit = (size_t)1 << (ctl & 0x0f);
	uint32_t seed = 0x9e3779b9u ^ ((uint32_t)((ctl >> 4) & 3) * 0x01000193u);
	int rounds = 0;

	r->sock = 0x2545f491u ^ (uint32_t)appetite * 0x01000193u;
	if (appetite & 1)
		r->sock |= 0x80000000u;		/* a socket that takes everything at once */
	else
		r->sock &= 0x7fffffffu;
	call(r, DRIVE_START, check, CALL_START);
	while (!r->closing && (r->fed < r->size || (r->p->drained != NULL && rounds < 6))) {
		size_t batch = ctl & 0x40 ? 1 + rnd(&seed) % 32 : 1;

		rounds++;
		if (r->st == CONN_PAUSED) {
			/* Not reading: the socket drains, and at the low mark reading resumes. */
			take(r);
			if (r->pending <= DRIVE_LOW_WATER) {
				call(r, DRIVE_DRAINED, check, CALL_DRAINED);
				if (r->st == CONN_OPEN && evbuffer_get_length(r->io.in) > 0)
					call(r, DRIVE_INPUT, check, CALL_INPUT);
			}
			continue;
		}
		if (r->p->drained != NULL && r->pending <= DRIVE_LOW_WATER && (rnd(&seed) & 1)) {
			call(r, DRIVE_DRAINED, check, CALL_DRAINED);
			continue;
		}
		if (r->fed >= r->size)
			continue;
		for (; batch > 0 && r->fed < r->size; batch--) {
			size_t n = 1 + rnd(&seed) % limit;

			if (n > r->size - r->fed)
				n = r->size - r->fed;
			if (ctl & 0x80) {
				void *copy = malloc(n);

				if (copy == NULL)
					return;
				memcpy(copy, r->data + r->fed, n);
				evbuffer_add_reference(r->io.in, copy, n, free_chunk, NULL);
			} else {
				evbuffer_add(r->io.in, r->data + r->fed, n);
			}
			r->fed += n;
		}
		call(r, DRIVE_INPUT, check, CALL_INPUT);
	}
	/* A paused client is not read, so its half-close is seen once it drained. */
	while (!r->closing && r->st == CONN_PAUSED) {
		r->sock |= 0x80000000u;
		take(r);
		call(r, DRIVE_DRAINED, check, CALL_DRAINED);
		if (r->st == CONN_OPEN && evbuffer_get_length(r->io.in) > 0)
			call(r, DRIVE_INPUT, check, CALL_INPUT);
	}
	if (!r->closing) {
		r->eof = 1;
		call(r, DRIVE_EOF, check, CALL_EOF);
	}
	if (!r->closing)
		fail("still open after eof");
}

static int
run_init(struct run *r, struct svc_conf *sc, const uint8_t *data, size_t size, size_t outcap)
{
	memset(r, 0, sizeof(*r));
	r->p = proto;
	r->data = data;
	r->size = size;
	r->outcap = outcap;
	r->st = CONN_OPEN;
	r->svc = svc_run_new(sc);
	r->io.conf = sc->proto_conf;
	r->io.svc = r->svc != NULL ? r->svc->proto_svc : NULL;
	r->io.in = evbuffer_new();
	r->io.out = evbuffer_new();
	r->io.state = calloc(1, proto->state_size ? proto->state_size : 1);
	r->out = malloc(outcap ? outcap : 1);
	return r->svc != NULL && r->io.in != NULL && r->io.out != NULL &&
	    r->io.state != NULL && r->out != NULL ? 0 : -1;
}

static void
run_free(struct run *r)
{
	if (r->io.in != NULL)
		evbuffer_free(r->io.in);
	if (r->io.out != NULL)
		evbuffer_free(r->io.out);
	svc_run_unref(r->svc);
	free(r->io.state);
	free(r->out);
}

/*
 * add: every complete 8-byte request gets one 8-byte reply, the exact 64-bit
 * sum of its two big-endian int32, in order; a partial request is kept for
 * later, and reported as truncated at eof.
 */
static int64_t
be32s(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static void
check_add(struct run *r, int what)
{
	size_t left = evbuffer_get_length(r->io.in);
	size_t done = r->fed - left;

	if (left > r->fed)
		fail("more input buffered than sent");
	if (what == CALL_EOF) {
		/* The driver drops what is left after eof: a partial request is reported. */
		left = r->fed % ADD_REQ;
		done = r->fed - left;
	}
	if (what == CALL_INPUT && r->st == CONN_OPEN && left >= ADD_REQ)
		fail("%zu bytes left unanswered after input", left);
	if (done % ADD_REQ != 0 || r->outlen != done)
		fail("%zu bytes consumed, %zu bytes of replies", done, r->outlen);
	for (size_t i = r->seen; i < r->outlen; i += ADD_REQ) {
		const uint8_t *q = r->data + i, *a = r->out + i;
		int64_t want = be32s(q) + be32s(q + 4);
		uint64_t got = 0;

		for (int k = 0; k < 8; k++)
			got = got << 8 | a[k];
		if ((int64_t)got != want)
			fail("request %zu: %lld + %lld answered %lld", i / ADD_REQ,
			    (long long)be32s(q), (long long)be32s(q + 4), (long long)(int64_t)got);
	}
	if (what == CALL_INPUT && r->closing)
		fail("closed after a request");
	if (what == CALL_INPUT && r->st == CONN_OPEN && left >= ADD_REQ)
		fail("a whole request left while open");
	if (what == CALL_EOF) {
		if (!r->closing)
			fail("open after eof");
		if ((left != 0) != (r->io.error[0] != '\0'))
			fail("%zu bytes of a truncated request, error \"%s\"", left, r->io.error);
	}
}

/*
 * echo: the output is always a prefix of the input, in order; after input
 * no complete line is held back and no more than max-line bytes are held;
 * after eof the output is the input, byte for byte.
 */
static void
check_echo(struct run *r, int what)
{
	size_t left = evbuffer_get_length(r->io.in);

	if (r->outlen + left != r->fed)
		fail("%zu bytes sent, %zu echoed + %zu held", r->fed, r->outlen, left);
	if (memcmp(r->out + r->seen, r->data + r->seen, r->outlen - r->seen) != 0)
		fail("echoed bytes differ from the input");
	if (what == CALL_INPUT && r->st == CONN_OPEN) {
		if (left > r->max_line)
			fail("%zu bytes held with max-line %zu", left, r->max_line);
		if (memchr(r->data + r->outlen, '\n', left) != NULL)
			fail("a complete line was held back");
		if (r->closing)
			fail("closed while the client was sending");
	}
	if (what == CALL_EOF && (left != 0 || !r->closing))
		fail("after eof: %zu bytes held back, closing=%d", left, r->closing);
}

/* daytime and hello: one line, then close, whatever the client sends. */
static void
check_line(struct run *r, const char *eol, size_t min)
{
	size_t el = strlen(eol);

	if (!r->closing)
		fail("did not close after its line");
	if (r->outlen < el + min || memcmp(r->out + r->outlen - el, eol, el) != 0)
		fail("output is not a line of at least %zu bytes ending in %s: \"%.*s\"",
		    min, el == 2 ? "CRLF" : "LF", (int)r->outlen, r->out);
	for (size_t i = 0; i < r->outlen - el; i++)
		if (r->out[i] == '\r' || r->out[i] == '\n')
			fail("more than one line: \"%.*s\"", (int)r->outlen, r->out);
}

static void
check_daytime(struct run *r, int what)
{
	if (what == CALL_START || r->outlen > 0)
		check_line(r, "\r\n", 1);	/* the time is never empty */
}

static void
check_hello(struct run *r, int what)
{
	if (what == CALL_START || r->outlen > 0)
		check_line(r, "\n", 0);	/* message may be "" */
}

/* time: four bytes, the seconds since 1900 within a few seconds of ours, then close. */
static void
check_time(struct run *r, int what)
{
	if (what == CALL_START) {
		uint32_t got, want = (uint32_t)((uint64_t)time(NULL) + WIRE_TIME_EPOCH);

		if (r->outlen != WIRE_TIME_LEN || !r->closing)
			fail("time wrote %zu bytes, closing=%d", r->outlen, r->closing);
		got = (uint32_t)r->out[0] << 24 | (uint32_t)r->out[1] << 16 |
		    (uint32_t)r->out[2] << 8 | r->out[3];
		if (got - want + 5 > 10)
			fail("time says %u, the clock %u", got, want);
	} else if (r->outlen != WIRE_TIME_LEN) {
		fail("time wrote more after its four bytes");
	}
}

/* discard: never a byte back; it closes only when the client does. */
static void
check_discard(struct run *r, int what)
{
	if (r->outlen != 0)
		fail("discard wrote %zu bytes", r->outlen);
	if (evbuffer_get_length(r->io.in) != 0)
		fail("discard kept %zu bytes", evbuffer_get_length(r->io.in));
	if (r->closing != (what == CALL_EOF))
		fail("discard closing=%d after call %d", r->closing, what);
}

/* chargen: the RFC 864 ring without a break, whatever the client sends; closes only at eof. */
#define CHARGEN_LINE	(WIRE_CHARGEN_LINE + 2)
#define CHARGEN_CYCLE	(95 * CHARGEN_LINE)

static void
check_chargen(struct run *r, int what)
{
	static char ring[2 * CHARGEN_CYCLE];

	if (ring[0] == 0)
		for (size_t i = 0; i < sizeof(ring); i++) {
			size_t line = i / CHARGEN_LINE, col = i % CHARGEN_LINE;

			ring[i] = col == WIRE_CHARGEN_LINE ? '\r' : col == WIRE_CHARGEN_LINE + 1 ?
			    '\n' : (char)(' ' + (1 + line + col) % 95);
		}
	for (size_t i = r->seen; i < r->outlen;) {
		size_t at = (r->base + i) % CHARGEN_CYCLE, n = r->outlen - i;

		if (n > CHARGEN_CYCLE)
			n = CHARGEN_CYCLE;
		if (memcmp(r->out + i, ring + at, n) != 0)
			fail("the pattern breaks within bytes %zu..%zu", r->base + i, r->base + i + n);
		i += n;
	}
	if (what == CALL_START && r->outlen == 0)
		fail("chargen said nothing at start");
	if (r->closing != (what == CALL_EOF))
		fail("chargen closing=%d after call %d", r->closing, what);
	if (what == CALL_INPUT && evbuffer_get_length(r->io.in) != 0)
		fail("chargen kept input");
	/* Checked: forget it, the stream is endless. */
	r->base += r->outlen;
	r->outlen = r->seen = 0;
}

/*
 * metrics: whole HTTP/1.1 responses, one per request the client sent and
 * in its order, each matched against http_parse_head's reading of the same
 * bytes: 200 with the exposition text for GET /metrics, 404 for another
 * path, 405 with Allow for another method, 400 for a bad head; HEAD gets
 * the head alone.  400 and 405 close, as does every response that says
 * "Connection: close", and a keep-alive request is closed only so (or at
 * the pipelining cap); nothing follows a close.  Open after input, no
 * complete request waits unanswered.  Responses come only from input.
 */
#define METRICS_PIPELINE	64	/* metrics.c's: the requests answered per read */
#define METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

/* One exposition line: # HELP/# TYPE, or name{label="value",...} number. */
static void
check_exposition_line(const uint8_t *l, size_t n)
{
	size_t i = 0;

	if (n >= 7 && (memcmp(l, "# HELP ", 7) == 0 || memcmp(l, "# TYPE ", 7) == 0))
		return;
	while (i < n && (l[i] == '_' || l[i] == ':' || (l[i] >= 'a' && l[i] <= 'z') ||
	    (l[i] >= 'A' && l[i] <= 'Z') || (i > 0 && l[i] >= '0' && l[i] <= '9')))
		i++;
	if (i == 0)
		fail("exposition line without a metric name: \"%.*s\"", (int)n, l);
	if (i < n && l[i] == '{') {
		for (i++; i < n && l[i] != '}';) {
			size_t start = i;

			while (i < n && (l[i] == '_' || (l[i] >= 'a' && l[i] <= 'z') ||
			    (l[i] >= 'A' && l[i] <= 'Z') || (i > start && l[i] >= '0' && l[i] <= '9')))
				i++;
			if (i == start || i + 1 >= n || l[i] != '=' || l[i + 1] != '"')
				fail("bad label in \"%.*s\"", (int)n, l);
			for (i += 2; i < n && l[i] != '"'; i++)
				if (l[i] == '\\' && (i + 1 >= n || strchr("\\\"n", l[++i]) == NULL))
					fail("bad escape in \"%.*s\"", (int)n, l);
			if (i >= n)
				fail("unterminated label value in \"%.*s\"", (int)n, l);
			i++;
			if (i < n && l[i] == ',')
				i++;
		}
		if (i >= n)
			fail("unterminated labels in \"%.*s\"", (int)n, l);
		i++;
	}
	if (i >= n || l[i] != ' ' || i + 1 >= n)
		fail("no value in \"%.*s\"", (int)n, l);
	for (i++; i < n; i++)
		if (strchr("0123456789.-+e", l[i]) == NULL)
			fail("bad value in \"%.*s\"", (int)n, l);
}

static void
check_exposition(const uint8_t *b, size_t n)
{
	if (n == 0 || b[n - 1] != '\n')
		fail("exposition text does not end in a newline");
	for (size_t i = 0; i < n;) {
		const uint8_t *nl = memchr(b + i, '\n', n - i);

		check_exposition_line(b + i, (size_t)(nl - (b + i)));
		i = (size_t)(nl - b) + 1;
	}
	if (n < 7 || memcmp(b, "# HELP ", 7) != 0)
		fail("exposition text does not start with # HELP");
}

/* The value of header name (lower case) in head [h, h + n), or NULL; *len its length. */
static const uint8_t *
header(const uint8_t *h, size_t n, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const uint8_t *l = h, *e; l < h + n; l = e + 2) {
		e = memmem(l, (size_t)(h + n - l), "\r\n", 2);
		if (e == NULL)
			break;
		if ((size_t)(e - l) > nl + 1 && strncasecmp((const char *)l, name, nl) == 0 &&
		    l[nl] == ':') {
			const uint8_t *v = l + nl + 1;

			while (v < e && *v == ' ')
				v++;
			*len = (size_t)(e - v);
			return v;
		}
	}
	return NULL;
}

/* The response at out + at, matched with the request at data + req; returns its end. */
static size_t
check_response(struct run *r, size_t at, int nth)
{
	const uint8_t *o = r->out + at, *end, *v;
	size_t left = r->outlen - at, hlen, vlen, clen = 0, n = r->fed - r->req, blen;
	const char *why = NULL;
	struct http_req q;
	enum http_result res;
	int code, want, closes;

	if (r->said_close)
		fail("a response after the one that closed");
	if ((end = memmem(o, left, "\r\n\r\n", 4)) == NULL)
		fail("incomplete response head: \"%.*s\"", (int)(left < 200 ? left : 200), o);
	hlen = (size_t)(end - o) + 4;
	if (hlen < 15 || memcmp(o, "HTTP/1.1 ", 9) != 0 || o[12] != ' ' ||
	    o[9] < '1' || o[9] > '5' || o[10] < '0' || o[10] > '9' || o[11] < '0' || o[11] > '9')
		fail("bad status line: \"%.*s\"", (int)hlen, o);
	code = (o[9] - '0') * 100 + (o[10] - '0') * 10 + (o[11] - '0');
	if ((v = header(o, hlen, "content-length", &vlen)) == NULL)
		fail("no Content-Length in \"%.*s\"", (int)hlen, o);
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			fail("bad Content-Length in \"%.*s\"", (int)hlen, o);
		clen = clen * 10 + (size_t)(v[i] - '0');
	}
	if (header(o, hlen, "content-type", &vlen) == NULL)
		fail("no Content-Type in \"%.*s\"", (int)hlen, o);

	/* Which request this answers, as the parser reads the client's bytes. */
	if (n > HTTP_HEAD_MAX)
		n = HTTP_HEAD_MAX;
	res = http_parse_head((const char *)r->data + r->req, n, &q, &why);
	if (res == HTTP_MORE)
		fail("a %d response to no request", code);
	if (res == HTTP_BAD)
		want = 400;
	else if (q.method == HTTP_OTHER)
		want = 405;
	else if (q.pathlen == 8 && memcmp(q.path, "/metrics", 8) == 0)
		want = 200;
	else
		want = 404;
	if (code != want)
		fail("answered %d, want %d, to \"%.*s\"", code, want, (int)n, r->data + r->req);
	blen = res == HTTP_DONE && q.method == HTTP_HEAD ? 0 : clen;
	if (left - hlen < blen)
		fail("%zu body bytes after the head, Content-Length %zu", left - hlen, clen);
	if (code == 200 && (v = header(o, hlen, "content-type", &vlen)) != NULL &&
	    (vlen != strlen(METRICS_TYPE) || memcmp(v, METRICS_TYPE, vlen) != 0))
		fail("200 with Content-Type \"%.*s\"", (int)vlen, v);
	if (code == 200 && blen > 0)
		check_exposition(o + hlen, blen);
	if (code == 405 && ((v = header(o, hlen, "allow", &vlen)) == NULL || vlen != 9 ||
	    memcmp(v, "GET, HEAD", 9) != 0))
		fail("405 without Allow: GET, HEAD");
	v = header(o, hlen, "connection", &vlen);
	closes = v != NULL && vlen == 5 && memcmp(v, "close", 5) == 0;
	if ((code == 400 || code == 405) && !closes)
		fail("%d without Connection: close", code);
	if (res == HTTP_DONE && (!q.keep_alive || q.has_body) && !closes)
		fail("kept open after a request that %s", q.has_body ? "has a body" : "closes");
	if (res == HTTP_DONE && q.keep_alive && !q.has_body && closes && code != 405 &&
	    nth != METRICS_PIPELINE)
		fail("closed after keep-alive request %d of this read", nth);
	if (closes) {
		if (at + hlen + blen != r->outlen)
			fail("bytes after the response that closed");
		if (!r->closing)
			fail("said Connection: close but stays open");
		r->said_close = 1;
	}
	r->req += res == HTTP_DONE ? q.len : n;
	return at + hlen + blen;
}

static void
check_metrics(struct run *r, int what)
{
	int nth = 0;

	if (what != CALL_INPUT && r->outlen != r->seen)
		fail("a response without a request (call %d)", what);
	for (size_t at = r->seen; at < r->outlen;)
		at = check_response(r, at, ++nth);
	if (r->closing && what == CALL_INPUT && !r->said_close)
		fail("closed without saying so");
	if (what == CALL_INPUT && r->st == CONN_OPEN) {
		size_t n = r->fed - r->req;
		struct http_req q;

		if (n > HTTP_HEAD_MAX)
			n = HTTP_HEAD_MAX;
		if (n > 0 && http_parse_head((const char *)r->data + r->req, n, &q, NULL) != HTTP_MORE)
			fail("a complete request left unanswered while open");
		if (evbuffer_get_length(r->io.in) != r->fed - r->req)
			fail("%zu bytes held, %zu not answered", evbuffer_get_length(r->io.in),
			    r->fed - r->req);
	}
	if (what == CALL_EOF && !r->said_close) {
		int partial = 0;

		for (size_t i = r->req; i < r->fed; i++)
			partial |= r->data[i] != '\r' && r->data[i] != '\n';
		if (partial != (r->io.error[0] != '\0'))
			fail("eof after a partial head %d, error \"%s\"", partial, r->io.error);
	}
	/* Checked: forget it, so that the output buffer holds one call's responses only. */
	r->outlen = r->seen = 0;
}

/*
 * A config with one service whose string option opt is set to the first
 * len bytes of s (up to a NUL), quoted for libconfuse.  *plain tells whether
 * the value holds only characters that libconfuse keeps as they are.
 */
static char *
conf_with_string(const char *svc, const char *extra, const char *opt, const uint8_t *s,
    size_t len, int *plain)
{
	size_t cap = 2 * len + 256, n;
	char *text = malloc(cap);

	if (text == NULL)
		return NULL;
	n = (size_t)snprintf(text, cap, "service %s {\n  port = 13\n  address = { \"127.0.0.1\" }\n"
	    "  %s\n  %s = \"", svc, extra, opt);
	*plain = 1;
	for (size_t i = 0; i < len && s[i] != '\0'; i++) {
		if (s[i] == '"' || s[i] == '\\')
			text[n++] = '\\';
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\' || s[i] == '$')
			*plain = 0;
		text[n++] = (char)s[i];
	}
	snprintf(text + n, cap - n, "\"\n}\n");
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_conf *sc;
	struct netlab_conf *nc = NULL;
	void (*check)(struct run *, int);
	struct run r;
	size_t outcap = 0, skip = 0;
	uint8_t sel, ctl, appetite;
	int plain = 0;
	char *text = NULL;

	if (size < 3)
		return 0;
	sel = data[0];
	ctl = data[1];
	appetite = data[2];
	data += 3;
	size -= 3;

	if (strcmp(proto_name, "add") == 0) {
		sc = plain_conf->svcs[0];
		check = check_add;
		outcap = size;
	} else if (strcmp(proto_name, "time") == 0) {
		sc = plain_conf->svcs[0];
		check = check_time;
		outcap = WIRE_TIME_LEN;
	} else if (strcmp(proto_name, "chargen") == 0) {
		sc = plain_conf->svcs[0];
		check = check_chargen;
		outcap = 4 * 1024 * 1024;
	} else if (strcmp(proto_name, "discard") == 0) {
		sc = plain_conf->svcs[0];
		check = check_discard;
		outcap = 1;
	} else if (strcmp(proto_name, "metrics") == 0) {
		/* One call's responses: at most METRICS_PIPELINE, a few KiB each. */
		sc = plain_conf->svcs[0];
		check = check_metrics;
		outcap = 4 * 1024 * 1024;
	} else if (strcmp(proto_name, "echo") == 0) {
		sc = echo_confs[sel % (sizeof(echo_confs) / sizeof(echo_confs[0]))]->svcs[0];
		check = check_echo;
		outcap = size;
	} else {
		/* sel: length of the option value taken from the front of the data (0: default). */
		int hello = strcmp(proto_name, "hello") == 0;

		skip = sel & 0x7f;
		if (skip > size)
			skip = size;
		if (skip > 0)
			text = conf_with_string(proto->name,
			    hello ? "" : (sel & 0x80 ? "utc = true" : "utc = false"),
			    hello ? "message" : "format", data, skip, &plain);
		else
			text = strdup(hello ? "service hello { port = 1 }\n" :
			    "service daytime { port = 1 }\n");
		if (text == NULL)
			return 0;
		if ((nc = load(text)) == NULL) {
			free(text);
			return 0;	/* a bad format or message: fuzz_conf's business */
		}
		sc = nc->svcs[0];
		check = hello ? check_hello : check_daytime;
		outcap = hello ? HELLO_MAX + 1 : DAYTIME_MAX + 1;
	}

	if (run_init(&r, sc, data + skip, size - skip, outcap) == 0) {
		if (strcmp(proto_name, "echo") == 0)
			r.max_line = echo_lines[sel % (sizeof(echo_lines) / sizeof(echo_lines[0]))];
		run_drive(&r, ctl, appetite, check);
		if (strcmp(proto_name, "echo") == 0 &&
		    (r.outlen != r.size || memcmp(r.out, r.data, r.size)))
			fail("echo output is not the input");
		/* A message of plain characters comes back exactly. */
		if (strcmp(proto_name, "hello") == 0 && skip > 0 && plain &&
		    (r.outlen != strnlen((const char *)data, skip) + 1 ||
		    memcmp(r.out, data, r.outlen - 1) != 0))
			fail("hello wrote \"%.*s\"", (int)r.outlen, r.out);
		if (strcmp(proto_name, "hello") == 0 && skip == 0 &&
		    (r.outlen != 6 || memcmp(r.out, "HELLO\n", 6) != 0))
			fail("default hello wrote \"%.*s\"", (int)r.outlen, r.out);
	}
	run_free(&r);
	conf_free(nc);
	free(text);
	return 0;
}
