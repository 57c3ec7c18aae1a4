/*
 * stats.h - the one owner of netlabd's counters.  Each service has a block
 * of counters, registered here while the service is in the config; the
 * SIGUSR1 lines, STATUS= and the metrics endpoint all read this registry,
 * so they cannot disagree.
 */
#ifndef NETLABD_STATS_H
#define NETLABD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

/* Why a connection was accepted and closed at once: metric label, log text. */
#define STATS_REFUSALS(X)						\
	X(REFUSE_ACL, "acl", "denied by access list")			\
	X(REFUSE_GLOBAL, "max-connections", "global max-connections reached") \
	X(REFUSE_MAX_CONNS, "max-connections", "service max-connections reached") \
	X(REFUSE_PER_SOURCE, "max-per-source", "max-per-source reached")	\
	X(REFUSE_RATE, "rate-limit", "rate-limit reached")		\
	X(REFUSE_NOMEM, "out-of-memory", "out of memory")

/* Why a datagram got no reply: metric label, summary text. */
#define STATS_DROPS(X)							\
	X(DROP_RATE, "rate-limit", "rate-limited")			\
	X(DROP_PORT, "source-port", "from ports below 1024")		\
	X(DROP_ADDR, "source-address", "from unspecified, broadcast or multicast addresses") \
	X(DROP_MALFORMED, "malformed", "malformed")			\
	X(DROP_ACL, "acl", "denied by access list")			\
	X(DROP_ERROR, "send-error", "not sent (socket error)")

/* Why a connection ended with an error of its own. */
#define STATS_ERRORS(X)							\
	X(PERR_TRUNCATED, "truncated-request")				\
	X(PERR_MALFORMED, "bad-request")				\
	X(PERR_IDLE, "idle-timeout")					\
	X(PERR_PROXY_BAD, "bad-proxy-header")				\
	X(PERR_PROXY_TIMEOUT, "proxy-header-timeout")

#define STATS_ENUM3(e, label, text)	e,
#define STATS_ENUM2(e, label)		e,
enum stats_refusal { STATS_REFUSALS(STATS_ENUM3) STATS_NREFUSALS };
enum stats_drop { STATS_DROPS(STATS_ENUM3) STATS_NDROPS };
enum stats_error { STATS_ERRORS(STATS_ENUM2) STATS_NERRORS };

struct stats_svc {
	TAILQ_ENTRY(stats_svc)	 entry;
	bool			 registered;
	const char		*name;		/* the service's; lives as long as it */
	const char		*protocol;
	const char		*transport;
	uint64_t		 accepted;
	uint64_t		 refused[STATS_NREFUSALS];
	uint64_t		 errors[STATS_NERRORS];
	uint64_t		 bytes_in, bytes_out;
	int64_t			 active;
	uint64_t		 dgrams_in, dgrams_answered;	/* udp services */
	uint64_t		 dropped[STATS_NDROPS];
};

TAILQ_HEAD(stats_list, stats_svc);

/* Daemon-wide counters. */
struct stats {
	struct stats_list	 services;	/* in config order */
	time_t			 started;
	uint64_t		 accepted;	/* every service, removed ones too */
	int64_t			 active;
	uint64_t		 unclaimed;	/* on passed sockets no service uses */
	uint64_t		 reloads_ok, reloads_failed;
	bool			 last_reload_ok;
	time_t			 last_reload_ok_at;
};

extern struct stats stats;

void	stats_init(void);
void	stats_register(struct stats_svc *, const char *name, const char *protocol,
	    const char *transport);
void	stats_unregister(struct stats_svc *);
uint64_t stats_refused_total(const struct stats_svc *);
const char *stats_refusal_label(enum stats_refusal);
const char *stats_refusal_text(enum stats_refusal);
const char *stats_error_label(enum stats_error);
const char *stats_drop_label(enum stats_drop);
const char *stats_drop_text(enum stats_drop);
uint64_t stats_dropped_total(const struct stats_svc *);
/* Log one statistics line per service (SIGUSR1). */
void	stats_log(void);
/* The STATUS= text: "N open connection(s), M accepted". */
void	stats_status(char *buf, size_t size);
void	stats_reloaded(bool ok, time_t now);

#endif
