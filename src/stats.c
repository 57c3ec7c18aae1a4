/* stats.c - the counters' registry and the views SIGUSR1 and STATUS= render from it. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "stats.h"

struct stats stats;

#define STATS_LABEL3(e, label, text)	label,
#define STATS_TEXT3(e, label, text)	text,
#define STATS_LABEL2(e, label)		label,
static const char *const refusal_labels[] = { STATS_REFUSALS(STATS_LABEL3) };
static const char *const refusal_texts[] = { STATS_REFUSALS(STATS_TEXT3) };
static const char *const error_labels[] = { STATS_ERRORS(STATS_LABEL2) };
static const char *const drop_labels[] = { STATS_DROPS(STATS_LABEL3) };
static const char *const drop_texts[] = { STATS_DROPS(STATS_TEXT3) };

void
stats_init(void)
{
	memset(&stats, 0, sizeof(stats));
	TAILQ_INIT(&stats.services);
	stats.started = time(NULL);
	stats.last_reload_ok = true;
	stats.last_reload_ok_at = stats.started;
}

void
stats_register(struct stats_svc *s, const char *name, const char *protocol,
    const char *transport)
{
	s->name = name;
	s->protocol = protocol;
	s->transport = transport;
	if (!s->registered)
		TAILQ_INSERT_TAIL(&stats.services, s, entry);
	s->registered = true;
}

void
stats_unregister(struct stats_svc *s)
{
	if (s->registered)
		TAILQ_REMOVE(&stats.services, s, entry);
	s->registered = false;
}

uint64_t
stats_refused_total(const struct stats_svc *s)
{
	uint64_t n = 0;

	for (int i = 0; i < STATS_NREFUSALS; i++)
		n += s->refused[i];
	return n;
}

const char *
stats_refusal_label(enum stats_refusal r)
{
	return refusal_labels[r];
}

const char *
stats_refusal_text(enum stats_refusal r)
{
	return refusal_texts[r];
}

const char *
stats_error_label(enum stats_error e)
{
	return error_labels[e];
}

const char *
stats_drop_label(enum stats_drop d)
{
	return drop_labels[d];
}

const char *
stats_drop_text(enum stats_drop d)
{
	return drop_texts[d];
}

uint64_t
stats_dropped_total(const struct stats_svc *s)
{
	uint64_t n = 0;

	for (int i = 0; i < STATS_NDROPS; i++)
		n += s->dropped[i];
	return n;
}

void
stats_log(void)
{
	struct stats_svc *s;

	TAILQ_FOREACH(s, &stats.services, entry) {
		if (strcmp(s->transport, "udp") == 0)
			log_info("%s: statistics: received=%llu answered=%llu dropped=%llu"
			    " bytes_in=%llu bytes_out=%llu", s->name,
			    (unsigned long long)s->dgrams_in, (unsigned long long)s->dgrams_answered,
			    (unsigned long long)stats_dropped_total(s),
			    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
		else
			log_info("%s: statistics: accepted=%llu active=%lld refused=%llu"
			    " bytes_in=%llu bytes_out=%llu", s->name,
			    (unsigned long long)s->accepted, (long long)s->active,
			    (unsigned long long)stats_refused_total(s),
			    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	}
}

void
stats_status(char *buf, size_t size)
{
	snprintf(buf, size, "%lld open connection%s, %llu accepted", (long long)stats.active,
	    stats.active == 1 ? "" : "s", (unsigned long long)stats.accepted);
}

void
stats_reloaded(bool ok, time_t now)
{
	if (ok) {
		stats.reloads_ok++;
		stats.last_reload_ok_at = now;
	} else {
		stats.reloads_failed++;
	}
	stats.last_reload_ok = ok;
}
