/* http_head.c - HTTP/1.x request head parser, after RFC 9110 and RFC 9112; strict where it is cheap. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "proto/http_head.h"

/*
 * Decisions:
 *
 * - Lines end in CRLF or a bare LF (RFC 9112 section 2.2 lets a server take
 *   LF alone); a CR anywhere else is refused, as are NUL, the other control
 *   characters (HTAB aside) and DEL.  Bytes are checked as they arrive and
 *   each complete line is parsed at once, so a bad request is refused
 *   before its end, and a decision never changes when more bytes come.
 * - Empty lines before the request line are skipped (RFC 9112 section 2.2
 *   SHOULD: clients send a stray CRLF after a body); they count in r->len
 *   and against HTTP_HEAD_MAX.
 * - Request line: exactly METHOD SP target SP HTTP/1.x.  The method is a
 *   token compared case-sensitively ("get" is a method we do not have: 405,
 *   not 400).  One field alone is HTTP/0.9, which we do not speak; "PRI *
 *   HTTP/2.0" is the HTTP/2 preface; another major version is refused.
 *   HTTP/1.2 and later minors are taken as 1.1 (RFC 9110 section 2.5).
 * - Target: GET and HEAD need origin-form ("/path?query") or absolute-form
 *   ("http://host/path?query", which a server must accept; an empty path
 *   there gives pathlen 0, meaning "/"); any other method is answered 405
 *   whatever its target, so that target is only checked for bytes (VCHAR).
 *   The path ends at the first '?'.
 * - Header lines: a token, a colon with no space before it (RFC 9112
 *   section 5.1: must be refused), a value with its OWS trimmed.  A line
 *   starting with SP or HTAB is obsolete folding: refused.
 * - HTTP/1.1 needs exactly one Host (RFC 9112 section 3.2: must be
 *   refused otherwise); no request may have two.
 * - Connection: comma-separated tokens, "close" and "keep-alive" compared
 *   case-insensitively, close winning.  Content-Length must be digits
 *   (a list, a sign or a space inside is refused); it and
 *   Transfer-Encoding only set has_body: the caller never reads a body.
 */

struct head {
	bool	host;		/* a Host line was seen */
	bool	close;		/* Connection: close */
	bool	keep;		/* Connection: keep-alive */
	bool	body;
};

static enum http_result
bad(const char **why, const char *reason)
{
	*why = reason;
	return HTTP_BAD;
}

/* RFC 9110 tchar. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_token(const char *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* ASCII only, whatever the locale: the bytes are the client's, not text. */
static bool
ieq(const char *p, size_t len, const char *lower)
{
	size_t i;

	for (i = 0; i < len && lower[i] != '\0'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lower[i])
			return false;
	}
	return i == len && lower[i] == '\0';
}

static bool
eq(const char *p, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Drop optional whitespace at both ends of [*p, *p + *len). */
static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && is_ows(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*p)[*len - 1]))
		(*len)--;
}

/*
 * The next line from *pos: on HTTP_DONE, [*line, *line + *len) is its text
 * without CRLF or LF and *pos is past its end.  Checks every byte of the
 * partial line too, so a control character is refused as soon as it comes.
 */
static enum http_result
next_line(const char *b, size_t n, size_t *pos, const char **line, size_t *len, const char **why)
{
	size_t i, lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX;

	for (i = *pos; i < lim; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c == '\n') {
			*line = b + *pos;
			*len = i - *pos;
			if (*len > 0 && b[i - 1] == '\r')
				(*len)--;
			*pos = i + 1;
			return HTTP_DONE;
		}
		if (c == '\r') {
			if (i + 1 < n && b[i + 1] != '\n')
				return bad(why, "CR without LF in request head");
		} else if (c == '\0') {
			return bad(why, "NUL byte in request head");
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return bad(why, "control character in request head");
		}
	}
	if (n >= HTTP_HEAD_MAX)
		return bad(why, "request head too large");
	return HTTP_MORE;
}

/* "scheme://authority": the length of that prefix, or 0 if the target does not start so. */
static size_t
absolute_prefix(const char *t, size_t len)
{
	size_t i = 0, auth;

	if (len == 0 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return 0;
	while (i < len && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
	    (t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))
		i++;
	if (len - i < 3 || memcmp(t + i, "://", 3) != 0)
		return 0;
	i += 3;
	auth = i;
	while (i < len && t[i] != '/' && t[i] != '?')
		i++;
	return i > auth ? i : 0;
}

static enum http_result
request_line(const char *l, size_t len, struct http_req *r, const char **why)
{
	const char *sp1, *sp2, *t, *v, *q;
	size_t tlen, vlen, skip = 0;

	if ((sp1 = memchr(l, ' ', len)) == NULL)
		return bad(why, "bad request line");
	if (!is_token(l, (size_t)(sp1 - l)))
		return bad(why, "bad method");
	if (eq(l, (size_t)(sp1 - l), "GET"))
		r->method = HTTP_GET;
	else if (eq(l, (size_t)(sp1 - l), "HEAD"))
		r->method = HTTP_HEAD;
	else
		r->method = HTTP_OTHER;
	t = sp1 + 1;
	if ((sp2 = memchr(t, ' ', len - (size_t)(t - l))) == NULL)
		return bad(why, "HTTP/0.9 request");
	tlen = (size_t)(sp2 - t);
	v = sp2 + 1;
	vlen = len - (size_t)(v - l);

	if (eq(l, (size_t)(sp1 - l), "PRI") && eq(t, tlen, "*") && eq(v, vlen, "HTTP/2.0"))
		return bad(why, "HTTP/2 preface");
	if (tlen == 0)
		return bad(why, "bad request target");
	if (vlen != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return bad(why, "bad HTTP version");
	if (v[5] != '1')
		return bad(why, "unsupported HTTP version");
	r->minor = v[7] == '0' ? 0 : 1;

	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return bad(why, "bad request target");
	if (t[0] != '/' && (skip = absolute_prefix(t, tlen)) == 0 && r->method != HTTP_OTHER)
		return bad(why, "bad request target");
	r->path = t + skip;
	r->pathlen = tlen - skip;
	if ((q = memchr(r->path, '?', r->pathlen)) != NULL)
		r->pathlen = (size_t)(q - r->path);
	return HTTP_DONE;
}

static void
connection_tokens(const char *v, size_t len, struct head *hd)
{
	const char *comma, *e;
	size_t elen;

	while (len > 0) {
		comma = memchr(v, ',', len);
		e = v;
		elen = comma != NULL ? (size_t)(comma - v) : len;
		v += elen;
		len -= elen;
		if (comma != NULL) {
			v++;
			len--;
		}
		trim(&e, &elen);
		if (ieq(e, elen, "close"))
			hd->close = true;
		else if (ieq(e, elen, "keep-alive"))
			hd->keep = true;
	}
}

static enum http_result
header_line(const char *l, size_t len, struct head *hd, const char **why)
{
	const char *colon, *v;
	size_t nlen, vlen;

	if ((colon = memchr(l, ':', len)) == NULL)
		return bad(why, "header line without colon");
	nlen = (size_t)(colon - l);
	if (!is_token(l, nlen))
		return bad(why, "bad header name");
	v = colon + 1;
	vlen = len - nlen - 1;
	trim(&v, &vlen);

	if (ieq(l, nlen, "host")) {
		if (hd->host)
			return bad(why, "more than one Host header");
		hd->host = true;
	} else if (ieq(l, nlen, "connection")) {
		connection_tokens(v, vlen, hd);
	} else if (ieq(l, nlen, "content-length")) {
		if (vlen == 0)
			return bad(why, "bad Content-Length");
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return bad(why, "bad Content-Length");
			if (v[i] != '0')
				hd->body = true;
		}
	} else if (ieq(l, nlen, "transfer-encoding")) {
		hd->body = true;
	}
	return HTTP_DONE;
}

enum http_result
http_parse_head(const char *buf, size_t n, struct http_req *r, const char **why)
{
	const char *reason = NULL, *line;
	struct http_req out;
	struct head hd;
	enum http_result res;
	size_t pos = 0, len;

	/* Built aside, so that *r is untouched unless the head is complete and good. */
	memset(&out, 0, sizeof(out));
	memset(&hd, 0, sizeof(hd));
	do {
		if ((res = next_line(buf, n, &pos, &line, &len, &reason)) != HTTP_DONE)
			goto out;
	} while (len == 0);
	if ((res = request_line(line, len, &out, &reason)) != HTTP_DONE)
		goto out;
	for (;;) {
		/* Folding shows in the line's first byte: no need to wait for its end. */
		if (pos < n && is_ows(buf[pos])) {
			res = bad(&reason, "obsolete line folding");
			goto out;
		}
		if ((res = next_line(buf, n, &pos, &line, &len, &reason)) != HTTP_DONE)
			goto out;
		if (len == 0)
			break;
		if ((res = header_line(line, len, &hd, &reason)) != HTTP_DONE)
			goto out;
	}
	if (out.minor >= 1 && !hd.host) {
		res = bad(&reason, "HTTP/1.1 request without Host");
		goto out;
	}
	out.keep_alive = !hd.close && (out.minor >= 1 || hd.keep);
	out.has_body = hd.body;
	out.len = pos;
	*r = out;
out:
	if (res == HTTP_BAD && why != NULL)
		*why = reason;
	return res;
}
