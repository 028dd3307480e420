/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto/ctrl.h"

#include "util/buf.h"

/* Fixed request body sizes (after the 4-byte code), from the ptm_* request structs. */
static size_t fixed_body_size(uint32_t cmd)
{
    switch (cmd) {
    case VTPM_CMD_INIT:               /* u32 init_flags */
    case VTPM_CMD_SET_BUFFERSIZE:     /* u32 buffersize */
    case VTPM_CMD_LOCK_STORAGE:       /* u32 retries */
        return 4;
    case VTPM_CMD_SET_LOCALITY:       /* u8 loc */
    case VTPM_CMD_RESET_TPMESTABLISHED:
        return 1;
    case VTPM_CMD_HASH_DATA:          /* u32 length, then data */
        return 4;
    case VTPM_CMD_GET_STATEBLOB:      /* u32 state_flags, u32 type, u32 offset */
    case VTPM_CMD_SET_STATEBLOB:      /* u32 state_flags, u32 type, u32 length, then data */
        return 12;
    case VTPM_CMD_GET_INFO:           /* u64 flags, u32 offset, u32 pad */
        return 16;
    default:
        return 0;
    }
}

enum vtpm_ctrl_size vtpm_ctrl_request_size(const uint8_t *buf, size_t have, size_t *needed)
{
    *needed = 4;
    if (have < 4)
        return VTPM_CTRL_NEED_MORE;

    uint32_t cmd = get_be32(buf);
    size_t total = 4 + fixed_body_size(cmd);
    *needed = total;
    if (have < total)
        return VTPM_CTRL_NEED_MORE;

    uint64_t extra = 0;
    if (cmd == VTPM_CMD_HASH_DATA) {
        extra = get_be32(buf + 4);
        if (extra > VTPM_CTRL_MAX_HASH_DATA)
            return VTPM_CTRL_TOO_LARGE;
    } else if (cmd == VTPM_CMD_SET_STATEBLOB) {
        extra = get_be32(buf + 12);
        if (extra > VTPM_CTRL_MAX_BLOB)
            return VTPM_CTRL_TOO_LARGE;
    }
    *needed = total + (size_t)extra;
    return have >= *needed ? VTPM_CTRL_COMPLETE : VTPM_CTRL_NEED_MORE;
}

const char *vtpm_ctrl_cmd_name(uint32_t cmd)
{
    static const char *const names[] = {
        [VTPM_CMD_GET_CAPABILITY] = "CMD_GET_CAPABILITY",
        [VTPM_CMD_INIT] = "CMD_INIT",
        [VTPM_CMD_SHUTDOWN] = "CMD_SHUTDOWN",
        [VTPM_CMD_GET_TPMESTABLISHED] = "CMD_GET_TPMESTABLISHED",
        [VTPM_CMD_SET_LOCALITY] = "CMD_SET_LOCALITY",
        [VTPM_CMD_HASH_START] = "CMD_HASH_START",
        [VTPM_CMD_HASH_DATA] = "CMD_HASH_DATA",
        [VTPM_CMD_HASH_END] = "CMD_HASH_END",
        [VTPM_CMD_CANCEL_TPM_CMD] = "CMD_CANCEL_TPM_CMD",
        [VTPM_CMD_STORE_VOLATILE] = "CMD_STORE_VOLATILE",
        [VTPM_CMD_RESET_TPMESTABLISHED] = "CMD_RESET_TPMESTABLISHED",
        [VTPM_CMD_GET_STATEBLOB] = "CMD_GET_STATEBLOB",
        [VTPM_CMD_SET_STATEBLOB] = "CMD_SET_STATEBLOB",
        [VTPM_CMD_STOP] = "CMD_STOP",
        [VTPM_CMD_GET_CONFIG] = "CMD_GET_CONFIG",
        [VTPM_CMD_SET_DATAFD] = "CMD_SET_DATAFD",
        [VTPM_CMD_SET_BUFFERSIZE] = "CMD_SET_BUFFERSIZE",
        [VTPM_CMD_GET_INFO] = "CMD_GET_INFO",
        [VTPM_CMD_LOCK_STORAGE] = "CMD_LOCK_STORAGE",
    };

    if (cmd >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[cmd];
}
