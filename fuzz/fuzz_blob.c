/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The swtpm state blob codec (src/state/blob.c): the header parser, the TLV
 * walk, and both decoders run on the input as an untrusted blob (a state
 * file from disk, a SET_STATEBLOB payload); then the input is taken as
 * libtpms bytes, encoded into both forms, decoded back and torn.
 *
 * libFuzzer hands over a heap copy of exactly the input's size, so any read
 * past the blob is an ASan report; what the decoders return must in
 * addition point inside the blob, and the DATA it names must be a record
 * that is really there.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "state/blob.h"
#include "util/buf.h"

static void check_header(const uint8_t *in, size_t len)
{
    struct vtpm_blob_header h;
    int rc = vtpm_blob_header_parse(in, len, &h);

    if (len < VTPM_BLOB_HDR_SIZE) {
        FUZZ_CHECK(rc == VTPM_BLOB_E_SHORT);
        return;
    }
    FUZZ_CHECK(h.version == in[0] && h.min_version == in[1] && h.hdrsize == get_be16(in + 2) &&
               h.flags == get_be16(in + 4) && h.totlen == get_be32(in + 6));
    /* The documented order: version, header size, total length. */
    int want = VTPM_BLOB_OK;
    if (h.version == 0 || h.min_version > VTPM_BLOB_VERSION)
        want = VTPM_BLOB_E_VERSION;
    else if (h.hdrsize != VTPM_BLOB_HDR_SIZE)
        want = VTPM_BLOB_E_HDRSIZE;
    else if (h.totlen != len)
        want = VTPM_BLOB_E_TOTLEN;
    FUZZ_CHECK(rc == want);
    FUZZ_CHECK(strlen(vtpm_blob_strerror(rc)) > 0);
}

/* A record the walk returned: inside the stream, with its own header in front of it. */
static void check_record(const uint8_t *in, size_t len, uint16_t tag, const uint8_t *val,
                         size_t vallen)
{
    FUZZ_CHECK(fuzz_inside(val, vallen, in, len));
    FUZZ_CHECK(val - in >= (ptrdiff_t)VTPM_BLOB_TLV_HDR_SIZE);
    FUZZ_CHECK(get_be16(val - 6) == tag && get_be32(val - 4) == vallen);
}

static void check_tlv_walk(const uint8_t *in, size_t len, uint16_t tag)
{
    const uint8_t *val = NULL;
    size_t vallen = 0;
    int rc = vtpm_blob_tlv_find(in, len, tag, &val, &vallen);

    /* A stream of whole records, walked here by hand: is the tag there, and where first? */
    size_t pos = 0;
    const uint8_t *first = NULL;
    bool whole = true;
    while (pos < len) {
        if (len - pos < VTPM_BLOB_TLV_HDR_SIZE || get_be32(in + pos + 2) > len - pos - 6) {
            whole = false;
            break;
        }
        if (!first && get_be16(in + pos) == tag)
            first = in + pos + 6;
        pos += 6 + (size_t)get_be32(in + pos + 2);
    }
    if (!whole) {
        FUZZ_CHECK(rc == VTPM_BLOB_E_TLV);
        return;
    }
    if (!first) {
        FUZZ_CHECK(rc == VTPM_BLOB_E_NODATA);
        return;
    }
    FUZZ_CHECK(rc == VTPM_BLOB_OK && val == first);
    check_record(in, len, tag, val, vallen);
}

static void check_file_decode(const uint8_t *in, size_t len)
{
    const uint8_t *d = NULL;
    size_t dl = 0;
    int rc = vtpm_blob_file_decode(in, len, &d, &dl);

    if (rc != VTPM_BLOB_OK) {
        FUZZ_CHECK(rc > VTPM_BLOB_OK && rc < VTPM_BLOB_E_NOSPACE);
        return;
    }
    FUZZ_CHECK(len >= VTPM_BLOB_HDR_SIZE);
    FUZZ_CHECK(fuzz_inside(d, dl, in, len));
    if (in[0] == 0) {
        /* Headerless (swtpm before the blob header): all of it is state. */
        FUZZ_CHECK(d == in && dl == len);
        return;
    }
    FUZZ_CHECK(vtpm_blob_header_parse(in, len, &(struct vtpm_blob_header){0}) == VTPM_BLOB_OK);
    FUZZ_CHECK(!(get_be16(in + 4) & VTPM_BLOB_FLAG_ENCRYPTED));
    if (in[0] == 1) {
        FUZZ_CHECK(d == in + VTPM_BLOB_HDR_SIZE && dl == len - VTPM_BLOB_HDR_SIZE);
        return;
    }
    check_record(in + VTPM_BLOB_HDR_SIZE, len - VTPM_BLOB_HDR_SIZE, VTPM_BLOB_TAG_DATA, d, dl);
}

static void check_migration_decode(const uint8_t *in, size_t len)
{
    const uint8_t *d = NULL;
    size_t dl = 0;
    int rc = vtpm_blob_migration_decode(in, len, &d, &dl);

    if (rc != VTPM_BLOB_OK) {
        FUZZ_CHECK(rc > VTPM_BLOB_OK && rc < VTPM_BLOB_E_NOSPACE);
        return;
    }
    FUZZ_CHECK(fuzz_inside(d, dl, in, len));
    if (len <= VTPM_BLOB_HDR_SIZE) {
        /* Nothing, or a bare header: "no state of this type". */
        FUZZ_CHECK(dl == 0);
        return;
    }
    FUZZ_CHECK(vtpm_blob_header_parse(in, len, &(struct vtpm_blob_header){0}) == VTPM_BLOB_OK);
    uint16_t flags = get_be16(in + 4);
    FUZZ_CHECK(!(flags & (VTPM_BLOB_FLAG_ENCRYPTED | VTPM_BLOB_FLAG_MIGRATION_ENCRYPTED)));
    if (in[0] == 1) {
        FUZZ_CHECK(d == in + VTPM_BLOB_HDR_SIZE && dl == len - VTPM_BLOB_HDR_SIZE);
        return;
    }
    /* DATA inside MIGRATION_DATA inside the body. */
    FUZZ_CHECK(get_be16(d - 6) == VTPM_BLOB_TAG_DATA && get_be32(d - 4) == dl);
    FUZZ_CHECK(d - in >= (ptrdiff_t)(VTPM_BLOB_HDR_SIZE + 2 * VTPM_BLOB_TLV_HDR_SIZE));
}

typedef int (*encode_fn)(uint8_t *, size_t, const uint8_t *, size_t, size_t *);
typedef int (*decode_fn)(const uint8_t *, size_t, const uint8_t **, size_t *);

/* decode(encode(x)) == x; a smaller buffer is refused untouched; a torn blob never decodes. */
static void check_round_trip(const uint8_t *payload, size_t len, size_t size, encode_fn enc,
                             decode_fn dec, uint32_t pick, bool empty_ok)
{
    uint8_t *out = malloc(size);
    size_t outlen = 0;
    const uint8_t *d = NULL;
    size_t dl = 0;

    FUZZ_CHECK(out != NULL);
    FUZZ_CHECK(size > len);
    FUZZ_CHECK(enc(out, size - 1, payload, len, &outlen) == VTPM_BLOB_E_NOSPACE);
    FUZZ_CHECK(enc(out, size, payload, len, &outlen) == VTPM_BLOB_OK && outlen == size);
    FUZZ_CHECK(vtpm_blob_header_parse(out, size, &(struct vtpm_blob_header){0}) == VTPM_BLOB_OK);
    FUZZ_CHECK(dec(out, size, &d, &dl) == VTPM_BLOB_OK);
    FUZZ_CHECK(dl == len && d == out + size - len && memcmp(d, payload, len) == 0);

    /* Torn writes: a prefix of the blob is damage (or, for migration, nothing at all). */
    size_t cuts[3] = {size - 1, pick % size, VTPM_BLOB_HDR_SIZE};
    for (size_t i = 0; i < 3; i++) {
        int rc = dec(out, cuts[i], &d, &dl);
        if (empty_ok && cuts[i] == 0)
            FUZZ_CHECK(rc == VTPM_BLOB_OK && dl == 0);
        else
            FUZZ_CHECK(rc ==
                       (cuts[i] < VTPM_BLOB_HDR_SIZE ? VTPM_BLOB_E_SHORT : VTPM_BLOB_E_TOTLEN));
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t pick = fuzz_hash(data, size);

    /* The input as a blob from outside. */
    check_header(data, size);
    check_file_decode(data, size);
    check_migration_decode(data, size);
    for (uint16_t tag = VTPM_BLOB_TAG_DATA; tag <= VTPM_BLOB_TAG_IVEC_ENCRYPTED_MIGRATION_DATA;
         tag++)
        check_tlv_walk(data, size, tag);
    if (size > VTPM_BLOB_HDR_SIZE) {
        for (uint16_t tag = 1; tag <= 5; tag += 3)
            check_tlv_walk(data + VTPM_BLOB_HDR_SIZE, size - VTPM_BLOB_HDR_SIZE, tag);
    }

    /* The input as libtpms bytes. */
    FUZZ_CHECK(vtpm_blob_file_size(size) == size + 16);
    FUZZ_CHECK(vtpm_blob_migration_size(size) == size + 22);
    check_round_trip(data, size, size + 16, vtpm_blob_file_encode, vtpm_blob_file_decode, pick,
                     false);
    check_round_trip(data, size, size + 22, vtpm_blob_migration_encode, vtpm_blob_migration_decode,
                     pick, true);

    /* A decoded state saved again decodes to the same bytes. */
    const uint8_t *d;
    size_t dl;
    if (vtpm_blob_file_decode(data, size, &d, &dl) == VTPM_BLOB_OK)
        check_round_trip(d, dl, dl + 16, vtpm_blob_file_encode, vtpm_blob_file_decode, pick, false);
    if (vtpm_blob_migration_decode(data, size, &d, &dl) == VTPM_BLOB_OK)
        check_round_trip(d, dl, dl + 22, vtpm_blob_migration_encode, vtpm_blob_migration_decode,
                         pick, true);

    /* Lengths the be32 fields cannot carry are refused, not wrapped. */
    FUZZ_CHECK(vtpm_blob_file_size((size_t)UINT32_MAX) == 0);
    FUZZ_CHECK(vtpm_blob_migration_size((size_t)UINT32_MAX - 21) == 0);
    FUZZ_CHECK(vtpm_blob_migration_size((size_t)UINT32_MAX - 22) == UINT32_MAX);
    return 0;
}
