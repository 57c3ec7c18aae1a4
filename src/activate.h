/* activate.h - sockets passed by systemd (sd_listen_fds_with_names); nothing without libsystemd. */
#ifndef NETLABD_ACTIVATE_H
#define NETLABD_ACTIVATE_H

struct netlabd;

/* Adopt every passed listening TCP socket as an (unassigned) listener; returns how many. */
int	activate_adopt(struct netlabd *);
/* The config is broken: accept and close what waits on passed sockets, so that systemd does not retrigger. */
void	activate_refuse_pending(void);

#endif
