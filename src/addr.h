/* addr.h - address literals, CIDR prefixes, peer formatting (IPv4-mapped shown as IPv4). */
#ifndef NETLABD_ADDR_H
#define NETLABD_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An address or prefix in one family; IPv4-mapped IPv6 is stored as IPv4. */
struct prefix {
	int	 family;		/* AF_INET or AF_INET6 */
	uint8_t	 bytes[16];		/* network byte order, first 4 used for IPv4 */
	uint8_t	 len;			/* prefix length in bits */
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

#endif
