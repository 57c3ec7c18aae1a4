/* cmd_daytime.c - netlab daytime: print the RFC 867 line as one clean Unix line. */
#include "config.h"

#include "cmd.h"
#include "wire.h"

/*
 * A CR right before a LF is dropped, so "...\r\n" prints as "...\n"; any
 * other CR stays.  A CR at the end of one read waits for the next.
 */
static void
daytime_out(const char *in, size_t n, void *arg)
{
	int *cr = arg;		/* a CR held back from the previous piece */
	char out[4096 + 1];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (*cr && in[i] != '\n')
			out[o++] = '\r';
		*cr = in[i] == '\r';
		if (!*cr)
			out[o++] = in[i];
		if (o >= sizeof(out) - 1) {
			out_write_all(out, o);
			o = 0;
		}
	}
	out_write_all(out, o);
}

static void
daytime_run(struct peer *p, char **args)
{
	int cr = 0;

	(void)args;
	peer_fetch(p, daytime_out, &cr);
	if (cr)
		out_write_all("\r", 1);
}

const struct cmd cmd_daytime = {
	.name = "daytime",
	.help = "print the server's time line (its CRLF ending printed as \"\\n\")",
	.port = WIRE_PORT_DAYTIME,
	.run = daytime_run,
};
