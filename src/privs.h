/* privs.h - what the process may do: its user and group, and how many descriptors it may hold. */
#ifndef NETLABD_PRIVS_H
#define NETLABD_PRIVS_H

#include "conf/conf.h"

/* Descriptors kept aside from client connections: the config file, the log, libevent. */
#define PRIVS_SPARE_FDS	16

/*
 * Raise the soft RLIMIT_NOFILE to what max-connections and nlisteners
 * listening sockets need; returns how many client connections the limit
 * really allows (logged when fewer than max-connections).
 */
int	privs_raise_nofile(int max_conns, int nlisteners);
/* After every socket is open: switch to the configured user and group (fatal on failure). */
void	privs_drop(const struct netlab_conf *);

#endif
