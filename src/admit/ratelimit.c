/* ratelimit.c - two token buckets per source in one fixed array: bounded memory under any flood. */
#include "config.h"

#include <stdlib.h>

#include "admit/ratelimit.h"

/* Tokens count in thousandths: a millisecond at rate r earns exactly r of them. */
#define ONE	1000u

/*
 * Every bit of the key moves every bit of the result (murmur3's finalizer).
 * A bare multiply would not do: its bits below 54 never see the key's top
 * ten bits, which hold the last byte of an IPv6 /64 (peer_source_key), so
 * 2001:db8:1:1::/64 and 2001:db8:1:2::/64 would always share both buckets.
 */
static uint64_t
ratelimit_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void
bucket_refill(struct ratelimit_bucket *b, uint32_t rate, uint32_t burst, uint32_t now)
{
	uint32_t elapsed = now - b->stamp;
	uint64_t t;

	if (b->stamp == 0) {
		/* Never used: a new source may send its burst. */
		b->tokens = burst;
		b->stamp = now;
		return;
	}
	if (elapsed == 0)
		return;
	t = b->tokens + (uint64_t)elapsed * rate * ONE / 1000;
	b->tokens = t > burst ? burst : (uint32_t)t;
	b->stamp = now;
}

bool
ratelimit_take(struct ratelimit *r, uint64_t key, int rate, uint32_t now)
{
	struct ratelimit_bucket *a, *b;
	uint32_t burst = (uint32_t)rate * 2 * ONE;
	uint64_t h;

	if (rate <= 0)
		return true;
	if (r->buckets == NULL &&
	    (r->buckets = calloc(RATELIMIT_BUCKETS, sizeof(*r->buckets))) == NULL)
		return false;
	if (now == 0)
		now = 1;	/* 0 marks a bucket never used */
	/* Two buckets from two unrelated parts of one well-mixed hash. */
	h = ratelimit_mix(key);
	a = &r->buckets[h & (RATELIMIT_BUCKETS - 1)];
	b = &r->buckets[(h >> 32) & (RATELIMIT_BUCKETS - 1)];
	bucket_refill(a, (uint32_t)rate, burst, now);
	if (b != a)
		bucket_refill(b, (uint32_t)rate, burst, now);
	if (a->tokens < ONE || b->tokens < ONE)
		return false;
	a->tokens -= ONE;
	if (b != a)
		b->tokens -= ONE;
	return true;
}

void
ratelimit_free(struct ratelimit *r)
{
	free(r->buckets);
	r->buckets = NULL;
}
