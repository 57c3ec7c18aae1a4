/* addr.h - address literals, CIDR prefixes, peers (IPv4-mapped shown and matched as IPv4). */
#ifndef NETLABD_NET_ADDR_H
#define NETLABD_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An address or prefix in one family; IPv4-mapped IPv6 is stored as IPv4. */
struct prefix {
	int	 family;		/* AF_INET or AF_INET6 */
	uint8_t	 bytes[16];		/* network byte order, first 4 used for IPv4 */
	uint8_t	 len;			/* prefix length in bits */
};

/* A client as connections keep it: 20 bytes, not a sockaddr_storage. */
struct peer {
	uint8_t	 family;		/* AF_INET or AF_INET6; IPv4-mapped kept as AF_INET */
	uint8_t	 pad;
	uint16_t port;			/* host order */
	uint8_t	 addr[16];		/* network order, first 4 used for IPv4 */
};

/* Longest text of an address with brackets and port: "[v6]:65535". */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

int	addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, int port);
bool	addr_is_wildcard(const struct sockaddr *sa);
int	prefix_parse(const char *s, struct prefix *p);
int	prefix_from_sockaddr(const struct sockaddr *sa, struct prefix *p);
bool	prefix_match(const struct prefix *net, const struct prefix *addr);
const char *addr_ntop(const struct sockaddr *sa, char *buf, size_t size);
const char *addr_endpoint(const struct sockaddr *sa, char *buf, size_t size);
int	addr_port(const struct sockaddr *sa);
bool	addr_equal(const struct sockaddr *a, const struct sockaddr *b);

int	peer_from_sockaddr(struct peer *, const struct sockaddr *);
void	peer_prefix(const struct peer *, struct prefix *);
/* The address as users read it; returns the length written (buf holds INET6_ADDRSTRLEN). */
size_t	peer_ntop(const struct peer *, char *buf, size_t size);
/* The per-source key: an IPv4 address, or the /64 of an IPv6 address. */
uint64_t peer_source_key(const struct peer *);
bool	peer_equal(const struct peer *, const struct peer *);

#endif
