/* table.c - the table of protocols: adding one is a new file and a line here. */
#include "config.h"

#include <string.h>

#include "proto/proto.h"

extern const struct proto proto_daytime, proto_hello, proto_echo, proto_add, proto_discard,
    proto_chargen, proto_time, proto_metrics;

static const struct proto *const proto_table[] = {
	&proto_daytime,
	&proto_hello,
	&proto_echo,
	&proto_add,
	&proto_discard,
	&proto_chargen,
	&proto_time,
	&proto_metrics,
	NULL,
};

const struct proto *
proto_find(const char *name)
{
	for (const struct proto *const *p = proto_table; *p != NULL; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

const struct proto *const *
proto_list(void)
{
	return proto_table;
}
