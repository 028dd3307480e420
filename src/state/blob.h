/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The swtpm state blob envelope. Pure: no I/O, no allocation, no logging.
 *
 * A blob is a 10-byte header followed by tag-length-value records, all
 * big-endian:
 *
 *     u8 version (2)  u8 min_version (1)  be16 hdrsize (10)  be16 flags
 *     be32 totlen (header + everything after it)
 *     { be16 tag, be32 length, length bytes } ...
 *
 * Two forms exist. The state file (DIR/tpm2-00.permall and friends) holds
 * TLV(DATA, libtpms bytes). The migration form, which GET_STATEBLOB hands out
 * and SET_STATEBLOB takes, sets the MIGRATION_DATA flag and wraps that TLV
 * stream once more: TLV(MIGRATION_DATA, TLV(DATA, libtpms bytes)).
 * Encrypted forms replace DATA by ENCRYPTED_DATA + HMAC (+ IV) and set a flag;
 * this codec recognises them and answers VTPM_BLOB_E_ENCRYPTED.
 */
#ifndef VTPM_STATE_BLOB_H
#define VTPM_STATE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#define VTPM_BLOB_HDR_SIZE 10u
#define VTPM_BLOB_TLV_HDR_SIZE 6u
#define VTPM_BLOB_VERSION 2u     /* the version this codec writes and reads */
#define VTPM_BLOB_MIN_VERSION 1u /* what it writes into min_version, as swtpm does */

/* Header flags (swtpm_nvstore.c BLOB_FLAG_*). */
#define VTPM_BLOB_FLAG_ENCRYPTED 0x01u           /* DATA encrypted with the state key */
#define VTPM_BLOB_FLAG_MIGRATION_ENCRYPTED 0x02u /* encrypted with the migration key */
#define VTPM_BLOB_FLAG_MIGRATION_DATA 0x04u      /* migration form */
#define VTPM_BLOB_FLAG_ENCRYPTED_256BIT_KEY 0x08u
#define VTPM_BLOB_FLAG_MIGRATION_256BIT_KEY 0x10u

/* TLV tags (swtpm tlv.h TAG_*). */
enum vtpm_blob_tag {
    VTPM_BLOB_TAG_DATA = 1,
    VTPM_BLOB_TAG_ENCRYPTED_DATA = 2,
    VTPM_BLOB_TAG_HMAC = 3,
    VTPM_BLOB_TAG_MIGRATION_DATA = 4,
    VTPM_BLOB_TAG_ENCRYPTED_MIGRATION_DATA = 5,
    VTPM_BLOB_TAG_IVEC_ENCRYPTED_DATA = 6,
    VTPM_BLOB_TAG_IVEC_ENCRYPTED_MIGRATION_DATA = 7,
};

enum vtpm_blob_err {
    VTPM_BLOB_OK = 0,
    VTPM_BLOB_E_SHORT,     /* fewer bytes than the 10-byte header */
    VTPM_BLOB_E_VERSION,   /* header version 0, or min_version newer than 2 */
    VTPM_BLOB_E_HDRSIZE,   /* hdrsize field is not 10 */
    VTPM_BLOB_E_TOTLEN,    /* totlen differs from the length: truncated or trailing bytes */
    VTPM_BLOB_E_TLV,       /* a TLV record runs past the end of its container */
    VTPM_BLOB_E_NODATA,    /* no DATA (or MIGRATION_DATA) record */
    VTPM_BLOB_E_ENCRYPTED, /* encrypted with a state or migration key */
    VTPM_BLOB_E_NOSPACE,   /* output buffer too small, or data too large for be32 lengths */
};

struct vtpm_blob_header {
    uint8_t version;
    uint8_t min_version;
    uint16_t hdrsize;
    uint16_t flags;
    uint32_t totlen;
};

/* One short phrase for an enum vtpm_blob_err, never NULL. */
const char *vtpm_blob_strerror(int err);

/*
 * Reads and checks the header of a blob of len bytes: E_SHORT, E_VERSION,
 * E_HDRSIZE, E_TOTLEN in that order. On E_TOTLEN (and E_VERSION, E_HDRSIZE)
 * *h is still filled in, so a caller can name the damage.
 */
int vtpm_blob_header_parse(const uint8_t *in, size_t len, struct vtpm_blob_header *h);

/*
 * Finds the first record with the given tag in a TLV stream of len bytes.
 * The whole stream must consist of complete records (E_TLV otherwise);
 * E_NODATA if no record has the tag. *val points into in.
 */
int vtpm_blob_tlv_find(const uint8_t *in, size_t len, uint16_t tag, const uint8_t **val,
                       size_t *vallen);

/* Bytes needed to encode datalen bytes of state; 0 if too large for the format. */
size_t vtpm_blob_file_size(size_t datalen);
size_t vtpm_blob_migration_size(size_t datalen);

/* Write the unencrypted state-file / migration form into out[cap]. */
int vtpm_blob_file_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len,
                          size_t *outlen);
int vtpm_blob_migration_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len,
                               size_t *outlen);

/*
 * Decode a state file into the libtpms bytes; *data points into in.
 * Accepts what swtpm 0.7.1 loads: the version 2 TLV form, the version 1
 * form (header + raw bytes) and files without any header, as early swtpm
 * versions wrote them (recognised by a first byte of 0: every libtpms blob
 * starts with a small be16, a format version or structure tag, while every
 * header starts with a version of at least 1).
 */
int vtpm_blob_file_decode(const uint8_t *in, size_t len, const uint8_t **data, size_t *datalen);

/*
 * Decode a SET_STATEBLOB / GET_STATEBLOB blob into the libtpms bytes; *data
 * points into in. As swtpm, a header is required, and an empty blob or a bare
 * header means "no state of this type": OK with *datalen 0.
 */
int vtpm_blob_migration_decode(const uint8_t *in, size_t len, const uint8_t **data,
                               size_t *datalen);

#endif
