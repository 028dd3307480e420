/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client side of the swtpm control channel (src/proto/ctrl.h): one request,
 * one answer. A failed command's answer may be only the 4-byte result or
 * the full response structure (swtpm sends either, depending on the
 * command), so after a non-zero result the stream position is unknown and
 * the connection should be closed rather than reused.
 */
#ifndef VTPM_TOOL_CTRL_CLIENT_H
#define VTPM_TOOL_CTRL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* "BAD_ORDINAL" etc. for the TPM 1.2 result codes the control channel uses, or NULL. */
const char *ctrl_result_name(uint32_t res);

/* Prints "CMD_X: TPM result code: 0x.. (NAME): what it likely means". */
void ctrl_print_result(const struct cli *cli, uint32_t cmd, uint32_t res);

/*
 * Sends the command code and `body`, then reads the be32 result and, when it
 * is 0, the next resp_len bytes into resp. Returns -1 (printed) on I/O
 * failure, else 0 with the result in *res. With pass_fd >= 0 the fd goes
 * along as SCM_RIGHTS.
 */
int ctrl_call(struct conn *c, uint32_t cmd, const uint8_t *body, size_t body_len, int pass_fd,
              uint32_t *res, uint8_t *resp, size_t resp_len);

/* CMD_GET_CAPABILITY, whose answer is the bare be64 mask. */
int ctrl_get_capability(struct conn *c, uint64_t *caps);

/* Name of capability bit `bit` ("INIT", "LOCK_STORAGE"), or NULL. */
const char *ctrl_cap_name(unsigned bit);

/*
 * CMD_GET_INFO(flags): the JSON text, NUL-terminated, in a malloc'd *text.
 * Returns -1 on I/O failure, else 0 with the result in *res.
 */
int ctrl_get_info(struct conn *c, uint64_t flags, uint32_t *res, char **text);

#endif
