/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * passthrough: the host's TPM character device (/dev/tpmN, or the kernel
 * resource manager's /dev/tpmrmN). The Linux TPM driver takes one whole
 * command per write() and hands the whole response to the next read(); the
 * worker thread does both. A running command is cancelled by writing to
 * the device's sysfs `cancel` attribute, which calls the chip's cancel op
 * whatever is written; QEMU writes "-", and so do we.
 *
 * A host TPM cannot be power cycled by a guest and its tpmEstablished flag
 * is the host's: reset only ends the running command (the TPM keeps its
 * state, so the guest firmware's TPM_Startup fails, as with QEMU), the flag
 * reads as clear and resetting it is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend_priv.h"
#include "backend/worker.h"
#include "proto/tpm.h"
#include "util/buf.h"

#define PT_DEFAULT_COMMAND_TIMEOUT_MS 120000u
#define PT_MIN_BUFFER 4096u
/* The Linux driver's own limit on a command or response (TPM_BUFSIZE). */
#define PT_MAX_BUFFER 4096u

struct passthrough {
    char *err;
    char *path; /* the device, for messages and reopening; "fd N" when given an fd */
    char *cancel_path;
    bool reopenable;
    int fd;
    int cancel_fd;
    bool broken; /* a command timed out: its late response would be read as the next one's */
    enum vtpm_tpm_version version;
    uint32_t command_timeout_ms;
    size_t buffer_size;
    uint8_t rsp[PT_MAX_BUFFER];
    struct bk_worker *worker;
};

int vtpm_passthrough_cancel_path(const char *dev, char *out, size_t cap)
{
    const char *base = strrchr(dev, '/');
    unsigned n;
    char tail;

    base = base ? base + 1 : dev;
    /* /dev/tpmrmN is the resource manager in front of tpmN; the attribute is tpmN's. */
    if (sscanf(base, "tpmrm%u%c", &n, &tail) != 1 && sscanf(base, "tpm%u%c", &n, &tail) != 1) {
        return -EINVAL;
    }
    int len = snprintf(out, cap, "/sys/class/tpm/tpm%u/device/cancel", n);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_cancel(struct passthrough *p)
{
    if (pwrite(p->cancel_fd, "-", 1, 0) != 1) {
        snprintf(p->err, BK_ERR_LEN, "cannot cancel the command through %s: %s", p->cancel_path,
                 strerror(errno));
    }
}

static int pt_exec(void *ctx, const uint8_t *cmd, size_t len, uint8_t locality, const uint8_t **rsp,
                   size_t *rlen)
{
    struct passthrough *p = ctx;
    uint32_t code = len >= VTPM_TPM_HDR_SIZE ? get_be32(cmd + 6) : 0;
    size_t got = 0, want = VTPM_TPM_HDR_SIZE;

    if (p->broken) {
        snprintf(p->err, BK_ERR_LEN,
                 "%s: an earlier command timed out and its response may still come; reset "
                 "the TPM device to reopen it",
                 p->path);
        return -EPIPE;
    }
    ssize_t w;
    do {
        w = write(p->fd, cmd, len);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len) {
        int e = w < 0 ? errno : EIO;
        snprintf(p->err, BK_ERR_LEN,
                 "%s: writing command 0x%08x (%zu bytes) failed: %s (the driver wants a whole "
                 "command in one write)",
                 p->path, code, len, strerror(e));
        return -e;
    }
    int64_t deadline = now_ms() + p->command_timeout_ms;
    /* One read gets the whole response from the driver; a stream stand-in may need more. */
    while (got < want) {
        int left = (int)(deadline - now_ms());
        struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
        if (left <= 0) {
            write_cancel(p);
            p->broken = true;
            snprintf(p->err, BK_ERR_LEN,
                     "%s: no response to command 0x%08x within %u ms (%zu bytes came); "
                     "cancelled it through %s",
                     p->path, code, p->command_timeout_ms, got, p->cancel_path);
            return -ETIMEDOUT;
        }
        int pr = poll(&pfd, 1, left);
        if (pr <= 0) {
            continue;
        }
        ssize_t r = read(p->fd, p->rsp + got, sizeof(p->rsp) - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            int e = r < 0 ? errno : ECONNRESET;
            p->broken = true;
            snprintf(p->err, BK_ERR_LEN, "%s: reading the response to command 0x%08x failed: %s",
                     p->path, code, r < 0 ? strerror(e) : "end of file");
            return -e;
        }
        got += (size_t)r;
        if (got >= VTPM_TPM_HDR_SIZE) {
            want = get_be32(p->rsp + 2);
            if (want < VTPM_TPM_HDR_SIZE || want > sizeof(p->rsp)) {
                p->broken = true;
                snprintf(p->err, BK_ERR_LEN,
                         "%s: the response to command 0x%08x announces %zu bytes "
                         "(outside 10..%zu)",
                         p->path, code, want, sizeof(p->rsp));
                return -EPROTO;
            }
        }
    }
    *rsp = p->rsp;
    *rlen = want;
    return 0;
}

static int pt_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality, vtpm_done_fn done,
                      void *arg)
{
    struct passthrough *p = be;

    /* The host TPM's locality is the host driver's: commands go out as they are. */
    return bk_worker_submit(p->worker, cmd, len, locality, done, arg);
}

static void pt_cancel(void *be)
{
    struct passthrough *p = be;

    if (bk_worker_busy(p->worker)) {
        write_cancel(p);
    }
}

static int pt_open(struct passthrough *p)
{
    p->fd = open(p->path, O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        int e = errno;
        snprintf(p->err, BK_ERR_LEN,
                 "cannot open TPM device %s: %s; check that it exists (ls /dev/tpm*), that no "
                 "other program (tpm2-abrmd, another VM) holds it, and that you may open it",
                 p->path, strerror(e));
        return -e;
    }
    return 0;
}

static int pt_reset(void *be)
{
    struct passthrough *p = be;
    bool was_busy = bk_worker_busy(p->worker);

    bk_worker_drop(p->worker);
    if (was_busy) {
        write_cancel(p);
    }
    bk_worker_quiesce(p->worker);
    if (p->broken && p->reopenable) {
        close(p->fd);
        int rc = pt_open(p);
        if (rc < 0) {
            return rc;
        }
        p->broken = false;
    }
    return 0;
}

static int pt_established(void *be, bool *set)
{
    *set = false; /* the host's flag, not the guest's: QEMU's passthrough reports it clear */
    return 0;
}

static int pt_reset_established(void *be, uint8_t locality)
{
    struct passthrough *p = be;

    snprintf(p->err, BK_ERR_LEN,
             "%s: a host TPM's tpmEstablished flag belongs to the host; the guest cannot reset it",
             p->path);
    return -ENOTSUP;
}

static size_t pt_buffer_size(void *be)
{
    return ((struct passthrough *)be)->buffer_size;
}

/*
 * What QEMU's tpm_util_get_buffer_size asks at start: TPM 2.0 GetCapability
 * (TPM_PT_MAX_COMMAND_SIZE, TPM_PT_MAX_RESPONSE_SIZE) or TPM 1.2
 * GetCapability(TPM_CAP_PROPERTY, TPM_CAP_PROP_INPUT_BUFFER). The smaller
 * size is the buffer; a TPM that does not say keeps 4096.
 */
static int query_buffer_size(struct passthrough *p)
{
    static const uint8_t tpm2_cmd[] = {
        0x80, 0x01, 0,    0,    0,
        22,   0,    0,    0x01, 0x7a, /* TPM_ST_NO_SESSIONS, TPM2_GetCapability */
        0,    0,    0,    6,          /* TPM_CAP_TPM_PROPERTIES */
        0,    0,    0x01, 0x1e,       /* TPM_PT_MAX_COMMAND_SIZE */
        0,    0,    0,    2,          /* and the next: MAX_RESPONSE_SIZE */
    };
    static const uint8_t tpm12_cmd[] = {
        0x00, 0xc1, 0, 0, 0, 18, 0, 0,    0, 0x65, /* TPM_TAG_RQU_COMMAND, TPM_GetCapability */
        0,    0,    0, 5,                          /* TPM_CAP_PROPERTY */
        0,    0,    0, 4, 0, 0,  1, 0x24,          /* TPM_CAP_PROP_INPUT_BUFFER */
    };
    const uint8_t *rsp;
    size_t rlen;
    bool v2 = p->version != VTPM_TPM_VERSION_1_2;
    int rc = v2 ? pt_exec(p, tpm2_cmd, sizeof(tpm2_cmd), 0, &rsp, &rlen)
                : pt_exec(p, tpm12_cmd, sizeof(tpm12_cmd), 0, &rsp, &rlen);
    size_t size = 0;

    if (rc < 0) {
        return rc;
    }
    if (vtpm_tpm_response_code(rsp, rlen) == 0) {
        if (v2 && rlen >= 35 && get_be32(rsp + 15) == 2) {
            uint32_t c = get_be32(rsp + 23), r = get_be32(rsp + 31);
            size = c < r ? c : r;
        } else if (!v2 && rlen >= 18 && get_be32(rsp + 10) == 4) {
            size = get_be32(rsp + 14);
        }
    }
    if (size < VTPM_TPM_HDR_SIZE) {
        size = PT_MIN_BUFFER;
    }
    p->buffer_size = size > PT_MAX_BUFFER ? PT_MAX_BUFFER : size;
    return 0;
}

static void pt_destroy(void *priv)
{
    struct passthrough *p = priv;

    if (p->worker) {
        pt_cancel(p);
        bk_worker_stop(p->worker);
    }
    if (p->fd >= 0) {
        close(p->fd);
    }
    if (p->cancel_fd >= 0) {
        close(p->cancel_fd);
    }
    free(p->path);
    free(p->cancel_path);
    free(p);
}

static int pt_create(const struct vtpm_backend_options *o, char *err, void **priv)
{
    struct passthrough *p = calloc(1, sizeof(*p));
    char derived[128], fdname[32];
    int rc = -ENOMEM;

    if (!p) {
        if (o->fd >= 0) {
            close(o->fd);
        }
        snprintf(err, BK_ERR_LEN, "out of memory");
        return rc;
    }
    p->err = err;
    p->fd = o->fd;
    p->cancel_fd = -1;
    p->version = o->version ? o->version : VTPM_TPM_VERSION_2_0;
    p->command_timeout_ms =
        o->command_timeout_ms ? o->command_timeout_ms : PT_DEFAULT_COMMAND_TIMEOUT_MS;
    snprintf(fdname, sizeof(fdname), "TPM fd %d", o->fd);
    if (!o->path && o->fd < 0) {
        snprintf(err, BK_ERR_LEN, "no TPM device given (options.path, e.g. /dev/tpmrm0)");
        rc = -EINVAL;
        goto fail;
    }
    const char *cancel = o->cancel_path;
    if (!cancel) {
        if (!o->path || vtpm_passthrough_cancel_path(o->path, derived, sizeof(derived)) < 0) {
            snprintf(err, BK_ERR_LEN,
                     "cannot tell the sysfs cancel file of %s (not named tpmN or tpmrmN); give "
                     "options.cancel_path, e.g. /sys/class/tpm/tpm0/device/cancel",
                     o->path ? o->path : fdname);
            rc = -EINVAL;
            goto fail;
        }
        cancel = derived;
    }
    p->path = strdup(o->fd >= 0 || !o->path ? fdname : o->path);
    p->cancel_path = strdup(cancel);
    if (!p->path || !p->cancel_path) {
        snprintf(err, BK_ERR_LEN, "out of memory");
        goto fail;
    }
    p->reopenable = o->fd < 0;
    if (p->fd < 0 && (rc = pt_open(p)) < 0) {
        goto fail;
    }
    p->cancel_fd = open(p->cancel_path, O_WRONLY | O_CLOEXEC);
    if (p->cancel_fd < 0) {
        rc = -errno;
        snprintf(err, BK_ERR_LEN,
                 "cannot open the TPM's cancel file %s: %s; commands could not be cancelled "
                 "(give options.cancel_path if the TPM's sysfs directory is elsewhere)",
                 p->cancel_path, strerror(-rc));
        goto fail;
    }
    if ((rc = query_buffer_size(p)) < 0) {
        goto fail;
    }
    rc = bk_worker_start(&p->worker, pt_exec, p, p->buffer_size, o);
    if (rc < 0) {
        snprintf(err, BK_ERR_LEN, "cannot start the worker thread (errno %d)", -rc);
        goto fail;
    }
    *priv = p;
    return 0;
fail:
    pt_destroy(p);
    return rc;
}

static const struct vtpm_backend_ops passthrough_ops = {
    .name = "passthrough",
    .deliver = pt_deliver,
    .cancel = pt_cancel,
    .reset = pt_reset,
    .established = pt_established,
    .reset_established = pt_reset_established,
    .buffer_size = pt_buffer_size,
};

const struct bk_factory bk_passthrough = {
    .name = "passthrough",
    .ops = &passthrough_ops,
    .create = pt_create,
    .destroy = pt_destroy,
};
