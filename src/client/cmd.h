/* cmd.h - what a netlab subcommand is, and the helpers netlab.c lends every command. */
#ifndef NETLAB_CMD_H
#define NETLAB_CMD_H

#include <stddef.h>
#include <stdint.h>

#define EXIT_RUNTIME	1	/* resolve, connect, I/O, protocol, no reply */
#define EXIT_USAGE	2	/* bad command line */

#define UDP_MAX		65507	/* largest UDP payload IPv4 can carry; IPv6 is held to it too */

/* The server being talked to, and what to call it in messages. */
struct peer {
	const char	*host;		/* as the user wrote it */
	char		 port[8];	/* decimal */
	char		 where[320];	/* "HOST port P" or "HOST udp port P" */
	char		 addr[64];	/* numeric address in use */
	int		 family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	int		 udp;		/* -u */
	int		 fd;		/* -1 until connected (UDP: until a reply came) */
	int		 wait_ms;	/* -1: forever */
};

/*
 * One subcommand.  run() checks its own operands before it goes near the
 * network, so a usage error never reaches the server; it then either
 * connects (TCP) or asks (UDP) and prints.  It returns only on success.
 */
struct cmd {
	const char	*name;
	const char	*args[3];	/* operands after HOST [PORT], all required; NULL-ended */
	const char	*help;		/* for --help; lines after the first are continued */
	int		 port;		/* default port, from wire.h */
	void		(*run)(struct peer *, char **args);
};

/* cmd_table.c */
extern const struct cmd *const cmd_table[];
const struct cmd *cmd_find(const char *);

/*
 * One UDP request.  A reply equal to skip is taken for a late copy of the
 * previous request's reply (sent again because it was slow) and ignored.
 */
struct ask {
	const void	*req;
	size_t		 len;
	void		*rep;
	size_t		 cap;
	const void	*skip;		/* NULL: none */
	size_t		 skiplen;
};

/* netlab.c */
void	die(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
#define die_usage(...)	die(EXIT_USAGE, __VA_ARGS__)
#define die_run(...)	die(EXIT_RUNTIME, __VA_ARGS__)

int32_t	parse_int32(const char *);
void	peer_connect(struct peer *);
size_t	peer_read(const struct peer *, void *, size_t);
void	peer_write_all(const struct peer *, const void *, size_t);
void	peer_lost(const struct peer *, int) __attribute__((noreturn));
void	peer_timeout(const struct peer *) __attribute__((noreturn));
size_t	peer_ask(struct peer *, const struct ask *);
void	peer_fetch(struct peer *, void (*)(const char *, size_t, void *), void *);
void	out_write_all(const void *, size_t);
int	wait_fd(int, short, int);

#endif
