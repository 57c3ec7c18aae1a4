/*
 * echo.c - line echo: each complete line goes back unchanged, in order.
 * A line longer than max-line is sent back in pieces as it arrives, so a
 * connection never holds more than max-line bytes of an unfinished line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "proto/proto.h"
#include "wire.h"

#define ECHO_MAX_LINE	(1024 * 1024)

struct echo_conf {
	size_t	 max_line;
};

struct echo_state {
	size_t	 scanned;		/* leading bytes of in known to hold no newline */
};

static const struct conf_opt echo_opts[] = {
	{ .cfg = CFG_INT("max-line", 8192, CFGF_NONE), .min = 1, .max = ECHO_MAX_LINE },
	CONF_OPT_END
};

static void *
echo_conf_new(cfg_t *sec)
{
	struct echo_conf *ec = malloc(sizeof(*ec));

	if (ec != NULL)
		ec->max_line = (size_t)cfg_getint(sec, "max-line");
	return ec;
}

/* Offset just past the last newline in buf at or after skip, or 0 if none. */
static size_t
echo_last_newline(struct evbuffer *buf, size_t skip)
{
	size_t total = evbuffer_get_length(buf), base = skip, last = 0;
	struct evbuffer_iovec vec[16];
	struct evbuffer_ptr pos;

	/* Walk the chains 16 at a time: evbuffer_peek fills no more than asked. */
	while (base < total && evbuffer_ptr_set(buf, &pos, base, EVBUFFER_PTR_SET) == 0) {
		int n = evbuffer_peek(buf, -1, &pos, vec, 16);
		size_t got = 0;

		for (int i = 0; i < n && i < 16; i++) {
			const char *nl = memrchr(vec[i].iov_base, '\n', vec[i].iov_len);

			if (nl != NULL)
				last = base + got + (size_t)(nl - (const char *)vec[i].iov_base) + 1;
			got += vec[i].iov_len;
		}
		if (got == 0)
			break;
		base += got;
	}
	return last;
}

static enum proto_next
echo_input(struct proto_io *io)
{
	const struct echo_conf *ec = io->conf;
	struct echo_state *st = io->state;
	size_t len = evbuffer_get_length(io->in), upto;

	upto = echo_last_newline(io->in, st->scanned);
	if (len - upto >= ec->max_line)
		upto = len;		/* an over-long line: send what we have */
	if (upto > 0)
		evbuffer_remove_buffer(io->in, io->out, upto);
	st->scanned = len - upto;
	return PROTO_CONTINUE;
}

/* The client half-closed: an unterminated tail goes back too, then we close. */
static enum proto_next
echo_eof(struct proto_io *io)
{
	evbuffer_add_buffer(io->out, io->in);
	return PROTO_CLOSE;
}

/* RFC 862 over UDP: the whole datagram back, not line by line. */
static ssize_t
echo_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep, size_t cap)
{
	(void)conf;
	(void)svc;
	if (len > cap)
		return PROTO_NO_REPLY;
	memcpy(rep, req, len);
	return (ssize_t)len;
}

const struct proto proto_echo = {
	.name = "echo",
	.default_port = WIRE_PORT_ECHO,
	.transports = PROTO_TCP | PROTO_UDP,
	.state_size = sizeof(struct echo_state),
	.opts = echo_opts,
	.conf_new = echo_conf_new,
	.conf_free = free,
	.input = echo_input,
	.eof = echo_eof,
	.datagram = echo_datagram,
};
