/* netlab.c - the command-line client: daytime, hello, echo and add, as in SPEC §8. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME	1	/* resolve, connect, I/O, protocol */
#define EXIT_USAGE	2	/* bad command line */

#define DEFAULT_WAIT	10	/* seconds */
#define MAX_WAIT	86400
#define ECHO_BUF	65536
#define ADD_REQ		8
#define ADD_REP		8

enum cmd_kind { CMD_DAYTIME, CMD_HELLO, CMD_ECHO, CMD_ADD };

struct cmd {
	const char	*name;
	enum cmd_kind	 kind;
	const char	*port;		/* default port */
	const char	*args;		/* for messages */
};

static const struct cmd cmds[] = {
	{ "daytime", CMD_DAYTIME, "13", "HOST [PORT]" },
	{ "hello", CMD_HELLO, "12345", "HOST [PORT]" },
	{ "echo", CMD_ECHO, "55556", "HOST [PORT]" },
	{ "add", CMD_ADD, "54321", "HOST [PORT] A B" },
};

/* One connection to the server, and what to call it in messages. */
struct peer {
	const char	*host;		/* as the user wrote it */
	char		 port[8];	/* decimal */
	char		 addr[64];	/* numeric address connected to */
	int		 fd;
	int		 wait_ms;	/* -1: forever */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: netlab daytime [-4|-6] [-w SECONDS] HOST [PORT]\n"
	    "       netlab hello   [-4|-6] [-w SECONDS] HOST [PORT]\n"
	    "       netlab echo    [-4|-6] [-w SECONDS] HOST [PORT]\n"
	    "       netlab add     [-4|-6] [-w SECONDS] HOST [PORT] A B\n"
	    "       netlab -h | --help\n"
	    "       netlab -V | --version\n"
	    "\n"
	    "Talk to a netlabd server (or any daytime/echo/add server).\n"
	    "  daytime   print the server's time line (its CRLF ending printed as \"\\n\")\n"
	    "  hello     print the server's greeting as sent\n"
	    "  echo      send stdin to the server and print its replies until stdin ends,\n"
	    "            then half-close and print the rest; binary-safe\n"
	    "  add       print A+B as computed by the server; A and B are decimal\n"
	    "            32-bit integers and may be negative\n"
	    "\n"
	    "HOST is a name, an IPv4 or an IPv6 literal; every address a name resolves\n"
	    "to is tried in turn.  PORT is 1-65535 or a service name; the defaults are\n"
	    "daytime 13, hello 12345, echo 55556, add 54321.  Options go before HOST.\n"
	    "  -4            use IPv4 addresses only\n"
	    "  -6            use IPv6 addresses only\n"
	    "  -w SECONDS    give up connecting to an address, or waiting for the\n"
	    "                server, after SECONDS (default %d; 0 = wait forever)\n"
	    "  -h, --help    this help\n"
	    "  -V, --version print the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when the lookup, the connection or the\n"
	    "server fails, 2 on a bad command line; the reason is one line on stderr.\n",
	    DEFAULT_WAIT);
}

static void __attribute__((format(printf, 2, 3), noreturn))
die(int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "netlab: %s\n", msg);
	exit(status);
}

#define die_usage(...)	die(EXIT_USAGE, __VA_ARGS__)
#define die_run(...)	die(EXIT_RUNTIME, __VA_ARGS__)

/* Strict decimal: optional '-', then digits only, within [min, max]. */
static int
parse_decimal(const char *s, long long min, long long max, long long *out)
{
	const char *p = s;
	long long v;
	char *end;

	if (*p == '-')
		p++;
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int32_t
parse_operand(const char *s)
{
	long long v;

	if (parse_decimal(s, INT32_MIN, INT32_MAX, &v) < 0)
		die_usage("bad number '%s': want a decimal 32-bit integer"
		    " (-2147483648 to 2147483647)", s);
	return (int32_t)v;
}

static void
parse_port(const char *s, char *out, size_t outlen)
{
	struct servent *se;
	long long v;

	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		if (parse_decimal(s, 1, 65535, &v) < 0)
			die_usage("bad port '%s': want a number from 1 to 65535", s);
		snprintf(out, outlen, "%lld", v);
		return;
	}
	if (*s == '\0' || *s == '-' || (se = getservbyname(s, "tcp")) == NULL)
		die_usage("bad port '%s': want a number from 1 to 65535 or a TCP service name", s);
	snprintf(out, outlen, "%d", ntohs((uint16_t)se->s_port));
}

static int
parse_wait(const char *s)
{
	long long v;

	if (*s == '-' || parse_decimal(s, 0, MAX_WAIT, &v) < 0)
		die_usage("bad wait '%s': want seconds from 0 to %d", s, MAX_WAIT);
	return v == 0 ? -1 : (int)(v * 1000);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on one fd for up to ms (-1: forever); 0 on timeout. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t deadline = ms < 0 ? 0 : now_ms() + ms;
	int n, left = ms;

	for (;;) {
		n = poll(&pfd, 1, left);
		if (n >= 0 || errno != EINTR)
			return n;
		if (ms >= 0 && (left = (int)(deadline - now_ms())) < 0)
			left = 0;
	}
}

/* Connect one address, non-blocking, within wait_ms; 0 or an errno. */
static int
connect_one(const struct addrinfo *ai, int wait_ms, int *fdp)
{
	socklen_t len;
	int fd, err, n;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS && errno != EINTR) {
		err = errno;
		close(fd);
		return err;
	}
	n = wait_fd(fd, POLLOUT, wait_ms);
	if (n <= 0) {
		err = n == 0 ? ETIMEDOUT : errno;
		close(fd);
		return err;
	}
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		close(fd);
		return err;
	}
done:
	*fdp = fd;
	return 0;
}

static void
numeric_addr(const struct addrinfo *ai, char *buf, size_t len)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)len, NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(buf, len, "?");
}

static const char *
family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

static void
resolve(const char *host, const char *port, int family, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICSERV,	/* no AI_ADDRCONFIG: ::1 works without global v6 */
	}, *any;
	int err;

	err = getaddrinfo(host, port, &hints, res);
	if (err == 0)
		return;
	if (err == EAI_SYSTEM)
		die_run("cannot resolve '%s': %s", host, strerror(errno));
	if (err != EAI_NONAME && err != EAI_NODATA && err != EAI_ADDRFAMILY &&
	    err != EAI_FAMILY)
		die_run("cannot resolve '%s': %s", host, gai_strerror(err));
	if (family != AF_UNSPEC) {
		/* Say "no IPv4 address" rather than "unknown" for a host that has others. */
		hints.ai_family = AF_UNSPEC;
		if (getaddrinfo(host, port, &hints, &any) == 0) {
			freeaddrinfo(any);
			die_run("host '%s' has no %s address", host, family_name(family));
		}
	}
	die_run("unknown host '%s'", host);
}

/* True when an earlier entry of list has the same address as ai. */
static int
addr_seen(const struct addrinfo *list, const struct addrinfo *ai)
{
	for (const struct addrinfo *x = list; x != ai; x = x->ai_next)
		if (x->ai_family == ai->ai_family && x->ai_addrlen == ai->ai_addrlen &&
		    memcmp(x->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return 1;
	return 0;
}

/* Every address in turn; the first that connects wins. */
static void
peer_connect(struct peer *p, int family)
{
	struct addrinfo *res, *ai;
	char tried[768] = "", addr[sizeof(p->addr)];
	size_t used = 0;
	int n = 0, err = 0, numeric;

	resolve(p->host, p->port, family, &res);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/* /etc/hosts with "multi on" can list one address twice: try it once. */
		if (addr_seen(res, ai))
			continue;
		numeric_addr(ai, addr, sizeof(addr));
		err = connect_one(ai, p->wait_ms, &p->fd);
		if (err == 0) {
			snprintf(p->addr, sizeof(p->addr), "%s", addr);
			freeaddrinfo(res);
			return;
		}
		if (used < sizeof(tried)) {
			int w = snprintf(tried + used, sizeof(tried) - used, "%s%s: %s",
			    n > 0 ? ", " : "", addr, strerror(err));
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	numeric = n == 1 && strcmp(addr, p->host) == 0;
	freeaddrinfo(res);
	if (numeric)
		die_run("cannot connect to %s port %s: %s", p->host, p->port, strerror(err));
	die_run("cannot connect to %s port %s: %s", p->host, p->port, tried);
}

static void __attribute__((noreturn))
peer_lost(const struct peer *p, int err)
{
	die_run("connection to %s port %s lost: %s", p->host, p->port, strerror(err));
}

static void __attribute__((noreturn))
peer_timeout(const struct peer *p)
{
	die_run("timed out waiting for %s port %s", p->host, p->port);
}

/* Read some bytes within the wait; returns the count, 0 at EOF. */
static size_t
peer_read(const struct peer *p, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		n = recv(p->fd, buf, len, 0);
		if (n >= 0)
			return (size_t)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			peer_lost(p, errno);
		n = wait_fd(p->fd, POLLIN, p->wait_ms);
		if (n == 0)
			peer_timeout(p);
		if (n < 0)
			peer_lost(p, errno);
	}
}

static void
peer_write_all(const struct peer *p, const void *buf, size_t len)
{
	const char *b = buf;
	ssize_t n;

	while (len > 0) {
		n = send(p->fd, b, len, MSG_NOSIGNAL);
		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			peer_lost(p, errno);
		n = wait_fd(p->fd, POLLOUT, p->wait_ms);
		if (n == 0)
			peer_timeout(p);
		if (n < 0)
			peer_lost(p, errno);
	}
}

/* Write to stdout, whole; a failure (a closed pipe, a full disk) is fatal. */
static void
out_write_all(const void *buf, size_t len)
{
	const char *b = buf;
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			wait_fd(STDOUT_FILENO, POLLOUT, -1);
			continue;
		}
		if (n <= 0)
			die_run("cannot write to standard output: %s",
			    n < 0 ? strerror(errno) : "nothing written");
		b += n;
		len -= (size_t)n;
	}
}

/*
 * daytime and hello: everything until EOF.  For daytime a CR right before a
 * LF is dropped, so the RFC 867 line prints as one clean Unix line.
 */
static void
cmd_read_all(const struct peer *p, int crlf)
{
	char in[8192], out[sizeof(in) + 1];
	size_t n, o, total = 0;
	int cr = 0;		/* a CR held back from the previous read */

	while ((n = peer_read(p, in, sizeof(in))) > 0) {
		total += n;
		if (!crlf) {
			out_write_all(in, n);
			continue;
		}
		o = 0;
		for (size_t i = 0; i < n; i++) {
			if (cr && in[i] != '\n')
				out[o++] = '\r';
			cr = in[i] == '\r';
			if (!cr)
				out[o++] = in[i];
		}
		out_write_all(out, o);
	}
	if (cr)
		out_write_all("\r", 1);
	if (total == 0)
		die_run("%s port %s closed the connection without sending anything",
		    p->host, p->port);
}

static void
cmd_add(const struct peer *p, int32_t a, int32_t b)
{
	unsigned char req[ADD_REQ], rep[ADD_REP];
	uint32_t ua = htobe32((uint32_t)a), ub = htobe32((uint32_t)b);
	uint64_t sum;
	size_t got = 0, n;
	char line[32];
	int len;

	memcpy(req, &ua, 4);
	memcpy(req + 4, &ub, 4);
	peer_write_all(p, req, sizeof(req));
	while (got < sizeof(rep)) {
		n = peer_read(p, rep + got, sizeof(rep) - got);
		if (n == 0) {
			if (got == 0)
				die_run("%s port %s closed the connection without replying",
				    p->host, p->port);
			die_run("short reply from %s port %s: %zu of %d bytes",
			    p->host, p->port, got, ADD_REP);
		}
		got += n;
	}
	memcpy(&sum, rep, sizeof(sum));
	len = snprintf(line, sizeof(line), "%" PRId64 "\n", (int64_t)be64toh(sum));
	out_write_all(line, (size_t)len);
}

/* A byte queue between a reader and a writer. */
struct queue {
	char	 data[ECHO_BUF];
	size_t	 off, len;
};

static size_t
queue_room(struct queue *q)
{
	if (q->len == 0)
		q->off = 0;
	else if (q->off > 0 && q->off + q->len == sizeof(q->data)) {
		memmove(q->data, q->data + q->off, q->len);
		q->off = 0;
	}
	return sizeof(q->data) - q->off - q->len;
}

static char *
queue_tail(struct queue *q)
{
	return q->data + q->off + q->len;
}

static void
queue_drop(struct queue *q, size_t n)
{
	q->off += n;
	q->len -= n;
}

/*
 * Writes to a pipe or socket on stdout stay within PIPE_BUF after POLLOUT,
 * so a blocking stdout never stalls the loop; files take whole chunks.
 */
static size_t
out_chunk(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return PIPE_BUF;
	return ECHO_BUF;
}

struct echo {
	struct queue	 up;		/* stdin -> server */
	struct queue	 down;		/* server -> stdout */
	int		 in_eof;	/* stdin ended */
	int		 shut;		/* we half-closed */
	int		 srv_eof;	/* server closed */
	unsigned long long sent, received;
};

static void
echo_stdin(struct echo *e)
{
	ssize_t n = read(STDIN_FILENO, queue_tail(&e->up), queue_room(&e->up));

	if (n > 0)
		e->up.len += (size_t)n;
	else if (n == 0)
		e->in_eof = 1;
	else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
		die_run("cannot read standard input: %s", strerror(errno));
}

static void
echo_send(const struct peer *p, struct echo *e)
{
	ssize_t n = send(p->fd, e->up.data + e->up.off, e->up.len, MSG_NOSIGNAL);

	if (n > 0) {
		queue_drop(&e->up, (size_t)n);
		e->sent += (unsigned long long)n;
	} else if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
		peer_lost(p, errno);
}

static void
echo_recv(const struct peer *p, struct echo *e)
{
	ssize_t n = recv(p->fd, queue_tail(&e->down), queue_room(&e->down), 0);

	if (n > 0) {
		e->down.len += (size_t)n;
		e->received += (unsigned long long)n;
	} else if (n == 0)
		e->srv_eof = 1;
	else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
		peer_lost(p, errno);
}

static void
echo_stdout(struct echo *e, size_t chunk)
{
	size_t len = e->down.len < chunk ? e->down.len : chunk;

	out_write_all(e->down.data + e->down.off, len);
	queue_drop(&e->down, len);
}

/*
 * echo: one poll loop moves stdin to the server and the server to stdout at
 * the same time, so a server that stops reading until we read cannot
 * deadlock us.  The wait applies only while the server alone can move things.
 */
static void
cmd_echo(const struct peer *p)
{
	static struct echo e;
	size_t chunk = out_chunk();
	struct pollfd pfd[3];
	int n;

	while (!e.srv_eof || e.down.len > 0) {
		int np = 0, ii = -1, is = -1, io = -1, timeout = -1;
		short sev = 0;

		if (e.in_eof && e.up.len == 0 && !e.shut) {
			if (shutdown(p->fd, SHUT_WR) < 0)
				peer_lost(p, errno);
			e.shut = 1;
		}
		if (!e.in_eof && queue_room(&e.up) > 0) {
			pfd[np] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
			ii = np++;
		}
		if (e.up.len > 0)
			sev |= POLLOUT;
		if (!e.srv_eof && queue_room(&e.down) > 0)
			sev |= POLLIN;
		if (sev != 0) {
			pfd[np] = (struct pollfd){ .fd = p->fd, .events = sev };
			is = np++;
		}
		if (e.down.len > 0) {
			pfd[np] = (struct pollfd){ .fd = STDOUT_FILENO, .events = POLLOUT };
			io = np++;
		}
		if (ii < 0 && io < 0)
			timeout = p->wait_ms;
		n = poll(pfd, (nfds_t)np, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_run("poll: %s", strerror(errno));
		if (n == 0)
			peer_timeout(p);
		if (ii >= 0 && pfd[ii].revents != 0)
			echo_stdin(&e);
		/* Receive first: an EOF explains a failing send better than EPIPE does. */
		if (is >= 0 && (pfd[is].revents & (POLLIN | POLLERR | POLLHUP)) && !e.srv_eof &&
		    queue_room(&e.down) > 0)
			echo_recv(p, &e);
		if (is >= 0 && (pfd[is].revents & (POLLOUT | POLLERR | POLLHUP)) && e.up.len > 0 &&
		    !e.srv_eof)
			echo_send(p, &e);
		if (io >= 0 && pfd[io].revents != 0)
			echo_stdout(&e, chunk);
		if (e.srv_eof && !e.shut && e.down.len == 0)
			die_run("%s port %s closed the connection before the end of input",
			    p->host, p->port);
	}
	if (e.received != e.sent)
		die_run("%s port %s echoed %llu of %llu bytes", p->host, p->port,
		    e.received, e.sent);
}

static const struct cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *cmd;
	struct peer p = { .fd = -1, .wait_ms = DEFAULT_WAIT * 1000 };
	int family = AF_UNSPEC, ch, npos, a = 0, b = 0;
	char **pos, *host;
	size_t hlen;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		die_usage("missing command (try 'netlab --help')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("netlab %s\n", PACKAGE_VERSION);
		return 0;
	}
	if ((cmd = cmd_find(argv[1])) == NULL) {
		if (argv[1][0] == '-')
			die_usage("unknown option '%s' (try 'netlab --help')", argv[1]);
		die_usage("unknown command '%s' (try 'netlab --help')", argv[1]);
	}

	/* Options after the command, up to the first operand ('+': A and B may be negative). */
	argc--;
	argv++;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:46w:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'w':
			p.wait_ms = parse_wait(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("netlab %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			die_usage("%s: option '%s' needs a value", cmd->name, argv[optind - 1]);
		default:
			if (optopt != 0)
				die_usage("%s: unknown option '-%c' (try 'netlab --help')",
				    cmd->name, optopt);
			die_usage("%s: unknown option '%s' (try 'netlab --help')", cmd->name,
			    argv[optind - 1]);
		}
	}
	pos = argv + optind;
	npos = argc - optind;

	if (npos < 1)
		die_usage("%s: missing HOST (usage: netlab %s %s)", cmd->name, cmd->name,
		    cmd->args);
	if (cmd->kind == CMD_ADD) {
		if (npos < 3)
			die_usage("add: missing %s (usage: netlab add %s)",
			    npos == 1 ? "A and B" : "B", cmd->args);
		if (npos > 4)
			die_usage("add: too many arguments, from '%s' (usage: netlab add %s)",
			    pos[4], cmd->args);
		a = parse_operand(pos[npos - 2]);
		b = parse_operand(pos[npos - 1]);
		npos -= 2;
	} else if (npos > 2)
		die_usage("%s: too many arguments, from '%s' (usage: netlab %s %s)",
		    cmd->name, pos[2], cmd->name, cmd->args);
	parse_port(npos == 2 ? pos[1] : cmd->port, p.port, sizeof(p.port));

	/* "[::1]" as people write it in URLs. */
	host = pos[0];
	hlen = strlen(host);
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		host++;
	}
	if (*host == '\0')
		die_usage("%s: empty HOST", cmd->name);
	p.host = host;

	peer_connect(&p, family);
	switch (cmd->kind) {
	case CMD_DAYTIME:
		cmd_read_all(&p, 1);
		break;
	case CMD_HELLO:
		cmd_read_all(&p, 0);
		break;
	case CMD_ECHO:
		cmd_echo(&p);
		break;
	case CMD_ADD:
		cmd_add(&p, a, b);
		break;
	}
	close(p.fd);
	return 0;
}
