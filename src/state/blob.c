/* SPDX-License-Identifier: BSD-3-Clause */
#include "state/blob.h"

#include <stdbool.h>

#include "util/buf.h"

/* Largest totlen the be32 field can carry. */
#define BLOB_MAX_TOTAL UINT32_MAX

const char *vtpm_blob_strerror(int err)
{
    switch (err) {
    case VTPM_BLOB_OK:
        return "no error";
    case VTPM_BLOB_E_SHORT:
        return "shorter than the 10-byte blob header";
    case VTPM_BLOB_E_VERSION:
        return "blob header version is not one vtpmd understands (2)";
    case VTPM_BLOB_E_HDRSIZE:
        return "blob header size field is not 10";
    case VTPM_BLOB_E_TOTLEN:
        return "truncated or has trailing bytes";
    case VTPM_BLOB_E_TLV:
        return "a tag-length-value record runs past the end";
    case VTPM_BLOB_E_NODATA:
        return "holds no TPM state record";
    case VTPM_BLOB_E_ENCRYPTED:
        return "state is encrypted; vtpmd needs --key/--migration-key";
    case VTPM_BLOB_E_NOSPACE:
        return "state does not fit the output buffer or the format's 32-bit lengths";
    }
    return "unknown state blob error";
}

int vtpm_blob_header_parse(const uint8_t *in, size_t len, struct vtpm_blob_header *h)
{
    struct vtpm_reader r;

    vtpm_reader_init(&r, in, len);
    h->version = vtpm_read_u8(&r);
    h->min_version = vtpm_read_u8(&r);
    h->hdrsize = vtpm_read_be16(&r);
    h->flags = vtpm_read_be16(&r);
    h->totlen = vtpm_read_be32(&r);
    if (r.err)
        return VTPM_BLOB_E_SHORT;
    /* min_version names the oldest reader that understands the blob. */
    if (h->version == 0 || h->min_version > VTPM_BLOB_VERSION)
        return VTPM_BLOB_E_VERSION;
    /* swtpm's CheckHeader insists on exactly its own header size. */
    if (h->hdrsize != VTPM_BLOB_HDR_SIZE)
        return VTPM_BLOB_E_HDRSIZE;
    if (h->totlen != len)
        return VTPM_BLOB_E_TOTLEN;
    return VTPM_BLOB_OK;
}

int vtpm_blob_tlv_find(const uint8_t *in, size_t len, uint16_t tag, const uint8_t **val,
                       size_t *vallen)
{
    struct vtpm_reader r;
    const uint8_t *found = NULL;
    size_t found_len = 0;
    bool have = false;

    /*
     * swtpm stops at the first match and ignores what follows; walking the
     * whole stream as well lets a damaged record anywhere show as damage.
     */
    vtpm_reader_init(&r, in, len);
    while (vtpm_reader_left(&r) > 0) {
        uint16_t t = vtpm_read_be16(&r);
        uint32_t l = vtpm_read_be32(&r);
        const uint8_t *v = vtpm_read_bytes(&r, l);

        if (r.err)
            return VTPM_BLOB_E_TLV;
        if (t == tag && !have) {
            have = true;
            found = v;
            found_len = l;
        }
    }
    if (!have)
        return VTPM_BLOB_E_NODATA;
    *val = found;
    *vallen = found_len;
    return VTPM_BLOB_OK;
}

static bool tlv_has(const uint8_t *in, size_t len, uint16_t tag)
{
    const uint8_t *v;
    size_t vl;

    return vtpm_blob_tlv_find(in, len, tag, &v, &vl) == VTPM_BLOB_OK;
}

/* The DATA record of a version 2 TLV stream; encrypted streams carry ENCRYPTED_DATA. */
static int find_state_data(const uint8_t *tlvs, size_t len, const uint8_t **data, size_t *datalen)
{
    int rc = vtpm_blob_tlv_find(tlvs, len, VTPM_BLOB_TAG_DATA, data, datalen);

    if (rc == VTPM_BLOB_E_NODATA && tlv_has(tlvs, len, VTPM_BLOB_TAG_ENCRYPTED_DATA))
        return VTPM_BLOB_E_ENCRYPTED;
    return rc;
}

size_t vtpm_blob_file_size(size_t datalen)
{
    size_t overhead = VTPM_BLOB_HDR_SIZE + VTPM_BLOB_TLV_HDR_SIZE;

    if (datalen > BLOB_MAX_TOTAL - overhead)
        return 0;
    return overhead + datalen;
}

size_t vtpm_blob_migration_size(size_t datalen)
{
    size_t overhead = VTPM_BLOB_HDR_SIZE + 2 * VTPM_BLOB_TLV_HDR_SIZE;

    if (datalen > BLOB_MAX_TOTAL - overhead)
        return 0;
    return overhead + datalen;
}

static void write_header(struct vtpm_writer *w, uint16_t flags, size_t total)
{
    vtpm_write_u8(w, VTPM_BLOB_VERSION);
    vtpm_write_u8(w, VTPM_BLOB_MIN_VERSION);
    vtpm_write_be16(w, VTPM_BLOB_HDR_SIZE);
    vtpm_write_be16(w, flags);
    vtpm_write_be32(w, (uint32_t)total);
}

static void write_tlv_header(struct vtpm_writer *w, uint16_t tag, size_t len)
{
    vtpm_write_be16(w, tag);
    vtpm_write_be32(w, (uint32_t)len);
}

int vtpm_blob_file_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len, size_t *outlen)
{
    size_t total = vtpm_blob_file_size(len);
    struct vtpm_writer w;

    if (total == 0 || total > cap)
        return VTPM_BLOB_E_NOSPACE;
    vtpm_writer_init(&w, out, cap);
    write_header(&w, 0, total);
    write_tlv_header(&w, VTPM_BLOB_TAG_DATA, len);
    vtpm_write_bytes(&w, data, len);
    if (w.err)
        return VTPM_BLOB_E_NOSPACE;
    *outlen = w.pos;
    return VTPM_BLOB_OK;
}

int vtpm_blob_migration_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len,
                               size_t *outlen)
{
    size_t total = vtpm_blob_migration_size(len);
    struct vtpm_writer w;

    if (total == 0 || total > cap)
        return VTPM_BLOB_E_NOSPACE;
    vtpm_writer_init(&w, out, cap);
    write_header(&w, VTPM_BLOB_FLAG_MIGRATION_DATA, total);
    write_tlv_header(&w, VTPM_BLOB_TAG_MIGRATION_DATA, VTPM_BLOB_TLV_HDR_SIZE + len);
    write_tlv_header(&w, VTPM_BLOB_TAG_DATA, len);
    vtpm_write_bytes(&w, data, len);
    if (w.err)
        return VTPM_BLOB_E_NOSPACE;
    *outlen = w.pos;
    return VTPM_BLOB_OK;
}

int vtpm_blob_file_decode(const uint8_t *in, size_t len, const uint8_t **data, size_t *datalen)
{
    struct vtpm_blob_header h;
    int rc;

    if (len < VTPM_BLOB_HDR_SIZE)
        return VTPM_BLOB_E_SHORT;
    if (in[0] == 0) {
        /* No header: swtpm 0.7.1 hands such a file to libtpms whole. */
        *data = in;
        *datalen = len;
        return VTPM_BLOB_OK;
    }
    rc = vtpm_blob_header_parse(in, len, &h);
    if (rc != VTPM_BLOB_OK)
        return rc;
    if (h.flags & VTPM_BLOB_FLAG_ENCRYPTED)
        return VTPM_BLOB_E_ENCRYPTED;
    if (h.version == 1) {
        /* Version 1 put the libtpms bytes right after the header. */
        *data = in + VTPM_BLOB_HDR_SIZE;
        *datalen = len - VTPM_BLOB_HDR_SIZE;
        return VTPM_BLOB_OK;
    }
    return find_state_data(in + VTPM_BLOB_HDR_SIZE, len - VTPM_BLOB_HDR_SIZE, data, datalen);
}

int vtpm_blob_migration_decode(const uint8_t *in, size_t len, const uint8_t **data, size_t *datalen)
{
    struct vtpm_blob_header h;
    const uint8_t *body, *inner;
    size_t body_len, inner_len;
    int rc;

    /* swtpm's SetStateBlob: no bytes, or a bare header, sets an empty state. */
    if (len == 0) {
        *data = in;
        *datalen = 0;
        return VTPM_BLOB_OK;
    }
    rc = vtpm_blob_header_parse(in, len, &h);
    if (rc != VTPM_BLOB_OK)
        return rc;
    body = in + VTPM_BLOB_HDR_SIZE;
    body_len = len - VTPM_BLOB_HDR_SIZE;
    if (body_len == 0) {
        *data = body;
        *datalen = 0;
        return VTPM_BLOB_OK;
    }
    if (h.flags & VTPM_BLOB_FLAG_MIGRATION_ENCRYPTED)
        return VTPM_BLOB_E_ENCRYPTED;
    if (h.version == 1) {
        if (h.flags & VTPM_BLOB_FLAG_ENCRYPTED)
            return VTPM_BLOB_E_ENCRYPTED;
        *data = body;
        *datalen = body_len;
        return VTPM_BLOB_OK;
    }
    rc = vtpm_blob_tlv_find(body, body_len, VTPM_BLOB_TAG_MIGRATION_DATA, &inner, &inner_len);
    if (rc == VTPM_BLOB_E_NODATA && tlv_has(body, body_len, VTPM_BLOB_TAG_ENCRYPTED_MIGRATION_DATA))
        return VTPM_BLOB_E_ENCRYPTED;
    if (rc != VTPM_BLOB_OK)
        return rc;
    if (h.flags & VTPM_BLOB_FLAG_ENCRYPTED)
        return VTPM_BLOB_E_ENCRYPTED;
    return find_state_data(inner, inner_len, data, datalen);
}
