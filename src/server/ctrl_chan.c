/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control channel: one client at a time, requests in the swtpm
 * protocol (proto/ctrl.h), executed against the engine. It runs on its own
 * thread so that CMD_CANCEL_TPM_CMD reaches libtpms while the data thread
 * is inside a long command.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/engine.h"
#include "proto/ctrl.h"
#include "server/server_priv.h"
#include "server/sock.h"
#include "state/blob.h"
#include "util/buf.h"
#include "util/log.h"

/* swtpm drops a control request that has not arrived whole within 500 ms. */
#define CTRL_REQUEST_TIMEOUT_MS 500

struct ctrl_req {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int passed_fd; /* an fd that arrived with SCM_RIGHTS, or -1 */
};

enum read_result { READ_OK, READ_CLOSED, READ_FAILED, READ_TOO_LARGE };

static ssize_t recv_with_fd(int fd, uint8_t *buf, size_t len, int *passed_fd)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    ssize_t n;

    do {
        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK)
        n = read(fd, buf, len);

    for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof(got));
        if (*passed_fd >= 0)
            close(*passed_fd);
        *passed_fd = got;
    }
    return n;
}

static int grow(struct ctrl_req *req, size_t need)
{
    if (need <= req->cap)
        return 0;
    uint8_t *p = realloc(req->buf, need);
    if (!p)
        return -ENOMEM;
    req->buf = p;
    req->cap = need;
    return 0;
}

/*
 * Reads one request: at least as many bytes as its command needs, plus
 * whatever else arrived with them. QEMU sends the padded union for some
 * requests (4 body bytes for SET_LOCALITY, whose request is 1 byte), and
 * swtpm takes everything a read returns as the request; so do we. A request
 * that stalls is dropped (swtpm: 500 ms).
 */
#define CTRL_READ_CHUNK 4096u

static enum read_result read_request(int fd, struct ctrl_req *req)
{
    int64_t deadline = vtpm_now_ms() + CTRL_REQUEST_TIMEOUT_MS;
    size_t needed = 4;

    req->len = 0;
    for (;;) {
        size_t want = needed > req->len + CTRL_READ_CHUNK ? needed : req->len + CTRL_READ_CHUNK;
        if (grow(req, want) < 0)
            return READ_FAILED;
        ssize_t n = recv_with_fd(fd, req->buf + req->len, want - req->len, &req->passed_fd);
        if (n == 0)
            return req->len ? READ_FAILED : READ_CLOSED;
        if (n < 0)
            return READ_FAILED;
        req->len += (size_t)n;

        enum vtpm_ctrl_size st = vtpm_ctrl_request_size(req->buf, req->len, &needed);
        if (st == VTPM_CTRL_COMPLETE)
            return READ_OK;
        if (st == VTPM_CTRL_TOO_LARGE)
            return READ_TOO_LARGE;
        int left = (int)(deadline - vtpm_now_ms());
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            vtpm_log(VTPM_LOG_ERROR,
                     "control request incomplete after %d ms (%zu of %zu bytes); "
                     "dropping the control connection",
                     CTRL_REQUEST_TIMEOUT_MS, req->len, needed);
            return READ_FAILED;
        }
    }
}

static int send_res(int fd, uint32_t res)
{
    uint8_t out[4];

    put_be32(out, res);
    return vtpm_sock_write_all(fd, out, sizeof(out));
}

static uint64_t capabilities(enum vtpm_family family)
{
    uint64_t caps = VTPM_CAP_INIT | VTPM_CAP_SHUTDOWN | VTPM_CAP_GET_TPMESTABLISHED |
                    VTPM_CAP_SET_LOCALITY | VTPM_CAP_HASHING | VTPM_CAP_CANCEL_TPM_CMD |
                    VTPM_CAP_STORE_VOLATILE | VTPM_CAP_RESET_TPMESTABLISHED |
                    VTPM_CAP_GET_STATEBLOB | VTPM_CAP_SET_STATEBLOB | VTPM_CAP_STOP |
                    VTPM_CAP_GET_CONFIG | VTPM_CAP_SET_DATAFD | VTPM_CAP_SET_BUFFERSIZE |
                    VTPM_CAP_GET_INFO | VTPM_CAP_LOCK_STORAGE;

    if (family == VTPM_FAMILY_20)
        caps |= VTPM_CAP_SEND_COMMAND_HEADER;
    return caps;
}

static bool valid_blob_type(uint32_t type)
{
    return type >= VTPM_BLOB_PERMANENT && type <= VTPM_BLOB_SAVESTATE;
}

static int do_get_stateblob(int fd, struct vtpm_reader *r)
{
    uint32_t flags = vtpm_read_be32(r);
    uint32_t type = vtpm_read_be32(r);
    uint32_t offset = vtpm_read_be32(r);
    uint8_t *data = NULL, *blob = NULL;
    size_t len = 0, bloblen = 0;
    uint8_t hdr[VTPM_CTRL_GETSTATE_RESP_HDR];
    char err[512] = "";
    uint32_t res;

    (void)flags; /* DECRYPTED only matters once state encryption exists */
    if (!valid_blob_type(type)) {
        res = VTPM_RES_BAD_PARAMETER;
        goto reply;
    }
    res = vtpm_engine_get_blob(type, &data, &len, err, sizeof(err));
    if (res) {
        vtpm_log(VTPM_LOG_ERROR, "CMD_GET_STATEBLOB: %s", err);
        goto reply;
    }
    if (!data) {
        res = VTPM_RES_RETRY; /* swtpm answers TPM_RETRY for an absent blob */
        goto reply;
    }
    bloblen = vtpm_blob_migration_size(len);
    blob = malloc(bloblen);
    if (!blob || vtpm_blob_migration_encode(blob, bloblen, data, len, &bloblen) != 0) {
        res = VTPM_RES_FAIL;
        bloblen = 0;
    }
reply:
    free(data);
    size_t send_len = res == 0 && offset < bloblen ? bloblen - offset : 0;
    put_be32(hdr, res);
    put_be32(hdr + 4, 0);
    put_be32(hdr + 8, (uint32_t)send_len);
    put_be32(hdr + 12, (uint32_t)send_len);
    int rc = vtpm_sock_write2(fd, hdr, sizeof(hdr), send_len ? blob + offset : NULL, send_len);
    free(blob);
    return rc;
}

static uint32_t do_set_stateblob(struct vtpm_reader *r)
{
    uint32_t flags = vtpm_read_be32(r);
    uint32_t type = vtpm_read_be32(r);
    uint32_t len = vtpm_read_be32(r);
    const uint8_t *blob = vtpm_read_bytes(r, len);
    const uint8_t *data;
    size_t datalen;
    char err[512] = "";

    if (!blob || !valid_blob_type(type))
        return VTPM_RES_BAD_PARAMETER;
    if (vtpm_engine_running())
        return VTPM_RES_BAD_ORDINAL; /* as swtpm: only while stopped */
    if (flags & VTPM_STATE_FLAG_ENCRYPTED) {
        vtpm_log(VTPM_LOG_ERROR, "CMD_SET_STATEBLOB: the blob is encrypted with a migration key; "
                                 "this vtpmd has no --migration-key support yet");
        return VTPM_RES_FAIL;
    }
    int rc = vtpm_blob_migration_decode(blob, len, &data, &datalen);
    if (rc != 0) {
        vtpm_log(VTPM_LOG_ERROR, "CMD_SET_STATEBLOB: rejected %s blob of %u bytes: %s",
                 type == VTPM_BLOB_PERMANENT ? "permanent"
                 : type == VTPM_BLOB_VOLATILE ? "volatile" : "savestate",
                 len, vtpm_blob_strerror(rc));
        return VTPM_RES_BAD_PARAMETER;
    }
    uint32_t res = vtpm_engine_set_blob(type, data, datalen, err, sizeof(err));
    if (res)
        vtpm_log(VTPM_LOG_ERROR, "CMD_SET_STATEBLOB: %s", err);
    return res;
}

static int do_get_info(int fd, struct vtpm_reader *r)
{
    uint64_t flags = vtpm_read_be64(r);
    uint32_t offset = vtpm_read_be32(r);
    uint8_t hdr[VTPM_CTRL_GETINFO_RESP_HDR];
    char *info = vtpm_engine_info(flags);

    if (!info)
        return send_res(fd, VTPM_RES_SIZE);
    size_t total = strlen(info) + 1;
    if (offset >= total - 1) {
        free(info);
        return send_res(fd, VTPM_RES_BAD_PARAMETER);
    }
    size_t len = total - offset;
    put_be32(hdr, 0);
    put_be32(hdr + 4, (uint32_t)total);
    put_be32(hdr + 8, (uint32_t)len);
    int rc = vtpm_sock_write2(fd, hdr, sizeof(hdr), info + offset, len);
    free(info);
    return rc;
}

static uint32_t do_init(struct vtpm_server *s, struct vtpm_reader *r)
{
    uint32_t flags = vtpm_read_be32(r);
    char err[512] = "";

    vtpm_engine_stop(!s->cfg->disable_auto_shutdown);
    uint32_t res = vtpm_engine_start(flags, err, sizeof(err));
    if (res)
        vtpm_log(VTPM_LOG_ERROR, "CMD_INIT: could not start the TPM: %s", err);
    return res;
}

static uint32_t do_set_datafd(struct vtpm_server *s, struct ctrl_req *req)
{
    uint32_t res = VTPM_RES_SUCCESS;

    if (req->passed_fd < 0) {
        vtpm_log(VTPM_LOG_ERROR, "CMD_SET_DATAFD: no file descriptor came with the request "
                                 "(it must be passed with SCM_RIGHTS over a unix socket)");
        return VTPM_RES_BAD_PARAMETER;
    }
    pthread_mutex_lock(&s->mu);
    if (s->datafd_active || s->pending_datafd >= 0) {
        res = VTPM_RES_IOERROR; /* as swtpm: one data socket per daemon */
    } else {
        s->pending_datafd = req->passed_fd;
        s->datafd_active = true;
        req->passed_fd = -1;
    }
    pthread_mutex_unlock(&s->mu);
    if (res == VTPM_RES_SUCCESS) {
        ssize_t w = write(s->wake_pipe[1], "d", 1);
        (void)w;
    }
    return res;
}

static uint32_t do_lock_storage(struct vtpm_reader *r)
{
    char err[512] = "";

    (void)vtpm_read_be32(r); /* retries: the lock is taken at once or not at all */
    if (vtpm_store_relock(vtpm_engine_store(), err, sizeof(err)) < 0) {
        vtpm_log(VTPM_LOG_ERROR, "CMD_LOCK_STORAGE: %s", err);
        return VTPM_RES_RETRY;
    }
    return VTPM_RES_SUCCESS;
}

/* Commands whose request has a fixed body must carry exactly that body (swtpm). */
static bool exact(const struct vtpm_reader *r, size_t body)
{
    return vtpm_reader_left(r) == body;
}

/* Handles one request; returns -1 when the connection must be closed. */
static int handle(struct vtpm_server *s, int fd, struct ctrl_req *req)
{
    struct vtpm_reader r;
    uint8_t out[16];
    uint32_t res = VTPM_RES_SUCCESS;
    bool running;

    vtpm_reader_init(&r, req->buf, req->len);
    uint32_t cmd = vtpm_read_be32(&r);
    const char *name = vtpm_ctrl_cmd_name(cmd);
    vtpm_log(VTPM_LOG_TRACE, "ctrl: %s (0x%02x), %zu bytes", name ? name : "unknown", cmd,
             req->len);
    running = vtpm_engine_running();

    switch (cmd) {
    case VTPM_CMD_GET_CAPABILITY:
        put_be64(out, capabilities(s->family));
        return vtpm_sock_write_all(fd, out, 8) < 0 ? -1 : 0;
    case VTPM_CMD_INIT:
        res = exact(&r, 4) ? do_init(s, &r) : VTPM_RES_BAD_PARAMETER;
        break;
    case VTPM_CMD_STOP:
    case VTPM_CMD_SHUTDOWN:
        if (!exact(&r, 0)) {
            res = VTPM_RES_BAD_PARAMETER;
            break;
        }
        vtpm_engine_stop(!s->cfg->disable_auto_shutdown);
        if (cmd == VTPM_CMD_SHUTDOWN) {
            send_res(fd, VTPM_RES_SUCCESS);
            vtpm_server_terminate(s);
            return -1;
        }
        break;
    case VTPM_CMD_GET_TPMESTABLISHED: {
        bool set = false;
        if (!running || !exact(&r, 0)) {
            res = running ? VTPM_RES_BAD_PARAMETER : VTPM_RES_BAD_ORDINAL;
            break;
        }
        memset(out, 0, 8);
        put_be32(out, vtpm_engine_established(&set));
        out[4] = set;
        return vtpm_sock_write_all(fd, out, 8) < 0 ? -1 : 0;
    }
    case VTPM_CMD_RESET_TPMESTABLISHED: {
        uint8_t loc = vtpm_read_u8(&r);
        if (!running)
            res = VTPM_RES_BAD_ORDINAL;
        else
            res = loc > 4 ? VTPM_RES_BAD_LOCALITY : vtpm_engine_reset_established(loc);
        break;
    }
    case VTPM_CMD_SET_LOCALITY: {
        uint8_t loc = vtpm_read_u8(&r);
        if (loc > 4 || (loc == 4 && s->cfg->reject_locality4))
            res = VTPM_RES_BAD_LOCALITY;
        else
            vtpm_engine_set_locality(loc);
        break;
    }
    case VTPM_CMD_HASH_START:
    case VTPM_CMD_HASH_END:
    case VTPM_CMD_CANCEL_TPM_CMD:
    case VTPM_CMD_STORE_VOLATILE:
        if (!running) {
            res = VTPM_RES_BAD_ORDINAL;
        } else if (!exact(&r, 0)) {
            res = VTPM_RES_BAD_PARAMETER;
        } else if (cmd == VTPM_CMD_HASH_START) {
            res = vtpm_engine_hash_start();
        } else if (cmd == VTPM_CMD_HASH_END) {
            res = vtpm_engine_hash_end();
        } else if (cmd == VTPM_CMD_CANCEL_TPM_CMD) {
            res = vtpm_engine_cancel();
        } else {
            res = vtpm_engine_store_volatile();
        }
        break;
    case VTPM_CMD_HASH_DATA: {
        uint32_t len = vtpm_read_be32(&r);
        const uint8_t *data = vtpm_read_bytes(&r, len);
        if (!running)
            res = VTPM_RES_BAD_ORDINAL;
        else
            res = data ? vtpm_engine_hash_data(data, len) : VTPM_RES_BAD_PARAMETER;
        break;
    }
    case VTPM_CMD_GET_STATEBLOB:
        if (!running)
            return send_res(fd, VTPM_RES_BAD_ORDINAL) < 0 ? -1 : 0;
        return do_get_stateblob(fd, &r) < 0 ? -1 : 0;
    case VTPM_CMD_SET_STATEBLOB:
        res = do_set_stateblob(&r);
        break;
    case VTPM_CMD_GET_CONFIG:
        if (!exact(&r, 0)) {
            res = VTPM_RES_BAD_PARAMETER;
            break;
        }
        put_be32(out, 0);
        put_be32(out + 4, 0); /* no state or migration key in this build */
        return vtpm_sock_write_all(fd, out, 8) < 0 ? -1 : 0;
    case VTPM_CMD_SET_DATAFD:
        res = do_set_datafd(s, req);
        break;
    case VTPM_CMD_SET_BUFFERSIZE: {
        uint32_t wanted = vtpm_read_be32(&r), min = 0, max = 0;
        if (wanted && running) {
            res = VTPM_RES_BAD_ORDINAL; /* only while stopped */
            break;
        }
        uint32_t size = vtpm_engine_buffer_size(wanted, &min, &max);
        put_be32(out, 0);
        put_be32(out + 4, size);
        put_be32(out + 8, min);
        put_be32(out + 12, max);
        return vtpm_sock_write_all(fd, out, 16) < 0 ? -1 : 0;
    }
    case VTPM_CMD_GET_INFO:
        return do_get_info(fd, &r) < 0 ? -1 : 0;
    case VTPM_CMD_LOCK_STORAGE:
        res = do_lock_storage(&r);
        break;
    default:
        vtpm_log(VTPM_LOG_ERROR, "control channel: unknown command 0x%08x", cmd);
        res = VTPM_RES_BAD_ORDINAL;
        break;
    }
    return send_res(fd, res) < 0 ? -1 : 0;
}

/* Serves one control connection until it closes; returns false to end the daemon. */
static void serve_client(struct vtpm_server *s, int fd)
{
    struct ctrl_req req = { .passed_fd = -1 };

    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = s->quit_pipe[0], .events = POLLIN },
            { .fd = fd, .events = POLLIN },
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents)
            break;
        enum read_result rr = read_request(fd, &req);
        if (rr == READ_TOO_LARGE) {
            vtpm_log(VTPM_LOG_ERROR, "control request announces more than %u bytes; refused",
                     VTPM_CTRL_MAX_BLOB);
            send_res(fd, VTPM_RES_BAD_PARAMETER);
            break;
        }
        if (rr != READ_OK || handle(s, fd, &req) < 0)
            break;
    }
    if (req.passed_fd >= 0)
        close(req.passed_fd);
    free(req.buf);
    close(fd);
}

void *vtpm_ctrl_thread(void *arg)
{
    struct vtpm_server *s = arg;
    int client = s->ctrl_initial;

    while (!atomic_load(&s->terminating)) {
        if (client < 0) {
            struct pollfd pfd[2] = {
                { .fd = s->quit_pipe[0], .events = POLLIN },
                { .fd = s->ctrl_listen, .events = POLLIN },
            };
            if (s->ctrl_listen < 0 || poll(pfd, 2, -1) < 0) {
                if (s->ctrl_listen >= 0 && errno == EINTR)
                    continue;
                break;
            }
            if (pfd[0].revents)
                break;
            client = accept4(s->ctrl_listen, NULL, NULL, SOCK_CLOEXEC);
            if (client < 0)
                continue;
        }
        serve_client(s, client);
        client = -1;
        if (s->cfg->ctrl.terminate && !atomic_load(&s->terminating)) {
            vtpm_log(VTPM_LOG_INFO, "control connection closed; terminating (--ctrl ...,terminate)");
            vtpm_server_terminate(s);
        }
        if (s->ctrl_listen < 0)
            break; /* a clientfd= channel is gone for good */
    }
    return NULL;
}
