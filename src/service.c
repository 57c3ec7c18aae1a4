/*
 * service.c - services built from the config.  A new config is applied by
 * mark and sweep: services are found by name and keep their counters;
 * connections finish under the settings they started with.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netlabd.h"
#include "proto.h"

static struct service *
service_find(struct netlabd *nd, const char *name)
{
	struct service *s;

	TAILQ_FOREACH(s, &nd->services, entry)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static struct service *
service_new(struct netlabd *nd, struct svc_conf *sc)
{
	struct service *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->name = strdup(sc->name)) == NULL)
		fatal("calloc");
	s->refcnt = 1;
	s->in_list = true;
	TAILQ_INSERT_TAIL(&nd->services, s, entry);
	return s;
}

void
service_unref(struct service *s)
{
	if (--s->refcnt > 0)
		return;
	for (size_t i = 0; i < s->sources.nbuckets; i++) {
		struct srcent *e, *next;

		for (e = s->sources.buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(s->sources.buckets);
	svc_conf_unref(s->cf);
	free(s->name);
	free(s);
}

static void
service_remove(struct netlabd *nd, struct service *s)
{
	TAILQ_REMOVE(&nd->services, s, entry);
	s->in_list = false;
	service_unref(s);
}

static bool
endpoint_wanted(const struct svc_conf *sc, const struct endpoint *ep)
{
	for (size_t i = 0; i < sc->naddrs; i++)
		if (addr_equal((const struct sockaddr *)&sc->addrs[i].ss,
		    (const struct sockaddr *)&ep->ss))
			return true;
	return false;
}

/* Hand adopted (systemd) sockets to services: by name first, else by port. */
static void
services_adopt(struct netlabd *nd)
{
	struct listener *l;
	struct service *s;

	TAILQ_FOREACH(l, &nd->listeners, entry) {
		struct service *match = NULL;

		if (!l->adopted)
			continue;
		if (l->fdname != NULL)
			match = service_find(nd, l->fdname);
		/* By port: the service listing this very address, else the first on the port. */
		if (match == NULL) {
			struct service *by_port = NULL;

			TAILQ_FOREACH(s, &nd->services, entry) {
				if (s->cf->port != addr_port((struct sockaddr *)&l->ep.ss))
					continue;
				if (endpoint_wanted(s->cf, &l->ep)) {
					match = s;
					break;
				}
				if (by_port == NULL)
					by_port = s;
			}
			if (match == NULL)
				match = by_port;
		}
		if (match != NULL) {
			l->used = true;
			listener_attach(l, match);
		}
	}
}

static bool
service_has_adopted(struct netlabd *nd, struct service *s)
{
	struct listener *l;

	TAILQ_FOREACH(l, &nd->listeners, entry)
		if (l->adopted && l->used && l->svc == s)
			return true;
	return false;
}

/* Bring listeners in line with the services: keep, close, then open. */
static int
listeners_apply(struct netlabd *nd, bool startup)
{
	struct listener *l, *next;
	struct service *s;
	int errors = 0;

	TAILQ_FOREACH(l, &nd->listeners, entry)
		l->used = false;
	services_adopt(nd);
	TAILQ_FOREACH(l, &nd->listeners, entry) {
		if (l->adopted)
			continue;
		TAILQ_FOREACH(s, &nd->services, entry) {
			if (service_has_adopted(nd, s) || !endpoint_wanted(s->cf, &l->ep))
				continue;
			l->used = true;
			listener_attach(l, s);
			break;
		}
	}
	TAILQ_FOREACH_SAFE(l, &nd->listeners, entry, next) {
		char ep[ADDR_STRLEN];

		if (l->used)
			continue;
		addr_endpoint((struct sockaddr *)&l->ep.ss, ep, sizeof(ep));
		if (!l->adopted) {
			listener_close(l);
		} else if (startup) {
			log_warnx("netlabd: passed socket %s (%s) matches no service: closing it",
			    ep, l->fdname ? l->fdname : "unnamed");
			listener_close(l);
		} else if (l->svc != NULL) {
			/* systemd still owns it: keep it open, serve nothing on it. */
			log_notice("netlabd: passed socket %s (%s) no longer matches a service:"
			    " keeping it idle", ep, l->fdname ? l->fdname : "unnamed");
			listener_attach(l, NULL);
		}
	}
	TAILQ_FOREACH(s, &nd->services, entry) {
		if (service_has_adopted(nd, s))
			continue;
		for (size_t i = 0; i < s->cf->naddrs; i++) {
			bool have = false;

			TAILQ_FOREACH(l, &nd->listeners, entry)
				if (!l->adopted && l->svc == s &&
				    addr_equal((struct sockaddr *)&l->ep.ss,
				    (struct sockaddr *)&s->cf->addrs[i].ss))
					have = true;
			if (!have && listener_open(nd, s, &s->cf->addrs[i]) < 0) {
				errors++;
				if (startup)
					return -1;
			}
		}
	}
	return errors ? -1 : 0;
}

int
services_apply(struct netlabd *nd, struct netlab_conf *nc, bool startup)
{
	struct service *s, *next;

	TAILQ_FOREACH(s, &nd->services, entry)
		s->marked = true;
	for (size_t i = 0; i < nc->nsvcs; i++) {
		struct svc_conf *sc = nc->svcs[i];

		if (!sc->enabled)
			continue;
		if ((s = service_find(nd, sc->name)) == NULL) {
			s = service_new(nd, sc);
			if (!startup)
				log_info("%s: added (%s on port %d)", sc->name, sc->proto->name,
				    sc->port);
		} else if (s->cf->port != sc->port || s->cf->proto != sc->proto) {
			log_info("%s: changed (%s on port %d)", sc->name, sc->proto->name,
			    sc->port);
		}
		s->marked = false;
		svc_conf_ref(sc);
		svc_conf_unref(s->cf);
		s->cf = sc;
	}
	TAILQ_FOREACH_SAFE(s, &nd->services, entry, next) {
		if (!s->marked)
			continue;
		log_info("%s: removed", s->name);
		service_remove(nd, s);
	}
	/* Listeners of removed services still point at them until this pass. */
	return listeners_apply(nd, startup);
}

void
services_stats(struct netlabd *nd)
{
	struct service *s;

	TAILQ_FOREACH(s, &nd->services, entry)
		log_info("%s: statistics: accepted=%llu active=%d refused=%llu"
		    " bytes_in=%llu bytes_out=%llu", s->name,
		    (unsigned long long)s->accepted, s->active,
		    (unsigned long long)s->refused, (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out);
}

void
services_free(struct netlabd *nd)
{
	struct service *s;

	while ((s = TAILQ_FIRST(&nd->services)) != NULL)
		service_remove(nd, s);
}

static size_t
srctab_hash(const struct srctab *t, uint32_t family, uint64_t key)
{
	key ^= family;
	key *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(key >> 32) & (t->nbuckets - 1);
}

uint32_t
srctab_count(struct srctab *t, uint32_t family, uint64_t key)
{
	if (t->nbuckets == 0)
		return 0;
	for (struct srcent *e = t->buckets[srctab_hash(t, family, key)]; e; e = e->next)
		if (e->key == key && e->family == family)
			return e->count;
	return 0;
}

static void
srctab_grow(struct srctab *t)
{
	size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
	struct srcent **old = t->buckets;
	size_t oldn = t->nbuckets;

	if ((t->buckets = calloc(n, sizeof(*t->buckets))) == NULL)
		fatal("calloc");
	t->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct srcent *e, *next;

		for (e = old[i]; e != NULL; e = next) {
			size_t h = srctab_hash(t, e->family, e->key);

			next = e->next;
			e->next = t->buckets[h];
			t->buckets[h] = e;
		}
	}
	free(old);
}

void
srctab_add(struct srctab *t, uint32_t family, uint64_t key, int delta)
{
	struct srcent **pp, *e;

	if (t->nentries >= t->nbuckets)
		srctab_grow(t);
	for (pp = &t->buckets[srctab_hash(t, family, key)]; (e = *pp) != NULL; pp = &e->next)
		if (e->key == key && e->family == family)
			break;
	if (e == NULL) {
		if (delta <= 0)
			return;
		if ((e = calloc(1, sizeof(*e))) == NULL)
			fatal("calloc");
		e->key = key;
		e->family = family;
		*pp = e;
		t->nentries++;
	}
	e->count = (uint32_t)((int64_t)e->count + delta);
	if (e->count == 0) {
		*pp = e->next;
		free(e);
		t->nentries--;
	}
}
