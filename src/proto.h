/*
 * proto.h - the interface between the daemon core and a protocol.
 *
 * A protocol is one file exporting one const struct proto, listed once in
 * proto_table[] (proto.c).  It sees its connection's buffers, its own options
 * and its own per-connection state - never sockets, listeners or signals.
 */
#ifndef NETLABD_PROTO_H
#define NETLABD_PROTO_H

#include <stddef.h>
#include <confuse.h>
#include <event2/buffer.h>

/* What a protocol handler sees of one connection, for one call. */
struct proto_io {
	struct evbuffer	*in;		/* bytes received and not yet consumed */
	struct evbuffer	*out;		/* bytes to send, in order */
	const void	*conf;		/* what conf_new returned for this service */
	void		*state;		/* state_size bytes, zeroed when the connection opens */
	char		 error[128];	/* set to make the core log why the connection ends */
};

enum proto_next {
	PROTO_CONTINUE,			/* keep the connection open */
	PROTO_CLOSE,			/* close once everything in out is sent */
};

struct proto {
	const char	*name;
	int		 default_port;
	size_t		 frame;		/* size of one request: input is called once this much is in */
	size_t		 state_size;

	/* Options of its own in a service section, CFG_END()-terminated; may be NULL. */
	cfg_opt_t	*opts;
	/* Check one of its options just parsed; 0, or -1 with a message in err. */
	int		 (*check)(cfg_t *sec, const char *opt, char *err, size_t errlen);
	void		*(*conf_new)(cfg_t *sec);	/* copy its options out of the section */
	void		 (*conf_free)(void *conf);

	enum proto_next	 (*start)(struct proto_io *io);	/* the connection was accepted */
	enum proto_next	 (*input)(struct proto_io *io);	/* more bytes in io->in */
	enum proto_next	 (*eof)(struct proto_io *io);	/* the client will send no more */
};

extern const struct proto proto_daytime, proto_hello, proto_echo, proto_add;

const struct proto *proto_find(const char *name);
const struct proto *const *proto_list(void);	/* NULL-terminated */

#endif
