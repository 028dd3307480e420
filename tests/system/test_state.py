# SPDX-License-Identifier: BSD-3-Clause
"""State directories: swtpm and the daemon under test read each other's
state, and a state directory is locked against a second daemon."""

import hashlib

import pytest

import vtpmlib as v

pcrread = v.tool_pcrread


@pytest.fixture(autouse=True)
def _tools():
    v.require_tool("tpm2_nvread")
    v.require_tool("swtpm_ioctl")


def start_swtpm(pool, state, name, flags):
    """The reference swtpm, whatever VTPMD says."""
    d = pool.make(start=False, state_dir=state, name=name, flags=flags)
    d.argv[0] = v.SWTPM
    return d.start()


def start_dut(pool, state, name, flags):
    return pool.start(state_dir=state, name=name, flags=flags)


def nv_write(d, tmp_path, idx, data):
    f = tmp_path / f"{idx}.in"
    f.write_bytes(data)
    v.tpm2(d, "tpm2_nvdefine", idx, "-C", "o", "-s", "64", "-a",
           "ownerread|ownerwrite|authread|authwrite")
    v.tpm2(d, "tpm2_nvwrite", idx, "-C", "o", "-i", str(f))


def nv_read(d, idx, n):
    return v.tpm2(d, "tpm2_nvread", idx, "-C", "o", "-s", str(n)).stdout


def orderly_stop(d):
    """TPM2_Shutdown(STATE) (keeps PCRs for startup-state), then -s."""
    v.tpm2(d, "tpm2_shutdown")
    v.swtpm_ioctl(d, "-s")
    code = d.wait_exit(10)
    assert code == 0, f"exit {code} after swtpm_ioctl -s" + d.diag()


def test_state_crosses_between_swtpm_and_daemon(pool, tmp_path):
    state = tmp_path / "shared-state"
    state.mkdir()
    e1 = hashlib.sha256(b"extend by swtpm").digest()
    e2 = hashlib.sha256(b"extend by the daemon under test").digest()
    pcr1 = hashlib.sha256(bytes(32) + e1).digest()
    pcr2 = hashlib.sha256(pcr1 + e2).digest()
    data1 = b"written by swtpm 0.7.1"
    data2 = b"written by the daemon under test"

    # 1. swtpm creates the state
    s1 = start_swtpm(pool, state, "swtpm1", "not-need-init,startup-clear")
    nv_write(s1, tmp_path, "0x1500020", data1)
    v.tpm2(s1, "tpm2_pcrextend", f"10:sha256={e1.hex()}")
    assert pcrread(s1, "sha256", 10) == pcr1
    orderly_stop(s1)

    # 2. the daemon under test resumes it, reads it back, adds to it
    d = start_dut(pool, state, "dut", "not-need-init,startup-state")
    assert nv_read(d, "0x1500020", len(data1)) == data1, \
        "daemon under test cannot read swtpm's NV index"
    assert pcrread(d, "sha256", 10) == pcr1, \
        "daemon under test did not resume swtpm's PCR 10"
    nv_write(d, tmp_path, "0x1500021", data2)
    v.tpm2(d, "tpm2_pcrextend", f"10:sha256={e2.hex()}")
    orderly_stop(d)

    # 3. swtpm reads everything back
    s2 = start_swtpm(pool, state, "swtpm2", "not-need-init,startup-state")
    assert nv_read(s2, "0x1500020", len(data1)) == data1
    assert nv_read(s2, "0x1500021", len(data2)) == data2, \
        "swtpm cannot read the NV index the daemon under test wrote"
    assert pcrread(s2, "sha256", 10) == pcr2, \
        "swtpm did not resume the daemon's PCR 10"


def _second_daemon_outcome(pool, first, flags):
    second = pool.make(start=False, state_dir=first.state_dir, name="second",
                       flags=flags, wait=False)
    second.start()
    try:
        code = second.proc.wait(10)
    except Exception:
        pytest.fail("a second daemon on a locked state directory is still "
                    "running after 10 s" + second.diag())
    text = v.read_text(second.stderr_file) + v.read_text(second.log_file)
    return second, code, text


def test_second_daemon_on_same_state_dir_fails(pool):
    first = pool.start(name="first")
    second, code, text = _second_daemon_outcome(
        pool, first, "not-need-init,startup-clear")
    assert code != 0, "second daemon on the same state dir exited 0" \
        + second.diag()
    assert "lock" in text.lower(), \
        "the error does not mention the lock" + second.diag()
    # the first one is unharmed
    assert first.alive()
    with first.data_client() as c:
        assert c.rc(v.tpm2_getrandom(8)) == 0


@pytest.mark.vtpm_only
def test_lock_error_names_the_directory(pool):
    # swtpm says only "SWTPM_NVRAM_Lock_Dir: Could not lock access to
    # lockfile: Resource temporarily unavailable"
    first = pool.start(name="first")
    second, code, text = _second_daemon_outcome(
        pool, first, "not-need-init,startup-clear")
    assert code != 0
    assert str(first.state_dir) in text, \
        "the lock error should name the state directory" + second.diag()
