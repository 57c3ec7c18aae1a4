/* unit_conf.c - config parsing and validation: values, defaults, and FILE:LINE errors. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "log.h"
#include "proto/proto.h"
#include "unit.h"
#include "unit_confload.h"

static struct netlab_conf *
load(const char *text)
{
	return unit_load("t.conf", text, strlen(text));
}

static void
rejects(const char *text, int line, const char *msg)
{
	unit_rejects("t.conf", text, strlen(text), line, msg);
}

static void
test_defaults(void)
{
	struct netlab_conf *nc = load("service daytime {}\nservice e2 { protocol = echo }\n");
	struct svc_conf *s;

	CHECK(nc != NULL);
	if (nc == NULL)
		return;
	CHECK(nc->max_conns == 4096 && nc->shutdown_timeout == 10);
	CHECK(nc->user == NULL && nc->nsvcs == 2);
	s = nc->svcs[0];
	CHECK(strcmp(s->name, "daytime") == 0 && s->proto == proto_find("daytime"));
	CHECK(s->port == 13 && s->enabled && s->idle_timeout == 300);
	CHECK(s->max_conns == 0 && s->max_per_source == 0 && s->allow.nprefixes == 0 &&
	    s->deny.nprefixes == 0);
	CHECK(s->naddrs == 2);
	CHECK(s->addrs[0].ss.ss_family == AF_INET && s->addrs[1].ss.ss_family == AF_INET6);
	s = nc->svcs[1];
	CHECK(s->proto == proto_find("echo") && s->port == 55556);
	conf_free(nc);
}

static void
test_values(void)
{
	struct netlab_conf *nc = load(
	    "log-level = \"debug\"\nmax-connections = 10\nshutdown-timeout = 0\n"
	    "service a { protocol = add port = 7000 address = { \"127.0.0.1\", \"::1\" }\n"
	    "  max-connections = 5 max-per-source = 2 idle-timeout = 0\n"
	    "  allow = { \"10.0.0.0/8\", \"::1\" } deny = { \"10.1.0.0/16\" } }\n"
	    "service b { protocol = echo port = 7000 address = { \"127.0.0.2\" } enabled = false }\n");
	struct prefix p;

	CHECK(nc != NULL);
	if (nc == NULL)
		return;
	CHECK(nc->log_level == LOG_DEBUG && nc->max_conns == 10 && nc->shutdown_timeout == 0);
	CHECK(nc->svcs[0]->port == 7000 && nc->svcs[0]->max_per_source == 2);
	CHECK(nc->svcs[0]->allow.nprefixes == 2 && nc->svcs[0]->deny.nprefixes == 1);
	CHECK(!nc->svcs[1]->enabled);
	prefix_parse("10.2.3.4", &p);
	CHECK(svc_conf_allows(nc->svcs[0], &p));
	prefix_parse("10.1.3.4", &p);
	CHECK(!svc_conf_allows(nc->svcs[0], &p));	/* deny wins */
	prefix_parse("192.0.2.1", &p);
	CHECK(!svc_conf_allows(nc->svcs[0], &p));
	prefix_parse("::1", &p);
	CHECK(svc_conf_allows(nc->svcs[0], &p));
	conf_free(nc);
}

static void
test_errors(void)
{
	rejects("service echo {\n  bogus = 1\n}\n", 2, "no such option 'bogus'");
	rejects("\n\nservice echo { port = \"x\" }\n", 3, "invalid integer value for option 'port'");
	rejects("service echo {\n port = 70000 }\n", 2, "port 70000 out of range (1 to 65535)");
	rejects("service echo {\n port = 0 }\n", 2, "out of range");
	rejects("service x {\n protocol = \"ftp\"\n}\n", 2, "unknown protocol 'ftp'");
	rejects("service x {\n}\n", 1, "no protocol");
	rejects("service echo {\n address = { \"example.com\" } }\n", 2, "bad address 'example.com'");
	rejects("service echo {\n address = { } }\n", 2, "address list is empty");
	rejects("service echo {\n allow = { \"10.0.0.1/8\" } }\n", 2, "bad prefix '10.0.0.1/8' in allow");
	rejects("service echo {\n deny = { \"::1/129\" } }\n", 2, "bad prefix '::1/129' in deny");
	rejects("service echo {}\nservice echo {}\n", 2, "duplicate title 'echo'");
	rejects("service a { protocol = echo port = 9 }\nservice b { protocol = add\n port = 9 }\n",
	    3, "overlaps");
	rejects("service a { protocol = echo port = 9 address = {\"127.0.0.1\"} }\n"
	    "service b { protocol = add port = 9 address = {\"0.0.0.0\"} }\n", 2, "overlaps");
	rejects("service echo {\n message = \"hi\"\n}\n", 2,
	    "option 'message' does not apply to protocol 'echo'");
	rejects("service echo { enabled = false }\n\n", 2, "no service enabled");
	rejects("", 1, "no service enabled");
	rejects("log-level = \"loud\"\nservice echo {}\n", 1, "unknown log-level 'loud'");
	rejects("max-connections = 0\nservice echo {}\n", 1, "max-connections 0 out of range");
	rejects("user = \"no-such-user-netlabd\"\nservice echo {}\n", 1, "unknown user");
	rejects("service echo {\n max-line = 0 }\n", 2, "max-line 0 out of range (1 to 1048576)");
	rejects("service hello {\n message = \"a\\nb\" }\n", 2, "message must be one line");
	rejects("service daytime {\n format = \"\" }\n", 2, "format must be");
	rejects("service echo {\n idle-timeout = -1 }\n", 2, "idle-timeout -1 out of range");
	rejects("service \"bad name\" { protocol = echo }\n", 1, "bad service name");
	rejects("\nservice echo { port = 7\n", 2, "'{' is never closed");
	rejects("service echo {\n port = 7\n}\n\nservice y {\n}\n", 5, "service 'y': no protocol");
}

/* libconfuse 3.3 miscounts lines after comments; the reported line must be the real one. */
static void
test_lines_after_comments(void)
{
	rejects("#\n#\n// c++\nlog-level = \"info\" # trailing\nservice echo {\n port = 99999\n}\n",
	    6, "out of range");
	rejects("/* block\n   comment */\nservice echo { /* inline */\n  port = 99999 // x\n}\n",
	    4, "out of range");
	rejects("service hello {\n message = \"# not a comment\" # but this is\n"
	    " port = 99999\n}\n", 3, "out of range");
}

static void
test_option_names(void)
{
	static const char *want[] = { "user", "group", "log-level", "max-connections",
	    "shutdown-timeout", "protocol", "port", "address", "enabled", "max-per-source",
	    "idle-timeout", "allow", "deny", "format", "utc", "message", "max-line" };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;

		for (const char *const *n = conf_option_names(); *n != NULL; n++)
			found = found || strcmp(*n, want[i]) == 0;
		CHECK(found);
	}
}

static void
test_prefixes(void)
{
	struct prefix net, a;

	CHECK(prefix_parse("::ffff:127.0.0.0/104", &net) == 0);
	CHECK(net.family == AF_INET && net.len == 8);
	prefix_parse("127.9.9.9", &a);
	CHECK(prefix_match(&net, &a));
	CHECK(prefix_parse("2001:db8::/32", &net) == 0);
	prefix_parse("2001:db8:ffff::1", &a);
	CHECK(prefix_match(&net, &a));
	prefix_parse("2001:db9::1", &a);
	CHECK(!prefix_match(&net, &a));
	CHECK(prefix_parse("0.0.0.0/0", &net) == 0);
	CHECK(prefix_match(&net, &a) == false);	/* families never mix */
	CHECK(prefix_parse("10.0.0.0/33", &net) < 0);
	CHECK(prefix_parse("10.0.0.0/", &net) < 0);
	CHECK(prefix_parse("10.0.0.0/-1", &net) < 0);
	CHECK(prefix_parse("host.example", &net) < 0);
}

int
main(void)
{
	log_init(LOG_INFO, 0);
	RUN(test_defaults);
	RUN(test_values);
	RUN(test_errors);
	RUN(test_lines_after_comments);
	RUN(test_option_names);
	RUN(test_prefixes);
	return unit_done();
}
