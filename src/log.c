/*
 * log.c - stderr logging: one event per line, in order, never blocking.
 *
 * Once the event loop runs, lines go through one bounded queue: info and
 * debug lines (one per accepted client) are written together once per loop
 * pass, anything more important at once.  Remote clients make lines, so a
 * sink that stops reading (a stopped "| logger", a stuck journal stream)
 * must not stop the daemon: the queue is written without blocking, lines
 * that do not fit are dropped and counted, and one line says how many once
 * the sink reads again.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

#define LOG_QUEUE	(256 * 1024)

static int log_level = LOG_INFO;
static int log_prefix;		/* journald reads "<N>" priority prefixes */

static int log_fd = STDERR_FILENO;	/* a private non-blocking description of stderr, if any */
static int log_sock;			/* stderr is a socket: send(MSG_DONTWAIT) */
static char *log_queue;			/* written in order; [0, log_queued) is waiting */
static size_t log_queued;
static uint64_t log_lost, log_lost_reported;
static struct event *log_flush_ev;	/* once per loop pass */
static struct event *log_write_ev;	/* the sink has room again */

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

bool
log_enabled(int pri)
{
	return pri <= log_level;
}

uint64_t
log_dropped(void)
{
	return log_lost;
}

/* Write without blocking when the sink allows it; how much went, or -1 with errno. */
static ssize_t
log_try(const char *buf, size_t n)
{
	if (log_sock)
		return send(log_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(log_fd, buf, n);
}

/* Before the loop and after it: plain writes, as a program's stderr expects. */
static void
log_write_now(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		buf += w;
		n -= (size_t)w;
	}
}

static void log_append(const char *buf, size_t n);

/* Write what is queued; arm the write event when the sink is full. */
static void
log_drain(void)
{
	size_t done = 0;

	while (done < log_queued) {
		ssize_t w = log_try(log_queue + done, log_queued - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done > 0) {
		memmove(log_queue, log_queue + done, log_queued - done);
		log_queued -= done;
	}
	if (log_queued > 0) {
		if (log_write_ev != NULL && errno == EAGAIN)
			event_add(log_write_ev, NULL);
		else if (errno != EAGAIN)
			log_queued = 0;		/* a sink that failed for good: nothing to wait for */
		return;
	}
	if (log_lost > log_lost_reported) {
		char line[128];
		int len = snprintf(line, sizeof(line), "%snetlabd: the log sink stalled:"
		    " %llu line(s) dropped\n", log_prefix ? "<4>" : "",
		    (unsigned long long)(log_lost - log_lost_reported));

		log_lost_reported = log_lost;
		log_append(line, (size_t)len);
		log_drain();
	}
}

static void
log_append(const char *buf, size_t n)
{
	if (log_queued + n > LOG_QUEUE) {
		log_lost++;
		return;
	}
	memcpy(log_queue + log_queued, buf, n);
	log_queued += n;
}

void
log_flush(void)
{
	int saved = errno;

	if (log_queued > 0 && (log_write_ev == NULL || !event_pending(log_write_ev, EV_WRITE, NULL)))
		log_drain();
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

/* A private description of the pipe or socket behind stderr, non-blocking; else stderr as it is. */
static void
log_open_nonblocking(void)
{
	struct stat st;
	int fd;

	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		log_sock = 1;
		return;
	}
	/* Opening a pipe again through /proc gives a description of our own: O_NONBLOCK
	 * on it does not change the one we share with the process that started us. */
	if (S_ISFIFO(st.st_mode) &&
	    (fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0)
		log_fd = fd;
}

void
log_batch(struct event_base *base)
{
	if (base == NULL) {
		/* Leaving the loop: one last try, never a wait. */
		log_flush();
		if (log_flush_ev != NULL)
			event_free(log_flush_ev);
		if (log_write_ev != NULL)
			event_free(log_write_ev);
		log_flush_ev = log_write_ev = NULL;
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		log_sock = 0;
		free(log_queue);
		log_queue = NULL;
		log_queued = 0;
		return;
	}
	if (log_queue == NULL && (log_queue = malloc(LOG_QUEUE)) == NULL)
		return;
	log_open_nonblocking();
	log_flush_ev = event_new(base, -1, 0, log_flush_cb, NULL);
	log_write_ev = event_new(base, log_fd, EV_WRITE, log_flush_cb, NULL);
}

/* One finished line (newline included) of priority pri. */
static void
log_emit(int pri, const char *buf, size_t n)
{
	if (log_queue == NULL) {
		log_write_now(buf, n);
		return;
	}
	log_append(buf, n);
	if (pri >= LOG_INFO && log_flush_ev != NULL) {
		if (!event_pending(log_flush_ev, EV_TIMEOUT, NULL))
			event_active(log_flush_ev, EV_TIMEOUT, 0);
	} else {
		log_flush();
	}
}

static size_t
log_start(int pri, char *buf)
{
	return log_prefix ? (size_t)snprintf(buf, 8, "<%d>", pri) : 0;
}

void
log_line(int pri, const char *line, size_t len)
{
	char buf[LOG_LINE_MAX + 8];
	int saved = errno;
	size_t n;

	if (pri > log_level)
		return;
	n = log_start(pri, buf);
	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	memcpy(buf + n, line, len);
	n += len;
	buf[n++] = '\n';
	log_emit(pri, buf, n);
	errno = saved;
}

void
log_vmsg(int pri, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved = errno;
	size_t n, start;
	int r;

	if (pri > log_level)
		return;
	start = n = log_start(pri, buf);
	r = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	/* One event, one line: a newline in a config string must not split it. */
	for (size_t i = start; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n++] = '\n';
	log_emit(pri, buf, n);
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

static void __attribute__((format(printf, 2, 0)))
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
