/* grow.h - room for one more element in a realloc'd array that doubles. */
#ifndef NETLABD_GROW_H
#define NETLABD_GROW_H

#include <stdbool.h>
#include <stdlib.h>

/* *v holds n of *cap elements of size bytes: make room for one more; false when out of memory. */
static inline bool
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 16;
	if ((p = realloc(*v, c * size)) == NULL)
		return false;
	*v = p;
	*cap = c;
	return true;
}

#endif
