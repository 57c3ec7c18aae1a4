/*
 * service.c - services by name, applied from a config by mark and sweep.
 * A reload with a thousand services must not stall the loop: services are
 * found through a sorted index, not by walking the list per service.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto/proto.h"
#include "service.h"
#include "tailq.h"

struct svc_run *
svc_run_new(struct svc_conf *cf)
{
	struct svc_run *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (cf->proto->svc_new != NULL && (r->proto_svc = cf->proto->svc_new(cf->proto_conf)) == NULL) {
		free(r);
		return NULL;
	}
	r->refcnt = 1;
	r->cf = cf;
	svc_conf_ref(cf);
	return r;
}

void
svc_run_unref(struct svc_run *r)
{
	if (r == NULL || --r->refcnt > 0)
		return;
	if (r->cf->proto->svc_free != NULL)
		r->cf->proto->svc_free(r->proto_svc);
	svc_conf_unref(r->cf);
	free(r);
}

void
services_init(struct services *ss)
{
	TAILQ_INIT(&ss->live);
	TAILQ_INIT(&ss->retired);
}

struct service *
service_find(struct services *ss, const char *name)
{
	struct service *s;

	TAILQ_FOREACH(s, &ss->live, entry)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

void
service_ref(struct service *s)
{
	s->refcnt++;
}

void
service_unref(struct service *s)
{
	if (--s->refcnt > 0)
		return;
	if (s->on != NULL)
		TAILQ_REMOVE(s->on, s, entry);
	stats_unregister(&s->stats);
	srctab_free(&s->sources);
	ratelimit_free(&s->rate);
	floodlog_unlink(&s->flood);
	floodlog_unlink(&s->answered);
	free(s->flood.seen);
	free(s->answered.seen);
	svc_run_unref(s->run);
	free(s->name);
	free(s);
}

/* Off the live list: retired while anyone holds it, else freed. */
static void
service_remove(struct services *ss, struct service *s)
{
	TAILQ_REMOVE(&ss->live, s, entry);
	stats_unregister(&s->stats);
	TAILQ_INSERT_TAIL(&ss->retired, s, entry);
	s->on = &ss->retired;
	service_unref(s);
}

void
services_free(struct services *ss)
{
	struct service *s;

	while ((s = TAILQ_FIRST(&ss->live)) != NULL)
		service_remove(ss, s);
	/* What is still retired is held by something freed after us: let go of the lists. */
	while ((s = TAILQ_FIRST(&ss->retired)) != NULL) {
		TAILQ_REMOVE(&ss->retired, s, entry);
		s->on = NULL;
	}
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct service *const *)a)->name, (*(struct service *const *)b)->name);
}

/* What one enabled service of the new config becomes, prepared before anything changes. */
struct pending {
	struct service	*s;		/* existing, or new (not yet listed) */
	bool		 created;
	struct svc_run	*run;
};

int
services_apply(struct services *ss, const struct netlab_conf *nc, bool quiet)
{
	struct service_list *list = &ss->live;
	struct service **index, *s, *next, key;
	struct pending *pend;
	size_t n = 0, np = 0;

	TAILQ_FOREACH(s, list, entry)
		n++;
	TAILQ_FOREACH(s, &ss->retired, entry)
		n++;
	index = calloc(n ? n : 1, sizeof(*index));
	pend = calloc(nc->nsvcs ? nc->nsvcs : 1, sizeof(*pend));
	if (index == NULL || pend == NULL)
		goto nomem;
	n = 0;
	TAILQ_FOREACH(s, list, entry)
		index[n++] = s;
	TAILQ_FOREACH(s, &ss->retired, entry)
		index[n++] = s;
	qsort(index, n, sizeof(*index), by_name);

	for (size_t i = 0; i < nc->nsvcs; i++) {
		struct svc_conf *sc = nc->svcs[i];
		struct service *const *found, *kp = &key;
		struct pending *p = &pend[np];

		if (!sc->enabled)
			continue;
		key.name = sc->name;
		found = bsearch(&kp, index, n, sizeof(*index), by_name);
		if (found != NULL) {
			p->s = *found;
		} else {
			if ((p->s = calloc(1, sizeof(*p->s))) == NULL ||
			    (p->s->name = strdup(sc->name)) == NULL) {
				free(p->s);
				goto nomem;
			}
			p->s->refcnt = 1;
			p->s->flood.name = p->s->name;
			p->created = true;
		}
		np++;
		if ((p->run = svc_run_new(sc)) == NULL)
			goto nomem;
	}

	/* Everything needed exists: mark, update or add, sweep. */
	TAILQ_FOREACH(s, list, entry)
		s->marked = true;
	for (size_t i = 0; i < np; i++) {
		struct svc_conf *sc = pend[i].run->cf;

		s = pend[i].s;
		if (pend[i].created || s->on == &ss->retired) {
			if (s->on == &ss->retired) {
				/* Back from retirement: the list holds it again. */
				TAILQ_REMOVE(&ss->retired, s, entry);
				service_ref(s);
			}
			TAILQ_INSERT_TAIL(list, s, entry);
			s->on = list;
			if (!quiet)
				log_info("%s: added (%s on port %d)", sc->name, sc->proto->name,
				    sc->port);
		} else if (!quiet && (s->run->cf->port != sc->port || s->run->cf->proto != sc->proto)) {
			log_info("%s: changed (%s on port %d)", sc->name, sc->proto->name, sc->port);
		}
		s->marked = false;
		svc_run_unref(s->run);
		s->run = pend[i].run;
	}
	TAILQ_FOREACH_SAFE(s, list, entry, next) {
		if (!s->marked)
			continue;
		if (!quiet)
			log_info("%s: removed", s->name);
		service_remove(ss, s);
	}
	/* The list, and the counters' registry, in config order: SIGUSR1 and the metrics list services as written. */
	TAILQ_INIT(list);
	for (size_t i = 0; i < np; i++) {
		struct svc_conf *sc = pend[i].run->cf;

		s = pend[i].s;
		TAILQ_INSERT_TAIL(list, s, entry);
		s->on = list;
		stats_unregister(&s->stats);
		stats_register(&s->stats, s->name, sc->proto->name,
		    sc->socktype == SOCK_DGRAM ? "udp" : "tcp");
	}
	free(index);
	free(pend);
	return 0;

nomem:
	for (size_t i = 0; i < np; i++) {
		svc_run_unref(pend[i].run);
		if (pend[i].created) {
			free(pend[i].s->name);
			free(pend[i].s);
		}
	}
	free(index);
	free(pend);
	log_warnx("netlabd: out of memory while applying the configuration");
	return -1;
}
