/* time.c - RFC 868: the seconds since 1900-01-01 00:00 UTC as 4 big-endian bytes, then close. */
#include "config.h"

#include <stdint.h>
#include <time.h>

#include "proto/proto.h"
#include "wire.h"

/* Modulo 2^32: the count wraps in 2036, and clients expect it to (RFC 868). */
static void
time_now(unsigned char b[WIRE_TIME_LEN])
{
	uint32_t t = (uint32_t)((uint64_t)time(NULL) + WIRE_TIME_EPOCH);

	b[0] = (unsigned char)(t >> 24);
	b[1] = (unsigned char)(t >> 16);
	b[2] = (unsigned char)(t >> 8);
	b[3] = (unsigned char)t;
}

static enum proto_next
time_start(struct proto_io *io)
{
	unsigned char b[WIRE_TIME_LEN];

	time_now(b);
	evbuffer_add(io->out, b, sizeof(b));
	return PROTO_CLOSE;
}

/* Any datagram gets the same four bytes. */
static ssize_t
time_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep, size_t cap)
{
	(void)conf;
	(void)svc;
	(void)req;
	(void)len;
	if (cap < WIRE_TIME_LEN)
		return PROTO_NO_REPLY;
	time_now(rep);
	return WIRE_TIME_LEN;
}

const struct proto proto_time = {
	.name = "time",
	.default_port = WIRE_PORT_TIME,
	.transports = PROTO_TCP | PROTO_UDP,
	.start = time_start,
	.datagram = time_datagram,
};
