/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The few TPM commands `vtpm info` sends, built and parsed without I/O.
 * Builders return the command length (0 if `cap` is too small). Parsers
 * take a whole response whose response code the caller has already found
 * to be 0, read it through struct vtpm_reader and return 0 or -EINVAL
 * (malformed), or -ENOENT where noted.
 */
#ifndef VTPM_TOOL_TPM_QUERY_H
#define VTPM_TOOL_TPM_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TPM 2.0 Part 2 §6.12 TPM_CAP, §6.13 TPM_PT, §6.3 TPM_ALG_ID; Part 3 §30.2 */
#define TQ_TPM2_CC_GET_CAPABILITY 0x0000017Au
#define TQ_TPM2_CC_PCR_READ 0x0000017Eu
#define TQ_TPM2_CAP_TPM_PROPERTIES 0x00000006u
#define TQ_TPM2_PT_MANUFACTURER 0x00000105u /* then VENDOR_STRING_1..4, VENDOR_TPM_TYPE, */
#define TQ_TPM2_PT_PROPS 8u                 /* FIRMWARE_VERSION_1 and _2: 0x105..0x10C */
#define TQ_TPM2_ALG_SHA256 0x000Bu
#define TQ_SHA256_SIZE 32u

/* TPM 1.2 Main Part 2 §21.1 (capability areas), §21.2 (properties); Part 3 ordinals */
#define TQ_TPM12_ORD_GET_CAPABILITY 0x00000065u
#define TQ_TPM12_ORD_PCR_READ 0x00000015u
#define TQ_TPM12_CAP_PROPERTY 0x00000005u
#define TQ_TPM12_CAP_VERSION_VAL 0x0000001Au
#define TQ_TPM12_CAP_PROP_MANUFACTURER 0x00000103u
#define TQ_TPM12_TAG_CAP_VERSION_INFO 0x0030u
#define TQ_SHA1_SIZE 20u

/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, first, count) */
size_t tq_tpm2_get_props_cmd(uint8_t *out, size_t cap, uint32_t first, uint32_t count);

/*
 * Fills values[i] / present[i] for properties first + i, i < count, from a
 * TPM_CAP_TPM_PROPERTIES answer; properties the TPM did not list stay absent.
 */
int tq_tpm2_parse_props(const uint8_t *rsp, size_t len, uint32_t first, uint32_t count,
                        uint32_t *values, bool *present);

/* TPM2_PCR_Read of one PCR of one bank. */
size_t tq_tpm2_pcr_read_cmd(uint8_t *out, size_t cap, uint16_t hash_alg, unsigned pcr);

/* The first digest of a PCR_Read answer; -ENOENT when it holds none (bank not allocated). */
int tq_tpm2_parse_pcr_read(const uint8_t *rsp, size_t len, uint8_t *digest, size_t cap,
                           size_t *digest_len);

/* TPM_GetCapability(area, sub-capability bytes) */
size_t tq_tpm12_get_cap_cmd(uint8_t *out, size_t cap, uint32_t area, const uint8_t *sub,
                            uint32_t sub_len);

/* The resp bytes of a TPM_GetCapability answer (pointing into rsp). */
int tq_tpm12_parse_get_cap(const uint8_t *rsp, size_t len, const uint8_t **data,
                           uint32_t *data_len);

/* TPM_CAP_VERSION_INFO (TPM 1.2 Main Part 2 §21.6) */
struct tq_tpm12_version {
    uint8_t major, minor, rev_major, rev_minor;
    uint16_t spec_level;
    uint8_t errata_rev;
    uint8_t vendor_id[4];
    uint16_t vendor_specific_len;
    const uint8_t *vendor_specific; /* points into the parsed bytes */
};

int tq_tpm12_parse_version_info(const uint8_t *data, size_t len, struct tq_tpm12_version *v);

/* TPM_PCRRead(pcr) */
size_t tq_tpm12_pcr_read_cmd(uint8_t *out, size_t cap, uint32_t pcr);

int tq_tpm12_parse_pcr_read(const uint8_t *rsp, size_t len, uint8_t digest[TQ_SHA1_SIZE]);

#endif
