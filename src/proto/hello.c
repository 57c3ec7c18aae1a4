/* hello.c - the greeter: the configured message and a newline, then close. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "wire.h"

struct hello_conf {
	size_t	 len;
	char	 line[];		/* message + "\n" */
};

static int hello_check(const char *, const char *, char *, size_t);

static const struct conf_opt hello_opts[] = {
	{ .cfg = CFG_STR("message", "HELLO", CFGF_NONE), .check = hello_check },
	CONF_OPT_END
};

static int
hello_check(const char *opt, const char *msg, char *err, size_t errlen)
{
	if (strpbrk(msg, "\r\n") != NULL || strlen(msg) > WIRE_HELLO_MAX) {
		snprintf(err, errlen, "%s must be one line of at most %d bytes", opt,
		    WIRE_HELLO_MAX);
		return -1;
	}
	return 0;
}

static void *
hello_conf_new(cfg_t *sec)
{
	const char *msg = cfg_getstr(sec, "message");
	size_t len = strlen(msg);
	struct hello_conf *hc = malloc(sizeof(*hc) + len + 1);

	if (hc == NULL)
		return NULL;
	memcpy(hc->line, msg, len);
	hc->line[len] = '\n';
	hc->len = len + 1;
	return hc;
}

static enum proto_next
hello_start(struct proto_io *io)
{
	const struct hello_conf *hc = io->conf;

	evbuffer_add(io->out, hc->line, hc->len);
	return PROTO_CLOSE;
}

static ssize_t
hello_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep, size_t cap)
{
	const struct hello_conf *hc = conf;

	(void)svc;
	(void)req;
	(void)len;
	if (hc->len > cap)
		return PROTO_NO_REPLY;
	memcpy(rep, hc->line, hc->len);
	return (ssize_t)hc->len;
}

const struct proto proto_hello = {
	.name = "hello",
	.default_port = WIRE_PORT_HELLO,
	.transports = PROTO_TCP | PROTO_UDP,
	.opts = hello_opts,
	.conf_new = hello_conf_new,
	.conf_free = free,
	.start = hello_start,
	.datagram = hello_datagram,
};
