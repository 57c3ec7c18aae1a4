/* notify.h - sd_notify: READY, RELOADING, STOPPING, STATUS, WATCHDOG; no-ops without libsystemd. */
#ifndef NETLABD_NOTIFY_H
#define NETLABD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

bool	notify_enabled(void);
void	notify_ready(const char *status);
void	notify_reloading(void);
void	notify_stopping(void);
void	notify_status(const char *status);
/* Microseconds between watchdog pings systemd expects, 0 when it expects none. */
uint64_t notify_watchdog_usec(void);
void	notify_watchdog(void);

#endif
