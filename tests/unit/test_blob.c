/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The state blob codec against hand-made blobs for every error, and against
 * real blobs that swtpm 0.7.1 wrote on the machine this was developed on:
 *   swtpm socket [--tpm2] --tpmstate dir=D ... --flags not-need-init,startup-clear
 *   swtpm_ioctl --tcp 127.0.0.1:PORT --save permanent|volatile FILE
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/blob.h"
#include "util/buf.h"

/* swtpm 0.7.1 --tpm2: DIR/tpm2-00.permall of a fresh TPM (1315 bytes) */
static const char swtpm2_permall_hex[] =
    "0201000a0000000005230001000005130003ab36472300030003c9ea64310001000000780000000100000001"
    "0000000100000001000000010000000100000001000000010000000100000001000000010000000000000000"
    "0000000100000001000000010000000100000001000000010000000100000001000000010000000100000001"
    "0000000100000001000000010000000100000001000000010000000100000001000000010000000100000c00"
    "000000c000000100000000800000008000000001000000010000000100000001000000010000000100000001"
    "000000010000027e000000040000000400000018000000180000001100000000000000050000000300000040"
    "00000003000000030000000300000007000000010000000100000a7800000400000008000000040000000400"
    "0002b2c000000008000000100000004000000040000000060000000c00000001000000080000008000000040"
    "0000020000010001000000010000000100000000000004000000200000000040000000040000000100000000"
    "0000000100000000000000010000000100000000000000010000000000000000000000000000000100000001"
    "0000000100000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000010000000412213443000400"
    "0010001000100000000000000000000000000040d94aa6f6d693861fe186911a570cbdd7c6f39e0c0d96a74e"
    "4fd1e58b0441bfcb908c598c796bc5b87d4d26cff6418d462fc275b2693e23b4084c72295f962c8900408218"
    "5f25ff037346407da121c5b7824ab7b94b33ca4963b2d23beb66ace97c0575241d091c65c877f7cf3783196a"
    "5273576543d14f70cd4a3d94060802be46bb0040159109c99400373ff8dd0cbb1689f0e9e9aef81f9662e6c8"
    "930ebe84529c01f23a0346a92873cedf1816fb21859bf80cd5947d2102b0aa7718781bbffe1a9ada00404faa"
    "6342db273631292075e35c042302a4488d4ea39f3b2d4539fb350e438853b0eddf8f4dfb75c1d9aa0c11da11"
    "27e830402f839bd7e9cd0491cab64780c7790040eb633e85627507d4087b743ad79c9ca5de6ef5e23bc75343"
    "1063de441ff0cf6836538ab90dcc18dbec6c62382f82c7c540ea74e9f354356b47f03ff5a9924cdc0040c124"
    "de154af299b2cc937853e56a0df5ad23c5b2bd5c03f6d4455657309bd173e55e8182bf6b7dab2730be08c059"
    "254e113785ec02d2e93360938302dcbbb92b0000000000000001000000010100110002176be6260001000100"
    "10000001000000000004000403ffffff000b03ffffff000c03ffffff000d03ffffff000e0020000000000000"
    "0000000000000000000000000003000003e8000003e801ffff000e0000008000000000000000000000000d00"
    "00000000000000000000002019102300163636040000000101002500000004000403ffffff000b03ffffff00"
    "0c03ffffff000d03ffffff010006010101010000000256657887000100000000000000000100026fe83ea100"
    "010000000000000008474252440030cec7ac89ac3d2a727abc419553a33d3524fc51e77dcaf1d07ee4943071"
    "4b34e60cf5f3cc1756f081f085441ea0a11c3a00040000000000000000000000000000000001000001001800"
    "000000000000000000000000000000000000000000000001000000025346feab000100000200000000000100"
    "000002094f22c300010000000000029cc0000000000000000000000000010000010000ab364723";

/* swtpm_ioctl --save permanent from the same TPM: GET_STATEBLOB, no migration key (1321 bytes) */
static const char swtpm2_mig_permanent_hex[] =
    "0201000a0004000005290004000005190001000005130003ab36472300030003c9ea64310001000000780000"
    "0001000000010000000100000001000000010000000100000001000000010000000100000001000000010000"
    "0000000000000000000100000001000000010000000100000001000000010000000100000001000000010000"
    "0001000000010000000100000001000000010000000100000001000000010000000100000001000000010000"
    "000100000c00000000c000000100000000800000008000000001000000010000000100000001000000010000"
    "000100000001000000010000027e000000040000000400000018000000180000001100000000000000050000"
    "00030000004000000003000000030000000300000007000000010000000100000a7800000400000008000000"
    "0400000004000002b2c000000008000000100000004000000040000000060000000c00000001000000080000"
    "0080000000400000020000010001000000010000000100000000000004000000200000000040000000040000"
    "0001000000000000000100000000000000010000000100000000000000010000000000000000000000000000"
    "0001000000010000000100000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000010000000412"
    "2134430004000010001000100000000000000000000000000040d94aa6f6d693861fe186911a570cbdd7c6f3"
    "9e0c0d96a74e4fd1e58b0441bfcb908c598c796bc5b87d4d26cff6418d462fc275b2693e23b4084c72295f96"
    "2c89004082185f25ff037346407da121c5b7824ab7b94b33ca4963b2d23beb66ace97c0575241d091c65c877"
    "f7cf3783196a5273576543d14f70cd4a3d94060802be46bb0040159109c99400373ff8dd0cbb1689f0e9e9ae"
    "f81f9662e6c8930ebe84529c01f23a0346a92873cedf1816fb21859bf80cd5947d2102b0aa7718781bbffe1a"
    "9ada00404faa6342db273631292075e35c042302a4488d4ea39f3b2d4539fb350e438853b0eddf8f4dfb75c1"
    "d9aa0c11da1127e830402f839bd7e9cd0491cab64780c7790040eb633e85627507d4087b743ad79c9ca5de6e"
    "f5e23bc753431063de441ff0cf6836538ab90dcc18dbec6c62382f82c7c540ea74e9f354356b47f03ff5a992"
    "4cdc0040c124de154af299b2cc937853e56a0df5ad23c5b2bd5c03f6d4455657309bd173e55e8182bf6b7dab"
    "2730be08c059254e113785ec02d2e93360938302dcbbb92b0000000000000001000000010100110002176be6"
    "26000100010010000001000000000004000403ffffff000b03ffffff000c03ffffff000d03ffffff000e0020"
    "0000000000000000000000000000000000000003000003e8000003e801ffff000e0000008000000000000000"
    "000000000d0000000000000000000000002019102300163636040000000101002500000004000403ffffff00"
    "0b03ffffff000c03ffffff000d03ffffff010006010101010000000256657887000100000000000000000100"
    "026fe83ea100010000000000000008474252440030cec7ac89ac3d2a727abc419553a33d3524fc51e77dcaf1"
    "d07ee49430714b34e60cf5f3cc1756f081f085441ea0a11c3a00040000000000000000000000000000000001"
    "000001001800000000000000000000000000000000000000000000000001000000025346feab000100000200"
    "000000000100000002094f22c300010000000000029cc0000000000000000000000000010000010000ab3647"
    "23";

/* swtpm 0.7.1, TPM 1.2: DIR/tpm-00.permall of a fresh TPM (1185 bytes) */
static const char swtpm12_permall_hex[] =
    "0201000a0000000004a100010000049100010022000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000010000000000010001000000"
    "0000000000010100000000000000000000000000000100010000000000000000000000000101000000000000"
    "0000000000000000010001000000000000000000000000000000000015000000000000000000000000000000"
    "0000000015000000000000000000000000000000000000000e00000000000000000000000000000000000000"
    "00000000000000000000000e0000000000000000000000000000000000000000000000000000000000000e00"
    "00000000000000000000000000000000000000000000000000000000000e0000000000000000000000000000"
    "000000000000000000000000000000000e000000000000000000000000000000000000000000000000000000"
    "0000000e0000000000000000000000000000000000000000000000000000000000000e000000000000000000"
    "0000000000000000000000000000000000000000000e00000000000000000000000000000000000000000000"
    "00000000000000000e000000000000000000000000000000000000000000000000000000000000200180000d"
    "00000000007800c00f7600200000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000001c001b0000030000001f000000"
    "0000000000000000000000000000000000001a00000002000000000000000000000000000000000000000000"
    "00000000000000000000000000000000001c001b0000030000001f0000000000000000000000000000000000"
    "000000001a000000020000000000000000000000000000000000000000000000000000000000000000000000"
    "0000001c001b0000030000001f0000000000000000000000000000000000000000001a000000020000000000"
    "0000000000000000000000000000000000000000000000000000000000000000001c001b0000030000001f00"
    "00000000000000000000000000000000000000001a0000000200000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000010000000000000000000000000000000000000000001500000000000000000000000000"
    "000000000000020000402a000100000002000000000d4de1ba29c145af22bf7cf81bad8101449ed407";

/* swtpm_ioctl --save volatile from that TPM 1.2 (1253 bytes) */
static const char swtpm12_mig_volatile_hex[] =
    "0201000a0004000004e50004000004d50001000004cf0001000101020001001808000014000a001000040010"
    "0010000200080080000096f40001002000000000000021000000000000000000000000240000000000000000"
    "000000000000000000000000ffffffff40000001000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000024001400000000000000000001e8ef145eff"
    "1080a15a1021b588965fc66366b2f2000660d626d13430000100000000000000000000000000010001000000"
    "00a34dac26c368f93914d231125e58041f144e7fba";

/* Decodes one of the hex strings above into a malloc'd buffer. */
static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n);

    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

/* Writes a blob header; totlen 0 means "the right one", i.e. 10 + body_len. */
static size_t put_header(uint8_t *out, uint8_t ver, uint8_t minv, uint16_t hdrsize, uint16_t flags,
                         uint32_t totlen, size_t body_len)
{
    out[0] = ver;
    out[1] = minv;
    put_be16(out + 2, hdrsize);
    put_be16(out + 4, flags);
    put_be32(out + 6, totlen ? totlen : (uint32_t)(10 + body_len));
    return 10;
}

/* Appends TLV(tag, len, val) at out; val may be NULL to leave the bytes alone. */
static size_t put_tlv(uint8_t *out, uint16_t tag, uint32_t len, const void *val)
{
    put_be16(out, tag);
    put_be32(out + 2, len);
    if (val)
        memcpy(out + 6, val, len);
    return 6 + (size_t)len;
}

/* A v2 blob with the given flags around the body bytes; returns its length. */
static size_t make_blob(uint8_t *out, uint16_t flags, const uint8_t *body, size_t body_len)
{
    put_header(out, 2, 1, 10, flags, 0, body_len);
    memcpy(out + 10, body, body_len);
    return 10 + body_len;
}

static int file_decode(const uint8_t *in, size_t len)
{
    const uint8_t *d = NULL;
    size_t dl = 0;

    return vtpm_blob_file_decode(in, len, &d, &dl);
}

static int mig_decode(const uint8_t *in, size_t len)
{
    const uint8_t *d = NULL;
    size_t dl = 0;

    return vtpm_blob_migration_decode(in, len, &d, &dl);
}

static const uint8_t state[] = {0x00, 0x03, 0xab, 0x36, 0x47, 0x23, 0x00, 0x03, 'T', 'P', 'M'};

static void test_file_round_trip(void **unused)
{
    static const size_t lens[] = {0, 1, sizeof(state), 4096, 70000};
    (void)unused;

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i], size = vtpm_blob_file_size(len), outlen = 0, dl = 0;
        uint8_t *data = malloc(len + 1), *out = malloc(size);
        const uint8_t *d = NULL;

        assert_non_null(data);
        assert_non_null(out);
        for (size_t j = 0; j < len; j++)
            data[j] = (uint8_t)(j * 7 + i);
        assert_int_equal(size, 16 + len);
        assert_int_equal(vtpm_blob_file_encode(out, size, data, len, &outlen), VTPM_BLOB_OK);
        assert_int_equal(outlen, size);
        /* The header swtpm writes: version 2, min_version 1, hdrsize 10, no flags. */
        assert_int_equal(out[0], 2);
        assert_int_equal(out[1], 1);
        assert_int_equal(get_be16(out + 2), 10);
        assert_int_equal(get_be16(out + 4), 0);
        assert_int_equal(get_be32(out + 6), size);
        assert_int_equal(get_be16(out + 10), VTPM_BLOB_TAG_DATA);
        assert_int_equal(get_be32(out + 12), len);
        assert_int_equal(vtpm_blob_file_decode(out, outlen, &d, &dl), VTPM_BLOB_OK);
        assert_int_equal(dl, len);
        assert_ptr_equal(d, out + 16);
        if (len)
            assert_memory_equal(d, data, len);
        free(data);
        free(out);
    }
}

static void test_migration_round_trip(void **unused)
{
    static const size_t lens[] = {0, 1, sizeof(state), 4096, 70000};
    (void)unused;

    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i], size = vtpm_blob_migration_size(len), outlen = 0, dl = 0;
        uint8_t *data = malloc(len + 1), *out = malloc(size);
        const uint8_t *d = NULL;

        assert_non_null(data);
        assert_non_null(out);
        for (size_t j = 0; j < len; j++)
            data[j] = (uint8_t)(j * 13 + i);
        assert_int_equal(size, 22 + len);
        assert_int_equal(vtpm_blob_migration_encode(out, size, data, len, &outlen), VTPM_BLOB_OK);
        assert_int_equal(outlen, size);
        assert_int_equal(get_be16(out + 4), VTPM_BLOB_FLAG_MIGRATION_DATA);
        assert_int_equal(get_be32(out + 6), size);
        assert_int_equal(get_be16(out + 10), VTPM_BLOB_TAG_MIGRATION_DATA);
        assert_int_equal(get_be32(out + 12), 6 + len);
        assert_int_equal(get_be16(out + 16), VTPM_BLOB_TAG_DATA);
        assert_int_equal(get_be32(out + 18), len);
        assert_int_equal(vtpm_blob_migration_decode(out, outlen, &d, &dl), VTPM_BLOB_OK);
        assert_int_equal(dl, len);
        if (len)
            assert_memory_equal(d, data, len);
        free(data);
        free(out);
    }
}

/* The file form and the migration form share one shape of API. */
struct codec {
    int (*decode)(const uint8_t *in, size_t len, const uint8_t **data, size_t *datalen);
    size_t (*size)(size_t datalen);
    int (*encode)(uint8_t *out, size_t cap, const uint8_t *data, size_t len, size_t *outlen);
};

static const struct codec file_codec = {
    vtpm_blob_file_decode, vtpm_blob_file_size, vtpm_blob_file_encode};
static const struct codec migration_codec = {
    vtpm_blob_migration_decode, vtpm_blob_migration_size, vtpm_blob_migration_encode};

/* Decodes a real swtpm blob, checks the payload, and re-encodes it byte for byte. */
static void check_real(const struct codec *c, const char *hex, size_t want_len,
                       const uint8_t *magic, size_t magic_len)
{
    size_t len, dl = 0, outlen = 0;
    uint8_t *blob = unhex(hex, &len), *out;
    const uint8_t *d = NULL;

    assert_int_equal(c->decode(blob, len, &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, want_len);
    assert_memory_equal(d, magic, magic_len);
    out = malloc(c->size(dl));
    assert_non_null(out);
    assert_int_equal(c->encode(out, c->size(dl), d, dl, &outlen), VTPM_BLOB_OK);
    assert_int_equal(outlen, len);
    assert_memory_equal(out, blob, len);
    free(out);
    free(blob);
}

static void check_real_file(const char *hex, size_t want_len, const uint8_t *magic,
                            size_t magic_len)
{
    check_real(&file_codec, hex, want_len, magic, magic_len);
}

static void check_real_migration(const char *hex, size_t want_len, const uint8_t *magic,
                                 size_t magic_len)
{
    check_real(&migration_codec, hex, want_len, magic, magic_len);
}

/* libtpms' TPM 2 PERSISTENT_ALL starts with be16 version 3 and a be32 magic. */
static const uint8_t tpm2_permall_magic[] = {0x00, 0x03, 0xab, 0x36, 0x47, 0x23};

static void test_real_swtpm_tpm2_file(void **unused)
{
    (void)unused;
    check_real_file(swtpm2_permall_hex, 1299, tpm2_permall_magic, sizeof(tpm2_permall_magic));
}

static void test_real_swtpm_tpm2_getstateblob(void **unused)
{
    size_t flen, mlen, fdl = 0, mdl = 0;
    uint8_t *file = unhex(swtpm2_permall_hex, &flen);
    uint8_t *mig = unhex(swtpm2_mig_permanent_hex, &mlen);
    const uint8_t *fd = NULL, *md = NULL;

    (void)unused;
    check_real_migration(swtpm2_mig_permanent_hex, 1299, tpm2_permall_magic,
                         sizeof(tpm2_permall_magic));
    /* The same TPM's file and GET_STATEBLOB carry the same libtpms bytes. */
    assert_int_equal(vtpm_blob_file_decode(file, flen, &fd, &fdl), VTPM_BLOB_OK);
    assert_int_equal(vtpm_blob_migration_decode(mig, mlen, &md, &mdl), VTPM_BLOB_OK);
    assert_int_equal(fdl, mdl);
    assert_memory_equal(fd, md, fdl);
    /* Each form is refused by the other decoder, as swtpm refuses a file in SET_STATEBLOB. */
    assert_int_equal(vtpm_blob_migration_decode(file, flen, &md, &mdl), VTPM_BLOB_E_NODATA);
    assert_int_equal(vtpm_blob_file_decode(mig, mlen, &fd, &fdl), VTPM_BLOB_E_NODATA);
    free(file);
    free(mig);
}

static void test_real_swtpm_tpm12(void **unused)
{
    static const uint8_t permall_start[] = {0x00, 0x01, 0x00, 0x22};
    static const uint8_t volatile_start[] = {0x00, 0x01, 0x00, 0x01, 0x01, 0x02};
    (void)unused;

    check_real_file(swtpm12_permall_hex, 1169, permall_start, sizeof(permall_start));
    check_real_migration(swtpm12_mig_volatile_hex, 1231, volatile_start, sizeof(volatile_start));
}

static void test_truncated_at_every_offset(void **unused)
{
    size_t flen, mlen;
    uint8_t *file = unhex(swtpm2_permall_hex, &flen);
    uint8_t *mig = unhex(swtpm2_mig_permanent_hex, &mlen);

    (void)unused;
    for (size_t k = 0; k < flen; k++)
        assert_int_equal(file_decode(file, k), k < 10 ? VTPM_BLOB_E_SHORT : VTPM_BLOB_E_TOTLEN);
    for (size_t k = 1; k < mlen; k++)
        assert_int_equal(mig_decode(mig, k), k < 10 ? VTPM_BLOB_E_SHORT : VTPM_BLOB_E_TOTLEN);
    free(file);
    free(mig);
}

static void test_trailing_bytes(void **unused)
{
    size_t flen, mlen;
    uint8_t *file = unhex(swtpm2_permall_hex, &flen);
    uint8_t *mig = unhex(swtpm2_mig_permanent_hex, &mlen);
    uint8_t *longer;

    (void)unused;
    longer = malloc(flen + mlen + 1);
    assert_non_null(longer);
    memcpy(longer, file, flen);
    longer[flen] = 0;
    assert_int_equal(file_decode(longer, flen + 1), VTPM_BLOB_E_TOTLEN);
    memcpy(longer, mig, mlen);
    longer[mlen] = 0;
    assert_int_equal(mig_decode(longer, mlen + 1), VTPM_BLOB_E_TOTLEN);
    free(longer);
    free(file);
    free(mig);
}

static void test_version(void **unused)
{
    uint8_t b[64], body[32];
    size_t blen = put_tlv(body, VTPM_BLOB_TAG_DATA, sizeof(state), state), n;
    const uint8_t *d;
    size_t dl;

    (void)unused;
    /* A blob that needs a reader newer than version 2. */
    n = put_header(b, 3, 3, 10, 0, 0, blen);
    memcpy(b + n, body, blen);
    assert_int_equal(file_decode(b, n + blen), VTPM_BLOB_E_VERSION);
    assert_int_equal(mig_decode(b, n + blen), VTPM_BLOB_E_VERSION);
    /* Version 3 that promises version 2 readers can read it: read as version 2. */
    n = put_header(b, 3, 2, 10, 0, 0, blen);
    memcpy(b + n, body, blen);
    assert_int_equal(vtpm_blob_file_decode(b, n + blen, &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, sizeof(state));
    /* Version 0 does not exist; in a file a leading 0 byte means "no header" instead. */
    n = put_header(b, 0, 0, 10, VTPM_BLOB_FLAG_MIGRATION_DATA, 0, 0);
    assert_int_equal(mig_decode(b, n), VTPM_BLOB_E_VERSION);
}

static void test_version1_forms(void **unused)
{
    uint8_t b[64];
    const uint8_t *d = NULL;
    size_t dl = 0, n;

    (void)unused;
    /* Version 1: the libtpms bytes follow the header directly. */
    n = put_header(b, 1, 1, 10, 0, 0, sizeof(state));
    memcpy(b + n, state, sizeof(state));
    assert_int_equal(vtpm_blob_file_decode(b, n + sizeof(state), &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, sizeof(state));
    assert_memory_equal(d, state, sizeof(state));
    /* swtpm 0.7.1 accepted this in SET_STATEBLOB (checked: result 0). */
    d = NULL;
    assert_int_equal(vtpm_blob_migration_decode(b, n + sizeof(state), &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, sizeof(state));
    assert_memory_equal(d, state, sizeof(state));
    put_be16(b + 4, VTPM_BLOB_FLAG_ENCRYPTED);
    assert_int_equal(file_decode(b, n + sizeof(state)), VTPM_BLOB_E_ENCRYPTED);
    assert_int_equal(mig_decode(b, n + sizeof(state)), VTPM_BLOB_E_ENCRYPTED);
}

static void test_headerless_legacy_file(void **unused)
{
    size_t flen, dl = 0;
    uint8_t *file = unhex(swtpm2_permall_hex, &flen);
    const uint8_t *raw = file + 16, *d = NULL;

    (void)unused;
    /* swtpm 0.7.1 loads a permall without header (checked: same TPM came back). */
    assert_int_equal(vtpm_blob_file_decode(raw, flen - 16, &d, &dl), VTPM_BLOB_OK);
    assert_ptr_equal(d, raw);
    assert_int_equal(dl, flen - 16);
    /* SET_STATEBLOB insists on a header (swtpm 0.7.1 answered TPM_BAD_PARAMETER). */
    assert_int_not_equal(mig_decode(raw, flen - 16), VTPM_BLOB_OK);
    free(file);
}

static void test_hdrsize(void **unused)
{
    static const uint16_t bad[] = {0, 9, 11, 16, 0xffff};
    uint8_t b[64], body[32];
    size_t blen = put_tlv(body, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    (void)unused;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = put_header(b, 2, 1, bad[i], 0, 0, blen);

        memcpy(b + n, body, blen);
        assert_int_equal(file_decode(b, n + blen), VTPM_BLOB_E_HDRSIZE);
        put_be16(b + 4, VTPM_BLOB_FLAG_MIGRATION_DATA);
        assert_int_equal(mig_decode(b, n + blen), VTPM_BLOB_E_HDRSIZE);
    }
}

static void test_tlv_overrun(void **unused)
{
    uint8_t b[128], body[96], inner[32];
    size_t blen, ilen;

    (void)unused;
    /* DATA claims one byte more than there is. */
    blen = put_tlv(body, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    put_be32(body + 2, sizeof(state) + 1);
    assert_int_equal(file_decode(b, make_blob(b, 0, body, blen)), VTPM_BLOB_E_TLV);
    /* A length that would wrap a 32-bit offset. */
    put_be32(body + 2, 0xffffffffu);
    assert_int_equal(file_decode(b, make_blob(b, 0, body, blen)), VTPM_BLOB_E_TLV);
    /* A good DATA followed by half a TLV header. */
    blen = put_tlv(body, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    memcpy(body + blen, "\x00\x07\x00", 3);
    assert_int_equal(file_decode(b, make_blob(b, 0, body, blen + 3)), VTPM_BLOB_E_TLV);
    /* Migration: the outer record overruns, then the inner one. */
    ilen = put_tlv(inner, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    blen = put_tlv(body, VTPM_BLOB_TAG_MIGRATION_DATA, (uint32_t)ilen, inner);
    put_be32(body + 2, (uint32_t)ilen + 1);
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_TLV);
    put_be32(body + 2, (uint32_t)ilen);
    put_be32(body + 6 + 2, sizeof(state) + 1);
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_TLV);
}

static void test_missing_data(void **unused)
{
    uint8_t b[128], body[96], inner[32];
    size_t blen, ilen;

    (void)unused;
    /* Only an unknown tag. */
    blen = put_tlv(body, 99, sizeof(state), state);
    assert_int_equal(file_decode(b, make_blob(b, 0, body, blen)), VTPM_BLOB_E_NODATA);
    /* A bare header is no state file... */
    assert_int_equal(file_decode(b, make_blob(b, 0, body, 0)), VTPM_BLOB_E_NODATA);
    /* ...but an empty SET_STATEBLOB, which swtpm takes as "no state of this type". */
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, 0)),
                     VTPM_BLOB_OK);
    /* Migration blob without MIGRATION_DATA, and one whose inner stream lacks DATA. */
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_NODATA);
    ilen = put_tlv(inner, 99, sizeof(state), state);
    blen = put_tlv(body, VTPM_BLOB_TAG_MIGRATION_DATA, (uint32_t)ilen, inner);
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_NODATA);
}

static void test_unknown_tags_are_skipped(void **unused)
{
    uint8_t b[128], body[96], other[] = {9, 9};
    const uint8_t *d = NULL;
    size_t blen = 0, dl = 0;

    (void)unused;
    blen += put_tlv(body, 77, sizeof(other), other);
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    /* A second DATA: the first one counts, as in swtpm. */
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_DATA, sizeof(other), other);
    assert_int_equal(vtpm_blob_file_decode(b, make_blob(b, 0, body, blen), &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, sizeof(state));
    assert_memory_equal(d, state, sizeof(state));
}

/* Shapes swtpm_nvstore.c produces with a --key / --migration-key (contents are random). */
static void test_encrypted_forms(void **unused)
{
    uint8_t b[256], body[192], inner[192], junk[32];
    size_t blen, ilen;

    (void)unused;
    memset(junk, 0x5a, sizeof(junk));
    /* State file encrypted with a 128-bit key: ENCRYPTED_DATA, HMAC, IV. */
    blen = put_tlv(body, VTPM_BLOB_TAG_ENCRYPTED_DATA, 32, junk);
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_HMAC, 32, junk);
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_IVEC_ENCRYPTED_DATA, 16, junk);
    assert_int_equal(file_decode(b, make_blob(b, VTPM_BLOB_FLAG_ENCRYPTED, body, blen)),
                     VTPM_BLOB_E_ENCRYPTED);
    assert_int_equal(
        file_decode(b, make_blob(b, VTPM_BLOB_FLAG_ENCRYPTED | VTPM_BLOB_FLAG_ENCRYPTED_256BIT_KEY,
                                 body, blen)),
        VTPM_BLOB_E_ENCRYPTED);
    /* The records give it away even without the flag. */
    assert_int_equal(file_decode(b, make_blob(b, 0, body, blen)), VTPM_BLOB_E_ENCRYPTED);

    /* GET_STATEBLOB with a state key only: MIGRATION_DATA wraps the encrypted records. */
    memcpy(inner, body, blen);
    ilen = blen;
    blen = put_tlv(body, VTPM_BLOB_TAG_MIGRATION_DATA, (uint32_t)ilen, inner);
    assert_int_equal(
        mig_decode(
            b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA | VTPM_BLOB_FLAG_ENCRYPTED, body, blen)),
        VTPM_BLOB_E_ENCRYPTED);
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_ENCRYPTED);
    /* A plain DATA inside, but the header says the state key was used. */
    ilen = put_tlv(inner, VTPM_BLOB_TAG_DATA, sizeof(state), state);
    blen = put_tlv(body, VTPM_BLOB_TAG_MIGRATION_DATA, (uint32_t)ilen, inner);
    assert_int_equal(
        mig_decode(
            b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA | VTPM_BLOB_FLAG_ENCRYPTED, body, blen)),
        VTPM_BLOB_E_ENCRYPTED);

    /* With a migration key: ENCRYPTED_MIGRATION_DATA, HMAC, IV. */
    blen = put_tlv(body, VTPM_BLOB_TAG_ENCRYPTED_MIGRATION_DATA, 32, junk);
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_HMAC, 32, junk);
    blen += put_tlv(body + blen, VTPM_BLOB_TAG_IVEC_ENCRYPTED_MIGRATION_DATA, 16, junk);
    assert_int_equal(
        mig_decode(b, make_blob(b,
                                VTPM_BLOB_FLAG_MIGRATION_DATA | VTPM_BLOB_FLAG_MIGRATION_ENCRYPTED |
                                    VTPM_BLOB_FLAG_MIGRATION_256BIT_KEY,
                                body, blen)),
        VTPM_BLOB_E_ENCRYPTED);
    assert_int_equal(mig_decode(b, make_blob(b, VTPM_BLOB_FLAG_MIGRATION_DATA, body, blen)),
                     VTPM_BLOB_E_ENCRYPTED);
}

static void test_empty_migration_blob(void **unused)
{
    uint8_t b[16] = {0};
    const uint8_t *d;
    size_t dl = 99;

    (void)unused;
    /* GET_STATEBLOB of an absent blob is 0 bytes; SET_STATEBLOB of 0 bytes clears it. */
    assert_int_equal(vtpm_blob_migration_decode(b, 0, &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, 0);
    assert_int_equal(vtpm_blob_migration_decode(NULL, 0, &d, &dl), VTPM_BLOB_OK);
    assert_int_equal(dl, 0);
    /* A state file is never empty. */
    assert_int_equal(file_decode(b, 0), VTPM_BLOB_E_SHORT);
}

static void test_encode_nospace(void **unused)
{
    uint8_t out[64];
    size_t outlen = 12345;

    (void)unused;
    assert_int_equal(vtpm_blob_file_encode(out, vtpm_blob_file_size(sizeof(state)) - 1, state,
                                           sizeof(state), &outlen),
                     VTPM_BLOB_E_NOSPACE);
    assert_int_equal(vtpm_blob_migration_encode(out, vtpm_blob_migration_size(sizeof(state)) - 1,
                                                state, sizeof(state), &outlen),
                     VTPM_BLOB_E_NOSPACE);
    assert_int_equal(vtpm_blob_file_encode(NULL, 0, state, sizeof(state), &outlen),
                     VTPM_BLOB_E_NOSPACE);
    assert_int_equal(outlen, 12345);
    /* The be32 totlen bounds the state; the encoders refuse before touching data. */
    assert_int_equal(vtpm_blob_file_size(UINT32_MAX - 16), UINT32_MAX);
    assert_int_equal(vtpm_blob_file_size((size_t)UINT32_MAX - 15), 0);
    assert_int_equal(vtpm_blob_migration_size(UINT32_MAX - 22), UINT32_MAX);
    assert_int_equal(vtpm_blob_migration_size((size_t)UINT32_MAX - 21), 0);
    assert_int_equal(vtpm_blob_file_size(SIZE_MAX), 0);
    assert_int_equal(vtpm_blob_file_encode(out, sizeof(out), state, SIZE_MAX, &outlen),
                     VTPM_BLOB_E_NOSPACE);
    assert_int_equal(vtpm_blob_migration_encode(out, sizeof(out), state, SIZE_MAX, &outlen),
                     VTPM_BLOB_E_NOSPACE);
}

static void test_tlv_find(void **unused)
{
    uint8_t s[64];
    const uint8_t *v = NULL;
    size_t n = 0, vl = 99;

    (void)unused;
    n += put_tlv(s, 5, 0, NULL);
    n += put_tlv(s + n, 6, 3, "abc");
    assert_int_equal(vtpm_blob_tlv_find(s, n, 5, &v, &vl), VTPM_BLOB_OK);
    assert_int_equal(vl, 0);
    assert_ptr_equal(v, s + 6);
    assert_int_equal(vtpm_blob_tlv_find(s, n, 6, &v, &vl), VTPM_BLOB_OK);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "abc", 3);
    assert_int_equal(vtpm_blob_tlv_find(s, n, 7, &v, &vl), VTPM_BLOB_E_NODATA);
    assert_int_equal(vtpm_blob_tlv_find(s, 0, 7, &v, &vl), VTPM_BLOB_E_NODATA);
    assert_int_equal(vtpm_blob_tlv_find(s, n - 1, 5, &v, &vl), VTPM_BLOB_E_TLV);
}

static void test_header_parse_keeps_fields(void **unused)
{
    uint8_t b[16];
    struct vtpm_blob_header h;

    (void)unused;
    put_header(b, 2, 1, 10, 0x0004, 1315, 0);
    assert_int_equal(vtpm_blob_header_parse(b, 10, &h), VTPM_BLOB_E_TOTLEN);
    /* What a caller needs to say "header says 1315 bytes but the file has 10". */
    assert_int_equal(h.totlen, 1315);
    assert_int_equal(h.flags, 4);
    assert_int_equal(h.version, 2);
    assert_int_equal(vtpm_blob_header_parse(b, 9, &h), VTPM_BLOB_E_SHORT);
}

static void test_strerror(void **unused)
{
    (void)unused;
    for (int e = VTPM_BLOB_OK; e <= VTPM_BLOB_E_NOSPACE; e++) {
        const char *m = vtpm_blob_strerror(e);

        assert_non_null(m);
        assert_true(strlen(m) > 5);
        for (int f = VTPM_BLOB_OK; f < e; f++)
            assert_string_not_equal(m, vtpm_blob_strerror(f));
    }
    assert_non_null(strstr(vtpm_blob_strerror(VTPM_BLOB_E_ENCRYPTED), "--key"));
    assert_non_null(strstr(vtpm_blob_strerror(VTPM_BLOB_E_TOTLEN), "truncated"));
    assert_non_null(strstr(vtpm_blob_strerror(-1), "unknown"));
    assert_non_null(strstr(vtpm_blob_strerror(1000), "unknown"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_migration_round_trip),
        cmocka_unit_test(test_real_swtpm_tpm2_file),
        cmocka_unit_test(test_real_swtpm_tpm2_getstateblob),
        cmocka_unit_test(test_real_swtpm_tpm12),
        cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_version1_forms),
        cmocka_unit_test(test_headerless_legacy_file),
        cmocka_unit_test(test_hdrsize),
        cmocka_unit_test(test_tlv_overrun),
        cmocka_unit_test(test_missing_data),
        cmocka_unit_test(test_unknown_tags_are_skipped),
        cmocka_unit_test(test_encrypted_forms),
        cmocka_unit_test(test_empty_migration_blob),
        cmocka_unit_test(test_encode_nospace),
        cmocka_unit_test(test_tlv_find),
        cmocka_unit_test(test_header_parse_keeps_fields),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
