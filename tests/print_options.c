/*
 * print_options.c - print every option name of the config schema, one per
 * line, for tests/check_docs.sh (the docs must name every one of them);
 * with --protocols, one line per protocol of the table instead:
 * "NAME DEFAULT-PORT tcp|udp|tcp,udp" (check_docs.sh, fuzz/run.sh).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "proto/proto.h"

int
main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "--protocols") == 0) {
		for (const struct proto *const *p = proto_list(); *p != NULL; p++)
			if (printf("%s %d %s%s%s\n", (*p)->name, (*p)->default_port,
			    (*p)->transports & PROTO_TCP ? "tcp" : "",
			    (*p)->transports == (PROTO_TCP | PROTO_UDP) ? "," : "",
			    (*p)->transports & PROTO_UDP ? "udp" : "") < 0)
				return 1;
		return fflush(stdout) == 0 ? 0 : 1;
	}
	for (const char *const *name = conf_option_names(); *name != NULL; name++)
		if (printf("%s\n", *name) < 0)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
