/*
 * print_options.c - print every option name of the config schema, one per
 * line, for tests/check_docs.sh (the docs must name every one of them).
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"

int
main(void)
{
	for (const char *const *name = conf_option_names(); *name != NULL; name++)
		if (printf("%s\n", *name) < 0)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}
