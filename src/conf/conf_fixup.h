/*
 * conf_fixup.h - what netlabd does to a config file before libconfuse 3.3
 * (Debian 12) parses it, and the line map it keeps on the way.  Each
 * workaround is shown by a test in tests/unit_fixup.c that runs plain
 * libconfuse on the same input; delete the workaround when that test shows
 * the bug gone (libconfuse >= 3.4 as the floor).
 *
 *  1. Line numbers after comments are wrong (a value on line 5 below three
 *     comment lines is reported on line 11), and a comment inside a list
 *     is a syntax error (libconfuse#150): comments are blanked, newlines kept.
 *  2. A file that ends inside a section, inside a string or inside a block
 *     comment parses as valid, dropping the rest: those are errors here.
 *  3. A section's line is known only when it closes, and an empty list
 *     never reaches a validator: header and assignment lines are recorded.
 *  4. "${NAME}" is replaced from the environment (so a shell and systemd
 *     can read one file differently): netlabd escapes it inside quotes and
 *     refuses it outside them.
 *  5. "\0" (or "\x00") in a string silently truncates the value: an error.
 */
#ifndef NETLABD_CONF_FIXUP_H
#define NETLABD_CONF_FIXUP_H

#include <stddef.h>

#define FIXUP_NAME_MAX	64

struct fixup_section {
	char		 title[FIXUP_NAME_MAX + 1];	/* "" when longer than FIXUP_NAME_MAX */
	int		 line;
	size_t		 first_opt, nopts;		/* its assignments in fixup.opts */
};

struct fixup_opt {
	char		 name[32];
	int		 line;
};

struct fixup {
	char			*text;		/* what libconfuse parses */
	int			 lines;		/* lines in the file */
	struct fixup_section	*secs;		/* "service TITLE" headers, in file order */
	size_t			 nsecs, capsecs;
	struct fixup_opt	*opts;		/* "name =" inside sections, grouped by section */
	size_t			 nopts, capopts;
	int			 err_line;	/* after a failure: where, and why */
	char			 err[160];
};

/* Prepare len bytes of text; 0, or -1 with err_line and err set (or out of memory: err_line 0). */
int	fixup_prepare(struct fixup *, const char *text, size_t len);
/* The line of the assignment of opt in section i, or 0 when the file has none. */
int	fixup_option_line(const struct fixup *, size_t i, const char *opt);
void	fixup_free(struct fixup *);

#endif
