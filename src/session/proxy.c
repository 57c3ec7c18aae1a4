/* proxy.c - PROXY protocol v1 (text) and v2 (binary) header parser, after haproxy's doc/proxy-protocol.txt. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "session/proxy.h"

/*
 * Decisions where the spec leaves room, or where we are stricter than it:
 *
 * - Bytes are checked as they arrive, so a header that cannot become valid
 *   is refused as soon as it shows (the spec asks to abort "as soon as
 *   possible"), and every decision depends only on bytes already seen:
 *   PROXY_BAD never turns into something else when more bytes come.
 * - v1: exactly one space between fields; the line ends at the first CR,
 *   which must be followed by LF; a lone CR or LF anywhere is refused, never
 *   taken as the end of the line.  Addresses are what inet_pton(3) accepts
 *   for the family named (glibc refuses leading zeros in IPv4 octets, as
 *   the spec wants); ports are 1-5 decimal digits up to 65535, "0" itself
 *   allowed, leading zeros refused (the spec forbids them, to avoid any
 *   octal confusion).  UNKNOWN may carry any bytes but CR and LF before its
 *   CRLF; they are ignored.
 * - v2: addresses are read for INET and INET6 with STREAM or DGRAM; UNIX
 *   with STREAM or DGRAM is checked (216 bytes at least) but not mapped;
 *   a PROXY command with UNSPEC family or UNSPEC transport carries nothing
 *   we can use (the spec: "ignore address information"), so its block is
 *   skipped unseen, as is everything after LOCAL, whose family byte the
 *   spec says to ignore.  Unassigned family or transport values with the
 *   PROXY command are refused.
 * - v2 TLVs after a known address block are walked: one that runs past the
 *   length, or 1-2 stray bytes that cannot be a TLV, are refused.  NOOP and
 *   every other type are skipped without a look inside.  A CRC32C TLV is
 *   verified (a sender that bothered to send one wants it checked; it costs
 *   a bitwise pass over at most 1040 bytes, and HAProxy sends it only with
 *   "proxy-v2-options crc32c"): it must be 4 bytes, appear once, and match.
 */

#define V2_HDR		16	/* signature, version/command, family, length */
#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_FAM_UNSPEC	0x0
#define V2_FAM_INET	0x1
#define V2_FAM_INET6	0x2
#define V2_FAM_UNIX	0x3
#define V2_TR_UNSPEC	0x0
#define V2_TR_STREAM	0x1
#define V2_TR_DGRAM	0x2
#define PP2_TYPE_CRC32C	0x03
#define CRC32C_POLY	0x82f63b78u	/* Castagnoli, bit-reversed (RFC 4960 appendix B) */

static const uint8_t v1sig[6] = { 'P', 'R', 'O', 'X', 'Y', ' ' };
static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Address block sizes for the v2 families we can read. */
static const size_t v2_famlen[4] = { 0, 12, 36, 216 };

static enum proxy_result
bad(const char **why, const char *reason)
{
	*why = reason;
	return PROXY_BAD;
}

static bool
is_upper_or_digit(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_v4char(uint8_t c)
{
	return is_digit(c) || c == '.';
}

/* IPv6 text, including the dotted tail of "::ffff:192.0.2.1". */
static bool
is_v6char(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	    c == ':' || c == '.';
}

/*
 * One v1 field from *pos to the space or CR after it.  Each byte is checked
 * when it is seen, so garbage is refused without waiting for the CRLF.  On
 * PROXY_DONE, *len is the field's length and *pos is at its terminator.
 */
static enum proxy_result
v1_field(const uint8_t *b, size_t n, size_t *pos, bool (*allowed)(uint8_t), size_t max,
    size_t *len, const char *reason, const char **why)
{
	size_t i;

	for (i = *pos; ; i++) {
		if (i >= PROXY_V1_MAX)
			return bad(why, "v1 line longer than 107 bytes");
		if (i >= n)
			return PROXY_MORE;
		if (b[i] == ' ' || b[i] == '\r')
			break;
		if (!allowed(b[i]) || i - *pos >= max)
			return bad(why, reason);
	}
	if (i == *pos)
		return bad(why, reason);	/* two spaces in a row, or a space before CR */
	*len = i - *pos;
	*pos = i;
	return PROXY_DONE;
}

/* The field's terminator must be the one the grammar puts there. */
static enum proxy_result
v1_sep(const uint8_t *b, size_t *pos, uint8_t want, const char **why)
{
	if (b[*pos] != want)
		return bad(why, want == ' ' ? "v1 line ends before the last field" :
		    "v1 extra field after the destination port");
	(*pos)++;
	return PROXY_DONE;
}

/* The LF after the CR at *pos. */
static enum proxy_result
v1_lf(const uint8_t *b, size_t n, size_t pos, size_t *len, const char **why)
{
	if (pos + 1 >= PROXY_V1_MAX)
		return bad(why, "v1 line longer than 107 bytes");
	if (pos + 1 >= n)
		return PROXY_MORE;
	if (b[pos + 1] != '\n')
		return bad(why, "v1 CR without LF");
	*len = pos + 2;
	return PROXY_DONE;
}

static enum proxy_result
v1_addr(const uint8_t *b, size_t n, size_t *pos, int family, void *dst, const char *reason,
    const char **why)
{
	char text[INET6_ADDRSTRLEN];
	enum proxy_result r;
	size_t len;

	r = v1_field(b, n, pos, family == AF_INET ? is_v4char : is_v6char,
	    family == AF_INET ? INET_ADDRSTRLEN - 1 : INET6_ADDRSTRLEN - 1, &len, reason, why);
	if (r != PROXY_DONE)
		return r;
	memcpy(text, b + *pos - len, len);
	text[len] = '\0';
	if (inet_pton(family, text, dst) != 1)
		return bad(why, reason);
	return PROXY_DONE;
}

/* A port: decimal, no sign, no leading zero, at most 65535. */
static enum proxy_result
v1_port(const uint8_t *b, size_t n, size_t *pos, in_port_t *port, const char *reason,
    const char **why)
{
	enum proxy_result r;
	unsigned long v = 0;
	size_t len, i;

	if ((r = v1_field(b, n, pos, is_digit, 5, &len, reason, why)) != PROXY_DONE)
		return r;
	if (len > 1 && b[*pos - len] == '0')
		return bad(why, reason);
	for (i = *pos - len; i < *pos; i++)
		v = v * 10 + (unsigned long)(b[i] - '0');
	if (v > 65535)
		return bad(why, reason);
	*port = htons((in_port_t)v);
	return PROXY_DONE;
}

/* "PROXY UNKNOWN" then anything but CR or LF, then CRLF. */
static enum proxy_result
v1_unknown(const uint8_t *b, size_t n, size_t pos, size_t *len, const char **why)
{
	for (; ; pos++) {
		if (pos >= PROXY_V1_MAX)
			return bad(why, "v1 line longer than 107 bytes");
		if (pos >= n)
			return PROXY_MORE;
		if (b[pos] == '\r')
			return v1_lf(b, n, pos, len, why);
		if (b[pos] == '\n')
			return bad(why, "v1 LF without CR");
	}
}

static enum proxy_result
v1_parse(const uint8_t *b, size_t n, struct proxy_hdr *h, const char **why)
{
	static const char *addr_why[2] = { "v1 bad source address", "v1 bad destination address" };
	static const char *port_why[2] = { "v1 bad source port", "v1 bad destination port" };
	struct sockaddr_storage *ss[2] = { &h->src, &h->dst };
	size_t pos = sizeof(v1sig), len;
	enum proxy_result r;
	int family, i;

	h->version = 1;
	r = v1_field(b, n, &pos, is_upper_or_digit, 7, &len, "v1 bad protocol", why);
	if (r != PROXY_DONE)
		return r;
	if (len == 7 && memcmp(b + pos - len, "UNKNOWN", 7) == 0) {
		h->local = true;
		return v1_unknown(b, n, pos, &h->len, why);
	}
	if (len == 4 && memcmp(b + pos - len, "TCP4", 4) == 0)
		family = AF_INET;
	else if (len == 4 && memcmp(b + pos - len, "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return bad(why, "v1 bad protocol");

	/* SP src SP dst SP sport SP dport CRLF, straight into *h: the caller copies it only when done. */
	for (i = 0; i < 2; i++) {
		void *addr = family == AF_INET ? (void *)&((struct sockaddr_in *)ss[i])->sin_addr :
		    (void *)&((struct sockaddr_in6 *)ss[i])->sin6_addr;

		if ((r = v1_sep(b, &pos, ' ', why)) != PROXY_DONE ||
		    (r = v1_addr(b, n, &pos, family, addr, addr_why[i], why)) != PROXY_DONE)
			return r;
		ss[i]->ss_family = (sa_family_t)family;
	}
	for (i = 0; i < 2; i++) {
		in_port_t *port = family == AF_INET ? &((struct sockaddr_in *)ss[i])->sin_port :
		    &((struct sockaddr_in6 *)ss[i])->sin6_port;

		if ((r = v1_sep(b, &pos, ' ', why)) != PROXY_DONE ||
		    (r = v1_port(b, n, &pos, port, port_why[i], why)) != PROXY_DONE)
			return r;
	}
	if ((r = v1_sep(b, &pos, '\r', why)) != PROXY_DONE)
		return r;
	return v1_lf(b, n, pos - 1, &h->len, why);
}

static uint32_t
crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? CRC32C_POLY : 0);
	}
	return crc;
}

/* The header's CRC32C, computed with the 4 checksum bytes at b + at taken as zeros. */
static uint32_t
crc32c_header(const uint8_t *b, size_t len, size_t at)
{
	static const uint8_t zero[4];
	uint32_t crc = 0xffffffffu;

	crc = crc32c_update(crc, b, at);
	crc = crc32c_update(crc, zero, sizeof(zero));
	crc = crc32c_update(crc, b + at + 4, len - at - 4);
	return ~crc;
}

/* Walk the TLVs in b[off, end): each must fit; a CRC32C one must hold. */
static enum proxy_result
v2_tlvs(const uint8_t *b, size_t off, size_t end, const char **why)
{
	size_t tlen, crc_at = 0;
	uint32_t want;

	while (off < end) {
		if (end - off < 3)
			return bad(why, "v2 TLV truncated");
		tlen = (size_t)b[off + 1] << 8 | b[off + 2];
		if (tlen > end - off - 3)
			return bad(why, "v2 TLV runs past the header");
		if (b[off] == PP2_TYPE_CRC32C) {
			if (tlen != 4)
				return bad(why, "v2 CRC32C TLV not 4 bytes");
			if (crc_at != 0)
				return bad(why, "v2 CRC32C TLV twice");
			crc_at = off + 3;
		}
		off += 3 + tlen;
	}
	if (crc_at != 0) {
		want = (uint32_t)b[crc_at] << 24 | (uint32_t)b[crc_at + 1] << 16 |
		    (uint32_t)b[crc_at + 2] << 8 | b[crc_at + 3];
		if (crc32c_header(b, end, crc_at) != want)
			return bad(why, "v2 CRC32C mismatch");
	}
	return PROXY_DONE;
}

/* Called with the 12-byte signature (or as much of it as arrived) matched. */
static enum proxy_result
v2_parse(const uint8_t *b, size_t n, struct proxy_hdr *h, const char **why)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&h->src, *d4 = (struct sockaddr_in *)&h->dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&h->src, *d6 = (struct sockaddr_in6 *)&h->dst;
	unsigned cmd, fam, tr;
	size_t len, need = 0;
	bool addresses;
	enum proxy_result r;

	h->version = 2;
	if (n < sizeof(v2sig) + 1)
		return PROXY_MORE;
	if (b[12] >> 4 != 2)
		return bad(why, "v2 bad version");
	if ((cmd = b[12] & 0xf) > V2_CMD_PROXY)
		return bad(why, "v2 bad command");
	if (n < sizeof(v2sig) + 2)
		return PROXY_MORE;
	fam = b[13] >> 4;
	tr = b[13] & 0xf;
	if (cmd == V2_CMD_PROXY && fam > V2_FAM_UNIX)
		return bad(why, "v2 bad address family");
	if (cmd == V2_CMD_PROXY && tr > V2_TR_DGRAM)
		return bad(why, "v2 bad transport protocol");
	if (n < V2_HDR)
		return PROXY_MORE;
	len = (size_t)b[14] << 8 | b[15];
	if (len > PROXY_V2_MAX)
		return bad(why, "v2 length over 1024 bytes");
	addresses = cmd == V2_CMD_PROXY && fam != V2_FAM_UNSPEC && tr != V2_TR_UNSPEC;
	if (addresses && len < (need = v2_famlen[fam]))
		return bad(why, "v2 length too short for the address family");
	if (n < V2_HDR + len)
		return PROXY_MORE;
	if (addresses && (r = v2_tlvs(b, V2_HDR + need, V2_HDR + len, why)) != PROXY_DONE)
		return r;

	h->len = V2_HDR + len;
	if (addresses && fam == V2_FAM_INET) {
		/* Network byte order on the wire and in sockaddr: copy as is. */
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b + 16, 4);
		memcpy(&d4->sin_addr, b + 20, 4);
		memcpy(&s4->sin_port, b + 24, 2);
		memcpy(&d4->sin_port, b + 26, 2);
	} else if (addresses && fam == V2_FAM_INET6) {
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b + 16, 16);
		memcpy(&d6->sin6_addr, b + 32, 16);
		memcpy(&s6->sin6_port, b + 48, 2);
		memcpy(&d6->sin6_port, b + 50, 2);
	} else {
		h->local = true;
	}
	return PROXY_DONE;
}

enum proxy_result
proxy_parse(const void *buf, size_t n, struct proxy_hdr *h, const char **why)
{
	const uint8_t *b = buf;
	const char *reason = "bad signature";
	struct proxy_hdr out;
	enum proxy_result r;

	/* Built aside, so that *h is untouched unless the header is complete and good. */
	memset(&out, 0, sizeof(out));
	if (n == 0)
		r = PROXY_MORE;
	else if (memcmp(b, v1sig, n < sizeof(v1sig) ? n : sizeof(v1sig)) == 0)
		r = n < sizeof(v1sig) ? PROXY_MORE : v1_parse(b, n, &out, &reason);
	else if (memcmp(b, v2sig, n < sizeof(v2sig) ? n : sizeof(v2sig)) == 0)
		r = n < sizeof(v2sig) ? PROXY_MORE : v2_parse(b, n, &out, &reason);
	else
		r = PROXY_BAD;

	if (r == PROXY_DONE) {
		if (out.local) {
			memset(&out.src, 0, sizeof(out.src));
			memset(&out.dst, 0, sizeof(out.dst));
		}
		*h = out;
	} else if (r == PROXY_BAD && why != NULL) {
		*why = reason;
	}
	return r;
}
