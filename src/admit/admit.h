/*
 * admit.h - whether a new client may be served: access lists, the global,
 * service and per-source limits, and the log lines that say what happened
 * (past FLOOD_LINES a second only counted, and summarized).  It runs once
 * the real peer is known: at accept, or after a PROXY header.
 */
#ifndef NETLABD_ADMIT_H
#define NETLABD_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "stats.h"

struct service;
struct svc_conf;
struct worker;

/* What admission counted a connection in, so that its close undoes exactly that. */
enum admit_count {
	ADMIT_NONE,		/* not admitted: waiting for its PROXY header */
	ADMIT_SOURCE,		/* active, and one of its source's connections */
	ADMIT_LOCAL,		/* active only: a PROXY LOCAL / UNKNOWN header (a health check) */
};

/*
 * true: the client is counted in (accepted, active, its source) and the
 * accepted line is logged; false: it is refused, counted and logged.
 * via is the proxy a PROXY header came through, or NULL; a connection with
 * a via is already in the worker's table (it was accepted to read its header).
 */
bool	admit_conn(struct worker *, struct service *, const struct svc_conf *,
	    const struct peer *peer, const struct peer *via);
/*
 * A PROXY LOCAL / UNKNOWN header, what balancers send for health checks:
 * the proxy itself is the client, subject to the access lists and the
 * global and service limits but not to max-per-source or rate-limit, and
 * its accepted line ("...: what") is logged at debug level only.
 * Counted as ADMIT_LOCAL; the connection is already in the worker's table.
 */
bool	admit_local(struct worker *, struct service *, const struct svc_conf *,
	    const struct peer *proxy, const char *what);
/* An admitted connection is gone: undo what admission counted (nothing for ADMIT_NONE). */
void	admit_release(struct service *, const struct peer *peer, enum admit_count);
/*
 * A connection from a proxy closed for its PROXY header (PERR_PROXY_BAD or
 * PERR_PROXY_TIMEOUT): counted, and logged with why and the socket's peer
 * within the service's lines per second, like refusals, then summarized.
 */
void	admit_proxy_error(struct worker *, struct service *, const struct peer *sock,
	    enum stats_error, const char *why);
/* An admitted client could not be served after all (no memory): counted as refused instead. */
void	admit_revoke(struct worker *, struct service *, const struct peer *, enum stats_refusal);
/* Count and log a refusal decided elsewhere (no memory for the connection). */
void	admit_refuse(struct worker *, struct service *, const struct peer *, enum stats_refusal);
/* A client or datagram on a passed socket no service uses (closed, dropped): counted, logged. */
void	admit_unclaimed(struct worker *, const struct peer *, bool datagram);
/* Count a dropped datagram; its line is part of the next summary. */
void	admit_drop(struct worker *, struct service *, const struct peer *, enum stats_drop);
/*
 * UDP, before the protocol sees a datagram: the reflection guard (no
 * replies to ports below 1024, nor to unspecified, broadcast or multicast
 * sources) and the access lists.  false: dropped and counted.
 */
bool	admit_datagram(struct worker *, struct service *, const struct svc_conf *,
	    const struct peer *);
/* UDP, before a reply goes out: a token of the source's rate limit (a drop takes none). */
bool	admit_reply(struct worker *, struct service *, const struct svc_conf *,
	    const struct peer *, uint32_t now_ms);
/* "NAME: datagram from ADDR, port=N", for each answered datagram (floods summarized). */
void	admit_log_datagram(struct worker *, struct service *, const struct peer *);
/* Monotonic milliseconds, for the rate limits. */
uint32_t admit_clock(void);

#endif
