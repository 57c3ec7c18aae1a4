/* time.c - RFC 868: the seconds since 1900-01-01 00:00 UTC as 4 big-endian bytes, then close. */
#include "config.h"

#include <stdint.h>
#include <time.h>

#include "proto/proto.h"
#include "wire.h"

static enum proto_next
time_start(struct proto_io *io)
{
	/* Modulo 2^32: the count wraps in 2036, and clients expect it to (RFC 868). */
	uint32_t t = (uint32_t)((uint64_t)time(NULL) + WIRE_TIME_EPOCH);
	unsigned char b[WIRE_TIME_LEN] = { t >> 24, t >> 16 & 0xff, t >> 8 & 0xff, t & 0xff };

	evbuffer_add(io->out, b, sizeof(b));
	return PROTO_CLOSE;
}

const struct proto proto_time = {
	.name = "time",
	.default_port = WIRE_PORT_TIME,
	.transports = PROTO_TCP,
	.start = time_start,
};
