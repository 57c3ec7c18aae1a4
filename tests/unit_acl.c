/* unit_acl.c - allow/deny lists compiled into ranges, and the endpoint overlap rules. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/acl.h"
#include "net/endpoint.h"
#include "unit.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	CHECK(prefix_parse(s, &p) == 0);
	return p;
}

static bool
match(const struct acl *a, const char *addr)
{
	struct prefix p = pfx(addr);

	return acl_match(a, &p);
}

static void
test_small_lists(void)
{
	struct prefix v[] = { pfx("10.0.0.0/8"), pfx("10.1.0.0/16"), pfx("192.0.2.7"),
	    pfx("2001:db8::/32"), pfx("::1"), pfx("::ffff:198.51.100.0/120") };
	struct acl a;

	CHECK(acl_build(&a, v, sizeof(v) / sizeof(v[0])) == 0);
	CHECK(a.n4 == 3 && a.n6 == 2);		/* 10.1/16 merged into 10/8 */
	CHECK(match(&a, "10.255.255.255") && match(&a, "10.0.0.0") && !match(&a, "11.0.0.0"));
	CHECK(!match(&a, "9.255.255.255") && match(&a, "192.0.2.7") && !match(&a, "192.0.2.8"));
	CHECK(match(&a, "198.51.100.200") && match(&a, "::ffff:198.51.100.1"));
	CHECK(match(&a, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") && !match(&a, "2001:db9::"));
	CHECK(match(&a, "::1") && !match(&a, "::2") && !match(&a, "::"));
	acl_free(&a);

	struct prefix all[] = { pfx("0.0.0.0/0"), pfx("::/0") };

	CHECK(acl_build(&a, all, 2) == 0);
	CHECK(match(&a, "255.255.255.255") && match(&a, "0.0.0.0") && match(&a, "ffff::1"));
	acl_free(&a);
	CHECK(acl_build(&a, NULL, 0) == 0);
	CHECK(!match(&a, "127.0.0.1") && !match(&a, "::1"));
	acl_free(&a);
}

/* A block list of 50 000 prefixes: the same answers as checking each one. */
static void
test_big_list(void)
{
	enum { N = 50000 };
	struct prefix *v = calloc(N, sizeof(*v));
	struct acl a;
	unsigned seed = 7;

	for (int i = 0; i < N; i++) {
		char s[64];
		unsigned x;

		seed = seed * 1103515245 + 12345;
		x = seed;
		if (i % 3 == 0)
			snprintf(s, sizeof(s), "2001:db8:%x:%x::/64", x >> 16, x & 0xffff);
		else
			snprintf(s, sizeof(s), "%u.%u.%u.0/24", 1 + x % 223, x >> 8 & 0xff, x >> 16 & 0xff);
		v[i] = pfx(s);
	}
	CHECK(acl_build(&a, v, N) == 0);
	for (int i = 0; i < 20000; i++) {
		struct prefix p;
		bool want = false;

		seed = seed * 1103515245 + 12345;
		p = v[seed % N];
		p.bytes[p.family == AF_INET ? 3 : 15] = (uint8_t)(seed >> 3);
		if (i % 2)
			p.bytes[1] ^= (uint8_t)(seed >> 11);
		p.len = p.family == AF_INET ? 32 : 128;
		for (int j = 0; j < N && !want; j++)
			want = prefix_match(&v[j], &p);
		CHECK(acl_match(&a, &p) == want);
	}
	acl_free(&a);
	free(v);
}

static struct endpoint
ep(const char *addr, int port, int type)
{
	struct endpoint e = { .socktype = type };

	CHECK(addr_parse(addr, &e.ss, &e.len, port) == 0);
	return e;
}

static void
test_endpoints(void)
{
	struct endpoint a = ep("0.0.0.0", 13, SOCK_STREAM), b = ep("127.0.0.1", 13, SOCK_STREAM);
	struct endpoint c = ep("127.0.0.1", 13, SOCK_DGRAM), d = ep("::", 13, SOCK_STREAM);
	struct endpoint e = ep("127.0.0.1", 14, SOCK_STREAM);

	CHECK(endpoint_overlap(&a, &b) && endpoint_overlap(&b, &b) && !endpoint_overlap(&b, &c));
	CHECK(!endpoint_overlap(&a, &d) && !endpoint_overlap(&b, &e));
	CHECK(endpoint_equal(&b, &b) && !endpoint_equal(&b, &c));
	CHECK(endpoint_cmp(&a, &b) < 0 && endpoint_cmp(&b, &a) > 0 && endpoint_cmp(&b, &b) == 0);
}

int
main(void)
{
	RUN(test_small_lists);
	RUN(test_big_list);
	RUN(test_endpoints);
	return unit_done();
}
