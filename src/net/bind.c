/*
 * bind.c - match services to listeners, opening before closing.  Every
 * lookup goes through a sorted index, so a reload of a thousand services
 * and two thousand sockets costs n log n, not a walk per pair.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "log.h"
#include "net/bind.h"
#include "net/listener.h"
#include "service.h"
#include "tailq.h"
#include "worker.h"

struct bind_pair {
	size_t			 svc;		/* index into nc->svcs */
	struct listener		*l;
};

/* An own listener closed early to make room (a wildcard and a specific address on one port). */
struct bind_early {
	struct endpoint		 ep;
	struct service		*svc;		/* held, to reattach when the reload is given up */
};

struct bind_plan {
	const struct netlab_conf *nc;
	struct bind_pair	*pairs;
	size_t			 npairs, cappairs;
	struct listener		**opened;
	size_t			 nopened, capopened;
	struct bind_early	*early;
	size_t			 nearly, capearly;
};

void
bind_adopt(struct worker *w, const struct passed_fd *v, size_t n)
{
	size_t adopted = 0;

	for (size_t i = 0; i < n; i++) {
		if (listener_adopt(w, v[i].fd, v[i].socktype, v[i].name) != NULL) {
			adopted++;
		} else {
			close(v[i].fd);
		}
	}
	if (adopted > 0)
		log_info("netlabd: adopted %zu socket(s) from systemd", adopted);
}

/* The plan's indexes over the enabled services of nc. */
static const struct netlab_conf *sort_nc;

static int
by_name(const void *a, const void *b)
{
	return strcmp(sort_nc->svcs[*(const size_t *)a]->name,
	    sort_nc->svcs[*(const size_t *)b]->name);
}

static int
by_port(const void *a, const void *b)
{
	const struct svc_conf *x = sort_nc->svcs[*(const size_t *)a];
	const struct svc_conf *y = sort_nc->svcs[*(const size_t *)b];

	if (x->socktype != y->socktype)
		return x->socktype < y->socktype ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int
by_endpoint(const void *a, const void *b)
{
	return endpoint_cmp(&(*(struct listener *const *)a)->ep, &(*(struct listener *const *)b)->ep);
}

static bool
svc_lists(const struct svc_conf *sc, const struct endpoint *ep)
{
	for (size_t i = 0; i < sc->naddrs; i++)
		if (endpoint_equal(&sc->addrs[i], ep))
			return true;
	return false;
}

/* The service a passed socket belongs to: its name, else the one listing its address, else the first on its port. */
static long
match_passed(const struct netlab_conf *nc, const struct listener *l, const size_t *names,
    const size_t *ports, size_t n)
{
	int port = addr_port((const struct sockaddr *)&l->ep.ss);
	size_t lo = 0, hi = n, first;

	if (l->fdname != NULL) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(nc->svcs[names[mid]]->name, l->fdname);

			if (c == 0) {
				if (nc->svcs[names[mid]]->socktype == l->ep.socktype)
					return (long)names[mid];
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	lo = 0;
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct svc_conf *sc = nc->svcs[ports[mid]];

		if (sc->socktype < l->ep.socktype ||
		    (sc->socktype == l->ep.socktype && sc->port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	for (size_t i = first; i < n && nc->svcs[ports[i]]->socktype == l->ep.socktype &&
	    nc->svcs[ports[i]]->port == port; i++)
		if (svc_lists(nc->svcs[ports[i]], &l->ep))
			return (long)ports[i];
	if (first < n && nc->svcs[ports[first]]->socktype == l->ep.socktype &&
	    nc->svcs[ports[first]]->port == port)
		return (long)ports[first];
	return -1;
}

static struct listener *
find_own(struct listener **own, size_t n, const struct endpoint *ep)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = endpoint_cmp(&own[mid]->ep, ep);

		if (c == 0)
			return own[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool
plan_pair(struct bind_plan *p, size_t svc, struct listener *l)
{
	if (!grow((void **)&p->pairs, &p->cappairs, p->npairs, sizeof(*p->pairs)))
		return false;
	p->pairs[p->npairs++] = (struct bind_pair){ svc, l };
	l->keep = true;
	return true;
}

/*
 * Linux refuses to bind a specific address on a port while we listen on
 * the wildcard (and the reverse): when the listener in the way is one this
 * config drops anyway, close it first.  Kept in the plan, to reopen on abort.
 */
static struct listener *
open_making_room(struct worker *w, struct bind_plan *p, const struct endpoint *ep,
    const char *name)
{
	struct listener *l, *in_way = NULL;

	if ((l = listener_open(w, ep, name)) != NULL || errno != EADDRINUSE)
		return l;
	TAILQ_FOREACH(l, &w->listeners, entry)
		if (!l->adopted && !l->keep && endpoint_overlap(&l->ep, ep)) {
			in_way = l;
			break;
		}
	if (in_way == NULL ||
	    !grow((void **)&p->early, &p->capearly, p->nearly, sizeof(*p->early)))
		return NULL;
	p->early[p->nearly].ep = in_way->ep;
	if ((p->early[p->nearly].svc = in_way->svc) != NULL)
		service_ref(in_way->svc);
	p->nearly++;
	listener_close(in_way);
	return listener_open(w, ep, name);
}

struct bind_plan *
bind_prepare(struct worker *w, const struct netlab_conf *nc)
{
	struct bind_plan *p = calloc(1, sizeof(*p));
	size_t *names = NULL, *ports = NULL, n = 0, nown = 0;
	struct listener **own = NULL, *l;
	bool *passed = NULL;
	int failures = 0;

	if (p == NULL)
		goto nomem;
	p->nc = nc;
	TAILQ_FOREACH(l, &w->listeners, entry) {
		l->keep = false;
		nown += !l->adopted;
	}
	names = calloc(nc->nsvcs + 1, sizeof(*names));
	ports = calloc(nc->nsvcs + 1, sizeof(*ports));
	passed = calloc(nc->nsvcs + 1, sizeof(*passed));
	own = calloc(nown + 1, sizeof(*own));
	if (names == NULL || ports == NULL || passed == NULL || own == NULL)
		goto nomem;
	for (size_t i = 0; i < nc->nsvcs; i++)
		if (nc->svcs[i]->enabled)
			names[n] = ports[n] = i, n++;
	sort_nc = nc;
	qsort(names, n, sizeof(*names), by_name);
	qsort(ports, n, sizeof(*ports), by_port);

	/* Passed sockets first: a service that received some binds none of its own. */
	TAILQ_FOREACH(l, &w->listeners, entry) {
		long i;

		if (!l->adopted || (i = match_passed(nc, l, names, ports, n)) < 0)
			continue;
		if (!plan_pair(p, (size_t)i, l))
			goto nomem;
		passed[i] = true;
	}
	nown = 0;
	TAILQ_FOREACH(l, &w->listeners, entry)
		if (!l->adopted)
			own[nown++] = l;
	qsort(own, nown, sizeof(*own), by_endpoint);

	for (size_t i = 0; i < nc->nsvcs; i++) {
		const struct svc_conf *sc = nc->svcs[i];

		if (!sc->enabled || passed[i])
			continue;
		for (size_t j = 0; j < sc->naddrs; j++) {
			if ((l = find_own(own, nown, &sc->addrs[j])) != NULL && !l->keep) {
				if (!plan_pair(p, i, l))
					goto nomem;
				continue;
			}
			if ((l = open_making_room(w, p, &sc->addrs[j], sc->name)) == NULL) {
				failures++;
				continue;
			}
			if (!grow((void **)&p->opened, &p->capopened, p->nopened, sizeof(*p->opened))) {
				listener_close(l);
				goto nomem;
			}
			p->opened[p->nopened++] = l;
			if (!plan_pair(p, i, l))
				goto nomem;
		}
	}
	free(names);
	free(ports);
	free(passed);
	free(own);
	if (failures > 0) {
		bind_abort(w, p);
		return NULL;
	}
	return p;

nomem:
	log_warnx("netlabd: out of memory while opening listeners");
	free(names);
	free(ports);
	free(passed);
	free(own);
	if (p != NULL)
		bind_abort(w, p);
	return NULL;
}

static void
plan_free(struct bind_plan *p)
{
	for (size_t i = 0; i < p->nearly; i++)
		if (p->early[i].svc != NULL)
			service_unref(p->early[i].svc);
	free(p->pairs);
	free(p->opened);
	free(p->early);
	free(p);
}

void
bind_abort(struct worker *w, struct bind_plan *p)
{
	struct listener *l;

	for (size_t i = 0; i < p->nopened; i++)
		listener_close(p->opened[i]);
	/* Put back what was closed to make room: the old config stays in force. */
	for (size_t i = 0; i < p->nearly; i++) {
		const char *name = p->early[i].svc != NULL ? p->early[i].svc->name : "netlabd";

		if ((l = listener_open(w, &p->early[i].ep, name)) != NULL)
			listener_attach(l, p->early[i].svc);
	}
	TAILQ_FOREACH(l, &w->listeners, entry)
		l->keep = false;
	plan_free(p);
}

void
bind_commit(struct worker *w, struct bind_plan *p, struct services *ss, bool startup)
{
	const struct netlab_conf *nc = p->nc;
	struct service **svc = calloc(nc->nsvcs + 1, sizeof(*svc)), *s;
	struct listener *l, *next;
	size_t i = 0;

	if (svc == NULL)
		fatal("calloc");
	/* The live services are the enabled ones of nc, in its order. */
	s = TAILQ_FIRST(&ss->live);
	for (i = 0; i < nc->nsvcs; i++) {
		if (!nc->svcs[i]->enabled)
			continue;
		svc[i] = s;
		s = TAILQ_NEXT(s, entry);
	}
	for (i = 0; i < p->npairs; i++)
		listener_attach(p->pairs[i].l, svc[p->pairs[i].svc]);
	TAILQ_FOREACH_SAFE(l, &w->listeners, entry, next) {
		char ep[ENDPOINT_STRLEN];

		if (l->keep)
			continue;
		endpoint_str(&l->ep, ep, sizeof(ep));
		if (!l->adopted) {
			listener_close(l);
		} else if (startup) {
			log_warnx("netlabd: passed socket %s (%s) matches no service: closing it", ep,
			    l->fdname != NULL ? l->fdname : "unnamed");
			listener_close(l);
		} else if (l->svc != NULL) {
			/* systemd still owns it: keep it open, and turn its clients away at once. */
			log_notice("netlabd: passed socket %s (%s) no longer matches a service:"
			    " keeping it idle (its clients are closed at once)", ep,
			    l->fdname != NULL ? l->fdname : "unnamed");
			listener_attach(l, NULL);
		}
	}
	TAILQ_FOREACH(l, &w->listeners, entry)
		l->keep = false;
	free(svc);
	plan_free(p);
}
