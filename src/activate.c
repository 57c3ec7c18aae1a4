/* activate.c - adopt listening sockets passed by systemd, matched later by name or port. */
#include "config.h"

#include <unistd.h>

#include "activate.h"
#include "log.h"
#include "netlabd.h"

#ifdef HAVE_SYSTEMD
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

void
activate_refuse_pending(void)
{
	int n = sd_listen_fds(1), refused = 0;

	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i, c;
		char byte;

		if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
			continue;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				close(c);
				refused++;
			}
		} else if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0) {
			while (recv(fd, &byte, 1, MSG_TRUNC) >= 0)
				refused++;
		}
	}
	if (refused > 0)
		log_warnx("netlabd: configuration broken: refused %d pending connection(s) or"
		    " datagram(s) on passed sockets", refused);
}

int
activate_adopt(struct netlabd *nd)
{
	char **names = NULL;
	int n, adopted = 0;

	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		log_warnx("netlabd: sd_listen_fds_with_names failed: error %d", -n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names != NULL ? names[i] : "unknown";

		if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) <= 0) {
			log_warnx("netlabd: passed fd %d (%s) is not a listening TCP socket:"
			    " closing it", fd, name);
			close(fd);
		} else if (listener_adopt(nd, fd, name) == 0) {
			adopted++;
		} else {
			close(fd);
		}
	}
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	if (adopted > 0)
		log_info("netlabd: adopted %d socket(s) from systemd", adopted);
	return adopted;
}
#else
int
activate_adopt(struct netlabd *nd)
{
	(void)nd;
	return 0;
}

void
activate_refuse_pending(void)
{
}
#endif
