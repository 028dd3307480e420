# SPDX-License-Identifier: BSD-3-Clause
"""The TIS model against QEMU's tpm-tis as the oracle.

One register access script runs twice (see qemu_oracle.py): through qtest
against QEMU 7.2's tpm-tis, and through dev-replay against libvtpm's TIS
model. Every value read must be equal. The TPM commands are deterministic
(TPM2_Startup, TPM2_GetCapability of fixed properties), so the two TPMs
answer alike.
"""
import pytest

from qemu_oracle import assert_same_reads, qemu_with_tpm, replay

STARTUP = bytes.fromhex("80010000000c00000144" "0000")
# TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FAMILY_INDICATOR, 4)
GETCAP = bytes.fromhex("8001000000160000017a" "00000006" "00000100" "00000004")

ACCESS, INT_ENABLE, INT_VECTOR, INT_STATUS, INTF_CAP, STS = 0x0, 0x8, 0xC, 0x10, 0x14, 0x18
FIFO, IFACE_ID, XFIFO, DID_VID, RID = 0x24, 0x30, 0x80, 0xF00, 0xF04
WAIT_DATA = f"# wait {STS:#x} 0x90 0x90"  # stsValid | dataAvail


def loc(l, reg):
    return l << 12 | reg


def idle_state():
    s = []
    for l in range(5):
        for reg in (ACCESS, INT_ENABLE, INT_VECTOR, INT_STATUS, INTF_CAP, STS, IFACE_ID,
                    DID_VID, RID):
            s.append(f"readl {loc(l, reg):#x}")
        s.append(f"readb {loc(l, FIFO):#x}")
    return s


def send(l, cmd, check_each_byte=True):
    s = []
    for b in cmd:
        s.append(f"writeb {loc(l, FIFO):#x} {b:#x}")
        if check_each_byte:
            s.append(f"readl {loc(l, STS):#x}")
            s.append(f"readb {loc(l, STS) + 1:#x}")
    return s


def read_response(l, n, width="b"):
    step = {"b": 1, "w": 2, "l": 4}[width]
    s = []
    for i in range(0, n, step):
        s.append(f"readl {loc(l, STS):#x}")
        s.append(f"read{width} {loc(l, FIFO):#x}")
    return s


def script():
    s = idle_state()
    # locality 0: request, commandReady, Startup byte by byte, tpmGo while
    # Expect is set, tpmGo, response byte by byte, reads with no data
    s += [f"writeb {loc(0, ACCESS):#x} 0x2", f"readb {loc(0, ACCESS):#x}",
          f"readl {loc(0, STS):#x}", f"readb {loc(0, FIFO):#x}",
          f"writeb {loc(0, STS):#x} 0x40", f"readl {loc(0, STS):#x}",
          f"readw {loc(0, STS) + 2:#x}", f"readb {loc(0, FIFO):#x}"]
    s += send(0, STARTUP[:-1])
    s += [f"writeb {loc(0, STS):#x} 0x20", f"readl {loc(0, STS):#x}"]
    s += send(0, STARTUP[-1:])
    s += [f"writeb {loc(0, STS):#x} 0x20", WAIT_DATA]
    s += read_response(0, 10)
    s += [f"readl {loc(0, STS):#x}", f"readb {loc(0, FIFO):#x}", f"readl {loc(0, FIFO):#x}"]
    # responseRetry, then the response again in 4-byte reads
    s += [f"writeb {loc(0, STS):#x} 0x2", f"readl {loc(0, STS):#x}"]
    s += read_response(0, 12, "l")
    # abort by commandReady mid-reception; a whole GetCapability in dwords
    s += [f"writeb {loc(0, STS):#x} 0x40", f"readl {loc(0, STS):#x}"]
    s += send(0, GETCAP[:7])
    s += [f"writeb {loc(0, STS):#x} 0x40", f"readl {loc(0, STS):#x}"]
    for i in range(0, len(GETCAP), 2):
        word = int.from_bytes(GETCAP[i:i + 2], "little")
        s += [f"writew {loc(0, FIFO):#x} {word:#x}", f"readl {loc(0, STS):#x}"]
    s += [f"writeb {loc(0, STS):#x} 0x20", WAIT_DATA, f"readl {loc(0, STS):#x}"]
    s += read_response(0, 10)
    s += [f"readw {loc(0, STS) + 2:#x}"]
    # the rest of the GetCapability response through XDATA_FIFO, dword by dword
    for i in range(0, 40, 4):
        s += [f"readl {loc(0, XFIFO) + (i % 64):#x}", f"readl {loc(0, STS):#x}"]
    # abort by commandReady mid-execution: Ready with commandReady once the TPM is done
    s += [f"writeb {loc(0, STS):#x} 0x40"]
    s += send(0, GETCAP, check_each_byte=False)
    s += [f"writeb {loc(0, STS):#x} 0x20", f"writeb {loc(0, STS):#x} 0x40",
          f"# wait {STS:#x} 0xd0 0x40", f"readl {loc(0, STS):#x}", f"readb {loc(0, FIFO):#x}"]
    # localities: request from 2 (pending), relinquish 0, seize by 3
    s += [f"writeb {loc(2, ACCESS):#x} 0x2"]
    s += [f"readb {loc(l, ACCESS):#x}" for l in range(5)]
    s += [f"writeb {loc(0, ACCESS):#x} 0x20"]
    s += [f"readb {loc(l, ACCESS):#x}" for l in range(5)]
    s += [f"readl {loc(0, STS):#x}", f"readl {loc(2, STS):#x}", f"readl {loc(0, FIFO):#x}"]
    # writes of a non-active locality change nothing
    s += [f"writeb {loc(1, STS):#x} 0x40", f"writel {loc(1, INT_ENABLE):#x} 0x8000008f",
          f"readl {loc(1, INT_ENABLE):#x}", f"readl {loc(2, STS):#x}"]
    s += [f"writeb {loc(1, ACCESS):#x} 0x8"]  # lower locality: Seize refused
    s += [f"readb {loc(l, ACCESS):#x}" for l in range(5)]
    s += [f"writeb {loc(3, ACCESS):#x} 0x8"]
    s += [f"readb {loc(l, ACCESS):#x}" for l in range(5)]
    s += [f"writeb {loc(2, ACCESS):#x} 0x10", f"readb {loc(2, ACCESS):#x}"]
    # a command at locality 3
    s += [f"writeb {loc(3, STS):#x} 0x40", f"readl {loc(3, STS):#x}"]
    s += send(3, GETCAP, check_each_byte=False)
    s += [f"readl {loc(3, STS):#x}", f"writeb {loc(3, STS):#x} 0x20", WAIT_DATA.replace(
        f"{STS:#x}", f"{loc(3, STS):#x}")]
    s += read_response(3, 40, "l")
    s += [f"readl {loc(3, STS):#x}"]
    # byte-wide reads of the identity registers
    s += [f"readb {loc(3, DID_VID) + i:#x}" for i in range(4)]
    s += [f"readw {loc(4, INTF_CAP) + 2:#x}", f"readb {loc(4, RID):#x}"]
    return s


@pytest.fixture
def qemu_tis(tmp_path, sockdir):
    with qemu_with_tpm(tmp_path, sockdir, "tpm-tis") as q:
        yield q


def test_tis_registers_match_qemu(qemu_tis, tmp_path):
    lines = script()
    ours_dir = tmp_path / "replay-tpm"
    ours_dir.mkdir()
    ours = replay("tis", lines, ours_dir)
    theirs = qemu_tis.run(lines)
    assert_same_reads(lines, theirs, ours)


def interrupt_script():
    """Interrupts enabled at locality 0: commandReady, dataAvail + stsValid, localityChange,
    each raised, read in INT_STATUS and cleared by writing 1s back (TIS 1.3 §5.6.2)."""
    s = [f"writeb {loc(0, ACCESS):#x} 0x2",
         f"writel {loc(0, INT_ENABLE):#x} 0x80000087", f"readl {loc(0, INT_ENABLE):#x}",
         f"readl {loc(0, INT_STATUS):#x}",
         f"writeb {loc(0, STS):#x} 0x40", f"readl {loc(0, INT_STATUS):#x}",
         f"writel {loc(0, INT_STATUS):#x} 0x80", f"readl {loc(0, INT_STATUS):#x}"]
    s += send(0, STARTUP, check_each_byte=False)
    s += [f"writeb {loc(0, STS):#x} 0x20", WAIT_DATA, f"readl {loc(0, INT_STATUS):#x}",
          f"writel {loc(0, INT_STATUS):#x} 0x1", f"readl {loc(0, INT_STATUS):#x}",
          f"writel {loc(0, INT_STATUS):#x} 0x2", f"readl {loc(0, INT_STATUS):#x}"]
    s += read_response(0, 10)
    s += [f"writeb {loc(0, STS):#x} 0x40", f"readl {loc(0, INT_STATUS):#x}",
          f"writel {loc(0, INT_STATUS):#x} 0xff", f"readl {loc(0, INT_STATUS):#x}"]
    # relinquish and request again: localityChange
    s += [f"writeb {loc(0, ACCESS):#x} 0x20", f"writeb {loc(0, ACCESS):#x} 0x2",
          f"readb {loc(0, ACCESS):#x}", f"readl {loc(0, INT_STATUS):#x}",
          f"writel {loc(0, INT_STATUS):#x} 0x4", f"readl {loc(0, INT_STATUS):#x}"]
    # globalIntEnable off: nothing more is raised
    s += [f"writel {loc(0, INT_ENABLE):#x} 0x87", f"writeb {loc(0, STS):#x} 0x40",
          f"readl {loc(0, INT_STATUS):#x}"]
    return s


def test_tis_interrupts_match_qemu(qemu_tis, tmp_path):
    lines = interrupt_script()
    ours_dir = tmp_path / "replay-tpm"
    ours_dir.mkdir()
    log = tmp_path / "irq.log"
    ours = replay("tis", lines, ours_dir, irq_log=log)
    qemu_tis.intercept_irqs()
    theirs = qemu_tis.run(lines)
    assert_same_reads(lines, theirs, ours)
    our_irqs = log.read_text().split()
    assert theirs.count(0) < len(theirs), "no interrupt status was ever read as set"
    assert qemu_tis.irqs == our_irqs, f"interrupt line: QEMU {qemu_tis.irqs}, vtpm {our_irqs}"
    assert our_irqs.count("raise") >= 3, our_irqs


# Where vtpm deliberately differs from QEMU: (what, why, script, QEMU reads, vtpm reads).
# Both sides are asserted, so a change on either is noticed.
DIFFERENCES = [
    ("a response survives relinquish and is handed out again on the next grant",
     "TIS 1.3 TPM_ACCESS_x: giving up the locality aborts its command; a response left "
     "in the shared buffer must not reach the next owner",
     ["writeb 0x0 0x2", "writeb 0x18 0x40", *send(0, STARTUP, False), "writeb 0x18 0x20",
      WAIT_DATA, "writeb 0x0 0x20", "writeb 0x0 0x2", "readl 0x18", "readb 0x24"],
     [0x04000A90, 0x80], [0x04100000, 0xFF]),
    ("bytes written past paramSize in the same access join the command",
     "TIS 1.3 §5.6.2: Expect clears when the last byte of the command arrives; later "
     "bytes are not part of it",
     ["writeb 0x0 0x2", "writeb 0x18 0x40", *send(0, STARTUP[:10], False),
      "writel 0x24 0xbbaa0000", "readl 0x18", "writeb 0x18 0x40"],
     [0x04000000 | (4096 - 14) << 8 | 0x80], [0x04000000 | (4096 - 12) << 8 | 0x80]),
]


@pytest.mark.parametrize("case", DIFFERENCES, ids=lambda c: c[0][:40])
def test_deliberate_differences_from_qemu(qemu_tis, tmp_path, case):
    what, why, lines, want_qemu, want_vtpm = case
    d = tmp_path / "replay-tpm"
    d.mkdir()
    assert qemu_tis.run(lines) == want_qemu, f"QEMU changed: {what}"
    assert replay("tis", lines, d) == want_vtpm, f"vtpm: {what} ({why})"
