# The daemon's objects live in a convenience library so unit tests and
# fuzzers link the real code, not copies.
noinst_LIBRARIES += src/libnetlabd.a
src_libnetlabd_a_SOURCES = \
	src/activate.c src/activate.h \
	src/addr.c src/addr.h \
	src/conf.c src/conf.h \
	src/conn.c \
	src/listener.c \
	src/log.c src/log.h \
	src/netlabd.h \
	src/notify.c src/notify.h \
	src/proto.c src/proto.h \
	src/proto_add.c \
	src/proto_daytime.c \
	src/proto_echo.c \
	src/proto_hello.c \
	src/service.c
src_libnetlabd_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBCONFUSE_CFLAGS) $(LIBSYSTEMD_CFLAGS)

NETLABD_LIBS = src/libnetlabd.a $(LIBEVENT_LIBS) $(LIBCONFUSE_LIBS) $(LIBSYSTEMD_LIBS)

sbin_PROGRAMS += src/netlabd
src_netlabd_SOURCES = src/main.c
src_netlabd_CFLAGS = $(src_libnetlabd_a_CFLAGS)
src_netlabd_LDADD = $(NETLABD_LIBS)
