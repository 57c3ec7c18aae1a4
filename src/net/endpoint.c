/* endpoint.c - endpoint equality, overlap and order; overlaps found by sorting, not pairwise. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"
#include "net/endpoint.h"

static size_t
endpoint_addr(const struct endpoint *e, const unsigned char **p)
{
	const struct sockaddr *sa = (const struct sockaddr *)&e->ss;

	if (sa->sa_family == AF_INET) {
		*p = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		return 4;
	}
	*p = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
	return 16;
}

bool
endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
	return a->socktype == b->socktype &&
	    addr_equal((const struct sockaddr *)&a->ss, (const struct sockaddr *)&b->ss);
}

bool
endpoint_overlap(const struct endpoint *a, const struct endpoint *b)
{
	const struct sockaddr *x = (const struct sockaddr *)&a->ss;
	const struct sockaddr *y = (const struct sockaddr *)&b->ss;

	if (a->socktype != b->socktype || x->sa_family != y->sa_family ||
	    addr_port(x) != addr_port(y))
		return false;
	return addr_is_wildcard(x) || addr_is_wildcard(y) || addr_equal(x, y);
}

int
endpoint_cmp(const struct endpoint *a, const struct endpoint *b)
{
	const struct sockaddr *x = (const struct sockaddr *)&a->ss;
	const struct sockaddr *y = (const struct sockaddr *)&b->ss;
	const unsigned char *pa, *pb;
	size_t n;
	int wa, wb;

	if (a->socktype != b->socktype)
		return a->socktype < b->socktype ? -1 : 1;
	if (x->sa_family != y->sa_family)
		return x->sa_family < y->sa_family ? -1 : 1;
	if (addr_port(x) != addr_port(y))
		return addr_port(x) < addr_port(y) ? -1 : 1;
	wa = addr_is_wildcard(x);
	wb = addr_is_wildcard(y);
	if (wa != wb)
		return wa ? -1 : 1;
	n = endpoint_addr(a, &pa);
	endpoint_addr(b, &pb);
	return memcmp(pa, pb, n);
}

const char *
endpoint_str(const struct endpoint *e, char *buf, size_t size)
{
	char ep[ADDR_STRLEN];

	addr_endpoint((const struct sockaddr *)&e->ss, ep, sizeof(ep));
	snprintf(buf, size, "%s%s", ep, e->socktype == SOCK_DGRAM ? " (udp)" : "");
	return buf;
}

static int
endpoint_qcmp(const void *a, const void *b)
{
	return endpoint_cmp(a, b);
}

/*
 * After sorting, endpoints that can overlap are neighbours, except that a
 * wildcard sorts first among its (type, family, port) group and overlaps
 * all of it: so compare each endpoint with its predecessor and with the
 * group's first.
 */
long
endpoints_find_overlap(struct endpoint *v, size_t n, size_t *other)
{
	size_t group = 0;

	qsort(v, n, sizeof(*v), endpoint_qcmp);
	for (size_t i = 1; i < n; i++) {
		const struct sockaddr *g = (const struct sockaddr *)&v[group].ss;
		const struct sockaddr *c = (const struct sockaddr *)&v[i].ss;

		if (v[group].socktype != v[i].socktype || g->sa_family != c->sa_family ||
		    addr_port(g) != addr_port(c))
			group = i;
		if (endpoint_overlap(&v[i - 1], &v[i])) {
			*other = i - 1;
			return (long)i;
		}
		if (group != i && endpoint_overlap(&v[group], &v[i])) {
			*other = group;
			return (long)i;
		}
	}
	return -1;
}
