/*
 * metrics.c - the Prometheus endpoint: HTTP/1.x GET /metrics answered with
 * the text exposition format 0.0.4, rendered from the stats registry that
 * SIGUSR1 and STATUS= read too.
 *
 * A scrape walks the registry once per family: O(services), never
 * O(connections).  The requests one read brings are parsed by the pure
 * http_head.c and answered in order; the body is rendered once for all of
 * them and shared by reference, so pipelined requests cost a head each.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "proto/http_head.h"
#include "proto/proto.h"
#include "stats.h"
#include "wire.h"

#define METRICS_PATH		"/metrics"
#define METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"
/*
 * Requests answered out of one read.  The last of them says "Connection:
 * close" and the rest are left unanswered, as HTTP lets a server do
 * (RFC 9112 section 9.3.2: a pipelining client retries them), so that one
 * read of tiny requests cannot queue megabytes of replies.
 */
#define METRICS_PIPELINE	64

/* One rendering, shared by every reply of a read that carries it. */
struct body {
	unsigned	 refs;
	size_t		 len;
	char		*text;
};

/* What the replies to one read have in common. */
struct batch {
	struct body	*body;		/* rendered on the first request for it */
	char		 date[40];	/* RFC 9110 IMF-fixdate */
	int		 answered;
};

#define ON_TCP		0x1
#define ON_UDP		0x2

/* A per-service family: one counter, or an array of them by one label. */
struct family {
	const char	*name;
	const char	*type;
	const char	*help;
	unsigned	 on;		/* ON_TCP, ON_UDP: the services that have it */
	size_t		 off;		/* the uint64_t (int64_t if gauge) in struct stats_svc */
	int		 n;		/* 0: one value; else how many, labelled key */
	const char	*key;
	const char	*(*label)(int);
};

static const char *
refusal_label(int i)
{
	return stats_refusal_label((enum stats_refusal)i);
}

static const char *
drop_label(int i)
{
	return stats_drop_label((enum stats_drop)i);
}

static const char *
error_label(int i)
{
	return stats_error_label((enum stats_error)i);
}

#define AT(field)	offsetof(struct stats_svc, field)

static const struct family families[] = {
	{ "netlabd_connections_accepted_total", "counter",
	    "Connections admitted (a refused connection is counted as refused only).",
	    ON_TCP, AT(accepted), 0, NULL, NULL },
	{ "netlabd_connections_refused_total", "counter",
	    "Connections accepted and closed at once, by reason.",
	    ON_TCP, AT(refused), STATS_NREFUSALS, "reason", refusal_label },
	{ "netlabd_connections_active", "gauge",
	    "Connections open now.",
	    ON_TCP, AT(active), 0, NULL, NULL },
	{ "netlabd_received_bytes_total", "counter",
	    "Bytes received from clients (every datagram's, for udp).",
	    ON_TCP | ON_UDP, AT(bytes_in), 0, NULL, NULL },
	{ "netlabd_sent_bytes_total", "counter",
	    "Bytes of replies to clients.",
	    ON_TCP | ON_UDP, AT(bytes_out), 0, NULL, NULL },
	{ "netlabd_datagrams_received_total", "counter",
	    "Datagrams received, answered or not.",
	    ON_UDP, AT(dgrams_in), 0, NULL, NULL },
	{ "netlabd_datagrams_answered_total", "counter",
	    "Datagrams a reply was sent to.",
	    ON_UDP, AT(dgrams_answered), 0, NULL, NULL },
	{ "netlabd_datagrams_dropped_total", "counter",
	    "Datagrams that got no reply, by reason.",
	    ON_UDP, AT(dropped), STATS_NDROPS, "reason", drop_label },
	{ "netlabd_protocol_errors_total", "counter",
	    "Connections that ended in an error of their own, by error.",
	    ON_TCP, AT(errors), STATS_NERRORS, "error", error_label },
};

static void
body_unref(struct body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	free(b->text);
	free(b);
}

static void
body_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	body_unref(arg);
}

/*
 * The text is built in a buffer of its own, not through stdio: a scrape of
 * 100 services is some 1 500 samples, and a printf and a putc per label
 * byte for each cost a millisecond of the loop that the echo clients wait
 * through.  A failed allocation sets failed and stops every later append.
 */
struct text {
	char	*p;
	size_t	 len, cap;
	bool	 failed;
};

static void
put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->cap - t->len < n) {
		size_t cap = t->cap > 0 ? t->cap : 16384;
		char *p;

		while (cap - t->len < n)
			cap *= 2;
		if ((p = realloc(t->p, cap)) == NULL) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void
put_str(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		t->failed = true;
	else
		put(t, buf, (size_t)n);
}

static void
put_u64(struct text *t, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	put(t, buf + i, sizeof(buf) - i);
}

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void
put_escaped(struct text *t, const char *s)
{
	size_t n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		put(t, s, n);
		s += n;
		if (*s == '\0')
			break;
		put(t, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n", 2);
		s++;
	}
}

static void
put_family(struct text *t, const char *name, const char *type, const char *help)
{
	putf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned
service_on(const struct stats_svc *s)
{
	return strcmp(s->transport, "udp") == 0 ? ON_UDP : ON_TCP;
}

/*
 * Two reasons may share a label (the global and the per-service
 * max-connections are one option name): one series, their sum.
 */
static bool
label_seen(const struct family *fam, int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(fam->label(j), fam->label(i)) == 0)
			return true;
	return false;
}

static uint64_t
label_sum(const struct family *fam, const uint64_t *v, int i)
{
	uint64_t sum = v[i];

	for (int k = i + 1; k < fam->n; k++)
		if (strcmp(fam->label(k), fam->label(i)) == 0)
			sum += v[k];
	return sum;
}

static void
put_service_family(struct text *t, const struct family *fam)
{
	const struct stats_svc *s;
	bool any = false, gauge = strcmp(fam->type, "gauge") == 0;

	TAILQ_FOREACH(s, &stats.services, entry)
		any = any || (service_on(s) & fam->on);
	/* As the client libraries do: a family no service has is left out. */
	if (!any)
		return;
	put_family(t, fam->name, fam->type, fam->help);
	TAILQ_FOREACH(s, &stats.services, entry) {
		const char *at = (const char *)s + fam->off;

		if (!(service_on(s) & fam->on))
			continue;
		for (int i = 0; i < (fam->n > 0 ? fam->n : 1); i++) {
			if (fam->n > 0 && label_seen(fam, i))
				continue;
			put_str(t, fam->name);
			put(t, "{service=\"", 10);
			put_escaped(t, s->name);
			put(t, "\",protocol=\"", 12);
			put_escaped(t, s->protocol);
			put(t, "\",transport=\"", 13);
			put_escaped(t, s->transport);
			if (fam->n > 0) {
				put(t, "\",", 2);
				put_str(t, fam->key);
				put(t, "=\"", 2);
				put_escaped(t, fam->label(i));
			}
			put(t, "\"} ", 3);
			if (gauge) {
				int64_t v = ((const int64_t *)(const void *)at)[i];

				if (v < 0)
					put(t, "-", 1);
				put_u64(t, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
			} else {
				put_u64(t, label_sum(fam, (const uint64_t *)(const void *)at, i));
			}
			put(t, "\n", 1);
		}
	}
}

static void
put_daemon(struct text *t)
{
	put_family(t, "netlabd_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	putf(t, "netlabd_reloads_total{result=\"success\"} %" PRIu64 "\n"
	    "netlabd_reloads_total{result=\"failure\"} %" PRIu64 "\n",
	    stats.reloads_ok, stats.reloads_failed);
	put_family(t, "netlabd_config_last_reload_successful", "gauge",
	    "1 if the last configuration reload succeeded (or none was tried), 0 if it failed.");
	putf(t, "netlabd_config_last_reload_successful %d\n", stats.last_reload_ok ? 1 : 0);
	put_family(t, "netlabd_config_last_reload_success_timestamp_seconds", "gauge",
	    "When the configuration in force was loaded (the start, or the last good reload).");
	putf(t, "netlabd_config_last_reload_success_timestamp_seconds %lld\n",
	    (long long)stats.last_reload_ok_at);
	put_family(t, "netlabd_build_info", "gauge",
	    "The netlabd version and the libevent it runs on; always 1.");
	put_str(t, "netlabd_build_info{version=\"");
	put_escaped(t, PACKAGE_VERSION);
	put_str(t, "\",libevent=\"");
	put_escaped(t, event_get_version());
	put_str(t, "\"} 1\n");
}

/* Resident and virtual size in bytes, from /proc/self/statm; false when it cannot be read. */
static bool
memory_bytes(uint64_t *rss, uint64_t *vsz)
{
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2 || page <= 0)
		return false;
	*rss = resident * (uint64_t)page;
	*vsz = size * (uint64_t)page;
	return true;
}

/*
 * The standard process_* metrics (names and meanings of the Prometheus
 * client libraries).  Open descriptors: since Linux 6.2 stat(2) of
 * /proc/self/fd gives their number as st_size, counted from the kernel's
 * bitmap; listing the directory would cost a step per connection, so on
 * older kernels (st_size 0) process_open_fds is left out instead.
 */
static void
put_process(struct text *t)
{
	struct rusage ru;
	struct rlimit rl;
	struct stat st;
	uint64_t rss, vsz;

	put_family(t, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	putf(t, "process_start_time_seconds %lld\n", (long long)stats.started);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		put_family(t, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		putf(t, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6);
	}
	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
		put_family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
		putf(t, "process_open_fds %lld\n", (long long)st.st_size);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		put_family(t, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		putf(t, "process_max_fds %llu\n", rl.rlim_cur == RLIM_INFINITY ?
		    (unsigned long long)INT64_MAX : (unsigned long long)rl.rlim_cur);
	}
	if (memory_bytes(&rss, &vsz)) {
		put_family(t, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		putf(t, "process_resident_memory_bytes %" PRIu64 "\n", rss);
		put_family(t, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
		putf(t, "process_virtual_memory_bytes %" PRIu64 "\n", vsz);
	}
}

/* The exposition text, with one reference for the caller; NULL when out of memory. */
static struct body *
body_render(void)
{
	struct body *b = calloc(1, sizeof(*b));
	struct text t = { .p = NULL };

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		put_service_family(&t, &families[i]);
	put_daemon(&t);
	put_process(&t);
	if (t.failed || t.len == 0) {
		free(t.p);
		free(b);
		return NULL;
	}
	b->text = t.p;
	b->len = t.len;
	b->refs = 1;
	return b;
}

static void
batch_init(struct batch *bt)
{
	time_t now = time(NULL);
	struct tm tm;

	memset(bt, 0, sizeof(*bt));
	/* No setlocale() in netlabd: the C locale's day and month names, as HTTP wants. */
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(bt->date, sizeof(bt->date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		bt->date[0] = '\0';
}

/*
 * One reply: status line, headers, then the body unless the request was
 * HEAD.  A body is a static text or the shared rendering.  keep: the
 * connection stays open after it; HTTP/1.0 is told so, HTTP/1.1 when not.
 */
static bool
reply(struct proto_io *io, const struct batch *bt, const struct http_req *r, const char *status,
    const char *extra, const char *text, struct body *shared, bool keep)
{
	size_t len = shared != NULL ? shared->len : strlen(text);
	const char *conn = !keep ? "Connection: close\r\n" :
	    r != NULL && r->minor == 0 ? "Connection: keep-alive\r\n" : "";

	if (evbuffer_add_printf(io->out, "HTTP/1.1 %s\r\n%s%s%s"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
	    bt->date[0] != '\0' ? "Date: " : "", bt->date, bt->date[0] != '\0' ? "\r\n" : "",
	    shared != NULL ? METRICS_TYPE : "text/plain; charset=utf-8", len, extra, conn) < 0)
		return false;
	if (r != NULL && r->method == HTTP_HEAD)
		return true;
	if (shared == NULL)
		return evbuffer_add(io->out, text, len) == 0;
	/* The chain holds a reference: the text lives until the last reply using it is sent. */
	shared->refs++;
	if (evbuffer_add_reference(io->out, shared->text, len, body_cleanup, shared) < 0) {
		shared->refs--;
		return false;
	}
	return true;
}

static void
out_of_memory(struct proto_io *io)
{
	io->errkind = PROTO_ERR_MALFORMED;
	snprintf(io->error, sizeof(io->error), "out of memory: closing");
}

/* Answer one complete request; whether the connection stays open for the next. */
static enum proto_next
answer(struct proto_io *io, struct batch *bt, const struct http_req *r)
{
	/* A body we do not read would be taken for the next request: close instead. */
	bool keep = r->keep_alive && !r->has_body && ++bt->answered < METRICS_PIPELINE;
	bool ok;

	if (r->method == HTTP_OTHER) {
		ok = reply(io, bt, r, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
		    "Method Not Allowed: only GET and HEAD\n", NULL, false);
		keep = false;
	} else if (r->pathlen != strlen(METRICS_PATH) ||
	    memcmp(r->path, METRICS_PATH, r->pathlen) != 0) {
		ok = reply(io, bt, r, "404 Not Found", "",
		    "Not Found: the metrics are at " METRICS_PATH "\n", NULL, keep);
	} else {
		if (bt->body == NULL && (bt->body = body_render()) == NULL) {
			out_of_memory(io);
			(void)reply(io, bt, r, "500 Internal Server Error", "",
			    "Internal Server Error: out of memory\n", NULL, false);
			return PROTO_CLOSE;
		}
		ok = reply(io, bt, r, "200 OK", "", NULL, bt->body, keep);
	}
	if (!ok) {
		out_of_memory(io);
		return PROTO_CLOSE;
	}
	return keep ? PROTO_CONTINUE : PROTO_CLOSE;
}

static enum proto_next
metrics_input(struct proto_io *io)
{
	size_t len = evbuffer_get_length(io->in), off = 0;
	enum proto_next next = PROTO_CONTINUE;
	struct batch bt;
	const char *buf;

	batch_init(&bt);
	/* One copy at most (what conn.c keeps plus the new read), then the heads in place. */
	if ((buf = (const char *)evbuffer_pullup(io->in, -1)) == NULL) {
		out_of_memory(io);
		evbuffer_drain(io->in, len);
		return PROTO_CLOSE;
	}
	while (off < len && next == PROTO_CONTINUE) {
		size_t n = len - off < HTTP_HEAD_MAX ? len - off : HTTP_HEAD_MAX;
		const char *why = "bad request";
		struct http_req r;
		char text[128];

		switch (http_parse_head(buf + off, n, &r, &why)) {
		case HTTP_MORE:
			goto out;
		case HTTP_BAD:
			io->errkind = PROTO_ERR_MALFORMED;
			snprintf(io->error, sizeof(io->error), "bad HTTP request: %s", why);
			snprintf(text, sizeof(text), "Bad Request: %s\n", why);
			(void)reply(io, &bt, NULL, "400 Bad Request", "", text, NULL, false);
			next = PROTO_CLOSE;
			break;
		case HTTP_DONE:
			off += r.len;
			next = answer(io, &bt, &r);
			break;
		}
	}
out:
	/* Closing: what follows the last answered request is never read. */
	evbuffer_drain(io->in, next == PROTO_CLOSE ? len : off);
	body_unref(bt.body);
	return next;
}

/* The client stopped sending: a request head it left unfinished is counted, unanswered. */
static enum proto_next
metrics_eof(struct proto_io *io)
{
	size_t n = evbuffer_get_length(io->in);
	/* Less than HTTP_HEAD_MAX: a longer head was refused at input. */
	const unsigned char *b = evbuffer_pullup(io->in, -1);

	/* Stray line ends between requests are allowed (RFC 9112 section 2.2). */
	for (size_t i = 0; b != NULL && i < n; i++)
		if (b[i] != '\r' && b[i] != '\n') {
			io->errkind = PROTO_ERR_TRUNCATED;
			snprintf(io->error, sizeof(io->error),
			    "connection closed within a request head");
			break;
		}
	return PROTO_CLOSE;
}

const struct proto proto_metrics = {
	.name = "metrics",
	.default_port = WIRE_PORT_METRICS,
	.transports = PROTO_TCP,
	.input = metrics_input,
	.eof = metrics_eof,
};
