/* unit_proxy.c - the PROXY v1/v2 header parser: every form, every refusal, byte by byte. */
#include "config.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/proxy.h"
#include "unit.h"

#define SIG	"\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
#define SIGLEN	12

/* What follows a header in the tests: the protocol's bytes, never the header's. */
static const char after[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n\x0d\x0a\x00GET / HTTP/1.0\r\n";

/* Parse from an exact-size copy, so that a sanitizer build sees any read past n. */
static enum proxy_result
parse(const void *buf, size_t n, struct proxy_hdr *h, const char **why)
{
	void *copy = malloc(n ? n : 1);
	enum proxy_result r;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, n);
	r = proxy_parse(copy, n, h, why);
	free(copy);
	return r;
}

static bool
same_hdr(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return a->version == b->version && a->local == b->local && a->len == b->len &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

/*
 * A valid header of n bytes: PROXY_DONE with len n; every shorter prefix
 * PROXY_MORE (fed byte by byte); the same answer with bytes appended, which
 * it must leave alone.  *h gets the result.
 */
static bool
accepts(const char *name, const void *buf, size_t n, struct proxy_hdr *h)
{
	struct proxy_hdr h2;
	const char *why = NULL;
	uint8_t *more;
	int before = unit_checks_failed;

	memset(h, 0xa5, sizeof(*h));
	CHECK(parse(buf, n, h, &why) == PROXY_DONE);
	if (why != NULL)
		fprintf(stderr, "  %s: refused: %s\n", name, why);
	CHECK(why == NULL);
	CHECK(h->len == n);
	CHECK(h->version == 1 || h->version == 2);
	for (size_t k = 0; k < n; k++) {
		memset(&h2, 0x5a, sizeof(h2));
		why = NULL;
		if (parse(buf, k, &h2, &why) != PROXY_MORE) {
			fprintf(stderr, "  %s: prefix of %zu bytes not PROXY_MORE (%s)\n", name, k,
			    why ? why : "done");
			CHECK(!"prefix not PROXY_MORE");
			break;
		}
		/* Untouched until done. */
		CHECK(h2.version == 0x5a5a5a5a);
	}
	if ((more = malloc(n + sizeof(after))) == NULL)
		abort();
	memcpy(more, buf, n);
	memcpy(more + n, after, sizeof(after));
	for (size_t extra = 1; extra <= sizeof(after); extra++) {
		CHECK(parse(more, n + extra, &h2, &why) == PROXY_DONE);
		CHECK(same_hdr(h, &h2));
	}
	free(more);
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case: %s\n", name);
	return unit_checks_failed == before;
}

/*
 * An invalid header: PROXY_BAD with a reason containing want, no prefix
 * ever PROXY_DONE, and once a prefix is PROXY_BAD, every longer one too,
 * appended bytes included.
 */
static void
refuses(const char *name, const void *buf, size_t n, const char *want)
{
	struct proxy_hdr h;
	const char *why = NULL;
	enum proxy_result r;
	bool was_bad = false;
	uint8_t *more;
	int before = unit_checks_failed;

	memset(&h, 0x5a, sizeof(h));
	CHECK(parse(buf, n, &h, &why) == PROXY_BAD);
	CHECK(why != NULL && strstr(why, want) != NULL);
	if (why == NULL || strstr(why, want) == NULL)
		fprintf(stderr, "  %s: want \"%s\", got \"%s\"\n", name, want, why ? why : "(none)");
	CHECK(h.version == 0x5a5a5a5a);
	for (size_t k = 0; k <= n; k++) {
		r = parse(buf, k, &h, &why);
		CHECK(r != PROXY_DONE);
		CHECK(!was_bad || r == PROXY_BAD);
		was_bad |= r == PROXY_BAD;
	}
	if ((more = malloc(n + sizeof(after))) == NULL)
		abort();
	memcpy(more, buf, n);
	memcpy(more + n, after, sizeof(after));
	CHECK(parse(more, n + sizeof(after), &h, &why) == PROXY_BAD);
	free(more);
	if (unit_checks_failed != before)
		fprintf(stderr, "  in case: %s\n", name);
}

static void
refuses_str(const char *s, const char *want)
{
	refuses(s, s, strlen(s), want);
}

/* The endpoint as "addr port", for comparing with what a test expects. */
static const char *
ep(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s %u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s] %u", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "family %d", ss->ss_family);
	}
	return buf;
}

static bool
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* A valid header whose endpoints must print as src and dst. */
static void
endpoints(const char *name, const void *buf, size_t n, int version, const char *src,
    const char *dst)
{
	struct proxy_hdr h;
	char s[80], d[80];

	if (!accepts(name, buf, n, &h))
		return;
	CHECK(h.version == version);
	CHECK(!h.local);
	CHECK(h.src.ss_family == h.dst.ss_family);
	ep(&h.src, s, sizeof(s));
	ep(&h.dst, d, sizeof(d));
	if (strcmp(s, src) != 0 || strcmp(d, dst) != 0)
		fprintf(stderr, "  %s: got %s -> %s, want %s -> %s\n", name, s, d, src, dst);
	CHECK(strcmp(s, src) == 0);
	CHECK(strcmp(d, dst) == 0);
}

/* A valid header that says "use the socket's own peer". */
static void
local(const char *name, const void *buf, size_t n, int version)
{
	struct proxy_hdr h;

	if (!accepts(name, buf, n, &h))
		return;
	CHECK(h.version == version);
	CHECK(h.local);
	CHECK(is_zero(&h.src, sizeof(h.src)) && is_zero(&h.dst, sizeof(h.dst)));
}

/* A v2 header: signature, version/command, family, length, then body. */
static size_t
v2(uint8_t *out, uint8_t vercmd, uint8_t fam, const void *body, size_t blen)
{
	memcpy(out, SIG, SIGLEN);
	out[12] = vercmd;
	out[13] = fam;
	out[14] = (uint8_t)(blen >> 8);
	out[15] = (uint8_t)blen;
	memcpy(out + 16, body, blen);
	return 16 + blen;
}

/* As v2() but with a length field that need not match the body. */
static size_t
v2_len(uint8_t *out, uint8_t vercmd, uint8_t fam, size_t field, const void *body, size_t blen)
{
	size_t n = v2(out, vercmd, fam, body, blen);

	out[14] = (uint8_t)(field >> 8);
	out[15] = (uint8_t)field;
	return n;
}

/* 192.0.2.7:49381 -> 10.0.0.5:55556 */
static const uint8_t inet_block[12] = {
	192, 0, 2, 7, 10, 0, 0, 5, 0xc0, 0xe5, 0xd9, 0x04
};

/* [2001:db8::7]:49381 -> [::ffff:10.0.0.5]:443 */
static const uint8_t inet6_block[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5,
	0xc0, 0xe5, 0x01, 0xbb
};

/* The reference CRC32C, written separately from proxy.c's. */
static uint32_t
ref_crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return crc ^ 0xffffffffu;
}

static void
test_v1_tcp4(void)
{
	const char *s;

	s = "PROXY TCP4 192.0.2.7 10.0.0.5 49381 55556\r\n";
	endpoints(s, s, strlen(s), 1, "192.0.2.7 49381", "10.0.0.5 55556");
	/* The longest TCP4 line of the spec: 56 bytes. */
	s = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
	CHECK(strlen(s) == 56);
	endpoints(s, s, strlen(s), 1, "255.255.255.255 65535", "255.255.255.255 65535");
	s = "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n";
	endpoints(s, s, strlen(s), 1, "0.0.0.0 0", "0.0.0.0 0");
	s = "PROXY TCP4 10.0.0.1 10.0.0.2 1 10\r\n";
	endpoints(s, s, strlen(s), 1, "10.0.0.1 1", "10.0.0.2 10");
}

static void
test_v1_tcp6(void)
{
	const char *s;

	s = "PROXY TCP6 2001:db8::7 2001:db8::1 49381 443\r\n";
	endpoints(s, s, strlen(s), 1, "[2001:db8::7] 49381", "[2001:db8::1] 443");
	/* The longest TCP6 line of the spec: 104 bytes. */
	s = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n";
	CHECK(strlen(s) == 104);
	endpoints(s, s, strlen(s), 1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff] 65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff] 65535");
	s = "PROXY TCP6 :: ::1 0 1\r\n";
	endpoints(s, s, strlen(s), 1, "[::] 0", "[::1] 1");
	/* IPv4-mapped stays IPv6 here: the caller unmaps it as for any peer. */
	s = "PROXY TCP6 ::ffff:192.0.2.7 ::ffff:c000:0201 1000 2000\r\n";
	endpoints(s, s, strlen(s), 1, "[::ffff:192.0.2.7] 1000", "[::ffff:192.0.2.1] 2000");
}

static void
test_v1_unknown(void)
{
	const char *s;
	char line[200];

	s = "PROXY UNKNOWN\r\n";
	CHECK(strlen(s) == 15);
	local(s, s, strlen(s), 1);
	s = "PROXY UNKNOWN 192.0.2.7 10.0.0.5 49381 55556\r\n";
	local(s, s, strlen(s), 1);
	/* Anything up to the CRLF is ignored, bad addresses and odd bytes too. */
	s = "PROXY UNKNOWN not an address \x01\x7f\x80\xff\t 99999\r\n";
	local(s, s, strlen(s), 1);
	local("nul", "PROXY UNKNOWN \0\0\r\n", 18, 1);
	/* The spec's worst case is exactly 107 bytes. */
	s = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	CHECK(strlen(s) == PROXY_V1_MAX);
	local(s, s, strlen(s), 1);
	/* One byte more is too long, and refused without waiting for the CRLF. */
	snprintf(line, sizeof(line), "PROXY UNKNOWN %.*s:f\r\n", 90, s + 14);
	CHECK(strlen(line) == 108);
	refuses_str(line, "v1 line longer than 107 bytes");
}

static void
test_v1_no_crlf(void)
{
	char line[300];
	struct proxy_hdr h;
	const char *why;

	/* 107 bytes and no CRLF yet: refused at the 107th byte, not before. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	CHECK(parse(line, PROXY_V1_MAX - 1, &h, &why) == PROXY_MORE);
	refuses("unknown, 107 bytes without CRLF", line, PROXY_V1_MAX, "longer than 107");
	refuses("unknown, 300 bytes without CRLF", line, sizeof(line), "longer than 107");
	/* A CR as the 107th byte leaves no room for the LF. */
	line[PROXY_V1_MAX - 1] = '\r';
	line[PROXY_V1_MAX] = '\n';
	refuses("unknown, CRLF at 107-108", line, PROXY_V1_MAX + 1, "longer than 107");
	line[PROXY_V1_MAX - 2] = '\r';
	line[PROXY_V1_MAX - 1] = '\n';
	local("unknown, CRLF at 106-107", line, PROXY_V1_MAX, 1);
	/* A TCP6 line that never ends, made of valid address bytes. */
	memset(line, '1', sizeof(line));
	memcpy(line, "PROXY TCP6 ", 11);
	refuses("tcp6 without CRLF", line, sizeof(line), "v1 bad source address");
	memset(line, ':', sizeof(line));
	memcpy(line, "PROXY TCP6 ::1 ::2 1 ", 21);
	memset(line + 21, '1', sizeof(line) - 21);
	refuses("tcp6 port without end", line, sizeof(line), "v1 bad destination port");
}

static void
test_v1_line_ends(void)
{
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1 bad destination port");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "v1 CR without LF");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "v1 CR without LF");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r", "v1 bad destination port");
	refuses_str("PROXY UNKNOWN\n", "v1 bad protocol");
	refuses_str("PROXY UNKNOWN a\nb\r\n", "v1 LF without CR");
	refuses_str("PROXY UNKNOWN a\rb\r\n", "v1 CR without LF");
	refuses_str("PROXY UNKNOWN\r\r\n", "v1 CR without LF");
	refuses_str("PROXY TCP4 1.2.3.4\r\n", "v1 line ends before the last field");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1 line ends before the last field");
}

static void
test_v1_bad_signature(void)
{
	struct proxy_hdr h;
	const char *why = NULL;

	refuses_str("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad signature");
	refuses_str("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad signature");
	refuses_str("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad signature");
	refuses_str("PROXY\r\n", "bad signature");
	refuses_str(" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad signature");
	refuses_str("GET / HTTP/1.0\r\n\r\n", "bad signature");
	refuses_str("\x16\x03\x01\x02\x00", "bad signature");
	/* Refused at the first byte that cannot start a header. */
	CHECK(parse("G", 1, &h, &why) == PROXY_BAD);
	CHECK(parse("PROXX", 5, &h, &why) == PROXY_BAD);
	CHECK(parse("PROX", 4, &h, &why) == PROXY_MORE);
	CHECK(parse("", 0, &h, &why) == PROXY_MORE);
	CHECK(proxy_parse(NULL, 0, &h, &why) == PROXY_MORE);
	/* why may be NULL. */
	CHECK(proxy_parse("X", 1, &h, NULL) == PROXY_BAD);
}

static void
test_v1_bad_protocol(void)
{
	refuses_str("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY UNKNOWNX\r\n", "v1 bad protocol");
	refuses_str("PROXY UNKNOWN1 1.2.3.4\r\n", "v1 bad protocol");
	refuses_str("PROXY \r\n", "v1 bad protocol");
	refuses_str("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1 bad protocol");
	refuses_str("PROXY TCP4\r\n", "v1 line ends before the last field");
	refuses_str("PROXY GET / HTTP/1.0\r\n", "v1 bad protocol");
}

static void
test_v1_bad_addresses(void)
{
	static const char *v4bad[] = {
		"256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.4/24",
		"::1", "1..2.3", ".1.2.3", "1.2.3.4.", "0x1.2.3.4", "1.2.3.-4", "4294967295",
		"1.2.3.1000", "111.222.333.444", "1.2.3.4:80",
	};
	static const char *v6bad[] = {
		"1.2.3.4", "1::2::3", "12345::1", "::g", ":::", "1:2:3:4:5:6:7:8:9", "fe80::1%lo",
		"[::1]", "::ffff:1.2.3.256", "1:2:3:4:5:6:7", ":1::", "::1/128",
	};
	char line[256];

	for (size_t i = 0; i < sizeof(v4bad) / sizeof(v4bad[0]); i++) {
		snprintf(line, sizeof(line), "PROXY TCP4 %s 10.0.0.1 1 2\r\n", v4bad[i]);
		refuses_str(line, "v1 bad source address");
		snprintf(line, sizeof(line), "PROXY TCP4 10.0.0.1 %s 1 2\r\n", v4bad[i]);
		refuses_str(line, "v1 bad destination address");
	}
	for (size_t i = 0; i < sizeof(v6bad) / sizeof(v6bad[0]); i++) {
		snprintf(line, sizeof(line), "PROXY TCP6 %s ::1 1 2\r\n", v6bad[i]);
		refuses_str(line, "v1 bad source address");
		snprintf(line, sizeof(line), "PROXY TCP6 ::1 %s 1 2\r\n", v6bad[i]);
		refuses_str(line, "v1 bad destination address");
	}
	refuses_str("PROXY TCP4  10.0.0.1 1 2\r\n", "v1 bad source address");
	refuses_str("PROXY TCP4 10.0.0.1  1 2\r\n", "v1 bad destination address");
	refuses_str("PROXY TCP6 ::1\t::1 1 2\r\n", "v1 bad source address");
}

static void
test_v1_bad_ports(void)
{
	static const char *bad[] = {
		"65536", "99999", "100000", "080", "00", "01", "+80", "-1", "0x50", "8a", "1e3",
		"655350", "",
	};
	char line[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "PROXY TCP4 1.2.3.4 5.6.7.8 %s 80\r\n", bad[i]);
		refuses_str(line, "v1 bad source port");
		snprintf(line, sizeof(line), "PROXY TCP6 ::1 ::2 80 %s\r\n", bad[i]);
		refuses_str(line, "v1 bad destination port");
	}
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "v1 extra field after the destination port");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "v1 extra field after the destination port");
	refuses_str("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "v1 bad destination port");
}

static void
test_v2_inet(void)
{
	uint8_t b[64];
	size_t n;

	n = v2(b, 0x21, 0x11, inet_block, sizeof(inet_block));
	endpoints("v2 tcp4", b, n, 2, "192.0.2.7 49381", "10.0.0.5 55556");
	n = v2(b, 0x21, 0x12, inet_block, sizeof(inet_block));
	endpoints("v2 udp4", b, n, 2, "192.0.2.7 49381", "10.0.0.5 55556");
}

static void
test_v2_inet6(void)
{
	uint8_t b[64];
	size_t n;

	n = v2(b, 0x21, 0x21, inet6_block, sizeof(inet6_block));
	endpoints("v2 tcp6", b, n, 2, "[2001:db8::7] 49381", "[::ffff:10.0.0.5] 443");
	n = v2(b, 0x21, 0x22, inet6_block, sizeof(inet6_block));
	endpoints("v2 udp6", b, n, 2, "[2001:db8::7] 49381", "[::ffff:10.0.0.5] 443");
}

static void
test_v2_unix(void)
{
	uint8_t body[216], b[300];
	size_t n;

	memset(body, 0, sizeof(body));
	strcpy((char *)body, "/run/haproxy/client.sock");
	strcpy((char *)body + 108, "/run/netlabd.sock");
	n = v2(b, 0x21, 0x31, body, sizeof(body));
	local("v2 unix stream", b, n, 2);
	n = v2(b, 0x21, 0x32, body, sizeof(body));
	local("v2 unix dgram", b, n, 2);
}

static void
test_v2_unspec(void)
{
	uint8_t b[64];
	size_t n;

	n = v2(b, 0x21, 0x00, "", 0);
	local("v2 proxy unspec", b, n, 2);
	/* Whatever follows an UNSPEC family is skipped unseen, not walked as TLVs. */
	n = v2(b, 0x21, 0x00, "\x01\xff\xff", 3);
	local("v2 proxy unspec with junk", b, n, 2);
	/* So is the block of a known family with an UNSPEC transport. */
	n = v2(b, 0x21, 0x10, "\x01\x02", 2);
	local("v2 proxy inet/unspec", b, n, 2);
	n = v2(b, 0x21, 0x01, inet_block, sizeof(inet_block));
	local("v2 proxy unspec/stream", b, n, 2);
}

static void
test_v2_local(void)
{
	uint8_t b[64];
	size_t n;

	n = v2(b, 0x20, 0x00, "", 0);
	CHECK(n == 16);
	local("v2 local", b, n, 2);
	/* LOCAL ignores the addresses, the family byte and what follows. */
	n = v2(b, 0x20, 0x11, inet_block, sizeof(inet_block));
	local("v2 local with inet", b, n, 2);
	n = v2(b, 0x20, 0xff, "\x01\xff\xff", 3);
	local("v2 local with an odd family", b, n, 2);
	n = v2(b, 0x20, 0x21, "", 0);
	local("v2 local inet6 without addresses", b, n, 2);
}

/* An INET header with TLVs after the addresses. */
static size_t
v2_tlv(uint8_t *b, uint8_t fam, const void *tlvs, size_t tlen)
{
	uint8_t body[PROXY_V2_MAX + 64];
	size_t alen = fam >> 4 == 1 ? 12 : fam >> 4 == 2 ? 36 : 216;

	memset(body, 0, alen);
	memcpy(body, fam >> 4 == 1 ? inet_block : inet6_block,
	    alen < sizeof(inet6_block) ? alen : sizeof(inet6_block));
	memcpy(body + alen, tlvs, tlen);
	return v2(b, 0x21, fam, body, alen + tlen);
}

static void
test_v2_tlvs(void)
{
	static const uint8_t tlvs[] = {
		0x01, 0x00, 0x02, 'h', '2',			/* ALPN */
		0x02, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
		0x04, 0x00, 0x00,				/* NOOP, empty */
		0x04, 0x00, 0x03, 0xff, 0xff, 0xff,		/* NOOP, padding */
		0x05, 0x00, 0x04, 1, 2, 3, 4,			/* UNIQUE_ID */
		0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0,		/* SSL, no sub-TLVs */
		0xee, 0x00, 0x01, 0x00,				/* unassigned: skipped */
	};
	uint8_t b[PROXY_V2_MAX + 64];
	size_t n;

	n = v2_tlv(b, 0x11, tlvs, sizeof(tlvs));
	endpoints("v2 tcp4 tlvs", b, n, 2, "192.0.2.7 49381", "10.0.0.5 55556");
	n = v2_tlv(b, 0x21, tlvs, sizeof(tlvs));
	endpoints("v2 tcp6 tlvs", b, n, 2, "[2001:db8::7] 49381", "[::ffff:10.0.0.5] 443");
	n = v2_tlv(b, 0x31, tlvs, sizeof(tlvs));
	local("v2 unix tlvs", b, n, 2);

	/* A TLV that runs past the length, by one byte or by many. */
	n = v2_tlv(b, 0x11, "\x01\x00\x03h2", 5);
	refuses("tlv one byte short", b, n, "v2 TLV runs past the header");
	n = v2_tlv(b, 0x11, "\x04\xff\xff", 3);
	refuses("tlv of 65535 bytes", b, n, "v2 TLV runs past the header");
	n = v2_tlv(b, 0x21, "\x04\x00\x00\x04\x00\x01", 6);
	refuses("tcp6 second tlv short", b, n, "v2 TLV runs past the header");
	n = v2_tlv(b, 0x31, "\x04\x00\x01", 3);
	refuses("unix tlv short", b, n, "v2 TLV runs past the header");
	/* One or two stray bytes cannot be a TLV. */
	n = v2_tlv(b, 0x11, "\x04", 1);
	refuses("one stray byte", b, n, "v2 TLV truncated");
	n = v2_tlv(b, 0x11, "\x04\x00\x00\x04\x00", 5);
	refuses("two stray bytes", b, n, "v2 TLV truncated");
}

static void
test_v2_crc32c(void)
{
	uint8_t tlvs[16], b[128];
	struct proxy_hdr h;
	uint32_t crc;
	size_t n;

	/* The reference is the Castagnoli CRC: its check value. */
	CHECK(ref_crc32c((const uint8_t *)"123456789", 9) == 0xe3069283u);

	memcpy(tlvs, "\x01\x00\x02h2\x03\x00\x04\0\0\0\0", 12);
	n = v2_tlv(b, 0x11, tlvs, 12);
	crc = ref_crc32c(b, n);
	b[n - 4] = (uint8_t)(crc >> 24);
	b[n - 3] = (uint8_t)(crc >> 16);
	b[n - 2] = (uint8_t)(crc >> 8);
	b[n - 1] = (uint8_t)crc;
	endpoints("v2 crc32c", b, n, 2, "192.0.2.7 49381", "10.0.0.5 55556");
	/* Any other byte changed: refused. */
	b[17] ^= 1;
	refuses("v2 crc32c, address changed", b, n, "v2 CRC32C mismatch");
	b[17] ^= 1;
	b[n - 1] ^= 0x80;
	refuses("v2 crc32c, checksum changed", b, n, "v2 CRC32C mismatch");
	b[n - 1] ^= 0x80;
	CHECK(parse(b, n, &h, NULL) == PROXY_DONE);

	n = v2_tlv(b, 0x11, "\x03\x00\x03\0\0\0", 6);
	refuses("crc32c of 3 bytes", b, n, "v2 CRC32C TLV not 4 bytes");
	n = v2_tlv(b, 0x11, "\x03\x00\x05\0\0\0\0\0", 8);
	refuses("crc32c of 5 bytes", b, n, "v2 CRC32C TLV not 4 bytes");
	n = v2_tlv(b, 0x11, "\x03\x00\x04\0\0\0\0\x03\x00\x04\0\0\0\0", 14);
	refuses("crc32c twice", b, n, "v2 CRC32C TLV twice");
	/* On a LOCAL header nothing after the family is looked at. */
	n = v2(b, 0x20, 0x11, "\x03\x00\x04\0\0\0\0", 7);
	local("local with a wrong crc32c", b, n, 2);
}

/* Hex text to bytes; returns the count. */
static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	for (; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
		if (sscanf(hex, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

/*
 * What HAProxy 2.6.12 sent to a capturing listener, "hi\n" from the client
 * included: send-proxy-v2 with proxy-v2-options crc32c,unique-id (over IPv4
 * with a unique-id, over IPv6 with an empty one), and send-proxy.
 */
static void
test_haproxy(void)
{
	static const struct {
		const char	*hex;
		int		 version;
		const char	*src, *dst;
	} cap[] = {
		{ "0d0a0d0a000d0a515549540a2111001c7f0000027f0000019c4148090300041da740f005"
		  "000661626331323368690a", 2, "127.0.0.2 40001", "127.0.0.1 18441" },
		{ "0d0a0d0a000d0a515549540a2121002e000000000000000000000000000000010000000000"
		  "00000000000000000000019c43480b030004ade9aa2005000068690a", 2,
		  "[::1] 40003", "[::1] 18443" },
		{ "50524f58592054435034203132372e302e302e33203132372e302e302e3120343030303220"
		  "31383434320d0a68690a", 1, "127.0.0.3 40002", "127.0.0.1 18442" },
	};
	uint8_t b[256];
	struct proxy_hdr h;
	size_t n;

	for (size_t i = 0; i < sizeof(cap) / sizeof(cap[0]); i++) {
		n = unhex(cap[i].hex, b);
		/* The client's "hi\n" stays the protocol's. */
		CHECK(parse(b, n, &h, NULL) == PROXY_DONE);
		CHECK(h.len == n - 3 && memcmp(b + h.len, "hi\n", 3) == 0);
		endpoints(cap[i].hex, b, n - 3, cap[i].version, cap[i].src, cap[i].dst);
		/* And its checksum is checked: one bit off in the source port is refused. */
		if (cap[i].version == 2) {
			b[16 + (b[13] == 0x11 ? 9 : 33)] ^= 1;
			refuses("haproxy v2, port changed", b, n - 3, "v2 CRC32C mismatch");
		}
	}
}

static void
test_v2_bad_version(void)
{
	static const uint8_t vc[] = { 0x01, 0x11, 0x31, 0xf1, 0x00, 0x10 };
	uint8_t b[64];
	size_t n;

	for (size_t i = 0; i < sizeof(vc); i++) {
		n = v2(b, vc[i], 0x11, inet_block, sizeof(inet_block));
		refuses("v2 bad version", b, n, "v2 bad version");
		/* Known from the 13th byte alone. */
		refuses("v2 bad version, 13 bytes", b, 13, "v2 bad version");
	}
}

static void
test_v2_bad_command(void)
{
	static const uint8_t vc[] = { 0x22, 0x23, 0x2f };
	uint8_t b[64];
	size_t n;

	for (size_t i = 0; i < sizeof(vc); i++) {
		n = v2(b, vc[i], 0x11, inet_block, sizeof(inet_block));
		refuses("v2 bad command", b, n, "v2 bad command");
		refuses("v2 bad command, 13 bytes", b, 13, "v2 bad command");
	}
}

static void
test_v2_bad_family(void)
{
	static const uint8_t fam[] = { 0x41, 0x51, 0xf1, 0x40 };
	static const uint8_t tr[] = { 0x13, 0x1f, 0x23, 0x03, 0x33 };
	uint8_t b[300];
	size_t n;

	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < sizeof(fam); i++) {
		n = v2_len(b, 0x21, fam[i], 216, b + 16, 216);
		refuses("v2 bad family", b, n, "v2 bad address family");
		refuses("v2 bad family, 14 bytes", b, 14, "v2 bad address family");
	}
	for (size_t i = 0; i < sizeof(tr); i++) {
		n = v2_len(b, 0x21, tr[i], 216, b + 16, 216);
		refuses("v2 bad transport", b, n, "v2 bad transport protocol");
	}
}

static void
test_v2_short_length(void)
{
	static const struct { uint8_t fam; size_t need; } fams[] = {
		{ 0x11, 12 }, { 0x12, 12 }, { 0x21, 36 }, { 0x22, 36 }, { 0x31, 216 }, { 0x32, 216 },
	};
	uint8_t body[300], b[400];
	size_t n;

	memset(body, 0, sizeof(body));
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		size_t lens[] = { 0, 1, fams[i].need / 2, fams[i].need - 1 };

		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			n = v2(b, 0x21, fams[i].fam, body, lens[j]);
			refuses("v2 length short", b, n, "v2 length too short for the address family");
			/* Known from the 16-byte header alone. */
			refuses("v2 length short, 16 bytes", b, 16, "too short");
		}
		n = v2(b, 0x21, fams[i].fam, body, fams[i].need);
		CHECK(accepts("v2 length exact", b, n, &(struct proxy_hdr){ 0 }));
	}
}

static void
test_v2_length_cap(void)
{
	uint8_t body[PROXY_V2_MAX + 1], b[16 + PROXY_V2_MAX + 1];
	struct proxy_hdr h;
	size_t n;

	/* 1024 bytes: 12 of addresses and one NOOP TLV of 1009 bytes. */
	memset(body, 0, sizeof(body));
	memcpy(body, inet_block, sizeof(inet_block));
	body[12] = 0x04;
	body[13] = (PROXY_V2_MAX - 12 - 3) >> 8;
	body[14] = (PROXY_V2_MAX - 12 - 3) & 0xff;
	n = v2(b, 0x21, 0x11, body, PROXY_V2_MAX);
	CHECK(n == 16 + PROXY_V2_MAX);
	endpoints("v2 of 1024 bytes", b, n, 2, "192.0.2.7 49381", "10.0.0.5 55556");
	n = v2(b, 0x20, 0x00, body, PROXY_V2_MAX);
	local("v2 local of 1024 bytes", b, n, 2);

	/* One more: refused from the length field, without waiting for the bytes. */
	body[14]++;
	n = v2(b, 0x21, 0x11, body, PROXY_V2_MAX + 1);
	refuses("v2 of 1025 bytes", b, n, "v2 length over 1024 bytes");
	refuses("v2 of 1025 bytes, 16 seen", b, 16, "v2 length over 1024 bytes");
	n = v2_len(b, 0x20, 0x00, 0xffff, "", 0);
	refuses("v2 local of 65535 bytes", b, n, "v2 length over 1024 bytes");
	CHECK(parse(b, 15, &h, NULL) == PROXY_MORE);
}

static void
test_v2_bad_signature(void)
{
	uint8_t b[64];
	size_t n = v2(b, 0x21, 0x11, inet_block, sizeof(inet_block));

	/* Every byte of the signature matters, and is refused the moment it is wrong. */
	for (size_t i = 0; i < SIGLEN; i++) {
		b[i] ^= 0x20;
		refuses("v2 signature byte changed", b, n, "bad signature");
		refuses("v2 signature byte changed, cut there", b, i + 1, "bad signature");
		b[i] ^= 0x20;
	}
	refuses("v1 signature then v2", "\x0d\x0a\x0d\x0aPROXY", 9, "bad signature");
}

/* Several headers in one buffer: each parse takes exactly one. */
static void
test_back_to_back(void)
{
	uint8_t b[256];
	struct proxy_hdr h;
	size_t n, off;
	const char *v1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";

	n = v2(b, 0x21, 0x11, inet_block, sizeof(inet_block));
	memcpy(b + n, v1, strlen(v1));
	off = n + strlen(v1);
	b[off] = 'x';
	CHECK(parse(b, off + 1, &h, NULL) == PROXY_DONE && h.len == 28 && h.version == 2);
	CHECK(parse(b + 28, off + 1 - 28, &h, NULL) == PROXY_DONE && h.len == strlen(v1));
	CHECK(h.version == 1);
	CHECK(parse(b + off, 1, &h, NULL) == PROXY_BAD);
}

int
main(void)
{
	RUN(test_v1_tcp4);
	RUN(test_v1_tcp6);
	RUN(test_v1_unknown);
	RUN(test_v1_no_crlf);
	RUN(test_v1_line_ends);
	RUN(test_v1_bad_signature);
	RUN(test_v1_bad_protocol);
	RUN(test_v1_bad_addresses);
	RUN(test_v1_bad_ports);
	RUN(test_v2_inet);
	RUN(test_v2_inet6);
	RUN(test_v2_unix);
	RUN(test_v2_unspec);
	RUN(test_v2_local);
	RUN(test_v2_tlvs);
	RUN(test_v2_crc32c);
	RUN(test_haproxy);
	RUN(test_v2_bad_version);
	RUN(test_v2_bad_command);
	RUN(test_v2_bad_family);
	RUN(test_v2_short_length);
	RUN(test_v2_length_cap);
	RUN(test_v2_bad_signature);
	RUN(test_back_to_back);
	return unit_done();
}
