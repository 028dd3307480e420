# SPDX-License-Identifier: BSD-3-Clause
"""The CRB model against QEMU's tpm-crb as the oracle.

One register access script runs twice (see qemu_oracle.py): through qtest
against QEMU 7.2's tpm-crb, and through dev-replay against libvtpm's CRB
model. Every value read must be equal. The TPM commands are deterministic
(TPM2_Startup, TPM2_GetCapability of fixed properties), so the two TPMs
answer alike.

QEMU's tpm-crb has locality 0 only: its MMIO ends at 0xFED40FFF, and
LOC_STATE.activeLocality always reads 0. So the
scripts touch locality 0 only; localities 1-4 (arbitration, Seize,
beenSeized, per-window buffer addresses, resetEstablishmentBit from 3 and
4) are covered by tests/unit/test_crb.c against the PTP alone.

Deliberate differences that QEMU cannot show through qtest, also covered by
the unit tests only (the list in src/device/crb.c has them all): the buffer
wiped when another locality is granted (QEMU has no other locality); buffer
writes dropped, and goIdle / cmdReady deferred, while a command executes
(QEMU's backend answers on another thread, so what a script sees there
depends on timing).
"""
import pytest

from qemu_oracle import assert_same_reads, qemu_with_tpm, replay

STARTUP = bytes.fromhex("80010000000c00000144" "0000")
# TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FAMILY_INDICATOR, 4)
GETCAP = bytes.fromhex("8001000000160000017a" "00000006" "00000100" "00000004")

LOC_STATE, LOC_CTRL, LOC_STS, INTF_ID, CTRL_EXT = 0x00, 0x08, 0x0C, 0x30, 0x38
CTRL_REQ, CTRL_STS, CTRL_CANCEL, CTRL_START = 0x40, 0x44, 0x48, 0x4C
INT_ENABLE, INT_STS, CMD_SIZE, CMD_LADDR, CMD_HADDR = 0x50, 0x54, 0x58, 0x5C, 0x60
RSP_SIZE, RSP_ADDR, BUF = 0x64, 0x68, 0x80
WAIT_DONE = f"# wait {CTRL_START:#x} 0x1 0x0"


def registers():
    """Every register dword below the buffer except INTF_ID's low dword (CapLocality differs)."""
    s = [f"readl {off:#x}" for off in range(0, BUF, 4) if off != INTF_ID]
    s += [f"readb {LOC_STATE + i:#x}" for i in range(4)]
    s += [f"readb {INTF_ID:#x}", f"readw {INTF_ID + 2:#x}", f"readb {INTF_ID + 3:#x}"]
    s += [f"readw {INTF_ID + 4:#x}", f"readw {INTF_ID + 6:#x}", f"readq {RSP_ADDR:#x}"]
    s += [f"readb {CMD_SIZE + 1:#x}", f"readw {CMD_LADDR + 2:#x}", f"readb {CTRL_STS:#x}"]
    return s


def write_buffer(data, width, at=0):
    step = {"b": 1, "w": 2, "l": 4, "q": 8}[width]
    s = []
    for i in range(0, len(data), step):
        chunk = int.from_bytes(data[i:i + step].ljust(step, b"\0"), "little")
        s.append(f"write{width} {BUF + at + i:#x} {chunk:#x}")
    return s


def read_buffer(n, width, at=0):
    step = {"b": 1, "w": 2, "l": 4, "q": 8}[width]
    return [f"read{width} {BUF + at + i:#x}" for i in range(0, n, step)]


def run_command(cmd, width="l"):
    return write_buffer(cmd, width) + [f"writel {CTRL_START:#x} 0x1", WAIT_DONE,
                                       f"readl {CTRL_START:#x}", f"readl {CTRL_STS:#x}"]


def script():
    s = registers()
    # START and LOC_CTRL requests before any locality is assigned are ignored
    s += [f"writel {CTRL_START:#x} 0x1", f"readl {CTRL_START:#x}",
          f"writel {LOC_CTRL:#x} 0x2", f"readl {LOC_STATE:#x}", f"readl {LOC_STS:#x}"]
    # locality 0: request, cmdReady, Startup written byte by byte and read back
    s += [f"writel {LOC_CTRL:#x} 0x1", f"readl {LOC_STATE:#x}", f"readl {LOC_STS:#x}",
          f"readl {LOC_CTRL:#x}"]
    s += [f"writel {CTRL_REQ:#x} 0x1", f"readl {CTRL_REQ:#x}", f"readl {CTRL_STS:#x}"]
    s += write_buffer(STARTUP, "b") + read_buffer(len(STARTUP), "b")
    s += run_command(b"", "b")
    s += read_buffer(16, "b") + read_buffer(16, "l")
    # GetCapability in words; the response in dwords and qwords, remnants of the command after it
    s += run_command(GETCAP, "w")
    s += read_buffer(64, "l") + read_buffer(64, "q") + [f"readw {BUF + 3:#x}"]
    # goIdle and back; the buffer survives Idle
    s += [f"writel {CTRL_REQ:#x} 0x2", f"readl {CTRL_REQ:#x}", f"readl {CTRL_STS:#x}",
          f"readb {CTRL_STS:#x}", *read_buffer(12, "l"),
          f"writeb {CTRL_REQ:#x} 0x1", f"readl {CTRL_STS:#x}"]
    # both requests at once, and reserved bits, are ignored
    s += [f"writel {CTRL_REQ:#x} 0x3", f"readl {CTRL_STS:#x}",
          f"writel {CTRL_REQ:#x} 0x6", f"readl {CTRL_STS:#x}"]
    # a command again, written in qwords; Cancel set and cleared with nothing running
    s += [f"writel {CTRL_CANCEL:#x} 0x1", f"writel {CTRL_CANCEL:#x} 0x0",
          f"readl {CTRL_CANCEL:#x}"]
    s += run_command(GETCAP, "q") + read_buffer(40, "l")
    # a paramSize larger than the buffer: the TPM answers TPM_RC_COMMAND_SIZE, tpmSts stays 0
    big = bytearray(GETCAP)
    big[2:6] = (0x1000).to_bytes(4, "big")
    s += run_command(bytes(big)) + read_buffer(12, "l")
    # relinquish and request again: same locality, the buffer stays
    s += [f"writel {LOC_CTRL:#x} 0x2", f"readl {LOC_STATE:#x}", f"readl {LOC_STS:#x}",
          f"writel {CTRL_START:#x} 0x1", f"readl {CTRL_START:#x}",
          f"writel {LOC_CTRL:#x} 0x1", f"readl {LOC_STATE:#x}", f"readl {LOC_STS:#x}"]
    s += read_buffer(12, "l")
    s += registers()
    return s


@pytest.fixture
def qemu_crb(tmp_path, sockdir):
    with qemu_with_tpm(tmp_path, sockdir, "tpm-crb") as q:
        yield q


def test_crb_registers_match_qemu(qemu_crb, tmp_path):
    lines = script()
    ours_dir = tmp_path / "replay-tpm"
    ours_dir.mkdir()
    ours = replay("crb", lines, ours_dir)
    theirs = qemu_crb.run(lines)
    assert_same_reads(lines, theirs, ours)


GRANT = [f"writel {LOC_CTRL:#x} 0x1", f"writel {CTRL_REQ:#x} 0x1"]
INTF_ID_QEMU = 0x1 | 0x1 << 4 | 0x3 << 11 | 0x1 << 14 | 0x1 << 17

# Where vtpm deliberately differs from QEMU: (what, why, script, QEMU reads, vtpm reads).
# Both sides are asserted, so a change on either is noticed.
DIFFERENCES = [
    ("INTF_ID.CapLocality: all 5 localities",
     "PTP CRB TPM_CRB_INTF_ID_x.CapLocality: 1 when the TPM supports localities 0-4; "
     "QEMU has locality 0 only",
     [f"readl {INTF_ID:#x}", f"readb {INTF_ID + 1:#x}"],
     [INTF_ID_QEMU, INTF_ID_QEMU >> 8 & 0xFF],
     [INTF_ID_QEMU | 0x100, (INTF_ID_QEMU >> 8 & 0xFF) | 1]),
    ("CTRL_CANCEL keeps the Cancel bit until software clears it",
     "PTP CRB TPM_CRB_CTRL_CANCEL_x is read/write: software clears Cancel before the "
     "next Start (Linux tpm_crb reads it back to see a cancelled command)",
     [*GRANT, f"writel {CTRL_CANCEL:#x} 0x1", f"readl {CTRL_CANCEL:#x}"], [0], [1]),
    ("INT_ENABLE keeps what is written",
     "PTP CRB TPM_CRB_INT_ENABLE_x is read/write (GlobalEnable, LocChanged, "
     "EstablishmentClear, CmdReady, Start)",
     [*GRANT, f"writel {INT_ENABLE:#x} 0x8000000f", f"readl {INT_ENABLE:#x}"],
     [0], [0x8000000F]),
    ("the data buffer belongs to the active locality",
     "PTP CRB: the buffer of locality x is for the locality that was granted access; "
     "without a grant it reads all ones and writes are dropped",
     [f"writel {BUF:#x} 0x12345678", f"readl {BUF:#x}", *GRANT, f"readl {BUF:#x}"],
     [0x12345678, 0x12345678], [0xFFFFFFFF, 0]),
    ("the control area belongs to the active locality",
     "PTP CRB: only the locality granted access may drive TPM_CRB_CTRL_REQ_x",
     [f"writel {CTRL_REQ:#x} 0x1", f"readl {CTRL_STS:#x}"], [0], [2]),
    ("a command shorter than its header sets tpmSts (fatal error)",
     "PTP CRB TPM_CRB_CTRL_STS_x.tpmSts: the TPM cannot run the command; QEMU sends the "
     "bytes and shows the TPM's TPM_RC_COMMAND_SIZE with tpmSts clear",
     [*GRANT, *write_buffer(bytes.fromhex("800100000006"), "b"), f"writel {CTRL_START:#x} 0x1",
      WAIT_DONE, f"readl {CTRL_STS:#x}", f"readl {BUF + 6:#x}"],
     [0, 0x42010000], [1, 0x01010000]),
]


@pytest.mark.parametrize("case", DIFFERENCES, ids=lambda c: c[0][:40])
def test_deliberate_differences_from_qemu(qemu_crb, tmp_path, case):
    what, why, lines, want_qemu, want_vtpm = case
    d = tmp_path / "replay-tpm"
    d.mkdir()
    assert qemu_crb.run(lines) == want_qemu, f"QEMU changed: {what}"
    assert replay("crb", lines, d) == want_vtpm, f"vtpm: {what} ({why})"
