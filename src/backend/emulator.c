/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * emulator: a client of the swtpm control protocol (swtpm_ioctls(3)), for
 * vtpmd and swtpm alike. As QEMU's tpm-emulator does, it connects the
 * daemon's unix control socket, checks GET_CAPABILITY, and hands the daemon
 * one end of a socketpair with CMD_SET_DATAFD: that pair is the data
 * channel, on which the worker thread writes commands and reads responses.
 *
 * The swtpm daemon takes each read of the control socket as one request, so
 * every request goes out in one sendmsg; requests whose ptm_* struct is a
 * padded union (SET_LOCALITY, RESET_TPMESTABLISHED) carry the 4 bytes QEMU
 * sends. Every read on either socket is bounded by a timeout, and the
 * failure names the control command or the data channel and the socket.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend_priv.h"
#include "backend/worker.h"
#include "proto/ctrl.h"
#include "proto/tpm.h"
#include "util/buf.h"
#include "util/fdpass.h"

#define EMU_DEFAULT_CTRL_TIMEOUT_MS 10000u
#define EMU_DEFAULT_COMMAND_TIMEOUT_MS 120000u
#define EMU_NO_LOCALITY 0xffu

/* What QEMU requires of a daemon before it uses it (tpm_emulator_probe_caps). */
#define EMU_REQUIRED_CAPS                                                                          \
    (VTPM_CAP_INIT | VTPM_CAP_STOP | VTPM_CAP_GET_TPMESTABLISHED | VTPM_CAP_SET_LOCALITY |         \
     VTPM_CAP_SET_DATAFD)

struct emulator {
    char *err;
    char *path;
    int ctrl_fd;
    int data_fd;
    bool data_broken; /* a timeout or short read left the stream out of step */
    uint64_t caps;
    uint32_t ctrl_timeout_ms;
    uint32_t command_timeout_ms;
    uint8_t cur_locality;
    bool est_valid;
    bool established;
    size_t buffer_size;
    uint8_t *rsp; /* the worker's response buffer, buffer_size bytes */
    pthread_mutex_t ctrl_mu;
    struct bk_worker *worker;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly `n` bytes before the deadline: 0, -ETIMEDOUT, -ECONNRESET (EOF) or -errno. */
static int read_exact(int fd, uint8_t *buf, size_t n, int64_t deadline)
{
    size_t got = 0;

    while (got < n) {
        int left = (int)(deadline - now_ms());
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno != EINTR) {
            return -errno;
        }
        if (pr <= 0) {
            continue;
        }
        ssize_t r = read(fd, buf + got, n - got);
        if (r == 0) {
            return -ECONNRESET;
        }
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -errno;
        }
        got += (size_t)r;
    }
    return 0;
}

static int send_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static const char *io_what(int rc)
{
    switch (rc) {
    case -ETIMEDOUT:
        return "no answer";
    case -ECONNRESET:
        return "the daemon closed the connection";
    default:
        return strerror(-rc);
    }
}

/* A late or partial answer would be taken for the next one: throw it away. */
static void drain(int fd)
{
    uint8_t junk[256];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) && read(fd, junk, sizeof(junk)) > 0) {
    }
}

/*
 * One control request: code + body in one message (with `pass_fd` attached
 * when >= 0), then the answer. Responses start with the u32 result, except
 * GET_CAPABILITY's; the rest of `rsp` is read only after a success (an
 * error answer is the result alone). Returns 0 with *result set, or a
 * negative code with the error sentence written.
 */
static int ctrl_request(struct emulator *e, uint32_t cmd, const uint8_t *body, size_t body_len,
                        int pass_fd, uint8_t *rsp, size_t rsp_len, uint32_t *result)
{
    uint8_t msg[16];
    const char *name = vtpm_ctrl_cmd_name(cmd);
    struct iovec iov = {.iov_base = msg, .iov_len = 4 + body_len};
    union vtpm_fd_cmsg ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    int rc;

    put_be32(msg, cmd);
    if (body_len > 0) {
        memcpy(msg + 4, body, body_len);
    }
    if (pass_fd >= 0)
        vtpm_msg_attach_fd(&mh, &ctl, pass_fd);
    pthread_mutex_lock(&e->ctrl_mu);
    drain(e->ctrl_fd);
    ssize_t w;
    do {
        w = sendmsg(e->ctrl_fd, &mh, MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)(4 + body_len)) {
        rc = w < 0 ? -errno : -EIO;
        snprintf(e->err, BK_ERR_LEN, "%s: cannot send on control socket %s: %s", name, e->path,
                 strerror(w < 0 ? errno : EIO));
        goto out;
    }
    int64_t deadline = now_ms() + e->ctrl_timeout_ms;
    size_t first = cmd == VTPM_CMD_GET_CAPABILITY ? rsp_len : 4;
    rc = read_exact(e->ctrl_fd, rsp, first, deadline);
    if (rc == 0 && cmd != VTPM_CMD_GET_CAPABILITY) {
        *result = get_be32(rsp);
        if (*result == 0 && rsp_len > 4) {
            rc = read_exact(e->ctrl_fd, rsp + 4, rsp_len - 4, deadline);
        }
    }
    if (rc < 0) {
        snprintf(e->err, BK_ERR_LEN,
                 "%s: %s on control socket %s within %u ms; is the daemon (vtpmd or swtpm) "
                 "alive and not busy with a hung command?",
                 name, io_what(rc), e->path, e->ctrl_timeout_ms);
    } else if (cmd == VTPM_CMD_GET_CAPABILITY) {
        *result = 0;
    }
out:
    pthread_mutex_unlock(&e->ctrl_mu);
    return rc;
}

/* A request whose answer is only the result; non-zero results become -EIO with the sentence. */
static int ctrl_simple(struct emulator *e, uint32_t cmd, const uint8_t *body, size_t body_len)
{
    uint8_t rsp[4];
    uint32_t res = 0;
    int rc = ctrl_request(e, cmd, body, body_len, -1, rsp, sizeof(rsp), &res);

    if (rc == 0 && res != 0) {
        snprintf(e->err, BK_ERR_LEN,
                 "%s: the daemon on %s answered TPM result 0x%x; its log says why",
                 vtpm_ctrl_cmd_name(cmd), e->path, res);
        rc = -EIO;
    }
    return rc;
}

/* A fresh socketpair as the data channel, its far end handed over with CMD_SET_DATAFD. */
static int setup_data_channel(struct emulator *e)
{
    int sv[2];
    uint8_t rsp[4];
    uint32_t res = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(e->err, BK_ERR_LEN, "cannot create the data channel's socketpair: %s",
                 strerror(errno));
        return -errno;
    }
    int rc = ctrl_request(e, VTPM_CMD_SET_DATAFD, NULL, 0, sv[1], rsp, sizeof(rsp), &res);
    close(sv[1]);
    if (rc == 0 && res != 0) {
        snprintf(e->err, BK_ERR_LEN,
                 "CMD_SET_DATAFD: the daemon on %s answered TPM result 0x%x; it must be started "
                 "without --server (the data channel comes over the control socket)",
                 e->path, res);
        rc = -EIO;
    }
    if (rc < 0) {
        close(sv[0]);
        return rc;
    }
    if (e->data_fd >= 0) {
        close(e->data_fd);
    }
    e->data_fd = sv[0];
    e->data_broken = false;
    return 0;
}

static int emulator_exec(void *ctx, const uint8_t *cmd, size_t len, uint8_t locality,
                         const uint8_t **rsp, size_t *rlen)
{
    struct emulator *e = ctx;
    int rc;

    if (e->data_broken) {
        snprintf(e->err, BK_ERR_LEN,
                 "data channel to %s lost its framing after an earlier failure; reset the TPM "
                 "(power cycle) to open a new one",
                 e->path);
        return -EPIPE;
    }
    rc = send_all(e->data_fd, cmd, len);
    if (rc < 0) {
        snprintf(e->err, BK_ERR_LEN, "data channel to %s: cannot send a %zu-byte command: %s",
                 e->path, len, strerror(-rc));
        goto broken;
    }
    int64_t deadline = now_ms() + e->command_timeout_ms;
    rc = read_exact(e->data_fd, e->rsp, VTPM_TPM_HDR_SIZE, deadline);
    if (rc < 0) {
        snprintf(e->err, BK_ERR_LEN,
                 "data channel to %s: %s to command 0x%08x within %u ms (response header)", e->path,
                 io_what(rc), len >= 10 ? get_be32(cmd + 6) : 0, e->command_timeout_ms);
        goto broken;
    }
    uint32_t size = get_be32(e->rsp + 2);
    if (size < VTPM_TPM_HDR_SIZE || size > e->buffer_size) {
        snprintf(e->err, BK_ERR_LEN,
                 "data channel to %s: the response header announces %u bytes (outside 10..%zu)",
                 e->path, size, e->buffer_size);
        rc = -EPROTO;
        goto broken;
    }
    rc = read_exact(e->data_fd, e->rsp + VTPM_TPM_HDR_SIZE, size - VTPM_TPM_HDR_SIZE, deadline);
    if (rc < 0) {
        snprintf(e->err, BK_ERR_LEN,
                 "data channel to %s: %s for the rest of a %u-byte response within %u ms", e->path,
                 io_what(rc), size, e->command_timeout_ms);
        goto broken;
    }
    *rsp = e->rsp;
    *rlen = size;
    return 0;
broken:
    e->data_broken = true;
    return rc;
}

static int emulator_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality,
                            vtpm_done_fn done, void *arg)
{
    struct emulator *e = be;

    if (bk_worker_busy(e->worker)) {
        return -EBUSY;
    }
    if (locality != e->cur_locality) {
        uint8_t body[4] = {locality, 0, 0, 0}; /* ptm_loc: a padded union, as QEMU sends */
        int rc = ctrl_simple(e, VTPM_CMD_SET_LOCALITY, body, sizeof(body));
        if (rc < 0) {
            return rc;
        }
        e->cur_locality = locality;
    }
    return bk_worker_submit(e->worker, cmd, len, locality, done, arg);
}

static void emulator_cancel(void *be)
{
    struct emulator *e = be;

    if ((e->caps & VTPM_CAP_CANCEL_TPM_CMD) && bk_worker_busy(e->worker)) {
        (void)ctrl_simple(e, VTPM_CMD_CANCEL_TPM_CMD, NULL, 0);
    }
}

static int emulator_reset(void *be)
{
    struct emulator *e = be;
    bool was_busy = bk_worker_busy(e->worker);
    uint8_t flags[4] = {0};

    bk_worker_drop(e->worker);
    if (was_busy && (e->caps & VTPM_CAP_CANCEL_TPM_CMD)) {
        (void)ctrl_simple(e, VTPM_CMD_CANCEL_TPM_CMD, NULL, 0);
    }
    /* The dropped command's bytes must not reach the TPM after CMD_INIT. */
    bk_worker_quiesce(e->worker);
    if (e->data_broken && setup_data_channel(e) < 0) {
        return -EIO;
    }
    e->est_valid = false;
    e->cur_locality = EMU_NO_LOCALITY;
    /* QEMU stops the TPM before it initialises it (tpm_emulator_startup_tpm). */
    int rc = ctrl_simple(e, VTPM_CMD_STOP, NULL, 0);
    if (rc < 0 && rc != -EIO) {
        return rc;
    }
    return ctrl_simple(e, VTPM_CMD_INIT, flags, sizeof(flags));
}

static int emulator_established(void *be, bool *set)
{
    struct emulator *e = be;

    if (!e->est_valid) {
        uint8_t rsp[8];
        uint32_t res = 0;
        int rc = ctrl_request(e, VTPM_CMD_GET_TPMESTABLISHED, NULL, 0, -1, rsp, sizeof(rsp), &res);
        if (rc < 0) {
            return rc;
        }
        if (res != 0) {
            snprintf(e->err, BK_ERR_LEN,
                     "CMD_GET_TPMESTABLISHED: the daemon on %s answered TPM result 0x%x "
                     "(is the TPM initialised? reset it first)",
                     e->path, res);
            return -EIO;
        }
        e->established = rsp[4] != 0;
        e->est_valid = true;
    }
    *set = e->established;
    return 0;
}

static int emulator_reset_established(void *be, uint8_t locality)
{
    struct emulator *e = be;
    uint8_t body[4] = {locality, 0, 0, 0}; /* ptm_reset_est: a padded union, as QEMU sends */

    if (!(e->caps & VTPM_CAP_RESET_TPMESTABLISHED)) {
        snprintf(e->err, BK_ERR_LEN, "the daemon on %s cannot reset tpmEstablished", e->path);
        return -ENOTSUP;
    }
    e->est_valid = false;
    return ctrl_simple(e, VTPM_CMD_RESET_TPMESTABLISHED, body, sizeof(body));
}

static size_t emulator_buffer_size(void *be)
{
    return ((struct emulator *)be)->buffer_size;
}

static void emulator_destroy(void *priv)
{
    struct emulator *e = priv;

    if (e->worker) {
        emulator_cancel(e);
        bk_worker_stop(e->worker);
    }
    if (e->data_fd >= 0) {
        close(e->data_fd);
    }
    if (e->ctrl_fd >= 0) {
        close(e->ctrl_fd);
    }
    pthread_mutex_destroy(&e->ctrl_mu);
    free(e->rsp);
    free(e->path);
    free(e);
}

static int connect_ctrl(struct emulator *e)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(e->path) >= sizeof(sa.sun_path)) {
        snprintf(e->err, BK_ERR_LEN, "control socket path %s is longer than %zu bytes", e->path,
                 sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, e->path);
    e->ctrl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (e->ctrl_fd < 0 || connect(e->ctrl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = errno;
        snprintf(e->err, BK_ERR_LEN,
                 "cannot connect to control socket %s: %s; start the daemon first "
                 "(vtpmd socket --tpm2 --tpmstate dir=DIR --ctrl type=unixio,path=%s)",
                 e->path, strerror(err), e->path);
        return -err;
    }
    return 0;
}

/* GET_CAPABILITY, then the buffer size (SET_BUFFERSIZE 0 only asks). */
static int probe(struct emulator *e)
{
    uint8_t rsp[16];
    uint32_t res = 0;
    int rc = ctrl_request(e, VTPM_CMD_GET_CAPABILITY, NULL, 0, -1, rsp, 8, &res);

    if (rc < 0) {
        return rc;
    }
    e->caps = get_be64(rsp);
    if ((e->caps & EMU_REQUIRED_CAPS) != EMU_REQUIRED_CAPS) {
        snprintf(e->err, BK_ERR_LEN,
                 "the daemon on %s lacks control commands a TPM device needs: capabilities "
                 "0x%llx, missing 0x%llx (INIT, STOP, GET_TPMESTABLISHED, SET_LOCALITY, "
                 "SET_DATAFD); use swtpm >= 0.2 or vtpmd",
                 e->path, (unsigned long long)e->caps,
                 (unsigned long long)(EMU_REQUIRED_CAPS & ~e->caps));
        return -ENOTSUP;
    }
    e->buffer_size = 4096;
    if (e->caps & VTPM_CAP_SET_BUFFERSIZE) {
        uint8_t zero[4] = {0};
        rc = ctrl_request(e, VTPM_CMD_SET_BUFFERSIZE, zero, sizeof(zero), -1, rsp, 16, &res);
        if (rc < 0) {
            return rc;
        }
        if (res == 0 && get_be32(rsp + 4) >= VTPM_TPM_HDR_SIZE) {
            e->buffer_size = get_be32(rsp + 4);
        }
    }
    return 0;
}

static int emulator_create(const struct vtpm_backend_options *o, char *err, void **priv)
{
    struct emulator *e = calloc(1, sizeof(*e));
    int rc = -ENOMEM;

    if (!e) {
        snprintf(err, BK_ERR_LEN, "out of memory");
        return rc;
    }
    e->err = err;
    e->ctrl_fd = -1;
    e->data_fd = -1;
    e->cur_locality = EMU_NO_LOCALITY;
    e->ctrl_timeout_ms = o->ctrl_timeout_ms ? o->ctrl_timeout_ms : EMU_DEFAULT_CTRL_TIMEOUT_MS;
    e->command_timeout_ms =
        o->command_timeout_ms ? o->command_timeout_ms : EMU_DEFAULT_COMMAND_TIMEOUT_MS;
    pthread_mutex_init(&e->ctrl_mu, NULL);
    if (!o->path) {
        snprintf(err, BK_ERR_LEN, "no control socket given (options.path)");
        rc = -EINVAL;
        goto fail;
    }
    if (!(e->path = strdup(o->path))) {
        snprintf(err, BK_ERR_LEN, "out of memory");
        goto fail;
    }
    if ((rc = connect_ctrl(e)) < 0 || (rc = probe(e)) < 0 || (rc = setup_data_channel(e)) < 0) {
        goto fail;
    }
    if (!(e->rsp = malloc(e->buffer_size))) {
        rc = -ENOMEM;
        snprintf(err, BK_ERR_LEN, "out of memory");
        goto fail;
    }
    rc = bk_worker_start(&e->worker, emulator_exec, e, e->buffer_size, o);
    if (rc < 0) {
        snprintf(err, BK_ERR_LEN, "cannot start the worker thread (errno %d)", -rc);
        goto fail;
    }
    *priv = e;
    return 0;
fail:
    emulator_destroy(e);
    return rc;
}

static const struct vtpm_backend_ops emulator_ops = {
    .name = "emulator",
    .deliver = emulator_deliver,
    .cancel = emulator_cancel,
    .reset = emulator_reset,
    .established = emulator_established,
    .reset_established = emulator_reset_established,
    .buffer_size = emulator_buffer_size,
};

const struct bk_factory bk_emulator = {
    .name = "emulator",
    .ops = &emulator_ops,
    .create = emulator_create,
    .destroy = emulator_destroy,
};
