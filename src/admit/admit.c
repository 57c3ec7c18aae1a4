/* admit.c - admission of a client, and refusal lines that a flood cannot turn into a log flood. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admit/admit.h"
#include "admit/floodlog.h"
#include "conf/conf.h"
#include "log.h"
#include "service.h"
#include "tailq.h"
#include "worker.h"

#define FLOOD_BITS	1024	/* per reason: enough to count a few hundred sources closely */

static const char *
flood_text(const struct floodlog *f, int r)
{
	if (f->verb != NULL)
		return "not logged one by one";
	if (f->datagrams)
		return r == FLOOD_UNCLAIMED_DGRAM ? "on passed sockets no service uses" :
		    stats_drop_text(r);
	if (r == FLOOD_UNCLAIMED)
		return "on passed sockets no service uses";
	if (r == FLOOD_PROXY_BAD)
		return "with a bad PROXY header";
	if (r == FLOOD_PROXY_LATE)
		return "with no PROXY header in time";
	return stats_refusal_text(r);
}

static void
flood_summary(struct floodlog *f)
{
	int nreasons = f->datagrams ? FLOOD_UDP_REASONS : FLOOD_TCP_REASONS;
	const char *verb = "refused";
	char line[1024];
	size_t n;
	bool first = true;

	/* A connection closed for its PROXY header was served, not refused: say "closed" then. */
	if (f->verb != NULL)
		verb = f->verb;
	else if (f->datagrams)
		verb = "dropped";
	else if (f->suppressed[FLOOD_PROXY_BAD] + f->suppressed[FLOOD_PROXY_LATE] > 0)
		verb = "closed";
	n = (size_t)snprintf(line, sizeof(line), "%s: %s %llu %s%s in %d s:", f->name,
	    verb, (unsigned long long)f->total,
	    f->datagrams ? "datagram" : "connection", f->total == 1 ? "" : "s", FLOOD_PERIOD);
	for (int r = 0; r < nreasons && n < sizeof(line); r++) {
		unsigned zeros = 0;
		double est;

		if (f->suppressed[r] == 0)
			continue;
		for (unsigned b = 0; f->seen != NULL && b < FLOOD_BITS; b++)
			zeros += !(f->seen[r * FLOOD_BITS / 8 + b / 8] & (1 << (b % 8)));
		/* Linear counting: exact for a few sources, close for hundreds. */
		est = zeros == 0 ? FLOOD_BITS : -FLOOD_BITS * log((double)zeros / FLOOD_BITS);
		if (est < 1)
			est = 1;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %llu %s (%s%.0f source%s)",
		    first ? "" : ",", (unsigned long long)f->suppressed[r],
		    flood_text(f, r),
		    zeros == 0 ? "over " : "", est, est >= 1.5 ? "s" : "");
		first = false;
	}
	log_notice("%s", line);
	memset(f->suppressed, 0, sizeof(f->suppressed));
	f->total = 0;
	if (f->seen != NULL)
		memset(f->seen, 0, FLOOD_REASONS * FLOOD_BITS / 8);
}

static void
flood_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct floodlog *f;

	(void)fd;
	(void)what;
	while ((f = TAILQ_FIRST(&w->floods)) != NULL) {
		floodlog_unlink(f);
		flood_summary(f);
	}
}

/* Log this event, or only count it when the service already logged FLOOD_LINES this second. */
static bool
flood_allows(struct worker *w, struct floodlog *f, const struct peer *peer, int why)
{
	time_t now = time(NULL);
	uint64_t h;

	if (f->second != now) {
		f->second = now;
		f->lines = 0;
	}
	if (f->lines < (f->limit > 0 ? f->limit : FLOOD_LINES)) {
		f->lines++;
		return true;
	}
	f->suppressed[why]++;
	f->total++;
	if (f->seen == NULL)
		f->seen = calloc(1, FLOOD_REASONS * FLOOD_BITS / 8);
	if (f->seen != NULL) {
		h = peer_source_key(peer) * 0x9e3779b97f4a7c15ULL >> 54;
		f->seen[why * FLOOD_BITS / 8 + h / 8] |= (uint8_t)(1 << (h % 8));
	}
	if (f->on == NULL) {
		struct timeval tv = { FLOOD_PERIOD, 0 };

		if (w->flood_timer == NULL &&
		    (w->flood_timer = event_new(w->base, -1, EV_PERSIST, flood_timer_cb, w)) != NULL)
			evtimer_add(w->flood_timer, &tv);
		f->on = &w->floods;
		TAILQ_INSERT_TAIL(&w->floods, f, entry);
	}
	return false;
}

void
admit_refuse(struct worker *w, struct service *s, const struct peer *peer,
    enum stats_refusal why)
{
	char host[INET6_ADDRSTRLEN];

	s->stats.refused[why]++;
	if (!flood_allows(w, &s->flood, peer, why))
		return;
	peer_ntop(peer, host, sizeof(host));
	log_notice("%s: refused connection from %s, port=%u: %s", s->name, host, peer->port,
	    stats_refusal_text(why));
}

/* Drops are never logged one by one (SPEC 9): every one goes into the summary. */
void
admit_drop(struct worker *w, struct service *s, const struct peer *peer, enum stats_drop why)
{
	s->stats.dropped[why]++;
	s->flood.datagrams = true;
	s->flood.second = time(NULL);
	s->flood.lines = FLOOD_LINES;
	(void)flood_allows(w, &s->flood, peer, why);
}

/* "NAME<mid>ADDR, port=N[ via ADDR]", formatted by hand: it is per client. */
static void
log_peer(const struct service *s, const char *mid, size_t midlen, const struct peer *peer,
    const struct peer *via)
{
	char line[LOG_LINE_MAX];
	size_t nl = strlen(s->name), n;
	char digits[6];
	int nd = 0;

	if (!log_enabled(LOG_INFO))
		return;
	memcpy(line, s->name, nl);
	memcpy(line + nl, mid, midlen);
	n = nl + midlen;
	n += peer_ntop(peer, line + n, INET6_ADDRSTRLEN);
	memcpy(line + n, ", port=", 7);
	n += 7;
	unsigned port = peer->port;
	do
		digits[nd++] = (char)('0' + port % 10);
	while ((port /= 10) > 0);
	while (nd > 0)
		line[n++] = digits[--nd];
	if (via != NULL) {
		memcpy(line + n, " via ", 5);
		n += 5;
		n += peer_ntop(via, line + n, INET6_ADDRSTRLEN);
	}
	log_line(LOG_INFO, line, n);
}

/* The checks every client passes: access lists, then the global and the service's limits. */
static enum stats_refusal
admit_check(struct worker *w, struct service *s, const struct svc_conf *cf,
    const struct peer *peer, bool in_table)
{
	struct prefix src;

	peer_prefix(peer, &src);
	if (!svc_conf_allows(cf, &src))
		return REFUSE_ACL;
	/* A connection that waited for its PROXY header holds a slot of the table already. */
	if (w->nconns - (in_table ? 1 : 0) >= w->max_conns)
		return REFUSE_GLOBAL;
	if (cf->max_conns > 0 && s->stats.active >= cf->max_conns)
		return REFUSE_MAX_CONNS;
	return STATS_NREFUSALS;
}

static void
admit_count(struct service *s)
{
	s->stats.accepted++;
	s->stats.active++;
	stats.accepted++;
	stats.active++;
}

bool
admit_conn(struct worker *w, struct service *s, const struct svc_conf *cf,
    const struct peer *peer, const struct peer *via)
{
	uint64_t key = peer_source_key(peer);
	enum stats_refusal why;

	why = admit_check(w, s, cf, peer, via != NULL);
	if (why != STATS_NREFUSALS)
		goto refuse;
	if (cf->max_per_source > 0 &&
	    srctab_count(&s->sources, key) >= (uint32_t)cf->max_per_source)
		why = REFUSE_PER_SOURCE;
	else if (cf->rate_limit > 0 &&
	    !ratelimit_take(&s->rate, key, cf->rate_limit, admit_clock()))
		why = REFUSE_RATE;
	else if (srctab_inc(&s->sources, key) < 0)
		why = REFUSE_NOMEM;
	else {
		admit_count(s);
		log_peer(s, ": accepted connection from ", 27, peer, via);
		return true;
	}
refuse:
	admit_refuse(w, s, peer, why);
	return false;
}

bool
admit_local(struct worker *w, struct service *s, const struct svc_conf *cf,
    const struct peer *proxy, const char *what)
{
	enum stats_refusal why;
	char host[INET6_ADDRSTRLEN];

	if ((why = admit_check(w, s, cf, proxy, true)) != STATS_NREFUSALS) {
		admit_refuse(w, s, proxy, why);
		return false;
	}
	admit_count(s);
	/* Health checks come every few seconds from every balancer: not worth an info line each. */
	if (log_enabled(LOG_DEBUG)) {
		peer_ntop(proxy, host, sizeof(host));
		log_debug("%s: accepted connection from %s, port=%u: %s", s->name, host,
		    proxy->port, what);
	}
	return true;
}

void
admit_release(struct service *s, const struct peer *peer, enum admit_count how)
{
	if (how == ADMIT_NONE)
		return;
	s->stats.active--;
	stats.active--;
	if (how == ADMIT_SOURCE)
		srctab_dec(&s->sources, peer_source_key(peer));
}

void
admit_proxy_error(struct worker *w, struct service *s, const struct peer *sock,
    enum stats_error kind, const char *why)
{
	char host[INET6_ADDRSTRLEN];
	bool late = kind == PERR_PROXY_TIMEOUT;

	s->stats.errors[kind]++;
	if (!flood_allows(w, &s->flood, sock, late ? FLOOD_PROXY_LATE : FLOOD_PROXY_BAD))
		return;
	peer_ntop(sock, host, sizeof(host));
	log_notice("%s: %s from %s, port=%u: %s", s->name,
	    late ? "PROXY header timeout" : "bad PROXY header", host, sock->port, why);
}

/*
 * A passed socket that a reload left without a service (SPEC 7): its
 * clients are closed at once and its datagrams dropped, counted, and told
 * in the worker's own lines - a line per connection up to the flood rate,
 * datagrams only in the summary.
 */
void
admit_unclaimed(struct worker *w, const struct peer *peer, bool datagram)
{
	char host[INET6_ADDRSTRLEN];

	stats.unclaimed++;
	if (datagram) {
		w->unclaimed_dgram.second = time(NULL);
		w->unclaimed_dgram.lines = FLOOD_LINES;
		(void)flood_allows(w, &w->unclaimed_dgram, peer, FLOOD_UNCLAIMED_DGRAM);
		return;
	}
	if (!flood_allows(w, &w->unclaimed, peer, FLOOD_UNCLAIMED))
		return;
	peer_ntop(peer, host, sizeof(host));
	log_notice("netlabd: closed a connection from %s, port=%u on a passed socket no service"
	    " uses", host, peer->port);
}

void
admit_revoke(struct worker *w, struct service *s, const struct peer *peer,
    enum stats_refusal why)
{
	admit_release(s, peer, ADMIT_SOURCE);
	s->stats.accepted--;
	stats.accepted--;
	admit_refuse(w, s, peer, why);
}

uint32_t
admit_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* A source no reply may go to: it is forged, or it reflects (another server's port). */
static int
admit_reflector(const struct peer *p)
{
	static const uint8_t zero[16];

	if (p->port < 1024)
		return DROP_PORT;
	if (p->family == AF_INET) {
		if (p->addr[0] == 0 || p->addr[0] >= 224)
			return DROP_ADDR;	/* 0/8, multicast 224/4, 240/4 and broadcast */
		return -1;
	}
	if (memcmp(p->addr, zero, 16) == 0 || p->addr[0] == 0xff)
		return DROP_ADDR;		/* unspecified, multicast */
	return -1;
}

bool
admit_datagram(struct worker *w, struct service *s, const struct svc_conf *cf,
    const struct peer *peer)
{
	struct prefix src;
	int why;

	if ((why = admit_reflector(peer)) >= 0) {
		admit_drop(w, s, peer, (enum stats_drop)why);
		return false;
	}
	peer_prefix(peer, &src);
	if (!svc_conf_allows(cf, &src)) {
		admit_drop(w, s, peer, DROP_ACL);
		return false;
	}
	return true;
}

bool
admit_reply(struct worker *w, struct service *s, const struct svc_conf *cf,
    const struct peer *peer, uint32_t now_ms)
{
	if (cf->rate_limit > 0 &&
	    !ratelimit_take(&s->rate, peer_source_key(peer), cf->rate_limit, now_ms)) {
		admit_drop(w, s, peer, DROP_RATE);
		return false;
	}
	return true;
}

/*
 * Every answered datagram is logged, up to FLOOD_ANSWER_LINES a second and
 * service: forged sources cost nothing to invent, so past that the lines
 * are counted and summarized, and no flood makes more than O(1) lines.
 */
void
admit_log_datagram(struct worker *w, struct service *s, const struct peer *peer)
{
	if (!log_enabled(LOG_INFO))
		return;
	if (s->answered.verb == NULL) {
		s->answered.name = s->name;
		s->answered.datagrams = true;
		s->answered.limit = FLOOD_ANSWER_LINES;
		s->answered.verb = "answered";
	}
	if (flood_allows(w, &s->answered, peer, 0))
		log_peer(s, ": datagram from ", 16, peer, NULL);
}
