#!/bin/sh
# `make run`: start vtpmd with a TPM 2.0 in ./vtpm-state on a unix control
# socket, print the QEMU command line that attaches to it, show live facts
# read from it, and keep it running until Ctrl-C.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/${BUILD:-build}"
vtpmd="$build/tools/vtpmd/vtpmd"
vtpm="$build/tools/vtpm/vtpm"
state="$top/vtpm-state"
sock="$state/swtpm-sock"
pidfile="$state/vtpmd.pid"

mkdir -p "$state"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "vtpmd is already running (pid $(cat "$pidfile")); stopping it first"
    "$vtpm" ctl --unix "$sock" -s >/dev/null 2>&1 || kill "$(cat "$pidfile")"
    sleep 0.5
fi

# The seed's swtpm command line, with vtpmd for swtpm (-d: return once ready).
"$vtpmd" socket --tpmstate dir="$state" \
    --ctrl type=unixio,path="$sock" \
    --tpm2 \
    --log file="$state/vtpmd.log",level=1 \
    --pid file="$pidfile" -d
pid=$(cat "$pidfile")

stop() {
    "$vtpm" ctl --unix "$sock" -s >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    echo
    echo "vtpmd stopped; the TPM state stays in $state"
    exit 0
}
trap stop INT TERM

cat <<EOT
vtpmd (pid $pid) serves a TPM 2.0 whose state lives in $state
control socket: $sock      log: $state/vtpmd.log

Attach QEMU to it (as with swtpm):
  qemu-system-x86_64 -M q35 -m 1024 \\
    -chardev socket,id=chrtpm,path=$sock \\
    -tpmdev emulator,id=tpm0,chardev=chrtpm \\
    -device tpm-tis,tpmdev=tpm0 ...

Live facts read from it ($vtpm info --init: CMD_INIT + TPM2_Startup, as firmware does):
EOT
"$vtpm" info --unix "$sock" --init | sed 's/^/  /'
echo
echo "Ctrl-C stops vtpmd (or: $vtpm ctl --unix $sock -s)."
while kill -0 "$pid" 2>/dev/null; do
    sleep 1
done
echo "vtpmd exited"
