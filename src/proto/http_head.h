/* http_head.h - HTTP/1.x request head parser (for the metrics protocol): bytes in, a result out; no I/O. */
#ifndef NETLABD_HTTP_HEAD_H
#define NETLABD_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX	8192	/* largest head we read, final empty line included */

enum http_result { HTTP_MORE, HTTP_DONE, HTTP_BAD };
enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_req {
	enum http_method method;
	const char	*path;		/* into buf; the target without the query string */
	size_t		 pathlen;
	int		 minor;		/* HTTP/1.0 -> 0, HTTP/1.1 (or a later 1.x) -> 1 */
	bool		 keep_alive;	/* what HTTP says for this version and Connection header */
	bool		 has_body;	/* Content-Length > 0 or Transfer-Encoding present: we never read it, so close after replying */
	size_t		 len;		/* bytes of the head, final CRLFCRLF (or LFLF) included */
};

/*
 * Look at the first n bytes of a request.  HTTP_MORE: nothing wrong yet,
 * need more bytes (never once n >= HTTP_HEAD_MAX); HTTP_DONE: *r is filled
 * and the next request, if any, starts at buf + r->len; HTTP_BAD: *why is a
 * short static reason ("request head too large", "bad request line", ...).
 * *r is written only on HTTP_DONE and *why only on HTTP_BAD (why may be
 * NULL).  The answer depends on the bytes alone: HTTP_BAD stays HTTP_BAD
 * and HTTP_DONE stays the same HTTP_DONE whatever follows them.  Each call
 * starts from the first byte again, at O(n) cost.
 */
enum http_result http_parse_head(const char *buf, size_t n, struct http_req *r, const char **why);

#endif
