/* addr.c - parse and print addresses and peers, CIDR match, unmap ::ffff:a.b.c.d. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parse a numeric IPv4 or IPv6 literal (no names: a config must not depend on DNS). */
int
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

bool
addr_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* "a.b.c.d", "a.b.c.d/n", "x::y", "x::/n"; host bits beyond the prefix must be zero. */
int
prefix_parse(const char *s, struct prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	int max;
	long n;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	memset(p, 0, sizeof(*p));
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, p->bytes) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->bytes) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return -1;
	if (slash == NULL)
		n = max;
	else {
		if (*slash < '0' || *slash > '9')
			return -1;
		errno = 0;
		n = strtol(slash, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0 || n > max)
			return -1;
	}
	p->len = (uint8_t)n;
	for (int bit = p->len; bit < max; bit++)
		if (p->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	/* An IPv4-mapped prefix is matched as the IPv4 prefix it is. */
	if (p->family == AF_INET6 && p->len >= 96 && memcmp(p->bytes, v4mapped, 12) == 0) {
		memmove(p->bytes, p->bytes + 12, 4);
		memset(p->bytes + 4, 0, 12);
		p->family = AF_INET;
		p->len -= 96;
	}
	return 0;
}

int
prefix_from_sockaddr(const struct sockaddr *sa, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (sa->sa_family == AF_INET) {
		p->family = AF_INET;
		p->len = 32;
		memcpy(p->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, v4mapped, 12) == 0) {
			p->family = AF_INET;
			p->len = 32;
			memcpy(p->bytes, a + 12, 4);
		} else {
			p->family = AF_INET6;
			p->len = 128;
			memcpy(p->bytes, a, 16);
		}
		return 0;
	}
	return -1;
}

bool
prefix_match(const struct prefix *net, const struct prefix *addr)
{
	int full = net->len / 8, rest = net->len % 8;

	if (net->family != addr->family)
		return false;
	if (memcmp(net->bytes, addr->bytes, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->bytes[full] & mask) == (addr->bytes[full] & mask);
}

/* The peer's address as users expect it: IPv4-mapped IPv6 printed as IPv4. */
const char *
addr_ntop(const struct sockaddr *sa, char *buf, size_t size)
{
	struct prefix p;

	if (prefix_from_sockaddr(sa, &p) < 0 ||
	    inet_ntop(p.family, p.bytes, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* "127.0.0.1:13" or "[::]:13", as in "cannot listen on [::]:13: ...". */
const char *
addr_endpoint(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	addr_ntop(sa, host, sizeof(host));
	if (sa->sa_family == AF_INET6 && strchr(host, ':') != NULL)
		snprintf(buf, size, "[%s]:%d", host, addr_port(sa));
	else
		snprintf(buf, size, "%s:%d", host, addr_port(sa));
	return buf;
}

int
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

bool
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family || addr_port(a) != addr_port(b))
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return IN6_ARE_ADDR_EQUAL(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr);
}

int
peer_from_sockaddr(struct peer *pe, const struct sockaddr *sa)
{
	struct prefix p;

	memset(pe, 0, sizeof(*pe));
	if (prefix_from_sockaddr(sa, &p) < 0)
		return -1;
	pe->family = (uint8_t)p.family;
	pe->port = (uint16_t)addr_port(sa);
	memcpy(pe->addr, p.bytes, sizeof(pe->addr));
	return 0;
}

void
peer_prefix(const struct peer *pe, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = pe->family;
	p->len = pe->family == AF_INET ? 32 : 128;
	memcpy(p->bytes, pe->addr, sizeof(p->bytes));
}

/* Dotted quads by hand: the accepted-connection line is formatted for every client. */
size_t
peer_ntop(const struct peer *pe, char *buf, size_t size)
{
	if (pe->family == AF_INET && size >= INET_ADDRSTRLEN) {
		char *o = buf;

		for (int i = 0; i < 4; i++) {
			unsigned v = pe->addr[i];

			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return (size_t)(o - buf - 1);
	}
	if (inet_ntop(pe->family, pe->addr, buf, (socklen_t)size) == NULL) {
		snprintf(buf, size, "?");
		return 1;
	}
	return strlen(buf);
}

uint64_t
peer_source_key(const struct peer *pe)
{
	uint64_t k = 0;

	memcpy(&k, pe->addr, pe->family == AF_INET ? 4 : 8);
	return k ^ (pe->family == AF_INET ? 0x4ULL : 0x6ULL) << 60;
}

bool
peer_equal(const struct peer *a, const struct peer *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}
