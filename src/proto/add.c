/*
 * add.c - binary addition: two big-endian int32 in, their sum as one
 * big-endian int64 out, for every complete 8-byte request, in order.
 */
#include "config.h"

#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"
#include "wire.h"

#define ADD_REQ		WIRE_ADD_REQ
#define ADD_BATCH	512		/* requests decoded per pass */

/* The 8-byte reply to each 8-byte request of req[0 .. n * ADD_REQ). */
static void
add_sums(const unsigned char *req, size_t n, uint64_t *rep)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t a, b;

		memcpy(&a, req + i * ADD_REQ, 4);
		memcpy(&b, req + i * ADD_REQ + 4, 4);
		int64_t sum = (int64_t)(int32_t)be32toh(a) + (int64_t)(int32_t)be32toh(b);
		rep[i] = htobe64((uint64_t)sum);
	}
}

static enum proto_next
add_input(struct proto_io *io)
{
	unsigned char req[ADD_REQ * ADD_BATCH];
	uint64_t rep[ADD_BATCH];
	size_t len;

	while ((len = evbuffer_get_length(io->in)) >= ADD_REQ) {
		size_t n = len / ADD_REQ;

		if (n > ADD_BATCH)
			n = ADD_BATCH;
		evbuffer_remove(io->in, req, n * ADD_REQ);
		add_sums(req, n, rep);
		evbuffer_add(io->out, rep, n * sizeof(rep[0]));
	}
	return PROTO_CONTINUE;
}

/* Over UDP a datagram of 8 k bytes holds k requests; any other length is malformed. */
static ssize_t
add_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep, size_t cap)
{
	uint64_t sums[ADD_BATCH];
	size_t done = 0;

	(void)conf;
	(void)svc;
	if (len == 0 || len % ADD_REQ != 0 || len > cap)
		return PROTO_MALFORMED;
	while (done < len / ADD_REQ) {
		size_t n = len / ADD_REQ - done;

		if (n > ADD_BATCH)
			n = ADD_BATCH;
		add_sums((const unsigned char *)req + done * ADD_REQ, n, sums);
		memcpy((unsigned char *)rep + done * ADD_REQ, sums, n * sizeof(sums[0]));
		done += n;
	}
	return (ssize_t)len;
}

static enum proto_next
add_eof(struct proto_io *io)
{
	size_t left = evbuffer_get_length(io->in);

	if (left > 0) {
		io->errkind = PROTO_ERR_TRUNCATED;
		snprintf(io->error, sizeof(io->error),
		    "truncated request: %zu of %d bytes", left, ADD_REQ);
	}
	return PROTO_CLOSE;
}

const struct proto proto_add = {
	.name = "add",
	.default_port = WIRE_PORT_ADD,
	.transports = PROTO_TCP | PROTO_UDP,
	.read_lowat = ADD_REQ,
	.input = add_input,
	.eof = add_eof,
	.datagram = add_datagram,
};
