/* cmd_hello.c - netlab hello: print the server's greeting exactly as sent. */
#include "config.h"

#include "cmd.h"
#include "wire.h"

static void
hello_out(const char *buf, size_t len, void *arg)
{
	(void)arg;
	out_write_all(buf, len);
}

static void
hello_run(struct peer *p, char **args)
{
	(void)args;
	peer_fetch(p, hello_out, NULL);
}

const struct cmd cmd_hello = {
	.name = "hello",
	.help = "print the server's greeting as sent",
	.port = WIRE_PORT_HELLO,
	.run = hello_run,
};
