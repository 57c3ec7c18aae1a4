/* log.h - one-line-per-event logging to stderr, with sd-daemon priority prefixes under journald. */
#ifndef NETLABD_LOG_H
#define NETLABD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

struct event_base;

/* A preformatted line (log_line) is at most this long. */
#define LOG_LINE_MAX	256

void	log_init(int level, int debug);
/*
 * Write through base's loop from now on (NULL: stop): info and debug lines
 * are queued and written once per loop pass, and a log sink that stops
 * reading never blocks the daemon: lines that do not fit the queue are
 * dropped, counted, and reported once the sink reads again.
 */
void	log_batch(struct event_base *base);
void	log_flush(void);
void	log_setlevel(int level);
bool	log_enabled(int pri);
int	log_level_parse(const char *name);	/* -1 when unknown */
/* Lines a stalled sink cost so far. */
uint64_t log_dropped(void);

/* log_warn appends strerror(errno); log_warnx does not.  errno is preserved. */
void	log_msg(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_vmsg(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* A line already formatted, without its newline (len <= LOG_LINE_MAX). */
void	log_line(int pri, const char *line, size_t len);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
