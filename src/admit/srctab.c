/* srctab.c - a chained hash of per-source counts; an entry lives only while its count is not 0. */
#include "config.h"

#include <stdlib.h>

#include "admit/srctab.h"

struct srcent {
	struct srcent	*next;
	uint64_t	 key;
	uint32_t	 count;
};

/*
 * The bucket from the product's top bits: the low bits of key * odd never
 * see the key's top bits, and those are what tell the /64s of one /48 apart.
 */
static size_t
srctab_hash(const struct srctab *t, uint64_t key)
{
	int shift = 64;

	for (size_t n = t->nbuckets; n > 1; n >>= 1)
		shift--;
	key ^= key >> 29;
	key *= 0x9e3779b97f4a7c15ULL;
	return shift == 64 ? 0 : (size_t)(key >> shift);
}

static struct srcent **
srctab_slot(const struct srctab *t, uint64_t key)
{
	struct srcent **pp;

	for (pp = &t->buckets[srctab_hash(t, key)]; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->key == key)
			break;
	return pp;
}

uint32_t
srctab_count(const struct srctab *t, uint64_t key)
{
	if (t->nbuckets == 0)
		return 0;
	struct srcent *e = *srctab_slot(t, key);

	return e != NULL ? e->count : 0;
}

static int
srctab_grow(struct srctab *t)
{
	size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
	struct srcent **old = t->buckets;
	size_t oldn = t->nbuckets;

	if ((t->buckets = calloc(n, sizeof(*t->buckets))) == NULL) {
		t->buckets = old;
		return -1;
	}
	t->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct srcent *e, *next;

		for (e = old[i]; e != NULL; e = next) {
			size_t h = srctab_hash(t, e->key);

			next = e->next;
			e->next = t->buckets[h];
			t->buckets[h] = e;
		}
	}
	free(old);
	return 0;
}

int
srctab_inc(struct srctab *t, uint64_t key)
{
	struct srcent **pp, *e;

	if (t->nbuckets > 0 && (e = *srctab_slot(t, key)) != NULL) {
		e->count++;
		return 0;
	}
	if (t->nentries >= t->nbuckets && srctab_grow(t) < 0 && t->nbuckets == 0)
		return -1;
	/* malloc, not calloc: glibc 2.36's calloc skips the thread cache, and a
	 * source's entry comes and goes with each of its connections. */
	if ((e = malloc(sizeof(*e))) == NULL)
		return -1;
	pp = srctab_slot(t, key);
	e->next = NULL;
	e->key = key;
	e->count = 1;
	*pp = e;
	t->nentries++;
	return 0;
}

void
srctab_dec(struct srctab *t, uint64_t key)
{
	struct srcent **pp, *e;

	if (t->nbuckets == 0 || (e = *(pp = srctab_slot(t, key))) == NULL)
		return;
	if (--e->count == 0) {
		*pp = e->next;
		free(e);
		t->nentries--;
	}
}

void
srctab_free(struct srctab *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct srcent *e, *next;

		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->nentries = 0;
}
