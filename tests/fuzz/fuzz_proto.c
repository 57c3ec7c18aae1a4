/*
 * fuzz_proto.c - libFuzzer target for one protocol's input handling, chosen
 * at build time with -DFUZZ_PROTO='"add"' (or echo, daytime, hello).
 *
 * The protocol runs as conn.c runs it: start on accept, input whenever new
 * bytes reach the read low-watermark, eof when the client half-closes, and
 * nothing more once it has asked to close.  The input is cut into chunks of
 * fuzzer-chosen sizes, and after every call the protocol's contract (SPEC
 * section 5) is checked; a violation aborts, which libFuzzer reports.
 *
 * Input layout: byte 0 selects the service config (protocol-specific),
 * byte 1 the chunking, the rest is what the client sends (for daytime and
 * hello, a prefix of it is first taken as the format or message option).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "conf.h"
#include "log.h"
#include "proto.h"

#ifndef FUZZ_PROTO
#error "build with -DFUZZ_PROTO='\"add\"' (or echo, daytime, hello)"
#endif

#define ADD_REQ		8
#define DAYTIME_MAX	256		/* proto_daytime.c's limit on one line */
#define HELLO_MAX	1024		/* proto_hello.c's limit on the message */

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One connection driven the way conn.c drives it. */
struct run {
	const struct proto	*p;
	struct proto_io		 io;
	const uint8_t		*data;		/* what the client sends */
	size_t			 size;
	size_t			 fed;		/* bytes of data put into io.in so far */
	uint8_t			*out;		/* everything the protocol wrote, in order */
	size_t			 outlen, outcap;
	size_t			 seen;		/* bytes of out already checked */
	int			 closing;	/* the protocol returned PROTO_CLOSE */
	int			 eof;		/* eof was called */
	size_t			 max_line;	/* echo only */
};

static const struct proto *proto;
static const size_t echo_lines[] = { 1, 2, 3, 7, 8, 64, 100, 8192 };
static struct netlab_conf *echo_confs[sizeof(echo_lines) / sizeof(echo_lines[0])];
static struct netlab_conf *add_conf;

/* Report a broken contract on one line (control bytes escaped) and abort. */
static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: contract violated: ", FUZZ_PROTO);
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
	return conf_load_buf("fuzz.conf", text);
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
	if ((proto = proto_find(FUZZ_PROTO)) == NULL)
		fail("no such protocol");
	if (strcmp(FUZZ_PROTO, "echo") == 0) {
		for (size_t i = 0; i < sizeof(echo_lines) / sizeof(echo_lines[0]); i++) {
			snprintf(text, sizeof(text), "service echo {\n  port = 7\n"
			    "  address = { \"127.0.0.1\" }\n  max-line = %zu\n}\n", echo_lines[i]);
			echo_confs[i] = load_or_die(text);
		}
	} else if (strcmp(FUZZ_PROTO, "add") == 0) {
		add_conf = load_or_die("service add {\n  port = 9\n  address = { \"::1\" }\n}\n");
	}
	return 0;
}

/* Move what the protocol wrote into r->out; it may not write more than cap. */
static void
collect(struct run *r)
{
	size_t n = evbuffer_get_length(r->io.out);

	if (n > r->outcap - r->outlen)
		fail("%zu bytes of output exceed the %zu possible", r->outlen + n, r->outcap);
	evbuffer_remove(r->io.out, r->out + r->outlen, n);
	r->outlen += n;
}

static void
call(struct run *r, enum proto_next (*fn)(struct proto_io *), void (*check)(struct run *, int),
    int what)
{
	enum proto_next next;

	r->io.error[0] = '\0';
	next = fn(&r->io);
	if (next != PROTO_CONTINUE && next != PROTO_CLOSE)
		fail("bad return value %d", (int)next);
	if (next == PROTO_CLOSE)
		r->closing = 1;
	if (memchr(r->io.error, '\0', sizeof(r->io.error)) == NULL)
		fail("error message not NUL-terminated");
	collect(r);
	check(r, what);
	r->seen = r->outlen;
}

enum { CALL_START, CALL_INPUT, CALL_EOF };

/* xorshift32: chunk sizes that the fuzzer steers through one byte. */
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
	free((void *)data);
}

/*
 * Feed r->data in chunks.  Bits 0-3 of ctl bound the chunk size (1 to 2^15),
 * bits 4-5 seed the sizes; bit 6 appends up to 32 chunks before each input
 * call (reads that pile up), bit 7 makes each chunk an evbuffer chain of its
 * own (evbuffer_add_reference), so the buffer can be long and fragmented.
 */
static void
drive(struct run *r, uint8_t ctl, void (*check)(struct run *, int))
{
	size_t limit = (size_t)1 << (ctl & 0x0f);
	uint32_t seed = 0x9e3779b9u ^ ((uint32_t)((ctl >> 4) & 3) * 0x01000193u);

	if (r->p->start != NULL)
		call(r, r->p->start, check, CALL_START);
	while (r->fed < r->size && !r->closing) {
		size_t batch = ctl & 0x40 ? 1 + rnd(&seed) % 32 : 1;

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
		/* The read callback fires only at the low-watermark (the frame size). */
		if (evbuffer_get_length(r->io.in) >= (r->p->frame ? r->p->frame : 1))
			call(r, r->p->input, check, CALL_INPUT);
	}
	if (!r->closing) {
		r->eof = 1;
		call(r, r->p->eof, check, CALL_EOF);
	}
	if (!r->closing)
		fail("still open after eof");
}

static int
run_init(struct run *r, const struct svc_conf *sc, const uint8_t *data, size_t size,
    size_t outcap)
{
	memset(r, 0, sizeof(*r));
	r->p = proto;
	r->data = data;
	r->size = size;
	r->outcap = outcap;
	r->io.conf = sc->proto_conf;
	r->io.in = evbuffer_new();
	r->io.out = evbuffer_new();
	r->io.state = calloc(1, proto->state_size ? proto->state_size : 1);
	r->out = malloc(outcap ? outcap : 1);
	return r->io.in != NULL && r->io.out != NULL && r->io.state != NULL && r->out != NULL ?
	    0 : -1;
}

static void
run_free(struct run *r)
{
	if (r->io.in != NULL)
		evbuffer_free(r->io.in);
	if (r->io.out != NULL)
		evbuffer_free(r->io.out);
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
	if (what == CALL_INPUT && left >= ADD_REQ)
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
	if (what == CALL_INPUT) {
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
	const struct svc_conf *sc;
	struct netlab_conf *nc = NULL;
	void (*check)(struct run *, int);
	struct run r;
	size_t outcap = 0, skip = 0;
	uint8_t sel, ctl;
	int plain = 0;
	char *text = NULL;

	if (size < 2)
		return 0;
	sel = data[0];
	ctl = data[1];
	data += 2;
	size -= 2;

	if (proto == &proto_add) {
		sc = add_conf->svcs[0];
		check = check_add;
		outcap = size;
	} else if (proto == &proto_echo) {
		sc = echo_confs[sel % (sizeof(echo_confs) / sizeof(echo_confs[0]))]->svcs[0];
		check = check_echo;
		outcap = size;
	} else {
		/* sel: length of the option value taken from the front of the data (0: default). */
		int hello = proto == &proto_hello;

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
		if (proto == &proto_echo)
			r.max_line = echo_lines[sel % (sizeof(echo_lines) / sizeof(echo_lines[0]))];
		drive(&r, ctl, check);
		if (proto == &proto_echo && (r.outlen != r.size || memcmp(r.out, r.data, r.size)))
			fail("echo output is not the input");
		/* A message of plain characters comes back exactly. */
		if (proto == &proto_hello && skip > 0 && plain &&
		    (r.outlen != strnlen((const char *)data, skip) + 1 ||
		    memcmp(r.out, data, r.outlen - 1) != 0))
			fail("hello wrote \"%.*s\"", (int)r.outlen, r.out);
		if (proto == &proto_hello && skip == 0 &&
		    (r.outlen != 6 || memcmp(r.out, "HELLO\n", 6) != 0))
			fail("default hello wrote \"%.*s\"", (int)r.outlen, r.out);
	}
	run_free(&r);
	conf_free(nc);
	free(text);
	return 0;
}
