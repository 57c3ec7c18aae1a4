#!/bin/sh
# run.sh - build netlabd's libFuzzer targets with clang and run each for a while.
#
#   tests/fuzz/run.sh [-o BUILDDIR] [SECONDS [TARGET...]]
#
# SECONDS (default 10) is each target's -max_total_time; 0 runs the seed
# corpus once and stops.  TARGETs: conf addr add echo daytime hello (default all).
# The targets are compiled straight from src/*.c (no configure needed), into
# BUILDDIR (default: $FUZZ_BUILDDIR, else ./tests/fuzz/build), and rebuilt
# when a source changes.  Each run works on a temp copy of the seed corpus
# in tests/fuzz/corpus/TARGET, so the repository never grows; findings are
# kept as BUILDDIR/TARGET-crash-* (also -leak-, -timeout-, -oom-).
# Exit: 0 no finding, 1 a finding or a build error, 77 clang or its
# libFuzzer runtime is missing (Debian: clang libclang-rt-14-dev).

set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
builddir=${FUZZ_BUILDDIR:-$PWD/tests/fuzz/build}
cc=${FUZZ_CC:-clang}
all_targets="conf addr add echo daytime hello"

if [ "${1:-}" = "-o" ]; then
    builddir=$2
    shift 2
fi
seconds=${1:-10}
[ $# -gt 0 ] && shift
targets=${*:-$all_targets}
case $seconds in
    ''|*[!0-9]*) echo "usage: $0 [-o BUILDDIR] [SECONDS [TARGET...]]" >&2; exit 1 ;;
esac
for t in $targets; do
    case " $all_targets " in
        *" $t "*) ;;
        *) echo "run.sh: unknown target '$t' (want: $all_targets)" >&2; exit 1 ;;
    esac
done

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror $san"

# -- what is needed --------------------------------------------------------
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "SKIP: $cc not found (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 77
fi
mkdir -p "$builddir" || exit 1
builddir=$(cd "$builddir" && pwd)
probe=$builddir/probe.c
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe" -o "$builddir/probe" \
    >"$builddir/probe.log" 2>&1; then
    echo "SKIP: $cc cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev):"
    sed 's/^/    /' "$builddir/probe.log" | head -5
    rm -f "$probe" "$builddir/probe" "$builddir/probe.log"
    exit 77
fi
rm -f "$probe" "$builddir/probe" "$builddir/probe.log"
if ! pkgflags=$(pkg-config --cflags libevent libconfuse) ||
    ! pkglibs=$(pkg-config --libs libevent libconfuse); then
    echo "FAIL: pkg-config cannot find libevent and libconfuse (build dependencies)"
    exit 1
fi

# -- build -----------------------------------------------------------------
# The daemon's own sources, minus anything with a main(): the programs.
libsrcs=
for f in "$srcdir"/src/*.c; do
    grep -q '^main(' "$f" || libsrcs="$libsrcs $f"
done

# Rebuild everything when any input or flag changes: a handful of files.
stamp=$( (echo "$cc $cflags $pkgflags $pkglibs"; "$cc" --version;
    cat "$srcdir"/src/*.c "$srcdir"/src/*.h "$here"/*.c "$0") | cksum)
if [ "$(cat "$builddir/stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "building fuzz targets in $builddir"
    rm -f "$builddir"/*.o "$builddir"/libnetlabd-fuzz.a "$builddir"/stamp
    for t in $all_targets; do rm -f "$builddir/fuzz_$t"; done
    # A config.h of our own: no libsystemd (stubs), nothing from configure.
    printf '%s\n' '/* config.h for the fuzz build (tests/fuzz/run.sh) */' \
        '#define _GNU_SOURCE 1' '#define PACKAGE_VERSION "fuzz"' \
        '#define SYSCONFDIR "/etc"' >"$builddir/config.h"
    inc="-I$builddir -I$srcdir/src $pkgflags"
    objs=
    for f in $libsrcs; do
        o=$builddir/$(basename "$f" .c).o
        echo "  CC $(basename "$f")"
        # shellcheck disable=SC2086
        "$cc" $cflags -fsanitize=fuzzer-no-link $inc -c "$f" -o "$o" || exit 1
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    ar rcs "$builddir/libnetlabd-fuzz.a" $objs || exit 1
    for t in $all_targets; do
        # The quotes are the point: FUZZ_PROTO is a C string literal.
        # shellcheck disable=SC2089
        case $t in
            conf|addr) src=$here/fuzz_$t.c; def= ;;
            *) src=$here/fuzz_proto.c; def="-DFUZZ_PROTO=\"$t\"" ;;
        esac
        echo "  CCLD fuzz_$t"
        # shellcheck disable=SC2086,SC2090
        "$cc" $cflags -fsanitize=fuzzer $inc $def "$src" "$builddir/libnetlabd-fuzz.a" \
            $pkglibs -o "$builddir/fuzz_$t" || exit 1
    done
    echo "$stamp" >"$builddir/stamp"
fi

# -- run -------------------------------------------------------------------
failed=
for t in $targets; do
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/netlabd-fuzz-$t.XXXXXX") || exit 1
    cp "$here/corpus/$t"/* "$corpus"/ 2>/dev/null
    seeds=$(ls "$corpus" | wc -l)
    log=$builddir/fuzz_$t.log
    set -- -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$builddir/$t-"
    [ -f "$here/$t.dict" ] && set -- "$@" -dict="$here/$t.dict"
    if [ "$seconds" -eq 0 ]; then
        set -- "$@" -runs=0
    else
        set -- "$@" -max_total_time="$seconds"
    fi
    # Bounded even if the fuzzer itself hangs.
    timeout -k 10 $((seconds + 120)) "$builddir/fuzz_$t" "$@" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    after=$(ls "$corpus" | wc -l)
    if [ $rc -eq 0 ]; then
        echo "PASS: fuzz_$t ${seconds}s: ${execs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, corpus $seeds -> $after"
    else
        echo "FAIL: fuzz_$t found a problem (exit $rc), log $log:"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*contract violated|.*Test unit written|.*ERROR: libFuzzer)' \
            "$log" | head -20 | sed 's/^/    /'
        echo "    reproduce: $builddir/fuzz_$t $builddir/$t-crash-..."
        failed="$failed $t"
    fi
    rm -rf "$corpus"
done
if [ -n "$failed" ]; then
    echo "fuzzing found problems in:$failed"
    exit 1
fi
exit 0
