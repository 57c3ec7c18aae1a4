/*
 * unit_metrics.c - the metrics protocol through session/drive.c with a
 * registry of made-up counters: what no config can produce (label values
 * that need escaping, counters at 2^64 - 1), the exposition's grouping, and
 * the replies to pipelined requests.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "proto/proto.h"
#include "session/drive.h"
#include "stats.h"
#include "unit.h"

#define GET	"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"

struct rig {
	const struct proto	*p;
	struct proto_io		 io;
	enum conn_state		 st;
	char			*out;		/* all output so far, NUL-terminated */
	size_t			 outlen;
};

static void
rig_open(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->p = proto_find("metrics");
	CHECK(r->p != NULL && r->p->state_size == 0 && r->p->transports == PROTO_TCP);
	r->io.in = evbuffer_new();
	r->io.out = evbuffer_new();
	r->st = CONN_OPEN;
}

/* Feed bytes as one read, collect what the protocol wrote. */
static enum conn_state
rig_feed(struct rig *r, const char *data, size_t len)
{
	size_t n;

	evbuffer_add(r->io.in, data, len);
	r->io.error[0] = '\0';
	r->st = drive(r->st, DRIVE_INPUT, r->p, &r->io);
	n = evbuffer_get_length(r->io.out);
	r->out = realloc(r->out, r->outlen + n + 1);
	evbuffer_remove(r->io.out, r->out + r->outlen, n);
	r->outlen += n;
	r->out[r->outlen] = '\0';
	return r->st;
}

static void
rig_close(struct rig *r)
{
	evbuffer_free(r->io.in);
	evbuffer_free(r->io.out);
	free(r->out);
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static struct stats_svc weird, plain, dgram;

static void
registry(void)
{
	stats_init();
	memset(&weird, 0, sizeof(weird));
	memset(&plain, 0, sizeof(plain));
	memset(&dgram, 0, sizeof(dgram));
	stats_register(&weird, "a\"b\\c\nd", "echo", "tcp");
	stats_register(&plain, "plain", "hello", "tcp");
	stats_register(&dgram, "eu", "echo", "udp");
	weird.accepted = UINT64_MAX;
	weird.refused[REFUSE_PER_SOURCE] = 7;
	weird.refused[REFUSE_GLOBAL] = 2;
	weird.refused[REFUSE_MAX_CONNS] = 3;
	weird.errors[PERR_IDLE] = 2;
	plain.active = 3;
	dgram.dgrams_in = 5;
	dgram.dgrams_answered = 4;
	dgram.dropped[DROP_PORT] = 1;
	dgram.bytes_in = 50;
}

static void
test_labels_escaped_and_values_exact(void)
{
	struct rig r;

	registry();
	rig_open(&r);
	CHECK(rig_feed(&r, GET, strlen(GET)) == CONN_OPEN);
	CHECK(strncmp(r.out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	CHECK(strstr(r.out, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != NULL);
	/* Backslash, double quote and newline escaped; 2^64 - 1 printed whole. */
	CHECK(strstr(r.out, "\nnetlabd_connections_accepted_total{service=\"a\\\"b\\\\c\\nd\","
	    "protocol=\"echo\",transport=\"tcp\"} 18446744073709551615\n") != NULL);
	CHECK(strstr(r.out, "\nnetlabd_connections_refused_total{service=\"a\\\"b\\\\c\\nd\","
	    "protocol=\"echo\",transport=\"tcp\",reason=\"max-per-source\"} 7\n") != NULL);
	/* The global limit and the service's are one option name: one series, their sum. */
	CHECK(strstr(r.out, "\nnetlabd_connections_refused_total{service=\"a\\\"b\\\\c\\nd\","
	    "protocol=\"echo\",transport=\"tcp\",reason=\"max-connections\"} 5\n") != NULL);
	CHECK(count(r.out, "reason=\"max-connections\"") == 2);
	CHECK(strstr(r.out, "\nnetlabd_protocol_errors_total{service=\"a\\\"b\\\\c\\nd\","
	    "protocol=\"echo\",transport=\"tcp\",error=\"idle-timeout\"} 2\n") != NULL);
	CHECK(strstr(r.out, "\nnetlabd_connections_active{service=\"plain\",protocol=\"hello\","
	    "transport=\"tcp\"} 3\n") != NULL);
	CHECK(strstr(r.out, "\nnetlabd_datagrams_dropped_total{service=\"eu\",protocol=\"echo\","
	    "transport=\"udp\",reason=\"source-port\"} 1\n") != NULL);
	CHECK(strstr(r.out, "\nnetlabd_received_bytes_total{service=\"eu\",protocol=\"echo\","
	    "transport=\"udp\"} 50\n") != NULL);
	/* Every reason and error is there from the start, so that rate() sees the first one. */
	CHECK(count(r.out, "\nnetlabd_connections_refused_total{") == 2 * (STATS_NREFUSALS - 1));
	CHECK(count(r.out, "\nnetlabd_datagrams_dropped_total{") == STATS_NDROPS);
	CHECK(count(r.out, "\nnetlabd_protocol_errors_total{") == 2 * STATS_NERRORS);
	/* A family for the other transport only is not given to a service. */
	CHECK(count(r.out, "\nnetlabd_datagrams_received_total{") == 1);
	CHECK(count(r.out, "\nnetlabd_connections_accepted_total{") == 2);
	/* No raw newline ends a sample early. */
	CHECK(strstr(r.out, "\nd\"") == NULL);
	rig_close(&r);
	stats_unregister(&weird);
	stats_unregister(&plain);
	stats_unregister(&dgram);
}

/* HELP, then TYPE, then the family's samples together; no name twice. */
static void
test_families_grouped(void)
{
	char seen[64][96];
	size_t nseen = 0;
	char cur[96] = "";
	struct rig r;
	char *body, *line, *save;

	registry();
	rig_open(&r);
	CHECK(rig_feed(&r, GET, strlen(GET)) == CONN_OPEN);
	body = strstr(r.out, "\r\n\r\n");
	CHECK(body != NULL);
	for (line = strtok_r(body + 4, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (strncmp(line, "# HELP ", 7) == 0) {
			CHECK(sscanf(line + 7, "%95s", name) == 1);
			for (size_t i = 0; i < nseen; i++)
				CHECK(strcmp(seen[i], name) != 0);
			CHECK(nseen < 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			line = strtok_r(NULL, "\n", &save);
			CHECK(line != NULL && strncmp(line, "# TYPE ", 7) == 0 &&
			    strncmp(line + 7, cur, strlen(cur)) == 0);
			continue;
		}
		/* A sample of the current family: its name, then labels or a value. */
		CHECK(cur[0] != '\0' && strncmp(line, cur, strlen(cur)) == 0 &&
		    (line[strlen(cur)] == '{' || line[strlen(cur)] == ' '));
	}
	CHECK(nseen >= 17);
	rig_close(&r);
	stats_unregister(&weird);
	stats_unregister(&plain);
	stats_unregister(&dgram);
}

/* Pipelined requests: answered in order, up to 64 a read, the 64th closing. */
static void
test_pipelining(void)
{
	char req[70 * sizeof(GET)];
	struct rig r;
	size_t n = 0;

	stats_init();
	rig_open(&r);
	n = (size_t)snprintf(req, sizeof(req), "%s%s%s", GET, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
	    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /metr");
	CHECK(rig_feed(&r, req, n) == CONN_OPEN);
	CHECK(count(r.out, "HTTP/1.1 ") == 3);
	CHECK(strstr(r.out, "HTTP/1.1 200 OK\r\n") == r.out);
	CHECK(strstr(r.out, "HTTP/1.1 404 Not Found\r\n") != NULL);
	/* GET and HEAD: the same length, only one body. */
	CHECK(count(r.out, "\r\n\r\n# HELP ") == 1);
	/* The partial request waits for its end. */
	CHECK(evbuffer_get_length(r.io.in) == strlen("GET /metr"));
	CHECK(rig_feed(&r, "ics HTTP/1.1\r\nHost: x\r\n\r\n", 25) == CONN_OPEN);
	CHECK(count(r.out, "HTTP/1.1 200 OK\r\n") == 3);
	CHECK(evbuffer_get_length(r.io.in) == 0);
	rig_close(&r);

	rig_open(&r);
	n = 0;
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%s", GET);
	CHECK(rig_feed(&r, req, n) == CONN_CLOSING);
	CHECK(count(r.out, "HTTP/1.1 200 OK\r\n") == 64);
	CHECK(count(r.out, "Connection: close\r\n") == 1);
	CHECK(strstr(r.out, "Connection: close\r\n") > strstr(r.out + r.outlen / 2, "HTTP/1.1 200"));
	/* The rest is never read. */
	CHECK(evbuffer_get_length(r.io.in) == 0);
	rig_close(&r);
}

/* What ends a connection: 400 and 405 close, a body closes, a partial head at EOF is counted. */
static void
test_closing(void)
{
	static const char *const bad[] = {
		"GET /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/3.0\r\nHost: x\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",	/* a TLS ClientHello */
	};
	struct rig r;

	stats_init();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rig_open(&r);
		CHECK(rig_feed(&r, bad[i], strlen(bad[i])) == CONN_CLOSING);
		CHECK(strncmp(r.out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
		CHECK(strstr(r.out, "\r\nConnection: close\r\n") != NULL);
		CHECK(r.io.errkind == PROTO_ERR_MALFORMED &&
		    strncmp(r.io.error, "bad HTTP request: ", 18) == 0);
		rig_close(&r);
	}

	rig_open(&r);
	CHECK(rig_feed(&r, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
	    strlen("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) == CONN_CLOSING);
	CHECK(strncmp(r.out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
	CHECK(strstr(r.out, "\r\nAllow: GET, HEAD\r\n") != NULL &&
	    strstr(r.out, "\r\nConnection: close\r\n") != NULL);
	CHECK(r.io.error[0] == '\0');
	rig_close(&r);

	rig_open(&r);
#define CHUNKED	"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	CHECK(rig_feed(&r, CHUNKED, strlen(CHUNKED)) == CONN_CLOSING);
	CHECK(count(r.out, "HTTP/1.1 200 OK\r\n") == 1 && count(r.out, "Connection: close") == 1);
	rig_close(&r);

	/* EOF: after stray line ends nothing is wrong; within a head it is a truncated request. */
	rig_open(&r);
	CHECK(rig_feed(&r, GET "\r\n", strlen(GET) + 2) == CONN_OPEN);
	r.io.error[0] = '\0';
	CHECK(drive(r.st, DRIVE_EOF, r.p, &r.io) == CONN_CLOSING);
	CHECK(r.io.error[0] == '\0');
	rig_close(&r);
	rig_open(&r);
	CHECK(rig_feed(&r, "GET /metrics HT", 15) == CONN_OPEN);
	r.io.error[0] = '\0';
	CHECK(drive(r.st, DRIVE_EOF, r.p, &r.io) == CONN_CLOSING);
	CHECK(r.io.errkind == PROTO_ERR_TRUNCATED && r.io.error[0] != '\0');
	CHECK(evbuffer_get_length(r.io.out) == 0);
	rig_close(&r);
}

int
main(void)
{
	log_init(LOG_ERR, 0);
	RUN(test_labels_escaped_and_values_exact);
	RUN(test_families_grouped);
	RUN(test_pipelining);
	RUN(test_closing);
	return unit_done();
}
