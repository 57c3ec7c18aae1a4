/*
 * acl.c - allow/deny lists.  A block list can hold tens of thousands of
 * prefixes; matching each connection against every one of them would make
 * accept cost grow with the list, so the prefixes become sorted, merged
 * address ranges and a lookup is one binary search.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admit/acl.h"

static uint64_t
be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int
cmp4(const void *a, const void *b)
{
	const struct acl_range4 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int
lt6(uint64_t ah, uint64_t al, uint64_t bh, uint64_t bl)
{
	return ah < bh || (ah == bh && al < bl);
}

static int
cmp6(const void *a, const void *b)
{
	const struct acl_range6 *x = a, *y = b;

	if (lt6(x->lo_hi, x->lo_lo, y->lo_hi, y->lo_lo))
		return -1;
	return lt6(y->lo_hi, y->lo_lo, x->lo_hi, x->lo_lo);
}

/* The first and last address of a prefix as a 128-bit pair. */
static void
range6(const struct prefix *p, struct acl_range6 *r)
{
	uint64_t hi = be64(p->bytes), lo = be64(p->bytes + 8);
	uint64_t mhi, mlo;

	if (p->len == 0) {
		mhi = mlo = 0;
	} else if (p->len <= 64) {
		mhi = p->len == 64 ? ~0ULL : ~0ULL << (64 - p->len);
		mlo = 0;
	} else {
		mhi = ~0ULL;
		mlo = p->len == 128 ? ~0ULL : ~0ULL << (128 - p->len);
	}
	r->lo_hi = hi & mhi;
	r->lo_lo = lo & mlo;
	r->hi_hi = hi | ~mhi;
	r->hi_lo = lo | ~mlo;
}

int
acl_build(struct acl *a, const struct prefix *p, size_t n)
{
	size_t i, k;

	memset(a, 0, sizeof(*a));
	a->nprefixes = n;
	for (i = 0; i < n; i++) {
		if (p[i].family == AF_INET)
			a->n4++;
		else
			a->n6++;
	}
	if ((a->n4 > 0 && (a->v4 = calloc(a->n4, sizeof(*a->v4))) == NULL) ||
	    (a->n6 > 0 && (a->v6 = calloc(a->n6, sizeof(*a->v6))) == NULL)) {
		acl_free(a);
		return -1;
	}
	a->n4 = a->n6 = 0;
	for (i = 0; i < n; i++) {
		if (p[i].family == AF_INET) {
			uint32_t v = be32(p[i].bytes);
			uint32_t m = p[i].len == 0 ? 0 : ~0U << (32 - p[i].len);

			a->v4[a->n4].lo = v & m;
			a->v4[a->n4++].hi = v | ~m;
		} else {
			range6(&p[i], &a->v6[a->n6++]);
		}
	}
	if (a->n4 > 0)
		qsort(a->v4, a->n4, sizeof(*a->v4), cmp4);
	if (a->n6 > 0)
		qsort(a->v6, a->n6, sizeof(*a->v6), cmp6);
	/* Merge ranges that overlap or touch, so the ranges are disjoint and sorted. */
	for (i = 0, k = 0; i < a->n4; i++) {
		if (k > 0 && (a->v4[k - 1].hi == UINT32_MAX || a->v4[i].lo <= a->v4[k - 1].hi + 1)) {
			if (a->v4[i].hi > a->v4[k - 1].hi)
				a->v4[k - 1].hi = a->v4[i].hi;
		} else {
			a->v4[k++] = a->v4[i];
		}
	}
	a->n4 = k;
	for (i = 0, k = 0; i < a->n6; i++) {
		struct acl_range6 *last = k > 0 ? &a->v6[k - 1] : NULL;

		if (last != NULL && !lt6(last->hi_hi, last->hi_lo, a->v6[i].lo_hi, a->v6[i].lo_lo)) {
			if (lt6(last->hi_hi, last->hi_lo, a->v6[i].hi_hi, a->v6[i].hi_lo)) {
				last->hi_hi = a->v6[i].hi_hi;
				last->hi_lo = a->v6[i].hi_lo;
			}
		} else {
			a->v6[k++] = a->v6[i];
		}
	}
	a->n6 = k;
	return 0;
}

bool
acl_match(const struct acl *a, const struct prefix *addr)
{
	size_t lo = 0, hi;

	if (addr->family == AF_INET) {
		uint32_t v = be32(addr->bytes);

		hi = a->n4;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (a->v4[mid].hi < v)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo < a->n4 && a->v4[lo].lo <= v;
	}
	uint64_t vh = be64(addr->bytes), vl = be64(addr->bytes + 8);

	hi = a->n6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lt6(a->v6[mid].hi_hi, a->v6[mid].hi_lo, vh, vl))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n6 && !lt6(vh, vl, a->v6[lo].lo_hi, a->v6[lo].lo_lo);
}

void
acl_free(struct acl *a)
{
	free(a->v4);
	free(a->v6);
	memset(a, 0, sizeof(*a));
}
