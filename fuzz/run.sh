#!/bin/bash
# Runs libFuzzer targets for a bounded time each and prints, per target, the
# executions (libFuzzer's final stats) and whether anything was found. Exits
# non-zero on any crash, leak, timeout or broken invariant, or a target that
# did not run. Built by `make fuzz-build`; see fuzz/README.md.
#
# Usage: fuzz/run.sh [--seconds N] [--jobs N] [--build DIR] [--junit FILE] [TARGET...]
#   TARGET      framing, ctrl, ... (default: every fuzz/fuzz_*.c)
#   --jobs N    run N targets at a time (default 1; each uses one core)
#   --junit F   also write a JUnit report, one testcase per target
set -u

secs=60
jobs=1
build=build-fuzz
junit=
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) secs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --junit) junit=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
top=$(cd "$(dirname "$0")/.." && pwd)
# No targets named: every fuzz/fuzz_*.c.
if [ $# -eq 0 ]; then
    for f in "$top"/fuzz/fuzz_*.c; do
        f=${f##*/fuzz_}
        set -- "$@" "${f%.c}"
    done
fi
case $build in /*) ;; *) build=$top/$build ;; esac
# Logs and crash inputs of this run, apart from any other run sharing the build
# directory (make test's smoke while make fuzz runs); removed when nothing was found.
mkdir -p "$build/runs"
out=$(mktemp -d "$build/runs/$(date +%Y%m%d-%H%M%S)-XXXX")

# Longest input per target: a 4 KiB command with its prefix for framing; the largest real
# seed (a TPM 2.0 volatile state blob, a journal slot vtpmd wrote) otherwise.
max_len() {
    case $1 in
    framing) echo 4400 ;;
    blob) echo 10240 ;;
    journal) echo 20480 ;;
    *) echo 4096 ;;
    esac
}

run_one() {
    local t=$1 bin=$build/fuzz_$1 log=$out/$1.log
    local work=$build/corpus/$1 seeds=$top/fuzz/corpus/$1
    mkdir -p "$work"
    if [ ! -x "$bin" ]; then
        echo "$bin was not built (make fuzz-build)" >"$log"
        echo 127 >"$log.rc"
        return
    fi
    local start=$SECONDS
    # The first directory collects new inputs; the seed corpus in the repo stays as it is.
    "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len="$(max_len "$t")" -artifact_prefix="$out/$t-" \
        "$work" "$seeds" >"$log" 2>&1
    echo "$? $((SECONDS - start))" >"$log.rc"
}

running=0
for t in "$@"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

xml_escape() {
    tr -cd '\11\12\15\40-\176' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

failed=0
cases=
for t in "$@"; do
    log=$out/$t.log
    read -r rc took <"$log.rc" 2>/dev/null || { rc=127; took=0; }
    took=${took:-0}
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    artifacts=$(ls "$out/$t-"* 2>/dev/null | tr '\n' ' ')
    line="fuzz_$t: ${execs:-0} executions in $took s (${rate:-0}/s)"
    if [ "$rc" -eq 0 ] && [ -z "$artifacts" ]; then
        echo "$line, no findings"
        cases="$cases<testcase classname=\"fuzz\" name=\"fuzz_$t\" time=\"$took\"><system-out>$line</system-out></testcase>"
        continue
    fi
    failed=$((failed + 1))
    # The sanitizer's summary or the broken invariant, whichever the log has.
    why=$(grep -m 1 -E '^(SUMMARY|invariant violated|==[0-9]+==ERROR)|was not built' "$log")
    echo "$line, FOUND SOMETHING (exit $rc): ${why:-see $log}"
    [ -n "$artifacts" ] && echo "    input: $artifacts"
    echo "    log: $log"
    msg=$(printf '%s' "${why:-exit $rc}" | xml_escape)
    body=$(tail -n 40 "$log" | xml_escape)
    cases="$cases<testcase classname=\"fuzz\" name=\"fuzz_$t\" time=\"$took\"><failure message=\"$msg\">$body
input: $artifacts</failure></testcase>"
done

if [ -n "$junit" ]; then
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="fuzz" tests="%d" failures="%d">%s</testsuite></testsuites>\n' \
        "$#" "$failed" "$cases" >"$junit"
fi
if [ "$failed" -eq 0 ]; then
    rm -rf "$out"
    exit 0
fi
exit 1
