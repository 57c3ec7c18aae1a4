# The daemon's objects live in a convenience library so that the unit tests
# and the fuzzers link the real code, not copies.  Layers, from the bottom:
# net/addr, conf/, proto/, stats, admit/, service, worker, session/, net/,
# daemon; main.c only parses the command line.
noinst_LIBRARIES += src/libnetlabd.a
src_libnetlabd_a_SOURCES = \
	src/wire.h src/tailq.h src/grow.h \
	src/log.c src/log.h \
	src/notify.c src/notify.h \
	src/stats.c src/stats.h \
	src/privs.c src/privs.h \
	src/net/addr.c src/net/addr.h \
	src/net/endpoint.c src/net/endpoint.h \
	src/conf/conf.c src/conf/conf.h \
	src/conf/conf_opt.h \
	src/conf/conf_fixup.c src/conf/conf_fixup.h \
	src/proto/proto.h \
	src/proto/table.c \
	src/proto/daytime.c \
	src/proto/hello.c \
	src/proto/echo.c \
	src/proto/add.c \
	src/proto/discard.c \
	src/proto/chargen.c \
	src/proto/time.c \
	src/proto/metrics.c \
	src/proto/http_head.c src/proto/http_head.h \
	src/admit/acl.c src/admit/acl.h \
	src/admit/srctab.c src/admit/srctab.h \
	src/admit/ratelimit.c src/admit/ratelimit.h \
	src/admit/floodlog.h \
	src/admit/admit.c src/admit/admit.h \
	src/service.c src/service.h \
	src/worker.c src/worker.h \
	src/session/drive.c src/session/drive.h \
	src/session/proxy.c src/session/proxy.h \
	src/session/conn.c src/session/conn.h \
	src/net/activate.c src/net/activate.h \
	src/net/listener.c src/net/listener.h \
	src/net/listen_tcp.c \
	src/net/listen_udp.c \
	src/net/bind.c src/net/bind.h \
	src/daemon.c src/daemon.h
src_libnetlabd_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBCONFUSE_CFLAGS) $(LIBSYSTEMD_CFLAGS)

NETLABD_LIBS = src/libnetlabd.a $(LIBEVENT_LIBS) $(LIBCONFUSE_LIBS) $(LIBSYSTEMD_LIBS) -lm

sbin_PROGRAMS += src/netlabd
src_netlabd_SOURCES = src/main.c
src_netlabd_CFLAGS = $(src_libnetlabd_a_CFLAGS)
src_netlabd_LDADD = $(NETLABD_LIBS)
