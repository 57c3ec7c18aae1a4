/* unit_http.c - the HTTP/1.x request head parser: requests, refusals, pipelining, byte by byte. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http_head.h"
#include "unit.h"

/* What a client may send after a head: the next request, or a body we never read. */
static const char after[] = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n\0\x01\r\r";

/* Parse from an exact-size copy, so that a sanitizer build sees any read past n. */
static enum http_result
parse(const char *buf, size_t n, struct http_req *r, const char **why, char **copy)
{
	enum http_result res;

	if ((*copy = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(*copy, buf, n);
	res = http_parse_head(*copy, n, r, why);
	return res;
}

static enum http_result
parse1(const char *buf, size_t n, struct http_req *r, const char **why)
{
	char *copy;
	enum http_result res = parse(buf, n, r, why, &copy);

	free(copy);
	return res;
}

/* Same fields, path at the same offset from each buffer's start. */
static bool
same_req(const struct http_req *a, const char *abuf, const struct http_req *b, const char *bbuf)
{
	return a->method == b->method && a->path - abuf == b->path - bbuf &&
	    a->pathlen == b->pathlen && a->minor == b->minor && a->keep_alive == b->keep_alive &&
	    a->has_body == b->has_body && a->len == b->len;
}

/*
 * A valid head of n bytes: HTTP_DONE with len n; every shorter prefix
 * HTTP_MORE (fed byte by byte); the same answer with bytes appended.  *r
 * gets the result, its path pointing into buf.
 */
static bool
accepts(const char *name, const char *buf, size_t n, struct http_req *r)
{
	struct http_req r2;
	const char *why = NULL;
	char *copy, *more;
	int before = unit_checks_failed;

	memset(r, 0xa5, sizeof(*r));
	CHECK(parse(buf, n, r, &why, &copy) == HTTP_DONE);
	if (why != NULL)
		fprintf(stderr, "  %s: refused: %s\n", name, why);
	CHECK(why == NULL);
	CHECK(r->len == n);
	/* Point into the caller's buffer rather than the freed copy. */
	r->path = buf + (r->path - copy);
	free(copy);
	for (size_t k = 0; k < n; k++) {
		memset(&r2, 0x5a, sizeof(r2));
		why = NULL;
		if (parse1(buf, k, &r2, &why) != HTTP_MORE) {
			fprintf(stderr, "  %s: prefix of %zu bytes not HTTP_MORE (%s)\n", name, k,
			    why ? why : "done");
			CHECK(!"prefix not HTTP_MORE");
			break;
		}
		CHECK(r2.len == (size_t)0x5a5a5a5a5a5a5a5aull);
	}
	if ((more = malloc(n + sizeof(after))) == NULL)
		abort();
	memcpy(more, buf, n);
	memcpy(more + n, after, sizeof(after));
	for (size_t extra = 1; extra <= sizeof(after); extra++) {
		CHECK(http_parse_head(more, n + extra, &r2, &why) == HTTP_DONE);
		CHECK(same_req(r, buf, &r2, more));
	}
	free(more);
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case: %s\n", name);
	return unit_checks_failed == before;
}

/* An invalid head: HTTP_BAD with a reason containing want, never HTTP_DONE on the way, BAD for good once BAD. */
static void
refuses(const char *name, const char *buf, size_t n, const char *want)
{
	struct http_req r;
	const char *why = NULL;
	enum http_result res;
	bool was_bad = false;
	char *more;
	int before = unit_checks_failed;

	memset(&r, 0x5a, sizeof(r));
	CHECK(parse1(buf, n, &r, &why) == HTTP_BAD);
	CHECK(why != NULL && strstr(why, want) != NULL);
	if (why == NULL || strstr(why, want) == NULL)
		fprintf(stderr, "  %s: want \"%s\", got \"%s\"\n", name, want, why ? why : "(none)");
	CHECK(r.len == (size_t)0x5a5a5a5a5a5a5a5aull);
	for (size_t k = 0; k <= n; k++) {
		res = parse1(buf, k, &r, &why);
		CHECK(res != HTTP_DONE);
		CHECK(!was_bad || res == HTTP_BAD);
		was_bad |= res == HTTP_BAD;
	}
	if ((more = malloc(n + sizeof(after))) == NULL)
		abort();
	memcpy(more, buf, n);
	memcpy(more + n, after, sizeof(after));
	CHECK(http_parse_head(more, n + sizeof(after), &r, &why) == HTTP_BAD);
	free(more);
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case: %s\n", name);
}

static void
refuses_str(const char *s, const char *want)
{
	refuses(s, s, strlen(s), want);
}

/* A valid head and what the parser must make of it. */
static void
request(const char *s, enum http_method method, const char *path, int minor, bool keep_alive,
    bool has_body)
{
	struct http_req r;
	int before = unit_checks_failed;

	if (!accepts(s, s, strlen(s), &r))
		return;
	CHECK(r.method == method);
	CHECK(r.pathlen == strlen(path) && memcmp(r.path, path, r.pathlen) == 0);
	if (r.pathlen != strlen(path) || memcmp(r.path, path, r.pathlen) != 0)
		fprintf(stderr, "  %s: path \"%.*s\", want \"%s\"\n", s, (int)r.pathlen, r.path, path);
	CHECK(r.path >= s && r.path + r.pathlen <= s + strlen(s));
	CHECK(r.minor == minor);
	CHECK(r.keep_alive == keep_alive);
	CHECK(r.has_body == has_body);
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case: %s\n", s);
}

static void
test_get(void)
{
	request("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9180\r\n\r\n", HTTP_GET, "/metrics", 1,
	    true, false);
	/* What Prometheus 2.42 sends. */
	request("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9180\r\nUser-Agent: Prometheus/2.42.0\r\n"
	    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
	    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
	    "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
	    HTTP_GET, "/metrics", 1, true, false);
	/* What curl sends. */
	request("GET /metrics HTTP/1.1\r\nHost: localhost:9180\r\nUser-Agent: curl/7.88.1\r\n"
	    "Accept: */*\r\n\r\n", HTTP_GET, "/metrics", 1, true, false);
	request("GET /metrics HTTP/1.0\r\n\r\n", HTTP_GET, "/metrics", 0, false, false);
	request("GET / HTTP/1.0\r\n\r\n", HTTP_GET, "/", 0, false, false);
	request("GET /a/b/c%20d HTTP/1.0\r\n\r\n", HTTP_GET, "/a/b/c%20d", 0, false, false);
}

static void
test_methods(void)
{
	request("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_HEAD, "/metrics", 1, true, false);
	request("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_OTHER, "/metrics", 1, true, false);
	request("PUT /metrics HTTP/1.0\r\n\r\n", HTTP_OTHER, "/metrics", 0, false, false);
	/* Method names are case-sensitive: these are methods we do not have. */
	request("get /metrics HTTP/1.0\r\n\r\n", HTTP_OTHER, "/metrics", 0, false, false);
	request("Head /metrics HTTP/1.0\r\n\r\n", HTTP_OTHER, "/metrics", 0, false, false);
	request("GETS /metrics HTTP/1.0\r\n\r\n", HTTP_OTHER, "/metrics", 0, false, false);
	request("GE /metrics HTTP/1.0\r\n\r\n", HTTP_OTHER, "/metrics", 0, false, false);
	/* Any token is a method; its target is only checked for bytes. */
	request("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_OTHER, "*", 1, true, false);
	request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", HTTP_OTHER,
	    "example.com:443", 1, true, false);
	request("X-M!#$%&'*+-.^_`|~9 /x HTTP/1.0\r\n\r\n", HTTP_OTHER, "/x", 0, false, false);
}

static void
test_targets(void)
{
	request("GET /metrics?name[]=up HTTP/1.0\r\n\r\n", HTTP_GET, "/metrics", 0, false, false);
	request("GET /metrics? HTTP/1.0\r\n\r\n", HTTP_GET, "/metrics", 0, false, false);
	request("GET /?x HTTP/1.0\r\n\r\n", HTTP_GET, "/", 0, false, false);
	request("GET /metrics/ HTTP/1.0\r\n\r\n", HTTP_GET, "/metrics/", 0, false, false);
	/* Absolute-form, which a server must accept; an empty path means "/". */
	request("GET http://127.0.0.1:9180/metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9180\r\n\r\n",
	    HTTP_GET, "/metrics", 1, true, false);
	request("GET HTTP://h/metrics HTTP/1.0\r\n\r\n", HTTP_GET, "/metrics", 0, false, false);
	request("HEAD http://h HTTP/1.0\r\n\r\n", HTTP_HEAD, "", 0, false, false);
	request("GET http://h?q HTTP/1.0\r\n\r\n", HTTP_GET, "", 0, false, false);

	refuses_str("GET metrics HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET * HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET http:/h/x HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET http:///x HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET 1http://h/x HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET  /metrics HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET /a\x80 HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("GET /a\tb HTTP/1.0\r\n\r\n", "bad request target");
	refuses_str("POST /a\xff HTTP/1.0\r\n\r\n", "bad request target");
}

static void
test_versions(void)
{
	/* Later 1.x minors are 1.1 (RFC 9110 section 2.5). */
	request("GET / HTTP/1.2\r\nHost: x\r\n\r\n", HTTP_GET, "/", 1, true, false);
	request("GET / HTTP/1.9\r\nHost: x\r\n\r\n", HTTP_GET, "/", 1, true, false);

	refuses_str("GET /\r\n", "HTTP/0.9 request");
	refuses_str("GET /metrics\r\n\r\n", "HTTP/0.9 request");
	refuses_str("GET /metrics\n", "HTTP/0.9 request");
	refuses_str("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/2 preface");
	refuses_str("GET / HTTP/2.0\r\n\r\n", "unsupported HTTP version");
	refuses_str("GET / HTTP/0.9\r\n\r\n", "unsupported HTTP version");
	refuses_str("GET / HTTP/3.0\r\n\r\n", "unsupported HTTP version");
	refuses_str("GET / HTTP/2\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1.10\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1\r\n\r\n", "bad HTTP version");
	refuses_str("GET / http/1.1\r\nHost: x\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1.1 x\r\nHost: x\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1.x\r\n\r\n", "bad HTTP version");
	refuses_str("GET / XTTP/1.1\r\n\r\n", "bad HTTP version");
	refuses_str("GET / HTTP/1.1\t\r\n\r\n", "bad HTTP version");
}

static void
test_request_line(void)
{
	struct http_req r;

	refuses_str("GET\r\n\r\n", "bad request line");
	refuses_str("\r\nGET\r\n\r\n", "bad request line");
	refuses_str(" GET / HTTP/1.0\r\n\r\n", "bad method");
	refuses_str("G(T / HTTP/1.0\r\n\r\n", "bad method");
	refuses_str("G\xc3\x89T / HTTP/1.0\r\n\r\n", "bad method");
	refuses_str("GET\t/ HTTP/1.0\r\n\r\n", "bad method");
	refuses_str("GET / HTTP/1.0 \r\n\r\n", "bad HTTP version");
	refuses_str("GET /  HTTP/1.0\r\n\r\n", "bad HTTP version");
	/* Empty lines alone are not a request yet. */
	CHECK(parse1("\r\n\r\n\n", 5, &r, NULL) == HTTP_MORE);
	CHECK(parse1("", 0, &r, NULL) == HTTP_MORE);
	CHECK(http_parse_head(NULL, 0, &r, NULL) == HTTP_MORE);
	/* why may be NULL. */
	CHECK(http_parse_head("\0", 1, &r, NULL) == HTTP_BAD);
}

static void
test_connection(void)
{
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", HTTP_GET, "/", 1, false,
	    false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n", HTTP_GET, "/", 1, false,
	    false);
	request("GET / HTTP/1.1\r\nHost: x\r\nconnection:close\r\n\r\n", HTTP_GET, "/", 1, false,
	    false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", HTTP_GET, "/", 1,
	    true, false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, \t Close \t\r\n\r\n", HTTP_GET,
	    "/", 1, false, false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: ,,close,\r\n\r\n", HTTP_GET, "/", 1,
	    false, false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed, xclose, close-it\r\n\r\n",
	    HTTP_GET, "/", 1, true, false);
	request("GET / HTTP/1.1\r\nHost: x\r\nX-Connection: close\r\n\r\n", HTTP_GET, "/", 1, true,
	    false);
	request("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
	    HTTP_GET, "/", 1, false, false);
	request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", HTTP_GET, "/", 0, true, false);
	request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_GET, "/", 0, true, false);
	request("GET / HTTP/1.0\r\nConnection: Upgrade,keep-alive\r\n\r\n", HTTP_GET, "/", 0, true,
	    false);
	request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", HTTP_GET, "/", 0, false,
	    false);
	request("GET / HTTP/1.0\r\nConnection: keepalive\r\n\r\n", HTTP_GET, "/", 0, false, false);
	request("GET / HTTP/1.0\r\nConnection:\r\n\r\n", HTTP_GET, "/", 0, false, false);
}

static void
test_body(void)
{
	request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", HTTP_OTHER, "/", 1,
	    true, false);
	request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 000\r\n\r\n", HTTP_OTHER, "/", 1,
	    true, false);
	request("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", HTTP_OTHER, "/", 1,
	    true, true);
	request("GET / HTTP/1.1\r\nHost: x\r\ncontent-length:  0012 \r\n\r\n", HTTP_GET, "/", 1,
	    true, true);
	/* Far more than fits in any integer: still just "a body". */
	request("POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999999999999\r\n\r\n",
	    HTTP_OTHER, "/", 0, false, true);
	request("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_OTHER,
	    "/", 1, true, true);
	request("POST / HTTP/1.1\r\nHost: x\r\nTRANSFER-ENCODING:\r\n\r\n", HTTP_OTHER, "/", 1,
	    true, true);

	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "bad Content-Length");
	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", "bad Content-Length");
	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", "bad Content-Length");
	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", "bad Content-Length");
	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", "bad Content-Length");
	refuses_str("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", "bad Content-Length");
}

static void
test_headers(void)
{
	/* Odd but valid: empty values, OWS, obs-text, tokens with every tchar. */
	request("GET / HTTP/1.1\r\nHost:\r\nX-Empty:\r\nX-Tab:\tv\t\r\n"
	    "X-Obs: caf\xc3\xa9 \x80\xff\r\n!#$%&'*+-.^_`|~:v\r\n\r\n", HTTP_GET, "/", 1, true, false);
	request("GET / HTTP/1.1\r\nHost: a:b:c\r\nX: : :\r\n\r\n", HTTP_GET, "/", 1, true, false);

	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", "header line without colon");
	refuses_str("GET / HTTP/1.1\r\nHost x\r\n\r\n", "header line without colon");
	refuses_str("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "bad header name");
	refuses_str("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", "bad header name");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\n: x\r\n\r\n", "bad header name");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", "bad header name");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nX\x80: z\r\n\r\n", "bad header name");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", "obsolete line folding");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tfolded\r\n\r\n", "obsolete line folding");
	/* Folding is refused at the first byte of the line, not at its end. */
	refuses("fold, cut", "GET / HTTP/1.1\r\nHost: x\r\n ", 27, "obsolete line folding");
	refuses_str("GET / HTTP/1.1\r\n Host: x\r\n\r\n", "obsolete line folding");
}

static void
test_host(void)
{
	request("GET / HTTP/1.0\r\nHost: x\r\n\r\n", HTTP_GET, "/", 0, false, false);
	request("GET / HTTP/1.1\r\nhOST: x\r\n\r\n", HTTP_GET, "/", 1, true, false);
	refuses_str("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 request without Host");
	refuses_str("GET / HTTP/1.1\r\nX-Host: x\r\n\r\n", "HTTP/1.1 request without Host");
	refuses_str("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "more than one Host header");
	refuses_str("GET / HTTP/1.0\r\nHost: x\r\nhost: x\r\n\r\n", "more than one Host header");
}

static void
test_control_bytes(void)
{
	char s[64];

	refuses("NUL in line", "GET /\0 HTTP/1.0\r\n\r\n", 19, "NUL byte in request head");
	refuses("NUL in header", "GET / HTTP/1.0\r\nX: a\0b\r\n\r\n", 26, "NUL byte");
	refuses("NUL first", "\0", 1, "NUL byte");
	/* Every control character but HTAB, CR and LF, and DEL, wherever it is. */
	for (int c = 1; c < 0x20; c++) {
		if (c == '\t' || c == '\r' || c == '\n')
			continue;
		snprintf(s, sizeof(s), "GET / HTTP/1.0\r\nX: a%cb\r\n\r\n", c);
		refuses_str(s, "control character in request head");
		snprintf(s, sizeof(s), "G%cT / HTTP/1.0\r\n\r\n", c);
		refuses_str(s, "control character in request head");
	}
	refuses_str("GET / HTTP/1.0\r\nX: \x7f\r\n\r\n", "control character");
	refuses_str("\x16\x03\x01\x02\x00\x01", "control character");
	/* A CR is a line end's first half, nothing else. */
	refuses_str("GET / HTTP/1.0\rX: y\r\n\r\n", "CR without LF");
	refuses_str("GET / HTTP/1.0\r\nX: a\rb\r\n\r\n", "CR without LF");
	refuses_str("GET / HTTP/1.0\r\n\r\r\n", "CR without LF");
	refuses_str("GET / HTTP/1.0\r\r\n\r\n", "CR without LF");
}

static void
test_line_ends(void)
{
	/* Bare LF line ends, alone or mixed with CRLF. */
	request("GET /metrics HTTP/1.1\nHost: x\n\n", HTTP_GET, "/metrics", 1, true, false);
	request("GET /metrics HTTP/1.0\n\n", HTTP_GET, "/metrics", 0, false, false);
	request("GET /metrics HTTP/1.1\r\nHost: x\n\r\n", HTTP_GET, "/metrics", 1, true, false);
	request("GET /metrics HTTP/1.1\nHost: x\r\n\n", HTTP_GET, "/metrics", 1, true, false);
	/* Empty lines before the request line are skipped (RFC 9112 section 2.2). */
	request("\r\n\nGET / HTTP/1.0\r\n\r\n", HTTP_GET, "/", 0, false, false);
}

static void
test_too_large(void)
{
	static char big[HTTP_HEAD_MAX + 100];
	const char *start = "GET / HTTP/1.0\r\nX: ";
	struct http_req r;
	const char *why = NULL;
	size_t n;

	/* Exactly HTTP_HEAD_MAX bytes, final CRLF included: accepted. */
	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	memcpy(big + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	CHECK(parse1(big, HTTP_HEAD_MAX, &r, &why) == HTTP_DONE && r.len == HTTP_HEAD_MAX);
	CHECK(parse1(big, HTTP_HEAD_MAX - 1, &r, &why) == HTTP_MORE);
	/* A bare-LF end one byte shorter, too. */
	memcpy(big + HTTP_HEAD_MAX - 4, "a\n\n", 3);
	CHECK(parse1(big, HTTP_HEAD_MAX - 1, &r, &why) == HTTP_DONE && r.len == HTTP_HEAD_MAX - 1);

	/* One byte more: refused, and as soon as the 8192nd byte is not the end. */
	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	memcpy(big + HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
	refuses("head of 8193 bytes", big, HTTP_HEAD_MAX + 1, "request head too large");
	refuses("head of 8193 bytes, 8192 seen", big, HTTP_HEAD_MAX, "request head too large");
	why = NULL;
	CHECK(parse1(big, HTTP_HEAD_MAX - 1, &r, &why) == HTTP_MORE);
	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	n = sizeof(big);
	CHECK(parse1(big, n, &r, &why) == HTTP_BAD && strcmp(why, "request head too large") == 0);
	/* Many small lines count the same. */
	for (n = 0; n + 8 <= sizeof(big); n += 8)
		memcpy(big + n, "X: yyy\r\n", 8);
	memcpy(big, "GET / HTTP/1.0\r\n", 16);
	CHECK(parse1(big, sizeof(big), &r, &why) == HTTP_BAD);
	CHECK(strcmp(why, "request head too large") == 0);
	/* So do empty lines before the request line. */
	for (n = 0; n + 2 <= sizeof(big); n += 2)
		memcpy(big + n, "\r\n", 2);
	CHECK(parse1(big, sizeof(big), &r, &why) == HTTP_BAD);
	CHECK(strcmp(why, "request head too large") == 0);
}

static void
test_pipelined(void)
{
	const char *s = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
	    "HEAD /metrics?x HTTP/1.1\nHost: b\nConnection: close\n\n"
	    "GET /other HTTP/1.0\r\n\r\n"
	    "GET /trunc";
	size_t n = strlen(s), off = 0;
	struct http_req r;
	const char *why = NULL;

	CHECK(http_parse_head(s + off, n - off, &r, &why) == HTTP_DONE);
	CHECK(r.method == HTTP_GET && r.keep_alive && r.len == 34);
	off += r.len;
	CHECK(http_parse_head(s + off, n - off, &r, &why) == HTTP_DONE);
	CHECK(r.method == HTTP_HEAD && !r.keep_alive && r.len == 52);
	CHECK(r.path == s + off + 5 && r.pathlen == 8);
	off += r.len;
	CHECK(http_parse_head(s + off, n - off, &r, &why) == HTTP_DONE);
	CHECK(r.method == HTTP_GET && r.minor == 0 && r.len == 23);
	CHECK(r.pathlen == 6 && memcmp(r.path, "/other", 6) == 0);
	off += r.len;
	CHECK(http_parse_head(s + off, n - off, &r, &why) == HTTP_MORE);
	CHECK(off + 10 == n);
}

int
main(void)
{
	RUN(test_get);
	RUN(test_methods);
	RUN(test_targets);
	RUN(test_versions);
	RUN(test_request_line);
	RUN(test_connection);
	RUN(test_body);
	RUN(test_headers);
	RUN(test_host);
	RUN(test_control_bytes);
	RUN(test_line_ends);
	RUN(test_too_large);
	RUN(test_pipelined);
	return unit_done();
}
