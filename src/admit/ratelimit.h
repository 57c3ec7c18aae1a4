/*
 * ratelimit.h - token buckets per source, in a table of fixed size.  UDP
 * sources can be forged by the million, so the table never grows: each
 * source hashes to two buckets of a fixed array and may take a token only
 * when both have one.  A victim's buckets are never reset by others'
 * traffic, so what it can be sent stays bounded; an innocent source pays
 * only if both its buckets are shared with heavy senders.
 */
#ifndef NETLABD_ADMIT_RATELIMIT_H
#define NETLABD_ADMIT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_BUCKETS	16384	/* 128 KiB per service that has a limit */

struct ratelimit_bucket {
	uint32_t	 tokens;	/* in 1/1000ths of a token */
	uint32_t	 stamp;		/* milliseconds, when tokens was last brought up to date */
};

struct ratelimit {
	struct ratelimit_bucket	*buckets;	/* made on first use */
};

/* May key have one more (rate per second, burst twice that)?  now: monotonic ms. */
bool	ratelimit_take(struct ratelimit *, uint64_t key, int rate, uint32_t now_ms);
void	ratelimit_free(struct ratelimit *);

#endif
