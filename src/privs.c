/* privs.c - privilege drop and the descriptor limit, both decided once the sockets are known. */
#include "config.h"

#include <grp.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"

int
privs_raise_nofile(int max_conns, int nlisteners)
{
	rlim_t need = (rlim_t)max_conns + (rlim_t)nlisteners + PRIVS_SPARE_FDS;
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return max_conns;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			log_warn("netlabd: cannot raise the descriptor limit to %llu",
			    (unsigned long long)rl.rlim_cur);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur >= need)
		return max_conns;
	/* Past the limit a client would sit in the backlog, neither served nor refused. */
	room = (long)rl.rlim_cur - nlisteners - PRIVS_SPARE_FDS;
	if (room < 1)
		room = 1;
	log_warnx("netlabd: max-connections %d and %d listening socket(s) need %llu descriptors,"
	    " but the limit is %llu: serving at most %ld connections, refusing the rest",
	    max_conns, nlisteners, (unsigned long long)need, (unsigned long long)rl.rlim_cur, room);
	return (int)room;
}

void
privs_drop(const struct netlab_conf *nc)
{
	if (nc->user == NULL) {
		if (geteuid() != 0)
			return;
		if (nc->group != NULL) {
			if (setgroups(1, &nc->gid) < 0 || setgid(nc->gid) < 0)
				fatal("netlabd: cannot switch to group %s", nc->group);
			log_info("netlabd: running with group %s (gid %d)", nc->group, (int)nc->gid);
		}
		log_notice("netlabd: running as root; set user to drop privileges");
		return;
	}
	if (geteuid() != 0) {
		if (getuid() != nc->uid)
			log_warnx("netlabd: not started as root: cannot switch to user %s,"
			    " staying uid %d", nc->user, (int)getuid());
		return;
	}
	if (setgroups(1, &nc->gid) < 0 || setgid(nc->gid) < 0 || setuid(nc->uid) < 0)
		fatal("netlabd: cannot switch to user %s", nc->user);
	if (nc->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatalx("netlabd: could regain root after switching to user %s", nc->user);
	log_info("netlabd: running as user %s (uid %d, gid %d)", nc->user, (int)nc->uid,
	    (int)nc->gid);
}
