/* unit_confload.h - load a config in a unit test, catching what it logs; check a refusal's FILE:LINE. */
#ifndef NETLABD_UNIT_CONFLOAD_H
#define NETLABD_UNIT_CONFLOAD_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "unit.h"

static char unit_errbuf[4096];

/* conf_load_buf on len bytes of text named path; what it logs lands in unit_errbuf. */
static struct netlab_conf *
unit_load(const char *path, const char *text, size_t len)
{
	struct netlab_conf *nc;
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	nc = conf_load_buf(path, text, len);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(unit_errbuf, 1, sizeof(unit_errbuf) - 1, tmp);
	unit_errbuf[n] = '\0';
	fclose(tmp);
	return nc;
}

/* The text must be refused with "path:LINE: " first and msg somewhere in the message. */
static void
unit_rejects(const char *path, const char *text, size_t len, int line, const char *msg)
{
	struct netlab_conf *nc = unit_load(path, text, len);
	char want[128];

	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	CHECK(nc == NULL);
	if (strncmp(unit_errbuf, want, strlen(want)) != 0 || strstr(unit_errbuf, msg) == NULL)
		fprintf(stderr, "  want \"%s...%s\", got \"%s\"\n", want, msg, unit_errbuf);
	CHECK(strncmp(unit_errbuf, want, strlen(want)) == 0 && strstr(unit_errbuf, msg) != NULL);
	conf_free(nc);
}

#endif
