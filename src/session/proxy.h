/* proxy.h - PROXY protocol v1/v2 header parser: bytes in, a result out; no I/O. */
#ifndef NETLABD_PROXY_H
#define NETLABD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXY_V1_MAX	107	/* longest v1 line, CRLF included */
#define PROXY_V2_MAX	1024	/* largest v2 address block + TLVs we accept */

enum proxy_result { PROXY_MORE, PROXY_DONE, PROXY_BAD };

struct proxy_hdr {
	int			version;	/* 1 or 2 */
	bool			local;		/* v2 LOCAL, v1 UNKNOWN, or a v2 family we do not map (UNSPEC, UNIX): use the socket's own peer */
	struct sockaddr_storage	src, dst;	/* AF_INET or AF_INET6 with ports, when !local; all zero (AF_UNSPEC) when local */
	size_t			len;		/* bytes of the header: the next byte is the protocol's */
};

/*
 * Look at the first n bytes received.  PROXY_MORE: nothing wrong yet, need
 * more bytes (at most PROXY_V1_MAX or 16 + PROXY_V2_MAX in all); PROXY_DONE:
 * *h is filled; PROXY_BAD: *why is a short static reason for the log ("bad
 * signature", "v1 line longer than 107 bytes", ...).  *h is written only on
 * PROXY_DONE and *why only on PROXY_BAD (why may be NULL).  The answer
 * depends on the bytes alone: a PROXY_BAD stays PROXY_BAD and a PROXY_DONE
 * stays the same PROXY_DONE whatever follows them.
 */
enum proxy_result proxy_parse(const void *buf, size_t n, struct proxy_hdr *h, const char **why);

#endif
