/*
 * chargen.c - RFC 864: the rotating pattern for as long as the client reads.
 * Lines of 72 printable characters and CRLF, each starting one character
 * later in the ring of the 95 printable ASCII characters; after 95 lines
 * the pattern repeats, so whole cycles of it can be sent from one buffer
 * made once per service, by reference, without a copy per write.
 */
#include "config.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "wire.h"

#define RING		95			/* ' ' through '~' */
#define LINE		(WIRE_CHARGEN_LINE + 2)
#define CYCLE		(RING * LINE)		/* 7030 bytes, then it repeats */
#define CYCLES		9			/* about 62 KiB per helping */

struct chargen_conf {
	char	 text[CYCLES * CYCLE];
};

static void *
chargen_conf_new(cfg_t *sec)
{
	struct chargen_conf *cc = malloc(sizeof(*cc));

	(void)sec;
	if (cc == NULL)
		return NULL;
	for (int c = 0; c < CYCLES; c++)
		for (int l = 0; l < RING; l++) {
			char *line = cc->text + c * CYCLE + l * LINE;

			/* RFC 864's first line starts with '!', the character after ' '. */
			for (int i = 0; i < WIRE_CHARGEN_LINE; i++)
				line[i] = (char)(' ' + (1 + l + i) % RING);
			line[WIRE_CHARGEN_LINE] = '\r';
			line[WIRE_CHARGEN_LINE + 1] = '\n';
		}
	return cc;
}

/* Whole cycles, so the next helping starts where this one ends: at line 0. */
static enum proto_next
chargen_more(struct proto_io *io)
{
	const struct chargen_conf *cc = io->conf;

	evbuffer_add_reference(io->out, cc->text, sizeof(cc->text), NULL, NULL);
	return PROTO_CONTINUE;
}

/* RFC 864: what the client sends is ignored. */
static enum proto_next
chargen_input(struct proto_io *io)
{
	evbuffer_drain(io->in, evbuffer_get_length(io->in));
	return PROTO_CONTINUE;
}

const struct proto proto_chargen = {
	.name = "chargen",
	.default_port = WIRE_PORT_CHARGEN,
	.transports = PROTO_TCP,
	.conf_new = chargen_conf_new,
	.conf_free = free,
	.start = chargen_more,
	.input = chargen_input,
	.drained = chargen_more,
};
