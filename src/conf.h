/* conf.h - the configuration, copied out of libconfuse into netlabd's own structs. */
#ifndef NETLABD_CONF_H
#define NETLABD_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"

struct proto;

struct endpoint {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/* One service's settings; connections keep a reference to the ones they started with. */
struct svc_conf {
	int			 refcnt;
	char			*name;
	const struct proto	*proto;
	void			*proto_conf;
	int			 port;
	bool			 enabled;
	struct endpoint		*addrs;
	size_t			 naddrs;
	int			 max_conns;	/* 0: only the global limit */
	int			 max_per_source;	/* 0: unlimited */
	int			 idle_timeout;	/* seconds, 0: none */
	struct prefix		*allow, *deny;
	size_t			 nallow, ndeny;
};

struct netlab_conf {
	char			*path;
	char			*user, *group;
	uid_t			 uid;
	gid_t			 gid;
	int			 log_level;
	int			 max_conns;
	int			 shutdown_timeout;
	struct svc_conf		**svcs;
	size_t			 nsvcs;
};

/* Parse and validate; NULL after logging "FILE:LINE: message" for each error. */
struct netlab_conf *conf_load(const char *path);
/* The same from a string; path names it in messages (used by tests and fuzzers). */
struct netlab_conf *conf_load_buf(const char *path, const char *text);
void	conf_free(struct netlab_conf *);
void	svc_conf_ref(struct svc_conf *);
void	svc_conf_unref(struct svc_conf *);
bool	svc_conf_allows(const struct svc_conf *, const struct prefix *peer);
/* One "ListenStream=ADDRESS:PORT" line per address of every enabled service. */
void	conf_print_listen(const struct netlab_conf *, FILE *);
/* Every option name the schema knows, for the docs check; NULL-terminated. */
const char *const *conf_option_names(void);

#endif
