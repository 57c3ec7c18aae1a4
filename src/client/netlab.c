/* netlab.c - the netlab client's main: options, name lookup, connecting, and the I/O every command shares. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
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

#include "cmd.h"

#define TCP_WAIT	10	/* seconds: connecting, or waiting for the server */
#define UDP_WAIT	1	/* seconds for each datagram's reply (SPEC §9) */
#define UDP_TRIES	3	/* datagrams sent per request before "no reply" */
#define MAX_WAIT	86400
#define WAIT_UNSET	(-2)

static int
cmd_nargs(const struct cmd *c)
{
	int n = 0;

	while (n < (int)(sizeof(c->args) / sizeof(c->args[0])) && c->args[n] != NULL)
		n++;
	return n;
}

/* "HOST [PORT] A B": the operands, for usage lines. */
static const char *
cmd_operands(const struct cmd *c, char *buf, size_t len)
{
	size_t o = (size_t)snprintf(buf, len, "HOST [PORT]");

	for (int i = 0; i < cmd_nargs(c) && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, " %s", c->args[i]);
	return buf;
}

/* "A and B": the operands from the first one missing on. */
static const char *
cmd_missing(const struct cmd *c, int from, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = from; i < cmd_nargs(c) && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i > from ? " and " : "",
		    c->args[i]);
	return buf;
}

static void
usage(FILE *fp)
{
	const struct cmd *const *c;
	char ops[128];
	int w = 0;

	for (c = cmd_table; *c != NULL; c++)
		if ((int)strlen((*c)->name) > w)
			w = (int)strlen((*c)->name);
	for (c = cmd_table; *c != NULL; c++)
		fprintf(fp, "%s netlab %-*s [-4|-6] [-u] [-w SECONDS] %s\n",
		    c == cmd_table ? "usage:" : "      ", w, (*c)->name,
		    cmd_operands(*c, ops, sizeof(ops)));
	fprintf(fp, "       netlab -h | --help\n"
	    "       netlab -V | --version\n"
	    "\n"
	    "Talk to a netlabd server (or any server of the same protocols).\n");
	for (c = cmd_table; *c != NULL; c++) {
		fprintf(fp, "  %-*s   ", w, (*c)->name);
		for (const char *h = (*c)->help; *h != '\0'; h++) {
			fputc(*h, fp);
			if (*h == '\n')
				fprintf(fp, "  %-*s   ", w, "");
		}
		fputc('\n', fp);
	}
	fprintf(fp, "\n"
	    "HOST is a name, an IPv4 or an IPv6 literal; every address a name resolves\n"
	    "to is tried in turn.  PORT is 1-65535 or a service name; the defaults are\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(fp, "%s%s %d", c == cmd_table ? "" : ", ", (*c)->name, (*c)->port);
	fprintf(fp, ".\nOptions go before HOST.\n"
	    "  -4            use IPv4 addresses only\n"
	    "  -6            use IPv6 addresses only\n"
	    "  -u            use UDP: one datagram per request, sent up to %d times,\n"
	    "                then \"no reply\"; echo sends each line as one datagram\n"
	    "  -w SECONDS    give up connecting to an address, or waiting for the\n"
	    "                server, after SECONDS (default %d; with -u the wait for\n"
	    "                each datagram's reply, default %d; 0 = wait forever)\n"
	    "  -h, --help    this help\n"
	    "  -V, --version print the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 when the lookup, the connection or the\n"
	    "server fails (refused, no reply, a bad answer), 2 on a bad command line;\n"
	    "the reason is one line on stderr.\n", UDP_TRIES, TCP_WAIT, UDP_WAIT);
}

void
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

int32_t
parse_int32(const char *s)
{
	long long v;

	if (parse_decimal(s, INT32_MIN, INT32_MAX, &v) < 0)
		die_usage("bad number '%s': want a decimal 32-bit integer"
		    " (-2147483648 to 2147483647)", s);
	return (int32_t)v;
}

static void
parse_port(const char *s, const char *proto, char *out, size_t outlen)
{
	struct servent *se;
	long long v;

	if (*s != '\0' && strspn(s, "0123456789") == strlen(s)) {
		if (parse_decimal(s, 1, 65535, &v) < 0)
			die_usage("bad port '%s': want a number from 1 to 65535", s);
		snprintf(out, outlen, "%lld", v);
		return;
	}
	if (*s == '\0' || *s == '-' || (se = getservbyname(s, proto)) == NULL)
		die_usage("bad port '%s': want a number from 1 to 65535 or a %s service name",
		    s, strcmp(proto, "udp") == 0 ? "UDP" : "TCP");
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
int
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

static struct addrinfo *
resolve(const struct peer *p)
{
	struct addrinfo hints = {
		.ai_family = p->family,
		.ai_socktype = p->udp ? SOCK_DGRAM : SOCK_STREAM,
		.ai_protocol = p->udp ? IPPROTO_UDP : IPPROTO_TCP,
		.ai_flags = AI_NUMERICSERV,	/* no AI_ADDRCONFIG: ::1 works without global v6 */
	}, *res, *any;
	int err;

	err = getaddrinfo(p->host, p->port, &hints, &res);
	if (err == 0)
		return res;
	if (err == EAI_SYSTEM)
		die_run("cannot resolve '%s': %s", p->host, strerror(errno));
	if (err != EAI_NONAME && err != EAI_NODATA && err != EAI_ADDRFAMILY &&
	    err != EAI_FAMILY)
		die_run("cannot resolve '%s': %s", p->host, gai_strerror(err));
	if (p->family != AF_UNSPEC) {
		/* Say "no IPv4 address" rather than "unknown" for a host that has others. */
		hints.ai_family = AF_UNSPEC;
		if (getaddrinfo(p->host, p->port, &hints, &any) == 0) {
			freeaddrinfo(any);
			die_run("host '%s' has no %s address", p->host, family_name(p->family));
		}
	}
	die_run("unknown host '%s'", p->host);
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

/* The addresses tried and why each failed, for the one error line. */
struct tried {
	char	 list[768];
	size_t	 used;
	int	 n;
	char	 last[64];	/* the last address tried */
	char	 why[128];	/* and why it failed */
};

static void
tried_add(struct tried *t, const char *addr, const char *why)
{
	int w;

	snprintf(t->last, sizeof(t->last), "%s", addr);
	snprintf(t->why, sizeof(t->why), "%s", why);
	if (t->used < sizeof(t->list)) {
		w = snprintf(t->list + t->used, sizeof(t->list) - t->used, "%s%s: %s",
		    t->n > 0 ? ", " : "", addr, why);
		t->used += w > 0 ? (size_t)w : 0;
	}
	t->n++;
}

/* A literal address needs no "ADDR: " before the reason; a name does. */
static void __attribute__((noreturn))
tried_die(const struct tried *t, const struct peer *p, const char *what)
{
	if (t->n == 1 && strcmp(t->last, p->host) == 0)
		die_run("%s %s: %s", what, p->where, t->why);
	die_run("%s %s: %s", what, p->where, t->list);
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

/* TCP: every address in turn; the first that connects wins. */
void
peer_connect(struct peer *p)
{
	struct addrinfo *res, *ai;
	struct tried t = { .n = 0 };
	char addr[sizeof(p->addr)];
	int err;

	res = resolve(p);
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
		tried_add(&t, addr, strerror(err));
	}
	freeaddrinfo(res);
	tried_die(&t, p, "cannot connect to");
}

void
peer_lost(const struct peer *p, int err)
{
	die_run("connection to %s lost: %s", p->where, strerror(err));
}

void
peer_timeout(const struct peer *p)
{
	die_run("timed out waiting for %s", p->where);
}

/* Read some bytes within the wait; returns the count, 0 at EOF. */
size_t
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

void
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

/*
 * One request on a connected UDP socket: sent up to UDP_TRIES times, each
 * reply awaited wait_ms.  0 with the reply's full length in *got (MSG_TRUNC:
 * bytes past a->cap are lost but counted), or an errno: ETIMEDOUT when
 * nothing came, ECONNREFUSED when an ICMP port-unreachable did.
 */
static int
udp_try(const struct peer *p, int fd, const struct ask *a, size_t *got)
{
	static const char none[1];
	const void *req = a->len > 0 ? a->req : none;
	int64_t deadline;
	ssize_t n;
	int left;

	for (int t = 0; t < UDP_TRIES; t++) {
		while ((n = send(fd, req, a->len, 0)) < 0 && errno == EINTR)
			;
		/* A full send buffer drops the datagram, like the network would. */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return errno;
		deadline = now_ms() + p->wait_ms;
		for (;;) {
			left = p->wait_ms < 0 ? -1 : (int)(deadline - now_ms());
			if (p->wait_ms >= 0 && left < 0)
				left = 0;
			if ((n = wait_fd(fd, POLLIN, left)) < 0)
				return errno;
			if (n == 0)
				break;
			n = recv(fd, a->rep, a->cap, MSG_TRUNC);
			if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (n < 0)
				return errno;
			if (a->skip != NULL && (size_t)n == a->skiplen && (size_t)n <= a->cap &&
			    memcmp(a->rep, a->skip, (size_t)n) == 0)
				continue;
			*got = (size_t)n;
			return 0;
		}
	}
	return ETIMEDOUT;
}

static const char *
udp_why(int err)
{
	static char why[64];

	if (err != ETIMEDOUT)
		return strerror(err);
	snprintf(why, sizeof(why), "%d datagram%s unanswered", UDP_TRIES,
	    UDP_TRIES == 1 ? "" : "s");
	return why;
}

/*
 * UDP: send one request and return its reply's length.  The first request
 * tries every address in turn, as TCP does; the one that answers is kept for
 * the requests after it.
 */
size_t
peer_ask(struct peer *p, const struct ask *a)
{
	struct addrinfo *res, *ai;
	struct tried t = { .n = 0 };
	char addr[sizeof(p->addr)];
	size_t got = 0;
	int err, fd;

	if (p->fd >= 0) {
		if ((err = udp_try(p, p->fd, a, &got)) != 0)
			die_run("no reply from %s: %s", p->where, udp_why(err));
		return got;
	}
	res = resolve(p);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (addr_seen(res, ai))
			continue;
		numeric_addr(ai, addr, sizeof(addr));
		/* connect(2) makes the kernel hand us an ICMP refusal and drop strangers' datagrams. */
		if ((err = connect_one(ai, 0, &fd)) == 0) {
			if ((err = udp_try(p, fd, a, &got)) == 0) {
				p->fd = fd;
				snprintf(p->addr, sizeof(p->addr), "%s", addr);
				freeaddrinfo(res);
				return got;
			}
			close(fd);
		}
		tried_add(&t, addr, udp_why(err));
	}
	freeaddrinfo(res);
	tried_die(&t, p, "no reply from");
}

/*
 * What the server sends unasked (daytime, hello): over TCP everything until
 * it closes, over UDP the reply to one empty datagram; each piece to fn.
 */
void
peer_fetch(struct peer *p, void (*fn)(const char *, size_t, void *), void *arg)
{
	static char buf[UDP_MAX + 1];
	size_t n, total = 0;

	if (p->udp) {
		n = peer_ask(p, &(struct ask){ .rep = buf, .cap = sizeof(buf) });
		if (n == 0)
			die_run("empty reply from %s", p->where);
		fn(buf, n < sizeof(buf) ? n : sizeof(buf), arg);
		return;
	}
	peer_connect(p);
	while ((n = peer_read(p, buf, sizeof(buf))) > 0) {
		total += n;
		fn(buf, n, arg);
	}
	if (total == 0)
		die_run("%s closed the connection without sending anything", p->where);
}

/* Write to stdout, whole; a failure (a closed pipe, a full disk) is fatal. */
void
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

static void
version(void)
{
	printf("netlab %s\n", PACKAGE_VERSION);
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
	struct peer p = { .fd = -1, .family = AF_UNSPEC, .wait_ms = WAIT_UNSET };
	int ch, npos, nargs;
	char **pos, *host, defport[8], missing[64], ops[128];
	size_t hlen;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		die_usage("missing command (try 'netlab --help')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		version();
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
	while ((ch = getopt_long(argc, argv, "+:46uw:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case '4':
			p.family = AF_INET;
			break;
		case '6':
			p.family = AF_INET6;
			break;
		case 'u':
			p.udp = 1;
			break;
		case 'w':
			p.wait_ms = parse_wait(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			version();
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
	if (p.wait_ms == WAIT_UNSET)
		p.wait_ms = (p.udp ? UDP_WAIT : TCP_WAIT) * 1000;
	pos = argv + optind;
	npos = argc - optind;

	/* HOST [PORT] and then the command's own operands, which are all required. */
	nargs = cmd_nargs(cmd);
	cmd_operands(cmd, ops, sizeof(ops));
	if (npos < 1)
		die_usage("%s: missing HOST (usage: netlab %s %s)", cmd->name, cmd->name, ops);
	if (npos < 1 + nargs)
		die_usage("%s: missing %s (usage: netlab %s %s)", cmd->name,
		    cmd_missing(cmd, npos - 1, missing, sizeof(missing)), cmd->name, ops);
	if (npos > 2 + nargs)
		die_usage("%s: too many arguments, from '%s' (usage: netlab %s %s)",
		    cmd->name, pos[2 + nargs], cmd->name, ops);
	snprintf(defport, sizeof(defport), "%d", cmd->port);
	parse_port(npos - nargs == 2 ? pos[1] : defport, p.udp ? "udp" : "tcp",
	    p.port, sizeof(p.port));

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
	snprintf(p.where, sizeof(p.where), "%s %sport %s", p.host, p.udp ? "udp " : "",
	    p.port);

	cmd->run(&p, pos + npos - nargs);
	if (p.fd >= 0)
		close(p.fd);
	return 0;
}
