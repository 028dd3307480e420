# SPDX-License-Identifier: BSD-3-Clause
"""`vtpm send`: one TPM command through the TIS model, a backend and the
reference guest driver, on real time, with the decoded answer and the
register trace (issue 3)."""

import os
import re
import struct

import pytest

import vtpmlib as v

VTPM = os.environ.get("VTPM") or str(v.REPO / "build" / "tools" / "vtpm" /
                                     "vtpm")


@pytest.fixture(scope="module", autouse=True)
def _need_vtpm():
    if not (os.path.isfile(VTPM) and os.access(VTPM, os.X_OK)):
        pytest.fail(f"vtpm not built: {VTPM} (ninja -C build, or set VTPM)",
                    pytrace=False)


def send(*args, timeout=60):
    p = v.run([VTPM, "send", *map(str, args)], check=False, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def field(out, key, nth=-1):
    """The value of the nth `key:` line (the last by default)."""
    vals = re.findall(rf"^{key}:\s+(.*)$", out, re.M)
    assert vals, f"no {key!r} line in:\n{out}"
    return vals[nth].strip()


@pytest.fixture
def state(tmp_path):
    d = tmp_path / "state"
    d.mkdir()
    return d


# ---- inproc -----------------------------------------------------------------

def test_crb_interface_runs_the_crb_driver(state):
    rc, out, err = send("--interface", "crb", "--state", state, "--startup", "--trace",
                        "--getrandom", 8)
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    assert field(out, "rc") == "0x00000000 TPM_RC_SUCCESS", out
    assert re.fullmatch(r"[0-9a-f]{16}", field(out, "random")), out
    # The CRB flow: locality request, cmdReady, the buffer, START, goIdle, relinquish.
    names = [ln.split()[3] + " " + ln.split()[4] for ln in out.splitlines()
             if re.match(r"\s+\d+ us\s+loc\d", ln)]
    want = ["LOC_CTRL W", "CTRL_REQ W", "DATA_BUFFER W", "CTRL_START W", "CTRL_START R",
            "DATA_BUFFER R", "CTRL_REQ W", "LOC_CTRL W"]
    pos = 0
    for n in names:
        if pos < len(want) and n == want[pos]:
            pos += 1
    assert pos == len(want), f"CRB trace lacks {want[pos:]} in order: {names}"


def test_getrandom_after_startup(state):
    rc, out, err = send("--state", state, "--startup", "--getrandom", 16)
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    assert field(out, "rc", 0) == "0x00000000 TPM_RC_SUCCESS", out
    assert field(out, "rc") == "0x00000000 TPM_RC_SUCCESS", out
    rnd = field(out, "random")
    assert re.fullmatch(r"[0-9a-f]{32}", rnd), f"not 16 bytes: {rnd!r}"
    rsp = bytes.fromhex(field(out, "response"))
    tag, size, code = v.parse_response(rsp)
    assert (tag, size, code) == (0x8001, 10 + 2 + 16, 0), rsp.hex()
    assert rsp[12:].hex() == rnd, "random: is not the response's bytes"
    # two calls do not print the same bytes
    rc, out2, err = send("--state", state, "--startup", "--getrandom", 16)
    assert rc == 0, err
    assert field(out2, "random") != rnd


def test_command_before_startup_answers_initialize(state):
    rc, out, err = send("--state", state, "--getrandom", 8)
    assert rc == 1, f"exit {rc}: {err}\n{out}"
    assert field(out, "response") == "80010000000a00000100", out
    assert field(out, "rc").startswith("0x00000100 TPM_RC_INITIALIZE"), out
    assert "TPM_RC_INITIALIZE" in err, err
    assert "random:" not in out


def trace_lines(out):
    """(locality, register, R/W, size, value, bits) of each trace line."""
    rows = []
    for line in out.splitlines():
        m = re.match(r"^\s+(\d+) us  loc(\d)  (\S+)\s+([RW]) (\d)  0x([0-9a-f]+)"
                     r"(.*)$", line)
        if m:
            rows.append((int(m.group(2)), m.group(3), m.group(4),
                         int(m.group(5)), int(m.group(6), 16),
                         m.group(7).split()))
    return rows


def first_index(rows, start, pred, what):
    for i in range(start, len(rows)):
        if pred(rows[i]):
            return i
    raise AssertionError(f"trace: no {what} after line {start}:\n" +
                         "\n".join(map(str, rows)))


def test_trace_shows_the_tis_sequence(state):
    cmd = v.tpm2_getrandom(8)
    rc, out, err = send("--state", state, "--startup", "--trace",
                        "--locality", 2, "--getrandom", 8)
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    # Startup goes out from locality 0, as firmware sends it
    startup = trace_lines(out.split("command:")[1])
    assert startup and all(r[0] == 0 for r in startup), startup
    assert field(out, "rc", 0) == "0x00000000 TPM_RC_SUCCESS", out
    # the trace of the second command: after the second "command:" line
    rows = trace_lines(out.split("command:")[2])
    assert rows, out
    assert all(r[0] == 2 for r in rows), "an access outside locality 2"
    i = first_index(rows, 0, lambda r: r[1] == "ACCESS" and r[2] == "W" and
                    "requestUse" in r[5], "ACCESS W requestUse")
    i = first_index(rows, i, lambda r: r[1] == "ACCESS" and r[2] == "R" and
                    "activeLocality" in r[5], "ACCESS R activeLocality")
    i = first_index(rows, i, lambda r: r[1] == "STS" and r[2] == "W" and
                    r[5] == ["commandReady"], "STS W commandReady")
    i = first_index(rows, i, lambda r: r[1] == "STS" and r[2] == "R" and
                    "commandReady" in r[5], "STS R commandReady")
    writes = [r for r in rows[i:] if r[1] == "DATA_FIFO" and r[2] == "W"]
    assert bytes(r[4] for r in writes) == cmd, \
        f"DATA_FIFO writes {bytes(r[4] for r in writes).hex()} != {cmd.hex()}"
    i = first_index(rows, i, lambda r: r[1] == "STS" and "Expect" in r[5],
                    "STS Expect while sending")
    i = first_index(rows, i, lambda r: r[1] == "STS" and r[2] == "W" and
                    r[5] == ["tpmGo"], "STS W tpmGo")
    i = first_index(rows, i, lambda r: r[1] == "STS" and r[2] == "R" and
                    "stsValid" in r[5] and "dataAvail" in r[5],
                    "STS R stsValid dataAvail")
    reads = [r for r in rows[i:] if r[1] == "DATA_FIFO" and r[2] == "R"]
    assert reads, "no DATA_FIFO reads"
    i = first_index(rows, i, lambda r: r[1] == "STS" and r[2] == "W" and
                    r[5] == ["commandReady"], "STS W commandReady at the end")
    first_index(rows, i, lambda r: r[1] == "ACCESS" and r[2] == "W" and
                r[5] == ["activeLocality"], "ACCESS W activeLocality")
    # the STS value and its decoded bits agree
    for r in rows:
        if r[1] == "STS" and r[2] == "R" and r[3] == 4:
            assert ("dataAvail" in r[5]) == bool(r[4] & 0x10), r
            assert f"burstCount={(r[4] >> 8) & 0xffff}" in r[5], r


def test_raw_getcapability(state):
    cmd = v.tpm2_getcap(6, 0x105, 1)  # TPM_PT_MANUFACTURER
    rc, out, err = send("--state", state, "--startup", cmd.hex())
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    rsp = bytes.fromhex(field(out, "response"))
    tag, size, code = v.parse_response(rsp)
    assert code == 0 and size == len(rsp), rsp.hex()
    # moreData, TPM_CAP_TPM_PROPERTIES, count 1, TPM_PT_MANUFACTURER, "IBM\\0"
    assert rsp[11:23] == struct.pack(">III", 6, 1, 0x105), rsp.hex()
    assert rsp[23:27] == b"IBM\0", rsp.hex()


def test_raw_hex_may_be_split_and_spaced(state):
    cmd = v.tpm2_getrandom(4).hex()
    rc, out, err = send("--state", state, "--startup", cmd[:8],
                        " ".join(cmd[i:i + 2] for i in range(8, len(cmd), 2)))
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    assert field(out, "bytes") == cmd


def test_format_one_code_names_its_parameter(state):
    # TPM2_PCR_Read with a selection of hash algorithm 0x0001 (not a hash)
    body = struct.pack(">IHB", 1, 0x0001, 3) + b"\x01\0\0"
    rc, out, err = send("--state", state, "--startup",
                        v.tpm2_cmd(v.TPM2_CC_PCR_READ, body).hex())
    assert rc == 1, f"exit {rc}: {err}\n{out}"
    code = int(field(out, "rc").split()[0], 16)
    assert code & 0x80, f"not a format-one code: {code:#x}"
    assert re.search(r"TPM_RC_\w+, parameter 1$", field(out, "rc")), out


def test_tpm12_inproc(tmp_path):
    d = tmp_path / "st12"
    d.mkdir()
    rc, out, err = send("--tpm", "1.2", "--state", d, "--pcrread", 0)
    assert rc == 1, err
    assert field(out, "rc").startswith("0x00000026 TPM_INVALID_POSTINIT"), out
    rc, out, err = send("--tpm", "1.2", "--state", d, "--startup",
                        "--pcrread", 0)
    assert rc == 0, f"exit {rc}: {err}\n{out}"
    assert field(out, "rc", 0) == "0x00000000 TPM_SUCCESS"
    assert field(out, "digest") == "00" * 20


def test_driver_failure_prints_the_drivers_sentence(state):
    # 1 ms is less than TPM2_Startup or an RSA key generation takes
    cmd = v.tpm2_createprimary_rsa(2048)
    rc, out, err = send("--state", state, "--startup", "--duration-ms", 1,
                        cmd.hex())
    assert rc == 1, f"exit {rc}: {err}\n{out}"
    assert "the driver failed (EXEC_TIMEOUT)" in err, err
    assert re.search(r"dataAvail not set within 1 ms after tpmGo "
                     r"\(STS 0x[0-9a-f]{8}", err), err
    assert len(err.strip().splitlines()) == 1, err


# ---- emulator ---------------------------------------------------------------

def test_emulator_pcrread_after_startup(pool):
    d = pool.start(server=None, ctrl="unix", flags=None)
    rc, out, err = send("--backend", "emulator", "--unix", d.ctrl_path,
                        "--startup", "--pcrread", 0)
    assert rc == 0, f"exit {rc}: {err}\n{out}" + d.diag()
    assert field(out, "rc", 0) == "0x00000000 TPM_RC_SUCCESS", out
    assert field(out, "digest") == "00" * 32, out
    # power-on each time: without --startup the TPM is not started
    rc, out, err = send("--unix", d.ctrl_path, "--getrandom", 4)
    assert rc == 1, f"exit {rc}: {err}\n{out}"
    assert field(out, "rc").startswith("0x00000100 TPM_RC_INITIALIZE"), out
    assert d.alive(), d.diag()


# ---- usage ------------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    ([], "which TPM"),
    (["--state", "S"], "what to send"),
    (["--state", "S", "--interface", "crb", "--tpm", "1.2", "--getrandom", "1"],
     "CRB is a TPM 2.0 interface"),
    (["--state", "S", "--interface", "spi", "--getrandom", "1"],
     "--interface 'spi'"),
    (["--state", "S", "80010000000c"], "10-byte header"),
    (["--state", "S", "80010000000d0000017b0010"], "size field says 13"),
    (["--state", "S", "80010000000c0000017b001"], "odd number"),
    (["--state", "S", "8001xx"], "not a hex digit"),
    (["--state", "S", "--getrandom", "0"], "--getrandom '0'"),
    (["--state", "S", "--pcrread", "24"], "--pcrread '24'"),
    (["--state", "S", "--locality", "5", "--getrandom", "1"],
     "--locality '5'"),
    (["--state", "S", "--tpm", "3", "--getrandom", "1"], "--tpm '3'"),
    (["--state", "S", "--getrandom", "1", "--pcrread", "1"], "not two"),
    (["--state", "S", "--getrandom", "1", "8001"], "unexpected argument"),
    (["--backend", "emulator", "--state", "S", "--getrandom", "1"],
     "does not take --state"),
    (["--backend", "qemu", "--state", "S", "--getrandom", "1"],
     "--backend 'qemu'"),
    (["--state", "S", "--unix", "C", "--getrandom", "1"], "give one"),
    (["--state", "S", "--frobnicate"], "unknown option '--frobnicate'"),
    (["--state", "S", "--getrandom"], "needs an argument"),
])
def test_bad_usage_exits_2_with_one_line(args, words):
    rc, out, err = send(*args)
    assert rc == 2, f"exit {rc} for {args}: {err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vtpm send: "), err
    assert words in lines[0], f"{words!r} not in {lines[0]!r}"
    assert out == ""


def test_help_is_listed():
    p = v.run([VTPM, "--help"], check=False)
    assert p.returncode == 0
    assert re.search(r"^\s+send\s", p.stdout.decode(), re.M)
    rc, out, err = send("--help")
    assert rc == 0 and "--getrandom" in out and "--trace" in out, out
