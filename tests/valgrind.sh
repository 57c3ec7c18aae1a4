#!/bin/sh
# valgrind.sh - run the integration tests with netlabd under valgrind memcheck.
#
#   tests/valgrind.sh [BUILDDIR [TEST...]]
#
# BUILDDIR (default: $NETLAB_BUILDDIR, else .) holds an ordinary (not
# sanitizer) build; nothing is built here.  TESTs default to every
# tests/test_*.py in the source tree.  Each test runs with
#   NETLAB_WRAPPER   valgrind memcheck in front of every netlabd it starts
#   NETLAB_TIMEOUT_SCALE=5 (or as set), since everything is ~20x slower
#   NETLAB_UNDER_VALGRIND=1, so tests that measure time, CPU or RSS skip
# and every netlabd writes its valgrind log to a folder of our own.
# Fails when a test fails, or when any netlabd had a memcheck error or
# definitely lost memory; prints the valgrind reports.  77 without valgrind.

set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
builddir=${1:-${NETLAB_BUILDDIR:-.}}
[ $# -gt 0 ] && shift
builddir=$(cd "$builddir" 2>/dev/null && pwd) || { echo "no build dir $1" >&2; exit 1; }
netlabd=$builddir/src/netlabd
per_test=${VALGRIND_TEST_TIMEOUT:-1200}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP: valgrind not found (Debian: apt-get install valgrind)"
    exit 77
fi
if [ ! -x "$netlabd" ]; then
    echo "FAIL: no $netlabd: build first (make)"
    exit 1
fi
if grep -q __asan_init "$netlabd"; then
    echo "FAIL: $netlabd is built with sanitizers; valgrind needs an ordinary build"
    exit 1
fi

if [ $# -gt 0 ]; then
    tests=$*
else
    tests=$(ls "$srcdir"/tests/test_*.py 2>/dev/null)
fi
if [ -z "$tests" ]; then
    echo "SKIP: no tests/test_*.py in $srcdir"
    exit 77
fi

vgdir=$(mktemp -d "${TMPDIR:-/tmp}/netlabd-valgrind.XXXXXX") || exit 1
chmod 755 "$vgdir"
vg="$(command -v valgrind) --tool=memcheck --error-exitcode=99 --leak-check=full"
vg="$vg --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --num-callers=30"
NETLAB_TIMEOUT_SCALE=${NETLAB_TIMEOUT_SCALE:-5}
NETLAB_UNDER_VALGRIND=1
NETLAB_BUILDDIR=$builddir
NETLAB_SRCDIR=$srcdir
NETLABD=$netlabd
NETLAB=$builddir/src/netlab
PYTHONDONTWRITEBYTECODE=1
export NETLAB_TIMEOUT_SCALE NETLAB_UNDER_VALGRIND NETLAB_BUILDDIR \
    NETLAB_SRCDIR NETLABD NETLAB PYTHONDONTWRITEBYTECODE

echo "valgrind logs in $vgdir"
npass=0 nfail=0 nskip=0 failed=
for t in $tests; do
    case $t in /*) ;; *) [ -f "$t" ] || t=$srcdir/$t ;; esac
    name=$(basename "$t" .py)
    # World-writable like /tmp: some tests start netlabd as another user.
    mkdir -p "$vgdir/$name" && chmod 1777 "$vgdir/$name"
    # One log per netlabd process; no blanks in the path (the wrapper is split on them).
    NETLAB_WRAPPER="$vg --log-file=$vgdir/$name/vg.%p.log"
    export NETLAB_WRAPPER
    start=$(date +%s)
    timeout -k 10 "$per_test" python3 "$t" >"$vgdir/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))

    # Errors and definite leaks: memcheck's summary, printed when netlabd exits.
    bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$vgdir/$name"/vg.*.log 2>/dev/null)
    procs=$(ls "$vgdir/$name" | wc -l)
    unfinished=$(grep -L 'ERROR SUMMARY' "$vgdir/$name"/vg.*.log 2>/dev/null | wc -l)
    note="$procs netlabd runs"
    [ "$unfinished" -gt 0 ] && note="$note, $unfinished killed before valgrind's summary"
    if [ -n "$bad" ]; then
        echo "FAIL: $name (${secs}s, $note): valgrind found errors:"
        for f in $bad; do
            echo "---- $f"
            grep -v -E '^==[0-9]+== *$' "$f" | sed -n '/^==[0-9]*== Memcheck/,$p' | grep -v -E \
                'Memcheck, a memory|Copyright|Using Valgrind|^==[0-9]+== Command|Parent PID' | head -80
        done
        nfail=$((nfail + 1)); failed="$failed $name"
    elif [ $rc -eq 77 ]; then
        echo "SKIP: $name (${secs}s)"
        nskip=$((nskip + 1))
    elif [ $rc -ne 0 ]; then
        echo "FAIL: $name (exit $rc, ${secs}s, $note); its output:"
        grep -E '(FAIL|ERROR|Error|assert|Timeout|timed out)' "$vgdir/$name.log" | head -30 | sed 's/^/    /'
        nfail=$((nfail + 1)); failed="$failed $name"
    else
        echo "PASS: $name (${secs}s, $note)"
        npass=$((npass + 1))
    fi
done
echo "valgrind: $npass passed, $nfail failed, $nskip skipped; logs in $vgdir"
[ $nfail -eq 0 ] || { echo "failed:$failed"; exit 1; }
exit 0
