/*
 * fuzz_conf.c - libFuzzer target for the config parser: any text either
 * loads into a consistent struct netlab_conf or is refused with
 * "FILE:LINE: message" lines naming a line of the input.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/conf.h"
#include "log.h"
#include "proto/proto.h"

#define FUZZ_PATH	"fuzz.conf"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void __sanitizer_set_report_fd(void *);

static int err_fd = -1;		/* the real stderr, for reports */
static int cap_fd = -1;		/* memfd that catches what conf.c logs */
static int verbose;

/* Report a broken contract on one line (control bytes escaped) and abort. */
static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	char msg[2048], line[4096 + 64];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = (size_t)snprintf(line, sizeof(line), "conf: contract violated: ");
	for (const char *c = msg; *c != '\0' && n < sizeof(line) - 8; c++) {
		if (*c == '\n' && c[1] == '\0')
			break;
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "\\x%02x", (unsigned char)*c);
		else
			line[n++] = *c;
	}
	line[n++] = '\n';
	if (write(err_fd >= 0 ? err_fd : STDERR_FILENO, line, n) < 0)
		(void)0;
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_ERR, 0);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	/* Sanitizer reports must not vanish into the capture file. */
	if ((err_fd = dup(STDERR_FILENO)) >= 0)
		__sanitizer_set_report_fd((void *)(intptr_t)err_fd);
	cap_fd = memfd_create("fuzz-conf-log", 0);
	return 0;
}

/*
 * Every logged line is "fuzz.conf:LINE: text" with LINE a line of the input,
 * or the one after a final newline: where libconfuse meets the end of file.
 */
static void
check_log(const char *log, size_t len, int lines, int loaded)
{
	const char *p = log, *end = log + len;
	size_t plen = strlen(FUZZ_PATH);
	int nlog = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *q;
		long line;

		if (nl == NULL)
			fail("log line without newline: %.*s\n", (int)(end - p), p);
		nlog++;
		if ((size_t)(nl - p) <= plen || strncmp(p, FUZZ_PATH ":", plen + 1) != 0)
			fail("log line not \"FILE:LINE: message\" (one event per line): \"%.*s\""
			    " in \"%.*s\"\n", (int)(nl - p), p, (int)len, log);
		line = strtol(p + plen + 1, &q, 10);
		if (q == p + plen + 1 || *q != ':' || line < 1 || line > lines)
			fail("log line names no line 1..%d of the input: %.*s\n", lines,
			    (int)(nl - p), p);
		p = nl + 1;
	}
	if (!loaded && nlog == 0)
		fail("config refused without a message\n");
	if (loaded && nlog > 0)
		fail("config loaded but errors were logged: %.*s\n", (int)len, log);
}

/* What the rest of the daemon relies on in a config that loaded. */
static void
check_conf(const struct netlab_conf *nc)
{
	size_t enabled = 0;

	if (nc->max_conns < 1 || nc->shutdown_timeout < 0 || nc->nsvcs == 0 ||
	    nc->log_level < LOG_EMERG || nc->log_level > LOG_DEBUG)
		fail("loaded config out of range\n");
	for (size_t i = 0; i < nc->nsvcs; i++) {
		const struct svc_conf *sc = nc->svcs[i];

		if (sc == NULL || sc->name == NULL || sc->proto == NULL ||
		    proto_find(sc->proto->name) != sc->proto)
			fail("service %zu: no name or protocol\n", i);
		if (sc->port < 1 || sc->port > 65535 || sc->naddrs == 0 ||
		    sc->max_conns < 0 || sc->max_per_source < 0 || sc->idle_timeout < 0)
			fail("service %s: value out of range\n", sc->name);
		if (sc->proto->conf_new != NULL && sc->proto_conf == NULL)
			fail("service %s: no protocol config\n", sc->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(nc->svcs[j]->name, sc->name) == 0)
				fail("service %s: defined twice\n", sc->name);
		enabled += sc->enabled;
	}
	if (enabled == 0)
		fail("loaded config with no service enabled\n");
}

/*
 * A reload parses a good file right after a broken one: nothing of the last
 * parse (libconfuse's lexer, conf.c's state) may leak into the next.
 */
static void
check_after(void)
{
	static const char good[] = "# a good config\n"
	    "service echo {\n  port = 7\n  address = { \"127.0.0.1\" }\n  max-line = 10\n}\n";
	struct netlab_conf *nc;
	int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);

	if (saved >= 0 && devnull >= 0)
		dup2(devnull, STDERR_FILENO);
	nc = conf_load_buf(FUZZ_PATH, good, strlen(good));
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	if (nc == NULL || nc->nsvcs != 1 || strcmp(nc->svcs[0]->name, "echo") != 0 ||
	    nc->svcs[0]->port != 7 || nc->svcs[0]->naddrs != 1)
		fail("a good config no longer loads after this input\n");
	conf_free(nc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netlab_conf *nc;
	char *text, log[8192];
	ssize_t n = 0;
	int saved = -1, lines = 1;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* NUL bytes included: the parser must name the line of the first one. */
	for (size_t i = 0; i < size; i++)
		if (text[i] == '\n')
			lines++;

	if (cap_fd >= 0 && !verbose) {
		saved = dup(STDERR_FILENO);
		if (saved < 0 || ftruncate(cap_fd, 0) < 0 ||
		    lseek(cap_fd, 0, SEEK_SET) < 0 || dup2(cap_fd, STDERR_FILENO) < 0)
			fail("cannot capture stderr\n");
	}
	nc = conf_load_buf(FUZZ_PATH, text, size);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
		n = pread(cap_fd, log, sizeof(log), 0);
		if (n < 0)
			n = 0;
		/* Only whole lines are checked when there was more than fits. */
		if ((size_t)n == sizeof(log))
			while (n > 0 && log[n - 1] != '\n')
				n--;
		check_log(log, (size_t)n, lines, nc != NULL);
	}
	if (nc != NULL)
		check_conf(nc);
	conf_free(nc);
	free(text);
	check_after();
	return 0;
}
