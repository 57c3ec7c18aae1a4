/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.x request head parser
 * (src/proto/http_head.c, SPEC section 11, issue 13).
 *
 * The input is what a client sends on one connection, possibly several
 * pipelined requests.  Each head is parsed whole and cut at many lengths,
 * each time from an exact-size heap copy so that AddressSanitizer sees any
 * read past n, and these contracts are checked; a violation aborts, which
 * libFuzzer reports:
 *
 *  1. The answer is HTTP_MORE, HTTP_DONE or HTTP_BAD; HTTP_BAD comes with a
 *     short printable reason; *r is written only on HTTP_DONE.
 *  2. Over growing prefixes the answers are HTTP_MORE, then either HTTP_BAD
 *     for good or HTTP_DONE for good with the same *r: a head is accepted
 *     at exactly r->len bytes, and what follows it never changes the answer
 *     (so the next pipelined request starts at r->len).  All prefixes up to
 *     512 bytes are tried, then a spread of them, r->len - 1 and r->len.
 *  3. HTTP_MORE only below HTTP_HEAD_MAX bytes, and only over bytes with no
 *     NUL, no control character but HTAB, CR, LF, and no CR without LF.
 *  4. HTTP_DONE: r->len <= n and <= HTTP_HEAD_MAX; the head ends in an empty
 *     line and holds none of the bytes of 3; the request line (after any
 *     empty lines) is METHOD SP target SP HTTP/1.x, with GET or HEAD exactly
 *     when the method is that word; the path lies in the target, is
 *     printable, has no '?' and no space; minor is 0 or 1; no header line
 *     starts with SP or HTAB; every header line has a colon; keep_alive,
 *     has_body and Host agree with a case-insensitive look at the headers.
 *
 * So that the size limit is fuzzed without 8 KiB inputs, an input starting
 * with 0xff stands for a long head: its first line (from byte 2), then an
 * "X-Pad: aaa..." header that brings the whole to HTTP_HEAD_MAX - 64 + byte
 * 1 / 2 bytes, then the rest of the input.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http_head.h"

#define PIPELINE_MAX	8	/* heads parsed from one input */
#define LONG_MARK	0xff	/* an input starting so stands for a long head: see below */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "http: contract violated: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static const char *
rname(enum http_result r)
{
	return r == HTTP_MORE ? "MORE" : r == HTTP_DONE ? "DONE" : r == HTTP_BAD ? "BAD" : "?";
}

/* Parse the first n bytes from a copy ending where the heap block ends; r->path is made an offset. */
static enum http_result
parse_at(char *block, size_t cap, const char *data, size_t n, struct http_req *r,
    size_t *pathoff)
{
	char *p = block + cap - n;
	const char *why = NULL;
	enum http_result res;

	memcpy(p, data, n);
	memset(r, 0x5a, sizeof(*r));
	res = http_parse_head(p, n, r, &why);
	if (res != HTTP_MORE && res != HTTP_DONE && res != HTTP_BAD)
		fail("%zu bytes: result %d", n, (int)res);
	if (res == HTTP_BAD) {
		if (why == NULL || *why == '\0' || strlen(why) > 60)
			fail("%zu bytes: HTTP_BAD without a short reason", n);
		for (const char *c = why; *c != '\0'; c++)
			if (!isprint((unsigned char)*c))
				fail("%zu bytes: reason not printable", n);
	} else if (why != NULL) {
		fail("%zu bytes: %s with a reason", n, rname(res));
	}
	if (res != HTTP_DONE) {
		if (r->len != (size_t)0x5a5a5a5a5a5a5a5aull || r->minor != 0x5a5a5a5a)
			fail("%zu bytes: %s wrote *r", n, rname(res));
		return res;
	}
	if (r->path < p || r->pathlen > n || r->path > p + n - r->pathlen)
		fail("path outside the buffer");
	*pathoff = (size_t)(r->path - p);
	return res;
}

static bool
same_req(const struct http_req *a, size_t aoff, const struct http_req *b, size_t boff)
{
	return a->method == b->method && aoff == boff && a->pathlen == b->pathlen &&
	    a->minor == b->minor && a->keep_alive == b->keep_alive &&
	    a->has_body == b->has_body && a->len == b->len;
}

/* Bytes a head may hold: not NUL, not a control character but HTAB, CR, LF; CR only before LF. */
static void
check_bytes(const char *d, size_t n, bool complete, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			fail("%s over byte 0x%02x at %zu", what, c, i);
		if (c == '\r' && (i + 1 < n || complete) && (i + 1 >= n || d[i + 1] != '\n'))
			fail("%s over a CR without LF at %zu", what, i);
	}
}

/* What the reference makes of the headers: one pass, written apart from http_head.c. */
struct ref {
	bool	close, keep, body, host;
};

static bool
ieq(const char *p, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(p, word, len) == 0;
}

static void
ref_header(const char *line, size_t ll, struct ref *ref)
{
	const char *colon = memchr(line, ':', ll), *v, *e;
	size_t nl = (size_t)(colon - line), vl = ll - nl - 1, el;

	v = colon + 1;
	if (ieq(line, nl, "host")) {
		ref->host = true;
	} else if (ieq(line, nl, "transfer-encoding")) {
		ref->body = true;
	} else if (ieq(line, nl, "content-length")) {
		for (size_t i = 0; i < vl; i++)
			if (v[i] >= '1' && v[i] <= '9')
				ref->body = true;
	} else if (ieq(line, nl, "connection")) {
		while (vl > 0) {
			for (el = 0; el < vl && v[el] != ','; el++)
				;
			e = v;
			v += el < vl ? el + 1 : el;
			vl -= el < vl ? el + 1 : el;
			while (el > 0 && (*e == ' ' || *e == '\t')) {
				e++;
				el--;
			}
			while (el > 0 && (e[el - 1] == ' ' || e[el - 1] == '\t'))
				el--;
			ref->close |= ieq(e, el, "close");
			ref->keep |= ieq(e, el, "keep-alive");
		}
	}
}

/* Contract 4, on a head of r->len bytes at d. */
static void
check_done(const char *d, const struct http_req *r, size_t pathoff)
{
	size_t len = r->len, pos = 0, eol, ll;
	const char *line, *sp1, *sp2;
	struct ref ref = { false, false, false, false };
	bool first = true;

	if (len > HTTP_HEAD_MAX || len < 2)
		fail("len %zu", len);
	check_bytes(d, len, true, "HTTP_DONE");
	if (d[len - 1] != '\n' || !(d[len - 2] == '\n' || (len >= 3 && d[len - 2] == '\r' &&
	    d[len - 3] == '\n')))
		fail("head does not end in an empty line");
	if (r->minor != 0 && r->minor != 1)
		fail("minor %d", r->minor);

	for (pos = 0; pos < len; pos = eol + 1) {
		eol = (size_t)((const char *)memchr(d + pos, '\n', len - pos) - d);
		ll = eol - pos;
		if (ll > 0 && d[eol - 1] == '\r')
			ll--;
		line = d + pos;
		if (ll == 0 && first)
			continue;			/* empty lines before the request */
		if (ll == 0) {
			if (eol + 1 != len)
				fail("empty line inside the head at %zu", pos);
			break;
		}
		if (!first) {
			if (line[0] == ' ' || line[0] == '\t')
				fail("folded line accepted at %zu", pos);
			if (memchr(line, ':', ll) == NULL)
				fail("header line without colon accepted at %zu", pos);
			ref_header(line, ll, &ref);
			continue;
		}
		first = false;
		sp1 = memchr(line, ' ', ll);
		sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - line)) : NULL;
		if (sp2 == NULL || (size_t)(line + ll - sp2) != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
		    !isdigit((unsigned char)sp2[8]))
			fail("request line '%.*s' accepted", (int)ll, line);
		if ((r->minor == 0) != (sp2[8] == '0'))
			fail("minor %d for HTTP/1.%c", r->minor, sp2[8]);
		if ((r->method == HTTP_GET) != (sp1 - line == 3 && memcmp(line, "GET", 3) == 0) ||
		    (r->method == HTTP_HEAD) != (sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0))
			fail("method %d for '%.*s'", r->method, (int)(sp1 - line), line);
		if (pathoff < (size_t)(sp1 + 1 - d) || pathoff + r->pathlen > (size_t)(sp2 - d))
			fail("path outside the target");
		for (size_t i = 0; i < r->pathlen; i++)
			if (d[pathoff + i] == '?' || (unsigned char)d[pathoff + i] <= 0x20 ||
			    (unsigned char)d[pathoff + i] >= 0x7f)
				fail("byte 0x%02x in the path", (unsigned char)d[pathoff + i]);
		if (r->method != HTTP_OTHER && r->pathlen > 0 && d[pathoff] != '/')
			fail("GET or HEAD path not starting with '/'");
	}
	if (first)
		fail("no request line");
	if (r->minor == 1 && !ref.host)
		fail("HTTP/1.1 without Host accepted");
	if (r->has_body != ref.body)
		fail("has_body %d, the reference says %d", r->has_body, ref.body);
	if (r->keep_alive != (!ref.close && (r->minor == 1 || ref.keep)))
		fail("keep_alive %d for HTTP/1.%d, close %d, keep-alive %d", r->keep_alive,
		    r->minor, ref.close, ref.keep);
}

/* Contracts 1-3 and 4 on the head at the start of d; returns its length, or 0 if none. */
static size_t
check_one(const char *d, size_t n)
{
	struct http_req r, whole;
	enum http_result res, wres, dec = HTTP_MORE;
	size_t k, step, decided = SIZE_MAX, off = 0, woff = 0, cap = n ? n : 1;
	char *block;

	if ((block = malloc(cap)) == NULL)
		return 0;
	wres = parse_at(block, cap, d, n, &whole, &woff);
	if (wres == HTTP_DONE)
		check_done(d, &whole, woff);
	if (wres == HTTP_MORE) {
		if (n >= HTTP_HEAD_MAX)
			fail("HTTP_MORE at %zu bytes", n);
		check_bytes(d, n, false, "HTTP_MORE");
	}

	/* Contract 2 on a spread of prefixes; every one around a decision. */
	step = n <= 512 ? 1 : n / 64;
	for (k = 0; k <= n; k += (k < 512 ? 1 : step)) {
		res = parse_at(block, cap, d, k, &r, &off);
		if (res == HTTP_MORE) {
			if (decided != SIZE_MAX)
				fail("HTTP_MORE at %zu bytes after %s at %zu", k, rname(dec), decided);
			continue;
		}
		if (res != wres)
			fail("%s at %zu bytes, %s at %zu", rname(res), k, rname(wres), n);
		if (res == HTTP_DONE && !same_req(&r, off, &whole, woff))
			fail("HTTP_DONE at %zu bytes differs from the one at %zu", k, n);
		if (decided == SIZE_MAX) {
			decided = k;
			dec = res;
		}
	}
	if (wres == HTTP_DONE) {
		if (parse_at(block, cap, d, whole.len - 1, &r, &off) != HTTP_MORE)
			fail("one byte short of the head is not HTTP_MORE");
		if (parse_at(block, cap, d, whole.len, &r, &off) != HTTP_DONE ||
		    !same_req(&r, off, &whole, woff))
			fail("the head alone gives another answer");
	}
	free(block);
	return wres == HTTP_DONE ? whole.len : 0;
}

/* Pipelined requests: each head starts where the last one ended. */
static void
check_stream(const char *d, size_t size)
{
	size_t off = 0, len;

	for (int i = 0; i < PIPELINE_MAX && off <= size; i++) {
		if ((len = check_one(d + off, size - off)) == 0)
			break;
		off += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf;
	size_t first, rest, pad, target;
	char *big;

	if (size < 2 || data[0] != LONG_MARK) {
		check_stream((const char *)data, size);
		return 0;
	}
	/* A long head from a short input: first line, padding header, the rest. */
	lf = memchr(data + 2, '\n', size - 2);
	first = lf != NULL ? (size_t)(lf + 1 - (data + 2)) : size - 2;
	rest = size - 2 - first;
	target = HTTP_HEAD_MAX - 64 + data[1] / 2;
	pad = target > first + rest + 9 ? target - first - rest - 9 : 0;
	if ((big = malloc(first + 9 + pad + rest)) == NULL)
		return 0;
	memcpy(big, data + 2, first);
	memcpy(big + first, "X-Pad: ", 7);
	memset(big + first + 7, 'a', pad);
	memcpy(big + first + 7 + pad, "\r\n", 2);
	memcpy(big + first + 9 + pad, data + 2 + first, rest);
	check_stream(big, first + 9 + pad + rest);
	free(big);
	return 0;
}
