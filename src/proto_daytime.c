/* proto_daytime.c - RFC 867: the time as one line ending in CRLF, then close. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

#define DAYTIME_MAX	256		/* what the config check allows, NUL included */
#define DAYTIME_RUN_MAX	1024		/* what a reply may hold */
#define DAYTIME_DEFAULT	"%a %b %e %H:%M:%S %Y"	/* ctime(3)'s layout */

struct daytime_conf {
	bool	 utc;
	/* The line for one second, formatted once: strftime is most of a connection's work. */
	time_t	 cached_at;
	size_t	 cached_len;
	char	 cached[DAYTIME_RUN_MAX + 2];
	char	 format[];
};

static cfg_opt_t daytime_opts[] = {
	CFG_STR("format", DAYTIME_DEFAULT, CFGF_NONE),
	CFG_BOOL("utc", cfg_false, CFGF_NONE),
	CFG_END()
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
daytime_check(cfg_t *sec, const char *opt, char *err, size_t errlen)
{
	char buf[DAYTIME_MAX];
	const char *format;

	if (strcmp(opt, "format") != 0)
		return 0;
	format = cfg_getstr(sec, "format");
	/* Try the longest names (Wednesday, September) and both ends of the year;
	 * the reply is one line, so %n and %t (and raw control bytes) are out. */
	if (format == NULL || *format == '\0' ||
	    daytime_bad(format, 970358399, buf, sizeof(buf)) ||
	    daytime_bad(format, 0, buf, sizeof(buf)) ||
	    daytime_bad(format, 978307199, buf, sizeof(buf))) {
		snprintf(err, errlen, "format must be a strftime(3) format giving one line of"
		    " 1 to %d printable characters", DAYTIME_MAX - 1);
		return -1;
	}
	return 0;
}

static void *
daytime_conf_new(cfg_t *sec)
{
	const char *format = cfg_getstr(sec, "format");
	struct daytime_conf *dc;

	dc = malloc(sizeof(*dc) + strlen(format) + 1);
	if (dc == NULL)
		return NULL;
	dc->utc = cfg_getbool(sec, "utc");
	dc->cached_at = (time_t)-1;
	dc->cached_len = 0;
	strcpy(dc->format, format);
	return dc;
}

static enum proto_next
daytime_start(struct proto_io *io)
{
	/* The cache is the one thing a reply changes in its service's settings. */
	struct daytime_conf *dc = (struct daytime_conf *)(uintptr_t)io->conf;
	time_t now = time(NULL);
	size_t n;

	if (now != dc->cached_at) {
		/* Room beyond what the config check allows: local zone names can be long. */
		n = daytime_format(dc->format, dc->utc, now, dc->cached, DAYTIME_RUN_MAX);
		if (n == 0)	/* still too long: never send an empty line */
			n = daytime_format(DAYTIME_DEFAULT, dc->utc, now, dc->cached,
			    DAYTIME_RUN_MAX);
		memcpy(dc->cached + n, "\r\n", 2);
		dc->cached_len = n + 2;
		dc->cached_at = now;
	}
	evbuffer_add(io->out, dc->cached, dc->cached_len);
	return PROTO_CLOSE;
}

/* RFC 867: whatever the client sends is ignored. */
static enum proto_next
daytime_input(struct proto_io *io)
{
	evbuffer_drain(io->in, evbuffer_get_length(io->in));
	return PROTO_CLOSE;
}

const struct proto proto_daytime = {
	.name = "daytime",
	.default_port = 13,
	.opts = daytime_opts,
	.check = daytime_check,
	.conf_new = daytime_conf_new,
	.conf_free = free,
	.start = daytime_start,
	.input = daytime_input,
	.eof = daytime_input,
};
