/*
 * unit_fixup.c - the libconfuse 3.3 bugs conf_fixup.c works around, each
 * shown on plain libconfuse first (when a check of the first kind fails,
 * libconfuse fixed it: delete the workaround), then netlabd's answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <confuse.h>

#include "conf/conf.h"
#include "conf/conf_fixup.h"
#include "log.h"
#include "unit.h"
#include "unit_confload.h"

static int raw_line;
static char raw_msg[256];

static void
raw_err(cfg_t *cfg, const char *fmt, va_list ap)
{
	raw_line = cfg != NULL ? cfg->line : -1;
	vsnprintf(raw_msg, sizeof(raw_msg), fmt, ap);
}

/* Plain libconfuse on text, with a schema like netlabd's; returns cfg_parse_buf's result. */
static int
raw_parse(const char *text, char *value, size_t size)
{
	cfg_opt_t sec[] = {
		CFG_INT("port", 0, CFGF_NONE),
		CFG_STR("message", "", CFGF_NONE),
		CFG_STR_LIST("address", "{}", CFGF_NONE),
		CFG_END()
	};
	cfg_opt_t root[] = {
		CFG_SEC("service", sec, CFGF_MULTI | CFGF_TITLE),
		CFG_END()
	};
	cfg_t *cfg = cfg_init(root, CFGF_NONE);
	int r;

	raw_line = 0;
	raw_msg[0] = '\0';
	cfg_set_error_function(cfg, raw_err);
	r = cfg_parse_buf(cfg, text);
	if (value != NULL) {
		value[0] = '\0';
		if (r == CFG_SUCCESS && cfg_size(cfg, "service") > 0)
			snprintf(value, size, "%s|%u", cfg_getstr(cfg_getnsec(cfg, "service", 0),
			    "message"), cfg_size(cfg, "service"));
	}
	cfg_free(cfg);
	return r;
}

static struct netlab_conf *
load(const char *text, size_t len)
{
	return unit_load("f.conf", text, len);
}

static void
rejects(const char *text, size_t len, int line, const char *msg)
{
	unit_rejects("f.conf", text, len, line, msg);
}

/* 1. Line numbers after comments; a comment inside a list (libconfuse#150). */
static void
test_comments(void)
{
	static const char text[] = "#\n#\n//\nservice echo {\n port = x\n}\n";
	static const char in_list[] = "service echo {\n address = { \"::1\", # one\n \"127.0.0.1\" }\n}\n";

	CHECK(raw_parse(text, NULL, 0) != CFG_SUCCESS);
	CHECK(raw_line != 5);		/* libconfuse 3.3 says 11 */
	rejects(text, strlen(text), 5, "invalid integer value for option 'port'");
	CHECK(raw_parse(in_list, NULL, 0) != CFG_SUCCESS);
	struct netlab_conf *nc = load(in_list, strlen(in_list));

	CHECK(nc != NULL && nc->svcs[0]->naddrs == 2);
	conf_free(nc);
}

/* 2. A file ending inside a section, a string or a block comment "parses". */
static void
test_unterminated(void)
{
	static const char sec[] = "service echo {\n port = 7\n";
	static const char cmt[] = "service echo { port = 7 }\n/* off\nservice hello { }\n";
	static const char str[] = "service hello {\n message = \"abc\n}\n";
	char v[64];

	CHECK(raw_parse(sec, NULL, 0) == CFG_SUCCESS);
	rejects(sec, strlen(sec), 1, "'{' is never closed");
	CHECK(raw_parse(cmt, v, sizeof(v)) == CFG_SUCCESS && strcmp(v, "|1") == 0);
	rejects(cmt, strlen(cmt), 2, "a '/*' comment is never closed");
	rejects(str, strlen(str), 2, "a string is never closed");
}

/* 3. The line of a section that fails, and of an empty list that no validator sees. */
static void
test_lines(void)
{
	char text[64 * 300 + 64];
	size_t n = 0;

	/* Past 256 sections the old line map gave up. */
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "service e%d { protocol = echo port = %d }\n", i, 1000 + i);
	snprintf(text + n, sizeof(text) - n, "service bad {\n}\n");
	rejects(text, strlen(text), 301, "service 'bad': no protocol");
	rejects("service echo {\n address = { } }\n", 32, 2, "address list is empty");
}

/* 4. "${NAME}" comes from the environment: a shell and systemd would read one file differently. */
static void
test_environment(void)
{
	static const char quoted[] = "service hello { message = \"${HOME}x\" }\n";
	static const char bare[] = "service hello {\n message = ${HOME}\n}\n";
	struct netlab_conf *nc;
	char v[256];

	setenv("HOME", "/root-from-env", 1);
	CHECK(raw_parse(quoted, v, sizeof(v)) == CFG_SUCCESS && strcmp(v, "/root-from-envx|1") == 0);
	nc = load(quoted, strlen(quoted));
	CHECK(nc != NULL);
	rejects(bare, strlen(bare), 2, "${...} is not replaced from the environment");
	conf_free(nc);
}

/* 5. "\0" in a string silently truncates it; a NUL byte in the file names its line. */
static void
test_nul(void)
{
	static const char esc[] = "service hello {\n message = \"ab\\0cd\"\n}\n";
	static const char raw[] = "service hello {\n\n message = \"ab\0cd\"\n}\n";
	static const char x00[] = "service hello {\n message = \"a\\x00\"\n}\n";
	char v[64];

	CHECK(raw_parse(esc, v, sizeof(v)) == CFG_SUCCESS && strcmp(v, "ab|1") == 0);
	rejects(esc, strlen(esc), 2, "a string holds a NUL byte");
	rejects(x00, strlen(x00), 2, "a string holds a NUL byte");
	rejects(raw, sizeof(raw) - 1, 3, "the file contains a NUL byte");
}

/* The line map itself. */
static void
test_map(void)
{
	static const char text[] = "log-level = \"info\"\nservice \"a\" {\n port = 1\n\n  message"
	    " = \"x\" }\nservice b { port = 2 }\n";
	struct fixup f;

	CHECK(fixup_prepare(&f, text, strlen(text)) == 0);
	CHECK(f.nsecs == 2 && f.secs[0].line == 2 && f.secs[1].line == 6);
	CHECK(strcmp(f.secs[0].title, "a") == 0 && strcmp(f.secs[1].title, "b") == 0);
	CHECK(fixup_option_line(&f, 0, "port") == 3 && fixup_option_line(&f, 0, "message") == 5);
	CHECK(fixup_option_line(&f, 1, "port") == 6 && fixup_option_line(&f, 1, "message") == 0);
	CHECK(f.lines == 6);
	fixup_free(&f);
}

int
main(void)
{
	log_init(LOG_INFO, 0);
	RUN(test_comments);
	RUN(test_unterminated);
	RUN(test_lines);
	RUN(test_environment);
	RUN(test_nul);
	RUN(test_map);
	return unit_done();
}
