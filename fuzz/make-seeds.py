#!/usr/bin/python3
"""Regenerates fuzz/corpus/ from real peers: what tpm2-tools and swtpm_ioctl
send to swtpm 0.7.1 (recorded by a relay between them), the state blobs
swtpm writes and hands out (plain, encrypted, TPM 1.2), and journal slots
vtpmd leaves behind when it is killed. Needs the Debian packages of
scripts/install-deps.sh and a built vtpmd (make build).

Usage: fuzz/make-seeds.py [--vtpmd build/tools/vtpmd/vtpmd]
"""
import argparse
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(TOP, "fuzz", "corpus")


def free_port_pair():
    """Two consecutive free ports (swtpm's TCTI needs ctrl = data + 1)."""
    for base in range(42000, 43000, 2):
        ok = True
        for p in (base, base + 1):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return base
    raise RuntimeError("no free port pair")


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Relay:
    """Forwards 127.0.0.1:listen to 127.0.0.1:target and keeps, per
    connection, the bytes the client sent."""

    def __init__(self, listen, target):
        self.target = target
        self.sessions = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen))
        self.sock.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            sent = bytearray()
            self.sessions.append(sent)
            threading.Thread(target=self._pump, args=(client, server, sent), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    @staticmethod
    def _pump(src, dst, record):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if record is not None:
                    record.extend(b)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def take(self):
        time.sleep(0.2)
        out = [bytes(s) for s in self.sessions if s]
        self.sessions.clear()
        return out


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def split_commands(stream):
    """TPM commands back to back -> list of commands."""
    out, pos = [], 0
    while pos + 10 <= len(stream):
        size = struct.unpack(">I", stream[pos + 2:pos + 6])[0]
        if size < 10:
            break
        out.append(stream[pos:pos + size])
        pos += size
    return out


def start(cmd, **kw):
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(cmd, env=None, stdin=None):
    subprocess.run(cmd, env=env, input=stdin, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60, check=False)


def record_tpm2(work):
    """tpm2-tools and swtpm_ioctl against swtpm --tpm2, through relays."""
    state = os.path.join(work, "tpm2")
    os.makedirs(state)
    real = free_port_pair()
    proc = start(["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={state}",
                  "--server", f"type=tcp,port={real}", "--ctrl", f"type=tcp,port={real + 1}",
                  "--flags", "not-need-init,startup-clear"])
    wait_port(real + 1)
    wait_port(real)
    port = free_port_pair()
    data, ctrl = Relay(port, real), Relay(port + 1, real + 1)
    env = dict(os.environ, TPM2TOOLS_TCTI=f"swtpm:host=127.0.0.1,port={port}")
    t2 = [
        ("getrandom", ["tpm2_getrandom", "--hex", "16"]),
        ("pcrread", ["tpm2_pcrread", "sha256:0,1,2"]),
        ("pcrextend", ["tpm2_pcrextend", "0:sha256=" + "11" * 32]),
        ("getcap", ["tpm2_getcap", "properties-fixed"]),
        ("nvdefine", ["tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "32", "-a",
                      "ownerread|ownerwrite"]),
        ("nvwrite", ["tpm2_nvwrite", "0x1500016", "-C", "o", "-i", "-"]),
        ("nvread", ["tpm2_nvread", "0x1500016", "-C", "o", "-s", "32"]),
        ("createprimary", ["tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc",
                           "-c", os.path.join(work, "primary.ctx")]),
        ("selftest", ["tpm2_selftest", "--fulltest"]),
    ]
    tpm2_cmds = []
    for name, cmd in t2:
        run(cmd, env=env, stdin=b"0123456789abcdef0123456789abcdef" if name == "nvwrite" else None)
        for i, s in enumerate(data.take()):
            tpm2_cmds.extend(split_commands(s))
            # config: TPM 2.0, largest command 4096; chunk seed; whole reads
            write("framing", f"tpm2-{name}-{i}", bytes([0x0F, 0x12, 0x34, 0x03]) + s)
        ctrl.take()  # libtss2 sends SET_LOCALITY each time; kept from the ioctl runs below

    ioctl = [
        ("get-capability", ["-c"]),
        ("get-tpmestablished", ["-e"]),
        ("set-locality", ["-l", "3"]),
        ("reset-tpmestablished", ["-r", "3"]),
        ("set-locality-0", ["-l", "0"]),
        ("get-config", ["-g"]),
        ("get-info", ["--info", "1"]),
        ("set-buffersize", ["-b", "4096"]),
        ("hash", ["-h", "hello, vtpm"]),
        ("cancel", ["-C"]),
        ("store-volatile", ["-v"]),
        ("save-permanent", ["--save", "permanent", os.path.join(work, "mig-permanent")]),
        ("save-volatile", ["--save", "volatile", os.path.join(work, "mig-volatile")]),
        ("stop", ["--stop"]),
        ("load-permanent", ["--load", "permanent", os.path.join(work, "mig-permanent")]),
        ("init", ["-i"]),
        ("shutdown", ["-s"]),
    ]
    stream = b""
    for name, args in ioctl:
        run(["swtpm_ioctl", "--tcp", f"127.0.0.1:{port + 1}"] + args)
        got = ctrl.take()
        for i, s in enumerate(got):
            write("ctrl", f"{name}" + (f"-{i}" if i else ""), s)
            stream += s
    write("ctrl", "all-in-one-stream", stream)
    stop(proc)

    for f in ("mig-permanent", "mig-volatile"):
        if os.path.exists(os.path.join(work, f)):
            shutil.copy(os.path.join(work, f), os.path.join(CORPUS, "blob", "swtpm2-" + f))
    for f in os.listdir(state):
        if f.startswith("tpm2-"):
            shutil.copy(os.path.join(state, f), os.path.join(CORPUS, "blob", "swtpm2-" + f))
    return tpm2_cmds


def framing_variants(cmds):
    """The same commands with the TCG send-command prefix, and TPM 1.2 commands."""
    # A client that keeps its connection: every command on one stream, read in small pieces.
    write("framing", "tpm2-all-one-connection", bytes([0x0F, 0x42, 0x42, 0x11]) + b"".join(cmds))
    pre = b"".join(struct.pack(">IBI", 8, 0, len(c)) + c for c in cmds[:6])
    write("framing", "tpm2-prefixed", bytes([0x0F, 0x00, 0x07, 0x02]) + pre)
    loc3 = b"".join(struct.pack(">IBI", 8, 3, len(c)) + c for c in cmds[:2])
    write("framing", "tpm2-prefixed-locality3-bytewise", bytes([0x0F, 0, 1, 0x00]) + loc3)
    write("framing", "tpm2-mixed-small-max", bytes([0x09, 0x55, 0xAA, 0x21]) +
          b"".join(cmds[:4]) + pre[:40])
    # TPM 1.2 Main Part 3: TPM_Startup(ST_CLEAR), TPM_GetCapability(TPM_CAP_VERSION_VAL),
    # TPM_PCRRead(0), TPM_GetRandom(16)
    t12 = [
        bytes.fromhex("00c10000000c000000990001"),
        bytes.fromhex("00c10000001200000065000000" + "1a00000000"),
        bytes.fromhex("00c10000000e0000001500000000"),
        bytes.fromhex("00c10000000e0000004600000010"),
    ]
    write("framing", "tpm12-commands", bytes([0x0E, 0x31, 0x41, 0x01]) + b"".join(t12))


def blobs_tpm12_and_encrypted(work):
    """TPM 1.2 state, and state encrypted with a file key and a migration key."""
    key = os.path.join(work, "key")
    with open(key, "w") as f:
        f.write("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n")
    for name, extra in (("tpm12", []),
                        ("tpm2-enc", ["--tpm2", "--key", f"file={key},format=hex,mode=aes-256-cbc",
                                      "--migration-key",
                                      f"file={key},format=hex,mode=aes-256-cbc"])):
        state = os.path.join(work, name)
        os.makedirs(state)
        real = free_port_pair()
        proc = start(["swtpm", "socket", "--tpmstate", f"dir={state}",
                      "--server", f"type=tcp,port={real}",
                      "--ctrl", f"type=tcp,port={real + 1}",
                      "--flags", "not-need-init,startup-clear"] + extra)
        wait_port(real + 1)
        out = os.path.join(work, name + "-mig-permanent")
        run(["swtpm_ioctl", "--tcp", f"127.0.0.1:{real + 1}", "--save", "permanent", out])
        run(["swtpm_ioctl", "--tcp", f"127.0.0.1:{real + 1}", "-s"])
        stop(proc)
        if os.path.exists(out):
            shutil.copy(out, os.path.join(CORPUS, "blob", f"swtpm-{name}-mig-permanent"))
        for f in os.listdir(state):
            if f.endswith("permall"):
                shutil.copy(os.path.join(state, f), os.path.join(CORPUS, "blob", f"swtpm-{name}-{f}"))


def journal_slots(work, vtpmd):
    """Kill vtpmd -9 after NV writes: the journal it leaves holds real slots."""
    state = os.path.join(work, "vtpmd")
    os.makedirs(state)
    port = free_port_pair()
    proc = start([vtpmd, "socket", "--tpm2", "--tpmstate", f"dir={state}",
                  "--server", f"type=tcp,port={port}", "--ctrl", f"type=tcp,port={port + 1}",
                  "--flags", "not-need-init,startup-clear"])
    wait_port(port + 1)
    env = dict(os.environ, TPM2TOOLS_TCTI=f"swtpm:host=127.0.0.1,port={port}")
    run(["tpm2_nvdefine", "0x1500020", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=counter"],
        env=env)
    for _ in range(3):
        run(["tpm2_nvincrement", "0x1500020", "-C", "o"], env=env)
    proc.kill()
    proc.wait()
    n = 0
    for f in os.listdir(state):
        if f.endswith(".journal"):
            blob = open(os.path.join(state, f), "rb").read()
            half = len(blob) // 2
            for i, slot in enumerate((blob[:half], blob[half:])):
                # Trailing zeros are slack; keep the slot whole so its size field matches.
                write("journal", f"vtpmd-slot{i}", slot)
                n += 1
    return n


def synthetic_journal_slots():
    """Small slots in the format of src/state/journal.c, written independently."""
    def slot(seq, ino, data, slack):
        size = 64 + len(data) + slack
        hdr = b"VTPMJNL1" + struct.pack(">QQII", seq, ino, len(data), size)
        return hdr + hashlib.sha256(hdr + data).digest() + data + b"\0" * slack
    write("journal", "small-slot", slot(7, 1234567, b"libtpms state bytes", 13))
    write("journal", "empty-slot", slot(1, 0, b"", 0))
    write("journal", "seq0-slot", slot(0, 42, b"never written", 3))
    # [seq][ino][slack][data]: the save side of the target
    write("journal", "version-to-save", struct.pack(">QQB", 3, 99, 40) + b"\x00\x01" * 30)


def hand_made_blobs():
    data = bytes(range(48))
    tlv = lambda tag, v: struct.pack(">HI", tag, len(v)) + v
    hdr = lambda ver, flags, body: struct.pack(">BBHHI", ver, 1, 10, flags, 10 + len(body)) + body
    write("blob", "v1-header-raw", hdr(1, 0, data))
    write("blob", "headerless", b"\x00\x01" + data)
    write("blob", "v2-data-then-hmac", hdr(2, 0, tlv(1, data) + tlv(3, b"\xaa" * 32)))
    write("blob", "v2-migration-nested", hdr(2, 4, tlv(4, tlv(1, data))))
    write("blob", "v2-bare-header", hdr(2, 4, b""))


def optstr_seeds():
    # Option strings of swtpm(8) and libvirt's swtpm command lines.
    seeds = {
        "tpmstate": "dir=/var/lib/libvirt/swtpm/1f0e/tpm2,mode=0600",
        "tpmstate-backend": "backend-uri=dir:///var/lib/swtpm,lock",
        "server-tcp": "type=tcp,port=2321,bindaddr=127.0.0.1,disconnect",
        "server-unix": "type=unixio,path=/run/libvirt/qemu/swtpm/1-guest-swtpm.sock,mode=0600",
        "ctrl-fd": "type=unixio,clientfd=11",
        "log": "file=/var/log/swtpm/libvirt/qemu/guest-swtpm.log,level=20,truncate",
        "key": "pwdfile=/run/secret,format=hex,mode=aes-256-cbc,remove=false,kdf=pbkdf2",
        "key-fd": "fd=5,mode=aes-cbc,remove=true",
        "flags": "not-need-init,startup-clear",
        "pid": "file=/run/swtpm.pid",
        "locality": "reject-locality-4,allow-set-locality",
        "migration": "incoming,release-lock-outgoing",
        "seccomp": "action=log",
        "port-out-of-range": "type=tcp,port=70000",
        "empty-items": ",,dir=/tmp,,mode=600,",
        "no-key": "=value",
        "no-value": "dir=",
        "duplicate": "port=1,port=2",
        "value-with-equals": "path=/a=b,mode=0644",
    }
    for name, s in seeds.items():
        write("optstr", name, s.encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vtpmd", default=os.path.join(TOP, "build", "tools", "vtpmd", "vtpmd"))
    args = ap.parse_args()
    for t in ("framing", "ctrl", "blob", "journal", "optstr"):
        os.makedirs(os.path.join(CORPUS, t), exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        cmds = record_tpm2(work)
        framing_variants(cmds)
        blobs_tpm12_and_encrypted(work)
        slots = journal_slots(work, args.vtpmd) if os.access(args.vtpmd, os.X_OK) else 0
    hand_made_blobs()
    synthetic_journal_slots()
    optstr_seeds()
    print(f"{len(cmds)} TPM 2.0 commands recorded, {slots} journal slots from vtpmd")
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print(f"  {t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
