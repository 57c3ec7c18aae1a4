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

/* Over UDP: received, never answered. */
static ssize_t
discard_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep,
    size_t cap)
{
	(void)conf;
	(void)svc;
	(void)req;
	(void)len;
	(void)rep;
	(void)cap;
	return PROTO_NO_REPLY;
}

const struct proto proto_discard = {
	.name = "discard",
	.default_port = WIRE_PORT_DISCARD,
	.transports = PROTO_TCP | PROTO_UDP,
	.input = discard_input,
	.datagram = discard_datagram,
};
