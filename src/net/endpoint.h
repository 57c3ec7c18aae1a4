/* endpoint.h - where a service listens: socket type, address and port, and when two collide. */
#ifndef NETLABD_NET_ENDPOINT_H
#define NETLABD_NET_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct endpoint {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 socktype;	/* SOCK_STREAM (tcp) or SOCK_DGRAM (udp) */
};

/* Same socket type, family, address and port. */
bool	endpoint_equal(const struct endpoint *, const struct endpoint *);
/* Same socket type, family and port, and the same address or a wildcard on one side. */
bool	endpoint_overlap(const struct endpoint *, const struct endpoint *);
/* A total order (socket type, family, port, wildcard first, address), for sorting. */
int	endpoint_cmp(const struct endpoint *, const struct endpoint *);
/* "127.0.0.1:13", "[::]:13", and " (udp)" after a datagram endpoint. */
const char *endpoint_str(const struct endpoint *, char *buf, size_t size);
/* Sort v[0..n) in place; return the index of one member of an overlapping pair, or -1. */
long	endpoints_find_overlap(struct endpoint *v, size_t n, size_t *other);

#define ENDPOINT_STRLEN	(48 + 8)

#endif
