# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the vtpm system tests.

The daemon under test is chosen by the environment variable VTPMD:
  unset          -> <repo>/build/tools/vtpmd/vtpmd
  VTPMD=swtpm    -> /usr/bin/swtpm (the reference, swtpm 0.7.1)
  VTPMD=/a/path  -> that binary
Either way it is started as `<binary> socket <swtpm socket options>`.
"""

import array
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VTPMD = REPO / "build" / "tools" / "vtpmd" / "vtpmd"


def _resolve_daemon():
    env = os.environ.get("VTPMD", "")
    if env == "":
        return str(DEFAULT_VTPMD)
    if env == "swtpm":
        return shutil.which("swtpm") or "/usr/bin/swtpm"
    return env


DAEMON = _resolve_daemon()
IS_SWTPM = os.path.basename(DAEMON) == "swtpm"
SWTPM = shutil.which("swtpm") or "/usr/bin/swtpm"


def daemon_argv(*args):
    return [DAEMON, "socket", *args]


# --------------------------------------------------------------------------
# ports

def free_port_pair():
    """A port P such that P and P+1 are both free on 127.0.0.1 (and ::1)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        if p >= 65535:
            s.close()
            continue
        s2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s2.bind(("127.0.0.1", p + 1))
        except OSError:
            s.close()
            s2.close()
            continue
        s.close()
        s2.close()
        return p
    raise RuntimeError("could not find two adjacent free TCP ports")


def port_is_free(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _proc_net_listening_tcp():
    """Set of (family, hexaddr, port) of listening TCP sockets."""
    out = set()
    for fam, name in (("4", "/proc/net/tcp"), ("6", "/proc/net/tcp6")):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] != "0A":  # TCP_LISTEN
                        continue
                    addr, port = parts[1].split(":")
                    out.add((fam, addr, int(port, 16)))
        except FileNotFoundError:
            pass
    return out


def tcp_listening_addrs(port):
    """Listening local addresses for a port: list of (family, hexaddr)."""
    return [(fam, addr) for fam, addr, p in _proc_net_listening_tcp()
            if p == port]


def unix_listening(path):
    path = str(path)
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                # Num RefCount Protocol Flags Type St Inode Path
                if len(parts) >= 8 and parts[7] == path and \
                        int(parts[3], 16) & 0x10000:
                    return True
    except FileNotFoundError:
        pass
    return False


# --------------------------------------------------------------------------
# daemon

class DaemonError(AssertionError):
    pass


def read_text(path, limit=20000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-limit:].decode(errors="replace")
    except OSError:
        return ""


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st != "Z"
    except OSError:
        return False


def kill_pid(pid, timeout=5.0):
    """Terminate a process we started (not necessarily our child)."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not pid_alive(pid):
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Daemon:
    """One daemon process (vtpmd or swtpm) under test.

    server / ctrl: "tcp" or "unix" (or None for no such option).
    """

    def __init__(self, workdir, tpm2=True, state_dir=None, server="tcp",
                 ctrl="tcp", flags="not-need-init,startup-clear",
                 extra=(), log_level=None, port=None, wait=True,
                 name="d", server_opts="", ctrl_opts="", sockdir=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # unix socket paths must stay short (sun_path is 108 bytes)
        self.sockdir = Path(sockdir) if sockdir else self.workdir
        self.server_opts = server_opts
        self.ctrl_opts = ctrl_opts
        self.name = name
        self.tpm2 = tpm2
        self.state_dir = Path(state_dir) if state_dir else \
            self.workdir / f"{name}.state"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.server = server
        self.ctrl = ctrl
        self.flags = flags
        self.extra = list(extra)
        self.log_file = self.workdir / f"{name}.log"
        self.stdout_file = self.workdir / f"{name}.stdout"
        self.stderr_file = self.workdir / f"{name}.stderr"
        self.port = port if port is not None else free_port_pair()
        self.ctrl_port = self.port + 1
        self.server_path = str(self.sockdir / f"{name}.data")
        self.ctrl_path = str(self.sockdir / f"{name}.ctrl")
        self.log_level = log_level
        self.proc = None
        self.argv = self._argv()
        self._wait = wait

    def _argv(self):
        a = []
        if self.tpm2:
            a.append("--tpm2")
        a += ["--tpmstate", f"dir={self.state_dir}"]
        if self.server == "tcp":
            a += ["--server", f"type=tcp,port={self.port}" + self.server_opts]
        elif self.server == "unix":
            a += ["--server",
                  f"type=unixio,path={self.server_path}" + self.server_opts]
        if self.ctrl == "tcp":
            a += ["--ctrl", f"type=tcp,port={self.ctrl_port}" + self.ctrl_opts]
        elif self.ctrl == "unix":
            a += ["--ctrl",
                  f"type=unixio,path={self.ctrl_path}" + self.ctrl_opts]
        if self.flags:
            a += ["--flags", self.flags]
        level = self.log_level
        a += ["--log", f"file={self.log_file}" +
              (f",level={level}" if level is not None else "")]
        a += self.extra
        return daemon_argv(*a)

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout=10.0):
        self._out = open(self.stdout_file, "wb")
        self._err = open(self.stderr_file, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err,
                                     close_fds=True)
        if self._wait:
            self.wait_ready(timeout)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def diag(self):
        return (f"\n  argv: {' '.join(self.argv)}"
                f"\n  exit: {self.proc.poll() if self.proc else None}"
                f"\n  stderr: {read_text(self.stderr_file)!r}"
                f"\n  stdout: {read_text(self.stdout_file)!r}"
                f"\n  log: {read_text(self.log_file)!r}")

    def _ready(self):
        ok = True
        if self.server == "tcp":
            ok &= bool(tcp_listening_addrs(self.port))
        elif self.server == "unix":
            ok &= unix_listening(self.server_path)
        if self.ctrl == "tcp":
            ok &= bool(tcp_listening_addrs(self.ctrl_port))
        elif self.ctrl == "unix":
            ok &= unix_listening(self.ctrl_path)
        return ok

    def wait_ready(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise DaemonError("daemon exited before its sockets were "
                                  "listening" + self.diag())
            if self._ready():
                return
            time.sleep(0.01)
        raise DaemonError(f"daemon sockets not listening after {timeout}s"
                          + self.diag())

    def wait_listening(self, timeout=10.0):
        """Like wait_ready, for a daemon that is not our child (-d)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._ready():
                return
            time.sleep(0.01)
        raise DaemonError(f"daemon sockets not listening after {timeout}s"
                          + self.diag())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise DaemonError(f"daemon still running after {timeout}s"
                              + self.diag())

    def stop(self):
        """Kill the process by pid (SIGTERM, then SIGKILL) and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f:
                f.close()

    def shutdown(self, timeout=10.0):
        """Orderly end via CMD_SHUTDOWN on the control channel."""
        with self.ctrl_client() as c:
            rc = c.shutdown()
        assert rc == 0, f"CMD_SHUTDOWN returned {rc:#x}" + self.diag()
        code = self.wait_exit(timeout)
        return code

    # -- clients -----------------------------------------------------------
    def ctrl_client(self, timeout=10.0):
        if self.ctrl == "unix":
            return Ctrl.unix(self.ctrl_path, timeout)
        return Ctrl.tcp("127.0.0.1", self.ctrl_port, timeout)

    def data_client(self, timeout=10.0):
        if self.server == "unix":
            return Data.unix(self.server_path, timeout)
        return Data.tcp("127.0.0.1", self.port, timeout)

    def tcti(self):
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def ioctl_target(self):
        if self.ctrl == "unix":
            return ["--unix", self.ctrl_path]
        return ["--tcp", f"127.0.0.1:{self.ctrl_port}"]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# sockets

def recv_exact(sock, n, what="data"):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(buf)} of {n} "
                                  f"bytes of {what}: {buf.hex()}")
        buf += chunk
    return buf


def recv_all_until_close(sock, timeout=5.0):
    sock.settimeout(timeout)
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


class _Conn:
    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def tcp(cls, host, port, timeout=10.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, port))
        return cls(s)

    @classmethod
    def unix(cls, path, timeout=10.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(path))
        return cls(s)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------ control

CMD_GET_CAPABILITY = 1
CMD_INIT = 2
CMD_SHUTDOWN = 3
CMD_GET_TPMESTABLISHED = 4
CMD_SET_LOCALITY = 5
CMD_HASH_START = 6
CMD_HASH_DATA = 7
CMD_HASH_END = 8
CMD_CANCEL_TPM_CMD = 9
CMD_STORE_VOLATILE = 10
CMD_RESET_TPMESTABLISHED = 11
CMD_GET_STATEBLOB = 12
CMD_SET_STATEBLOB = 13
CMD_STOP = 14
CMD_GET_CONFIG = 15
CMD_SET_DATAFD = 16
CMD_SET_BUFFERSIZE = 17
CMD_GET_INFO = 18
CMD_LOCK_STORAGE = 19

BLOB_PERMANENT = 1
BLOB_VOLATILE = 2
BLOB_SAVESTATE = 3

PTM_CAP_INIT = 1
PTM_CAP_SHUTDOWN = 1 << 1
PTM_CAP_GET_TPMESTABLISHED = 1 << 2
PTM_CAP_SET_LOCALITY = 1 << 3
PTM_CAP_HASHING = 1 << 4
PTM_CAP_CANCEL_TPM_CMD = 1 << 5
PTM_CAP_STORE_VOLATILE = 1 << 6
PTM_CAP_RESET_TPMESTABLISHED = 1 << 7
PTM_CAP_GET_STATEBLOB = 1 << 8
PTM_CAP_SET_STATEBLOB = 1 << 9
PTM_CAP_STOP = 1 << 10
PTM_CAP_GET_CONFIG = 1 << 11
PTM_CAP_SET_DATAFD = 1 << 12
PTM_CAP_SET_BUFFERSIZE = 1 << 13
PTM_CAP_GET_INFO = 1 << 14
PTM_CAP_SEND_COMMAND_HEADER = 1 << 15

# TPM 1.2 result codes used by the control channel
TPM_SUCCESS = 0
TPM_BAD_PARAMETER = 3
TPM_FAIL = 9
TPM_BAD_ORDINAL = 0x0a
TPM_INVALID_POSTINIT = 0x26
TPM_BAD_LOCALITY = 0x3d


class Ctrl(_Conn):
    """Client of the swtpm control channel (tpm_ioctl.h, big endian)."""

    def request(self, code, payload=b""):
        self.sock.sendall(struct.pack(">I", code) + payload)

    def u32(self):
        return struct.unpack(">I", recv_exact(self.sock, 4, "u32"))[0]

    def simple(self, code, payload=b""):
        """Commands whose response is just a u32 result."""
        self.request(code, payload)
        return self.u32()

    def get_capability(self):
        self.request(CMD_GET_CAPABILITY)
        return struct.unpack(">Q", recv_exact(self.sock, 8, "caps"))[0]

    def init(self, flags=0):
        return self.simple(CMD_INIT, struct.pack(">I", flags))

    def shutdown(self):
        return self.simple(CMD_SHUTDOWN)

    def stop(self):
        return self.simple(CMD_STOP)

    def get_established(self):
        self.request(CMD_GET_TPMESTABLISHED)
        rc = self.u32()
        bit = recv_exact(self.sock, 4, "est")[0] if rc == 0 else None
        return rc, bit

    def reset_established(self, loc):
        return self.simple(CMD_RESET_TPMESTABLISHED,
                           struct.pack(">B", loc) + b"\0\0\0")

    def set_locality(self, loc):
        return self.simple(CMD_SET_LOCALITY,
                           struct.pack(">B", loc) + b"\0\0\0")

    def hash_start(self):
        return self.simple(CMD_HASH_START)

    def hash_data(self, data):
        return self.simple(CMD_HASH_DATA, struct.pack(">I", len(data)) + data)

    def hash_end(self):
        return self.simple(CMD_HASH_END)

    def cancel(self):
        return self.simple(CMD_CANCEL_TPM_CMD)

    def store_volatile(self):
        return self.simple(CMD_STORE_VOLATILE)

    def get_config(self):
        self.request(CMD_GET_CONFIG)
        rc = self.u32()
        flags = self.u32()
        return rc, flags

    def set_buffersize(self, size):
        self.request(CMD_SET_BUFFERSIZE, struct.pack(">I", size))
        rc = self.u32()
        bs, mn, mx = struct.unpack(">III", recv_exact(self.sock, 12, "bufs"))
        return rc, bs, mn, mx

    def get_info(self, flags, offset=0):
        self.request(CMD_GET_INFO, struct.pack(">QII", flags, offset, 0))
        rc = self.u32()
        if rc != 0:
            return rc, None
        tot, ln = struct.unpack(">II", recv_exact(self.sock, 8, "info"))
        data = recv_exact(self.sock, ln, "info") if ln else b""
        # the fixed-size struct has a 3 KiB buffer; the peer may send it all
        return rc, data

    def get_stateblob(self, btype, offset=0, flags=0):
        """Returns (rc, state_flags, totlength, data)."""
        self.request(CMD_GET_STATEBLOB, struct.pack(">III", flags, btype,
                                                    offset))
        rc = self.u32()
        if rc != 0:
            return rc, None, None, None
        sflags, tot, ln = struct.unpack(">III",
                                        recv_exact(self.sock, 12, "blobhdr"))
        data = recv_exact(self.sock, ln, "blob") if ln else b""
        return rc, sflags, tot, data

    def set_stateblob(self, btype, data, flags=0):
        self.request(CMD_SET_STATEBLOB,
                     struct.pack(">III", flags, btype, len(data)) + data)
        return self.u32()

    def set_datafd(self, fd):
        """Pass fd over a unix control socket with SCM_RIGHTS."""
        msg = struct.pack(">I", CMD_SET_DATAFD)
        self.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", [fd]))])
        return self.u32()


# --------------------------------------------------------------------- data

TPM2_ST_NO_SESSIONS = 0x8001
TPM2_ST_SESSIONS = 0x8002
TPM2_CC_STARTUP = 0x144
TPM2_CC_SHUTDOWN = 0x145
TPM2_CC_GETRANDOM = 0x17b
TPM2_CC_GETCAPABILITY = 0x17a
TPM2_CC_PCR_READ = 0x17e
TPM2_CC_CREATEPRIMARY = 0x131
TPM2_CC_FLUSHCONTEXT = 0x165
TPM2_SU_CLEAR = 0
TPM2_SU_STATE = 1
TPM2_RC_SUCCESS = 0
TPM2_RC_INITIALIZE = 0x100
TPM2_RC_CANCELED = 0x909
TPM2_RC_LOCALITY = 0x907

TPM_TAG_RQU_COMMAND = 0x00C1
TPM_TAG_RSP_COMMAND = 0x00C4
TPM_ORD_STARTUP = 0x99
TPM_ORD_GETCAPABILITY = 0x65
TPM_ORD_GETRANDOM = 0x46
TPM_ST_CLEAR = 1


def parse_response(resp):
    assert len(resp) >= 10, f"short TPM response: {resp.hex()}"
    tag, size, rc = struct.unpack(">HII", resp[:10])
    return tag, size, rc


class Data(_Conn):
    """Raw TPM command channel (no extra header)."""

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_response(self):
        hdr = recv_exact(self.sock, 10, "response header")
        tag, size, rc = struct.unpack(">HII", hdr)
        assert 10 <= size <= 1 << 20, f"bad response size {size}: {hdr.hex()}"
        body = recv_exact(self.sock, size - 10, "response body")
        return hdr + body

    def transact(self, cmd):
        self.send_raw(cmd)
        return self.read_response()

    def rc(self, cmd):
        return parse_response(self.transact(cmd))[2]


def tpm2_cmd(cc, body=b"", tag=TPM2_ST_NO_SESSIONS):
    return struct.pack(">HII", tag, 10 + len(body), cc) + body


def tpm2_startup(su=TPM2_SU_CLEAR):
    return tpm2_cmd(TPM2_CC_STARTUP, struct.pack(">H", su))


def tpm2_shutdown(su=TPM2_SU_CLEAR):
    return tpm2_cmd(TPM2_CC_SHUTDOWN, struct.pack(">H", su))


def tpm2_getrandom(n):
    return tpm2_cmd(TPM2_CC_GETRANDOM, struct.pack(">H", n))


def tpm2_getcap(cap, prop, count):
    return tpm2_cmd(TPM2_CC_GETCAPABILITY, struct.pack(">III", cap, prop,
                                                       count))


def tpm2_flush(handle):
    return tpm2_cmd(TPM2_CC_FLUSHCONTEXT, struct.pack(">I", handle))


def tpm2_pcr_read_sha256(pcr):
    sel = bytearray(3)
    sel[pcr // 8] |= 1 << (pcr % 8)
    body = struct.pack(">IHB", 1, 0x000B, 3) + bytes(sel)
    return tpm2_cmd(TPM2_CC_PCR_READ, body)


def parse_pcr_read_sha256(resp):
    tag, size, rc = parse_response(resp)
    assert rc == 0, f"PCR_Read rc={rc:#x}"
    off = 10 + 4  # updateCounter
    cnt = struct.unpack(">I", resp[off:off + 4])[0]
    off += 4
    for _ in range(cnt):
        off += 2
        n = resp[off]
        off += 1 + n
    ndig = struct.unpack(">I", resp[off:off + 4])[0]
    off += 4
    assert ndig == 1, f"expected one digest, got {ndig}"
    ln = struct.unpack(">H", resp[off:off + 2])[0]
    return resp[off + 2:off + 2 + ln]


TPM2_RS_PW = 0x40000009
TPM2_RH_OWNER = 0x40000001


def _pw_auth():
    """One password authorization with an empty password."""
    auth = struct.pack(">IHBH", TPM2_RS_PW, 0, 0x01, 0)
    return struct.pack(">I", len(auth)) + auth


def tpm2_pcr_extend_sha256(pcr, digest):
    body = struct.pack(">I", pcr) + _pw_auth()
    body += struct.pack(">IH", 1, 0x000B) + digest
    return tpm2_cmd(0x182, body, tag=TPM2_ST_SESSIONS)


def tpm2_createprimary_ecc(hierarchy=TPM2_RH_OWNER):
    """TPM2_CreatePrimary of a restricted ECC P-256 storage key."""
    pub = struct.pack(">HHI", 0x0023, 0x000B, 0x00030072)
    pub += struct.pack(">H", 0)  # authPolicy
    pub += struct.pack(">HHH", 0x0006, 128, 0x0043)  # AES-128-CFB
    pub += struct.pack(">HHH", 0x0010, 0x0003, 0x0010)  # null, P256, null
    pub += struct.pack(">HH", 0, 0)  # unique x, y
    body = struct.pack(">I", hierarchy) + _pw_auth()
    body += struct.pack(">HHH", 4, 0, 0)
    body += struct.pack(">H", len(pub)) + pub
    body += struct.pack(">HI", 0, 0)
    return tpm2_cmd(TPM2_CC_CREATEPRIMARY, body, tag=TPM2_ST_SESSIONS)


def createprimary_public(resp):
    """(handle, TPM2B_PUBLIC bytes) of a successful CreatePrimary."""
    tag, size, rc = parse_response(resp)
    assert rc == 0, f"CreatePrimary rc={rc:#x}"
    handle = struct.unpack(">I", resp[10:14])[0]
    ln = struct.unpack(">H", resp[18:20])[0]
    return handle, resp[18:20 + ln]


def tpm2_createprimary_rsa(bits, unique=b"", hierarchy=0x40000001):
    """TPM2_CreatePrimary of a restricted RSA storage key, password auth."""
    auth = struct.pack(">IHBH", 0x40000009, 0, 0x01, 0)  # TPM_RS_PW
    in_sensitive = struct.pack(">HHH", 4, 0, 0)  # size, userAuth, data
    attrs = 0x00030072  # fixedTPM|fixedParent|sensitiveDataOrigin|
    #                     userWithAuth|restricted|decrypt
    pub = struct.pack(">HHI", 0x0001, 0x000B, attrs)  # RSA, SHA256
    pub += struct.pack(">H", 0)  # authPolicy
    pub += struct.pack(">HHH", 0x0006, 128, 0x0043)  # AES-128-CFB
    pub += struct.pack(">H", 0x0010)  # scheme NULL
    pub += struct.pack(">HI", bits, 0)  # keyBits, exponent
    pub += struct.pack(">H", len(unique)) + unique
    in_public = struct.pack(">H", len(pub)) + pub
    body = struct.pack(">I", hierarchy)
    body += struct.pack(">I", len(auth)) + auth
    body += in_sensitive + in_public
    body += struct.pack(">H", 0)  # outsideInfo
    body += struct.pack(">I", 0)  # creationPCR count
    return tpm2_cmd(TPM2_CC_CREATEPRIMARY, body, tag=TPM2_ST_SESSIONS)


def tpm12_cmd(ordinal, body=b"", tag=TPM_TAG_RQU_COMMAND):
    return struct.pack(">HII", tag, 10 + len(body), ordinal) + body


def tpm12_startup(st=TPM_ST_CLEAR):
    return tpm12_cmd(TPM_ORD_STARTUP, struct.pack(">H", st))


def tpm12_getrandom(n):
    return tpm12_cmd(TPM_ORD_GETRANDOM, struct.pack(">I", n))


def tpm12_getcap_version():
    # TPM_CAP_VERSION_VAL (0x1a), no sub-capability
    return tpm12_cmd(TPM_ORD_GETCAPABILITY, struct.pack(">II", 0x1a, 0))


# --------------------------------------------------------------------- tools

def require_tool(name):
    """Path of a required peer tool; a missing one is a failure, not a skip:
    the project's install script must install it."""
    import pytest
    path = shutil.which(name)
    if not path:
        pytest.fail(f"required tool {name!r} is not installed (the project's "
                    f"install script must install it)", pytrace=False)
    return path


def run(argv, env=None, timeout=60, check=True, input=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(argv, env=e, capture_output=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        raise AssertionError(
            f"command failed ({p.returncode}): {' '.join(map(str, argv))}\n"
            f"  stdout: {p.stdout.decode(errors='replace')}\n"
            f"  stderr: {p.stderr.decode(errors='replace')}")
    return p


def tpm2(daemon, *args, check=True, timeout=60):
    return run(list(args), env={"TPM2TOOLS_TCTI": daemon.tcti()},
               check=check, timeout=timeout)


def tool_pcrread(daemon, bank, idx):
    """One PCR value read with tpm2_pcrread."""
    p = tpm2(daemon, "tpm2_pcrread", f"{bank}:{idx}")
    m = re.search(rf"^\s*{idx}\s*:\s*0x([0-9A-Fa-f]+)\s*$",
                  p.stdout.decode(), re.M)
    assert m, f"cannot parse tpm2_pcrread output: {p.stdout.decode()!r}"
    return bytes.fromhex(m.group(1))


def swtpm_ioctl(daemon, *args, check=True, timeout=30, input=None):
    return run(["swtpm_ioctl", *args, *daemon.ioctl_target()], check=check,
               timeout=timeout, input=input)
