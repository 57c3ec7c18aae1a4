/* unit.h - the few macros the C unit tests share: CHECK a condition, RUN a test. */
#ifndef NETLABD_UNIT_H
#define NETLABD_UNIT_H

#include <stdio.h>

static int unit_failed, unit_passed, unit_checks_failed;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_checks_failed++;						\
	}									\
} while (0)

#define RUN(fn) do {								\
	int before = unit_checks_failed;					\
	fn();									\
	if (unit_checks_failed == before) {					\
		unit_passed++;							\
		printf("PASS: %s\n", #fn);					\
	} else {								\
		unit_failed++;							\
		printf("FAIL: %s\n", #fn);					\
	}									\
} while (0)

static inline int
unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
