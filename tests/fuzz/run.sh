#!/bin/sh
# run.sh - run netlabd's libFuzzer targets, JOBS at a time, each for a while.
#
#   tests/fuzz/run.sh BUILDDIR [JOBS [SECONDS [TARGET...]]]
#
# BUILDDIR is a build configured with CC=clang --enable-fuzzing (make fuzz
# passes it).  SECONDS (default 10) is each target's -max_total_time; 0 runs
# the seed corpus once.  TARGETs: conf, addr, proxy, http, dgram, and one per protocol of the
# table (tests/print_options --protocols), fuzzed through fuzz_proto; the
# default is all of them.  Each run works on a temp copy of its seed corpus
# in tests/fuzz/corpus/TARGET, so the repository never grows; findings are
# kept as BUILDDIR/tests/fuzz/TARGET-crash-* (also -leak-, -timeout-, -oom-).
# Exit: 0 no finding, 1 a finding or a missing target.

set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILDDIR [JOBS [SECONDS [TARGET...]]]}
jobs=${2:-2}
seconds=${3:-10}
[ $# -gt 3 ] && shift 3 || set --
out=$build/tests/fuzz

protocols=$("$build/tests/print_options" --protocols | cut -d' ' -f1 | tr '\n' ' ') || exit 1
all="conf addr proxy http dgram $protocols"
targets=${*:-$all}
case $seconds in
    ''|*[!0-9]*) echo "run.sh: SECONDS must be a number" >&2; exit 1 ;;
esac
for t in $targets; do
    case " $all " in
        *" $t "*) ;;
        *) echo "run.sh: unknown target '$t' (want: $all)" >&2; exit 1 ;;
    esac
done

# One target: its binary, corpus, dictionary and log; prints PASS or FAIL.
run_one() {
    t=$1
    case " $protocols " in
        *" $t "*) bin=$out/fuzz_proto; env="NETLAB_FUZZ_PROTO=$t" ;;
        *) bin=$out/fuzz_$t; env= ;;
    esac
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin not built (configure with CC=clang --enable-fuzzing)"
        return 1
    fi
    corpus=$(mktemp -d "${TMPDIR:-/tmp}/netlabd-fuzz-$t.XXXXXX") || return 1
    cp "$here/corpus/$t"/* "$corpus"/ 2>/dev/null
    seeds=$(ls "$corpus" | wc -l)
    log=$out/fuzz_$t.log
    case $t in
        proxy) max_len=1200 ;;
        # Past HTTP_HEAD_MAX (8192), so that an oversized head can be sent.
        http|metrics) max_len=9000 ;;
        *) max_len=8192 ;;
    esac
    set -- -error_exitcode=1 -timeout=10 -rss_limit_mb=2048 -max_len=$max_len -print_final_stats=1 \
        -artifact_prefix="$out/$t-"
    dict=$here/$t.dict
    [ "$t" = metrics ] && dict=$here/http.dict	# the same request words
    [ -f "$dict" ] && set -- "$@" -dict="$dict"
    if [ "$seconds" -eq 0 ]; then
        set -- "$@" -runs=0
    else
        set -- "$@" -max_total_time="$seconds"
    fi
    # Bounded even if the fuzzer itself hangs.
    env $env timeout -k 10 $((seconds + 120)) "$bin" "$@" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    after=$(ls "$corpus" | wc -l)
    rm -rf "$corpus"
    if [ $rc -eq 0 ]; then
        echo "PASS: fuzz $t ${seconds}s: ${execs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, corpus $seeds -> $after"
        return 0
    fi
    echo "FAIL: fuzz $t found a problem (exit $rc), log $log:"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*contract violated|.*Test unit written|.*ERROR: libFuzzer)' \
        "$log" | head -20 | sed 's/^/    /'
    echo "    reproduce: $env $bin $out/$t-crash-..."
    return 1
}

status=0
running=0
results=$(mktemp -d "${TMPDIR:-/tmp}/netlabd-fuzz-results.XXXXXX") || exit 1
for t in $targets; do
    ( run_one "$t" >"$results/$t" 2>&1; echo $? >"$results/$t.rc" ) &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
for t in $targets; do
    cat "$results/$t"
    [ "$(cat "$results/$t.rc" 2>/dev/null)" = 0 ] || status=1
done
rm -rf "$results"
[ $status -ne 0 ] && echo "fuzzing found problems"
exit $status
