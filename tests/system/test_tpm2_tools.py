# SPDX-License-Identifier: BSD-3-Clause
"""tpm2-tools 5.4 against the daemon through libtss2's swtpm TCTI
(`swtpm:host=127.0.0.1,port=P`; the control port is P+1)."""

import hashlib
import re

import pytest

import vtpmlib as v


@pytest.fixture(autouse=True)
def _tools():
    v.require_tool("tpm2_getrandom")


pcrread = v.tool_pcrread


def getcap_fixed(d):
    p = v.tpm2(d, "tpm2_getcap", "properties-fixed")
    props = {}
    name = None
    for line in p.stdout.decode().splitlines():
        if not line.startswith(" ") and line.endswith(":"):
            name = line[:-1]
        elif name and line.strip().startswith("raw:"):
            props[name] = int(line.split(":", 1)[1].strip(), 0)
    return props


def test_getrandom(tpm2d):
    seen = set()
    for _ in range(2):
        p = v.tpm2(tpm2d, "tpm2_getrandom", "16", "--hex")
        h = p.stdout.decode().strip()
        assert re.fullmatch(r"[0-9a-f]{32}", h), f"tpm2_getrandom: {h!r}"
        seen.add(h)
    assert len(seen) == 2, "two GetRandom calls returned the same bytes"


def test_pcrextend_chain_sha256(tpm2d):
    pcr = 10
    assert pcrread(tpm2d, "sha256", pcr) == bytes(32), \
        "PCR 10 not zero after Startup(CLEAR)"
    a = bytes([0x11]) * 32
    b = hashlib.sha256(b"vtpm system test").digest()
    v.tpm2(tpm2d, "tpm2_pcrextend", f"{pcr}:sha256={a.hex()}")
    v.tpm2(tpm2d, "tpm2_pcrextend", f"{pcr}:sha256={b.hex()}")
    want = hashlib.sha256(hashlib.sha256(bytes(32) + a).digest() + b).digest()
    got = pcrread(tpm2d, "sha256", pcr)
    assert got == want, f"PCR {pcr}: got {got.hex()}, want {want.hex()}"
    # the sha1 bank was not extended
    assert pcrread(tpm2d, "sha1", pcr) == bytes(20)


@pytest.mark.parametrize("alg,marker", [("ecc", "value: ecc"),
                                        ("rsa", "value: rsa")])
def test_createprimary(tpm2d, tmp_path, alg, marker):
    outs = []
    for i in range(2):
        ctx = tmp_path / f"{alg}{i}.ctx"
        p = v.tpm2(tpm2d, "tpm2_createprimary", "-C", "o", "-G", alg,
                   "-c", str(ctx))
        text = p.stdout.decode()
        assert marker in text, f"tpm2_createprimary -G {alg}: {text!r}"
        assert ctx.stat().st_size > 0, "no context file written"
        key = re.search(r"^(x|rsa): ([0-9a-f]+)$", text, re.M)
        assert key, f"no public key in output: {text!r}"
        outs.append(key.group(2))
        v.tpm2(tpm2d, "tpm2_flushcontext", "-t")
    # primary keys derive from the owner seed: same template, same key
    assert outs[0] == outs[1], "the same primary template gave two keys"


def test_getcap_properties_fixed(tpm2d):
    props = getcap_fixed(tpm2d)
    assert props.get("TPM2_PT_MANUFACTURER") == 0x49424D00, \
        f"manufacturer {props.get('TPM2_PT_MANUFACTURER')} (want IBM)"
    assert props.get("TPM2_PT_FAMILY_INDICATOR") == 0x322E3000
    assert props.get("TPM2_PT_VENDOR_STRING_1") == 0x53572020  # "SW  "
    assert props.get("TPM2_PT_VENDOR_STRING_2") == 0x2054504D  # " TPM"
    assert props.get("TPM2_PT_FIRMWARE_VERSION_1") == 0x20191023
    assert props.get("TPM2_PT_FIRMWARE_VERSION_2") == 0x00163636
    assert props.get("TPM2_PT_MAX_COMMAND_SIZE") == 0x1000


def test_nv_survives_restart(pool, tmp_path):
    d = pool.start()
    idx = "0x1500016"
    data = b"vtpm-nv-survives-restart"
    f = tmp_path / "nv.in"
    f.write_bytes(data)
    v.tpm2(d, "tpm2_nvdefine", idx, "-C", "o", "-s", "32", "-a",
           "ownerread|ownerwrite|authread|authwrite")
    v.tpm2(d, "tpm2_nvwrite", idx, "-C", "o", "-i", str(f))
    v.swtpm_ioctl(d, "-s")
    code = d.wait_exit(10)
    assert code == 0, f"exit code {code} after swtpm_ioctl -s" + d.diag()

    d2 = pool.start(state_dir=d.state_dir)
    p = v.tpm2(d2, "tpm2_nvread", idx, "-C", "o", "-s", str(len(data)))
    assert p.stdout == data, f"NV after restart: {p.stdout!r}"
    p = v.tpm2(d2, "tpm2_nvreadpublic", idx)
    assert "size: 32" in p.stdout.decode(), p.stdout.decode()
