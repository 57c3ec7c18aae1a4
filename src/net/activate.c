/* activate.c - the sockets systemd passed, as a list; matching them to services is net/bind.c's. */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "net/activate.h"

#ifdef HAVE_SYSTEMD
#include <fcntl.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

struct passed_fd *
activate_fds(size_t *count)
{
	struct passed_fd *v = NULL;
	char **names = NULL;
	int n;
	size_t k = 0;

	*count = 0;
	n = sd_listen_fds_with_names(1, &names);
	if (n < 0) {
		log_warnx("netlabd: sd_listen_fds_with_names failed: error %d", -n);
		return NULL;
	}
	if (n > 0 && (v = calloc((size_t)n, sizeof(*v))) == NULL)
		fatal("calloc");
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names != NULL && names[i] != NULL ? names[i] : "unknown";

		if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) > 0) {
			v[k].socktype = SOCK_STREAM;
		} else if (sd_is_socket_inet(fd, 0, SOCK_DGRAM, -1, 0) > 0) {
			v[k].socktype = SOCK_DGRAM;
		} else {
			log_warnx("netlabd: passed fd %d (%s) is not a listening TCP socket nor a"
			    " UDP socket: closing it", fd, name);
			close(fd);
			continue;
		}
		v[k].fd = fd;
		if ((v[k].name = names != NULL ? names[i] : NULL) != NULL)
			names[i] = NULL;
		k++;
	}
	for (int i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	*count = k;
	return v;
}

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
#else
struct passed_fd *
activate_fds(size_t *count)
{
	*count = 0;
	return NULL;
}

void
activate_refuse_pending(void)
{
}
#endif

void
activate_free(struct passed_fd *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
