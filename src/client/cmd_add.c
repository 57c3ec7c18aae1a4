/* cmd_add.c - netlab add: two int32 to the server, its int64 sum printed in decimal. */
#include "config.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "wire.h"

static void
add_tcp(struct peer *p, const unsigned char *req, unsigned char *rep)
{
	size_t got = 0, n;

	peer_connect(p);
	peer_write_all(p, req, WIRE_ADD_REQ);
	while (got < WIRE_ADD_REP) {
		n = peer_read(p, rep + got, WIRE_ADD_REP - got);
		if (n == 0) {
			if (got == 0)
				die_run("%s closed the connection without replying", p->where);
			die_run("short reply from %s: %zu of %d bytes", p->where, got,
			    WIRE_ADD_REP);
		}
		got += n;
	}
}

/* One datagram of one request; the reply must be exactly one sum (SPEC §9). */
static void
add_udp(struct peer *p, const unsigned char *req, unsigned char *rep)
{
	unsigned char buf[WIRE_ADD_REP + 1];
	size_t n;

	n = peer_ask(p, &(struct ask){ .req = req, .len = WIRE_ADD_REQ, .rep = buf,
	    .cap = sizeof(buf) });
	if (n < WIRE_ADD_REP)
		die_run("short reply from %s: %zu of %d bytes", p->where, n, WIRE_ADD_REP);
	if (n > WIRE_ADD_REP)
		die_run("long reply from %s: %zu bytes, want %d", p->where, n, WIRE_ADD_REP);
	memcpy(rep, buf, WIRE_ADD_REP);
}

static void
add_run(struct peer *p, char **args)
{
	/* Both operands are checked before anything goes out. */
	uint32_t a = htobe32((uint32_t)parse_int32(args[0]));
	uint32_t b = htobe32((uint32_t)parse_int32(args[1]));
	unsigned char req[WIRE_ADD_REQ], rep[WIRE_ADD_REP];
	uint64_t sum;
	char line[32];
	int len;

	memcpy(req, &a, 4);
	memcpy(req + 4, &b, 4);
	if (p->udp)
		add_udp(p, req, rep);
	else
		add_tcp(p, req, rep);
	memcpy(&sum, rep, sizeof(sum));
	len = snprintf(line, sizeof(line), "%" PRId64 "\n", (int64_t)be64toh(sum));
	out_write_all(line, (size_t)len);
}

const struct cmd cmd_add = {
	.name = "add",
	.args = { "A", "B" },
	.help = "print A+B as computed by the server; A and B are decimal\n"
	    "32-bit integers and may be negative",
	.port = WIRE_PORT_ADD,
	.run = add_run,
};
