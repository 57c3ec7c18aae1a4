/* conf.h - the configuration, copied out of libconfuse into netlabd's own structs. */
#ifndef NETLABD_CONF_H
#define NETLABD_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "admit/acl.h"
#include "net/endpoint.h"

struct proto;

#define CONF_RESTART_MAX	8

/* One service's settings: immutable once loaded; whoever keeps them holds a reference. */
struct svc_conf {
	int			 refcnt;
	char			*name;
	const struct proto	*proto;
	void			*proto_conf;	/* what the protocol's conf_new made */
	int			 socktype;	/* SOCK_STREAM (tcp) or SOCK_DGRAM (udp) */
	int			 port;
	bool			 enabled;
	struct endpoint		*addrs;
	size_t			 naddrs;
	int			 max_conns;	/* 0: only the global limit */
	int			 max_per_source;	/* 0: unlimited */
	int			 idle_timeout;	/* seconds, 0: none */
	int			 rate_limit;	/* per source per second, 0: none */
	struct acl		 allow, deny;	/* an empty allow list allows everyone */
	struct acl		 proxy_from;	/* peers that must send a PROXY header (tcp) */
	bool			 defer_accept;	/* accepted once the client has sent (tcp) */
};

struct netlab_conf {
	char			*path;
	char			*user, *group;
	uid_t			 uid;
	gid_t			 gid;
	int			 log_level;
	int			 max_conns;
	int			 shutdown_timeout;
	size_t			 buffer_budget;	/* bytes held for all clients together */
	struct svc_conf		**svcs;
	size_t			 nsvcs;
	char			*restart_values[CONF_RESTART_MAX];	/* of CONF_OPT_RESTART options */
};

/* Parse and validate; NULL after logging "FILE:LINE: message" for each error. */
struct netlab_conf *conf_load(const char *path);
/* The same from len bytes of text; path names it in messages (tests and fuzzers). */
struct netlab_conf *conf_load_buf(const char *path, const char *text, size_t len);
void	conf_free(struct netlab_conf *);
void	svc_conf_ref(struct svc_conf *);
void	svc_conf_unref(struct svc_conf *);
/* deny wins; an empty allow list allows everyone. */
bool	svc_conf_allows(const struct svc_conf *, const struct prefix *peer);
/* Names of the restart-only options whose value differs between a and b; NULL-terminated. */
void	conf_restart_changes(const struct netlab_conf *a, const struct netlab_conf *b,
	    const char **names, size_t max);
/* One "ListenStream=ADDRESS:PORT" (or ListenDatagram=) line per address of every enabled service. */
void	conf_print_listen(const struct netlab_conf *, FILE *);
/*
 * For --listen-units, run by a systemd generator at boot when a user from
 * a network directory may not resolve yet: accept user and group unchecked.
 */
void	conf_skip_lookups(bool);
/* Every option name the schema knows, for the docs check; NULL-terminated. */
const char *const *conf_option_names(void);
/* Build the schema; -1 (with a message on stderr) if two protocols declare one option name. */
int	conf_schema_check(void);

#endif
