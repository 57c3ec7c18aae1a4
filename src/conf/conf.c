/*
 * conf.c - the libconfuse schema, assembled from option descriptors (the
 * core's and every protocol's), its validators and its one error function,
 * copied out into struct netlab_conf.  Every message is "FILE:LINE: text".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <confuse.h>

#include "conf/conf.h"
#include "conf/conf_fixup.h"
#include "conf/conf_opt.h"
#include "log.h"
#include "proto/proto.h"

#define CONF_MAX_SIZE	(1024 * 1024)
#define NAME_MAX_LEN	FIXUP_NAME_MAX

/*
 * The one parse in progress: libconfuse callbacks carry no user pointer.
 * Parsing happens in the daemon's thread only (start-up, -t, SIGHUP).
 */
struct parse {
	const char		*path;
	struct fixup		 fix;
	int			 errors;	/* messages logged so far */
};
static struct parse *parsing;
static bool no_lookups;		/* conf_skip_lookups(): users and groups are not looked up */
/* The user the last config named, for a hint when that user cannot read the next one. */
static char conf_user[64];
static uid_t conf_uid;

static int check_user(const char *, const char *, char *, size_t);
static int check_group(const char *, const char *, char *, size_t);
static int check_log_level(const char *, const char *, char *, size_t);
static int check_protocol(const char *, const char *, char *, size_t);
static int check_address(const char *, const char *, char *, size_t);
static int check_prefix(const char *, const char *, char *, size_t);
static int check_transport(const char *, const char *, char *, size_t);

static const struct conf_opt root_opts[] = {
	{ .cfg = CFG_STR("user", NULL, CFGF_NODEFAULT), .check = check_user,
	    .flags = CONF_OPT_RESTART },
	{ .cfg = CFG_STR("group", NULL, CFGF_NODEFAULT), .check = check_group,
	    .flags = CONF_OPT_RESTART },
	{ .cfg = CFG_STR("log-level", "info", CFGF_NONE), .check = check_log_level },
	{ .cfg = CFG_INT("max-connections", 4096, CFGF_NONE), .min = 1, .max = 1000000 },
	{ .cfg = CFG_INT("shutdown-timeout", 10, CFGF_NONE), .min = 0, .max = 3600 },
	/* MiB of input and output held for all clients together. */
	{ .cfg = CFG_INT("buffer-budget", 64, CFGF_NONE), .min = 1, .max = 65536 },
	CONF_OPT_END
};

static const struct conf_opt svc_opts[] = {
	{ .cfg = CFG_STR("protocol", NULL, CFGF_NODEFAULT), .check = check_protocol },
	{ .cfg = CFG_STR("transport", "tcp", CFGF_NONE), .check = check_transport },
	/* 0: the protocol's default port; an explicit 0 is out of range. */
	{ .cfg = CFG_INT("port", 0, CFGF_NONE), .min = 1, .max = 65535 },
	{ .cfg = CFG_STR_LIST("address", "{0.0.0.0,::}", CFGF_NONE), .check = check_address },
	{ .cfg = CFG_BOOL("enabled", cfg_true, CFGF_NONE) },
	{ .cfg = CFG_INT("max-connections", 0, CFGF_NONE), .min = 0, .max = 1000000,
	    .flags = CONF_OPT_TCP_ONLY },
	{ .cfg = CFG_INT("max-per-source", 0, CFGF_NONE), .min = 0, .max = 1000000,
	    .flags = CONF_OPT_TCP_ONLY },
	{ .cfg = CFG_INT("idle-timeout", 300, CFGF_NONE), .min = 0, .max = 604800,
	    .flags = CONF_OPT_TCP_ONLY },
	/* No default here: 0 (none) for a TCP service, 20 for a UDP one (SPEC 9). */
	{ .cfg = CFG_INT("rate-limit", 0, CFGF_NODEFAULT), .min = 0, .max = 1000000 },
	{ .cfg = CFG_STR_LIST("allow", "{}", CFGF_NONE), .check = check_prefix },
	{ .cfg = CFG_STR_LIST("deny", "{}", CFGF_NONE), .check = check_prefix },
	{ .cfg = CFG_STR_LIST("proxy-from", "{}", CFGF_NONE), .check = check_prefix,
	    .flags = CONF_OPT_TCP_ONLY },
	/* Every client sends first (a PROXY header): the kernel holds a connection until it has. */
	{ .cfg = CFG_BOOL("defer-accept", cfg_false, CFGF_NONE), .flags = CONF_OPT_TCP_ONLY },
	CONF_OPT_END
};

#define UDP_RATE_LIMIT	20	/* replies a second to one source, by default */

/* Every service option, the core's and the protocols', by name. */
struct opt_index {
	const char		*name;
	const struct conf_opt	*opt;
	const struct proto	*owner;		/* NULL: every service takes it */
};

static cfg_opt_t *svc_schema, *root_schema;
static struct opt_index *svc_index, *root_index;
static size_t nsvc_index, nroot_index;
static const char **option_names;
static int schema_state;		/* 0 not built, 1 built, -1 a duplicate option name */

static size_t
opts_count(const struct conf_opt *o)
{
	size_t n = 0;

	while (o != NULL && o[n].cfg.name != NULL)
		n++;
	return n;
}

static int
index_cmp(const void *a, const void *b)
{
	return strcmp(((const struct opt_index *)a)->name, ((const struct opt_index *)b)->name);
}

static const struct opt_index *
index_find(const struct opt_index *ix, size_t n, const char *name)
{
	struct opt_index key = { .name = name };

	return bsearch(&key, ix, n, sizeof(*ix), index_cmp);
}

/* Build the schema once: the service section is the core's options plus every protocol's. */
static int
conf_schema(void)
{
	const struct proto *const *p;
	size_t n, i = 0, nroot = opts_count(root_opts), k = 0;

	if (schema_state != 0)
		return schema_state;
	n = opts_count(svc_opts);
	for (p = proto_list(); *p != NULL; p++)
		n += opts_count((*p)->opts);
	svc_schema = calloc(n + 1, sizeof(*svc_schema));
	svc_index = calloc(n, sizeof(*svc_index));
	root_schema = calloc(nroot + 2, sizeof(*root_schema));
	root_index = calloc(nroot, sizeof(*root_index));
	option_names = calloc(n + nroot + 1, sizeof(*option_names));
	if (svc_schema == NULL || svc_index == NULL || root_schema == NULL ||
	    root_index == NULL || option_names == NULL)
		fatal("calloc");
	for (size_t j = 0; j < opts_count(svc_opts); j++, i++) {
		svc_schema[i] = svc_opts[j].cfg;
		svc_index[i] = (struct opt_index){ svc_opts[j].cfg.name, &svc_opts[j], NULL };
	}
	for (p = proto_list(); *p != NULL; p++)
		for (size_t j = 0; j < opts_count((*p)->opts); j++, i++) {
			svc_schema[i] = (*p)->opts[j].cfg;
			svc_index[i] = (struct opt_index){ (*p)->opts[j].cfg.name, &(*p)->opts[j], *p };
		}
	svc_schema[i] = (cfg_opt_t)CFG_END();
	nsvc_index = i;
	qsort(svc_index, nsvc_index, sizeof(*svc_index), index_cmp);
	schema_state = 1;
	/* One name, one meaning: a protocol may not reuse another's (or the core's) option. */
	for (size_t j = 1; j < nsvc_index; j++)
		if (strcmp(svc_index[j - 1].name, svc_index[j].name) == 0) {
			fprintf(stderr, "netlabd: option '%s' is declared by %s and by %s\n",
			    svc_index[j].name,
			    svc_index[j - 1].owner ? svc_index[j - 1].owner->name : "the core",
			    svc_index[j].owner ? svc_index[j].owner->name : "the core");
			schema_state = -1;
		}

	for (size_t j = 0; j < nroot; j++) {
		root_schema[j] = root_opts[j].cfg;
		root_index[j] = (struct opt_index){ root_opts[j].cfg.name, &root_opts[j], NULL };
		option_names[k++] = root_opts[j].cfg.name;
	}
	nroot_index = nroot;
	qsort(root_index, nroot_index, sizeof(*root_index), index_cmp);
	root_schema[nroot] = (cfg_opt_t)CFG_SEC("service", svc_schema,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	root_schema[nroot + 1] = (cfg_opt_t)CFG_END();
	for (size_t j = 0; j < nsvc_index; j++) {
		if (index_find(root_index, nroot_index, svc_index[j].name) == NULL &&
		    (j == 0 || strcmp(svc_index[j - 1].name, svc_index[j].name) != 0))
			option_names[k++] = svc_index[j].name;
	}
	return schema_state;
}

int
conf_schema_check(void)
{
	return conf_schema() < 0 ? -1 : 0;
}

const char *const *
conf_option_names(void)
{
	conf_schema();
	return option_names;
}

static void __attribute__((format(printf, 2, 3)))
conf_error_at(int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	parsing->errors++;
	log_msg(LOG_ERR, "%s:%d: %s", parsing->path, line > 0 ? line : 1, msg);
}

static void __attribute__((format(printf, 2, 0)))
conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	conf_error_at(cfg != NULL ? cfg->line : 0, "%s", msg);
}

void
conf_skip_lookups(bool skip)
{
	no_lookups = skip;
}

static int
check_user(const char *opt, const char *v, char *err, size_t len)
{
	(void)opt;
	if (no_lookups || getpwnam(v) != NULL)
		return 0;
	snprintf(err, len, "unknown user '%s'", v);
	return -1;
}

static int
check_group(const char *opt, const char *v, char *err, size_t len)
{
	(void)opt;
	if (no_lookups || getgrnam(v) != NULL)
		return 0;
	snprintf(err, len, "unknown group '%s'", v);
	return -1;
}

static int
check_log_level(const char *opt, const char *v, char *err, size_t len)
{
	(void)opt;
	if (log_level_parse(v) >= 0)
		return 0;
	snprintf(err, len, "unknown log-level '%s' (debug, info, notice, warning, err)", v);
	return -1;
}

static int
check_protocol(const char *opt, const char *v, char *err, size_t len)
{
	(void)opt;
	if (proto_find(v) != NULL)
		return 0;
	snprintf(err, len, "unknown protocol '%s'", v);
	return -1;
}

static int
check_transport(const char *opt, const char *v, char *err, size_t len)
{
	if (strcmp(v, "tcp") == 0 || strcmp(v, "udp") == 0)
		return 0;
	snprintf(err, len, "unknown %s '%s' (tcp or udp)", opt, v);
	return -1;
}

static int
service_socktype(cfg_t *sec)
{
	return strcmp(cfg_getstr(sec, "transport"), "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
}

static int
check_address(const char *opt, const char *v, char *err, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	(void)opt;
	if (addr_parse(v, &ss, &sl, 0) < 0) {
		snprintf(err, len, "bad address '%s': want an IPv4 or IPv6 literal", v);
		return -1;
	}
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		snprintf(err, len, "bad address '%s': write an IPv4-mapped address as IPv4", v);
		return -1;
	}
	return 0;
}

static int
check_prefix(const char *opt, const char *v, char *err, size_t len)
{
	struct prefix p;

	if (prefix_parse(v, &p) == 0)
		return 0;
	snprintf(err, len, "bad prefix '%s' in %s: want ADDRESS or ADDRESS/LENGTH with no host"
	    " bits set", v, opt);
	return -1;
}

/*
 * Called by libconfuse for every option as soon as its value is parsed (for
 * a list: after each item, with the list so far).  Only the newest value is
 * checked, so a list of n items costs n checks, not n squared.
 */
static int
conf_validate_opt(cfg_t *cfg, cfg_opt_t *opt)
{
	bool in_service = cfg_title(cfg) != NULL;
	const struct opt_index *ix = in_service ?
	    index_find(svc_index, nsvc_index, opt->name) :
	    index_find(root_index, nroot_index, opt->name);
	const struct conf_opt *o;
	unsigned n = cfg_opt_size(opt);
	char err[384];

	if (ix == NULL || n == 0)
		return 0;
	o = ix->opt;
	if (opt->type == CFGT_INT) {
		long v = cfg_opt_getnint(opt, n - 1);

		if (v < o->min || v > o->max) {
			cfg_error(cfg, "%s %ld out of range (%ld to %ld)", opt->name, v, o->min, o->max);
			return -1;
		}
	} else if (opt->type == CFGT_STR && o->check != NULL) {
		const char *v = cfg_opt_getnstr(opt, n - 1);

		if (o->check(opt->name, v != NULL ? v : "", err, sizeof(err)) < 0) {
			cfg_error(cfg, "%s", err);
			return -1;
		}
	}
	return 0;
}

static const struct proto *
service_proto(cfg_t *sec)
{
	if (cfg_size(sec, "protocol") > 0)
		return proto_find(cfg_getstr(sec, "protocol"));
	return proto_find(cfg_title(sec));
}

static int
section_line(size_t i, int fallback)
{
	return i < parsing->fix.nsecs ? parsing->fix.secs[i].line : fallback;
}

static int
option_line(size_t i, const char *opt, int fallback)
{
	int line = fixup_option_line(&parsing->fix, i, opt);

	return line > 0 ? line : section_line(i, fallback);
}

/* Called when a service section closes: its name, its protocol, options that fit it. */
static int
conf_validate_service(cfg_t *cfg, cfg_opt_t *opt)
{
	size_t idx = cfg_opt_size(opt) - 1;
	cfg_t *sec = cfg_opt_getnsec(opt, (unsigned)idx);
	const char *title = cfg_title(sec) != NULL ? cfg_title(sec) : "";
	int line = section_line(idx, sec->line);
	const struct fixup_section *fs;
	const struct proto *p;
	size_t len = strlen(title);
	bool udp;

	(void)cfg;
	if (len == 0 || len > NAME_MAX_LEN ||
	    strspn(title, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
	    != len) {
		conf_error_at(line, "bad service name '%s': use up to %d letters, digits,"
		    " '-', '_' or '.'", title, NAME_MAX_LEN);
		return -1;
	}
	if ((p = service_proto(sec)) == NULL) {
		char names[256] = "";

		for (const struct proto *const *q = proto_list(); *q != NULL; q++) {
			if (names[0] != '\0')
				strncat(names, q[1] != NULL ? ", " : " or ",
				    sizeof(names) - strlen(names) - 1);
			strncat(names, (*q)->name, sizeof(names) - strlen(names) - 1);
		}
		conf_error_at(line, "service '%s': no protocol: set protocol = %s", title, names);
		return -1;
	}
	udp = service_socktype(sec) == SOCK_DGRAM;
	if (!(p->transports & (udp ? PROTO_UDP : PROTO_TCP))) {
		conf_error_at(option_line(idx, "transport", line), "service '%s': protocol '%s'"
		    " does not run over %s", title, p->name, udp ? "udp" : "tcp");
		return -1;
	}
	/* Without a header to wait for, a daytime client would wait for nothing. */
	if (!udp && cfg_getbool(sec, "defer-accept") && cfg_size(sec, "proxy-from") == 0) {
		conf_error_at(option_line(idx, "defer-accept", line), "service '%s': defer-accept"
		    " is for clients that come through a proxy: set proxy-from too", title);
		return -1;
	}
	if (idx >= parsing->fix.nsecs)
		return 0;
	fs = &parsing->fix.secs[idx];
	for (size_t k = 0; k < fs->nopts; k++) {
		const struct fixup_opt *fo = &parsing->fix.opts[fs->first_opt + k];
		const struct opt_index *ix = index_find(svc_index, nsvc_index, fo->name);

		if (ix == NULL)
			continue;
		if (ix->owner != NULL && ix->owner != p) {
			conf_error_at(fo->line, "service '%s': option '%s' does not apply to"
			    " protocol '%s'", title, fo->name, p->name);
			return -1;
		}
		if (udp && (ix->opt->flags & CONF_OPT_TCP_ONLY)) {
			conf_error_at(fo->line, "service '%s': option '%s' is for tcp services only",
			    title, fo->name);
			return -1;
		}
	}
	return 0;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		fatal("strdup");
	return d;
}

static void
conf_acl(cfg_t *sec, const char *opt, struct acl *acl)
{
	size_t n = cfg_size(sec, opt);
	struct prefix *v = calloc(n ? n : 1, sizeof(*v));

	if (v == NULL)
		fatal("calloc");
	for (size_t i = 0; i < n; i++)
		prefix_parse(cfg_getnstr(sec, opt, (unsigned)i), &v[i]);
	if (acl_build(acl, v, n) < 0)
		fatal("calloc");
	free(v);
}

static struct svc_conf *
conf_service(cfg_t *sec)
{
	struct svc_conf *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		fatal("calloc");
	sc->refcnt = 1;
	sc->name = xstrdup(cfg_title(sec));
	sc->proto = service_proto(sec);
	sc->socktype = service_socktype(sec);
	sc->port = (int)cfg_getint(sec, "port");
	if (sc->port == 0)
		sc->port = sc->proto->default_port;
	sc->enabled = cfg_getbool(sec, "enabled");
	sc->naddrs = cfg_size(sec, "address");
	sc->addrs = calloc(sc->naddrs ? sc->naddrs : 1, sizeof(*sc->addrs));
	if (sc->addrs == NULL)
		fatal("calloc");
	for (size_t i = 0; i < sc->naddrs; i++) {
		addr_parse(cfg_getnstr(sec, "address", (unsigned)i), &sc->addrs[i].ss,
		    &sc->addrs[i].len, sc->port);
		sc->addrs[i].socktype = sc->socktype;
	}
	sc->max_conns = (int)cfg_getint(sec, "max-connections");
	sc->max_per_source = (int)cfg_getint(sec, "max-per-source");
	sc->idle_timeout = (int)cfg_getint(sec, "idle-timeout");
	sc->rate_limit = cfg_size(sec, "rate-limit") > 0 ? (int)cfg_getint(sec, "rate-limit") :
	    sc->socktype == SOCK_DGRAM ? UDP_RATE_LIMIT : 0;
	conf_acl(sec, "allow", &sc->allow);
	conf_acl(sec, "deny", &sc->deny);
	conf_acl(sec, "proxy-from", &sc->proxy_from);
	sc->defer_accept = sc->socktype == SOCK_STREAM && cfg_getbool(sec, "defer-accept");
	if (sc->proto->conf_new != NULL && (sc->proto_conf = sc->proto->conf_new(sec)) == NULL)
		fatal("%s: out of memory", sc->name);
	return sc;
}

/* An endpoint of one service, for the overlap check across all of them. */
struct ep_owner {
	struct endpoint	 ep;
	size_t		 svc;
};

static int
ep_owner_cmp(const void *a, const void *b)
{
	const struct ep_owner *x = a, *y = b;
	int c = endpoint_cmp(&x->ep, &y->ep);

	if (c != 0)
		return c;
	return x->svc < y->svc ? -1 : x->svc > y->svc;
}

static void
report_overlap(struct netlab_conf *nc, const struct ep_owner *a, const struct ep_owner *b)
{
	char ea[ENDPOINT_STRLEN], eb[ENDPOINT_STRLEN];
	const struct ep_owner *first = a->svc <= b->svc ? a : b, *later = first == a ? b : a;
	const struct svc_conf *s = nc->svcs[later->svc];

	endpoint_str(&later->ep, eb, sizeof(eb));
	endpoint_str(&first->ep, ea, sizeof(ea));
	if (first->svc == later->svc) {
		char ta[INET6_ADDRSTRLEN], tb[INET6_ADDRSTRLEN];

		addr_ntop((const struct sockaddr *)&later->ep.ss, tb, sizeof(tb));
		addr_ntop((const struct sockaddr *)&first->ep.ss, ta, sizeof(ta));
		conf_error_at(option_line(later->svc, "address", 0),
		    "address '%s' overlaps '%s' in the same list", tb, ta);
		return;
	}
	conf_error_at(option_line(later->svc, "port", 0), "service '%s': %s overlaps %s of"
	    " service '%s'", s->name, eb, ea, nc->svcs[first->svc]->name);
}

/*
 * Checks across services once the whole file is parsed.  Overlaps are found
 * by sorting every endpoint: those that can collide become neighbours,
 * except a wildcard, which sorts first in its (type, family, port) group.
 */
static int
conf_check_services(struct netlab_conf *nc)
{
	struct ep_owner *v;
	size_t n = 0, enabled = 0, group = 0;
	int errors = 0;
	bool *reported;

	for (size_t i = 0; i < nc->nsvcs; i++) {
		if (nc->svcs[i]->naddrs == 0) {
			conf_error_at(option_line(i, "address", 0), "service '%s': address list is"
			    " empty", nc->svcs[i]->name);
			errors++;
		}
		if (nc->svcs[i]->enabled) {
			enabled++;
			n += nc->svcs[i]->naddrs;
		}
	}
	v = calloc(n ? n : 1, sizeof(*v));
	reported = calloc(nc->nsvcs ? nc->nsvcs : 1, sizeof(*reported));
	if (v == NULL || reported == NULL)
		fatal("calloc");
	n = 0;
	for (size_t i = 0; i < nc->nsvcs; i++)
		for (size_t j = 0; nc->svcs[i]->enabled && j < nc->svcs[i]->naddrs; j++)
			v[n++] = (struct ep_owner){ nc->svcs[i]->addrs[j], i };
	qsort(v, n, sizeof(*v), ep_owner_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct sockaddr *g = (const struct sockaddr *)&v[group].ep.ss;
		const struct sockaddr *c = (const struct sockaddr *)&v[i].ep.ss;
		const struct ep_owner *hit = NULL;

		if (v[group].ep.socktype != v[i].ep.socktype || g->sa_family != c->sa_family ||
		    addr_port(g) != addr_port(c))
			group = i;
		if (endpoint_overlap(&v[i - 1].ep, &v[i].ep))
			hit = &v[i - 1];
		else if (group != i && endpoint_overlap(&v[group].ep, &v[i].ep))
			hit = &v[group];
		if (hit != NULL) {
			size_t later = hit->svc > v[i].svc ? hit->svc : v[i].svc;

			if (!reported[later]) {
				reported[later] = true;
				report_overlap(nc, hit, &v[i]);
				errors++;
			}
		}
	}
	free(v);
	free(reported);
	if (enabled == 0) {
		conf_error_at(parsing->fix.lines, "no service enabled");
		errors++;
	}
	return errors ? -1 : 0;
}

static struct netlab_conf *
conf_copy(cfg_t *cfg)
{
	struct netlab_conf *nc = calloc(1, sizeof(*nc));
	const char *user = cfg_size(cfg, "user") ? cfg_getstr(cfg, "user") : NULL;
	const char *group = cfg_size(cfg, "group") ? cfg_getstr(cfg, "group") : NULL;

	if (nc == NULL)
		fatal("calloc");
	nc->path = xstrdup(parsing->path);
	nc->log_level = log_level_parse(cfg_getstr(cfg, "log-level"));
	nc->max_conns = (int)cfg_getint(cfg, "max-connections");
	nc->shutdown_timeout = (int)cfg_getint(cfg, "shutdown-timeout");
	nc->buffer_budget = (size_t)cfg_getint(cfg, "buffer-budget") * 1024 * 1024;
	/* The validators saw these names resolve; a change since then is an error too. */
	if (user != NULL && !no_lookups) {
		struct passwd *pw = getpwnam(user);

		if (pw == NULL) {
			conf_error_at(1, "unknown user '%s'", user);
			conf_free(nc);
			return NULL;
		}
		nc->user = xstrdup(user);
		nc->uid = pw->pw_uid;
		snprintf(conf_user, sizeof(conf_user), "%s", user);
		conf_uid = pw->pw_uid;
		nc->gid = pw->pw_gid;
	}
	if (group != NULL && !no_lookups) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			conf_error_at(1, "unknown group '%s'", group);
			conf_free(nc);
			return NULL;
		}
		nc->group = xstrdup(group);
		nc->gid = gr->gr_gid;
	}
	for (size_t i = 0, k = 0; i < opts_count(root_opts); i++) {
		const cfg_opt_t *o = &root_opts[i].cfg;
		char v[32];

		if (!(root_opts[i].flags & CONF_OPT_RESTART) || cfg_size(cfg, o->name) == 0) {
			k += (root_opts[i].flags & CONF_OPT_RESTART) != 0;
			continue;
		}
		if (k == CONF_RESTART_MAX)
			fatalx("netlabd: too many restart-only options");
		if (o->type == CFGT_INT)
			snprintf(v, sizeof(v), "%ld", cfg_getint(cfg, o->name));
		nc->restart_values[k++] = xstrdup(o->type == CFGT_INT ? v :
		    o->type == CFGT_BOOL ? (cfg_getbool(cfg, o->name) ? "true" : "false") :
		    cfg_getstr(cfg, o->name));
	}
	nc->nsvcs = cfg_size(cfg, "service");
	nc->svcs = calloc(nc->nsvcs ? nc->nsvcs : 1, sizeof(*nc->svcs));
	if (nc->svcs == NULL)
		fatal("calloc");
	for (size_t i = 0; i < nc->nsvcs; i++)
		nc->svcs[i] = conf_service(cfg_getnsec(cfg, "service", (unsigned)i));
	return nc;
}

struct netlab_conf *
conf_load_buf(const char *path, const char *text, size_t len)
{
	struct parse ps = { .path = path };
	struct netlab_conf *nc = NULL;
	cfg_t *cfg;

	if (conf_schema() < 0)
		fatalx("netlabd: the option table is inconsistent");
	parsing = &ps;
	if (fixup_prepare(&ps.fix, text, len) < 0) {
		if (ps.fix.err_line == 0)
			fatalx("netlabd: %s: out of memory", path);
		conf_error_at(ps.fix.err_line, "%s", ps.fix.err);
		fixup_free(&ps.fix);
		parsing = NULL;
		return NULL;
	}

	if ((cfg = cfg_init(root_schema, CFGF_NONE)) == NULL)
		fatal("cfg_init");
	cfg_set_error_function(cfg, conf_errfunc);
	for (size_t i = 0; i < nroot_index; i++)
		cfg_set_validate_func(cfg, root_index[i].name, conf_validate_opt);
	for (size_t i = 0; i < nsvc_index; i++) {
		char name[128];

		snprintf(name, sizeof(name), "service|%s", svc_index[i].name);
		cfg_set_validate_func(cfg, name, conf_validate_opt);
	}
	cfg_set_validate_func(cfg, "service", conf_validate_service);

	if (cfg_parse_buf(cfg, ps.fix.text) == CFG_SUCCESS) {
		if ((nc = conf_copy(cfg)) != NULL && conf_check_services(nc) < 0) {
			conf_free(nc);
			nc = NULL;
		}
	} else if (ps.errors == 0) {
		/* libconfuse fails some inputs (an empty option name) without a word;
		 * the line it stopped on is the root's, or the open section's. */
		int line = cfg->line;
		unsigned n = cfg_size(cfg, "service");

		if (n > 0 && cfg_getnsec(cfg, "service", n - 1)->line > line)
			line = cfg_getnsec(cfg, "service", n - 1)->line;
		conf_error_at(line > 0 ? line : 1, "syntax error");
	}
	cfg_free(cfg);
	fixup_free(&ps.fix);
	parsing = NULL;
	return nc;
}

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

/*
 * A file root alone may read is the usual way to lose every reload after
 * "user" dropped root: say so, and what to do, where the admin looks.
 */
static void
conf_open_failed(const char *path)
{
	int saved = errno;
	uid_t uid = geteuid();

	if (saved != EACCES || uid == 0) {
		log_warn("netlabd: cannot open config %s", path);
		return;
	}
	if (conf_user[0] != '\0' && uid == conf_uid)
		log_warnx("netlabd: cannot open config %s: %s: netlabd runs as uid %u (user %s)"
		    " after dropping privileges; make the file readable to it", path,
		    strerror(saved), (unsigned)uid, conf_user);
	else
		log_warnx("netlabd: cannot open config %s: %s: netlabd runs as uid %u, not root;"
		    " make the file readable to it", path, strerror(saved), (unsigned)uid);
}

/*
 * Opened non-blocking, so that a FIFO at the path cannot hang the daemon
 * (on SIGHUP, in the middle of serving), and checked with fstat on what was
 * opened, not on the path.
 */
struct netlab_conf *
conf_load(const char *path)
{
	struct netlab_conf *nc;
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) < 0) {
		conf_open_failed(path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		log_warn("netlabd: %s: fstat", path);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("netlabd: %s: not a regular file (%s)", path, file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		log_warnx("netlabd: %s: larger than %d bytes", path, CONF_MAX_SIZE);
		close(fd);
		return NULL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("malloc");
	while (got < (size_t)st.st_size &&
	    ((n = read(fd, text + got, (size_t)st.st_size - got)) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	text[got] = '\0';
	nc = conf_load_buf(path, text, got);
	free(text);
	return nc;
}

void
svc_conf_ref(struct svc_conf *sc)
{
	sc->refcnt++;
}

void
svc_conf_unref(struct svc_conf *sc)
{
	if (sc == NULL || --sc->refcnt > 0)
		return;
	if (sc->proto->conf_free != NULL)
		sc->proto->conf_free(sc->proto_conf);
	free(sc->name);
	free(sc->addrs);
	acl_free(&sc->allow);
	acl_free(&sc->deny);
	acl_free(&sc->proxy_from);
	free(sc);
}

void
conf_free(struct netlab_conf *nc)
{
	if (nc == NULL)
		return;
	for (size_t i = 0; i < nc->nsvcs; i++)
		svc_conf_unref(nc->svcs[i]);
	free(nc->svcs);
	for (size_t i = 0; i < CONF_RESTART_MAX; i++)
		free(nc->restart_values[i]);
	free(nc->path);
	free(nc->user);
	free(nc->group);
	free(nc);
}

bool
svc_conf_allows(const struct svc_conf *sc, const struct prefix *peer)
{
	if (acl_match(&sc->deny, peer))
		return false;
	return sc->allow.nprefixes == 0 || acl_match(&sc->allow, peer);
}

/* Every option flagged CONF_OPT_RESTART whose value differs between a and b. */
void
conf_restart_changes(const struct netlab_conf *a, const struct netlab_conf *b,
    const char **names, size_t max)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < opts_count(root_opts); i++) {
		const char *x, *y;

		if (!(root_opts[i].flags & CONF_OPT_RESTART))
			continue;
		x = a->restart_values[k];
		y = b->restart_values[k++];
		if (n + 1 < max && ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0)))
			names[n++] = root_opts[i].cfg.name;
	}
	names[n] = NULL;
}

void
conf_print_listen(const struct netlab_conf *nc, FILE *fp)
{
	for (size_t i = 0; i < nc->nsvcs; i++) {
		const struct svc_conf *sc = nc->svcs[i];

		for (size_t j = 0; sc->enabled && j < sc->naddrs; j++) {
			char ep[ADDR_STRLEN];

			addr_endpoint((const struct sockaddr *)&sc->addrs[j].ss, ep, sizeof(ep));
			fprintf(fp, "%s=%s\n", sc->socktype == SOCK_DGRAM ? "ListenDatagram" :
			    "ListenStream", ep);
		}
	}
}
