/* proto_hello.c - the greeter: the configured message and a newline, then close. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define HELLO_MAX	1024

struct hello_conf {
	size_t	 len;
	char	 line[];		/* message + "\n" */
};

static cfg_opt_t hello_opts[] = {
	CFG_STR("message", "HELLO", CFGF_NONE),
	CFG_END()
};

static int
hello_check(cfg_t *sec, const char *opt, char *err, size_t errlen)
{
	const char *msg;

	if (strcmp(opt, "message") != 0)
		return 0;
	msg = cfg_getstr(sec, "message");
	if (msg == NULL || strpbrk(msg, "\r\n") != NULL || strlen(msg) > HELLO_MAX) {
		snprintf(err, errlen, "message must be one line of at most %d bytes", HELLO_MAX);
		return -1;
	}
	return 0;
}

static void *
hello_conf_new(cfg_t *sec)
{
	const char *msg = cfg_getstr(sec, "message");
	size_t len = strlen(msg);
	struct hello_conf *hc;

	hc = malloc(sizeof(*hc) + len + 1);
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

	evbuffer_add_reference(io->out, hc->line, hc->len, NULL, NULL);
	return PROTO_CLOSE;
}

static enum proto_next
hello_input(struct proto_io *io)
{
	evbuffer_drain(io->in, evbuffer_get_length(io->in));
	return PROTO_CLOSE;
}

const struct proto proto_hello = {
	.name = "hello",
	.default_port = 12345,
	.opts = hello_opts,
	.check = hello_check,
	.conf_new = hello_conf_new,
	.conf_free = free,
	.start = hello_start,
	.input = hello_input,
	.eof = hello_input,
};
