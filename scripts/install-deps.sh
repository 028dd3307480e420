#!/bin/sh
# Installs the Debian packages vtpm builds and tests with, if any are missing.
# Idempotent: a machine that has them all is left alone (no apt-get update).
set -eu

PKGS="build-essential meson ninja-build pkg-config libtpms-dev libssl-dev libcmocka-dev \
python3 python3-pytest swtpm swtpm-tools tpm2-tools trousers tpm-tools qemu-system-x86 seabios"
PKGS="$PKGS clang libclang-rt-14-dev" # fuzz/: libFuzzer and the sanitizer runtimes

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "vtpm: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# trousers' postinst starts tcsd, which fails without a TPM; that is expected here.
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
    echo "vtpm: apt-get install failed for:$missing" >&2
    exit 1
}
