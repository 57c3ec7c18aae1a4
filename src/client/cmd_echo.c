/* cmd_echo.c - netlab echo: stdin to the server and its replies to stdout; over UDP a datagram per line. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "wire.h"

#define ECHO_BUF	65536

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
 * TCP: one poll loop moves stdin to the server and the server to stdout at
 * the same time, so a server that stops reading until we read cannot
 * deadlock us.  The wait applies only while the server alone can move things.
 */
static void
echo_tcp(struct peer *p)
{
	static struct echo e;
	size_t chunk = out_chunk();
	struct pollfd pfd[3];
	int n;

	peer_connect(p);
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
			die_run("%s closed the connection before the end of input", p->where);
	}
	if (e.received != e.sent)
		die_run("%s echoed %llu of %llu bytes", p->where, e.received, e.sent);
}

/*
 * The next datagram from stdin: a line with its '\n', a piece of UDP_MAX
 * bytes of a longer one, or what is left at the end.  Returns its length, 0
 * at the end of input.  Reading blocks: nothing else is waiting meanwhile.
 */
static size_t
echo_line(struct queue *q, int *eof)
{
	size_t look;
	char *nl;
	ssize_t n;

	for (;;) {
		look = q->len < UDP_MAX ? q->len : UDP_MAX;
		if ((nl = memchr(q->data + q->off, '\n', look)) != NULL)
			return (size_t)(nl - (q->data + q->off)) + 1;
		if (q->len >= UDP_MAX || (*eof && q->len > 0))
			return q->len < UDP_MAX ? q->len : UDP_MAX;
		if (*eof)
			return 0;
		if (q->off > 0) {
			memmove(q->data, q->data + q->off, q->len);
			q->off = 0;
		}
		n = read(STDIN_FILENO, queue_tail(q), sizeof(q->data) - q->len);
		if (n > 0)
			q->len += (size_t)n;
		else if (n == 0)
			*eof = 1;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			wait_fd(STDIN_FILENO, POLLIN, -1);
		else if (errno != EINTR)
			die_run("cannot read standard input: %s", strerror(errno));
	}
}

/*
 * UDP: stop and wait, one line per datagram.  A line is sent again when its
 * reply is slow, so a reply may come twice; the copy that arrives while the
 * next line waits is recognised (it equals the previous line) and skipped.
 */
static void
echo_udp(struct peer *p)
{
	static struct queue in;
	static char prev[UDP_MAX], rep[UDP_MAX + 1];
	size_t len, n, prevlen = 0;
	int eof = 0, have_prev = 0;

	while ((len = echo_line(&in, &eof)) > 0) {
		const char *line = in.data + in.off;
		int dup = have_prev && prevlen == len && memcmp(prev, line, len) == 0;

		n = peer_ask(p, &(struct ask){ .req = line, .len = len, .rep = rep,
		    .cap = sizeof(rep), .skip = have_prev && !dup ? prev : NULL,
		    .skiplen = prevlen });
		out_write_all(rep, n < sizeof(rep) ? n : sizeof(rep));
		if (n != len || memcmp(rep, line, len) != 0)
			die_run("%s echoed a different datagram: %zu bytes for %zu", p->where,
			    n, len);
		memcpy(prev, line, len);
		prevlen = len;
		have_prev = 1;
		queue_drop(&in, len);
	}
}

static void
echo_run(struct peer *p, char **args)
{
	(void)args;
	if (p->udp)
		echo_udp(p);
	else
		echo_tcp(p);
}

const struct cmd cmd_echo = {
	.name = "echo",
	.help = "send stdin to the server and print its replies until stdin ends,\n"
	    "then half-close and print the rest; binary-safe (-u: one datagram\n"
	    "per line, each reply printed)",
	.port = WIRE_PORT_ECHO,
	.run = echo_run,
};
