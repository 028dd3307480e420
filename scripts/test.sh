#!/bin/sh
# Runs every test suite and ends with one line: "N passed, N failed[, N skipped]".
# Usage: scripts/test.sh BUILD_DIR ASAN_BUILD_DIR
set -u
build=${1:-build}
asan=${2:-build-asan}
top=$(cd "$(dirname "$0")/.." && pwd)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# A suite whose runner failed although its report shows no failing test case
# (a test binary that crashed under a sanitizer, a collection error) still
# counts as one failure. Usage: check_suite NAME EXIT_STATUS
check_suite() {
    [ "$2" -eq 0 ] && return
    grep -qs -e '<failure' -e '<error' "$results/$1.xml" && return
    cat >"$results/runner-$1.xml" <<EOT
<testsuite name="$1"><testcase classname="runner" name="$1"><failure message="the $1 runner exited $2 with no failing test case in its report; see its output above"/></testcase></testsuite>
EOT
}

echo "== unit tests (cmocka)"
meson test -C "$build" --print-errorlogs; rc=$?
cp "$build/meson-logs/testlog.junit.xml" "$results/unit.xml" 2>/dev/null
check_suite unit $rc

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$asan" --print-errorlogs; rc=$?
cp "$asan/meson-logs/testlog.junit.xml" "$results/asan.xml" 2>/dev/null
check_suite asan $rc

echo "== system tests (pytest, real peers)"
VTPMD="$top/$build/tools/vtpmd/vtpmd" VTPM="$top/$build/tools/vtpm/vtpm" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$results/system.xml" \
    "$top/tests/system"; check_suite system $?

echo "== fuzz smoke (libFuzzer, ${FUZZ_SMOKE_SECONDS:-10} s per target; make fuzz runs them longer)"
make -s -C "$top" fuzz-build; check_suite fuzz-build $?
"$top/fuzz/run.sh" --seconds "${FUZZ_SMOKE_SECONDS:-10}" --jobs 2 --junit "$results/fuzz.xml"
check_suite fuzz $?

exec /usr/bin/python3 "$top/scripts/junit-summary.py" "$results"/*.xml
