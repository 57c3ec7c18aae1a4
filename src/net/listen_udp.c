/*
 * listen_udp.c - the UDP half of a listener: datagrams in batches.
 *
 * One wake-up takes up to UDP_BATCH datagrams with recvmmsg, each goes
 * through the reflection guard and the access lists, then the protocol's
 * datagram hook, then the source's rate limit, and the replies leave
 * together with sendmmsg - each from the address its request arrived on
 * (IP_PKTINFO / IPV6_PKTINFO), so a client of a multi-homed host gets its
 * reply from the address it asked.  The protocols see bytes only.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "admit/admit.h"
#include "log.h"
#include "net/addr.h"
#include "net/listener.h"
#include "proto/proto.h"
#include "service.h"
#include "stats.h"
#include "worker.h"

#define UDP_BATCH	64
#define UDP_MAX		65536		/* more than any datagram: none is ever truncated */
#define UDP_RCVBUF	(4 * 1024 * 1024)	/* bursts of many flows; capped by rmem_max */

#define PKTINFO_SPACE	(CMSG_SPACE(sizeof(struct in6_pktinfo)) > CMSG_SPACE(sizeof(struct in_pktinfo)) ? \
	CMSG_SPACE(sizeof(struct in6_pktinfo)) : CMSG_SPACE(sizeof(struct in_pktinfo)))

/* The worker's datagram buffers: made on first use, one allocation, freed with the worker. */
struct udp_scratch {
	struct mmsghdr		 in[UDP_BATCH], out[UDP_BATCH];
	struct iovec		 iin[UDP_BATCH], iout[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	struct peer		 peer[UDP_BATCH];	/* of each reply in out */
	_Alignas(struct cmsghdr) unsigned char cin[UDP_BATCH][PKTINFO_SPACE];
	_Alignas(struct cmsghdr) unsigned char cout[UDP_BATCH][PKTINFO_SPACE];
	unsigned char		 req[UDP_BATCH][UDP_MAX];
	unsigned char		 rep[UDP_BATCH][UDP_MAX];
};

int
udp_listener_setup(int fd, int family)
{
	int on = 1, size = UDP_RCVBUF;

	/* Best effort: the kernel caps it at net.core.rmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

static struct udp_scratch *
udp_scratch(struct worker *w)
{
	if (w->udp_scratch == NULL)
		w->udp_scratch = malloc(sizeof(struct udp_scratch));
	return w->udp_scratch;
}

/* Make out[k] the reply to in[i]: to its source, from its destination. */
static void
udp_reply_to(struct udp_scratch *u, int i, int k, size_t len)
{
	struct msghdr *in = &u->in[i].msg_hdr, *out = &u->out[k].msg_hdr;
	struct cmsghdr *c, *o;

	u->iout[k].iov_base = u->rep[i];
	u->iout[k].iov_len = len;
	memset(out, 0, sizeof(*out));
	out->msg_name = &u->from[i];
	out->msg_namelen = in->msg_namelen;
	out->msg_iov = &u->iout[k];
	out->msg_iovlen = 1;
	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		out->msg_control = u->cout[k];
		out->msg_controllen = sizeof(u->cout[k]);
		/* CMSG_SPACE pads past CMSG_LEN: the kernel is given no stale bytes. */
		memset(u->cout[k], 0, sizeof(u->cout[k]));
		o = CMSG_FIRSTHDR(out);
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			out->msg_controllen = CMSG_SPACE(sizeof(pi));
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(struct in6_pktinfo));
			out->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
			return;
		}
	}
	out->msg_control = NULL;
	out->msg_controllen = 0;
}

static void
udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct worker *w = l->w;
	struct service *s = l->svc;
	const struct svc_conf *cf;
	struct udp_scratch *u;
	uint32_t now;
	int n, k = 0, sent = 0;

	(void)what;
	if ((u = udp_scratch(w)) == NULL) {
		char byte;

		/* No memory for a batch: take one datagram out so the loop does not spin. */
		(void)recv(fd, &byte, 1, MSG_DONTWAIT | MSG_TRUNC);
		return;
	}
	for (int i = 0; i < UDP_BATCH; i++) {
		struct msghdr *m = &u->in[i].msg_hdr;

		u->iin[i].iov_base = u->req[i];
		u->iin[i].iov_len = UDP_MAX;
		m->msg_name = &u->from[i];
		m->msg_namelen = sizeof(u->from[i]);
		m->msg_iov = &u->iin[i];
		m->msg_iovlen = 1;
		m->msg_control = u->cin[i];
		m->msg_controllen = sizeof(u->cin[i]);
		m->msg_flags = 0;
	}
	if ((n = recvmmsg(fd, u->in, UDP_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return;
	if (s == NULL || w->stopping) {
		/* A passed socket no service uses: its datagrams are dropped, counted. */
		for (int i = 0; i < n; i++)
			if (peer_from_sockaddr(&u->peer[0], (struct sockaddr *)&u->from[i]) == 0)
				admit_unclaimed(w, &u->peer[0], true);
		return;
	}
	cf = s->run->cf;
	now = admit_clock();
	for (int i = 0; i < n; i++) {
		size_t len = u->in[i].msg_len;
		struct peer *peer = &u->peer[k];
		ssize_t r;

		s->stats.dgrams_in++;
		s->stats.bytes_in += len;
		if (peer_from_sockaddr(peer, (struct sockaddr *)&u->from[i]) < 0 ||
		    !admit_datagram(w, s, cf, peer))
			continue;
		r = cf->proto->datagram(cf->proto_conf, s->run->proto_svc, u->req[i], len,
		    u->rep[i], UDP_MAX);
		if (r == PROTO_MALFORMED) {
			admit_drop(w, s, peer, DROP_MALFORMED);
			continue;
		}
		if (r < 0 || !admit_reply(w, s, cf, peer, now))
			continue;
		udp_reply_to(u, i, k++, (size_t)r);
	}
	while (sent < k) {
		int m = sendmmsg(fd, u->out + sent, (unsigned)(k - sent), MSG_DONTWAIT);

		if (m < 0) {
			if (errno == EINTR)
				continue;
			/* The one at sent could not go (socket buffer full, no route): the rest may. */
			log_debug("%s: sendmmsg: %s", s->name, strerror(errno));
			admit_drop(w, s, &u->peer[sent], DROP_ERROR);
			sent++;
			continue;
		}
		for (int j = sent; j < sent + m; j++) {
			s->stats.dgrams_answered++;
			s->stats.bytes_out += u->out[j].msg_len;
			admit_log_datagram(w, s, &u->peer[j]);
		}
		sent += m;
	}
}

int
udp_listener_start(struct listener *l)
{
	const struct sockaddr *sa = (const struct sockaddr *)&l->ep.ss;
	int off = 0;

	/*
	 * Bound to one address, the socket answers from it anyway: without the
	 * PKTINFO control message each reply skips the kernel's parsing and its
	 * check of the source address (IPv6: about a tenth of the send's cost).
	 */
	if (!addr_is_wildcard(sa) && (sa->sa_family == AF_INET6 ?
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &off, sizeof(off)) :
	    setsockopt(l->fd, IPPROTO_IP, IP_PKTINFO, &off, sizeof(off))) < 0)
		return -1;
	l->ev = event_new(l->w->base, l->fd, EV_READ | EV_PERSIST, udp_readable, l);
	return l->ev != NULL ? 0 : -1;
}

void
udp_listener_enable(struct listener *l, bool on)
{
	if (on)
		event_add(l->ev, NULL);
	else
		event_del(l->ev);
}

void
udp_listener_stop(struct listener *l)
{
	if (l->ev != NULL)
		event_free(l->ev);
	l->ev = NULL;
}
