#!/bin/sh
# check_docs.sh - the docs cannot drift (STYLE.md habit 6, after pgbouncer's
# etc/optscan.sh).  Fails, naming the option, when an option of the config
# schema (printed by tests/print_options) is
#   - not an item (".It Ic NAME") of man/netlabd.conf.5, or
#   - absent from the shipped etc/netlabd.conf (a commented-out mention counts);
# and when a protocol of the table (tests/print_options --protocols) or its
# default port is missing from netlabd(8), netlabd.conf(5) or the shipped
# config; then lints the man pages with mandoc -Tlint and groff warnings.
# Exit 0 pass, 1 fail, 77 skip: the option checks passed but mandoc is missing.
#
# NETLAB_BUILDDIR and NETLAB_SRCDIR come from make check; by hand:
#   NETLAB_BUILDDIR=/tmp/build NETLAB_SRCDIR=$PWD sh tests/check_docs.sh
# DOCS_MAN5 and DOCS_CONF override the two files checked (to try the check).

builddir=${NETLAB_BUILDDIR:-.}
srcdir=${NETLAB_SRCDIR:-.}
man5=${DOCS_MAN5:-$srcdir/man/netlabd.conf.5}
conf=${DOCS_CONF:-$srcdir/etc/netlabd.conf}
pages="$srcdir/man/netlabd.8 $srcdir/man/netlabd.conf.5 $srcdir/man/netlab.1"
print_options=$builddir/tests/print_options
status=0

fail() {
	echo "FAIL: $*" >&2
	status=1
}

for f in "$man5" "$conf" $pages; do
	if [ ! -r "$f" ]; then
		echo "FAIL: cannot read $f" >&2
		exit 1
	fi
done
if [ ! -x "$print_options" ]; then
	echo "FAIL: $print_options not built (make check builds it)" >&2
	exit 1
fi
if ! options=$("$print_options") || [ -z "$options" ]; then
	echo "FAIL: $print_options printed no option names" >&2
	exit 1
fi

# Option names are letters, digits and '-'; anything else would need quoting
# in the patterns below, so refuse it rather than match it loosely.
n=0
for opt in $options; do
	n=$((n + 1))
	case $opt in
	*[!A-Za-z0-9-]*)
		fail "option '$opt' has characters this check cannot match"
		continue
		;;
	esac
	# Documented: an item of a list in netlabd.conf(5), as ".It Ic NAME ...".
	if ! grep -Eq "^\\.It Ic $opt( |\$)" "$man5"; then
		fail "option '$opt' is not documented in $man5 (want a line '.It Ic $opt ...')"
	fi
	# Shipped: the word appears in etc/netlabd.conf, set or in a comment.
	if ! grep -Eq "(^|[^A-Za-z0-9_-])$opt([^A-Za-z0-9_-]|\$)" "$conf"; then
		fail "option '$opt' does not appear in $conf (not even commented out)"
	fi
done
[ "$status" -eq 0 ] && echo "ok: $n options documented in $man5 and present in $conf"

# Every protocol of the table, with its default port: an item of
# netlabd(8)'s list saying "Default port N", a "N for .Cm NAME" entry of
# netlabd.conf(5)'s port option, and a "service NAME" section (or a
# commented-out one) with "port = N" in the shipped config.
man8=${DOCS_MAN8:-$srcdir/man/netlabd.8}
if ! protocols=$("$print_options" --protocols) || [ -z "$protocols" ]; then
	fail "$print_options --protocols printed no protocol"
fi
np=0
while read -r name port transports; do
	[ -n "$name" ] || continue
	np=$((np + 1))
	if ! awk -v name="$name" -v port="$port" '
		$0 == ".It Cm " name { inside = 1; next }
		inside && /^\.It / { exit }
		inside && index($0, "Default port " port) == 1 { found = 1; exit }
		END { exit !found }' "$man8"; then
		fail "protocol '$name' has no item in $man8 saying 'Default port $port'"
	fi
	if ! grep -B1 -x "\.Cm $name[ ,.]*" "$man5" | grep -Eq "(^|[: ])$port for\$"; then
		fail "protocol '$name' and its port $port are not among the ports of $man5"
	fi
	if ! awk -v name="$name" -v port="$port" '
		{ sub(/^#/, "") }
		$1 == "service" && $2 == name { inside = 1; next }
		inside && $1 == "port" && $3 == port { found = 1; exit }
		inside && $1 == "}" { inside = 0 }
		END { exit !found }' "$conf"; then
		fail "protocol '$name' has no 'service $name { port = $port }' (set or commented) in $conf"
	fi
done <<EOF_PROTOCOLS
$protocols
EOF_PROTOCOLS
[ "$status" -eq 0 ] && echo "ok: $np protocols and their ports in $man8, $man5 and $conf"

if ! command -v mandoc >/dev/null 2>&1; then
	[ "$status" -ne 0 ] && exit 1
	echo "SKIP: mandoc not found: man pages not linted"
	exit 77
fi
for page in $pages; do
	# Anything at warning level or above is a failure; style hints are not.
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		printf '%s\n' "$out" >&2
		fail "mandoc -Tlint -Wwarning $page (exit $rc)"
	fi
	# What man -l uses to render it: groff must not warn either.
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
		if [ -n "$out" ]; then
			printf '%s\n' "$out" >&2
			fail "groff -mandoc -ww $page"
		fi
	fi
done
[ "$status" -eq 0 ] && echo "ok: man pages lint clean"
exit "$status"
