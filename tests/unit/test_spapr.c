/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PAPR vTPM CRQ model (src/device/spapr.c): the init handshake, the
 * informational messages, TPM_COMMAND through guest memory with a fake TPM
 * (asynchronous and synchronous completion, busy, copy-in/out failures,
 * backend failures), reset and save/restore; then TPM2_Startup and
 * GetRandom against libtpms through the inproc backend, as a pseries guest's
 * ibmvtpm driver would send them.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_tpm.h"
#include "util/buf.h"
#include "vtpm/backends.h"
#include "vtpm/spapr.h"

#define GUEST_MEM 0x4000u /* the RTCE window the guest maps: 16 KiB */
#define IOBA 0x1000u

struct guest {
    uint8_t mem[GUEST_MEM];
    uint8_t queue[16][VTPM_SPAPR_CRQ_SIZE]; /* the guest's CRQ */
    unsigned queued;
    bool fail_read, fail_write;
};

struct fixture {
    struct guest g;
    struct fake_tpm tpm;
    struct vtpm_backend be;
    struct vtpm_spapr *dev;
};

static int g_dma_read(void *opaque, uint32_t ioba, uint8_t *buf, size_t len)
{
    struct guest *g = opaque;
    if (g->fail_read || ioba > GUEST_MEM || len > GUEST_MEM - ioba)
        return -EFAULT;
    memcpy(buf, g->mem + ioba, len);
    return 0;
}

static int g_dma_write(void *opaque, uint32_t ioba, const uint8_t *buf, size_t len)
{
    struct guest *g = opaque;
    if (g->fail_write || ioba > GUEST_MEM || len > GUEST_MEM - ioba)
        return -EFAULT;
    memcpy(g->mem + ioba, buf, len);
    return 0;
}

static int g_send_crq(void *opaque, const uint8_t msg[VTPM_SPAPR_CRQ_SIZE])
{
    struct guest *g = opaque;
    if (g->queued >= 16)
        return -ENOSPC;
    memcpy(g->queue[g->queued++], msg, VTPM_SPAPR_CRQ_SIZE);
    return 0;
}

static int setup_version(void **state, enum vtpm_tpm_version version)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->tpm.buffer_size = 4096;
    f->be = (struct vtpm_backend){.ops = &fake_ops, .priv = &f->tpm};
    struct vtpm_spapr_config cfg = {
        .version = version,
        .dma_read = g_dma_read,
        .dma_write = g_dma_write,
        .send_crq = g_send_crq,
        .opaque = &f->g,
    };
    assert_int_equal(vtpm_spapr_create(&cfg, &f->be, &f->dev), 0);
    assert_int_equal(vtpm_spapr_reset(f->dev), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_version(state, VTPM_TPM_VERSION_2_0);
}

static int setup12(void **state)
{
    return setup_version(state, VTPM_TPM_VERSION_1_2);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vtpm_spapr_destroy(f->dev);
    free(f);
    return 0;
}

static int crq(struct fixture *f, uint8_t valid, uint8_t msg, uint16_t len, uint32_t data)
{
    uint8_t m[VTPM_SPAPR_CRQ_SIZE] = {valid, msg};
    put_be16(m + 2, len);
    put_be32(m + 4, data);
    return vtpm_spapr_crq(f->dev, m);
}

/* Pops the oldest message from the guest's queue and checks it. */
static void expect_msg(struct fixture *f, uint8_t valid, uint8_t msg, uint16_t len, uint32_t data)
{
    assert_true(f->g.queued > 0);
    const uint8_t *m = f->g.queue[0];
    assert_int_equal(m[0], valid);
    assert_int_equal(m[1], msg);
    assert_int_equal(get_be16(m + 2), len);
    assert_int_equal(get_be32(m + 4), data);
    assert_int_equal(get_be32(m + 8) | get_be32(m + 12), 0); /* reserved */
    memmove(f->g.queue[0], f->g.queue[1], (--f->g.queued) * VTPM_SPAPR_CRQ_SIZE);
}

static const uint8_t startup_clear[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};
static const uint8_t ok_rsp[] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};

static void test_init_handshake(void **state)
{
    struct fixture *f = *state;

    assert_false(vtpm_spapr_initialized(f->dev));
    assert_int_equal(crq(f, 0xC0, 0x02, 0, 0), VTPM_SPAPR_H_SUCCESS); /* complete before init */
    expect_msg(f, 0xC0, 0x02, 0, 0);
    assert_false(vtpm_spapr_initialized(f->dev));
    assert_int_equal(crq(f, 0xC0, 0x01, 0, 0), VTPM_SPAPR_H_SUCCESS);
    expect_msg(f, 0xC0, 0x01, 0, 0);
    assert_int_equal(crq(f, 0xC0, 0x02, 0, 0), VTPM_SPAPR_H_SUCCESS);
    expect_msg(f, 0xC0, 0x02, 0, 0);
    assert_true(vtpm_spapr_initialized(f->dev));
    /* Unknown init and transport messages are not answered. */
    crq(f, 0xC0, 0x07, 0, 0);
    crq(f, 0xFF, 0x01, 0, 0);
    crq(f, 0x80, 0x42, 0, 0);
    assert_int_equal(f->g.queued, 0);
    assert_int_equal(vtpm_spapr_crq(f->dev, NULL), VTPM_SPAPR_H_PARAMETER);
    /* A reset forgets the handshake: the guest driver redoes it. */
    assert_int_equal(vtpm_spapr_reset(f->dev), 0);
    assert_false(vtpm_spapr_initialized(f->dev));
}

static void test_info_messages(void **state)
{
    struct fixture *f = *state;

    crq(f, 0x80, VTPM_SPAPR_MSG_GET_VERSION, 0, 0);
    expect_msg(f, 0x80, 0x81, 0, 2);
    crq(f, 0x80, VTPM_SPAPR_MSG_GET_RTCE_BUFFER_SIZE, 0, 0);
    expect_msg(f, 0x80, 0x83, 4096, 0);
    crq(f, 0x80, VTPM_SPAPR_MSG_PREPARE_TO_SUSPEND, 0, 0);
    expect_msg(f, 0x80, 0x84, 0, 0);
    assert_string_equal(vtpm_spapr_dt_compatible(VTPM_TPM_VERSION_2_0), "IBM,vtpm20");
    assert_string_equal(vtpm_spapr_dt_compatible(VTPM_TPM_VERSION_1_2), "IBM,vtpm");
}

static void test_version_12_and_small_buffer(void **state)
{
    struct fixture *f = *state;

    crq(f, 0x80, VTPM_SPAPR_MSG_GET_VERSION, 0, 0);
    expect_msg(f, 0x80, 0x81, 0, 1);
    /* The RTCE buffer size follows the backend's, capped at 4096. */
    f->tpm.buffer_size = 1024;
    vtpm_spapr_reset(f->dev);
    crq(f, 0x80, VTPM_SPAPR_MSG_GET_RTCE_BUFFER_SIZE, 0, 0);
    expect_msg(f, 0x80, 0x83, 1024, 0);
    f->tpm.buffer_size = 65536;
    vtpm_spapr_reset(f->dev);
    crq(f, 0x80, VTPM_SPAPR_MSG_GET_RTCE_BUFFER_SIZE, 0, 0);
    expect_msg(f, 0x80, 0x83, 4096, 0);
}

static void test_command_async(void **state)
{
    struct fixture *f = *state;

    memcpy(f->g.mem + IOBA, startup_clear, sizeof(startup_clear));
    memset(f->g.mem + IOBA + sizeof(startup_clear), 0xAA, 64); /* beyond paramSize */
    assert_int_equal(crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA), VTPM_SPAPR_H_SUCCESS);
    /* Exactly the command's own bytes reached the TPM, from locality 0. */
    assert_int_equal(f->tpm.delivered, 1);
    assert_int_equal(f->tpm.cmd_len, sizeof(startup_clear));
    assert_memory_equal(f->tpm.cmd, startup_clear, sizeof(startup_clear));
    assert_int_equal(f->tpm.cmd_locality, 0);
    assert_int_equal(vtpm_spapr_state(f->dev), VTPM_SPAPR_EXECUTION);
    assert_int_equal(f->g.queued, 0);
    /* A second command while the first runs: the hypercall says busy, nothing is queued. */
    assert_int_equal(crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA), VTPM_SPAPR_H_BUSY);
    assert_int_equal(f->tpm.delivered, 1);
    /* Save refuses while the command executes. */
    uint8_t blob[VTPM_SPAPR_STATE_MAX];
    assert_int_equal(vtpm_spapr_save(f->dev, blob, sizeof(blob)), -EBUSY);

    memcpy(f->tpm.rsp, ok_rsp, sizeof(ok_rsp));
    f->tpm.rsp_len = sizeof(ok_rsp);
    fake_answer(&f->tpm, 0);
    expect_msg(f, 0x80, 0x82, sizeof(ok_rsp), IOBA);
    assert_memory_equal(f->g.mem + IOBA, ok_rsp, sizeof(ok_rsp));
    assert_int_equal(vtpm_spapr_state(f->dev), VTPM_SPAPR_IDLE);
}

static void test_command_sync_and_oversized_header(void **state)
{
    struct fixture *f = *state;

    f->tpm.sync = true;
    memcpy(f->tpm.rsp, ok_rsp, sizeof(ok_rsp));
    f->tpm.rsp_len = sizeof(ok_rsp);
    /* paramSize larger than the buffer: only the header goes to the TPM, which rejects it. */
    uint8_t big[10] = {0x80, 0x01, 0, 0x01, 0, 0, 0, 0, 0x01, 0x7b}; /* 64 KiB */
    memcpy(f->g.mem + IOBA, big, sizeof(big));
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    assert_int_equal(f->tpm.cmd_len, 10);
    expect_msg(f, 0x80, 0x82, sizeof(ok_rsp), IOBA);
    /* A command at the very end of the window is read as sized, not as 4 KiB. */
    uint32_t end = GUEST_MEM - sizeof(startup_clear);
    memcpy(f->g.mem + end, startup_clear, sizeof(startup_clear));
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, end);
    assert_int_equal(f->tpm.cmd_len, sizeof(startup_clear));
    expect_msg(f, 0x80, 0x82, sizeof(ok_rsp), end);
}

static void test_copy_in_and_out_failures(void **state)
{
    struct fixture *f = *state;

    f->tpm.sync = true;
    memcpy(f->tpm.rsp, ok_rsp, sizeof(ok_rsp));
    f->tpm.rsp_len = sizeof(ok_rsp);
    /* An address outside the window: copy-in error, and nothing is run. */
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, GUEST_MEM + 0x100);
    expect_msg(f, 0x80, 0xFF, 0, VTPM_SPAPR_ERR_COPY_IN_FAILED);
    assert_int_equal(f->tpm.delivered, 0);
    /* The body beyond the window fails as well. */
    uint32_t end = GUEST_MEM - 10;
    memcpy(f->g.mem + end, startup_clear, 10);
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, end);
    expect_msg(f, 0x80, 0xFF, 0, VTPM_SPAPR_ERR_COPY_IN_FAILED);
    assert_int_equal(f->tpm.delivered, 0);
    /* The response cannot be written back: copy-out error, and the device is idle again. */
    memcpy(f->g.mem + IOBA, startup_clear, sizeof(startup_clear));
    f->g.fail_write = true;
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    expect_msg(f, 0x80, 0xFF, 0, VTPM_SPAPR_ERR_COPY_OUT_FAILED);
    assert_int_equal(vtpm_spapr_state(f->dev), VTPM_SPAPR_IDLE);
    f->g.fail_write = false;
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    expect_msg(f, 0x80, 0x82, sizeof(ok_rsp), IOBA);
}

static void expect_failure_response(struct fixture *f, uint16_t tag, uint32_t rc)
{
    expect_msg(f, 0x80, 0x82, 10, IOBA);
    assert_int_equal(get_be16(f->g.mem + IOBA), tag);
    assert_int_equal(get_be32(f->g.mem + IOBA + 2), 10);
    assert_int_equal(get_be32(f->g.mem + IOBA + 6), rc);
}

static void test_backend_failures_answer_tpm_errors(void **state)
{
    struct fixture *f = *state;

    memcpy(f->g.mem + IOBA, startup_clear, sizeof(startup_clear));
    /* deliver fails at once */
    f->tpm.deliver_rc = -EPIPE;
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    expect_failure_response(f, 0x8001, 0x101);
    assert_int_equal(vtpm_spapr_state(f->dev), VTPM_SPAPR_IDLE);
    /* completion with an error status */
    f->tpm.deliver_rc = 0;
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    fake_answer(&f->tpm, -ETIMEDOUT);
    expect_failure_response(f, 0x8001, 0x101);
    /* a response whose size field lies */
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    memcpy(f->tpm.rsp, ok_rsp, sizeof(ok_rsp));
    f->tpm.rsp[5] = 11;
    f->tpm.rsp_len = sizeof(ok_rsp);
    fake_answer(&f->tpm, 0);
    expect_failure_response(f, 0x8001, 0x101);
}

static void test_backend_failure_tpm12(void **state)
{
    struct fixture *f = *state;

    memcpy(f->g.mem + IOBA, startup_clear, sizeof(startup_clear));
    f->tpm.deliver_rc = -EPIPE;
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    expect_failure_response(f, 0x00C4, 0x09); /* TPM_FAIL */
}

static void test_reset_drops_outstanding_command(void **state)
{
    struct fixture *f = *state;

    memcpy(f->g.mem + IOBA, startup_clear, sizeof(startup_clear));
    crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA);
    vtpm_done_fn done = f->tpm.done;
    void *arg = f->tpm.done_arg;
    assert_int_equal(vtpm_spapr_reset(f->dev), 0);
    assert_int_equal(f->tpm.resets, 2); /* setup's and this one */
    assert_int_equal(vtpm_spapr_state(f->dev), VTPM_SPAPR_IDLE);
    /* A late completion (a backend that broke its contract) is ignored. */
    done(arg, 0, ok_rsp, sizeof(ok_rsp));
    assert_int_equal(f->g.queued, 0);
    f->tpm.done = NULL;
    /* and a new command is accepted */
    assert_int_equal(crq(f, 0x80, VTPM_SPAPR_MSG_TPM_COMMAND, 0, IOBA), VTPM_SPAPR_H_SUCCESS);
}

static void test_save_restore(void **state)
{
    struct fixture *f = *state;
    uint8_t blob[VTPM_SPAPR_STATE_MAX], blob2[VTPM_SPAPR_STATE_MAX];

    crq(f, 0xC0, 0x01, 0, 0);
    crq(f, 0xC0, 0x02, 0, 0);
    long n = vtpm_spapr_save(f->dev, blob, sizeof(blob));
    assert_int_equal(n, VTPM_SPAPR_STATE_MAX);
    assert_int_equal(vtpm_spapr_save(f->dev, blob, 4), -ENOSPC);

    vtpm_spapr_reset(f->dev);
    assert_false(vtpm_spapr_initialized(f->dev));
    assert_int_equal(vtpm_spapr_restore(f->dev, blob, (size_t)n), 0);
    assert_true(vtpm_spapr_initialized(f->dev));
    assert_int_equal(vtpm_spapr_save(f->dev, blob2, sizeof(blob2)), n);
    assert_memory_equal(blob, blob2, (size_t)n);

    /* Malformed blobs leave the device unchanged. */
    vtpm_spapr_reset(f->dev);
    assert_int_equal(vtpm_spapr_restore(f->dev, blob, (size_t)n - 1), -EINVAL);
    blob2[6] = 0x80; /* unknown flag */
    assert_int_equal(vtpm_spapr_restore(f->dev, blob2, (size_t)n), -EINVAL);
    memcpy(blob2, blob, (size_t)n);
    put_be16(blob2 + 7, 5000); /* buffer larger than the model has */
    assert_int_equal(vtpm_spapr_restore(f->dev, blob2, (size_t)n), -EINVAL);
    memcpy(blob2, blob, (size_t)n);
    put_be16(blob2 + 4, 2); /* a future version */
    assert_int_equal(vtpm_spapr_restore(f->dev, blob2, (size_t)n), -EPROTONOSUPPORT);
    blob2[0] ^= 1; /* another model's blob */
    assert_int_equal(vtpm_spapr_restore(f->dev, blob2, (size_t)n), -EINVAL);
    assert_false(vtpm_spapr_initialized(f->dev));
}

static void test_create_refuses_bad_config(void **state)
{
    struct fixture *f = *state;
    struct vtpm_spapr *d = NULL;
    struct vtpm_spapr_config cfg = {.version = VTPM_TPM_VERSION_2_0,
                                    .dma_read = g_dma_read,
                                    .dma_write = g_dma_write,
                                    .send_crq = NULL,
                                    .opaque = &f->g};
    assert_int_equal(vtpm_spapr_create(&cfg, &f->be, &d), -EINVAL);
    cfg.send_crq = g_send_crq;
    cfg.version = 3;
    assert_int_equal(vtpm_spapr_create(&cfg, &f->be, &d), -EINVAL);
    assert_null(d);
}

/* ---- with libtpms: the inproc backend on its worker thread ---------------- */

struct live {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct guest g;
    struct vtpm_backend *be;
    struct vtpm_spapr *dev;
    char dir[64];
};

static void live_lock(void *o)
{
    pthread_mutex_lock(&((struct live *)o)->lock);
}

static void live_unlock(void *o)
{
    struct live *l = o;
    pthread_cond_broadcast(&l->cond); /* a completion may have queued a message */
    pthread_mutex_unlock(&l->lock);
}

/* Sends a command through the CRQ and waits (under the device lock) for the answer. */
static uint32_t live_command(struct live *l, const uint8_t *cmd, size_t len, uint8_t *rsp,
                             size_t *rsp_len)
{
    pthread_mutex_lock(&l->lock);
    memcpy(l->g.mem + IOBA, cmd, len);
    uint8_t m[VTPM_SPAPR_CRQ_SIZE] = {0x80, VTPM_SPAPR_MSG_TPM_COMMAND};
    put_be32(m + 4, IOBA);
    assert_int_equal(vtpm_spapr_crq(l->dev, m), VTPM_SPAPR_H_SUCCESS);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    while (l->g.queued == 0)
        assert_int_equal(pthread_cond_timedwait(&l->cond, &l->lock, &deadline), 0);
    const uint8_t *r = l->g.queue[0];
    assert_int_equal(r[0], 0x80);
    assert_int_equal(r[1], 0x82);
    *rsp_len = get_be16(r + 2);
    memcpy(rsp, l->g.mem + IOBA, *rsp_len);
    l->g.queued = 0;
    pthread_mutex_unlock(&l->lock);
    return get_be32(rsp + 6);
}

static void test_inproc_startup_and_random(void **state)
{
    (void)state;
    struct live *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    snprintf(l->dir, sizeof(l->dir), "/tmp/vtpm-spapr-XXXXXX");
    assert_non_null(mkdtemp(l->dir));

    struct vtpm_backend_options o;
    char err[512];
    vtpm_backend_options_init(&o);
    o.version = VTPM_TPM_VERSION_2_0;
    o.path = l->dir;
    o.lock = live_lock;
    o.unlock = live_unlock;
    o.lock_opaque = l;
    if (vtpm_backend_create("inproc", &o, &l->be, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    struct vtpm_spapr_config cfg = {.version = VTPM_TPM_VERSION_2_0,
                                    .dma_read = g_dma_read,
                                    .dma_write = g_dma_write,
                                    .send_crq = g_send_crq,
                                    .opaque = &l->g};
    assert_int_equal(vtpm_spapr_create(&cfg, l->be, &l->dev), 0);
    pthread_mutex_lock(&l->lock);
    assert_int_equal(vtpm_spapr_reset(l->dev), 0);
    pthread_mutex_unlock(&l->lock);

    uint8_t rsp[4096];
    size_t n;
    assert_int_equal(live_command(l, startup_clear, sizeof(startup_clear), rsp, &n), 0);
    assert_int_equal(n, 10);
    static const uint8_t get_random16[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 16};
    assert_int_equal(live_command(l, get_random16, sizeof(get_random16), rsp, &n), 0);
    assert_int_equal(n, 10 + 2 + 16);
    assert_int_equal(get_be16(rsp + 10), 16);
    /* A second Startup is refused by the TPM itself (TPM_RC_INITIALIZE). */
    assert_int_equal(live_command(l, startup_clear, sizeof(startup_clear), rsp, &n), 0x100);

    vtpm_spapr_destroy(l->dev);
    vtpm_backend_destroy(l->be);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", l->dir);
    assert_int_equal(system(cmd), 0);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_12_and_small_buffer, setup12, teardown),
        cmocka_unit_test_setup_teardown(test_command_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_sync_and_oversized_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_in_and_out_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failures_answer_tpm_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failure_tpm12, setup12, teardown),
        cmocka_unit_test_setup_teardown(test_reset_drops_outstanding_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_bad_config, setup, teardown),
        cmocka_unit_test(test_inproc_startup_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
