# SPDX-License-Identifier: BSD-3-Clause
"""TPM 1.2: raw commands, and TrouSerS' tcsd + tpm-tools over TCP.

tcsd (Debian's trousers 0.3.15) uses the TCP device only with -e and
TCSD_TCP_DEVICE_HOSTNAME/PORT; its config must be owned root:tss, mode 0640.
tpm-tools find tcsd through TSS_TCSD_PORT (default 30003)."""

import grp
import os
import subprocess
import time

import pytest

import vtpmlib as v


def raw(d, cmd):
    with d.data_client() as c:
        return c.transact(cmd)


def rc12(resp):
    tag, size, rc = v.parse_response(resp)
    assert tag == v.TPM_TAG_RSP_COMMAND, f"not a TPM 1.2 response: " \
                                         f"{resp.hex()}"
    return rc


def test_before_startup_invalid_postinit(pool):
    d = pool.start(tpm2=False, flags="not-need-init")
    for cmd in (v.tpm12_getrandom(4), v.tpm12_getcap_version()):
        r = raw(d, cmd)
        assert r == bytes.fromhex("00c40000000a00000026"), \
            f"before TPM_Startup: {r.hex()} (want TPM_INVALID_POSTINIT)"
    assert rc12(raw(d, v.tpm12_startup())) == 0
    r = raw(d, v.tpm12_startup())
    assert r == bytes.fromhex("00c40000000a00000026"), \
        f"second TPM_Startup: {r.hex()}"
    r = raw(d, v.tpm12_getrandom(4))
    assert rc12(r) == 0 and len(r) == 10 + 4 + 4, r.hex()


def test_startup_clear_flag_starts_the_tpm(pool):
    d = pool.start(tpm2=False, flags="not-need-init,startup-clear")
    r = raw(d, v.tpm12_getcap_version())
    assert rc12(r) == 0, r.hex()
    assert b"IBM" in r, f"TPM_CAP_VERSION_VAL without IBM: {r.hex()}"
    assert rc12(raw(d, v.tpm12_startup())) == v.TPM_INVALID_POSTINIT


def test_tpm2_command_to_tpm12_is_bad_ordinal(pool):
    d = pool.start(tpm2=False)
    r = raw(d, v.tpm2_getrandom(4))
    assert r == bytes.fromhex("00c40000000a0000000a"), r.hex()


# ------------------------------------------------------------ TrouSerS

@pytest.fixture
def tcsd(pool, tmp_path):
    """(daemon, env for tpm-tools): a TPM 1.2 daemon with tcsd in front."""
    v.require_tool("tcsd")
    v.require_tool("tpm_version")
    if os.geteuid() != 0:
        pytest.skip("tcsd needs a config file owned by root:tss (run as root)")
    try:
        tss = grp.getgrnam("tss").gr_gid
    except KeyError:
        pytest.fail("group 'tss' does not exist: is trousers installed?")

    d = pool.start(tpm2=False, flags="not-need-init,startup-clear")
    port = v.free_port_pair()
    tdir = tmp_path / "tcsd"
    data = tdir / "data"
    data.mkdir(parents=True)
    os.chmod(data, 0o700)
    conf = tdir / "tcsd.conf"
    conf.write_text(f"port = {port}\n"
                    f"system_ps_file = {data}/system.data\n")
    os.chown(conf, 0, tss)
    os.chmod(conf, 0o640)
    out = open(tdir / "tcsd.out", "wb")
    env = dict(os.environ, TCSD_TCP_DEVICE_HOSTNAME="127.0.0.1",
               TCSD_TCP_DEVICE_PORT=str(d.port))
    proc = subprocess.Popen(["tcsd", "-f", "-e", "-c", str(conf)], env=env,
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)
    pool.adopt_proc(proc)
    try:
        end = time.monotonic() + 15
        while not v.tcp_listening_addrs(port):
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f"tcsd did not come up (exit {proc.poll()}): "
                            f"{v.read_text(tdir / 'tcsd.out')}" + d.diag())
            time.sleep(0.05)
        yield d, {"TSS_TCSD_PORT": str(port),
                  "TSS_TCSD_HOSTNAME": "127.0.0.1"}
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        out.close()


def tool(env, *argv, check=True):
    return v.run(list(argv), env=env, check=check, timeout=60)


def test_trousers_version_createek_takeownership(tcsd):
    d, env = tcsd
    p = tool(env, "tpm_version")
    text = p.stdout.decode(errors="replace")
    assert "TPM 1.2 Version Info" in text, text
    assert "IBM" in text, f"vendor is not IBM: {text}"

    # without an endorsement key, take-ownership must fail
    p = tool(env, "tpm_takeownership", "-y", "-z", check=False)
    assert p.returncode != 0, "tpm_takeownership succeeded without an EK"

    tool(env, "tpm_createek")
    tool(env, "tpm_takeownership", "-y", "-z")
    assert d.alive(), "daemon died under tcsd" + d.diag()
