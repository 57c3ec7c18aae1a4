/* cmd_time.c - netlab time: the RFC 868 seconds since 1900, printed as an ISO 8601 UTC date. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "wire.h"

#define ERA		(INT64_C(1) << 32)	/* seconds in one wrap of the counter */

/*
 * The counter wraps on 2036-02-07T06:28:16Z.  As SNTP does (RFC 4330 §3),
 * a value with the top bit set is taken to be before the wrap and one
 * without it after, so 1968-01-20T03:14:08Z to 2104-02-26T09:42:23Z print
 * right, whatever the local clock says.
 */
static int64_t
time_unix(uint32_t v)
{
	return (int64_t)v + ((v & UINT32_C(0x80000000)) ? 0 : ERA) - (int64_t)WIRE_TIME_EPOCH;
}

/*
 * Civil date from days since 1970-01-01 in the proleptic Gregorian
 * calendar (H. Hinnant's days_from_civil inverse): no time_t, so the dates
 * past 2038 print right where time_t has 32 bits.
 */
static void
time_civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;				/* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;			/* March = 0 */

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
time_print(const unsigned char *b)
{
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	int64_t t = time_unix(v), days = t / 86400, secs = t % 86400, y;
	char line[64];
	int m, d, len;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	time_civil(days, &y, &m, &d);
	len = snprintf(line, sizeof(line), "%04lld-%02d-%02dT%02d:%02d:%02dZ\n",
	    (long long)y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	out_write_all(line, (size_t)len);
}

/* Exactly 4 bytes, then the server closes; a fifth byte is not RFC 868. */
static void
time_tcp(struct peer *p, unsigned char *b)
{
	size_t got = 0, n;

	peer_connect(p);
	while (got < WIRE_TIME_LEN + 1 && (n = peer_read(p, b + got, WIRE_TIME_LEN + 1 - got)) > 0)
		got += n;
	if (got == 0)
		die_run("%s closed the connection without sending anything", p->where);
	if (got < WIRE_TIME_LEN)
		die_run("short reply from %s: %zu of %d bytes", p->where, got, WIRE_TIME_LEN);
	if (got > WIRE_TIME_LEN)
		die_run("long reply from %s: more than %d bytes (not an RFC 868 time server?)",
		    p->where, WIRE_TIME_LEN);
}

/* RFC 868 asks for an empty datagram; the reply is the same 4 bytes. */
static void
time_udp(struct peer *p, unsigned char *b)
{
	size_t n;

	n = peer_ask(p, &(struct ask){ .rep = b, .cap = WIRE_TIME_LEN + 1 });
	if (n < WIRE_TIME_LEN)
		die_run("short reply from %s: %zu of %d bytes", p->where, n, WIRE_TIME_LEN);
	if (n > WIRE_TIME_LEN)
		die_run("long reply from %s: %zu bytes, want %d (not an RFC 868 time server?)",
		    p->where, n, WIRE_TIME_LEN);
}

static void
time_run(struct peer *p, char **args)
{
	unsigned char b[WIRE_TIME_LEN + 1];

	(void)args;
	if (p->udp)
		time_udp(p, b);
	else
		time_tcp(p, b);
	time_print(b);
}

const struct cmd cmd_time = {
	.name = "time",
	.help = "print the server's RFC 868 time as an ISO 8601 date in UTC,\n"
	    "such as 2026-12-01T22:23:13Z",
	.port = WIRE_PORT_TIME,
	.run = time_run,
};
