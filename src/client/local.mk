# The netlab client: plain C on libc alone, poll(2) is all it needs.
bin_PROGRAMS += src/netlab
src_netlab_SOURCES = \
	src/client/netlab.c src/client/cmd.h \
	src/client/cmd_table.c \
	src/client/cmd_add.c \
	src/client/cmd_daytime.c \
	src/client/cmd_echo.c \
	src/client/cmd_hello.c \
	src/client/cmd_time.c \
	src/wire.h

