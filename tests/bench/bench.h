/*
 * bench.h - what netlab-bench's TCP side (netlab-bench.c) and its UDP side
 * (bench-udp.c) share: options, the run's state, and the measuring helpers.
 */
#ifndef NETLAB_BENCH_H
#define NETLAB_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum mode {
	M_CONNECT, M_ECHO, M_ADD, M_BULK, M_HOLD, M_CHARGEN, M_STUFF, M_SCRAPE,
	M_UDP, M_FLOOD, M_PORTS
};

enum cstate { C_IDLE, C_CONNECTING, C_ACTIVE, C_CLOSED };

/* Bulk: a periodic stream of printable lines, stored twice so any window is contiguous. */
#define POOL_SIZE	65536
#define RING_SIZE	64
#define READ_SIZE	(256 * 1024)
#define MAX_REPLY	512		/* connect mode: longest payload accepted */
#define MAX_SCRAPE	(8 << 20)	/* scrape: longest HTTP response accepted */
#define MAX_PREAMBLE	128		/* connect: PROXY header written after connecting */
#define MAX_ERR_MSGS	10		/* detailed error lines printed to stderr */
#define RAMP_INFLIGHT	64		/* connections opening at once while ramping up */
#define MAX_ERRORS	1000		/* give up: the target is not serving */
#define UDP_MAX		65536		/* larger than any UDP payload */

struct opts {
	enum mode	 mode;
	const char	*host;
	int		 port;
	int		 conns;		/* connections; UDP: flows; flood: source addresses */
	double		 duration;
	double		 warmup;
	double		 setup_timeout;
	size_t		 line;		/* echo line / UDP datagram length */
	int		 depth;		/* add: pipelined requests; UDP: datagrams in flight per flow */
	bool		 depth_set;
	size_t		 wsize;
	size_t		 window;
	size_t		 send_total;	/* stuff: bytes each connection sends */
	pid_t		 pid;
	const char	*expect;	/* connect, UDP: exact payload; NULL: daytime shape */
	bool		 anyline;	/* connect, UDP: any one CRLF-terminated line */
	bool		 daytime;	/* UDP: a daytime-shaped reply (default: echo) */
	bool		 probe;		/* hold: check each connection with an echo at the end */
	int		 proxy;		/* connect: PROXY protocol header version (0: none) */
	uint64_t	 interval_ns;	/* connect, echo: pause between operations (a probe) */
	int		 ring;		/* chargen: characters in the ring (RFC 864: 95) */
	const char	*path;		/* scrape: the URL path */
	double		 loss_ms;	/* UDP: a datagram unanswered this long is lost */
	int		 batch;		/* flood: datagrams per sendmmsg */
};

/* One client connection; buffers are allocated only for modes that use them. */
struct bc {
	int		 fd;
	enum cstate	 state;
	uint32_t	 events;	/* current epoll interest */
	bool		 done_one;	/* completed an operation: counts as warmed up */
	bool		 parked;	/* answered once; waits for the others before looping */
	uint64_t	 t0;		/* when the current operation started (ns) */
	uint64_t	 due;		/* --interval: when the next operation starts (0: none) */
	size_t		 need, got;	/* reply bytes expected / received */
	size_t		 wlen, woff;	/* request bytes to send / sent */
	unsigned char	*sbuf;		/* request as sent (echo, add, PROXY header, HTTP) */
	unsigned char	*ebuf;		/* expected reply (add) */
	unsigned char	*rbuf;		/* reply as received */
	uint64_t	 spos, rpos;	/* bulk, chargen, stuff: stream bytes sent / received */
	uint64_t	 ring_end[RING_SIZE], ring_t[RING_SIZE];
	unsigned	 rh, rt;	/* bulk: write timestamps, head and tail */
};

struct bench {
	struct opts	 o;
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	int		 ep;
	struct bc	*c;
	int		 nc;
	bool		 measuring;
	bool		 looping;	/* every connection answered once: closed loops run */
	uint64_t	 now;
	uint64_t	 ops, bytes, errors, connect_errors;
	uint64_t	 max_ns;	/* longest operation in the window */
	int		 started;	/* connections ever started (hold) */
	int		 active;	/* connections open and connected */
	int		 warm;		/* connections that finished one operation */
	int		 closed;	/* stuff: connections the server closed */
	unsigned	 err_msgs;
	uint64_t	 rng;
	uint64_t	 proxy_n;	/* PROXY headers made: varies their source */
	long		 rss_start, rss_peak, rss_end;	/* server VmRSS samples (KiB) */
	uint64_t	 rss_next;
	unsigned char	*chargen;	/* the RFC 864 stream, long enough for any read */
	size_t		 chargen_period;
	uint64_t	 hist[64 * 64];
	unsigned char	 pool[2 * POOL_SIZE];
	unsigned char	 rdbuf[READ_SIZE];
};

extern volatile sig_atomic_t interrupted;

uint64_t	now_ns(void);
uint64_t	rnd(struct bench *);
void		bench_error(struct bench *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		hist_add(struct bench *, uint64_t);
double		hist_pct(const struct bench *, double);
uint64_t	server_cpu_ns(pid_t);
uint64_t	self_cpu_ns(void);
void		rss_sample(struct bench *);
long		udp_rcvbuf_errors(void);
bool		daytime_shape(const unsigned char *, size_t);
bool		line_shape(const unsigned char *, size_t);

int		run_udp(struct bench *);
int		run_flood(struct bench *);

#endif
