/* floodlog.h - a service's refusals and drops past the log's rate, summarized every FLOOD_PERIOD seconds. */
#ifndef NETLABD_ADMIT_FLOODLOG_H
#define NETLABD_ADMIT_FLOODLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "stats.h"
#include "tailq.h"

#define FLOOD_LINES	10	/* lines per second and service, then only counted */
#define FLOOD_PERIOD	10	/* seconds between summary lines */
#define FLOOD_ANSWER_LINES	100	/* answered-datagram lines a second and service */
/* A TCP service's lines: its refusals, then the PROXY headers it closed connections for. */
#define FLOOD_PROXY_BAD		((int)STATS_NREFUSALS)
#define FLOOD_PROXY_LATE	((int)STATS_NREFUSALS + 1)
#define FLOOD_UNCLAIMED		((int)STATS_NREFUSALS + 2)	/* on a passed socket no service uses */
#define FLOOD_TCP_REASONS	((int)STATS_NREFUSALS + 3)
/* A UDP service's lines: its drops, then (the worker's) datagrams on passed sockets no one uses. */
#define FLOOD_UNCLAIMED_DGRAM	((int)STATS_NDROPS)
#define FLOOD_UDP_REASONS	((int)STATS_NDROPS + 1)
#define FLOOD_REASONS	(FLOOD_TCP_REASONS > FLOOD_UDP_REASONS ? FLOOD_TCP_REASONS : FLOOD_UDP_REASONS)

struct floodlog {
	TAILQ_ENTRY(floodlog)	 entry;		/* on a worker's list while a summary is due */
	struct floodlog_list	*on;
	const char		*name;		/* the service's */
	time_t			 second;	/* the second "lines" counts */
	int			 lines;
	bool			 datagrams;	/* a UDP service: its lines are drops, not refusals */
	int			 limit;		/* lines a second before only counting; 0: FLOOD_LINES */
	const char		*verb;		/* of the summary, when not refused/dropped/closed */
	uint64_t		 suppressed[FLOOD_REASONS];
	uint64_t		 total;
	uint8_t			*seen;		/* per reason, a bitmap of hashed sources */
};

TAILQ_HEAD(floodlog_list, floodlog);

static inline void
floodlog_unlink(struct floodlog *f)
{
	if (f->on != NULL)
		TAILQ_REMOVE(f->on, f, entry);
	f->on = NULL;
}

#endif
