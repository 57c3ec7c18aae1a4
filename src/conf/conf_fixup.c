/* conf_fixup.c - one pass over the config text before libconfuse: see conf_fixup.h for why. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_fixup.h"
#include "grow.h"

static int
fixup_fail(struct fixup *f, int line, const char *msg)
{
	f->err_line = line;
	snprintf(f->err, sizeof(f->err), "%s", msg);
	return -1;
}

static bool
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.' || c == '/' || c == ':';
}

/* Value of the escape after a backslash in a double-quoted string; *n its length. */
static int
escape_value(const char *s, size_t *n)
{
	int v = 0, i = 0;

	if (*s == 'x') {
		for (i = 1; i < 3 && strchr("0123456789abcdefABCDEF", s[i]) != NULL && s[i]; i++)
			v = v * 16 + (s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
		*n = (size_t)i;
		return i == 1 ? 'x' : v;
	}
	if (*s >= '0' && *s <= '7') {
		for (i = 0; i < 3 && s[i] >= '0' && s[i] <= '7'; i++)
			v = v * 8 + (s[i] - '0');
		*n = (size_t)i;
		return v;
	}
	*n = 1;
	return (unsigned char)*s;
}

struct scan {
	struct fixup	*f;
	const char	*s, *end;
	char		*o;
	int		 line;
	int		 depth;
	bool		 want_title;	/* "service" seen at depth 0 */
	char		 word[FIXUP_NAME_MAX + 1];	/* the last bare word at depth 0 or 1 */
	int		 word_line;
};

static int
add_section(struct scan *sc, const char *title, size_t len)
{
	struct fixup *f = sc->f;
	struct fixup_section *sec;

	if (!grow((void **)&f->secs, &f->capsecs, f->nsecs, sizeof(*f->secs)))
		return fixup_fail(f, 0, "out of memory");
	sec = &f->secs[f->nsecs++];
	memset(sec, 0, sizeof(*sec));
	if (len <= FIXUP_NAME_MAX)
		memcpy(sec->title, title, len);
	sec->line = sc->line;
	sec->first_opt = f->nopts;
	return 0;
}

static int
add_opt(struct scan *sc)
{
	struct fixup *f = sc->f;
	struct fixup_opt *o;

	if (sc->depth != 1 || f->nsecs == 0 || strlen(sc->word) >= sizeof(o->name))
		return 0;
	if (!grow((void **)&f->opts, &f->capopts, f->nopts, sizeof(*f->opts)))
		return fixup_fail(f, 0, "out of memory");
	o = &f->opts[f->nopts++];
	strcpy(o->name, sc->word);
	o->line = sc->word_line;
	f->secs[f->nsecs - 1].nopts++;
	return 0;
}

/* A quoted string starting at sc->s (the quote); copied with "${" escaped. */
static int
scan_string(struct scan *sc)
{
	char q = *sc->s;
	int start = sc->line;
	const char *begin = sc->s + 1;

	*sc->o++ = *sc->s++;
	while (sc->s < sc->end && *sc->s != q) {
		if (*sc->s == '\n')
			sc->line++;
		if (q == '"' && *sc->s == '\\' && sc->s + 1 < sc->end) {
			size_t n;

			if (escape_value(sc->s + 1, &n) == 0)
				return fixup_fail(sc->f, sc->line, "a string holds a NUL byte (\\0)");
			*sc->o++ = *sc->s++;
			*sc->o++ = *sc->s++;
			continue;
		}
		if (q == '"' && *sc->s == '$' && sc->s + 1 < sc->end && sc->s[1] == '{')
			*sc->o++ = '\\';
		*sc->o++ = *sc->s++;
	}
	if (sc->s >= sc->end)
		return fixup_fail(sc->f, start, "a string is never closed (missing quote)");
	if (sc->want_title && sc->depth == 0 && add_section(sc, begin, (size_t)(sc->s - begin)) < 0)
		return -1;
	sc->want_title = false;
	sc->word[0] = '\0';
	*sc->o++ = *sc->s++;
	return 0;
}

/* A comment starting at sc->s: blanked, newlines kept. */
static int
scan_comment(struct scan *sc)
{
	int start = sc->line;

	if (sc->s[0] == '/' && sc->s + 1 < sc->end && sc->s[1] == '*') {
		*sc->o++ = ' ';
		*sc->o++ = ' ';
		sc->s += 2;
		while (sc->s < sc->end && !(sc->s[0] == '*' && sc->s + 1 < sc->end && sc->s[1] == '/')) {
			if (*sc->s == '\n')
				sc->line++;
			*sc->o++ = *sc->s == '\n' ? '\n' : ' ';
			sc->s++;
		}
		if (sc->s >= sc->end)
			return fixup_fail(sc->f, start, "a '/*' comment is never closed");
		*sc->o++ = ' ';
		*sc->o++ = ' ';
		sc->s += 2;
		return 0;
	}
	while (sc->s < sc->end && *sc->s != '\n') {
		*sc->o++ = ' ';
		sc->s++;
	}
	return 0;
}

static int
scan_word(struct scan *sc)
{
	const char *w = sc->s;
	size_t n;

	while (sc->s < sc->end && is_word(*sc->s) && !(sc->s[0] == '/' && sc->s + 1 < sc->end &&
	    (sc->s[1] == '/' || sc->s[1] == '*')))
		*sc->o++ = *sc->s++;
	n = (size_t)(sc->s - w);
	if (sc->want_title && sc->depth == 0) {
		sc->want_title = false;
		return add_section(sc, w, n);
	}
	sc->want_title = sc->depth == 0 && n == 7 && memcmp(w, "service", 7) == 0;
	if (n < sizeof(sc->word)) {
		memcpy(sc->word, w, n);
		sc->word[n] = '\0';
		sc->word_line = sc->line;
	} else {
		sc->word[0] = '\0';
	}
	return 0;
}

int
fixup_prepare(struct fixup *f, const char *text, size_t len)
{
	struct scan sc = { .f = f, .s = text, .end = text + len, .line = 1 };
	int open_line = 0;
	const char *nul;

	memset(f, 0, sizeof(*f));
	f->lines = 1;
	for (const char *c = text; c < text + len; c++)
		if (*c == '\n' && c + 1 < text + len)
			f->lines++;
	if ((nul = memchr(text, '\0', len)) != NULL) {
		int line = 1;

		for (const char *c = text; c < nul; c++)
			line += *c == '\n';
		return fixup_fail(f, line, "the file contains a NUL byte");
	}
	/* Escaping "${" can at most double the text. */
	if ((f->text = malloc(len * 2 + 1)) == NULL)
		return fixup_fail(f, 0, "out of memory");
	sc.o = f->text;
	while (sc.s < sc.end) {
		char c = *sc.s;
		int r = 0;

		if (c == '"' || c == '\'') {
			r = scan_string(&sc);
		} else if (c == '#' || (c == '/' && sc.s + 1 < sc.end &&
		    (sc.s[1] == '/' || sc.s[1] == '*'))) {
			r = scan_comment(&sc);
		} else if (c == '$' && sc.s + 1 < sc.end && sc.s[1] == '{') {
			r = fixup_fail(f, sc.line, "${...} is not replaced from the environment"
			    " (netlabd does no substitution): write the value in quotes");
		} else if (is_word(c)) {
			r = scan_word(&sc);
		} else {
			if (c == '\n')
				sc.line++;
			else if (c == '=' || c == '+')
				r = c == '=' ? add_opt(&sc) : 0;
			else if (c == '{' && sc.depth++ == 0)
				open_line = sc.line;
			else if (c == '}' && sc.depth > 0)
				sc.depth--;
			if (c == '{' || c == '}' || c == '=' || c == ',')
				sc.word[0] = '\0';
			*sc.o++ = *sc.s++;
		}
		if (r < 0)
			return -1;
	}
	*sc.o = '\0';
	if (sc.depth > 0)
		return fixup_fail(f, open_line, "'{' is never closed");
	return 0;
}

int
fixup_option_line(const struct fixup *f, size_t i, const char *opt)
{
	if (i >= f->nsecs)
		return 0;
	for (size_t k = f->secs[i].nopts; k-- > 0;)
		if (strcmp(f->opts[f->secs[i].first_opt + k].name, opt) == 0)
			return f->opts[f->secs[i].first_opt + k].line;
	return 0;
}

void
fixup_free(struct fixup *f)
{
	free(f->text);
	free(f->secs);
	free(f->opts);
	memset(f, 0, sizeof(*f));
}
