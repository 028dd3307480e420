# SPDX-License-Identifier: BSD-3-Clause
"""The vtpm tool's ctl and info subcommands against a running daemon: ctl
prints what swtpm_ioctl prints, info attaches the way QEMU does (SET_DATAFD)
and reads live facts."""

import os

import pytest

import vtpmlib as v

VTPM = os.environ.get("VTPM") or str(v.REPO / "build" / "tools" / "vtpm" / "vtpm")


@pytest.fixture(autouse=True)
def _need_tools():
    if not (os.path.isfile(VTPM) and os.access(VTPM, os.X_OK)):
        pytest.fail(f"vtpm not built: {VTPM} (ninja -C build, or set VTPM)", pytrace=False)
    v.require_tool("swtpm_ioctl")


def vtpm(*args, check=True):
    return v.run([VTPM, *args], check=check, timeout=30)


@pytest.mark.parametrize("ctrl", ["unix", "tcp"])
@pytest.mark.parametrize("step", [["-c"], ["-e"], ["-g"], ["-b", "0"], ["--info", "1"]])
def test_ctl_prints_what_swtpm_ioctl_prints(pool, ctrl, step):
    d = pool.start(ctrl=ctrl)
    ours = vtpm("ctl", *d.ioctl_target(), *step, check=False)
    ref = v.swtpm_ioctl(d, *step, check=False)
    got = ours.stdout
    if step == ["-c"]:
        # vtpm ctl -c adds the decoded capability names after swtpm_ioctl's line.
        first, _, names = got.partition(b"\n")
        mask = int(first.rsplit(b"0x", 1)[1], 16)
        assert b"SET_DATAFD" in names, got
        assert len(names.splitlines()) == bin(mask).count("1"), got
        got = first + b"\n"
    assert (ours.returncode, got) == (ref.returncode, ref.stdout), \
        f"vtpm ctl {' '.join(step)}: {ours.stdout!r} / swtpm_ioctl: {ref.stdout!r}"


def test_info_attaches_like_qemu_and_reads_facts(pool):
    # Only a unix control socket, no data server: commands must go through SET_DATAFD.
    d = pool.start(server=None, ctrl="unix", flags=None)
    out = vtpm("info", "--unix", d.ctrl_path, "--init").stdout.decode()
    facts = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    facts = {k.strip(): val.strip() for k, val in facts.items()}
    assert facts["TPM family"] == "2.0", out
    assert facts["manufacturer"] == "IBM", out
    assert facts["firmware version"] == "0x20191023.0x00163636", out
    assert facts["PCR 0 (sha256)"] == "0" * 64, out
    assert facts["running"].startswith("no; started by --init"), out
    # A second attach finds it running and leaves it alone.
    again = vtpm("info", "--unix", d.ctrl_path).stdout.decode()
    assert "running:           yes" in again, again


def test_info_without_init_on_a_stopped_tpm_says_so(pool):
    d = pool.start(server=None, ctrl="unix", flags=None)
    p = vtpm("info", "--unix", d.ctrl_path, check=False)
    assert p.returncode == 1
    assert b"--init" in p.stdout + p.stderr, p


def test_ctl_shutdown_ends_the_daemon(pool):
    d = pool.start(ctrl="unix")
    vtpm("ctl", "--unix", d.ctrl_path, "-s")
    assert d.wait_exit(10) == 0
