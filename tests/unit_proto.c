/* unit_proto.c - the protocol codecs, driven through struct proto with real evbuffers. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "conf/conf.h"
#include "log.h"
#include "proto/proto.h"
#include "service.h"
#include "session/drive.h"
#include "unit.h"

/* One connection as session/conn.c drives it: the same drive() calls, buffers of our own. */
struct rig {
	struct netlab_conf	*nc;
	const struct proto	*p;
	struct svc_run		*run;
	struct proto_io		 io;
	void			*state;
	enum conn_state		 st;
};

static void
rig_open(struct rig *r, const char *conf)
{
	r->nc = conf_load_buf("unit.conf", conf, strlen(conf));
	CHECK(r->nc != NULL && r->nc->nsvcs == 1);
	r->p = r->nc->svcs[0]->proto;
	r->run = svc_run_new(r->nc->svcs[0]);
	CHECK(r->run != NULL);
	r->state = calloc(1, r->p->state_size + 1);
	memset(&r->io, 0, sizeof(r->io));
	r->io.in = evbuffer_new();
	r->io.out = evbuffer_new();
	r->io.conf = r->nc->svcs[0]->proto_conf;
	r->io.svc = r->run->proto_svc;
	r->io.state = r->state;
	r->st = CONN_OPEN;
}

static void
rig_close(struct rig *r)
{
	evbuffer_free(r->io.in);
	evbuffer_free(r->io.out);
	free(r->state);
	svc_run_unref(r->run);
	conf_free(r->nc);
}

static enum conn_state
rig_event(struct rig *r, enum drive_event ev)
{
	enum conn_state st;

	r->io.error[0] = '\0';
	st = drive(r->st, ev, r->p, &r->io);
	r->st = drive_flow(st, evbuffer_get_length(r->io.out));
	return r->st;
}

static enum conn_state
rig_start(struct rig *r)
{
	return rig_event(r, DRIVE_START);
}

static enum conn_state
rig_feed(struct rig *r, const void *data, size_t len)
{
	evbuffer_add(r->io.in, data, len);
	return rig_event(r, DRIVE_INPUT);
}

static enum conn_state
rig_eof(struct rig *r)
{
	return rig_event(r, DRIVE_EOF);
}

static size_t
rig_take(struct rig *r, void *buf, size_t size)
{
	size_t n = evbuffer_get_length(r->io.out);

	CHECK(n <= size);
	evbuffer_remove(r->io.out, buf, n);
	return n;
}

static void
test_add_seed_vector(void)
{
	static const uint8_t req[8] = { 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0 };
	static const uint8_t want[8] = { 0, 0, 0, 0, 0, 0, 0x0b, 0xb8 };
	uint8_t got[8];
	struct rig r;

	rig_open(&r, "service add { port = 1 }");
	CHECK(r.p->read_lowat == 8);
	CHECK(rig_start(&r) == CONN_OPEN);
	CHECK(rig_feed(&r, req, 8) == CONN_OPEN);
	CHECK(rig_take(&r, got, sizeof(got)) == 8);
	CHECK(memcmp(got, want, 8) == 0);
	rig_close(&r);
}

static void
be32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)(u >> 24);
	p[1] = (uint8_t)(u >> 16);
	p[2] = (uint8_t)(u >> 8);
	p[3] = (uint8_t)u;
}

static int64_t
get_be64(const uint8_t *p)
{
	uint64_t u = 0;

	for (int i = 0; i < 8; i++)
		u = (u << 8) | p[i];
	return (int64_t)u;
}

static void
test_add_extremes_split_and_pipelined(void)
{
	static const int32_t pairs[][2] = {
		{ 2147483647, 2147483647 }, { -2147483647 - 1, -2147483647 - 1 },
		{ -5, 3 }, { 0, 0 }, { 2147483647, -2147483647 - 1 }, { -1, 1 },
	};
	const size_t n = sizeof(pairs) / sizeof(pairs[0]);
	uint8_t req[sizeof(pairs) / sizeof(pairs[0]) * 8], got[sizeof(req)];
	struct rig r;
	size_t off = 0, len = 0;

	for (size_t i = 0; i < n; i++) {
		be32(req + i * 8, pairs[i][0]);
		be32(req + i * 8 + 4, pairs[i][1]);
	}
	rig_open(&r, "service add {}");
	/* Odd-sized pieces: requests arrive split across reads and several per read. */
	for (size_t step = 3; off < sizeof(req); off += step, step = step == 3 ? 13 : 3)
		rig_feed(&r, req + off, off + step > sizeof(req) ? sizeof(req) - off : step);
	len = rig_take(&r, got, sizeof(got));
	CHECK(len == n * 8);
	for (size_t i = 0; i < n; i++)
		CHECK(get_be64(got + i * 8) == (int64_t)pairs[i][0] + pairs[i][1]);
	CHECK(get_be64(got) == 4294967294LL);
	CHECK(get_be64(got + 8) == -4294967296LL);
	rig_close(&r);
}

static void
test_add_truncated(void)
{
	struct rig r;

	rig_open(&r, "service add {}");
	rig_feed(&r, "\0\0\0\1\0", 5);
	CHECK(evbuffer_get_length(r.io.out) == 0);
	CHECK(rig_eof(&r) == CONN_CLOSING);
	CHECK(strstr(r.io.error, "truncated request: 5 of 8 bytes") != NULL);
	CHECK(r.io.errkind == PROTO_ERR_TRUNCATED);
	rig_close(&r);

	rig_open(&r, "service add {}");
	rig_feed(&r, "\0\0\0\1\0\0\0\1", 8);
	CHECK(rig_eof(&r) == CONN_CLOSING);
	CHECK(r.io.error[0] == '\0');
	rig_close(&r);
}

static void
test_echo_lines(void)
{
	char got[64];
	struct rig r;

	rig_open(&r, "service echo {}");
	CHECK(rig_feed(&r, "ab\r\ncd\nef", 9) == CONN_OPEN);
	CHECK(rig_take(&r, got, sizeof(got)) == 7);
	CHECK(memcmp(got, "ab\r\ncd\n", 7) == 0);
	/* The unterminated tail waits for its newline... */
	rig_feed(&r, "g", 1);
	CHECK(evbuffer_get_length(r.io.out) == 0);
	rig_feed(&r, "h\nij", 4);
	CHECK(rig_take(&r, got, sizeof(got)) == 5);
	CHECK(memcmp(got, "efgh\n", 5) == 0);
	/* ...or for the half-close, which sends it and ends the connection. */
	CHECK(rig_eof(&r) == CONN_CLOSING);
	CHECK(rig_take(&r, got, sizeof(got)) == 2);
	CHECK(memcmp(got, "ij", 2) == 0);
	rig_close(&r);
}

static void
test_echo_max_line(void)
{
	char big[100], got[256];
	size_t total = 0;
	struct rig r;

	memset(big, 'x', sizeof(big));
	rig_open(&r, "service echo { max-line = 16 }");
	for (int i = 0; i < 5; i++) {
		rig_feed(&r, big, 10);
		/* Never more than max-line bytes of an unfinished line are held. */
		CHECK(evbuffer_get_length(r.io.in) < 16);
		total += rig_take(&r, got + total, sizeof(got) - total);
	}
	rig_feed(&r, "\n", 1);
	total += rig_take(&r, got + total, sizeof(got) - total);
	CHECK(total == 51);
	CHECK(got[50] == '\n' && memchr(got, '\n', 50) == NULL);
	rig_close(&r);
}

static void
nofree(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	(void)arg;
}

/* Input spread over more chains than one evbuffer_peek returns (found by fuzz_echo). */
static void
test_echo_many_chains(void)
{
	static const char text[] = "0123456789012345678901234\nnext\n";
	char got[64];
	struct rig r;

	rig_open(&r, "service echo { max-line = 100 }");
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		evbuffer_add_reference(r.io.in, text + i, 1, nofree, NULL);
	rig_event(&r, DRIVE_INPUT);
	CHECK(evbuffer_get_length(r.io.in) == 0);
	CHECK(rig_take(&r, got, sizeof(got)) == sizeof(text) - 1);
	CHECK(memcmp(got, text, sizeof(text) - 1) == 0);
	rig_close(&r);
}

static void
test_daytime(void)
{
	char got[300];
	struct rig r;
	size_t n;

	rig_open(&r, "service daytime { format = \"%Y|%%\" utc = true }");
	CHECK(rig_start(&r) == CONN_CLOSING);
	n = rig_take(&r, got, sizeof(got));
	CHECK(n == 8);
	CHECK(memcmp(got + 4, "|%\r\n", 4) == 0);
	CHECK(got[0] == '2');
	rig_close(&r);

	rig_open(&r, "service daytime {}");
	rig_start(&r);
	n = rig_take(&r, got, sizeof(got));
	/* ctime(3) layout: "Tue Apr 24 09:21:32 2018\r\n" */
	CHECK(n == 26);
	CHECK(got[3] == ' ' && got[7] == ' ' && got[10] == ' ' && got[13] == ':' &&
	    got[16] == ':' && got[19] == ' ' && got[24] == '\r' && got[25] == '\n');
	rig_close(&r);
}

static void
test_hello(void)
{
	char got[64];
	struct rig r;

	rig_open(&r, "service hello {}");
	CHECK(rig_start(&r) == CONN_CLOSING);
	CHECK(rig_take(&r, got, sizeof(got)) == 6);
	CHECK(memcmp(got, "HELLO\n", 6) == 0);
	rig_close(&r);

	rig_open(&r, "service greeter { protocol = hello message = \"hi there\" }");
	rig_start(&r);
	CHECK(rig_take(&r, got, sizeof(got)) == 9);
	CHECK(memcmp(got, "hi there\n", 9) == 0);
	rig_close(&r);
}

/* Every protocol in the table is usable as listed: no count is pinned here. */
static void
test_table(void)
{
	size_t n = 0;

	for (const struct proto *const *p = proto_list(); *p != NULL; p++, n++) {
		CHECK(proto_find((*p)->name) == *p);
		CHECK((*p)->start != NULL || (*p)->input != NULL);
		CHECK((*p)->transports != 0);
		CHECK((*p)->default_port > 0 && (*p)->default_port < 65536);
		CHECK((*p)->conf_new != NULL || (*p)->opts == NULL);
		for (const struct proto *const *q = proto_list(); *q != *p; q++)
			CHECK(strcmp((*q)->name, (*p)->name) != 0);
	}
	CHECK(n > 0);
	CHECK(proto_find("ftp") == NULL);
	/* Option names are unique across protocols and the core. */
	CHECK(conf_schema_check() == 0);
}

/* The rule every protocol is called by (session/drive.c). */
static void
test_drive_rules(void)
{
	static const uint8_t req[16] = { 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4 };
	uint8_t got[16];
	char big[DRIVE_HIGH_WATER];
	struct rig r;

	/* Below the read low-watermark the protocol is not called at all. */
	rig_open(&r, "service add {}");
	CHECK(rig_feed(&r, req, 7) == CONN_OPEN);
	CHECK(evbuffer_get_length(r.io.in) == 7 && evbuffer_get_length(r.io.out) == 0);
	CHECK(rig_feed(&r, req + 7, 9) == CONN_OPEN);
	CHECK(rig_take(&r, got, sizeof(got)) == 16);
	/* Paused: input waits, untouched, until DRIVE_DRAINED resumes the connection. */
	r.st = CONN_PAUSED;
	CHECK(rig_feed(&r, req, 8) == CONN_PAUSED);
	CHECK(evbuffer_get_length(r.io.in) == 8 && evbuffer_get_length(r.io.out) == 0);
	CHECK(rig_event(&r, DRIVE_DRAINED) == CONN_OPEN);
	CHECK(rig_event(&r, DRIVE_INPUT) == CONN_OPEN);
	CHECK(rig_take(&r, got, sizeof(got)) == 8);
	/* Closing: what the client sends is dropped, the protocol is not asked. */
	r.st = CONN_CLOSING;
	CHECK(rig_feed(&r, req, 8) == CONN_CLOSING);
	CHECK(evbuffer_get_length(r.io.in) == 0 && evbuffer_get_length(r.io.out) == 0);
	rig_close(&r);

	/* Output at the high-water mark pauses reading. */
	rig_open(&r, "service echo { max-line = 1048576 }");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	CHECK(rig_feed(&r, big, sizeof(big)) == CONN_PAUSED);
	CHECK(drive_flow(CONN_OPEN, DRIVE_HIGH_WATER - 1) == CONN_OPEN);
	rig_close(&r);

	/* A greeting protocol has no input handler: input is drained, nothing said. */
	rig_open(&r, "service hello {}");
	CHECK(rig_feed(&r, "x", 1) == CONN_OPEN);
	CHECK(evbuffer_get_length(r.io.in) == 0 && evbuffer_get_length(r.io.out) == 0);
	CHECK(rig_eof(&r) == CONN_CLOSING);
	rig_close(&r);
}

int
main(void)
{
	log_init(LOG_ERR, 0);
	RUN(test_table);
	RUN(test_drive_rules);
	RUN(test_add_seed_vector);
	RUN(test_add_extremes_split_and_pipelined);
	RUN(test_add_truncated);
	RUN(test_echo_lines);
	RUN(test_echo_max_line);
	RUN(test_echo_many_chains);
	RUN(test_daytime);
	RUN(test_hello);
	return unit_done();
}
