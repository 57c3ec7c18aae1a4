/* discard.c - RFC 863: everything the client sends is read and thrown away, until it closes. */
#include "config.h"

#include "proto/proto.h"
#include "wire.h"

static enum proto_next
discard_input(struct proto_io *io)
{
	evbuffer_drain(io->in, evbuffer_get_length(io->in));
	return PROTO_CONTINUE;
}

const struct proto proto_discard = {
	.name = "discard",
	.default_port = WIRE_PORT_DISCARD,
	.transports = PROTO_TCP,
	.input = discard_input,
};
