# SPDX-License-Identifier: BSD-3-Clause
"""`vtpm trace`: the decoding proxy on a data channel, with tpm2-tools and
raw clients in front and vtpmd (or swtpm) behind."""

import os
import re
import socket
import subprocess
import time

import pytest

import vtpmlib as v

VTPM = os.environ.get("VTPM") or str(v.REPO / "build" / "tools" / "vtpm" / "vtpm")


class Trace:
    """A running `vtpm trace`, ended by pid by the pool."""

    def __init__(self, pool, tmp_path, *args):
        self.out = tmp_path / "trace.out"
        self.proc = subprocess.Popen([VTPM, "trace", *map(str, args)], stdout=open(self.out, "wb"),
                                     stderr=subprocess.STDOUT)
        pool.adopt_proc(self.proc)
        deadline = time.monotonic() + 10
        while "listening on" not in self.text():
            assert self.proc.poll() is None, f"vtpm trace exited: {self.text()}"
            assert time.monotonic() < deadline, "vtpm trace did not start listening"
            time.sleep(0.02)

    def text(self):
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(10) == 0, self.text()
        return self.text()

    def wait_lines(self, pattern, n=1, timeout=10):
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.text(), re.M)) < n:
            assert time.monotonic() < deadline, f"no {n}x {pattern!r} in:\n{self.text()}"
            time.sleep(0.02)


@pytest.fixture
def daemon_behind(pool):
    """A TPM 2.0 daemon on a TCP data port, its control port left to the caller's trace port + 1."""
    def make(trace_port, tpm2=True, flags="not-need-init,startup-clear"):
        d = pool.make(start=False, server="tcp", ctrl="tcp", tpm2=tpm2, flags=flags,
                      port=v.free_port_pair())
        d.ctrl_port = trace_port + 1  # the swtpm TCTI finds the control channel there
        d.argv = d._argv()
        d.start()
        return d
    return make


def exchange(port, data, expect):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return v.recv_exact(s, expect)


def test_tpm2_tools_through_the_proxy(pool, tmp_path, daemon_behind):
    port = v.free_port_pair()
    d = daemon_behind(port)
    t = Trace(pool, tmp_path, "--listen-tcp", port, "--tcp", f"127.0.0.1:{d.port}", "--hex")
    env = {"TPM2TOOLS_TCTI": f"swtpm:host=127.0.0.1,port={port}"}
    p = v.run(["tpm2_getrandom", "8", "--hex"], env=env)
    rnd = p.stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f]{16}", rnd), p.stdout
    v.run(["tpm2_pcrread", "sha256:0"], env=env)
    out = t.stop()
    line = re.search(r"^#\d+\s+client \d+  loc 0  TPM2_GetRandom \(0x17b\)\s+12 B  ->  "
                     r"TPM_RC_SUCCESS \(0x0\)  20 B  [\d.]+ ms$", out, re.M)
    assert line, out
    # the --hex dump is the bytes that passed: the random tpm2_getrandom printed ends the response
    after = out[line.end():].splitlines()
    assert after[1].strip() == "> 80010000000c0000017b0008", after[:2]
    assert after[2].strip().endswith(rnd), after[:3]
    assert re.search(r"TPM2_PCR_Read \(0x17e\)\s+20 B  ->  TPM_RC_SUCCESS", out), out
    assert re.search(r"^\d+ responses traced$", out, re.M), out


def test_tpm12_prefix_locality_and_error_codes(pool, tmp_path, daemon_behind):
    port = v.free_port_pair()
    d = daemon_behind(port, tpm2=False, flags="not-need-init")
    t = Trace(pool, tmp_path, "--listen-tcp", port, "--tcp", d.port)
    # TPM 1.2: the first TPM_Startup succeeds, the second answers TPM_INVALID_POSTINIT
    for _ in range(2):
        rsp = exchange(port, v.tpm12_startup(), 10)
    assert v.parse_response(rsp)[2] == 0x26
    t.wait_lines(r"TPM_ORD_Startup", 2)
    out = t.stop()
    assert re.search(r"TPM_ORD_Startup \(0x99\)\s+12 B  ->  TPM_SUCCESS \(0x0\)", out), out
    assert re.search(r"TPM_ORD_Startup \(0x99\)\s+12 B  ->  TPM_INVALID_POSTINIT \(0x26\)",
                     out), out


def test_prefixed_command_shows_its_locality(pool, tmp_path):
    d = pool.start(server="tcp", ctrl="tcp")  # TPM 2.0, started
    port = v.free_port_pair()
    t = Trace(pool, tmp_path, "--listen-tcp", port, "--tcp", d.port, "--count", 1)
    cmd = v.tpm2_getrandom(4)
    prefix = (8).to_bytes(4, "big") + bytes([3]) + len(cmd).to_bytes(4, "big")
    # the answer to a prefixed command: be32 size, response, be32 0
    rsp = exchange(port, prefix + cmd, 4 + 16 + 4)
    assert rsp[:4] == (16).to_bytes(4, "big") and rsp[-4:] == bytes(4), rsp.hex()
    assert t.proc.wait(10) == 0, t.text()  # --count 1 ends it
    out = t.text()
    assert re.search(r"loc 3  TPM2_GetRandom \(0x17b\)\s+12 B  ->  TPM_RC_SUCCESS \(0x0\)  "
                     r"16 B", out), out


def test_garbage_is_forwarded_and_said_once(pool, tmp_path):
    d = pool.start(server="tcp", ctrl="tcp")
    port = v.free_port_pair()
    t = Trace(pool, tmp_path, "--listen-tcp", port, "--tcp", d.port)
    # a header whose size field is 5: the daemon answers its size error, the trace says why
    bad = bytes.fromhex("80010000000500000144")
    rsp = exchange(port, bad, 10)
    assert v.parse_response(rsp)[2] == 0x142, rsp.hex()
    t.wait_lines(r"not TPM traffic")
    out = t.stop()
    assert "the commands are not TPM traffic (a size field outside 10 bytes to 1 MiB)" in out, out
    assert d.alive(), d.diag()


def test_unreachable_daemon_is_named(pool, tmp_path):
    port, dead = v.free_port_pair(), v.free_port_pair()
    t = Trace(pool, tmp_path, "--listen-tcp", port, "--tcp", dead, "-t", "2")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(v.tpm2_getrandom(4))
        try:  # closed without an answer (a reset: our command was never read)
            assert v.recv_all_until_close(s) == b""
        except ConnectionResetError:
            pass
    out = t.stop()
    assert f"cannot connect to the data channel 127.0.0.1:{dead}" in out, out
    assert "--server type=tcp,port=PORT" in out, out


@pytest.mark.parametrize("args,words", [
    ([], "give where clients connect"),
    (["--listen-tcp", "1"], "give where clients connect"),
    (["--listen-tcp", "1", "--tcp", "2", "--count", "0"], "--count '0'"),
    (["--listen-tcp", "1", "--tcp", "2", "--bogus"], "unknown option '--bogus'"),
    (["--listen-tcp", "1", "--tcp", "2", "extra"], "unexpected argument 'extra'"),
])
def test_usage_errors(args, words):
    p = v.run([VTPM, "trace", *args], check=False, timeout=10)
    assert p.returncode == 2, p
    err = p.stderr.decode()
    assert words in err and err.startswith("vtpm trace: "), err
