/*
 * conf_opt.h - an option as data: libconfuse's descriptor (name, type,
 * default) with its range or value check beside it.  The core registers one
 * validator per option from these; no module dispatches on option names.
 */
#ifndef NETLABD_CONF_OPT_H
#define NETLABD_CONF_OPT_H

#include <stddef.h>
#include <confuse.h>

struct conf_opt {
	cfg_opt_t	 cfg;		/* name, type, default and flags, as libconfuse takes them */
	long		 min, max;	/* an integer's range */
	/* A string's check, or each item's of a list: 0, or -1 with a message in err. */
	int		(*check)(const char *opt, const char *value, char *err, size_t errlen);
	unsigned	 flags;
};

#define CONF_OPT_RESTART	0x01	/* applied at start-up only: a reload warns and keeps the old value */
#define CONF_OPT_TCP_ONLY	0x02	/* an error on a udp service */

#define CONF_OPT_END		{ .cfg = CFG_END() }

#endif
