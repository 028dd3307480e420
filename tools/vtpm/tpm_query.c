/* SPDX-License-Identifier: BSD-3-Clause */
#include "tpm_query.h"

#include <errno.h>
#include <string.h>

#include "proto/tpm.h"
#include "util/buf.h"

/* TPM 2.0 Part 2 §10.6.1 TPMS_PCR_SELECT: PCR 0..23 fit in three bytes */
#define PCR_SELECT_BYTES 3u
/* TPM 2.0 Part 2 §10.9.7 and §10.6.2: no TPM has more banks than this */
#define MAX_BANKS 16u

/* Starts a command: tag, a size patched in by finish_cmd, code. */
static void start_cmd(struct vtpm_writer *w, uint8_t *out, size_t cap, uint16_t tag, uint32_t code)
{
    vtpm_writer_init(w, out, cap);
    vtpm_write_be16(w, tag);
    vtpm_write_be32(w, 0);
    vtpm_write_be32(w, code);
}

static size_t finish_cmd(struct vtpm_writer *w)
{
    if (w->err)
        return 0;
    put_be32(w->p + 2, (uint32_t)w->pos);
    return w->pos;
}

/* Reads the header; the caller has checked the response code already. */
static void skip_header(struct vtpm_reader *r, const uint8_t *rsp, size_t len)
{
    vtpm_reader_init(r, rsp, len);
    (void)vtpm_read_bytes(r, VTPM_TPM_HDR_SIZE);
}

size_t tq_tpm2_get_props_cmd(uint8_t *out, size_t cap, uint32_t first, uint32_t count)
{
    struct vtpm_writer w;

    start_cmd(&w, out, cap, VTPM_TPM2_ST_NO_SESSIONS, TQ_TPM2_CC_GET_CAPABILITY);
    vtpm_write_be32(&w, TQ_TPM2_CAP_TPM_PROPERTIES);
    vtpm_write_be32(&w, first);
    vtpm_write_be32(&w, count);
    return finish_cmd(&w);
}

int tq_tpm2_parse_props(const uint8_t *rsp, size_t len, uint32_t first, uint32_t count,
                        uint32_t *values, bool *present)
{
    struct vtpm_reader r;

    memset(present, 0, count * sizeof(*present));
    skip_header(&r, rsp, len);
    (void)vtpm_read_u8(&r); /* moreData */
    uint32_t capability = vtpm_read_be32(&r);
    uint32_t n = vtpm_read_be32(&r);
    if (r.err || capability != TQ_TPM2_CAP_TPM_PROPERTIES || n > vtpm_reader_left(&r) / 8)
        return -EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t property = vtpm_read_be32(&r);
        uint32_t value = vtpm_read_be32(&r);
        if (property >= first && property - first < count) {
            values[property - first] = value;
            present[property - first] = true;
        }
    }
    return r.err ? -EINVAL : 0;
}

size_t tq_tpm2_pcr_read_cmd(uint8_t *out, size_t cap, uint16_t hash_alg, unsigned pcr)
{
    struct vtpm_writer w;
    uint8_t select[PCR_SELECT_BYTES] = {0};

    if (pcr >= PCR_SELECT_BYTES * 8)
        return 0;
    select[pcr / 8] = (uint8_t)(1u << (pcr % 8));
    start_cmd(&w, out, cap, VTPM_TPM2_ST_NO_SESSIONS, TQ_TPM2_CC_PCR_READ);
    vtpm_write_be32(&w, 1); /* TPML_PCR_SELECTION.count */
    vtpm_write_be16(&w, hash_alg);
    vtpm_write_u8(&w, PCR_SELECT_BYTES);
    vtpm_write_bytes(&w, select, sizeof(select));
    return finish_cmd(&w);
}

int tq_tpm2_parse_pcr_read(const uint8_t *rsp, size_t len, uint8_t *digest, size_t cap,
                           size_t *digest_len)
{
    struct vtpm_reader r;

    skip_header(&r, rsp, len);
    (void)vtpm_read_be32(&r); /* pcrUpdateCounter */
    uint32_t banks = vtpm_read_be32(&r);
    if (banks > MAX_BANKS)
        return -EINVAL;
    for (uint32_t i = 0; i < banks; i++) {
        (void)vtpm_read_be16(&r); /* hash */
        (void)vtpm_read_bytes(&r, vtpm_read_u8(&r));
    }
    uint32_t digests = vtpm_read_be32(&r);
    if (r.err)
        return -EINVAL;
    if (digests == 0)
        return -ENOENT;
    uint16_t size = vtpm_read_be16(&r);
    const uint8_t *bytes = vtpm_read_bytes(&r, size);
    if (!bytes || size > cap)
        return -EINVAL;
    memcpy(digest, bytes, size);
    *digest_len = size;
    return 0;
}

size_t tq_tpm12_get_cap_cmd(uint8_t *out, size_t cap, uint32_t area, const uint8_t *sub,
                            uint32_t sub_len)
{
    struct vtpm_writer w;

    start_cmd(&w, out, cap, VTPM_TPM12_TAG_RQU_COMMAND, TQ_TPM12_ORD_GET_CAPABILITY);
    vtpm_write_be32(&w, area);
    vtpm_write_be32(&w, sub_len);
    vtpm_write_bytes(&w, sub, sub_len);
    return finish_cmd(&w);
}

int tq_tpm12_parse_get_cap(const uint8_t *rsp, size_t len, const uint8_t **data, uint32_t *data_len)
{
    struct vtpm_reader r;

    skip_header(&r, rsp, len);
    *data_len = vtpm_read_be32(&r);
    *data = vtpm_read_bytes(&r, *data_len);
    return *data ? 0 : -EINVAL;
}

int tq_tpm12_parse_version_info(const uint8_t *data, size_t len, struct tq_tpm12_version *v)
{
    struct vtpm_reader r;

    vtpm_reader_init(&r, data, len);
    if (vtpm_read_be16(&r) != TQ_TPM12_TAG_CAP_VERSION_INFO)
        return -EINVAL;
    v->major = vtpm_read_u8(&r);
    v->minor = vtpm_read_u8(&r);
    v->rev_major = vtpm_read_u8(&r);
    v->rev_minor = vtpm_read_u8(&r);
    v->spec_level = vtpm_read_be16(&r);
    v->errata_rev = vtpm_read_u8(&r);
    const uint8_t *vendor = vtpm_read_bytes(&r, sizeof(v->vendor_id));
    v->vendor_specific_len = vtpm_read_be16(&r);
    v->vendor_specific = vtpm_read_bytes(&r, v->vendor_specific_len);
    if (r.err)
        return -EINVAL;
    memcpy(v->vendor_id, vendor, sizeof(v->vendor_id));
    return 0;
}

size_t tq_tpm12_pcr_read_cmd(uint8_t *out, size_t cap, uint32_t pcr)
{
    struct vtpm_writer w;

    start_cmd(&w, out, cap, VTPM_TPM12_TAG_RQU_COMMAND, TQ_TPM12_ORD_PCR_READ);
    vtpm_write_be32(&w, pcr);
    return finish_cmd(&w);
}

int tq_tpm12_parse_pcr_read(const uint8_t *rsp, size_t len, uint8_t digest[TQ_SHA1_SIZE])
{
    struct vtpm_reader r;

    skip_header(&r, rsp, len);
    const uint8_t *bytes = vtpm_read_bytes(&r, TQ_SHA1_SIZE);
    if (!bytes)
        return -EINVAL;
    memcpy(digest, bytes, TQ_SHA1_SIZE);
    return 0;
}
