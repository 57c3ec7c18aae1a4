#!/bin/sh
# The daemon core must not name a protocol: adding one is a new proto_*.c
# file and a line in proto.c.  Fails naming each core line that does.
src=${NETLAB_SRCDIR:-$(dirname "$0")/..}/src
core="main.c conn.c service.c listener.c conf.c activate.c notify.c log.c addr.c
	netlabd.h conf.h log.h addr.h activate.h notify.h"
status=0
for f in "$src"/proto_*.c; do
	name=$(basename "$f" .c)
	name=${name#proto_}
	for c in $core; do
		if grep -nw -- "$name" "$src/$c" >/dev/null; then
			grep -nw -- "$name" "$src/$c" | sed "s|^|src/$c:|;s|\$| (names protocol '$name')|"
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "core names no protocol"
exit $status
