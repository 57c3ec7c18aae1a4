/*
 * fuzz_addr.c - libFuzzer target for the access-control path a hostile
 * client reaches: the peer address as accept() gives it, allow/deny prefixes
 * as the config gives them, and the decision (SPEC section 3, issue 5).
 *
 * Input layout: byte 0 picks the peer's family (bit 0: IPv6, bit 1: make it
 * IPv4-mapped), bytes 1-16 are its address, 17-18 its port; the rest is one
 * prefix per line, a leading '!' making it a deny entry.  Every prefix that
 * parses must be canonical (no host bits, length in range) and match exactly
 * as a bit-by-bit reference does; the allow/deny decision must follow "deny
 * wins, an empty allow list allows all", with mapped peers matched as IPv4.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "net/addr.h"

#define MAX_PREFIXES	16

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "addr: contract violated: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static int
bit(const uint8_t *b, int i)
{
	return (b[i / 8] >> (7 - i % 8)) & 1;
}

/* The reference: same family, and the first len bits equal. */
static bool
ref_match(const struct prefix *net, const struct prefix *a)
{
	if (net->family != a->family)
		return false;
	for (int i = 0; i < net->len; i++)
		if (bit(net->bytes, i) != bit(a->bytes, i))
			return false;
	return true;
}

static void
check_prefix(const char *text, const struct prefix *p)
{
	int max = p->family == AF_INET ? 32 : 128;
	char buf[INET6_ADDRSTRLEN + 8], again[sizeof(buf)];
	struct prefix q;

	if (p->family != AF_INET && p->family != AF_INET6)
		fail("'%s': family %d", text, p->family);
	if (p->len > max)
		fail("'%s': length %d", text, p->len);
	for (int i = p->len; i < 16 * 8; i++)
		if (bit(p->bytes, i))
			fail("'%s': bit %d set beyond the prefix", text, i);
	if (p->family == AF_INET6 && p->len >= 96 &&
	    memcmp(p->bytes, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		fail("'%s': IPv4-mapped prefix kept as IPv6", text);
	/* Printing it and parsing that again gives the same prefix. */
	if (inet_ntop(p->family, p->bytes, buf, sizeof(buf)) == NULL)
		fail("'%s': cannot print", text);
	snprintf(again, sizeof(again), "%s/%d", buf, p->len);
	if (prefix_parse(again, &q) < 0 || q.family != p->family || q.len != p->len ||
	    memcmp(q.bytes, p->bytes, sizeof(q.bytes)) != 0)
		fail("'%s' parsed, its canonical form '%s' does not give it back", text, again);
	/* An address is its own /32 or /128. */
	q = *p;
	q.len = (uint8_t)max;
	if (!prefix_match(p, &q))
		fail("'%s' does not match its own network address", text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prefix allow[MAX_PREFIXES], deny[MAX_PREFIXES], peer;
	struct sockaddr_storage ss;
	struct svc_conf sc;
	char host[INET6_ADDRSTRLEN], ep[ADDR_STRLEN], want[ADDR_STRLEN], *text, *line, *save;
	size_t nallow = 0, ndeny = 0;
	bool allowed, denied = false, listed = false;
	uint16_t port;

	if (size < 19)
		return 0;
	memset(&ss, 0, sizeof(ss));
	port = (uint16_t)(data[17] << 8 | data[18]);
	if (data[0] & 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(sin6->sin6_addr.s6_addr, data + 1, 16);
		if (data[0] & 2)
			memcpy(sin6->sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, data + 1, 4);
	}

	/* The peer as the core sees it: mapped IPv6 becomes IPv4, in logs too. */
	if (prefix_from_sockaddr((struct sockaddr *)&ss, &peer) < 0)
		fail("peer refused");
	if ((data[0] & 3) == 3) {
		if (peer.family != AF_INET || peer.len != 32 || memcmp(peer.bytes, data + 13, 4) != 0)
			fail("IPv4-mapped peer not matched as IPv4");
	} else if (peer.len != (peer.family == AF_INET ? 32 : 128)) {
		fail("peer is a /%d", peer.len);
	}
	if (inet_ntop(peer.family, peer.bytes, host, sizeof(host)) == NULL)
		fail("cannot print peer");
	addr_ntop((struct sockaddr *)&ss, ep, sizeof(ep));
	if (strcmp(ep, host) != 0)
		fail("peer printed as %s, want %s", ep, host);
	addr_endpoint((struct sockaddr *)&ss, ep, sizeof(ep));
	snprintf(want, sizeof(want), peer.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
	    (unsigned)port);
	if (strcmp(ep, want) != 0)
		fail("endpoint printed as %s, want %s", ep, want);

	if ((text = malloc(size - 19 + 1)) == NULL)
		return 0;
	memcpy(text, data + 19, size - 19);
	text[size - 19] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int is_deny = line[0] == '!';
		const char *s = line + is_deny;
		struct prefix p;

		if (prefix_parse(s, &p) < 0)
			continue;
		check_prefix(s, &p);
		if (prefix_match(&p, &peer) != ref_match(&p, &peer))
			fail("'%s' %s %s", s, prefix_match(&p, &peer) ? "matches" : "misses", host);
		if (is_deny && ndeny < MAX_PREFIXES) {
			deny[ndeny++] = p;
			denied |= ref_match(&p, &peer);
		} else if (!is_deny && nallow < MAX_PREFIXES) {
			allow[nallow++] = p;
			listed |= ref_match(&p, &peer);
		}
	}
	free(text);

	/* The compiled lists (sorted, merged ranges) answer as the prefixes do one by one. */
	memset(&sc, 0, sizeof(sc));
	if (acl_build(&sc.allow, allow, nallow) < 0 || acl_build(&sc.deny, deny, ndeny) < 0)
		fail("out of memory");
	allowed = svc_conf_allows(&sc, &peer);
	acl_free(&sc.allow);
	acl_free(&sc.deny);
	if (allowed != (!denied && (nallow == 0 || listed)))
		fail("%s %s with %zu allow (%s) and %zu deny (%s) entries", host,
		    allowed ? "allowed" : "refused", nallow, listed ? "listed" : "not listed",
		    ndeny, denied ? "listed" : "not listed");
	return 0;
}
