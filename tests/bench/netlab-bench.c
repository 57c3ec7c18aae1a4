/*
 * netlab-bench.c - loopback load generator for netlabd, xinetd and the
 * reference server: the TCP workloads (connect, echo, add, bulk, hold,
 * chargen, stuff, scrape), the command line and the /proc readings; the UDP
 * ones live in bench-udp.c.  Every reply verified, one machine-readable
 * result line.
 *
 * One thread and raw level-triggered epoll, so that the generator does at
 * most the work the server does per operation (one read and one write) and
 * is not the bottleneck before the server.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap enough that making requests costs less than serving them. */
uint64_t
rnd(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 2685821657736338717ull;
}

void
bench_error(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (++b->errors >= MAX_ERRORS)
		interrupted = 1;
	if (b->err_msgs++ >= MAX_ERR_MSGS)
		return;
	fprintf(stderr, "netlab-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Log-linear latency histogram: 64 sub-buckets per power of two, ~1.5% precision. */
static unsigned
hist_bucket(uint64_t v)
{
	int e, shift;

	if (v < 128)
		return (unsigned)v;
	e = 63 - __builtin_clzll(v);
	shift = e - 6;
	return (unsigned)((shift << 6) + (int)(v >> shift));
}

static uint64_t
hist_value(unsigned bkt)
{
	unsigned shift;

	if (bkt < 128)
		return bkt;
	shift = bkt / 64 - 1;
	return ((uint64_t)(bkt - shift * 64) << shift) + ((1ull << shift) >> 1);
}

void
hist_add(struct bench *b, uint64_t ns)
{
	unsigned k = hist_bucket(ns);

	if (k < sizeof(b->hist) / sizeof(b->hist[0]))
		b->hist[k]++;
}

static double
hist_bucket_pct(const struct bench *b, double pct)
{
	uint64_t total = 0, want, seen = 0;
	size_t n = sizeof(b->hist) / sizeof(b->hist[0]);

	for (size_t i = 0; i < n; i++)
		total += b->hist[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(pct / 100.0 * (double)total + 0.5);
	if (want < 1)
		want = 1;
	for (size_t i = 0; i < n; i++) {
		seen += b->hist[i];
		if (seen >= want)
			return (double)hist_value((unsigned)i) / 1000.0;
	}
	return 0;
}

/* Percentile pct of the latencies in microseconds, never above the longest one seen. */
double
hist_pct(const struct bench *b, double pct)
{
	double v = hist_bucket_pct(b, pct);

	return b->max_ns > 0 && v > (double)b->max_ns / 1000.0 ? (double)b->max_ns / 1000.0 : v;
}

/* --- the server's CPU time and memory, from /proc --- */

static bool
read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

/* Field n (1-based, as in proc(5)) of /proc/PID/stat, counting after the "(comm)". */
static bool
stat_fields(pid_t pid, long long *ppid, long long *utime, long long *cutime)
{
	char path[64], buf[1024], *p;
	long long f[20];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!read_file(path, buf, sizeof(buf)) || (p = strrchr(buf, ')')) == NULL)
		return false;
	p += 2;				/* field 3: state */
	while (*p != '\0' && *p != ' ')
		p++;
	for (i = 4; i <= 17; i++) {
		char *end;

		f[i] = strtoll(p, &end, 10);
		if (end == p)
			return false;
		p = end;
	}
	*ppid = f[4];
	*utime = f[14] + f[15];
	*cutime = f[16] + f[17];
	return true;
}

/* On-CPU nanoseconds of every thread of one process (schedstat), 0 if it is gone. */
static uint64_t
proc_threads_ns(pid_t pid)
{
	char path[300], buf[128];
	struct dirent *de;
	uint64_t sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)))
			sum += strtoull(buf, NULL, 10);
	}
	closedir(d);
	return sum;
}

/*
 * CPU time of the server: its threads, its live children (xinetd forks one per
 * echo connection) and the children it has already reaped (cutime + cstime).
 */
uint64_t
server_cpu_ns(pid_t pid)
{
	long long ppid, self, reaped, tick = sysconf(_SC_CLK_TCK);
	uint64_t sum;
	struct dirent *de;
	DIR *d;

	if (!stat_fields(pid, &ppid, &self, &reaped))
		return 0;
	sum = proc_threads_ns(pid) + (uint64_t)reaped * (1000000000ull / (uint64_t)tick);
	if ((d = opendir("/proc")) == NULL)
		return sum;
	while ((de = readdir(d)) != NULL) {
		long long cpp, cself, creaped;
		pid_t child;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		child = (pid_t)atoi(de->d_name);
		if (child != pid && stat_fields(child, &cpp, &cself, &creaped) && cpp == pid)
			sum += proc_threads_ns(child);
	}
	closedir(d);
	return sum;
}

static long
proc_status_kb(pid_t pid, const char *key)
{
	char path[64], buf[4096], *p;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!read_file(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

static long
proc_nfds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Track the server's VmRSS: first, highest and last sample, at most every 100 ms. */
void
rss_sample(struct bench *b)
{
	long kb;

	if (b->o.pid <= 0 || b->now < b->rss_next)
		return;
	b->rss_next = b->now + 100000000u;
	if ((kb = proc_status_kb(b->o.pid, "VmRSS")) < 0)
		return;
	if (b->rss_start < 0)
		b->rss_start = kb;
	if (kb > b->rss_peak)
		b->rss_peak = kb;
	b->rss_end = kb;
}

/* One column of a "Name: header..." / "Name: values..." pair in /proc/net/snmp*. */
static long
snmp_value(const char *path, const char *table, const char *name)
{
	char buf[16384], *line, *save = NULL, *hdr = NULL;
	size_t tlen = strlen(table);

	if (!read_file(path, buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *hs = NULL, *vs = NULL, *h, *v;

		if (strncmp(line, table, tlen) != 0 || line[tlen] != ':')
			continue;
		if (hdr == NULL) {
			hdr = line;
			continue;
		}
		/* hdr holds the names, line the values, in the same order */
		h = strtok_r(hdr + tlen + 1, " ", &hs);
		v = strtok_r(line + tlen + 1, " ", &vs);
		for (; h != NULL && v != NULL; h = strtok_r(NULL, " ", &hs), v = strtok_r(NULL, " ", &vs))
			if (strcmp(h, name) == 0)
				return strtol(v, NULL, 10);
		return -1;
	}
	return -1;
}

/* The kernel's count of datagrams dropped for a full socket buffer, IPv4 + IPv6. */
long
udp_rcvbuf_errors(void)
{
	char buf[16384], *p;
	long v4 = snmp_value("/proc/net/snmp", "Udp", "RcvbufErrors"), v6 = 0;

	if (read_file("/proc/net/snmp6", buf, sizeof(buf)) &&
	    (p = strstr(buf, "Udp6RcvbufErrors")) != NULL)
		v6 = strtol(p + strlen("Udp6RcvbufErrors"), NULL, 10);
	return v4 < 0 ? -1 : v4 + v6;
}

/* --- connections --- */

static void
bc_interest(struct bench *b, struct bc *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->events == ev)
		return;
	if (epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		bench_error(b, "epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

static void
bc_close(struct bench *b, struct bc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->state == C_ACTIVE)
		b->active--;
	c->fd = -1;
	c->state = C_CLOSED;
}

static bool
bc_connect(struct bench *b, struct bc *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };
	int one = 1;

	c->fd = socket(b->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		bench_error(b, "socket: %s", strerror(errno));
		b->connect_errors++;
		c->state = C_CLOSED;
		return false;
	}
	if (b->o.mode != M_CONNECT && b->o.mode != M_HOLD)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t0 = b->now;
	c->got = 0;
	if (connect(c->fd, (struct sockaddr *)&b->ss, b->sslen) < 0 && errno != EINPROGRESS) {
		bench_error(b, "connect: %s", strerror(errno));
		b->connect_errors++;
		close(c->fd);
		c->fd = -1;
		c->state = C_CLOSED;
		return false;
	}
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
		bench_error(b, "epoll_ctl: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		c->state = C_CLOSED;
		return false;
	}
	c->events = ev;
	c->state = C_CONNECTING;
	b->started++;
	return true;
}

/* A connecting socket became writable: did the handshake succeed? */
static bool
bc_connected(struct bench *b, struct bc *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		bench_error(b, "connect: %s", strerror(err));
		b->connect_errors++;
		bc_close(b, c);
		return false;
	}
	c->state = C_ACTIVE;
	b->active++;
	return true;
}

static void
op_done(struct bench *b, struct bc *c, uint64_t nops)
{
	if (!c->done_one) {
		c->done_one = true;
		b->warm++;
	}
	if (!b->measuring)
		return;
	b->ops += nops;
	hist_add(b, b->now - c->t0);
	if (b->now - c->t0 > b->max_ns)
		b->max_ns = b->now - c->t0;
}

/* Send what is left of the request; wait for EPOLLOUT if the socket is full. */
static bool
bc_flush(struct bench *b, struct bc *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->sbuf + c->woff, c->wlen - c->woff);

		if (n < 0 && errno == EAGAIN) {
			bc_interest(b, c, EPOLLIN | EPOLLOUT);
			return true;
		}
		if (n < 0) {
			bench_error(b, "write: %s", strerror(errno));
			bc_close(b, c);
			return false;
		}
		c->woff += (size_t)n;
	}
	bc_interest(b, c, EPOLLIN);
	return true;
}

/* --- connect: connect, read to EOF, close, check the payload --- */

bool
daytime_shape(const unsigned char *s, size_t n)
{
	/* "Www Mmm dd hh:mm:ss yyyy\r\n", the day space-padded as ctime(3) does */
	static const char shape[] = "aaa aaa _d dd:dd:dd dddd\r\n";

	if (n != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		switch (shape[i]) {
		case 'a':
			if (!isalpha(s[i]))
				return false;
			break;
		case 'd':
			if (!isdigit(s[i]))
				return false;
			break;
		case '_':
			if (s[i] != ' ' && !isdigit(s[i]))
				return false;
			break;
		default:
			if (s[i] != (unsigned char)shape[i])
				return false;
		}
	}
	return true;
}

/* Any one CRLF-terminated line (xinetd's daytime has its own format). */
bool
line_shape(const unsigned char *s, size_t n)
{
	return n >= 3 && s[n - 2] == '\r' && s[n - 1] == '\n' && memchr(s, '\n', n - 1) == NULL;
}

/* A header line of an HTTP head, case-insensitively: its value, or NULL. */
static const char *
http_header(const char *head, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if ((size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
			return p + nlen + 1;
	}
	return NULL;
}

/*
 * scrape: "HTTP/1.x 200", a head, a body of Content-Length bytes (when given)
 * in the Prometheus text format.  Returns the body's length, or -1.
 */
static long
scrape_check(struct bench *b, const unsigned char *s, size_t n, bool complete)
{
	const char *head = (const char *)s, *eoh, *cl;
	size_t hlen;
	char *end;
	long want;

	if ((eoh = memmem(head, n, "\r\n\r\n", 4)) == NULL) {
		if (complete)
			bench_error(b, "scrape: no end of the HTTP head in %zu bytes", n);
		return -1;
	}
	hlen = (size_t)(eoh - head) + 4;
	if (hlen < 13 || (memcmp(head, "HTTP/1.0 200 ", 13) != 0 &&
	    memcmp(head, "HTTP/1.1 200 ", 13) != 0)) {
		bench_error(b, "scrape: status line: %.*s", (int)strcspn(head, "\r\n"), head);
		return -2;
	}
	if ((cl = http_header(head, hlen, "Content-Length")) != NULL) {
		want = strtol(cl, &end, 10);
		if (end == cl || want < 0) {
			bench_error(b, "scrape: bad Content-Length");
			return -2;
		}
		if (n - hlen < (size_t)want) {
			if (complete)
				bench_error(b, "scrape: body of %zu bytes, Content-Length %ld",
				    n - hlen, want);
			return -1;
		}
		if (n - hlen > (size_t)want) {
			bench_error(b, "scrape: %zu bytes after the body", n - hlen - (size_t)want);
			return -2;
		}
	} else if (!complete) {
		return -1;	/* no length: the body ends when the server closes */
	}
	if (memmem(head + hlen, n - hlen, "# TYPE ", 7) == NULL) {
		bench_error(b, "scrape: the body has no \"# TYPE\" line");
		return -2;
	}
	return (long)(n - hlen);
}

static bool
connect_payload_ok(const struct bench *b, const unsigned char *s, size_t n)
{
	if (b->o.expect != NULL)
		return n == strlen(b->o.expect) && memcmp(s, b->o.expect, n) == 0;
	if (b->o.anyline)
		return line_shape(s, n);
	return daytime_shape(s, n);
}

/*
 * A PROXY protocol header (HAProxy's doc/proxy-protocol.txt) for the next
 * connection: TCP over the connection's family, the destination the real
 * one, the source a documentation address (192.0.2.x, 2001:db8::x) and a
 * port that change with every connection, as behind a balancer.
 */
static size_t
proxy_header(struct bench *b, unsigned char *out)
{
	static const unsigned char sig[12] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
	};
	uint64_t n = b->proxy_n++;
	uint16_t sport = (uint16_t)(1024 + n % 64000), dport = (uint16_t)b->o.port;
	bool v6 = b->ss.ss_family == AF_INET6;
	unsigned char src[16], dst[16];
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	size_t alen = v6 ? 16 : 4, len;

	if (v6) {
		memcpy(dst, &((struct sockaddr_in6 *)&b->ss)->sin6_addr, 16);
		inet_pton(AF_INET6, "2001:db8::", src);
		src[14] = (unsigned char)((1 + n % 65534) >> 8);
		src[15] = (unsigned char)(1 + n % 65534);
	} else {
		memcpy(dst, &((struct sockaddr_in *)&b->ss)->sin_addr, 4);
		src[0] = 192, src[1] = 0, src[2] = 2, src[3] = (unsigned char)(1 + n % 254);
	}
	if (b->o.proxy == 1) {
		inet_ntop(v6 ? AF_INET6 : AF_INET, src, s, sizeof(s));
		inet_ntop(v6 ? AF_INET6 : AF_INET, dst, d, sizeof(d));
		return (size_t)snprintf((char *)out, MAX_PREAMBLE, "PROXY %s %s %s %u %u\r\n",
		    v6 ? "TCP6" : "TCP4", s, d, sport, dport);
	}
	memcpy(out, sig, 12);
	out[12] = 0x21;				/* version 2, PROXY */
	out[13] = v6 ? 0x21 : 0x11;		/* AF_INET6 or AF_INET, STREAM */
	len = 2 * alen + 4;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	memcpy(out + 16, src, alen);
	memcpy(out + 16 + alen, dst, alen);
	out[16 + 2 * alen] = (unsigned char)(sport >> 8);
	out[17 + 2 * alen] = (unsigned char)sport;
	out[18 + 2 * alen] = (unsigned char)(dport >> 8);
	out[19 + 2 * alen] = (unsigned char)dport;
	return 16 + len;
}

/*
 * Write what the client says first (a PROXY header, an HTTP request).  On
 * loopback the handshake is done when connect(2) returns, so this write
 * normally goes through at once; if not, EPOLLOUT finishes it.
 */
static bool
preamble_flush(struct bench *b, struct bc *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->fd, c->sbuf + c->woff, c->wlen - c->woff);

		if (n < 0 && (errno == EAGAIN || errno == ENOTCONN)) {
			bc_interest(b, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
			return true;
		}
		if (n < 0) {
			bench_error(b, "%s: write: %s", b->o.mode == M_SCRAPE ? "scrape" : "connect",
			    strerror(errno));
			return false;
		}
		c->woff += (size_t)n;
	}
	bc_interest(b, c, EPOLLIN | EPOLLRDHUP);
	return true;
}

static void
connect_start(struct bench *b, struct bc *c)
{
	c->due = 0;
	if (!bc_connect(b, c, EPOLLIN | EPOLLRDHUP))
		return;
	c->state = C_ACTIVE;
	b->active++;
	c->woff = c->wlen = 0;
	if (b->o.proxy)
		c->wlen = proxy_header(b, c->sbuf);
	else if (b->o.mode == M_SCRAPE)
		c->wlen = (size_t)snprintf((char *)c->sbuf, MAX_PREAMBLE,
		    "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: netlab-bench\r\n\r\n",
		    b->o.path, b->o.host);
	if (c->wlen > 0 && !preamble_flush(b, c))
		bc_close(b, c);
}

/* The operation is over: start the next one now, or after --interval. */
static void
connect_next(struct bench *b, struct bc *c)
{
	if (interrupted)
		return;
	if (b->o.interval_ns > 0)
		c->due = b->now + b->o.interval_ns;
	else
		connect_start(b, c);
}

static void
connect_event(struct bench *b, struct bc *c, uint32_t ev)
{
	size_t cap = b->o.mode == M_SCRAPE ? MAX_SCRAPE : MAX_REPLY;
	long body;

	if ((ev & EPOLLOUT) && c->woff < c->wlen) {
		if (!preamble_flush(b, c))
			goto out;
		if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf + c->got, cap - c->got);

		if (n > 0) {
			size_t asked = cap - c->got;

			c->got += (size_t)n;
			if (c->got == cap) {
				bench_error(b, "%s: reply longer than %zu bytes", b->o.mode == M_SCRAPE ?
				    "scrape" : "connect", cap);
				break;
			}
			if (b->o.mode == M_SCRAPE) {
				/* Done when Content-Length says so: keep-alive need not close. */
				if ((body = scrape_check(b, c->rbuf, c->got, false)) >= 0) {
					b->bytes += b->measuring ? (uint64_t)body : 0;
					op_done(b, c, 1);
					break;
				}
				if (body == -2)
					break;
			}
			/*
			 * The FIN was in before epoll reported, so a short read took
			 * everything: skip the read that would return 0 (one syscall
			 * less per connection for the generator).
			 */
			if ((ev & EPOLLRDHUP) && !(ev & (EPOLLERR | EPOLLHUP)) && (size_t)n < asked)
				n = 0;
			else
				continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			bench_error(b, "%s: read: %s", b->o.mode == M_SCRAPE ? "scrape" : "connect",
			    strerror(errno));
			break;
		}
		/* EOF: the whole payload is in. */
		if (b->o.mode == M_SCRAPE) {
			if ((body = scrape_check(b, c->rbuf, c->got, true)) >= 0) {
				b->bytes += b->measuring ? (uint64_t)body : 0;
				op_done(b, c, 1);
			}
		} else if (!connect_payload_ok(b, c->rbuf, c->got)) {
			bench_error(b, "connect: unexpected payload (%zu bytes): %.*s", c->got,
			    (int)c->got, (const char *)c->rbuf);
		} else {
			op_done(b, c, 1);
		}
		break;
	}
out:
	bc_close(b, c);
	connect_next(b, c);
}

/* --- echo: one line out, the same line back, verified, repeat --- */

static void
echo_send(struct bench *b, struct bc *c)
{
	size_t len = b->o.line, off = rnd(b) % (POOL_SIZE - len);

	memcpy(c->sbuf, b->pool + off, len - 1);
	c->sbuf[len - 1] = '\n';
	c->wlen = len;
	c->woff = 0;
	c->need = len;
	c->got = 0;
	c->t0 = b->now;
	bc_flush(b, c);
}

/* --- add: K pipelined requests out, K sums back, each verified --- */

static void
add_send(struct bench *b, struct bc *c)
{
	int k = b->o.depth;

	for (int i = 0; i < k; i++) {
		uint64_t r = rnd(b);
		int32_t x = (int32_t)(uint32_t)r, y = (int32_t)(uint32_t)(r >> 32);
		uint32_t bx = htobe32((uint32_t)x), by = htobe32((uint32_t)y);
		uint64_t sum = htobe64((uint64_t)((int64_t)x + (int64_t)y));

		/* Now and then the extremes, where a 32-bit sum would overflow. */
		if ((r & 0xff) == 0) {
			x = y = (r & 0x100) ? INT32_MAX : INT32_MIN;
			bx = by = htobe32((uint32_t)x);
			sum = htobe64((uint64_t)((int64_t)x + (int64_t)y));
		}
		memcpy(c->sbuf + i * 8, &bx, 4);
		memcpy(c->sbuf + i * 8 + 4, &by, 4);
		memcpy(c->ebuf + i * 8, &sum, 8);
	}
	c->wlen = (size_t)k * 8;
	c->woff = 0;
	c->need = (size_t)k * 8;
	c->got = 0;
	c->t0 = b->now;
	bc_flush(b, c);
}

static void
add_verify(struct bench *b, struct bc *c)
{
	for (int i = 0; i < b->o.depth; i++) {
		if (memcmp(c->rbuf + i * 8, c->ebuf + i * 8, 8) != 0) {
			int64_t want, got;

			memcpy(&want, c->ebuf + i * 8, 8);
			memcpy(&got, c->rbuf + i * 8, 8);
			bench_error(b, "add: request %d: sum %" PRId64 ", expected %" PRId64, i,
			    (int64_t)be64toh((uint64_t)got), (int64_t)be64toh((uint64_t)want));
		}
	}
}

/* Echo and add: a closed loop of request, verified reply, next request. */
static void
rt_event(struct bench *b, struct bc *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		if (!bc_connected(b, c))
			return;
		if (b->o.mode == M_ECHO)
			echo_send(b, c);
		else
			add_send(b, c);
		return;
	}
	if ((ev & EPOLLOUT) && !bc_flush(b, c))
		return;
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		ssize_t n = read(c->fd, c->rbuf + c->got, c->need - c->got);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			bench_error(b, "%s: %s after %zu of %zu reply bytes",
			    b->o.mode == M_ECHO ? "echo" : "add",
			    n == 0 ? "connection closed" : strerror(errno), c->got, c->need);
			bc_close(b, c);
			return;
		}
		c->got += (size_t)n;
		if (c->got < c->need)
			continue;
		if (b->o.mode == M_ECHO) {
			if (memcmp(c->rbuf, c->sbuf, c->need) != 0)
				bench_error(b, "echo: reply differs from the line sent");
			op_done(b, c, 1);
		} else {
			add_verify(b, c);
			op_done(b, c, (uint64_t)b->o.depth);
		}
		/*
		 * Until every connection has been answered once, the answered ones
		 * wait: their traffic would starve a server that is still accepting
		 * (xinetd's children all share its CPU).
		 */
		if (!b->looping)
			c->parked = true;
		else if (b->o.interval_ns > 0)
			c->due = b->now + b->o.interval_ns;
		else if (b->o.mode == M_ECHO)
			echo_send(b, c);
		else
			add_send(b, c);
		return;
	}
}

/* --- bulk: a verified stream, W-byte writes, at most window bytes in flight --- */

static void
bulk_fill_pool(struct bench *b)
{
	size_t i = 0;

	/* Lines of 1..256 bytes, so a line server echoes them without waiting. */
	while (i < POOL_SIZE) {
		size_t len = 1 + rnd(b) % 256;

		for (size_t j = 0; j + 1 < len && i < POOL_SIZE; j++)
			b->pool[i++] = (unsigned char)(' ' + rnd(b) % 95);
		if (i < POOL_SIZE)
			b->pool[i++] = '\n';
	}
	b->pool[POOL_SIZE - 1] = '\n';
	memcpy(b->pool + POOL_SIZE, b->pool, POOL_SIZE);
}

static void
bulk_event(struct bench *b, struct bc *c, uint32_t ev)
{
	size_t w = b->o.wsize;

	if (c->state == C_CONNECTING) {
		if (!bc_connected(b, c))
			return;
		ev = EPOLLOUT;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = read(c->fd, b->rdbuf, sizeof(b->rdbuf));

		if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
			bench_error(b, "bulk: %s after %" PRIu64 " bytes",
			    n == 0 ? "connection closed" : strerror(errno), c->rpos);
			bc_close(b, c);
			return;
		}
		if (n > 0) {
			size_t done = 0;

			if (c->rpos + (uint64_t)n > c->spos) {
				bench_error(b, "bulk: more bytes back than sent");
				bc_close(b, c);
				return;
			}
			while (done < (size_t)n) {
				size_t off = (size_t)((c->rpos + done) % POOL_SIZE);
				size_t k = (size_t)n - done;

				if (k > POOL_SIZE)
					k = POOL_SIZE;
				if (memcmp(b->rdbuf + done, b->pool + off, k) != 0) {
					bench_error(b, "bulk: stream differs near byte %" PRIu64,
					    c->rpos + done);
					bc_close(b, c);
					return;
				}
				done += k;
			}
			c->rpos += (uint64_t)n;
			if (b->measuring)
				b->bytes += (uint64_t)n;
			while (c->rh != c->rt && c->ring_end[c->rh % RING_SIZE] <= c->rpos) {
				c->t0 = c->ring_t[c->rh % RING_SIZE];
				c->rh++;
				op_done(b, c, 1);
			}
		}
	}
	while (c->spos - c->rpos + w <= b->o.window) {
		ssize_t n = write(c->fd, b->pool + c->spos % POOL_SIZE, w);

		if (n < 0 && errno == EAGAIN) {
			bc_interest(b, c, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n < 0) {
			bench_error(b, "bulk: write: %s", strerror(errno));
			bc_close(b, c);
			return;
		}
		c->spos += (uint64_t)n;
		if (c->rt - c->rh < RING_SIZE) {
			c->ring_end[c->rt % RING_SIZE] = c->spos;
			c->ring_t[c->rt % RING_SIZE] = b->now;
			c->rt++;
		}
	}
	bc_interest(b, c, EPOLLIN);
}

/* --- hold: N idle connections --- */

static void
hold_event(struct bench *b, struct bc *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		if (bc_connected(b, c))
			bc_interest(b, c, EPOLLIN | EPOLLRDHUP);
		return;
	}
	if (c->need > 0 && (ev & EPOLLIN)) {
		ssize_t n = read(c->fd, c->rbuf + c->got, c->need - c->got);

		if (n > 0) {
			c->got += (size_t)n;
			if (c->got == c->need) {
				if (memcmp(c->rbuf, "ping\n", 5) != 0)
					bench_error(b, "hold: probe reply differs");
				else
					c->done_one = true;
				c->need = 0;
			}
			return;
		}
		if (n < 0 && errno == EAGAIN)
			return;
	}
	/* An idle connection that becomes readable was closed or reset by the server. */
	bench_error(b, "hold: the server closed an idle connection");
	bc_close(b, c);
}

/* --- chargen: read the RFC 864 stream as fast as it comes, verify every byte --- */

/*
 * Line i (counting from 0, modulo 95) holds ring[(i + j) % R] for j = 0..71,
 * then CRLF, where the ring is the R characters from '!' in the cycle of the
 * 95 printable ASCII characters ('!' ... '~', ' '); RFC 864 uses all 95.  The
 * stream repeats every 95 lines; it is stored for one period plus one read,
 * so any read compares with one memcmp.
 */
static void
chargen_fill(struct bench *b)
{
	size_t period = 95 * 74, len = period + READ_SIZE, i;

	if ((b->chargen = malloc(len)) == NULL) {
		perror("netlab-bench: malloc");
		exit(2);
	}
	for (i = 0; i < len; i++) {
		size_t line = (i / 74) % 95, col = i % 74;

		if (col == 72)
			b->chargen[i] = '\r';
		else if (col == 73)
			b->chargen[i] = '\n';
		else
			b->chargen[i] = (unsigned char)(' ' + (1 + (line + col) % (size_t)b->o.ring) % 95);
	}
	b->chargen_period = period;
}

static void
chargen_event(struct bench *b, struct bc *c, uint32_t ev)
{
	const unsigned char *want;
	ssize_t n;

	if (c->state == C_CONNECTING) {
		if (bc_connected(b, c))
			bc_interest(b, c, EPOLLIN | EPOLLRDHUP);
		return;
	}
	if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	n = read(c->fd, b->rdbuf, sizeof(b->rdbuf));
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		bench_error(b, "chargen: %s after %" PRIu64 " bytes",
		    n == 0 ? "connection closed" : strerror(errno), c->rpos);
		bc_close(b, c);
		return;
	}
	want = b->chargen + c->rpos % b->chargen_period;
	if (memcmp(b->rdbuf, want, (size_t)n) != 0) {
		ssize_t k = 0;

		while (k < n && b->rdbuf[k] == want[k])
			k++;
		bench_error(b, "chargen: stream differs at byte %" PRIu64 " (line %" PRIu64
		    ", column %" PRIu64 "): got 0x%02x, expected 0x%02x", c->rpos + (uint64_t)k,
		    (c->rpos + (uint64_t)k) / 74, (c->rpos + (uint64_t)k) % 74, b->rdbuf[k], want[k]);
		bc_close(b, c);
		return;
	}
	c->rpos += (uint64_t)n;
	if (!c->done_one) {
		c->done_one = true;
		b->warm++;
	}
	if (b->measuring) {
		b->ops++;
		b->bytes += (uint64_t)n;
	}
}

/* --- stuff: send a fixed amount of echo lines, never read the echoes --- */

static void
stuff_event(struct bench *b, struct bc *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		if (!bc_connected(b, c))
			return;
		ev = EPOLLOUT;
	}
	if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* The server may close a client that floods it: counted, not an error. */
		b->closed++;
		bc_close(b, c);
		return;
	}
	while (c->spos < b->o.send_total) {
		size_t k = b->o.send_total - c->spos;
		ssize_t n;

		if (k > 65536)
			k = 65536;
		n = write(c->fd, b->pool + c->spos % POOL_SIZE, k);
		if (n < 0 && errno == EAGAIN) {
			bc_interest(b, c, EPOLLOUT | EPOLLRDHUP);
			return;
		}
		if (n < 0) {
			b->closed++;
			bc_close(b, c);
			return;
		}
		c->spos += (uint64_t)n;
		b->bytes += (uint64_t)n;
	}
	if (!c->done_one) {
		c->done_one = true;
		b->warm++;
	}
	bc_interest(b, c, EPOLLRDHUP);
}

static void
dispatch(struct bench *b, struct bc *c, uint32_t ev)
{
	if (c->state != C_CONNECTING && c->state != C_ACTIVE)
		return;
	switch (b->o.mode) {
	case M_CONNECT:
	case M_SCRAPE:
		connect_event(b, c, ev);
		break;
	case M_ECHO:
	case M_ADD:
		rt_event(b, c, ev);
		break;
	case M_BULK:
		bulk_event(b, c, ev);
		break;
	case M_HOLD:
		hold_event(b, c, ev);
		break;
	case M_CHARGEN:
		chargen_event(b, c, ev);
		break;
	case M_STUFF:
		stuff_event(b, c, ev);
		break;
	default:
		break;
	}
}

/* --interval: start the operations whose pause is over; return the next due time. */
static uint64_t
pace(struct bench *b)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < b->nc; i++) {
		struct bc *c = &b->c[i];

		if (c->due == 0)
			continue;
		if (c->due > b->now) {
			if (c->due < next)
				next = c->due;
			continue;
		}
		c->due = 0;
		if (b->o.mode == M_ECHO && c->state == C_ACTIVE)
			echo_send(b, c);
		else if (b->o.mode == M_CONNECT || b->o.mode == M_SCRAPE)
			connect_start(b, c);
	}
	return next;
}

/* One pass of the event loop, waiting at most until deadline. */
static void
poll_once(struct bench *b, uint64_t deadline)
{
	struct epoll_event evs[512];
	int n, ms = 0;

	b->now = now_ns();
	if (b->o.interval_ns > 0) {
		uint64_t next = pace(b);

		if (next < deadline)
			deadline = next;
	}
	if (deadline > b->now)
		ms = (int)((deadline - b->now + 999999) / 1000000);
	if (ms > 100)
		ms = 100;
	n = epoll_wait(b->ep, evs, 512, ms);
	if (n < 0 && errno != EINTR) {
		bench_error(b, "epoll_wait: %s", strerror(errno));
		interrupted = 1;
		return;
	}
	b->now = now_ns();
	for (int i = 0; i < n; i++) {
		/* Fresh per event, so latencies do not include the rest of the batch. */
		b->now = now_ns();
		dispatch(b, evs[i].data.ptr, evs[i].events);
	}
	rss_sample(b);
}

/* --- set-up and the result line --- */

static int
parse_target(struct bench *b)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&b->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&b->ss;

	memset(&b->ss, 0, sizeof(b->ss));
	if (inet_pton(AF_INET, b->o.host, &sin->sin_addr) == 1) {
		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)b->o.port);
		b->sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, b->o.host, &sin6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)b->o.port);
		b->sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static void
raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = (rlim_t)want;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;	/* root may raise the hard limit */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
alloc_conns(struct bench *b)
{
	size_t sz = 0, rsz = 0, esz = 0;

	switch (b->o.mode) {
	case M_CONNECT:
		rsz = MAX_REPLY;
		if (b->o.proxy)
			sz = MAX_PREAMBLE;
		break;
	case M_SCRAPE:
		rsz = MAX_SCRAPE;
		sz = MAX_PREAMBLE;
		break;
	case M_ECHO:
		sz = rsz = b->o.line;
		break;
	case M_ADD:
		sz = rsz = esz = (size_t)b->o.depth * 8;
		break;
	case M_HOLD:
		if (b->o.probe)
			sz = rsz = 8;
		break;
	default:
		break;
	}
	b->nc = b->o.conns;
	if ((b->c = calloc((size_t)b->nc, sizeof(*b->c))) == NULL) {
		perror("netlab-bench: calloc");
		exit(2);
	}
	for (int i = 0; i < b->nc; i++) {
		struct bc *c = &b->c[i];

		c->fd = -1;
		c->state = C_IDLE;
		if ((sz && (c->sbuf = malloc(sz)) == NULL) ||
		    (rsz && (c->rbuf = malloc(rsz)) == NULL) ||
		    (esz && (c->ebuf = malloc(esz)) == NULL)) {
			perror("netlab-bench: malloc");
			exit(2);
		}
	}
}

/* Open every connection; return once all finished one operation (or connected, for hold). */
static bool
ramp_up(struct bench *b)
{
	uint64_t deadline = now_ns() + (uint64_t)(b->o.setup_timeout * 1e9);
	int next = 0;

	bool opened = b->o.mode == M_HOLD || b->o.mode == M_STUFF;

	b->now = now_ns();
	if (b->o.mode == M_CONNECT || b->o.mode == M_SCRAPE) {
		for (int i = 0; i < b->nc; i++)
			connect_start(b, &b->c[i]);
		return true;
	}
	while (!interrupted && b->now < deadline) {
		/* hold and stuff are ready when connected; the others when answered */
		int target = opened ? b->active + b->closed : b->warm;

		/*
		 * Open a bounded number at a time, so a server that accepts slowly
		 * (xinetd forks per connection) never overflows its backlog and
		 * leaves us waiting out SYN retransmits.
		 */
		while (next < b->nc && b->started - target - (int)b->connect_errors < RAMP_INFLIGHT) {
			uint32_t ev = opened ? EPOLLOUT : EPOLLIN | EPOLLOUT;

			bc_connect(b, &b->c[next++], ev);
		}
		if (target + (int)b->connect_errors >= b->nc && next == b->nc)
			return b->connect_errors == 0;
		if (b->connect_errors > 0 && !opened)
			return false;
		poll_once(b, deadline);
	}
	fprintf(stderr, "netlab-bench: only %d of %d connections %s within %.0f s\n",
	    opened ? b->active : b->warm, b->nc,
	    opened ? "opened" : "answered", b->o.setup_timeout);
	return false;
}

/* Every connection has been answered once: start all the closed loops together. */
static void
start_loops(struct bench *b)
{
	b->looping = true;
	b->now = now_ns();
	for (int i = 0; i < b->nc; i++) {
		struct bc *c = &b->c[i];

		if (c->state != C_ACTIVE || !c->parked)
			continue;
		c->parked = false;
		if (b->o.mode == M_ECHO)
			echo_send(b, c);
		else
			add_send(b, c);
	}
}

static void
run_for(struct bench *b, double seconds)
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);

	while (!interrupted && now_ns() < end)
		poll_once(b, end);
}

static const char *const mode_names[] = {
	"connect", "echo", "add", "bulk", "hold", "chargen", "stuff", "scrape", "udp", "flood",
	"ports"
};

static const char *
mode_name(enum mode m)
{
	return mode_names[m];
}

static int
run_hold(struct bench *b)
{
	long rss0 = -1, rss1 = -1, fds0 = -1, fds;
	uint64_t deadline;
	int open, probed = 0;

	if (b->o.pid > 0) {
		rss0 = proc_status_kb(b->o.pid, "VmRSS");
		fds0 = proc_nfds(b->o.pid);
	}
	ramp_up(b);
	if (b->o.pid > 0) {
		/* Connected is not accepted: wait until the server holds every descriptor. */
		deadline = now_ns() + (uint64_t)(b->o.setup_timeout * 1e9);
		while (!interrupted && now_ns() < deadline &&
		    (fds = proc_nfds(b->o.pid)) >= 0 && fds < fds0 + b->active)
			poll_once(b, now_ns() + 50000000);
		run_for(b, 0.5);
		rss1 = proc_status_kb(b->o.pid, "VmRSS");
	}
	run_for(b, b->o.duration);
	if (b->o.probe) {
		for (int i = 0; i < b->nc; i++) {
			struct bc *c = &b->c[i];

			if (c->state != C_ACTIVE)
				continue;
			memcpy(c->sbuf, "ping\n", 5);
			c->wlen = c->need = 5;
			c->woff = c->got = 0;
			bc_flush(b, c);
		}
		deadline = now_ns() + (uint64_t)(b->o.setup_timeout * 1e9);
		for (;;) {
			probed = 0;
			for (int i = 0; i < b->nc; i++)
				probed += b->c[i].state == C_ACTIVE && b->c[i].done_one;
			if (interrupted || probed >= b->active || now_ns() >= deadline)
				break;
			poll_once(b, deadline);
		}
	}
	open = b->active;
	printf("mode=hold conns=%d open=%d", b->nc, open);
	if (b->o.probe)
		printf(" answered=%d", probed);
	printf(" errors=%" PRIu64, b->errors);
	if (b->o.pid > 0 && rss0 >= 0 && rss1 >= 0)
		printf(" server_rss_before_kb=%ld server_rss_held_kb=%ld rss_per_conn_b=%.0f",
		    rss0, rss1, open > 0 ? (double)(rss1 - rss0) * 1024.0 / open : 0.0);
	printf("\n");
	return b->errors > 0 || open < b->nc || (b->o.probe && probed < open) ? 1 : 0;
}

/*
 * stuff: open every connection, send send_total bytes of echo lines on each
 * and never read, for the duration; the server's RSS is sampled throughout.
 */
static int
run_stuff(struct bench *b)
{
	uint64_t t0 = now_ns();
	int done = 0;

	b->now = t0;
	rss_sample(b);
	ramp_up(b);
	run_for(b, b->o.duration);
	b->rss_next = 0;
	b->now = now_ns();
	rss_sample(b);
	for (int i = 0; i < b->nc; i++)
		done += b->c[i].done_one;
	printf("mode=stuff conns=%d open=%d closed=%d done=%d sent_bytes=%" PRIu64
	    " duration_s=%.2f errors=%" PRIu64, b->nc, b->active, b->closed, done, b->bytes,
	    (double)(b->now - t0) / 1e9, b->errors);
	if (b->o.pid > 0 && b->rss_start >= 0)
		printf(" rss_start_kb=%ld rss_peak_kb=%ld rss_end_kb=%ld", b->rss_start,
		    b->rss_peak, b->rss_end);
	printf("\n");
	return b->errors > 0 || b->active + b->closed < b->nc ? 1 : 0;
}

/* Our own CPU time: shows whether the generator, not the server, was the limit. */
uint64_t
self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	    ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static int
run_load(struct bench *b)
{
	uint64_t cpu0 = 0, cpu1 = 0, self0, self1, t0, t1;
	bool streaming = b->o.mode == M_BULK || b->o.mode == M_CHARGEN;
	double secs;

	if (!ramp_up(b)) {
		printf("mode=%s conns=%d ops=0 errors=%" PRIu64 " setup=failed\n",
		    mode_name(b->o.mode), b->nc, b->errors + 1);
		return 1;
	}
	if (b->o.mode == M_ECHO || b->o.mode == M_ADD)
		start_loops(b);
	run_for(b, b->o.warmup);
	if (b->o.pid > 0)
		cpu0 = server_cpu_ns(b->o.pid);
	self0 = self_cpu_ns();
	t0 = now_ns();
	b->measuring = true;
	run_for(b, b->o.duration);
	b->measuring = false;
	t1 = now_ns();
	self1 = self_cpu_ns();
	if (b->o.pid > 0)
		cpu1 = server_cpu_ns(b->o.pid);
	secs = (double)(t1 - t0) / 1e9;

	printf("mode=%s conns=%d duration_s=%.2f ops=%" PRIu64 " ops_s=%.0f p50_us=%.1f"
	    " p99_us=%.1f max_us=%.1f errors=%" PRIu64, mode_name(b->o.mode), b->nc, secs, b->ops,
	    (double)b->ops / secs, hist_pct(b, 50), hist_pct(b, 99), (double)b->max_ns / 1000.0,
	    b->errors);
	if (secs > 0.01)
		printf(" client_cpu_util=%.2f", (double)(self1 - self0) / 1e9 / secs);
	if (streaming)
		printf(" bytes=%" PRIu64 " mb_s=%.1f", b->bytes, (double)b->bytes / secs / 1e6);
	if (b->o.mode == M_SCRAPE && b->ops > 0)
		printf(" body_bytes=%.0f", (double)b->bytes / (double)b->ops);
	if (b->o.pid > 0) {
		double cpu_us = (double)(cpu1 - cpu0) / 1000.0;

		printf(" server_cpu_util=%.2f", cpu_us / 1e6 / secs);
		if (b->ops > 0)
			printf(" server_cpu_us_per_op=%.3f", cpu_us / (double)b->ops);
		if (streaming && b->bytes > 0)
			printf(" server_cpu_us_per_mb=%.1f", cpu_us / ((double)b->bytes / 1e6));
	}
	printf("\n");
	return b->errors > 0 || b->ops == 0 ? 1 : 0;
}

/* Is PORT free for TYPE on ADDR (a 127.0.0.1 or ::1 socket address)?  Keeps it bound in *fd. */
static bool
port_try(int family, int type, uint16_t port, int *fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
	    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int one = 1;

	if ((*fd = socket(family, type | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (family == AF_INET6)
		setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (family == AF_INET ? bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 :
	    bind(*fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
		return true;
	close(*fd);
	*fd = -1;
	return false;
}

/*
 * Print N ports free on 127.0.0.1 and ::1, for TCP and for UDP, for the
 * benchmark driver.  Every port found stays bound until all are found, so
 * the N are distinct.
 */
static int
run_ports(int n)
{
	static const int kinds[4][2] = {
		{ AF_INET, SOCK_STREAM }, { AF_INET6, SOCK_STREAM },
		{ AF_INET, SOCK_DGRAM }, { AF_INET6, SOCK_DGRAM },
	};
	int *fds, nfd = 0, found = 0, tries = 0;

	if (n < 1 || n > 4096)
		return 2;
	raise_nofile(4 * (n + 64) + 64);
	if ((fds = malloc(sizeof(*fds) * 4 * (size_t)(n + 64))) == NULL)
		return 2;
	while (found < n && tries++ < n + 64) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int k, f[4];

		/* The kernel picks a port free for TCP on 127.0.0.1; check the other three. */
		if (!port_try(AF_INET, SOCK_STREAM, 0, &f[0]) ||
		    getsockname(f[0], (struct sockaddr *)&sin, &len) < 0)
			return 1;
		for (k = 1; k < 4; k++)
			if (!port_try(kinds[k][0], kinds[k][1], ntohs(sin.sin_port), &f[k]))
				break;
		for (int j = 0; j < k; j++)
			fds[nfd++] = f[j];
		if (k < 4)
			continue;
		printf("%s%d", found++ ? " " : "", ntohs(sin.sin_port));
	}
	printf("\n");
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	free(fds);
	return found == n ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: netlab-bench MODE -h HOST -p PORT [options]\n"
	    "       netlab-bench ports N\n"
	    "modes (TCP): connect echo add bulk hold chargen stuff scrape; (UDP): udp flood\n"
	    "  -h HOST        loopback literal: 127.0.0.0/8 or ::1 (anything else is refused)\n"
	    "  -4, -6         insist on the family (the literal decides it anyway)\n"
	    "  -p PORT        server port\n"
	    "  -c N           connections (in flight, for connect); udp: flows;\n"
	    "                 flood: source addresses (default 1000)\n"
	    "  -d SECONDS     measured duration (hold: how long to hold)\n"
	    "  -l BYTES       echo line / UDP datagram length, newline included (default 64)\n"
	    "  -k N           add: requests pipelined per batch (default 16);\n"
	    "                 udp: datagrams in flight per flow (default 1)\n"
	    "  -w BYTES       bulk: write size (default 16384)\n"
	    "  --window BYTES bulk: most bytes in flight per connection (default 262144)\n"
	    "  --warmup SECONDS  unmeasured run before the window (default 0.5)\n"
	    "  --pid PID      server process: report its CPU time per operation (and RSS)\n"
	    "  --expect STR   connect, udp: the exact payload (C escapes \\n \\r allowed);\n"
	    "                 default: a ctime(3)-shaped daytime line ending in CRLF\n"
	    "  --line         connect, udp: accept any one CRLF-terminated line\n"
	    "  --daytime      udp: the reply is a daytime line (default: the datagram echoed)\n"
	    "  --probe        hold: at the end, check every connection still echoes\n"
	    "  --proxy-v1, --proxy-v2\n"
	    "                 connect: send a PROXY protocol header right after connecting\n"
	    "  --interval MS  connect, echo: pause between operations (a latency probe)\n"
	    "  --ring N       chargen: characters in the ring (RFC 864: 95; xinetd: 93)\n"
	    "  --send BYTES   stuff: bytes each connection sends and never reads (524288)\n"
	    "  --path PATH    scrape: the path to GET (default /metrics)\n"
	    "  --loss-ms MS   udp: a datagram unanswered this long is lost (default 200)\n"
	    "  --batch N      flood: datagrams per sendmmsg (default 8)\n");
	exit(2);
}

static char *
unescape(const char *s)
{
	char *out = strdup(s), *o = out;

	if (out == NULL)
		exit(2);
	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*o++ = *s;
			continue;
		}
		s++;
		*o++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
	}
	*o = '\0';
	return out;
}

static double
parse_num(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "netlab-bench: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'P' },
		{ "expect", required_argument, NULL, 'E' },
		{ "line", no_argument, NULL, 'L' },
		{ "probe", no_argument, NULL, 'R' },
		{ "window", required_argument, NULL, 'W' },
		{ "warmup", required_argument, NULL, 'U' },
		{ "setup-timeout", required_argument, NULL, 'T' },
		{ "daytime", no_argument, NULL, 'D' },
		{ "proxy-v1", no_argument, NULL, '1' },
		{ "proxy-v2", no_argument, NULL, '2' },
		{ "interval", required_argument, NULL, 'I' },
		{ "ring", required_argument, NULL, 'G' },
		{ "send", required_argument, NULL, 'S' },
		{ "path", required_argument, NULL, 'A' },
		{ "loss-ms", required_argument, NULL, 'O' },
		{ "batch", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench *b;
	int ch, m, want_family = AF_UNSPEC;
	bool conns_set = false;

	if (argc < 2)
		usage();
	for (m = 0; m <= M_PORTS; m++)
		if (strcmp(argv[1], mode_names[m]) == 0)
			break;
	if (m > M_PORTS)
		usage();
	if (m == M_PORTS)
		return run_ports(argc > 2 ? atoi(argv[2]) : 1);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return 2;
	b->o = (struct opts){ .mode = (enum mode)m, .conns = 1, .duration = 3, .warmup = 0.5,
	    .setup_timeout = 20, .line = 64, .depth = 16, .wsize = 16384, .window = 262144,
	    .send_total = 512 * 1024, .ring = 95, .path = "/metrics", .loss_ms = 200,
	    .batch = 8 };
	b->rss_start = b->rss_peak = b->rss_end = -1;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "h:p:c:d:l:k:w:46", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			b->o.host = optarg;
			break;
		case 'p':
			b->o.port = (int)parse_num(optarg, 1, 65535);
			break;
		case 'c':
			b->o.conns = (int)parse_num(optarg, 1, 1000000);
			conns_set = true;
			break;
		case 'd':
			b->o.duration = parse_num(optarg, 0, 3600);
			break;
		case 'l':
			b->o.line = (size_t)parse_num(optarg, 1, POOL_SIZE / 2);
			break;
		case 'k':
			b->o.depth = (int)parse_num(optarg, 1, 65536);
			b->o.depth_set = true;
			break;
		case 'w':
			b->o.wsize = (size_t)parse_num(optarg, 1, POOL_SIZE);
			break;
		case 'W':
			b->o.window = (size_t)parse_num(optarg, 1, 1 << 30);
			break;
		case 'U':
			b->o.warmup = parse_num(optarg, 0, 3600);
			break;
		case 'T':
			b->o.setup_timeout = parse_num(optarg, 1, 3600);
			break;
		case 'P':
			b->o.pid = (pid_t)parse_num(optarg, 1, 1 << 30);
			break;
		case 'E':
			b->o.expect = unescape(optarg);
			break;
		case 'L':
			b->o.anyline = true;
			break;
		case 'R':
			b->o.probe = true;
			break;
		case 'D':
			b->o.daytime = true;
			break;
		case '1':
		case '2':
			b->o.proxy = ch - '0';
			break;
		case 'I':
			b->o.interval_ns = (uint64_t)(parse_num(optarg, 0.001, 3600e3) * 1e6);
			break;
		case 'G':
			b->o.ring = (int)parse_num(optarg, 1, 95);
			break;
		case 'S':
			b->o.send_total = (size_t)parse_num(optarg, 1, 1 << 30);
			break;
		case 'A':
			if (optarg[0] != '/' || strlen(optarg) > 40 || strpbrk(optarg, " \r\n") != NULL) {
				fprintf(stderr, "netlab-bench: bad path: %s\n", optarg);
				return 2;
			}
			b->o.path = optarg;
			break;
		case 'O':
			b->o.loss_ms = parse_num(optarg, 1, 60000);
			break;
		case 'B':
			b->o.batch = (int)parse_num(optarg, 1, 1024);
			break;
		case '4':
		case '6':
			want_family = ch == '4' ? AF_INET : AF_INET6;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || b->o.host == NULL || b->o.port == 0)
		usage();
	if (parse_target(b) < 0) {
		fprintf(stderr, "netlab-bench: refusing %s: only loopback literals "
		    "(127.0.0.0/8, ::1) may be loaded\n", b->o.host);
		return 2;
	}
	if (want_family != AF_UNSPEC && want_family != b->ss.ss_family) {
		fprintf(stderr, "netlab-bench: %s is not an %s address\n", b->o.host,
		    want_family == AF_INET ? "IPv4" : "IPv6");
		return 2;
	}
	if (b->o.window < b->o.wsize)
		b->o.window = b->o.wsize;
	if (b->o.proxy && b->o.mode != M_CONNECT) {
		fprintf(stderr, "netlab-bench: --proxy-v%d is for connect mode\n", b->o.proxy);
		return 2;
	}
	if (b->o.mode == M_UDP && !b->o.depth_set)
		b->o.depth = 1;
	if (b->o.mode == M_FLOOD && !conns_set)
		b->o.conns = 1000;
	if (b->o.mode == M_UDP && !b->o.daytime && !b->o.anyline && b->o.expect == NULL &&
	    b->o.line < 8) {
		fprintf(stderr, "netlab-bench: udp echo needs -l 8 or more (a tag per datagram)\n");
		return 2;
	}
	if (b->o.pid > 0 && kill(b->o.pid, 0) < 0) {
		fprintf(stderr, "netlab-bench: no process %d\n", (int)b->o.pid);
		return 2;
	}

	raise_nofile(b->o.conns + 64);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	b->rng = (now_ns() ^ ((uint64_t)getpid() << 32)) | 1;
	if (b->o.mode == M_BULK || b->o.mode == M_STUFF) {
		bulk_fill_pool(b);
	} else {
		/* Printable bytes, no newline: echo lines are cut from here. */
		for (size_t i = 0; i < sizeof(b->pool); i++)
			b->pool[i] = (unsigned char)('!' + rnd(b) % 94);
	}
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("netlab-bench: epoll_create1");
		return 2;
	}
	switch (b->o.mode) {
	case M_UDP:
		return run_udp(b);
	case M_FLOOD:
		return run_flood(b);
	case M_CHARGEN:
		chargen_fill(b);
		break;
	default:
		break;
	}
	alloc_conns(b);
	if (b->o.mode == M_HOLD)
		return run_hold(b);
	return b->o.mode == M_STUFF ? run_stuff(b) : run_load(b);
}
