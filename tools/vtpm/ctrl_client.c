/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctrl_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ctrl.h"
#include "util/buf.h"

/* Largest GET_INFO text accepted (swtpm answers a few hundred bytes). */
#define INFO_MAX (1024u * 1024)

struct code_name {
    uint32_t code;
    const char *name;
};

/* TPM 1.2 Main Part 2 §16: the codes swtpm's control channel answers with */
static const struct code_name result_names[] = {
    {0x00, "SUCCESS"},
    {0x01, "AUTHFAIL"},
    {0x03, "BAD_PARAMETER"},
    {0x09, "FAIL"},
    {0x0a, "BAD_ORDINAL"},
    {0x17, "SIZE"},
    {0x19, "BAD_PARAM_SIZE"},
    {0x1f, "IOERROR"},
    {0x20, "ENCRYPT_ERROR"},
    {0x21, "DECRYPT_ERROR"},
    {0x26, "INVALID_POSTINIT"},
    {0x3d, "BAD_LOCALITY"},
    /* CMD_INIT passes on libtpms' answer, a TPM 2.0 code for a TPM 2.0 */
    {0x100, "TPM_RC_INITIALIZE"},
    {0x101, "TPM_RC_FAILURE"},
    {0x800, "RETRY"},
};

const char *ctrl_result_name(uint32_t res)
{
    for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
        if (result_names[i].code == res)
            return result_names[i].name;
    return NULL;
}

static bool needs_running_tpm(uint32_t cmd)
{
    switch (cmd) {
    case VTPM_CMD_GET_TPMESTABLISHED:
    case VTPM_CMD_RESET_TPMESTABLISHED:
    case VTPM_CMD_HASH_START:
    case VTPM_CMD_HASH_DATA:
    case VTPM_CMD_HASH_END:
    case VTPM_CMD_CANCEL_TPM_CMD:
    case VTPM_CMD_STORE_VOLATILE:
    case VTPM_CMD_GET_STATEBLOB:
        return true;
    default:
        return false;
    }
}

/* What a result most likely means for this command, or NULL when we cannot tell. */
static const char *result_hint(uint32_t cmd, uint32_t res)
{
    if (res == VTPM_RES_BAD_ORDINAL) {
        if (needs_running_tpm(cmd))
            return "the TPM is not running (no CMD_INIT since start or CMD_STOP); "
                   "`vtpm ctl ... -i` starts it";
        if (cmd == VTPM_CMD_SET_STATEBLOB || cmd == VTPM_CMD_SET_BUFFERSIZE)
            return "this works only while the TPM is stopped: send `--stop` first, "
                   "and `-i` afterwards";
        if (cmd == VTPM_CMD_LOCK_STORAGE)
            return "the daemon does not know CMD_LOCK_STORAGE (swtpm before 0.8)";
        return "the daemon does not know this command or refuses it in this state";
    }
    if (res == VTPM_RES_BAD_LOCALITY && cmd == VTPM_CMD_RESET_TPMESTABLISHED)
        return "only localities 3 and 4 may reset tpmEstablished (TPM PC Client spec)";
    if (res == VTPM_RES_BAD_LOCALITY)
        return "the daemon refuses this locality (e.g. started with "
               "--locality reject-locality-4)";
    if (res == VTPM_RES_RETRY && cmd == VTPM_CMD_GET_STATEBLOB)
        return "the TPM holds no blob of this type (e.g. no state saved by TPM2_Shutdown(STATE))";
    if (res == VTPM_RES_RETRY && cmd == VTPM_CMD_LOCK_STORAGE)
        return "another process holds the storage lock";
    if (cmd == VTPM_CMD_INIT)
        return "libtpms could not start from the stored state (e.g. a volatile state that "
               "belongs to another permanent state: load both, or neither); the daemon's log "
               "says why";
    if (res == VTPM_RES_IOERROR && cmd == VTPM_CMD_SET_DATAFD)
        return "the daemon already has a data connection (is a VM attached?)";
    if (res == VTPM_RES_FAIL || res == VTPM_RES_BAD_PARAMETER)
        return "the daemon's log says why";
    return NULL;
}

void ctrl_print_result(const struct cli *cli, uint32_t cmd, uint32_t res)
{
    const char *cmd_name = vtpm_ctrl_cmd_name(cmd);
    const char *res_name = ctrl_result_name(res);
    const char *hint = result_hint(cmd, res);

    cli_err(cli, "%s: TPM result code: 0x%x (%s)%s%s", cmd_name ? cmd_name : "command", res,
            res_name ? res_name : "unknown", hint ? ": " : "", hint ? hint : "");
}

static const char *cmd_label(uint32_t cmd)
{
    const char *name = vtpm_ctrl_cmd_name(cmd);

    return name ? name : "the control command";
}

int ctrl_call(struct conn *c, uint32_t cmd, const uint8_t *body, size_t body_len, int pass_fd,
              uint32_t *res, uint8_t *resp, size_t resp_len)
{
    uint8_t head[4];
    const char *what = cmd_label(cmd);
    /* One buffer, one send: swtpm 0.7 takes a request from a single read(). */
    uint8_t *req = malloc(4 + body_len);

    if (!req) {
        cli_err(c->cli, "out of memory for a %zu-byte %s request", body_len, what);
        return -1;
    }
    put_be32(req, cmd);
    if (body_len)
        memcpy(req + 4, body, body_len);
    conn_arm(c);
    int rc = pass_fd >= 0 ? conn_send_with_fd(c, req, 4 + body_len, pass_fd, what)
                          : conn_send(c, req, 4 + body_len, what);
    free(req);
    if (rc < 0 || conn_recv(c, head, sizeof(head), what) < 0)
        return -1;
    *res = get_be32(head);
    if (*res != 0 || resp_len == 0)
        return 0;
    return conn_recv(c, resp, resp_len, what);
}

int ctrl_get_capability(struct conn *c, uint64_t *caps)
{
    uint8_t req[4], resp[8];
    const char *what = cmd_label(VTPM_CMD_GET_CAPABILITY);

    put_be32(req, VTPM_CMD_GET_CAPABILITY);
    conn_arm(c);
    if (conn_send(c, req, sizeof(req), what) < 0 || conn_recv(c, resp, sizeof(resp), what) < 0)
        return -1;
    *caps = get_be64(resp);
    return 0;
}

const char *ctrl_cap_name(unsigned bit)
{
    /* PTM_CAP_* in swtpm's tpm_ioctl.h, in bit order */
    static const char *const names[] = {
        "INIT",
        "SHUTDOWN",
        "GET_TPMESTABLISHED",
        "SET_LOCALITY",
        "HASHING",
        "CANCEL_TPM_CMD",
        "STORE_VOLATILE",
        "RESET_TPMESTABLISHED",
        "GET_STATEBLOB",
        "SET_STATEBLOB",
        "STOP",
        "GET_CONFIG",
        "SET_DATAFD",
        "SET_BUFFERSIZE",
        "GET_INFO",
        "SEND_COMMAND_HEADER",
        "LOCK_STORAGE",
    };

    return bit < sizeof(names) / sizeof(names[0]) ? names[bit] : NULL;
}

/* One GET_INFO round: appends this piece's bytes to *text (of *have bytes). */
static int get_info_piece(struct conn *c, uint64_t flags, uint32_t *res, char **text, size_t *have,
                          uint32_t *total)
{
    uint8_t body[16], hdr[8];
    const char *what = cmd_label(VTPM_CMD_GET_INFO);
    struct vtpm_reader r;

    put_be64(body, flags);
    put_be32(body + 8, (uint32_t)*have); /* offset */
    put_be32(body + 12, 0);
    if (ctrl_call(c, VTPM_CMD_GET_INFO, body, sizeof(body), -1, res, hdr, sizeof(hdr)) < 0)
        return -1;
    if (*res)
        return 0;
    vtpm_reader_init(&r, hdr, sizeof(hdr));
    *total = vtpm_read_be32(&r);
    uint32_t len = vtpm_read_be32(&r);
    if (*total > INFO_MAX || len > *total - *have || (len == 0 && *have < *total)) {
        cli_err(c->cli,
                "%s: the answer announces %u of %u bytes at offset %zu; that does not "
                "add up (a broken daemon?)",
                what, len, *total, *have);
        return -1;
    }
    char *grown = realloc(*text, *have + len + 1);
    if (!grown) {
        cli_err(c->cli, "out of memory");
        return -1;
    }
    *text = grown;
    if (conn_recv(c, *text + *have, len, what) < 0)
        return -1;
    *have += len;
    (*text)[*have] = '\0';
    return 0;
}

int ctrl_get_info(struct conn *c, uint64_t flags, uint32_t *res, char **text)
{
    size_t have = 0;
    uint32_t total = 0;

    *text = NULL;
    do {
        int rc = get_info_piece(c, flags, res, text, &have, &total);
        if (rc < 0 || *res) {
            free(*text);
            *text = NULL;
            return rc;
        }
    } while (have < total);
    if (!*text)
        *text = calloc(1, 1);
    return *text ? 0 : -1;
}
