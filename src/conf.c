/*
 * conf.c - the libconfuse schema, its validators and its one error function,
 * copied out into struct netlab_conf.  Every message is "FILE:LINE: text".
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <confuse.h>

#include "conf.h"
#include "log.h"
#include "proto.h"

#define CONF_MAX_SIZE	(1024 * 1024)
#define NAME_MAX_LEN	64

/* Where each option was set, so that later checks can name the right line. */
struct optrec {
	const char	*title;		/* service title, "" for the top level */
	const char	*opt;
	int		 line;
};

/* State of the one parse in progress; libconfuse callbacks carry no user pointer. */
struct parse {
	const char	*path;
	struct optrec	*recs;
	size_t		 nrecs, caprecs;
	int		 lines;
	struct {
		char	 title[NAME_MAX_LEN + 1];
		int	 line;
	}		 titles[256];		/* where each service section starts */
	size_t		 ntitles;
	int		 errors;		/* messages logged so far */
};
static struct parse *parsing;

static cfg_opt_t root_opts_common[] = {
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("group", NULL, CFGF_NODEFAULT),
	CFG_STR("log-level", "info", CFGF_NONE),
	CFG_INT("max-connections", 4096, CFGF_NONE),
	CFG_INT("shutdown-timeout", 10, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t svc_opts_common[] = {
	CFG_STR("protocol", NULL, CFGF_NODEFAULT),
	CFG_INT("port", 0, CFGF_NONE),
	CFG_STR_LIST("address", "{0.0.0.0,::}", CFGF_NONE),
	CFG_BOOL("enabled", cfg_true, CFGF_NONE),
	CFG_INT("max-connections", 0, CFGF_NONE),
	CFG_INT("max-per-source", 0, CFGF_NONE),
	CFG_INT("idle-timeout", 300, CFGF_NONE),
	CFG_STR_LIST("allow", "{}", CFGF_NONE),
	CFG_STR_LIST("deny", "{}", CFGF_NONE),
	CFG_END()
};

/* Integer options and their ranges. */
static const struct {
	const char	*opt;
	int		 in_service;
	long		 min, max;
} int_ranges[] = {
	{ "max-connections", 0, 1, 1000000 },
	{ "shutdown-timeout", 0, 0, 3600 },
	{ "port", 1, 1, 65535 },
	{ "max-connections", 1, 0, 1000000 },
	{ "max-per-source", 1, 0, 1000000 },
	{ "idle-timeout", 1, 0, 604800 },
};

static cfg_opt_t *svc_schema;		/* common + every protocol's options */
static cfg_opt_t *root_schema;
static const char **option_names;

static size_t
opts_count(const cfg_opt_t *o)
{
	size_t n = 0;

	while (o != NULL && o[n].name != NULL)
		n++;
	return n;
}

/* Build the schema once: the service section is the union of every protocol's options. */
static void
conf_schema(void)
{
	const struct proto *const *p;
	size_t n, i = 0, k = 0, nroot;

	if (svc_schema != NULL)
		return;
	n = opts_count(svc_opts_common);
	for (p = proto_list(); *p != NULL; p++)
		n += opts_count((*p)->opts);
	svc_schema = calloc(n + 1, sizeof(*svc_schema));
	nroot = opts_count(root_opts_common);
	root_schema = calloc(nroot + 2, sizeof(*root_schema));
	option_names = calloc(n + nroot + 1, sizeof(*option_names));
	if (svc_schema == NULL || root_schema == NULL || option_names == NULL)
		fatal("calloc");
	for (size_t j = 0; j < opts_count(svc_opts_common); j++)
		svc_schema[i++] = svc_opts_common[j];
	for (p = proto_list(); *p != NULL; p++)
		for (size_t j = 0; j < opts_count((*p)->opts); j++)
			svc_schema[i++] = (*p)->opts[j];
	svc_schema[i] = (cfg_opt_t)CFG_END();

	for (size_t j = 0; j < nroot; j++) {
		root_schema[j] = root_opts_common[j];
		option_names[k++] = root_opts_common[j].name;
	}
	root_schema[nroot] = (cfg_opt_t)CFG_SEC("service", svc_schema,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	root_schema[nroot + 1] = (cfg_opt_t)CFG_END();
	for (size_t j = 0; j < i; j++) {
		size_t m;

		for (m = 0; m < k; m++)
			if (strcmp(option_names[m], svc_schema[j].name) == 0)
				break;
		if (m == k)
			option_names[k++] = svc_schema[j].name;
	}
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
	log_msg(LOG_ERR, "%s:%d: %s", parsing->path, line, msg);
}

static void
conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	conf_error_at(cfg != NULL ? cfg->line : 0, "%s", msg);
}

static void
conf_title_line(struct parse *ps, const char *title, size_t len, int line)
{
	if (ps->ntitles == sizeof(ps->titles) / sizeof(ps->titles[0]) || len > NAME_MAX_LEN)
		return;
	memcpy(ps->titles[ps->ntitles].title, title, len);
	ps->titles[ps->ntitles].title[len] = '\0';
	ps->titles[ps->ntitles++].line = line;
}

/* The line of "service TITLE {", or fallback when the scan did not see it. */
static int
conf_section_line(const char *title, int fallback)
{
	for (size_t i = 0; i < parsing->ntitles; i++)
		if (strcmp(parsing->titles[i].title, title) == 0)
			return parsing->titles[i].line;
	return fallback;
}

static const char *
sec_title(cfg_t *cfg)
{
	const char *t = cfg_title(cfg);

	return t != NULL ? t : "";
}

static int
conf_line(const char *title, const char *opt)
{
	for (size_t i = parsing->nrecs; i-- > 0;)
		if (strcmp(parsing->recs[i].title, title) == 0 &&
		    strcmp(parsing->recs[i].opt, opt) == 0)
			return parsing->recs[i].line;
	return 0;
}

static void
conf_record(cfg_t *cfg, const char *opt)
{
	struct parse *ps = parsing;

	if (ps->nrecs == ps->caprecs) {
		size_t cap = ps->caprecs ? ps->caprecs * 2 : 32;
		struct optrec *r = realloc(ps->recs, cap * sizeof(*r));

		if (r == NULL)
			fatal("realloc");
		ps->recs = r;
		ps->caprecs = cap;
	}
	ps->recs[ps->nrecs++] = (struct optrec){ sec_title(cfg), opt, cfg->line };
}

static const struct proto *
proto_owning(const char *opt)
{
	for (const struct proto *const *p = proto_list(); *p != NULL; p++)
		for (size_t j = 0; j < opts_count((*p)->opts); j++)
			if (strcmp((*p)->opts[j].name, opt) == 0)
				return *p;
	return NULL;
}

static int
check_int(cfg_t *cfg, const char *opt, int in_service)
{
	for (size_t i = 0; i < sizeof(int_ranges) / sizeof(int_ranges[0]); i++) {
		if (int_ranges[i].in_service != in_service || strcmp(int_ranges[i].opt, opt) != 0)
			continue;
		long v = cfg_getint(cfg, opt);

		if (v < int_ranges[i].min || v > int_ranges[i].max) {
			cfg_error(cfg, "%s %ld out of range (%ld to %ld)", opt, v,
			    int_ranges[i].min, int_ranges[i].max);
			return -1;
		}
	}
	return 0;
}

static bool endpoints_overlap(const struct endpoint *, const struct endpoint *);

static int
check_addresses(cfg_t *sec)
{
	unsigned n = cfg_size(sec, "address");
	struct sockaddr_storage ss;
	socklen_t len;

	if (n == 0) {
		cfg_error(sec, "address list is empty");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *a = cfg_getnstr(sec, "address", i);

		if (addr_parse(a, &ss, &len, 0) < 0) {
			cfg_error(sec, "bad address '%s': want an IPv4 or IPv6 literal", a);
			return -1;
		}
		if (ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
			cfg_error(sec, "bad address '%s': write an IPv4-mapped address as IPv4", a);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			struct endpoint x = { .ss = ss }, y;

			addr_parse(cfg_getnstr(sec, "address", j), &y.ss, &y.len, 0);
			if (endpoints_overlap(&x, &y)) {
				cfg_error(sec, "address '%s' overlaps '%s' in the same list", a,
				    cfg_getnstr(sec, "address", j));
				return -1;
			}
		}
	}
	return 0;
}

static int
check_prefixes(cfg_t *sec, const char *opt)
{
	struct prefix p;

	for (unsigned i = 0; i < cfg_size(sec, opt); i++) {
		const char *s = cfg_getnstr(sec, opt, i);

		if (prefix_parse(s, &p) < 0) {
			cfg_error(sec, "bad prefix '%s' in %s: want ADDRESS or ADDRESS/LENGTH"
			    " with no host bits set", s, opt);
			return -1;
		}
	}
	return 0;
}

static int
check_service_opt(cfg_t *sec, const char *opt)
{
	const struct proto *p;
	char err[256];

	if (strcmp(opt, "protocol") == 0) {
		if (proto_find(cfg_getstr(sec, "protocol")) == NULL) {
			cfg_error(sec, "unknown protocol '%s'", cfg_getstr(sec, "protocol"));
			return -1;
		}
		return 0;
	}
	if (strcmp(opt, "address") == 0)
		return check_addresses(sec);
	if (strcmp(opt, "allow") == 0 || strcmp(opt, "deny") == 0)
		return check_prefixes(sec, opt);
	if ((p = proto_owning(opt)) != NULL && p->check != NULL &&
	    p->check(sec, opt, err, sizeof(err)) < 0) {
		cfg_error(sec, "%s", err);
		return -1;
	}
	return check_int(sec, opt, 1);
}

static int
check_root_opt(cfg_t *cfg, const char *opt)
{
	if (strcmp(opt, "log-level") == 0 && log_level_parse(cfg_getstr(cfg, opt)) < 0) {
		cfg_error(cfg, "unknown log-level '%s' (debug, info, notice, warning, err)",
		    cfg_getstr(cfg, opt));
		return -1;
	}
	if (strcmp(opt, "user") == 0 && getpwnam(cfg_getstr(cfg, opt)) == NULL) {
		cfg_error(cfg, "unknown user '%s'", cfg_getstr(cfg, opt));
		return -1;
	}
	if (strcmp(opt, "group") == 0 && getgrnam(cfg_getstr(cfg, opt)) == NULL) {
		cfg_error(cfg, "unknown group '%s'", cfg_getstr(cfg, opt));
		return -1;
	}
	return check_int(cfg, opt, 0);
}

/* Called by libconfuse for every option as soon as its value is parsed. */
static int
conf_validate_opt(cfg_t *cfg, cfg_opt_t *opt)
{
	conf_record(cfg, opt->name);
	if (cfg_title(cfg) != NULL)
		return check_service_opt(cfg, opt->name);
	return check_root_opt(cfg, opt->name);
}

static const struct proto *
service_proto(cfg_t *sec)
{
	if (cfg_size(sec, "protocol") > 0)
		return proto_find(cfg_getstr(sec, "protocol"));
	return proto_find(cfg_title(sec));
}

/* Called when a service section closes: name, protocol, options that fit it. */
static int
conf_validate_service(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *title = sec_title(sec);
	const struct proto *p;
	size_t len = strlen(title);

	if (len == 0 || len > NAME_MAX_LEN ||
	    strspn(title, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
	    != len) {
		conf_error_at(conf_section_line(title, sec->line), "bad service name '%s': use up to %d letters, digits,"
		    " '-', '_' or '.'", title, NAME_MAX_LEN);
		return -1;
	}
	if ((p = service_proto(sec)) == NULL) {
		char names[128] = "";

		for (const struct proto *const *q = proto_list(); *q != NULL; q++) {
			if (names[0] != '\0')
				strncat(names, q[1] != NULL ? ", " : " or ", sizeof(names) - strlen(names) - 1);
			strncat(names, (*q)->name, sizeof(names) - strlen(names) - 1);
		}
		conf_error_at(conf_section_line(title, sec->line), "service '%s': no protocol: set"
		    " protocol = %s", title, names);
		return -1;
	}
	for (const struct proto *const *q = proto_list(); *q != NULL; q++) {
		if (*q == p)
			continue;
		for (size_t j = 0; j < opts_count((*q)->opts); j++) {
			int line = conf_line(title, (*q)->opts[j].name);

			if (line > 0 && proto_owning((*q)->opts[j].name) != p) {
				conf_error_at(line, "service '%s': option '%s' does not apply to"
				    " protocol '%s'", title, (*q)->opts[j].name, p->name);
				return -1;
			}
		}
	}
	(void)cfg;
	return 0;
}

/* Blank out comments (keeping every newline) so libconfuse counts lines right. */
static void
conf_strip_comments(char *s)
{
	char quote = 0;

	for (; *s != '\0'; s++) {
		if (quote) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == quote)
				quote = 0;
		} else if (*s == '"' || *s == '\'') {
			quote = *s;
		} else if (*s == '#' || (s[0] == '/' && s[1] == '/')) {
			while (*s != '\0' && *s != '\n')
				*s++ = ' ';
			if (*s == '\0')
				break;
		} else if (s[0] == '/' && s[1] == '*') {
			while (*s != '\0' && !(s[0] == '*' && s[1] == '/')) {
				if (*s != '\n')
					*s = ' ';
				s++;
			}
			if (*s == '\0')
				break;
			s[0] = s[1] = ' ';
			s++;
		}
	}
}

/*
 * libconfuse knows a section's line only once it closes, and accepts a file
 * that ends inside a section: find each "service TITLE" header line and check
 * that braces balance, on the comment-free text.
 */
static int
conf_prescan(struct parse *ps, const char *s)
{
	int line = 1, depth = 0, open_line = 0;
	const char *tok = NULL, *begin = s;

	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			line++;
		} else if (*s == '"' || *s == '\'') {
			char q = *s;
			const char *start = s + 1;

			while (s[1] != '\0' && s[1] != q) {
				if (s[1] == '\\' && s[2] != '\0')
					s++;
				if (s[1] == '\n')
					line++;
				s++;
			}
			if (s[1] == '\0')
				break;
			s++;
			if (tok != NULL && depth == 0)
				conf_title_line(ps, start, (size_t)(s - start), line);
			tok = NULL;
			continue;
		} else if (*s == '{') {
			if (depth++ == 0)
				open_line = line;
		} else if (*s == '}') {
			depth--;
		} else if (depth == 0 && strncmp(s, "service", 7) == 0 &&
		    (s == begin || strchr(" \t\n}", s[-1]) != NULL) &&
		    (s[7] == ' ' || s[7] == '\t' || s[7] == '\n')) {
			tok = s;
			s += 6;
			continue;
		} else if (tok != NULL && depth == 0 && *s != ' ' && *s != '\t') {
			size_t n = strcspn(s, " \t\n{");

			conf_title_line(ps, s, n, line);
			s += n - 1;
			tok = NULL;
		}
	}
	if (depth > 0) {
		conf_error_at(open_line, "'{' is never closed");
		return -1;
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

static struct prefix *
conf_prefixes(cfg_t *sec, const char *opt, size_t *n)
{
	struct prefix *v;

	*n = cfg_size(sec, opt);
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (v == NULL)
		fatal("calloc");
	for (size_t i = 0; i < *n; i++)
		prefix_parse(cfg_getnstr(sec, opt, (unsigned)i), &v[i]);
	return v;
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
	sc->port = (int)cfg_getint(sec, "port");
	if (sc->port == 0)
		sc->port = sc->proto->default_port;
	sc->enabled = cfg_getbool(sec, "enabled");
	sc->naddrs = cfg_size(sec, "address");
	sc->addrs = calloc(sc->naddrs ? sc->naddrs : 1, sizeof(*sc->addrs));
	if (sc->addrs == NULL)
		fatal("calloc");
	for (size_t i = 0; i < sc->naddrs; i++)
		addr_parse(cfg_getnstr(sec, "address", (unsigned)i), &sc->addrs[i].ss,
		    &sc->addrs[i].len, sc->port);
	sc->max_conns = (int)cfg_getint(sec, "max-connections");
	sc->max_per_source = (int)cfg_getint(sec, "max-per-source");
	sc->idle_timeout = (int)cfg_getint(sec, "idle-timeout");
	sc->allow = conf_prefixes(sec, "allow", &sc->nallow);
	sc->deny = conf_prefixes(sec, "deny", &sc->ndeny);
	if (sc->proto->conf_new != NULL && (sc->proto_conf = sc->proto->conf_new(sec)) == NULL)
		fatal("%s: out of memory", sc->name);
	return sc;
}

static bool
endpoints_overlap(const struct endpoint *a, const struct endpoint *b)
{
	const struct sockaddr *x = (const struct sockaddr *)&a->ss;
	const struct sockaddr *y = (const struct sockaddr *)&b->ss;

	if (x->sa_family != y->sa_family || addr_port(x) != addr_port(y))
		return false;
	return addr_is_wildcard(x) || addr_is_wildcard(y) || addr_equal(x, y);
}

static int
service_line(const struct svc_conf *sc, const char *opt, int fallback)
{
	int line = conf_line(sc->name, opt);

	return line > 0 ? line : fallback;
}

/* Checks across services, once the whole file is parsed. */
static int
conf_check_services(struct netlab_conf *nc, cfg_t *cfg)
{
	size_t enabled = 0;
	int errors = 0;

	for (size_t i = 0; i < nc->nsvcs; i++) {
		struct svc_conf *b = nc->svcs[i];
		int bline = conf_section_line(b->name, cfg_getnsec(cfg, "service", (unsigned)i)->line);

		if (b->naddrs == 0) {
			conf_error_at(service_line(b, "address", bline),
			    "service '%s': address list is empty", b->name);
			errors++;
		}
		if (!b->enabled)
			continue;
		enabled++;
		for (size_t j = 0; j < i; j++) {
			struct svc_conf *a = nc->svcs[j];

			if (!a->enabled || a->port != b->port)
				continue;
			for (size_t x = 0; x < a->naddrs; x++)
				for (size_t y = 0; y < b->naddrs; y++) {
					char ea[ADDR_STRLEN], eb[ADDR_STRLEN];

					if (!endpoints_overlap(&a->addrs[x], &b->addrs[y]))
						continue;
					conf_error_at(service_line(b, "port", bline),
					    "service '%s': %s overlaps %s of service '%s'", b->name,
					    addr_endpoint((struct sockaddr *)&b->addrs[y].ss, eb, sizeof(eb)),
					    addr_endpoint((struct sockaddr *)&a->addrs[x].ss, ea, sizeof(ea)),
					    a->name);
					errors++;
					goto next;
				}
		}
next:		;
	}
	if (enabled == 0) {
		conf_error_at(parsing->lines, "no service enabled");
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
	if (user != NULL) {
		struct passwd *pw = getpwnam(user);

		nc->user = xstrdup(user);
		nc->uid = pw->pw_uid;
		nc->gid = pw->pw_gid;
	}
	if (group != NULL) {
		nc->group = xstrdup(group);
		nc->gid = getgrnam(group)->gr_gid;
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
conf_load_buf(const char *path, const char *text)
{
	struct parse ps = { .path = path, .lines = 1 };
	struct netlab_conf *nc = NULL;
	char *buf;
	cfg_t *cfg;

	conf_schema();
	if ((buf = strdup(text)) == NULL)
		fatal("strdup");
	for (const char *c = buf; *c != '\0'; c++)
		if (*c == '\n' && c[1] != '\0')
			ps.lines++;
	conf_strip_comments(buf);
	parsing = &ps;
	if (conf_prescan(&ps, buf) < 0) {
		free(buf);
		parsing = NULL;
		return NULL;
	}

	cfg = cfg_init(root_schema, CFGF_NONE);
	if (cfg == NULL)
		fatal("cfg_init");
	cfg_set_error_function(cfg, conf_errfunc);
	for (cfg_opt_t *o = root_schema; o->name != NULL; o++) {
		if (o->type == CFGT_SEC)
			continue;
		cfg_set_validate_func(cfg, o->name, conf_validate_opt);
	}
	for (cfg_opt_t *o = svc_schema; o->name != NULL; o++) {
		char name[128];

		snprintf(name, sizeof(name), "service|%s", o->name);
		cfg_set_validate_func(cfg, name, conf_validate_opt);
	}
	cfg_set_validate_func(cfg, "service", conf_validate_service);

	if (cfg_parse_buf(cfg, buf) == CFG_SUCCESS) {
		nc = conf_copy(cfg);
		if (conf_check_services(nc, cfg) < 0) {
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
	free(buf);
	free(ps.recs);
	parsing = NULL;
	return nc;
}

struct netlab_conf *
conf_load(const char *path)
{
	struct netlab_conf *nc;
	struct stat st;
	char *text;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("netlabd: cannot open config %s", path);
		return NULL;
	}
	if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONF_MAX_SIZE) {
		log_warnx("netlabd: %s: not a regular file of at most %d bytes", path, CONF_MAX_SIZE);
		fclose(fp);
		return NULL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("malloc");
	n = fread(text, 1, (size_t)st.st_size, fp);
	fclose(fp);
	text[n] = '\0';
	if (strlen(text) != n) {
		log_warnx("%s:1: the file contains a NUL byte", path);
		free(text);
		return NULL;
	}
	nc = conf_load_buf(path, text);
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
	free(sc->allow);
	free(sc->deny);
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
	free(nc->path);
	free(nc->user);
	free(nc->group);
	free(nc);
}

/* deny wins; an empty allow list allows everyone. */
bool
svc_conf_allows(const struct svc_conf *sc, const struct prefix *peer)
{
	bool allowed = sc->nallow == 0;

	for (size_t i = 0; i < sc->ndeny; i++)
		if (prefix_match(&sc->deny[i], peer))
			return false;
	for (size_t i = 0; i < sc->nallow && !allowed; i++)
		allowed = prefix_match(&sc->allow[i], peer);
	return allowed;
}

void
conf_print_listen(const struct netlab_conf *nc, FILE *fp)
{
	for (size_t i = 0; i < nc->nsvcs; i++) {
		const struct svc_conf *sc = nc->svcs[i];

		for (size_t j = 0; sc->enabled && j < sc->naddrs; j++) {
			char ep[ADDR_STRLEN];

			addr_endpoint((const struct sockaddr *)&sc->addrs[j].ss, ep, sizeof(ep));
			fprintf(fp, "ListenStream=%s\n", ep);
		}
	}
}
