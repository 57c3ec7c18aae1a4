/* cmd_table.c - the netlab subcommands: adding one is a cmd_NAME.c and a line here. */
#include "config.h"

#include <string.h>

#include "cmd.h"

extern const struct cmd cmd_daytime, cmd_hello, cmd_echo, cmd_add, cmd_time;

/* In the order --help lists them. */
const struct cmd *const cmd_table[] = {
	&cmd_daytime,
	&cmd_hello,
	&cmd_echo,
	&cmd_add,
	&cmd_time,
	NULL,
};

const struct cmd *
cmd_find(const char *name)
{
	for (const struct cmd *const *c = cmd_table; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}
