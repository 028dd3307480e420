# SPDX-License-Identifier: BSD-3-Clause
"""The control channel: swtpm_ioctl over --unix and --tcp, and a raw client.

Expected outputs are what swtpm 0.7.1 + libtpms 0.9.2 print; vtpmd runs the
same libtpms, so they must match byte for byte where deterministic."""

import hashlib
import json
import re
import socket
import struct

import pytest

import vtpmlib as v


@pytest.fixture(autouse=True)
def _tools():
    v.require_tool("swtpm_ioctl")


@pytest.fixture(params=["tcp", "unix"])
def ctrl_kind(request):
    return request.param


@pytest.fixture
def d(pool, ctrl_kind):
    return pool.start(ctrl=ctrl_kind)


def io(d, *args, check=True, input=None):
    return v.swtpm_ioctl(d, *args, check=check, input=input)


def io_fails_with(d, code, *args):
    p = io(d, *args, check=False)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, f"swtpm_ioctl {' '.join(args)} should fail; " \
                              f"rc {p.returncode}, stderr {err!r}"
    assert f": {code:#x}" in err, \
        f"swtpm_ioctl {' '.join(args)}: want TPM result {code:#x}: {err!r}"


def tpm(d, cmd):
    with d.data_client() as c:
        return c.transact(cmd)


def rc_of(d, cmd):
    return v.parse_response(tpm(d, cmd))[2]


def pcr(d, idx):
    return v.parse_pcr_read_sha256(tpm(d, v.tpm2_pcr_read_sha256(idx)))


def test_capabilities(d):
    p = io(d, "-c")
    m = re.fullmatch(r"ptm capability is 0x([0-9a-f]+)\n", p.stdout.decode())
    assert m, f"swtpm_ioctl -c: {p.stdout!r}"
    caps = int(m.group(1), 16)
    assert caps & 0xffff == 0xffff, \
        f"capabilities {caps:#x} lack some of swtpm 0.7.1's 0xffff"


def test_init_resets_the_tpm(d):
    assert rc_of(d, v.tpm2_getrandom(8)) == 0
    io(d, "-i")
    # --flags startup-* applies at process start only; after CMD_INIT the
    # TPM waits for TPM2_Startup, like swtpm
    assert rc_of(d, v.tpm2_getrandom(8)) == v.TPM2_RC_INITIALIZE
    assert rc_of(d, v.tpm2_startup()) == 0
    assert rc_of(d, v.tpm2_getrandom(8)) == 0


def test_stop_then_init(d):
    io(d, "--stop")
    r = tpm(d, v.tpm2_getrandom(8))
    assert r == bytes.fromhex("80010000000a00000101"), \
        f"TPM command while stopped: {r.hex()} (want TPM_RC_FAILURE)"
    io_fails_with(d, v.TPM_BAD_ORDINAL, "-e")
    io(d, "-i")
    assert rc_of(d, v.tpm2_startup()) == 0
    assert rc_of(d, v.tpm2_getrandom(8)) == 0


def test_shutdown_ends_the_process(d):
    p = io(d, "-s")
    assert p.stdout == b"" and p.stderr == b""
    code = d.wait_exit(10)
    assert code == 0, f"exit code {code} after -s" + d.diag()


def test_established_bit(d):
    def est():
        out = io(d, "-e").stdout.decode()
        m = re.fullmatch(r"tpmEstablished is ([01])\n", out)
        assert m, f"swtpm_ioctl -e: {out!r}"
        return int(m.group(1))

    assert est() == 0
    io(d, "-h", "x")  # _TPM_Hash_Start sets the bit
    assert est() == 1
    io_fails_with(d, v.TPM_BAD_LOCALITY, "-r", "0")
    assert est() == 1
    io(d, "-r", "3")
    assert est() == 0


def test_set_locality(d):
    for loc in range(5):
        io(d, "-l", str(loc))
    io(d, "-l", "0")
    assert rc_of(d, v.tpm2_getrandom(8)) == 0


def test_reject_locality_4(pool, ctrl_kind):
    d = pool.start(ctrl=ctrl_kind,
                   extra=["--locality",
                          "reject-locality-4,allow-set-locality"])
    io(d, "-l", "3")
    io_fails_with(d, v.TPM_BAD_LOCALITY, "-l", "4")
    io(d, "-l", "0")
    assert rc_of(d, v.tpm2_getrandom(8)) == 0


def test_store_volatile(d):
    vol = d.state_dir / "tpm2-00.volatilestate"
    assert not vol.exists()
    io(d, "-v")
    assert vol.exists() and vol.stat().st_size > 0, \
        f"-v did not write {vol.name}: " \
        f"{sorted(p.name for p in d.state_dir.iterdir())}"


def test_cancel_when_idle(d):
    io(d, "-C")
    assert rc_of(d, v.tpm2_getrandom(8)) == 0


def test_hash_sequence_extends_pcr17(d):
    data = b"drtm measured payload"
    assert pcr(d, 17) == b"\xff" * 32
    io(d, "-h", data.decode())
    want = hashlib.sha256(bytes(32) + hashlib.sha256(data).digest()).digest()
    assert pcr(d, 17) == want, "PCR 17 after -h (DRTM, TPM started)"
    assert pcr(d, 18) == bytes(32), "_TPM_Hash_Start resets PCR 18 to zero"


def test_hash_before_startup_is_hcrtm(d):
    data = b"h-crtm payload"
    io(d, "-i")
    io(d, "-h", data.decode())
    assert rc_of(d, v.tpm2_startup()) == 0
    want = hashlib.sha256(bytes(31) + b"\x04" +
                          hashlib.sha256(data).digest()).digest()
    assert pcr(d, 0) == want, "PCR 0 after H-CRTM sequence + Startup"
    assert pcr(d, 17) == b"\xff" * 32


def test_hash_data_from_stdin(d):
    # swtpm_ioctl sends stdin in several CMD_HASH_DATA chunks
    data = bytes(range(256)) * 40
    io(d, "-h", "-", input=data)
    want = hashlib.sha256(bytes(32) + hashlib.sha256(data).digest()).digest()
    assert pcr(d, 17) == want


def test_save_load_roundtrip(pool, ctrl_kind, tmp_path):
    a = pool.start(ctrl=ctrl_kind, name="a")
    ext = hashlib.sha256(b"pcr 10 before migration").digest()
    assert rc_of(a, v.tpm2_pcr_extend_sha256(10, ext)) == 0
    pcr10 = pcr(a, 10)
    with a.data_client() as c:
        h, pub_a = v.createprimary_public(
            c.transact(v.tpm2_createprimary_ecc()))
        assert c.rc(v.tpm2_flush(h)) == 0
    files = {}
    for t in ("permanent", "volatile", "savestate"):
        files[t] = tmp_path / f"{t}.blob"
        io(a, "--save", t, str(files[t]))
        assert files[t].exists()
    assert files["permanent"].stat().st_size > 0
    assert files["volatile"].stat().st_size > 0
    # loading while the TPM runs is refused
    io_fails_with(a, v.TPM_BAD_ORDINAL, "--load", "permanent",
                  str(files["permanent"]))

    b = pool.start(ctrl=ctrl_kind, name="b")
    with b.data_client() as c:
        h, pub_fresh = v.createprimary_public(
            c.transact(v.tpm2_createprimary_ecc()))
        assert c.rc(v.tpm2_flush(h)) == 0
    assert pub_fresh != pub_a, "two fresh TPMs share an owner seed?"
    io(b, "--stop")
    for t in ("permanent", "volatile", "savestate"):
        io(b, "--load", t, str(files[t]))
    io(b, "-i")  # resumes from the loaded volatile state: no Startup needed
    assert rc_of(b, v.tpm2_getrandom(8)) == 0
    assert pcr(b, 10) == pcr10, "PCR 10 not carried by the volatile blob"
    with b.data_client() as c:
        h, pub_b = v.createprimary_public(
            c.transact(v.tpm2_createprimary_ecc()))
    assert pub_b == pub_a, "owner seed not carried by the permanent blob"


def test_buffer_size(d):
    def bufsize(arg):
        out = io(d, "-b", str(arg)).stdout.decode()
        m = re.fullmatch(r"TPM buffersize: (\d+)\nminimum size  : (\d+)\n"
                         r"maximum size  : (\d+)\n", out)
        assert m, f"swtpm_ioctl -b {arg}: {out!r}"
        return tuple(int(x) for x in m.groups())

    assert bufsize(0) == (4096, 2808, 4096)
    io_fails_with(d, v.TPM_BAD_ORDINAL, "-b", "3000")  # only while stopped
    io(d, "--stop")
    assert bufsize(100) == (2808, 2808, 4096), "below minimum: clamped"
    assert bufsize(100000) == (4096, 2808, 4096), "above maximum: clamped"
    assert bufsize(3000) == (3000, 2808, 4096)
    assert bufsize(0) == (3000, 2808, 4096)
    io(d, "-i")
    assert rc_of(d, v.tpm2_startup()) == 0
    r = tpm(d, v.tpm2_getcap(6, 0x11e, 2))  # MAX_COMMAND/RESPONSE_SIZE
    assert v.parse_response(r)[2] == 0
    vals = struct.unpack(">IIII", r[-16:])
    assert vals == (0x11e, 3000, 0x11f, 3000), f"max sizes {vals}"
    r = tpm(d, v.tpm2_cmd(v.TPM2_CC_GETRANDOM, b"\0\x08" + bytes(3000)))
    tag, _, rc = v.parse_response(r)
    assert tag == 0x8001 and rc != 0, \
        f"a 3010-byte command with a 3000-byte buffer: {r.hex()}"


def test_get_config(d):
    assert io(d, "-g").stdout == b"ptm configuration flags: 0x0\n"


def test_info_json(d):
    want = {
        1: {"TPMSpecification": {"family": "2.0", "level": 0,
                                 "revision": 164}},
        2: {"TPMAttributes": {"manufacturer": "id:00001014",
                              "version": "id:20191023", "model": "swtpm"}},
    }
    for flag, doc in want.items():
        out = io(d, "--info", str(flag)).stdout.decode()
        assert json.loads(out) == doc, f"--info {flag}: {out!r}"
    both = json.loads(io(d, "--info", "3").stdout.decode())
    assert both == {**want[1], **want[2]}


def test_tpm12_info_and_caps(pool, ctrl_kind):
    d = pool.start(ctrl=ctrl_kind, tpm2=False)
    out = io(d, "--info", "1").stdout.decode()
    assert json.loads(out) == {"TPMSpecification": {
        "family": "1.2", "level": 2, "revision": 116}}, out
    out = io(d, "-b", "0").stdout.decode()
    assert out == ("TPM buffersize: 4096\nminimum size  : 3072\n"
                   "maximum size  : 4096\n"), out
    caps = int(io(d, "-c").stdout.decode().rsplit("0x", 1)[1], 16)
    assert caps & 0x7fff == 0x7fff, f"TPM 1.2 capabilities {caps:#x}"


# ------------------------------------------------------------ raw client

def test_raw_many_commands_on_one_connection(d):
    with d.ctrl_client() as c:
        assert c.get_capability() & 0xffff == 0xffff
        assert c.get_config() == (0, 0)
        assert c.set_buffersize(0) == (0, 4096, 2808, 4096)
        rc, info = c.get_info(1)
        assert rc == 0 and json.loads(info.rstrip(b"\0")) == {
            "TPMSpecification": {"family": "2.0", "level": 0,
                                 "revision": 164}}
        assert c.get_established() == (0, 0)
        assert c.hash_start() == 0
        assert c.hash_data(b"abc") == 0
        assert c.hash_data(b"def") == 0
        assert c.hash_end() == 0
        assert c.get_established() == (0, 1)
        assert c.reset_established(3) == 0
        assert c.cancel() == 0
        assert c.store_volatile() == 0
        assert c.set_locality(0) == 0
        rc, flags, tot, blob = c.get_stateblob(v.BLOB_PERMANENT)
        assert rc == 0 and len(blob) == tot > 0
        assert c.get_capability() & 0xffff == 0xffff, "out of sync"
    want = hashlib.sha256(bytes(32) + hashlib.sha256(b"abcdef").digest())
    assert pcr(d, 17) == want.digest()


def test_raw_get_stateblob_in_pieces(d):
    with d.ctrl_client() as c:
        rc, _, tot, whole = c.get_stateblob(v.BLOB_PERMANENT)
        assert rc == 0 and len(whole) == tot
        rc, _, _, tail = c.get_stateblob(v.BLOB_PERMANENT, offset=100)
        assert rc == 0 and tail == whole[100:], "offset read mismatch"


def test_set_datafd_qemu_flow(pool):
    """QEMU's tpm-emulator: only a unix control channel, the data channel is
    a socketpair end passed with CMD_SET_DATAFD."""
    d = pool.start(server=None, ctrl="unix", flags=None)
    mine, theirs = socket.socketpair()
    try:
        with d.ctrl_client() as c:
            assert c.get_capability() & v.PTM_CAP_SET_DATAFD
            assert c.set_datafd(theirs.fileno()) == 0
            theirs.close()
            assert c.init() == 0
            data = v.Data(mine)
            mine.settimeout(10)
            assert data.rc(v.tpm2_startup()) == 0
            r = data.transact(v.tpm2_getrandom(16))
            assert v.parse_response(r)[2] == 0 and len(r) == 28
            assert c.get_established() == (0, 0)
            assert c.shutdown() == 0
        code = d.wait_exit(10)
        assert code == 0, f"exit {code} after CMD_SHUTDOWN" + d.diag()
    finally:
        mine.close()
        if theirs.fileno() >= 0:
            theirs.close()


# ------------------------------------------------- differential vs swtpm

DIFF_SCRIPT = [
    ["-e"], ["-g"], ["-b", "0"], ["--info", "1"], ["--info", "2"],
    ["--info", "3"], ["-r", "0"], ["-l", "4"], ["-l", "3"], ["-l", "0"],
    ["-b", "3000"], ["-h", "abc"], ["-e"], ["-r", "3"], ["-e"], ["-C"],
    ["--stop"], ["-e"], ["-b", "3000"], ["-b", "0"], ["-g"], ["-h", "x"],
    ["-i"], ["-e"], ["-b", "0"], ["-s"],
]


@pytest.mark.parametrize("tpm2", [True, False], ids=["tpm2", "tpm12"])
def test_ioctl_outputs_match_swtpm(pool, ctrl_kind, tpm2):
    """Every step of a swtpm_ioctl session prints the same thing (exit code,
    stdout, stderr) against the daemon under test as against swtpm."""
    opts = dict(ctrl=ctrl_kind, tpm2=tpm2,
                extra=["--locality", "reject-locality-4"])
    ref = pool.make(start=False, name="ref", **opts)
    ref.argv[0] = v.SWTPM
    ref.start()
    dut = pool.start(name="dut", **opts)
    for step in DIFF_SCRIPT:
        a = io(ref, *step, check=False)
        b = io(dut, *step, check=False)
        want = (a.returncode, a.stdout, a.stderr)
        got = (b.returncode, b.stdout, b.stderr)
        assert got == want, f"swtpm_ioctl {' '.join(step)}: daemon under " \
                            f"test {got}, swtpm {want}"
    assert ref.wait_exit(10) == 0
    assert dut.wait_exit(10) == 0, "exit code after -s" + dut.diag()
