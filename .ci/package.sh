#!/bin/bash
# .ci/package.sh - build the Debian package from what is committed, lint it,
# install it, check the installed daemon, man pages and units, then purge it.
#
# Run as root from anywhere in the repository on a Debian 12 machine (after
# apt-get update).  It builds `git archive HEAD` in a temp dir, never in the
# work tree.  DEB_BUILD_OPTIONS=nocheck skips the test suite inside the build.
# NETLABD_DEB_OUT=DIR copies the built .deb into DIR, for the later stages
# (.ci/realsystemd.sh), so that CI builds the package once.
# Exits non-zero on the first failure; KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

start=$(date +%s)
stage() { printf '\n=== package: %s (%ds)\n' "$*" $(( $(date +%s) - start )); }
run() { printf "+ %s\n" "$*" >&2; "$@"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run me as root (apt-get, dpkg -i, port 13)"

work=$(mktemp -d /tmp/netlabd-package.XXXXXX)
# mktemp makes it 0700; the privilege-drop tests run the built netlabd as
# nobody, who must be able to reach it.
chmod 755 "$work"
cleanup() {
	rc=$?
	if [ "$rc" -ne 0 ] || [ "${KEEP:-}" = 1 ]; then
		echo "package: build tree, logs and .deb kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

stage "build dependencies (debian/control)"
run timeout 900 apt-get build-dep -y -q ./ >/dev/null
# lintian and man-db to check the result; git to export the tree.
run timeout 900 apt-get install -y -q --no-install-recommends git lintian man-db mandoc >/dev/null

version=$(dpkg-parsechangelog -l debian/changelog -SVersion)
arch=$(dpkg --print-architecture)
src="$work/netlabd-$version"
deb="$work/netlabd_${version}_${arch}.deb"
changes="$work/netlabd_${version}_${arch}.changes"
# The autopkgtest of the exported tree, so that it too is what is committed.
services="$src/debian/tests/services"

stage "export HEAD to $src"
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	echo "note: the work tree has uncommitted changes; the package is built from HEAD only"
fi
mkdir -p "$src"
git archive --format=tar HEAD | tar -x -C "$src"

stage "source package (for lintian's source checks)"
( cd "$work" && run timeout 300 dpkg-source --build "netlabd-$version" ) >"$work/source.log" 2>&1 ||
	{ cat "$work/source.log"; fail "dpkg-source --build"; }
rm -rf "$src"
mkdir -p "$src"
git archive --format=tar HEAD | tar -x -C "$src"

stage "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-})"
set +e
( cd "$src" && timeout 3600 dpkg-buildpackage -us -uc -b ) >"$work/build.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	tail -n 200 "$work/build.log"
	fail "dpkg-buildpackage exited $rc (full log: $work/build.log)"
fi
# The automake summary shows that make check ran and what it skipped.
if grep -q '^# TOTAL:' "$work/build.log"; then
	grep -E '^(# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):|SKIP: )' "$work/build.log" || true
else
	case "${DEB_BUILD_OPTIONS:-}" in
	*nocheck*) echo "test suite skipped (nocheck)" ;;
	*) fail "no make check summary in the build log: did dh_auto_test run?" ;;
	esac
fi
[ -f "$deb" ] || fail "no $deb"
if [ -n "${NETLABD_DEB_OUT:-}" ]; then
	run cp "$deb" "$NETLABD_DEB_OUT/"
fi
run dpkg-deb --info "$deb"
run dpkg-deb --contents "$deb"

stage "lintian"
# Any E: or W: fails; overrides live in debian/netlabd.lintian-overrides,
# each with a comment saying why.
timeout 600 lintian --info --display-info --pedantic "$changes" "$work/netlabd_${version}.dsc" \
	2>"$work/lintian.err" | tee "$work/lintian.out" || true
grep -v 'running with root privileges is not recommended' "$work/lintian.err" >&2 || true
if grep -q '^[EW]: ' "$work/lintian.out"; then
	fail "lintian reports errors or warnings"
fi
if grep -qv 'running with root privileges' "$work/lintian.err"; then
	fail "lintian itself failed"
fi
echo "lintian: no E: or W:"

stage "install"
if dpkg-query -W -f='${Status}' netlabd 2>/dev/null | grep -q 'installed'; then
	echo "note: netlabd was already installed: this is an upgrade"
fi
run timeout 600 apt-get install -y -q "$deb"
for f in /usr/sbin/netlabd /usr/bin/netlab /etc/netlabd.conf \
	/lib/systemd/system/netlabd.service /lib/systemd/system/netlabd.socket \
	/usr/share/doc/netlabd/copyright; do
	[ -e "$f" ] || fail "$f is not installed"
done
dpkg-query -W -f='${Conffiles}\n' netlabd | grep -q '^ /etc/netlabd.conf ' ||
	fail "/etc/netlabd.conf is not a conffile"
# Enabled: the socket; not enabled: the service (it is socket-activated).
[ -L /etc/systemd/system/sockets.target.wants/netlabd.socket ] ||
	fail "netlabd.socket is not enabled"
[ ! -e /etc/systemd/system/multi-user.target.wants/netlabd.service ] ||
	fail "netlabd.service is enabled: it should only be socket-activated"
echo "netlabd.socket enabled, netlabd.service socket-activated only"

stage "the installed daemon"
run /usr/sbin/netlabd -V
/usr/sbin/netlabd -V | grep -qx "netlabd ${version%%-*}" || fail "netlabd -V does not print the package version"
run timeout 30 /usr/sbin/netlabd -t -c /etc/netlabd.conf
if command -v systemd-analyze >/dev/null; then
	run timeout 120 systemd-analyze verify --man=no \
		/lib/systemd/system/netlabd.socket /lib/systemd/system/netlabd.service
fi

if [ -d /run/systemd/system ]; then
	stage "through netlabd.socket (systemd runs here)"
	run timeout 300 "$services" --private --require-ipv6
	run systemctl stop netlabd.socket netlabd.service
fi

stage "netlabd started by hand on /etc/netlabd.conf: four services over IPv4 and IPv6"
# The default ports must be free (55556 and 54321 are in Linux's ephemeral
# range, so a busy machine may hold them as client ports).  If anything
# holds them, run in a network namespace of our own, where nothing does.
if "$services" --check-ports; then
	run timeout 300 "$services" --installed --require-ipv6 --no-socket-unit
else
	echo "running in a private network namespace instead"
	run timeout 300 unshare --net sh -c \
		'ip link set lo up && exec "$0" --installed --require-ipv6 --no-socket-unit' "$services"
fi
if [ -d /run/systemd/system ]; then
	run systemctl start netlabd.socket
fi

stage "man pages"
pages="/usr/share/man/man8/netlabd.8.gz /usr/share/man/man5/netlabd.conf.5.gz /usr/share/man/man1/netlab.1.gz"
if [ ! -e /usr/share/man/man8/netlabd.8.gz ] && grep -rqs 'path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
	# dpkg here drops man pages on install (a minimal image): check the .deb's.
	echo "note: dpkg excludes /usr/share/man here; checking the pages inside the .deb"
	dpkg-deb -x "$deb" "$work/extract"
	pages=$(for p in $pages; do echo "$work/extract$p"; done)
fi
for page in $pages; do
	[ -f "$page" ] || fail "$page is not installed"
	echo "+ zcat $page | mandoc -Tlint -W warning"
	lint=$(zcat "$page" | mandoc -Tlint -W warning 2>&1) || true
	[ -z "$lint" ] || { echo "$lint"; fail "mandoc -Tlint: $page has warnings or errors"; }
	echo "+ man -l $page"
	lines=$(MANWIDTH=80 timeout 60 man -l "$page" 2>/dev/null | wc -l)
	[ "$lines" -ge 20 ] || fail "man -l $page rendered only $lines lines"
	warn=$(MANWIDTH=80 timeout 60 man --warnings -l "$page" 2>&1 >/dev/null) || true
	[ -z "$warn" ] || { echo "$warn"; fail "man --warnings -l $page"; }
	echo "$page: $lines lines, no warnings"
done

stage "purge"
run timeout 600 apt-get purge -y -q netlabd
for f in /usr/sbin/netlabd /usr/bin/netlab /etc/netlabd.conf \
	/lib/systemd/system/netlabd.service /lib/systemd/system/netlabd.socket \
	/etc/systemd/system/sockets.target.wants/netlabd.socket /usr/share/doc/netlabd; do
	[ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is still there after purge"
done
if dpkg-query -W -f='${Status}' netlabd 2>/dev/null | grep -qv 'not-installed'; then
	fail "dpkg still knows netlabd: $(dpkg-query -W -f='${Status}' netlabd)"
fi
# No daemon of the package may outlive it (the file is gone: "(deleted)").
for exe in /proc/[0-9]*/exe; do
	case "$(readlink "$exe" 2>/dev/null || true)" in
	/usr/sbin/netlabd*) fail "a netlabd from the package still runs: ${exe%/exe}" ;;
	esac
done
echo "purged: no files, no units, no process left"

stage "done: package built, linted, installed, tested and purged"
