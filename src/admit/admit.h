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

/*
 * true: the client is counted in (accepted, active, its source) and the
 * accepted line is logged; false: it is refused, counted and logged.
 * via is the proxy a PROXY header came through, or NULL.
 */
bool	admit_conn(struct worker *, struct service *, const struct svc_conf *,
	    const struct peer *peer, const struct peer *via);
/* An admitted connection is gone. */
void	admit_release(struct service *, const struct peer *peer);
/* An admitted client could not be served after all (no memory): counted as refused instead. */
void	admit_revoke(struct worker *, struct service *, const struct peer *, enum stats_refusal);
/* Count and log a refusal decided elsewhere (no memory for the connection). */
void	admit_refuse(struct worker *, struct service *, const struct peer *, enum stats_refusal);
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
/* "NAME: datagram from ADDR, port=N", for each answered datagram. */
void	admit_log_datagram(const struct service *, const struct peer *);
/* Monotonic milliseconds, for the rate limits. */
uint32_t admit_clock(void);

#endif
