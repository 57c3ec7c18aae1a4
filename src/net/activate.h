/* activate.h - sockets passed by systemd (sd_listen_fds_with_names); none without libsystemd. */
#ifndef NETLABD_NET_ACTIVATE_H
#define NETLABD_NET_ACTIVATE_H

#include <stddef.h>

struct passed_fd {
	int	 fd;
	int	 socktype;		/* SOCK_STREAM or SOCK_DGRAM */
	char	*name;			/* FileDescriptorName=, the unit's name, or "unknown" */
};

/* The listening TCP and bound UDP sockets systemd passed (others are logged and closed). */
struct passed_fd *activate_fds(size_t *n);
void	activate_free(struct passed_fd *, size_t n);
/* The config is broken: accept and close what waits on passed sockets, so that systemd does not retrigger. */
void	activate_refuse_pending(void);

#endif
