/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inproc: the engine (libtpms) in this process. libtpms holds one TPM per
 * process, so there is at most one inproc backend at a time.
 *
 * Commands run on the worker thread (vtpm_engine_process holds the engine
 * lock for the whole command). The MMIO path must not wait for that lock,
 * so the established flag and the buffer size are read once while nothing
 * runs (create, reset) and served from a cache, as QEMU's tpm-emulator
 * caches the flag; resetting the flag refreshes it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend_priv.h"
#include "backend/worker.h"
#include "engine/engine.h"
#include "state/store.h"

struct inproc {
    char *err;
    struct bk_worker *worker;
    struct vtpm_store *store;
    uint8_t *rbuf; /* the engine's response buffer, reused */
    uint32_t rtotal;
    size_t buffer_size;
    bool established;
};

static atomic_bool inproc_in_use;

static int inproc_exec(void *ctx, const uint8_t *cmd, size_t len, uint8_t locality,
                       const uint8_t **rsp, size_t *rlen)
{
    struct inproc *p = ctx;
    uint32_t n = 0;

    vtpm_engine_set_locality(locality);
    vtpm_engine_process(cmd, len, &p->rbuf, &p->rtotal, &n);
    if (!p->rbuf) {
        snprintf(p->err, BK_ERR_LEN, "out of memory for a %zu-byte command's response", len);
        return -ENOMEM;
    }
    *rsp = p->rbuf;
    *rlen = n;
    return 0;
}

static int inproc_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality,
                          vtpm_done_fn done, void *arg)
{
    struct inproc *p = be;

    return bk_worker_submit(p->worker, cmd, len, locality, done, arg);
}

static void inproc_cancel(void *be)
{
    struct inproc *p = be;

    if (bk_worker_busy(p->worker)) {
        (void)vtpm_engine_cancel();
    }
}

static void refresh_established(struct inproc *p)
{
    bool set = false;

    p->established = vtpm_engine_established(&set) == 0 && set;
}

static int inproc_reset(void *be)
{
    struct inproc *p = be;
    bool was_busy = bk_worker_busy(p->worker);

    bk_worker_drop(p->worker);
    if (was_busy) {
        (void)vtpm_engine_cancel();
    }
    bk_worker_quiesce(p->worker);
    /* TPM_Init: the TPM restarts from its stored state, as swtpm's CMD_INIT. */
    uint32_t rc = vtpm_engine_start(0, p->err, BK_ERR_LEN);
    if (rc != 0) {
        return -EIO;
    }
    refresh_established(p);
    return 0;
}

static int inproc_established(void *be, bool *set)
{
    struct inproc *p = be;

    *set = p->established;
    return 0;
}

static int inproc_reset_established(void *be, uint8_t locality)
{
    struct inproc *p = be;
    uint32_t rc = vtpm_engine_reset_established(locality);

    if (rc != 0) {
        snprintf(p->err, BK_ERR_LEN,
                 "libtpms refused to reset tpmEstablished from locality %u (TPM result 0x%x); "
                 "only localities 3 and 4 may",
                 locality, rc);
        return -EPERM;
    }
    refresh_established(p);
    return 0;
}

static size_t inproc_buffer_size(void *be)
{
    return ((struct inproc *)be)->buffer_size;
}

static void inproc_destroy(void *priv)
{
    struct inproc *p = priv;

    if (p->worker && bk_worker_busy(p->worker)) {
        (void)vtpm_engine_cancel();
    }
    bk_worker_stop(p->worker);
    if (vtpm_engine_running()) {
        vtpm_engine_stop(false);
    }
    vtpm_store_close(p->store);
    free(p->rbuf);
    free(p);
    atomic_store(&inproc_in_use, false);
}

static int inproc_create(const struct vtpm_backend_options *o, char *err, void **priv)
{
    enum vtpm_family family = o->version == VTPM_TPM_VERSION_1_2 ? VTPM_FAMILY_12 : VTPM_FAMILY_20;

    if (!o->path) {
        snprintf(err, BK_ERR_LEN, "no state directory given (options.path)");
        return -EINVAL;
    }
    if (atomic_exchange(&inproc_in_use, true)) {
        snprintf(err, BK_ERR_LEN,
                 "libtpms holds one TPM per process and another inproc backend has it; "
                 "destroy that one first, or use the emulator backend with a vtpmd per TPM");
        return -EBUSY;
    }
    struct inproc *p = calloc(1, sizeof(*p));
    int rc = -ENOMEM;
    if (!p) {
        snprintf(err, BK_ERR_LEN, "out of memory");
        atomic_store(&inproc_in_use, false);
        return rc;
    }
    p->err = err;
    rc = vtpm_store_open_dir(&p->store, o->path, family, -1, err, BK_ERR_LEN);
    if (rc < 0) {
        goto fail;
    }
    rc = vtpm_engine_setup(family, p->store);
    if (rc < 0) {
        snprintf(err, BK_ERR_LEN, "this libtpms has no TPM %s",
                 family == VTPM_FAMILY_20 ? "2.0" : "1.2");
        goto fail;
    }
    p->buffer_size = vtpm_engine_buffer_size(0, NULL, NULL);
    rc = bk_worker_start(&p->worker, inproc_exec, p, p->buffer_size, o);
    if (rc < 0) {
        snprintf(err, BK_ERR_LEN, "cannot start the worker thread (errno %d)", -rc);
        goto fail;
    }
    *priv = p;
    return 0;
fail:
    inproc_destroy(p);
    return rc;
}

static const struct vtpm_backend_ops inproc_ops = {
    .name = "inproc",
    .deliver = inproc_deliver,
    .cancel = inproc_cancel,
    .reset = inproc_reset,
    .established = inproc_established,
    .reset_established = inproc_reset_established,
    .buffer_size = inproc_buffer_size,
};

const struct bk_factory bk_inproc = {
    .name = "inproc",
    .ops = &inproc_ops,
    .create = inproc_create,
    .destroy = inproc_destroy,
};
