/*
 * bind.h - which listener serves which service.  Passed (systemd) sockets
 * are matched by name, then by port; own sockets are kept while their
 * endpoint stays, opened when new and closed when unused - and a new config
 * opens everything it needs before anything is closed, so that a reload
 * that cannot open a port leaves the old listeners serving.
 */
#ifndef NETLABD_NET_BIND_H
#define NETLABD_NET_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "net/activate.h"

struct bind_plan;
struct services;
struct worker;

/* Start-up: wrap the passed sockets as idle listeners, matched by bind_prepare. */
void	bind_adopt(struct worker *, const struct passed_fd *, size_t n);
/*
 * Find or open a listener for every endpoint of every enabled service of
 * nc; nothing else changes.  NULL when something could not be opened (each
 * failure logged): everything this call opened is closed again.
 */
struct bind_plan *bind_prepare(struct worker *, const struct netlab_conf *nc);
/*
 * nc's services are live in ss now: attach each listener to its service
 * and close the own listeners nobody uses.  A passed socket nobody uses is
 * closed at start-up, and kept (idle: accept and close) after it.
 */
void	bind_commit(struct worker *, struct bind_plan *, struct services *, bool startup);
void	bind_abort(struct worker *, struct bind_plan *);

#endif
