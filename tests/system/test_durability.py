# SPDX-License-Identifier: BSD-3-Clause
"""Durability of the TPM state: acknowledged NV writes survive a SIGKILL
(vtpmd recovers them from its journal), and a damaged state file stops the
daemon with a message naming it instead of being replaced by a fresh TPM."""

import os
import signal
import struct

import pytest

import vtpmlib as v


@pytest.fixture(autouse=True)
def _tools():
    v.require_tool("tpm2_nvread")


NV_INDEX = "0x1500020"


def tpm2_nv_write(index, data, offset=0):
    """TPM2_NV_Write authorized by the index itself (authwrite), empty password."""
    body = struct.pack(">II", index, index) + v._pw_auth()
    body += struct.pack(">H", len(data)) + data + struct.pack(">H", offset)
    return v.tpm2_cmd(0x137, body, tag=v.TPM2_ST_SESSIONS)


def nv_define(d):
    v.tpm2(d, "tpm2_nvdefine", NV_INDEX, "-C", "o", "-s", "32", "-a",
           "ownerread|ownerwrite|authread|authwrite")


def nv_write(d, tmp_path, data):
    f = tmp_path / "nv.in"
    f.write_bytes(data)
    v.tpm2(d, "tpm2_nvwrite", NV_INDEX, "-C", "o", "-i", str(f))


def nv_read(d, n):
    return v.tpm2(d, "tpm2_nvread", NV_INDEX, "-C", "o", "-s", str(n)).stdout


def sigkill(d):
    os.kill(d.pid, signal.SIGKILL)
    d.wait_exit(10)


def permall(state):
    return state / "tpm2-00.permall"


def test_acknowledged_nv_writes_survive_sigkill(pool, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    d = pool.start(state_dir=state, name="a")
    nv_define(d)
    for i in range(5):
        nv_write(d, tmp_path, b"version %02d of the data" % i)
    sigkill(d)
    # Killed, never stopped: no clean shutdown wrote the state out.
    d2 = pool.start(state_dir=state, name="b", flags="not-need-init")
    v.tpm2(d2, "tpm2_startup", "-c")
    assert nv_read(d2, 22) == b"version 04 of the data", d2.diag()
    # A clean stop leaves a directory swtpm reads: its own file format.
    v.swtpm_ioctl(d2, "-s")
    assert d2.wait_exit(10) == 0
    ref = pool.make(start=False, state_dir=state, name="ref",
                    flags="not-need-init,startup-clear")
    ref.argv[0] = v.SWTPM
    ref.start()
    assert nv_read(ref, 22) == b"version 04 of the data"


def test_sigkill_during_writes_never_loses_an_acknowledged_one(pool, tmp_path):
    """Kill the daemon while a client writes as fast as it can; after the
    restart the NV index holds the last acknowledged value or a later one
    whose response was lost, never an older one."""
    state = tmp_path / "state"
    state.mkdir()
    d = pool.start(state_dir=state, name="w")
    nv_define(d)
    acked = []
    with d.data_client(timeout=10) as c:
        for i in range(40):
            data = b"%08d" % i
            if c.rc(tpm2_nv_write(int(NV_INDEX, 16), data)) == 0:
                acked.append(data)
            if i == 25:
                os.kill(d.pid, signal.SIGKILL)
                break
    d.wait_exit(10)
    assert acked, "no NV_Write was acknowledged"
    d2 = pool.start(state_dir=state, name="r", flags="not-need-init")
    v.tpm2(d2, "tpm2_startup", "-c")
    got = nv_read(d2, 8)
    assert int(got) >= int(acked[-1]), f"lost acknowledged write: have {got}, acked {acked[-1]}"


def damage_and_start(pool, tmp_path, damage):
    state = tmp_path / "state"
    state.mkdir()
    d = pool.start(state_dir=state, name="good")
    nv_define(d)
    v.swtpm_ioctl(d, "-s")
    assert d.wait_exit(10) == 0
    f = permall(state)
    damage(f)
    before = f.read_bytes()
    bad = pool.make(start=False, state_dir=state, name="bad", wait=False)
    bad.start()
    code = bad.wait_exit(10)
    return bad, code, f, before


@pytest.mark.vtpm_only
@pytest.mark.parametrize("what", ["truncated", "bad-header"])
def test_damaged_state_file_is_refused_not_replaced(pool, tmp_path, what):
    def damage(f):
        b = f.read_bytes()
        if what == "truncated":
            f.write_bytes(b[: len(b) // 2])
        else:
            f.write_bytes(b"\x09\x09" + b[2:])  # needs a reader of version 9

    bad, code, f, before = damage_and_start(pool, tmp_path, damage)
    err = v.read_text(bad.stderr_file)
    assert code == 1, f"daemon on a damaged state exited {code}" + bad.diag()
    assert str(f) in err, f"the message must name the file: {err!r}"
    assert f.read_bytes() == before, "the damaged file was modified"
