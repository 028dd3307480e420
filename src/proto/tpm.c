/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto/tpm.h"

#include <errno.h>

#include "util/buf.h"

int vtpm_tpm_hdr_parse(const uint8_t *buf, size_t len, struct vtpm_tpm_hdr *hdr)
{
    struct vtpm_reader r;

    vtpm_reader_init(&r, buf, len);
    hdr->tag = vtpm_read_be16(&r);
    hdr->size = vtpm_read_be32(&r);
    hdr->code = vtpm_read_be32(&r);
    return r.err ? -EINVAL : 0;
}

size_t vtpm_tpm_error_response(uint8_t out[VTPM_TPM_HDR_SIZE], enum vtpm_family family,
                               uint32_t rc)
{
    uint16_t tag = family == VTPM_FAMILY_20 ? VTPM_TPM2_ST_NO_SESSIONS : VTPM_TPM12_TAG_RSP_COMMAND;

    put_be16(out, tag);
    put_be32(out + 2, VTPM_TPM_HDR_SIZE);
    put_be32(out + 6, rc);
    return VTPM_TPM_HDR_SIZE;
}

uint32_t vtpm_tpm_response_code(const uint8_t *rsp, size_t len)
{
    struct vtpm_tpm_hdr hdr;

    if (vtpm_tpm_hdr_parse(rsp, len, &hdr) < 0)
        return UINT32_MAX;
    return hdr.code;
}

static size_t put_cmd12(uint8_t out[12], uint16_t tag, uint32_t code, uint16_t param)
{
    put_be16(out, tag);
    put_be32(out + 2, 12);
    put_be32(out + 6, code);
    put_be16(out + 10, param);
    return 12;
}

size_t vtpm_tpm_startup_cmd(uint8_t out[12], enum vtpm_family family, uint16_t type)
{
    if (family == VTPM_FAMILY_12)
        return put_cmd12(out, VTPM_TPM12_TAG_RQU_COMMAND, VTPM_TPM12_ORD_STARTUP, type);

    switch (type) {
    case VTPM_TPM12_ST_CLEAR:
        return put_cmd12(out, VTPM_TPM2_ST_NO_SESSIONS, VTPM_TPM2_CC_STARTUP, VTPM_TPM2_SU_CLEAR);
    case VTPM_TPM12_ST_STATE:
        return put_cmd12(out, VTPM_TPM2_ST_NO_SESSIONS, VTPM_TPM2_CC_STARTUP, VTPM_TPM2_SU_STATE);
    default:
        return 0; /* TPM 2.0 has no deactivated startup */
    }
}

size_t vtpm_tpm2_shutdown_cmd(uint8_t out[12], uint16_t su)
{
    return put_cmd12(out, VTPM_TPM2_ST_NO_SESSIONS, VTPM_TPM2_CC_SHUTDOWN, su);
}

uint32_t vtpm_tpm_size_error_rc(enum vtpm_family family)
{
    return family == VTPM_FAMILY_20 ? VTPM_TPM2_RC_COMMAND_SIZE : VTPM_TPM12_BAD_PARAM_SIZE;
}
