/* log.c - stderr logging: one event per line, written with a single write(2). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static int log_level = LOG_INFO;
static int log_prefix;		/* journald reads "<N>" priority prefixes */

/*
 * Info and debug lines (one per accepted connection) are queued and written
 * together once per event-loop pass; anything more important flushes the
 * queue and goes out at once, so the order of lines never changes.
 */
#define LOG_QUEUE	16384
static char log_queue[LOG_QUEUE];
static size_t log_queued;
static struct event *log_flush_ev;

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING },
	{ "err", LOG_ERR },
};

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

/* JOURNAL_STREAM is "DEV:INODE" of the journal's stream: only prefix if stderr is it. */
static int
log_to_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(int level, int debug)
{
	log_prefix = log_to_journal();
	log_level = debug ? LOG_DEBUG : level;
}

void
log_setlevel(int level)
{
	log_level = level;
}

static void
log_write(const char *buf, size_t n)
{
	/* A failed or short write to a log pipe must not stop the daemon. */
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w <= 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		buf += w;
		n -= (size_t)w;
	}
}

void
log_flush(void)
{
	int saved = errno;

	if (log_queued > 0)
		log_write(log_queue, log_queued);
	log_queued = 0;
	errno = saved;
}

static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_flush();
}

void
log_batch(struct event_base *base)
{
	if (log_flush_ev != NULL) {
		log_flush();
		event_free(log_flush_ev);
		log_flush_ev = NULL;
	}
	if (base != NULL)
		log_flush_ev = event_new(base, -1, 0, log_flush_cb, NULL);
}

void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved = errno;
	size_t n = 0;
	int r;

	if (pri > log_level)
		return;
	if (log_prefix)
		n = (size_t)snprintf(buf, sizeof(buf), "<%d>", pri);
	r = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	/* One event, one line: a newline in a config string must not split it. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n++] = '\n';
	if (pri >= LOG_INFO && log_flush_ev != NULL) {
		if (log_queued + n > sizeof(log_queue))
			log_flush();
		memcpy(log_queue + log_queued, buf, n);
		log_queued += n;
		if (!event_pending(log_flush_ev, EV_TIMEOUT, NULL))
			event_active(log_flush_ev, EV_TIMEOUT, 0);
	} else {
		log_flush();
		log_write(buf, n);
	}
	errno = saved;
}

void
log_msg(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(pri, fmt, ap);
	va_end(ap);
}

static void
log_verr(int pri, const char *fmt, va_list ap)
{
	char msg[768];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(pri, "%s: %s", msg, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verr(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verr(LOG_ERR, fmt, ap);
	va_end(ap);
	log_flush();
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	log_flush();
	exit(1);
}
