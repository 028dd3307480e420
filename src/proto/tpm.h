/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TPM 1.2 / TPM 2.0 command and response framing: the 10-byte header every
 * command and response starts with, and the few commands the daemon itself
 * builds (Startup, Shutdown, error responses). Pure: bytes in, bytes out.
 */
#ifndef VTPM_PROTO_TPM_H
#define VTPM_PROTO_TPM_H

#include <stddef.h>
#include <stdint.h>

enum vtpm_family {
    VTPM_FAMILY_12 = 1,
    VTPM_FAMILY_20 = 2,
};

#define VTPM_TPM_HDR_SIZE 10u

/* TPM 1.2 Main Part 2 §6 (tags), Part 3 (ordinals), Part 2 §16 (return codes) */
#define VTPM_TPM12_TAG_RQU_COMMAND 0x00C1u
#define VTPM_TPM12_TAG_RSP_COMMAND 0x00C4u
#define VTPM_TPM12_ORD_STARTUP 0x00000099u
#define VTPM_TPM12_ST_CLEAR 0x0001u
#define VTPM_TPM12_ST_STATE 0x0002u
#define VTPM_TPM12_ST_DEACTIVATED 0x0003u
#define VTPM_TPM12_FAIL 0x09u
#define VTPM_TPM12_BAD_PARAM_SIZE 0x19u
#define VTPM_TPM12_INVALID_POSTINIT 0x26u
#define VTPM_TPM12_BAD_LOCALITY 0x3Du

/* TPM 2.0 Part 2: TPM_ST, TPM_CC, TPM_SU, TPM_RC */
#define VTPM_TPM2_ST_NO_SESSIONS 0x8001u
#define VTPM_TPM2_ST_SESSIONS 0x8002u
#define VTPM_TPM2_CC_STARTUP 0x00000144u
#define VTPM_TPM2_CC_SHUTDOWN 0x00000145u
#define VTPM_TPM2_SU_CLEAR 0x0000u
#define VTPM_TPM2_SU_STATE 0x0001u
#define VTPM_TPM2_RC_INITIALIZE 0x100u
#define VTPM_TPM2_RC_FAILURE 0x101u
#define VTPM_TPM2_RC_COMMAND_SIZE 0x142u
#define VTPM_TPM2_RC_LOCALITY 0x907u

/* swtpm's vendor command to change the locality in-band (both families) */
#define VTPM_CC_SET_LOCALITY 0x20001000u

/*
 * The TCG "send command" prefix of the TPM 2.0 simulator protocol, which
 * swtpm accepts in front of a TPM 2.0 command (PTM_CAP_SEND_COMMAND_HEADER):
 * be32 TPM_SEND_COMMAND (8), u8 locality, be32 command size. The response is
 * then framed as be32 size, response, be32 0.
 */
#define VTPM_TCG_SEND_COMMAND 8u
#define VTPM_TCG_PREFIX_SIZE 9u

struct vtpm_tpm_hdr {
    uint16_t tag;
    uint32_t size;
    uint32_t code; /* ordinal / command code, or response code */
};

/* Parses the first 10 bytes; returns 0, or -EINVAL if len < 10. */
int vtpm_tpm_hdr_parse(const uint8_t *buf, size_t len, struct vtpm_tpm_hdr *hdr);

/* Writes a 10-byte response carrying only `rc` with the family's response tag. */
size_t vtpm_tpm_error_response(uint8_t out[VTPM_TPM_HDR_SIZE], enum vtpm_family family,
                               uint32_t rc);

/* The response code of a response, or UINT32_MAX if it is shorter than a header. */
uint32_t vtpm_tpm_response_code(const uint8_t *rsp, size_t len);

/* TPM_Startup / TPM2_Startup; `type` is a 1.2 TPM_STARTUP_TYPE. Returns the
 * length (12), or 0 when the family has no such startup type. */
size_t vtpm_tpm_startup_cmd(uint8_t out[12], enum vtpm_family family, uint16_t type);

/* TPM2_Shutdown(su). Returns 12. */
size_t vtpm_tpm2_shutdown_cmd(uint8_t out[12], uint16_t su);

/* The error code for a command whose size field is unacceptable. */
uint32_t vtpm_tpm_size_error_rc(enum vtpm_family family);

#endif
