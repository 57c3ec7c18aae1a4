/*
 * drive.h - the one rule by which a TCP connection calls its protocol, and
 * the connection's state.  Pure: buffers in, the next state out, no I/O.
 * session/conn.c does the I/O the state asks for; the unit tests and the
 * fuzzers call the same functions with buffers of their own.
 */
#ifndef NETLABD_SESSION_DRIVE_H
#define NETLABD_SESSION_DRIVE_H

#include <stddef.h>

#include "proto/proto.h"

/* Stop reading from a client while this much output is unsent; resume at the low mark. */
#define DRIVE_HIGH_WATER	(64 * 1024)
#define DRIVE_LOW_WATER		(16 * 1024)

enum conn_state {
	CONN_PROXY,		/* waiting for a PROXY header: not admitted, the protocol not started */
	CONN_OPEN,		/* reading requests, writing replies */
	CONN_PAUSED,		/* output at the high-water mark: not reading until it drains */
	CONN_CLOSING,		/* the protocol is done: sending what is left, then closing */
	CONN_LINGER,		/* all sent, our side shut: reading the client's last bytes until EOF */
};

enum drive_event {
	DRIVE_START,		/* admitted: the protocol may speak first */
	DRIVE_INPUT,		/* io->in holds new bytes */
	DRIVE_DRAINED,		/* io->out fell to the low-water mark */
	DRIVE_EOF,		/* the client half-closed */
};

/*
 * Feed one event to the protocol in state st and return the next state
 * (CONN_OPEN or CONN_CLOSING).  io->in and io->out are the connection's
 * buffers for this call.  Input is given only once it reaches the
 * protocol's read low-watermark, never while paused, and is thrown away
 * once the protocol is done; EOF always ends in CLOSING.
 */
enum conn_state drive(enum conn_state st, enum drive_event ev, const struct proto *p,
	    struct proto_io *io);

/*
 * Back-pressure, once the connection has sent what it could: an open
 * connection with pending unsent bytes at the high-water mark pauses.  A
 * paused one is resumed by DRIVE_DRAINED when pending falls to the low mark.
 */
enum conn_state drive_flow(enum conn_state st, size_t pending);

#endif
