/* srctab.h - open connections per client source (IPv4 address, IPv6 /64), for max-per-source. */
#ifndef NETLABD_ADMIT_SRCTAB_H
#define NETLABD_ADMIT_SRCTAB_H

#include <stddef.h>
#include <stdint.h>

struct srcent;

struct srctab {
	struct srcent	**buckets;
	size_t		 nbuckets, nentries;
};

uint32_t srctab_count(const struct srctab *, uint64_t key);
/* Count one more connection from key; -1 when out of memory (nothing counted). */
int	srctab_inc(struct srctab *, uint64_t key);
void	srctab_dec(struct srctab *, uint64_t key);
void	srctab_free(struct srctab *);

#endif
