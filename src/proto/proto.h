/*
 * proto.h - the interface between the daemon and a protocol.
 *
 * A protocol is one file exporting one const struct proto, listed once in
 * proto_table[] (table.c).  It sees its connection's buffers, its own
 * options, its own state and the (real) peer - never sockets, listeners,
 * signals or systemd.  It is called by one rule (session/drive.c), the same
 * for the daemon, the unit tests and the fuzzers.
 */
#ifndef NETLABD_PROTO_H
#define NETLABD_PROTO_H

#include <stddef.h>
#include <sys/types.h>
#include <confuse.h>
#include <event2/buffer.h>

#include "conf/conf_opt.h"
#include "net/addr.h"

enum proto_error {
	PROTO_ERR_NONE,
	PROTO_ERR_TRUNCATED,		/* the client stopped in the middle of a request */
	PROTO_ERR_MALFORMED,		/* a request the protocol cannot take */
};

/* What a protocol handler sees of one connection, for one call. */
struct proto_io {
	struct evbuffer		*in;		/* bytes received and not yet consumed */
	struct evbuffer		*out;		/* bytes to send, in order */
	const void		*conf;		/* what conf_new made for this service */
	void			*svc;		/* what svc_new made: this service's mutable state */
	void			*state;		/* state_size bytes, zeroed when the connection opens */
	const struct peer	*peer;		/* the client (after a PROXY header: the real one) */
	enum proto_error	 errkind;	/* set with error to make the core count and log it */
	char			 error[128];
};

enum proto_next {
	PROTO_CONTINUE,			/* keep the connection open */
	PROTO_CLOSE,			/* close once everything in out is sent */
};

#define PROTO_TCP	0x1
#define PROTO_UDP	0x2

struct proto {
	const char		*name;
	int			 default_port;
	unsigned		 transports;	/* PROTO_TCP, PROTO_UDP */
	size_t			 read_lowat;	/* input is called once this much is in (0: any) */
	size_t			 state_size;

	/* Options of its own in a service section, CONF_OPT_END-terminated; may be NULL. */
	const struct conf_opt	*opts;
	void			*(*conf_new)(cfg_t *sec);	/* copy its options out; NULL: no memory */
	void			 (*conf_free)(void *conf);
	/* Mutable per-service state (a cache), made for each service's settings. */
	void			*(*svc_new)(const void *conf);
	void			 (*svc_free)(void *svc);

	enum proto_next		 (*start)(struct proto_io *io);	/* the connection is admitted */
	enum proto_next		 (*input)(struct proto_io *io);	/* more bytes in io->in */
	enum proto_next		 (*drained)(struct proto_io *io);	/* out fell to the low mark */
	enum proto_next		 (*eof)(struct proto_io *io);	/* the client will send no more */

	/*
	 * UDP: one request datagram in, at most one reply out, written to rep
	 * (cap bytes): the reply's length (0: an empty datagram), PROTO_NO_REPLY,
	 * or PROTO_MALFORMED when the request is not one (dropped and counted).
	 */
	ssize_t			 (*datagram)(const void *conf, void *svc, const void *req,
				     size_t len, void *rep, size_t cap);
};

#define PROTO_MALFORMED	(-1)
#define PROTO_NO_REPLY	(-2)

const struct proto *proto_find(const char *name);
const struct proto *const *proto_list(void);	/* NULL-terminated */

#endif
