/* drive.c - when a protocol's handlers are called, and what state follows. */
#include "config.h"

#include "session/drive.h"

enum conn_state
drive(enum conn_state st, enum drive_event ev, const struct proto *p, struct proto_io *io)
{
	enum proto_next next = PROTO_CONTINUE;

	if (st == CONN_CLOSING || st == CONN_LINGER) {
		/* Nothing more is asked of the protocol; what the client sends is dropped. */
		evbuffer_drain(io->in, evbuffer_get_length(io->in));
		return st;
	}
	if (st == CONN_PROXY)
		return st;
	switch (ev) {
	case DRIVE_START:
		if (p->start != NULL)
			next = p->start(io);
		break;
	case DRIVE_INPUT:
		if (st == CONN_PAUSED || evbuffer_get_length(io->in) < p->read_lowat ||
		    evbuffer_get_length(io->in) == 0)
			return st;
		if (p->input == NULL) {
			evbuffer_drain(io->in, evbuffer_get_length(io->in));
			return st;
		}
		next = p->input(io);
		break;
	case DRIVE_DRAINED:
		if (p->drained != NULL)
			next = p->drained(io);
		break;
	case DRIVE_EOF:
		if (p->eof != NULL)
			(void)p->eof(io);
		evbuffer_drain(io->in, evbuffer_get_length(io->in));
		return CONN_CLOSING;
	}
	return next == PROTO_CLOSE ? CONN_CLOSING : CONN_OPEN;
}

enum conn_state
drive_flow(enum conn_state st, size_t pending)
{
	if (st == CONN_OPEN && pending >= DRIVE_HIGH_WATER)
		return CONN_PAUSED;
	return st;
}
