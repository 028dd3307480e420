/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libvtpm backends: what a device model (TIS, CRB, SPAPR) needs from the TPM
 * behind it. A backend is an ops table plus its private state; the device
 * models call it and never know whether the TPM runs in this process, in a
 * swtpm-compatible daemon or in the host's /dev/tpm0.
 */
#ifndef VTPM_BACKEND_H
#define VTPM_BACKEND_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The TPM family behind a device; the values match the daemon's --tpm2 choice. */
enum vtpm_tpm_version {
    VTPM_TPM_VERSION_1_2 = 1,
    VTPM_TPM_VERSION_2_0 = 2,
};

/*
 * Called exactly once per delivered command, from any thread the backend
 * chooses (the embedder serialises it with its MMIO path).
 * status: 0 and a response of `len` bytes, or a negative errno-style code
 * (rsp NULL, len 0) when the TPM could not be reached. `rsp` is only valid
 * during the call.
 */
typedef void (*vtpm_done_fn)(void *arg, int status, const uint8_t *rsp, size_t len);

struct vtpm_backend_ops {
    const char *name; /* "inproc", "emulator", "passthrough", ... */
    /*
     * Starts executing `cmd` and returns at once (0) or fails at once
     * (negative; `done` is then never called). `cmd` stays valid and
     * unchanged until `done` is called. One command at a time.
     */
    int (*deliver)(void *be, const uint8_t *cmd, size_t len, uint8_t locality, vtpm_done_fn done,
                   void *arg);
    /* Asks the TPM to finish the running command early; `done` still follows. */
    void (*cancel)(void *be);
    /*
     * Power cycle (TPM_Init). On return, no `done` of an earlier command is
     * pending any more: the backend has waited for it or dropped it.
     */
    int (*reset)(void *be);
    /* The TPM's tpmEstablished flag (set by a dynamic root of trust). */
    int (*established)(void *be, bool *set);
    int (*reset_established)(void *be, uint8_t locality);
    /* Largest command and response the TPM accepts, in bytes. */
    size_t (*buffer_size)(void *be);
};

/* A backend instance: its ops and its private state (the ops' `be` argument). */
struct vtpm_backend {
    const struct vtpm_backend_ops *ops;
    void *priv;
};

/*
 * Optional ops may be NULL; these wrappers give the answer a TPM without
 * that feature would give.
 */
static inline int vtpm_backend_deliver(struct vtpm_backend *be, const uint8_t *cmd, size_t len,
                                       uint8_t locality, vtpm_done_fn done, void *arg)
{
    return be->ops->deliver(be->priv, cmd, len, locality, done, arg);
}

static inline void vtpm_backend_cancel(struct vtpm_backend *be)
{
    if (be->ops->cancel) {
        be->ops->cancel(be->priv);
    }
}

static inline int vtpm_backend_reset(struct vtpm_backend *be)
{
    return be->ops->reset ? be->ops->reset(be->priv) : 0;
}

static inline bool vtpm_backend_established(struct vtpm_backend *be)
{
    bool set = false;

    if (!be->ops->established || be->ops->established(be->priv, &set) < 0) {
        return false;
    }
    return set;
}

static inline int vtpm_backend_reset_established(struct vtpm_backend *be, uint8_t locality)
{
    return be->ops->reset_established ? be->ops->reset_established(be->priv, locality) : -ENOTSUP;
}

static inline size_t vtpm_backend_buffer_size(struct vtpm_backend *be)
{
    return be->ops->buffer_size ? be->ops->buffer_size(be->priv) : 4096;
}

#endif
