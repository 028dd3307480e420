# SPDX-License-Identifier: BSD-3-Clause
"""The reference driver through every device model and every backend that
can run here (issue 3): TIS and CRB, TPM 2.0 and 1.2, on libtpms in process
and on the emulator backend against vtpmd and against the real swtpm.

Each cell powers the TPM on (TPM_Init through the backend), sends Startup
from locality 0 as firmware does, then reads PCR 0 and asks for random
bytes through the same stack, and checks the decoded answers. (Passthrough
is covered by tests/unit/test_backend.c against a stand-in device: no
machine here has a /dev/tpm0.)"""

import os
import re

import pytest

import vtpmlib as v

VTPM = os.environ.get("VTPM") or str(v.REPO / "build" / "tools" / "vtpm" / "vtpm")
VTPMD = os.environ.get("VTPMD", "")
if VTPMD in ("", "swtpm"):
    VTPMD = str(v.DEFAULT_VTPMD)

CELLS = [("tis", "2.0"), ("tis", "1.2"), ("crb", "2.0")]
BACKENDS = ["inproc", "vtpmd", "swtpm"]


def field(out, key, nth=-1):
    vals = re.findall(rf"^{key}:\s+(.*)$", out, re.M)
    assert vals, f"no {key!r} line in:\n{out}"
    return vals[nth].strip()


def send(*args):
    p = v.run([VTPM, "send", *map(str, args)], check=False, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def start_peer(pool, peer, family):
    d = pool.make(start=False, server=None, ctrl="unix", flags=None, tpm2=(family == "2.0"),
                  name=peer)
    d.argv[0] = VTPMD if peer == "vtpmd" else v.SWTPM
    d.start()
    comm = open(f"/proc/{d.pid}/comm").read().strip()
    assert comm == peer, f"started {comm}, wanted {peer}"
    return d


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("iface,family", CELLS)
def test_driver_through_model_and_backend(iface, family, backend, pool, tmp_path):
    daemon = None
    if backend == "inproc":
        state = tmp_path / "state"
        state.mkdir()
        be = ["--backend", "inproc", "--state", state]
    else:
        daemon = start_peer(pool, backend, family)
        be = ["--backend", "emulator", "--unix", daemon.ctrl_path]
    common = ["--interface", iface, "--tpm", family, *be, "--startup"]
    ok = "0x00000000 TPM_RC_SUCCESS" if family == "2.0" else "0x00000000 TPM_SUCCESS"
    diag = daemon.diag() if daemon else ""

    rc, out, err = send(*common, "--pcrread", 0)
    assert rc == 0, f"exit {rc}: {err}\n{out}{diag}"
    assert field(out, "rc", 0) == ok, out   # the Startup
    assert field(out, "rc") == ok, out
    assert field(out, "digest") == "00" * (32 if family == "2.0" else 20), out

    rc, out, err = send(*common, "--getrandom", 12)
    assert rc == 0, f"exit {rc}: {err}\n{out}{diag}"
    assert re.fullmatch(r"[0-9a-f]{24}", field(out, "random")), out

    # Without Startup the TPM behind every stack answers the family's "not started".
    rc, out, err = send("--interface", iface, "--tpm", family, *be, "--getrandom", 4)
    assert rc == 1, f"exit {rc}: {err}\n{out}"
    want = "0x00000100 TPM_RC_INITIALIZE" if family == "2.0" else "0x00000026 TPM_INVALID_POSTINIT"
    assert field(out, "rc").startswith(want), out
    if daemon:
        assert daemon.alive(), daemon.diag()


def test_crb_with_tpm12_is_refused(tmp_path):
    rc, out, err = send("--interface", "crb", "--tpm", "1.2", "--state", tmp_path, "--startup",
                        "--getrandom", 4)
    assert rc == 2, f"exit {rc}: {err}\n{out}"
    assert "crb" in err and "2.0" in err, err
