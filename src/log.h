/* log.h - one-line-per-event logging to stderr, with sd-daemon priority prefixes under journald. */
#ifndef NETLABD_LOG_H
#define NETLABD_LOG_H

#include <stdarg.h>
#include <syslog.h>

struct event_base;

void	log_init(int level, int debug);
/* Queue info and debug lines, written once per pass of base's loop (NULL: stop). */
void	log_batch(struct event_base *base);
void	log_flush(void);
void	log_setlevel(int level);
int	log_level_parse(const char *name);	/* -1 when unknown */

/* log_warn appends strerror(errno); log_warnx does not.  errno is preserved. */
void	log_msg(int pri, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	log_vmsg(int pri, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
