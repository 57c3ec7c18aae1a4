/* acl.h - a list of CIDR prefixes compiled into sorted disjoint ranges: one binary search per lookup. */
#ifndef NETLABD_ADMIT_ACL_H
#define NETLABD_ADMIT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

struct acl_range4 {
	uint32_t	 lo, hi;
};

struct acl_range6 {
	uint64_t	 lo_hi, lo_lo, hi_hi, hi_lo;	/* first and last address, as two 64-bit halves */
};

struct acl {
	struct acl_range4	*v4;
	struct acl_range6	*v6;
	size_t			 n4, n6;
	size_t			 nprefixes;	/* as configured, before merging */
};

/* Build from n prefixes (overlapping ones merged); -1 when out of memory. */
int	acl_build(struct acl *, const struct prefix *, size_t n);
bool	acl_match(const struct acl *, const struct prefix *addr);
void	acl_free(struct acl *);

#endif
