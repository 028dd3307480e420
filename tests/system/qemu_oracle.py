# SPDX-License-Identifier: BSD-3-Clause
"""QEMU's TPM device models as the oracle for libvtpm's (shared by the TIS and CRB tests).

A register access script is a list of lines: "read[bwlq] OFFSET",
"write[bwlq] OFFSET VALUE" (offsets from 0xFED40000, hex) and comments. It
runs through qtest against QEMU 7.2 (`-device tpm-tis` or `tpm-crb`, backed
by vtpmd over the swtpm protocol) and through build/tests/tools/dev-replay
against libvtpm's model (backed by libtpms in-process); each side starts
from a fresh TPM state.

'# wait OFFSET MASK VALUE' lines poll a register on QEMU (its backend
answers on another thread) and are comments for the replay tool, which
answers synchronously.
"""
import contextlib
import os
from pathlib import Path
import shutil
import socket
import subprocess
import time

import pytest

import vtpmlib as v

QEMU = shutil.which("qemu-system-x86_64")
# Beside the vtpmd under test when that is a build tree's (.../tools/vtpmd/vtpmd),
# else in build/; DEV_REPLAY overrides.
_vtpmd = Path(os.environ.get("VTPMD", "") or v.DEFAULT_VTPMD)
_build = (_vtpmd.parents[2] if _vtpmd.name == "vtpmd" and len(_vtpmd.parents) > 2
          else v.REPO / "build")
REPLAY = Path(os.environ.get("DEV_REPLAY", _build / "tests" / "tools" / "dev-replay"))
BASE = 0xFED40000


def replay(model, lines, state_dir, irq_log=None):
    """The values libvtpm's `model` ("tis" or "crb") answers to the script's reads.

    With irq_log (a path), the model's interrupt line changes go there, one
    "raise" or "lower" per line."""
    text = "\n".join(lines) + "\n"
    extra = ["--irq-log", str(irq_log)] if irq_log else []
    r = subprocess.run([str(REPLAY), "--model", model, *extra, str(state_dir)], input=text,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"dev-replay failed: {r.stderr}"
    return [int(x, 16) for x in r.stdout.split()]


def assert_same_reads(lines, theirs, ours):
    reads = [l for l in lines if l.startswith("read")]
    assert len(ours) == len(theirs) == len(reads)
    diffs = [f"read {i} ({r}): QEMU {q:#x}, vtpm {o:#x}"
             for i, (r, q, o) in enumerate(zip(reads, theirs, ours)) if q != o]
    assert not diffs, f"{len(diffs)} of {len(reads)} reads differ:\n" + "\n".join(diffs[:40])


class Qtest:
    def __init__(self, sock):
        self.f = sock.makefile("rw", buffering=1, newline="\n")
        self.irqs = []  # "raise"/"lower" of intercepted interrupt lines, in order

    def intercept_irqs(self):
        """Reports QEMU's IOAPIC inputs (the ISA IRQ of tpm-tis among them) from now on."""
        self.cmd("irq_intercept_in ioapic")

    def cmd(self, line):
        assert line.strip(), "qtest: QEMU aborts on an empty line"
        self.f.write(line + "\n")
        while True:
            reply = self.f.readline()
            assert reply, f"QEMU closed the qtest socket after: {line}"
            if not reply.startswith("IRQ"):
                break
            self.irqs.append(reply.split()[1])  # "IRQ raise 5"
        assert reply.startswith("OK"), f"qtest: {line} -> {reply.strip()}"
        return reply.split()

    def run(self, lines):
        out = []
        for line in lines:
            parts = line.split()
            if line.startswith("# wait"):
                self.wait(int(parts[2], 16), int(parts[3], 16), int(parts[4], 16), line)
            elif line.startswith("#"):
                continue
            elif parts[0].startswith("read"):
                out.append(int(self.cmd(f"{parts[0]} {BASE + int(parts[1], 16):#x}")[1], 16))
            else:
                self.cmd(f"{parts[0]} {BASE + int(parts[1], 16):#x} {parts[2]}")
        return out

    def wait(self, off, mask, want, what):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if int(self.cmd(f"readl {BASE + off:#x}")[1], 16) & mask == want:
                return
            time.sleep(0.005)
        raise AssertionError(f"QEMU: {what} never came true")


@contextlib.contextmanager
def qemu_with_tpm(tmp_path, sockdir, device):
    """QEMU 7.2 (q35, TCG, stopped) with `device` on vtpmd, driven over qtest."""
    if QEMU is None:
        pytest.skip("qemu-system-x86_64 is not installed (scripts/install-deps.sh adds "
                    f"qemu-system-x86): no oracle to compare the {device} model with")
    state = tmp_path / "qemu-tpm"
    state.mkdir()
    ctrl = os.path.join(sockdir, "ctrl")
    qsock = os.path.join(sockdir, "qtest")
    procs = []
    try:
        d = subprocess.Popen(v.daemon_argv("--tpm2", "--tpmstate", f"dir={state}", "--ctrl",
                                           f"type=unixio,path={ctrl}"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(d)
        end = time.monotonic() + 10
        while not v.unix_listening(ctrl):
            assert d.poll() is None and time.monotonic() < end, \
                f"vtpmd did not listen on {ctrl}: {d.stderr.read().decode()}"
            time.sleep(0.02)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(qsock)
        lsock.listen(1)
        lsock.settimeout(20)
        q = subprocess.Popen([QEMU, "-M", "q35", "-nodefaults", "-display", "none",
                              "-accel", "tcg", "-S", "-qtest", f"unix:{qsock}",
                              "-chardev", f"socket,id=chrtpm,path={ctrl}",
                              "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
                              "-device", f"{device},tpmdev=tpm0"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(q)
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            q.kill()
            raise AssertionError(f"QEMU did not connect to qtest: {q.stderr.read().decode()}")
        finally:
            lsock.close()
        yield Qtest(conn)
        conn.close()
    finally:
        for p in reversed(procs):
            v.kill_pid(p.pid)
            p.wait(5)
