#!/bin/sh
# Runs every test suite and ends with one line: "N passed, N failed[, N skipped]".
# Usage: scripts/test.sh BUILD_DIR ASAN_BUILD_DIR
set -u
build=${1:-build}
asan=${2:-build-asan}
top=$(cd "$(dirname "$0")/.." && pwd)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

echo "== unit tests (cmocka)"
meson test -C "$build" --print-errorlogs
cp "$build/meson-logs/testlog.junit.xml" "$results/unit.xml" 2>/dev/null

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C "$asan" --print-errorlogs
cp "$asan/meson-logs/testlog.junit.xml" "$results/asan.xml" 2>/dev/null

echo "== system tests (pytest, real peers)"
VTPMD="$top/$build/tools/vtpmd/vtpmd" VTPM="$top/$build/tools/vtpm/vtpm" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$results/system.xml" \
    "$top/tests/system"

exec /usr/bin/python3 "$top/scripts/junit-summary.py" "$results"/*.xml
