/*
 * fuzz_proxy.c - libFuzzer target for the PROXY v1/v2 header parser
 * (src/session/proxy.c, SPEC section 10, issue 12).
 *
 * The input is what a connection's first bytes could be.  It is parsed
 * whole and cut at every length, each time from an exact-size heap copy so
 * that AddressSanitizer sees any read past n, and these contracts are
 * checked; a violation aborts, which libFuzzer reports:
 *
 *  1. The answer is PROXY_MORE, PROXY_DONE or PROXY_BAD; PROXY_BAD comes
 *     with a short printable reason; *h is written only on PROXY_DONE.
 *  2. Over growing prefixes the answers are PROXY_MORE, then either
 *     PROXY_BAD for good, or PROXY_DONE for good with the same *h: a header
 *     is accepted at exactly h->len bytes (every shorter prefix is MORE,
 *     parsing buf[0..h->len) gives the same result) and nothing after it
 *     changes the answer, which also means bytes after it are not consumed.
 *  3. PROXY_MORE only while a header can still fit: n < PROXY_V1_MAX for
 *     v1, n < 16 + PROXY_V2_MAX for v2.
 *  4. PROXY_DONE: h->len <= n and <= 16 + PROXY_V2_MAX; what *h says agrees
 *     with a reference reading written here independently (v1: the line
 *     split on spaces, inet_pton per field, a TCP4 line printed back is
 *     byte-identical; v2: the length field, command, family and address
 *     bytes); local headers carry all-zero addresses.
 *  5. Wherever the reference can decide (a complete v1 line, a v2 header
 *     whose length has arrived), the parser decides the same.
 *  6. A v2 header refused only for its CRC32C is accepted once the checksum
 *     is patched with the reference CRC32C (which also lets the fuzzer past
 *     the checksum without having to guess it).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/proxy.h"

#define V2_HEAD		16
#define SCAN_MAX	(V2_HEAD + PROXY_V2_MAX + 64)	/* longer inputs are cut */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

enum ref { REF_UNKNOWN, REF_MORE, REF_DONE, REF_BAD };

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "proxy: contract violated: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static const char *
rname(enum proxy_result r)
{
	return r == PROXY_MORE ? "MORE" : r == PROXY_DONE ? "DONE" : r == PROXY_BAD ? "BAD" : "?";
}

/* Parse the first n bytes from a copy ending where the heap block ends. */
static enum proxy_result
parse_at(uint8_t *block, size_t cap, const uint8_t *data, size_t n, struct proxy_hdr *h,
    const char **why)
{
	uint8_t *p = block + cap - n;
	enum proxy_result r;

	memcpy(p, data, n);
	memset(h, 0x5a, sizeof(*h));
	*why = NULL;
	r = proxy_parse(p, n, h, why);
	if (r != PROXY_MORE && r != PROXY_DONE && r != PROXY_BAD)
		fail("%zu bytes: result %d", n, (int)r);
	if (r == PROXY_BAD) {
		if (*why == NULL || **why == '\0' || strlen(*why) > 60)
			fail("%zu bytes: PROXY_BAD without a short reason", n);
		for (const char *c = *why; *c != '\0'; c++)
			if (!isprint((unsigned char)*c))
				fail("%zu bytes: reason not printable", n);
	} else if (*why != NULL) {
		fail("%zu bytes: %s with a reason", n, rname(r));
	}
	if (r != PROXY_DONE && h->version != 0x5a5a5a5a)
		fail("%zu bytes: %s wrote *h", n, rname(r));
	return r;
}

static bool
same_hdr(const struct proxy_hdr *a, const struct proxy_hdr *b)
{
	return a->version == b->version && a->local == b->local && a->len == b->len &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
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

/* The reference port syntax: 1-5 digits, no leading zero but "0", at most 65535. */
static bool
ref_port(const char *s, size_t len, unsigned *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*port = v;
	return v <= 65535;
}

static bool
ref_addr(int family, const char *s, size_t len, void *out)
{
	char text[64];

	if (len >= sizeof(text) || memchr(s, '\0', len) != NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(family, text, out) == 1;
}

/*
 * The reference v1 reading, where it can decide: the line up to the first
 * CR or LF; REF_UNKNOWN while that has not arrived within 107 bytes.
 */
static enum ref
ref_v1(const uint8_t *d, size_t n, const struct proxy_hdr *h, bool check)
{
	const char *line = (const char *)d, *tok[8];
	size_t end, toklen[8], ntok = 0, start;
	uint8_t a[16];
	unsigned port;
	int family;

	for (end = 0; end < n && end < PROXY_V1_MAX && d[end] != '\r' && d[end] != '\n'; end++)
		;
	if (end >= PROXY_V1_MAX)
		return REF_BAD;
	if (end >= n)
		return REF_UNKNOWN;
	if (d[end] == '\n')
		return REF_BAD;
	if (end + 1 >= PROXY_V1_MAX)
		return REF_BAD;
	if (end + 1 >= n)
		return REF_UNKNOWN;
	if (d[end + 1] != '\n')
		return REF_BAD;

	/* Split on single spaces; UNKNOWN keeps the rest as one. */
	for (start = 0; ntok < 8; ) {
		const char *sp = memchr(line + start, ' ', end - start);
		size_t stop = sp ? (size_t)(sp - line) : end;

		tok[ntok] = line + start;
		toklen[ntok++] = stop - start;
		if (sp == NULL || (ntok == 2 && toklen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0))
			break;
		start = stop + 1;
	}
	if (ntok < 2 || toklen[0] != 5 || memcmp(tok[0], "PROXY", 5) != 0)
		return REF_BAD;
	if (toklen[1] == 7 && memcmp(tok[1], "UNKNOWN", 7) == 0) {
		if (check && (!h->local || h->len != end + 2))
			fail("v1 UNKNOWN: local %d, len %zu", h->local, h->len);
		return REF_DONE;
	}
	if (toklen[1] != 4 || (memcmp(tok[1], "TCP4", 4) != 0 && memcmp(tok[1], "TCP6", 4) != 0))
		return REF_BAD;
	if (ntok != 6)
		return REF_BAD;
	family = tok[1][3] == '4' ? AF_INET : AF_INET6;
	for (int i = 2; i < 4; i++) {
		const struct sockaddr_storage *ss = i == 2 ? &h->src : &h->dst;

		if (!ref_addr(family, tok[i], toklen[i], a))
			return REF_BAD;
		if (!check)
			continue;
		if (ss->ss_family != family)
			fail("v1: family %d, want %d", ss->ss_family, family);
		if (memcmp(a, family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr,
		    family == AF_INET ? 4 : 16) != 0)
			fail("v1: address %d differs from inet_pton's", i - 1);
	}
	for (int i = 4; i < 6; i++) {
		const struct sockaddr_storage *ss = i == 4 ? &h->src : &h->dst;

		if (!ref_port(tok[i], toklen[i], &port))
			return REF_BAD;
		if (check && port != ntohs(family == AF_INET ?
		    ((const struct sockaddr_in *)ss)->sin_port :
		    ((const struct sockaddr_in6 *)ss)->sin6_port))
			fail("v1: port %d differs", i - 3);
	}
	if (check && (h->local || h->len != end + 2))
		fail("v1 TCP: local %d, len %zu, want %zu", h->local, h->len, end + 2);
	/* IPv4 text without leading zeros is canonical: it must print back the same. */
	if (check && family == AF_INET) {
		char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN], line2[PROXY_V1_MAX + 1];
		const struct sockaddr_in *src = (const struct sockaddr_in *)&h->src;
		const struct sockaddr_in *dst = (const struct sockaddr_in *)&h->dst;

		inet_ntop(AF_INET, &src->sin_addr, s, sizeof(s));
		inet_ntop(AF_INET, &dst->sin_addr, t, sizeof(t));
		snprintf(line2, sizeof(line2), "PROXY TCP4 %s %s %u %u\r\n", s, t,
		    ntohs(src->sin_port), ntohs(dst->sin_port));
		if (strlen(line2) != h->len || memcmp(line2, d, h->len) != 0)
			fail("v1 TCP4 does not print back as it came: '%s'", line2);
	}
	return REF_DONE;
}

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

/*
 * The reference v2 reading.  *crc_at is set to the checksum's offset when
 * the only fault is a CRC32C that does not match.
 */
static enum ref
ref_v2(const uint8_t *d, size_t n, const struct proxy_hdr *h, bool check, size_t *crc_at)
{
	static const size_t famlen[4] = { 0, 12, 36, 216 };
	unsigned cmd, fam, tr;
	size_t len, off, crc = 0, tl;
	bool addresses;

	*crc_at = 0;
	if (n < 13)
		return REF_UNKNOWN;
	if (d[12] >> 4 != 2 || (cmd = d[12] & 0xf) > 1)
		return REF_BAD;
	if (n < 14)
		return REF_UNKNOWN;
	fam = d[13] >> 4;
	tr = d[13] & 0xf;
	if (cmd == 1 && (fam > 3 || tr > 2))
		return REF_BAD;
	if (n < V2_HEAD)
		return REF_UNKNOWN;
	len = (size_t)d[14] << 8 | d[15];
	addresses = cmd == 1 && fam != 0 && tr != 0;
	if (len > PROXY_V2_MAX || (addresses && len < famlen[fam]))
		return REF_BAD;
	if (n < V2_HEAD + len)
		return REF_UNKNOWN;
	if (addresses) {
		for (off = V2_HEAD + famlen[fam]; off < V2_HEAD + len; off += 3 + tl) {
			if (V2_HEAD + len - off < 3)
				return REF_BAD;
			tl = (size_t)d[off + 1] << 8 | d[off + 2];
			if (off + 3 + tl > V2_HEAD + len)
				return REF_BAD;
			if (d[off] == 0x03) {
				if (tl != 4 || crc != 0)
					return REF_BAD;
				crc = off + 3;
			}
		}
		if (crc != 0) {
			uint8_t copy[V2_HEAD + PROXY_V2_MAX];
			uint32_t want = (uint32_t)d[crc] << 24 | (uint32_t)d[crc + 1] << 16 |
			    (uint32_t)d[crc + 2] << 8 | d[crc + 3];

			memcpy(copy, d, V2_HEAD + len);
			memset(copy + crc, 0, 4);
			if (ref_crc32c(copy, V2_HEAD + len) != want) {
				*crc_at = crc;
				return REF_BAD;
			}
		}
	}
	if (!check)
		return REF_DONE;
	if (h->len != V2_HEAD + len)
		fail("v2: len %zu, want %zu", h->len, V2_HEAD + len);
	if (addresses && (fam == 1 || fam == 2)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&h->src;
		const struct sockaddr_in *d4 = (const struct sockaddr_in *)&h->dst;
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&h->src;
		const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)&h->dst;

		if (h->local)
			fail("v2 family %u: local", fam);
		if (fam == 1 && (s4->sin_family != AF_INET || d4->sin_family != AF_INET ||
		    memcmp(&s4->sin_addr, d + 16, 4) != 0 || memcmp(&d4->sin_addr, d + 20, 4) != 0 ||
		    memcmp(&s4->sin_port, d + 24, 2) != 0 || memcmp(&d4->sin_port, d + 26, 2) != 0))
			fail("v2 INET: addresses differ from the bytes");
		if (fam == 2 && (s6->sin6_family != AF_INET6 || d6->sin6_family != AF_INET6 ||
		    memcmp(&s6->sin6_addr, d + 16, 16) != 0 || memcmp(&d6->sin6_addr, d + 32, 16) != 0 ||
		    memcmp(&s6->sin6_port, d + 48, 2) != 0 || memcmp(&d6->sin6_port, d + 50, 2) != 0))
			fail("v2 INET6: addresses differ from the bytes");
	} else if (!h->local) {
		fail("v2 command %u family %u transport %u: not local", cmd, fam, tr);
	}
	return REF_DONE;
}

/* The reference verdict for the first n bytes, checking *h too when check. */
static enum ref
reference(const uint8_t *d, size_t n, const struct proxy_hdr *h, bool check, size_t *crc_at)
{
	size_t m;

	*crc_at = 0;
	if (n == 0)
		return REF_MORE;
	if (d[0] == 'P') {
		m = n < 6 ? n : 6;
		if (memcmp(d, "PROXY ", m) != 0)
			return REF_BAD;
		return n < 6 ? REF_MORE : ref_v1(d, n, h, check);
	}
	m = n < sizeof(v2sig) ? n : sizeof(v2sig);
	if (memcmp(d, v2sig, m) != 0)
		return REF_BAD;
	return n < sizeof(v2sig) ? REF_MORE : ref_v2(d, n, h, check, crc_at);
}

/* The contracts on one input; returns the CRC offset to patch, if that is all that is wrong. */
static size_t
check(const uint8_t *data, size_t size)
{
	struct proxy_hdr h, first;
	const char *why;
	enum proxy_result r, whole, dec = PROXY_MORE;
	enum ref ref;
	size_t k, decided = SIZE_MAX, crc_at;
	uint8_t *block;

	if ((block = malloc(size ? size : 1)) == NULL)
		return 0;

	/* Contract 2: MORE, then BAD or DONE for good. */
	for (k = 0; k <= size; k++) {
		r = parse_at(block, size ? size : 1, data, k, &h, &why);
		if (r == PROXY_MORE) {
			/* Contract 3. */
			if (k >= (k > 0 && data[0] == 'P' ? PROXY_V1_MAX : V2_HEAD + PROXY_V2_MAX))
				fail("PROXY_MORE at %zu bytes", k);
			if (decided != SIZE_MAX)
				fail("PROXY_MORE at %zu bytes after %s at %zu", k, rname(dec), decided);
			continue;
		}
		if (decided == SIZE_MAX) {
			decided = k;
			dec = r;
			first = h;
			if (r == PROXY_DONE && h.len != k)
				fail("PROXY_DONE first at %zu bytes with len %zu", k, h.len);
			/* Past the decision only the last few prefixes: the answer cannot depend on them. */
			if (size - k > 16)
				k = size - 17;
		} else if (r != dec) {
			fail("%s at %zu bytes after %s at %zu", rname(r), k, rname(dec), decided);
		} else if (r == PROXY_DONE && !same_hdr(&h, &first)) {
			fail("PROXY_DONE at %zu bytes differs from the one at %zu", k, decided);
		}
	}
	whole = parse_at(block, size ? size : 1, data, size, &h, &why);

	/* Contract 4. */
	if (whole == PROXY_DONE) {
		if (h.len > size || h.len > V2_HEAD + PROXY_V2_MAX || h.len == 0)
			fail("len %zu of %zu bytes", h.len, size);
		if (h.version != (data[0] == 'P' ? 1 : 2))
			fail("version %d", h.version);
		if (h.version == 1 && h.len > PROXY_V1_MAX)
			fail("v1 of %zu bytes", h.len);
		if (h.local && (!is_zero(&h.src, sizeof(h.src)) || !is_zero(&h.dst, sizeof(h.dst))))
			fail("local with addresses");
		if (!h.local && (h.src.ss_family != h.dst.ss_family ||
		    (h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6)))
			fail("families %d and %d", h.src.ss_family, h.dst.ss_family);
	}
	/* Contract 5. */
	ref = reference(data, size, &h, whole == PROXY_DONE, &crc_at);
	if (ref != REF_UNKNOWN &&
	    (int)whole != (ref == REF_MORE ? PROXY_MORE : ref == REF_DONE ? PROXY_DONE : PROXY_BAD))
		fail("%s for %zu bytes, the reference says %s (%s)", rname(whole), size,
		    ref == REF_MORE ? "MORE" : ref == REF_DONE ? "DONE" : "BAD",
		    why ? why : "no reason");
	free(block);
	return whole == PROXY_BAD && crc_at != 0 ? crc_at : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint32_t crc;
	size_t at, len;

	if (size > SCAN_MAX)
		size = SCAN_MAX;
	if ((at = check(data, size)) == 0)
		return 0;

	/* Contract 6: only the checksum was wrong; with it right, the header is good. */
	len = V2_HEAD + ((size_t)data[14] << 8 | data[15]);
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(copy + at, 0, 4);
	crc = ref_crc32c(copy, len);
	copy[at] = (uint8_t)(crc >> 24);
	copy[at + 1] = (uint8_t)(crc >> 16);
	copy[at + 2] = (uint8_t)(crc >> 8);
	copy[at + 3] = (uint8_t)crc;
	if (check(copy, size) != 0)
		fail("CRC32C patched, still a mismatch");
	{
		struct proxy_hdr h;
		const char *why = NULL;

		if (proxy_parse(copy, size, &h, &why) != PROXY_DONE || h.len != len)
			fail("CRC32C patched, not accepted: %s", why ? why : "?");
	}
	free(copy);
	return 0;
}
