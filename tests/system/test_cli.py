# SPDX-License-Identifier: BSD-3-Clause
"""The `socket` command line: informational options, errors, daemon modes."""

import json
import re
import socket
import time

import pytest

import vtpmlib as v


def cli(*args, timeout=20):
    return v.run(v.daemon_argv(*args), check=False, timeout=timeout)


def out(p):
    return p.stdout.decode(errors="replace")


def err(p):
    return p.stderr.decode(errors="replace")


@pytest.mark.parametrize("tpm2", [False, True], ids=["default", "tpm2"])
def test_print_capabilities_is_json(tpm2):
    args = ["--print-capabilities"] + (["--tpm2"] if tpm2 else [])
    p = cli(*args)
    assert p.returncode == 0, f"--print-capabilities exit {p.returncode}: " \
                              f"{err(p)}"
    try:
        caps = json.loads(out(p))
    except ValueError as e:
        pytest.fail(f"--print-capabilities did not print JSON ({e}): "
                    f"{out(p)!r}")
    assert caps.get("type") in ("swtpm", "vtpmd"), \
        f"unexpected \"type\" in {caps}"
    feats = caps.get("features")
    assert isinstance(feats, list), f"no \"features\" list in {caps}"
    for f in ("tpm-1.2", "tpm-2.0"):
        assert f in feats, f"feature {f!r} missing from {feats}"
    assert "version" in caps, f"no \"version\" in {caps}"


@pytest.mark.vtpm_only
def test_version_option_prints_a_version_line():
    # swtpm 0.7.1's `swtpm socket -v` is an invalid option (exit 1).
    p = cli("-v")
    assert p.returncode == 0, f"-v exit {p.returncode}: {err(p)}"
    lines = out(p).strip().splitlines()
    assert lines, "-v printed nothing on stdout"
    assert re.search(r"\d+\.\d+\.\d+", lines[0]), \
        f"-v: first line has no version number: {lines[0]!r}"


@pytest.mark.parametrize("opt", ["-h", "--help"])
def test_help_lists_main_options(opt):
    p = cli(opt)
    assert p.returncode == 0, f"{opt} exit {p.returncode}: {err(p)}"
    text = out(p)
    for o in ("--tpmstate", "--ctrl", "--server", "--flags", "--tpm2",
              "--log", "--pid", "--locality"):
        assert o in text, f"{opt} output does not mention {o}"


def test_unknown_option_exits_1_naming_it():
    p = cli("--no-such-option-xyz")
    assert p.returncode == 1, f"unknown option: exit {p.returncode}, want 1"
    assert "--no-such-option-xyz" in err(p).splitlines()[0], \
        f"first stderr line does not name the option: {err(p)[:300]!r}"


@pytest.mark.vtpm_only
def test_unknown_option_error_is_one_line():
    # swtpm prints the whole usage text (85 lines) after the error.
    p = cli("--no-such-option-xyz")
    assert p.returncode == 1
    lines = [ln for ln in err(p).splitlines() if ln.strip()]
    assert len(lines) == 1, f"want a one-line error, got {len(lines)} " \
                            f"lines: {err(p)[:400]!r}"
    assert "--no-such-option-xyz" in lines[0]
    assert out(p) == "", f"nothing should go to stdout: {out(p)[:200]!r}"


def test_bad_port_number_exits_1(tmp_path):
    p = cli("--tpm2", "--tpmstate", f"dir={tmp_path}",
            "--server", "type=tcp,port=abc")
    assert p.returncode == 1, f"port=abc: exit {p.returncode}, want 1; " \
                              f"stderr {err(p)!r}"
    assert "abc" in err(p), f"error should quote the bad value: {err(p)!r}"


def test_tcp_binds_loopback_by_default(tpm2d):
    for port in (tpm2d.port, tpm2d.ctrl_port):
        addrs = v.tcp_listening_addrs(port)
        assert addrs == [("4", "0100007F")], \
            f"port {port} listens on {addrs}, want only 127.0.0.1"
    # 127.0.0.1 works
    with tpm2d.data_client() as c:
        assert v.parse_response(c.transact(v.tpm2_getrandom(8)))[2] == 0
    # ::1 is refused (when this host has IPv6 loopback at all)
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    with pytest.raises(ConnectionRefusedError):
        v.Data.tcp("::1", tpm2d.port, 2).close()


def test_daemonize_writes_pid_file(pool, tmp_path):
    pidfile = tmp_path / "daemon.pid"
    d = pool.start(extra=["-d", "--pid", f"file={pidfile}"], wait=False)
    pid = None
    try:
        rc = d.wait_exit(10)  # the foreground process returns after forking
        assert rc == 0, f"-d: parent exit code {rc}" + d.diag()
        assert pidfile.exists(), "-d with --pid file=: no pid file" + d.diag()
        text = pidfile.read_text().strip()
        assert text.isdigit(), f"pid file content {text!r}"
        pid = int(text)
        assert pid != d.pid, "pid file holds the parent's pid, not the " \
                             "daemon's"
        assert v.pid_alive(pid), f"daemonized pid {pid} is not running"
        d.wait_listening(10)
        with d.data_client() as c:
            r = c.transact(v.tpm2_getrandom(8))
            assert v.parse_response(r)[2] == 0, f"GetRandom: {r.hex()}"
    finally:
        # the daemonized child is ours: end it by pid, also on failure
        if pid is None and pidfile.exists():
            t = pidfile.read_text().strip()
            pid = int(t) if t.isdigit() else None
        if pid:
            v.kill_pid(pid)
    assert not v.pid_alive(pid), f"daemonized pid {pid} survived SIGTERM"


def test_pid_file_without_daemonize(pool, tmp_path):
    pidfile = tmp_path / "fg.pid"
    d = pool.start(extra=["--pid", f"file={pidfile}"])
    assert pidfile.exists(), "no pid file" + d.diag()
    assert pidfile.read_text().strip() == str(d.pid), \
        f"pid file {pidfile.read_text()!r} != daemon pid {d.pid}"


def test_terminate_when_data_connection_closes(pool):
    d = pool.start(extra=["-t"])
    # a control connection coming and going must not end the daemon
    with d.ctrl_client() as c:
        assert c.get_capability() & v.PTM_CAP_INIT
    time.sleep(0.3)
    assert d.alive(), "-t: daemon ended when a control connection closed" \
        + d.diag()
    with d.data_client() as c:
        r = c.transact(v.tpm2_getrandom(8))
        assert v.parse_response(r)[2] == 0, f"GetRandom: {r.hex()}"
    code = d.wait_exit(10)
    assert code == 0, f"-t: exit code {code} after the data connection " \
                      f"closed" + d.diag()


def test_server_disconnect_closes_after_each_response(pool):
    d = pool.start(server_opts=",disconnect")
    for _ in range(2):
        with d.data_client(timeout=5) as c:
            r = c.transact(v.tpm2_getrandom(8))
            assert v.parse_response(r)[2] == 0, f"GetRandom: {r.hex()}"
            rest = v.recv_all_until_close(c.sock, timeout=5)
            assert rest == b"", f"extra bytes after the response: " \
                                f"{rest.hex()}"
    assert d.alive(), "daemon ended" + d.diag()


def test_print_states_lists_permall_after_a_run(pool, tmp_path):
    state = tmp_path / "st"
    state.mkdir()

    def states():
        p = cli("--print-states", "--tpm2", "--tpmstate", f"dir={state}")
        assert p.returncode == 0, f"--print-states exit {p.returncode}: " \
                                  f"{err(p)}"
        try:
            doc = json.loads(out(p))
        except ValueError as e:
            pytest.fail(f"--print-states did not print JSON ({e}): "
                        f"{out(p)!r}")
        assert doc.get("type") in ("swtpm", "vtpmd"), doc
        assert isinstance(doc.get("states"), list), doc
        return doc["states"]

    assert states() == [], "fresh directory should have no states"
    d = pool.start(state_dir=state)
    with d.data_client() as c:
        assert v.parse_response(c.transact(v.tpm2_getrandom(4)))[2] == 0
    d.shutdown()
    st = states()
    names = [s.get("name") for s in st]
    assert "permall" in names, f"--print-states after a run: {st}"
    perm = st[names.index("permall")]
    assert perm.get("size", 0) > 0, f"permall size: {perm}"


def test_unix_data_and_control_sockets(pool):
    d = pool.start(server="unix", ctrl="unix")
    with d.data_client() as c:
        r = c.transact(v.tpm2_getrandom(16))
        tag, size, rc = v.parse_response(r)
        assert (tag, rc) == (0x8001, 0), f"GetRandom over unix: {r.hex()}"
        assert len(r) == 10 + 2 + 16
    with d.ctrl_client() as c:
        caps = c.get_capability()
        assert caps & 0xffff == 0xffff, f"capabilities {caps:#x}"

