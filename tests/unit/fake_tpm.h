/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake TPM behind the backend ops table, for the device model tests: it
 * records what the TPM was asked and answers when the test says so (or at
 * once, inside deliver, when `sync` is set). Include after <cmocka.h>.
 */
#ifndef VTPM_TEST_FAKE_TPM_H
#define VTPM_TEST_FAKE_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vtpm/backend.h"

struct fake_tpm {
    bool sync;      /* answer inside deliver */
    int deliver_rc; /* <0: deliver fails at once */
    size_t buffer_size;
    bool established;
    int reset_established_rc;
    uint8_t cmd[4096]; /* the last command delivered */
    size_t cmd_len;
    uint8_t cmd_locality;
    int delivered;
    vtpm_done_fn done; /* set while a command is outstanding */
    void *done_arg;
    uint8_t rsp[4096]; /* what the TPM answers */
    size_t rsp_len;
    int cancels;
    int resets;
    int reset_established_calls;
    uint8_t reset_established_locality;
};

static inline void fake_answer(struct fake_tpm *f, int status)
{
    vtpm_done_fn done = f->done;

    assert_non_null(done);
    f->done = NULL;
    done(f->done_arg, status, status == 0 ? f->rsp : NULL, status == 0 ? f->rsp_len : 0);
}

static inline int fake_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality,
                               vtpm_done_fn done, void *arg)
{
    struct fake_tpm *f = be;

    assert_null(f->done); /* one command at a time */
    if (f->deliver_rc < 0) {
        return f->deliver_rc;
    }
    assert_true(len <= sizeof(f->cmd));
    memcpy(f->cmd, cmd, len);
    f->cmd_len = len;
    f->cmd_locality = locality;
    f->delivered++;
    f->done = done;
    f->done_arg = arg;
    if (f->sync) {
        fake_answer(f, 0);
    }
    return 0;
}

static inline void fake_cancel(void *be)
{
    ((struct fake_tpm *)be)->cancels++;
}

static inline int fake_reset(void *be)
{
    struct fake_tpm *f = be;

    f->resets++;
    f->done = NULL; /* the contract: no completion of older commands after reset */
    return 0;
}

static inline int fake_established(void *be, bool *set)
{
    *set = ((struct fake_tpm *)be)->established;
    return 0;
}

static inline int fake_reset_established(void *be, uint8_t locality)
{
    struct fake_tpm *f = be;

    f->reset_established_calls++;
    f->reset_established_locality = locality;
    if (f->reset_established_rc == 0) {
        f->established = false;
    }
    return f->reset_established_rc;
}

static inline size_t fake_buffer_size(void *be)
{
    return ((struct fake_tpm *)be)->buffer_size;
}

static const struct vtpm_backend_ops fake_ops = {
    .name = "fake",
    .deliver = fake_deliver,
    .cancel = fake_cancel,
    .reset = fake_reset,
    .established = fake_established,
    .reset_established = fake_reset_established,
    .buffer_size = fake_buffer_size,
};

#endif
