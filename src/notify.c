/* notify.c - tell the service manager what state we are in. */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "notify.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

bool
notify_enabled(void)
{
	return getenv("NOTIFY_SOCKET") != NULL;
}

void
notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}
#else
bool notify_enabled(void) { return false; }
void notify_ready(const char *status) { (void)status; }
void notify_reloading(void) { }
void notify_stopping(void) { }
void notify_status(const char *status) { (void)status; }
uint64_t notify_watchdog_usec(void) { return 0; }
void notify_watchdog(void) { }
#endif
