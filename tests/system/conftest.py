# SPDX-License-Identifier: BSD-3-Clause
import os
import shutil
import tempfile

import pytest

import vtpmlib as v


def pytest_configure(config):
    if not (os.path.isfile(v.DAEMON) and os.access(v.DAEMON, os.X_OK)):
        raise pytest.UsageError(
            f"daemon under test not found or not executable: {v.DAEMON}\n"
            f"  build it first (meson setup build && ninja -C build), or set "
            f"VTPMD=/path/to/vtpmd, or VTPMD=swtpm to test the reference "
            f"swtpm instead.")


def pytest_report_header(config):
    kind = "swtpm (reference)" if v.IS_SWTPM else "vtpmd"
    return f"daemon under test: {v.DAEMON} [{kind}]"


def pytest_collection_modifyitems(config, items):
    if not v.IS_SWTPM or os.environ.get("VTPM_RUN_VTPM_ONLY"):
        return
    skip = pytest.mark.skip(
        reason="vtpm_only: vtpmd deliberately does better than swtpm here")
    for item in items:
        if "vtpm_only" in item.keywords:
            item.add_marker(skip)


class DaemonPool:
    """Starts daemons for one test and kills every one of them by pid."""

    def __init__(self, tmp_path, sockdir):
        self.tmp_path = tmp_path
        self.sockdir = sockdir
        self.daemons = []
        self.pids = []
        self.procs = []

    def make(self, start=True, **kw):
        kw.setdefault("workdir", self.tmp_path)
        kw.setdefault("sockdir", self.sockdir)
        kw.setdefault("name", f"d{len(self.daemons)}")
        d = v.Daemon(**kw)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def start(self, **kw):
        return self.make(start=True, **kw)

    def adopt_pid(self, pid):
        """A process the test caused to exist (e.g. a daemonized child)."""
        self.pids.append(pid)

    def adopt_proc(self, proc):
        self.procs.append(proc)

    def cleanup(self):
        for d in self.daemons:
            try:
                d.stop()
            except Exception:
                pass
        for pid in self.pids:
            v.kill_pid(pid)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except Exception:
                    p.kill()
                    p.wait(5)


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix="vtpm-", dir="/tmp")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pool(tmp_path, sockdir):
    p = DaemonPool(tmp_path, sockdir)
    try:
        yield p
    finally:
        p.cleanup()


@pytest.fixture
def tpm2d(pool):
    """A running TPM 2.0 daemon, TCP data port P and control port P+1,
    started with --flags not-need-init,startup-clear."""
    return pool.start()

