/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The swtpm control channel protocol (swtpm_ioctls(3), "Commands used by the
 * non-CUSE TPMs"): a request is a big-endian u32 command code followed by
 * the command's request structure; a response is the big-endian response
 * structure, which starts with a u32 result, except for GET_CAPABILITY
 * whose response is only the u64 capability mask. Pure: no I/O.
 */
#ifndef VTPM_PROTO_CTRL_H
#define VTPM_PROTO_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vtpm_ctrl_cmd {
    VTPM_CMD_GET_CAPABILITY = 0x01,
    VTPM_CMD_INIT = 0x02,
    VTPM_CMD_SHUTDOWN = 0x03,
    VTPM_CMD_GET_TPMESTABLISHED = 0x04,
    VTPM_CMD_SET_LOCALITY = 0x05,
    VTPM_CMD_HASH_START = 0x06,
    VTPM_CMD_HASH_DATA = 0x07,
    VTPM_CMD_HASH_END = 0x08,
    VTPM_CMD_CANCEL_TPM_CMD = 0x09,
    VTPM_CMD_STORE_VOLATILE = 0x0a,
    VTPM_CMD_RESET_TPMESTABLISHED = 0x0b,
    VTPM_CMD_GET_STATEBLOB = 0x0c,
    VTPM_CMD_SET_STATEBLOB = 0x0d,
    VTPM_CMD_STOP = 0x0e,
    VTPM_CMD_GET_CONFIG = 0x0f,
    VTPM_CMD_SET_DATAFD = 0x10,
    VTPM_CMD_SET_BUFFERSIZE = 0x11,
    VTPM_CMD_GET_INFO = 0x12,
    VTPM_CMD_LOCK_STORAGE = 0x13, /* swtpm 0.8 */
};

/* PTM_CAP_* bits of the GET_CAPABILITY answer */
#define VTPM_CAP_INIT (1ull << 0)
#define VTPM_CAP_SHUTDOWN (1ull << 1)
#define VTPM_CAP_GET_TPMESTABLISHED (1ull << 2)
#define VTPM_CAP_SET_LOCALITY (1ull << 3)
#define VTPM_CAP_HASHING (1ull << 4)
#define VTPM_CAP_CANCEL_TPM_CMD (1ull << 5)
#define VTPM_CAP_STORE_VOLATILE (1ull << 6)
#define VTPM_CAP_RESET_TPMESTABLISHED (1ull << 7)
#define VTPM_CAP_GET_STATEBLOB (1ull << 8)
#define VTPM_CAP_SET_STATEBLOB (1ull << 9)
#define VTPM_CAP_STOP (1ull << 10)
#define VTPM_CAP_GET_CONFIG (1ull << 11)
#define VTPM_CAP_SET_DATAFD (1ull << 12)
#define VTPM_CAP_SET_BUFFERSIZE (1ull << 13)
#define VTPM_CAP_GET_INFO (1ull << 14)
#define VTPM_CAP_SEND_COMMAND_HEADER (1ull << 15)
#define VTPM_CAP_LOCK_STORAGE (1ull << 16)

#define VTPM_INIT_FLAG_DELETE_VOLATILE (1u << 0)

#define VTPM_STATE_FLAG_DECRYPTED 1u /* request: hand out the decrypted state */
#define VTPM_STATE_FLAG_ENCRYPTED 2u /* response / SET request: blob is encrypted */

#define VTPM_CONFIG_FLAG_FILE_KEY 0x1u
#define VTPM_CONFIG_FLAG_MIGRATION_KEY 0x2u

/* Result codes the control channel uses (TPM 1.2 return codes). */
#define VTPM_RES_SUCCESS 0x00u
#define VTPM_RES_BAD_PARAMETER 0x03u
#define VTPM_RES_FAIL 0x09u
#define VTPM_RES_BAD_ORDINAL 0x0au
#define VTPM_RES_SIZE 0x17u
#define VTPM_RES_IOERROR 0x1fu
#define VTPM_RES_BAD_LOCALITY 0x3du
#define VTPM_RES_RETRY 0x800u

/* Largest state blob accepted by SET_STATEBLOB (swtpm 0.7.1 has no limit). */
#define VTPM_CTRL_MAX_BLOB (16u * 1024 * 1024)
/* Largest HASH_DATA payload in one request (swtpm_ioctl sends 4 KiB pieces). */
#define VTPM_CTRL_MAX_HASH_DATA (1024u * 1024)

enum vtpm_ctrl_size {
    VTPM_CTRL_NEED_MORE, /* *needed says how many bytes the request has in all */
    VTPM_CTRL_COMPLETE,  /* the first *needed bytes are the whole request */
    VTPM_CTRL_TOO_LARGE, /* the request announces more than the caps above */
};

/*
 * How long is the request that starts with these `have` bytes? Unknown
 * command codes are complete after their 4 code bytes (they are answered
 * with TPM_BAD_ORDINAL).
 */
enum vtpm_ctrl_size vtpm_ctrl_request_size(const uint8_t *buf, size_t have, size_t *needed);

/* "CMD_INIT" etc., or NULL for an unknown code. */
const char *vtpm_ctrl_cmd_name(uint32_t cmd);

/* Size of the fixed part of each response (header of GET_STATEBLOB / GET_INFO). */
#define VTPM_CTRL_GETSTATE_RESP_HDR 16u
#define VTPM_CTRL_GETINFO_RESP_HDR 12u

#endif
