/* daytime.c - RFC 867: the time as one line ending in CRLF, then close. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/proto.h"
#include "wire.h"

#define DAYTIME_RUN_MAX	1024		/* what a reply may hold: local zone names can be long */
#define DAYTIME_DEFAULT	"%a %b %e %H:%M:%S %Y"	/* ctime(3)'s layout */

struct daytime_conf {
	bool	 utc;
	char	 format[];
};

/* The line for one second, formatted once: strftime is most of a connection's work. */
struct daytime_cache {
	time_t	 at;
	size_t	 len;
	char	 line[DAYTIME_RUN_MAX + 2];
};

static int daytime_check(const char *, const char *, char *, size_t);

static const struct conf_opt daytime_opts[] = {
	{ .cfg = CFG_STR("format", DAYTIME_DEFAULT, CFGF_NONE), .check = daytime_check },
	{ .cfg = CFG_BOOL("utc", cfg_false, CFGF_NONE) },
	CONF_OPT_END
};

static size_t
daytime_format(const char *format, bool utc, time_t now, char *buf, size_t size)
{
	struct tm tm;

	if ((utc ? gmtime_r(&now, &tm) : localtime_r(&now, &tm)) == NULL)
		return 0;
	/* The format comes from the config: that is the point of the option. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	return strftime(buf, size, format, &tm);
#pragma GCC diagnostic pop
}

/* True when format gives nothing, too much, or a control character at time t. */
static bool
daytime_bad(const char *format, time_t t, char *buf, size_t size)
{
	size_t n = daytime_format(format, true, t, buf, size);

	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return true;
	return false;
}

static int
daytime_check(const char *opt, const char *format, char *err, size_t errlen)
{
	char buf[WIRE_DAYTIME_MAX];

	/* Try the longest names (Wednesday, September) and both ends of the year;
	 * the reply is one line, so %n and %t (and raw control bytes) are out. */
	if (*format == '\0' ||
	    daytime_bad(format, 970358399, buf, sizeof(buf)) ||
	    daytime_bad(format, 0, buf, sizeof(buf)) ||
	    daytime_bad(format, 978307199, buf, sizeof(buf))) {
		snprintf(err, errlen, "%s must be a strftime(3) format giving one line of"
		    " 1 to %d printable characters", opt, WIRE_DAYTIME_MAX - 1);
		return -1;
	}
	return 0;
}

static void *
daytime_conf_new(cfg_t *sec)
{
	const char *format = cfg_getstr(sec, "format");
	struct daytime_conf *dc = malloc(sizeof(*dc) + strlen(format) + 1);

	if (dc == NULL)
		return NULL;
	dc->utc = cfg_getbool(sec, "utc");
	strcpy(dc->format, format);
	return dc;
}

static void *
daytime_svc_new(const void *conf)
{
	struct daytime_cache *c = malloc(sizeof(*c));

	(void)conf;
	if (c != NULL)
		c->at = (time_t)-1;
	return c;
}

/* The line for now, with CRLF, from the cache of this second. */
static const char *
daytime_line(const struct daytime_conf *dc, struct daytime_cache *c, size_t *len)
{
	time_t now = time(NULL);

	if (now != c->at) {
		size_t n = daytime_format(dc->format, dc->utc, now, c->line, DAYTIME_RUN_MAX);

		if (n == 0)	/* still too long: never send an empty line */
			n = daytime_format(DAYTIME_DEFAULT, dc->utc, now, c->line,
			    DAYTIME_RUN_MAX);
		memcpy(c->line + n, "\r\n", 2);
		c->len = n + 2;
		c->at = now;
	}
	*len = c->len;
	return c->line;
}

static enum proto_next
daytime_start(struct proto_io *io)
{
	size_t len;
	const char *line = daytime_line(io->conf, io->svc, &len);

	evbuffer_add(io->out, line, len);
	return PROTO_CLOSE;
}

/* RFC 867 over UDP: any datagram gets the line. */
static ssize_t
daytime_datagram(const void *conf, void *svc, const void *req, size_t len, void *rep,
    size_t cap)
{
	size_t n;
	const char *line = daytime_line(conf, svc, &n);

	(void)req;
	(void)len;
	if (n > cap)
		return PROTO_NO_REPLY;
	memcpy(rep, line, n);
	return (ssize_t)n;
}

const struct proto proto_daytime = {
	.name = "daytime",
	.default_port = WIRE_PORT_DAYTIME,
	.transports = PROTO_TCP | PROTO_UDP,
	.opts = daytime_opts,
	.conf_new = daytime_conf_new,
	.conf_free = free,
	.svc_new = daytime_svc_new,
	.svc_free = free,
	.start = daytime_start,
	.datagram = daytime_datagram,
};
