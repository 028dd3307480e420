/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference driver's CRB ops against the real CRB register model
 * (src/device/crb.c) and a fake TPM behind it, on virtual time: the accessor
 * is vtpm_crb_read/write, sleep_us only advances a counter, and a deferred
 * fake TPM answers when virtual time reaches its due time (or never).
 *
 * The failure cases wrap the accessor in one that misbehaves, and check the
 * exact error code, that the message carries the raw register value, that
 * the failure came within its TCG timeout, and, where the TPM can recover,
 * that vtpm_driver_recover() leaves the model able to run the next command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vtpm/crb.h"
#include "vtpm/driver.h"

/* ---- the fake TPM ------------------------------------------------------- */

#define NEVER UINT64_MAX

struct fake_tpm {
    uint64_t delay_us; /* how long a command "executes"; 0: answers inside deliver; NEVER */
    uint64_t due_us;
    const uint64_t *clock_us;
    int status; /* what the TPM answers: 0, or a backend failure */
    uint8_t cmd[4096];
    size_t cmd_len;
    uint8_t cmd_locality;
    int delivered;
    int cancels;
    vtpm_done_fn done; /* set while a command executes */
    void *done_arg;
    uint8_t rsp[4096];
    size_t rsp_len;
};

static void fake_answer(struct fake_tpm *f)
{
    vtpm_done_fn done = f->done;

    f->done = NULL;
    done(f->done_arg, f->status, f->status == 0 ? f->rsp : NULL, f->status == 0 ? f->rsp_len : 0);
}

static int fake_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality,
                        vtpm_done_fn done, void *arg)
{
    struct fake_tpm *f = be;

    assert_null(f->done);
    memcpy(f->cmd, cmd, len);
    f->cmd_len = len;
    f->cmd_locality = locality;
    f->delivered++;
    f->done = done;
    f->done_arg = arg;
    if (f->delay_us == 0) {
        fake_answer(f);
    } else {
        f->due_us = f->delay_us == NEVER ? NEVER : *f->clock_us + f->delay_us;
    }
    return 0;
}

/* A cancelled command ends at once with an answer (the backend contract: done still follows). */
static void fake_cancel(void *be)
{
    struct fake_tpm *f = be;

    f->cancels++;
    if (f->done) {
        fake_answer(f);
    }
}

static void fake_tick(struct fake_tpm *f)
{
    if (f->done && f->due_us != NEVER && *f->clock_us >= f->due_us) {
        fake_answer(f);
    }
}

static const struct vtpm_backend_ops fake_ops = {
    .name = "fake",
    .deliver = fake_deliver,
    .cancel = fake_cancel,
};

/* ---- faults the wrapping accessor injects ------------------------------- */

enum fault {
    FAULT_NONE,
    FAULT_ALL_ONES,    /* every read is 0xffffffff: nothing on the bus */
    FAULT_NO_GRANT,    /* LOC_STS.Granted and LOC_STATE.locAssigned never show */
    FAULT_CMD_SIZE_11, /* CMD_SIZE reads 11, a byte short of GetRandom */
};

struct fx {
    struct fake_tpm tpm;
    struct vtpm_backend be;
    struct vtpm_crb *crb;
    struct vtpm_driver drv;
    uint8_t locality;
    uint64_t now_us;
    enum fault fault;
    int accesses;
};

static uint32_t io_read(void *ctx, uint32_t offset, unsigned size)
{
    struct fx *x = ctx;
    uint32_t reg = offset & 0xFFF;
    uint32_t v = (uint32_t)vtpm_crb_read(x->crb, offset, size);

    x->accesses++;
    switch (x->fault) {
    case FAULT_ALL_ONES:
        return 0xFFFFFFFFu;
    case FAULT_NO_GRANT:
        if (reg == VTPM_CRB_REG_LOC_STS) {
            return v & ~VTPM_CRB_LOC_STS_Granted;
        }
        if (reg == VTPM_CRB_REG_LOC_STATE) {
            return v & ~(VTPM_CRB_LOC_STATE_locAssigned | VTPM_CRB_LOC_STATE_activeLocality_MASK);
        }
        return v;
    case FAULT_CMD_SIZE_11:
        return reg == VTPM_CRB_REG_CMD_SIZE ? 11 : v;
    default:
        return v;
    }
}

static void io_write(void *ctx, uint32_t offset, uint32_t value, unsigned size)
{
    struct fx *x = ctx;

    x->accesses++;
    vtpm_crb_write(x->crb, offset, value, size);
}

static uint64_t io_now_ms(void *ctx)
{
    return ((struct fx *)ctx)->now_us / 1000u;
}

static void io_sleep_us(void *ctx, uint32_t us)
{
    struct fx *x = ctx;

    x->now_us += us;
    fake_tick(&x->tpm);
}

/* ---- fixture ------------------------------------------------------------ */

/* TPM2_GetRandom(32) and a 16-byte answer carrying 4 random bytes */
static const uint8_t get_random[] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x20};
static const uint8_t random_rsp[] = {0x80, 0x01, 0, 0, 0,    0x10, 0,    0,
                                     0,    0,    0, 4, 0xa1, 0xa2, 0xa3, 0xa4};

static struct fx *fx_new(uint8_t locality)
{
    struct fx *x = test_calloc(1, sizeof(*x));
    struct vtpm_crb_config ccfg = {0};

    x->locality = locality;
    x->now_us = 1000000;
    x->tpm.clock_us = &x->now_us;
    memcpy(x->tpm.rsp, random_rsp, sizeof(random_rsp));
    x->tpm.rsp_len = sizeof(random_rsp);
    x->be = (struct vtpm_backend){.ops = &fake_ops, .priv = &x->tpm};
    assert_int_equal(vtpm_crb_create(&ccfg, &x->be, &x->crb), 0);

    struct vtpm_driver_config cfg = {
        .iface = vtpm_driver_find("crb"),
        .version = VTPM_TPM_VERSION_2_0,
        .locality = locality,
        .io = {.read = io_read,
               .write = io_write,
               .now_ms = io_now_ms,
               .sleep_us = io_sleep_us,
               .ctx = x},
    };
    assert_ptr_equal(cfg.iface, &vtpm_driver_crb);
    assert_int_equal(vtpm_driver_init(&x->drv, &cfg), VTPM_DRIVER_OK);
    return x;
}

static int setup0(void **state)
{
    *state = fx_new(0);
    return 0;
}

static int setup3(void **state)
{
    *state = fx_new(3);
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    vtpm_crb_destroy(x->crb);
    test_free(x);
    return 0;
}

static uint32_t model_reg(struct fx *x, uint32_t reg)
{
    return (uint32_t)vtpm_crb_read(x->crb, ((uint64_t)x->locality << 12) | reg, 4);
}

/* No locality assigned, TPM idle, nothing executing. */
static void assert_idle(struct fx *x)
{
    assert_false(model_reg(x, VTPM_CRB_REG_LOC_STATE) & VTPM_CRB_LOC_STATE_locAssigned);
    assert_int_equal(model_reg(x, VTPM_CRB_REG_CTRL_STS), VTPM_CRB_CTRL_STS_tpmIdle);
    assert_false(vtpm_crb_busy(x->crb));
    assert_false(x->drv.have_locality);
}

static void assert_get_random_works(struct fx *x)
{
    uint8_t rsp[4096];
    size_t len = 0;
    int before = x->tpm.delivered;

    assert_int_equal(
        vtpm_driver_transmit(&x->drv, get_random, sizeof(get_random), rsp, sizeof(rsp), &len),
        VTPM_DRIVER_OK);
    assert_int_equal(x->tpm.delivered, before + 1);
    assert_int_equal(x->tpm.cmd_len, sizeof(get_random));
    assert_memory_equal(x->tpm.cmd, get_random, sizeof(get_random));
    assert_int_equal(x->tpm.cmd_locality, x->locality);
    assert_int_equal(len, x->tpm.rsp_len);
    assert_memory_equal(rsp, x->tpm.rsp, len);
    assert_int_equal(vtpm_driver_last_error(&x->drv)->code, VTPM_DRIVER_OK);
    assert_idle(x);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        fail_msg("\"%s\" lacks \"%s\"", haystack, needle);
    }
}

static enum vtpm_driver_err send_get_random(struct fx *x)
{
    uint8_t rsp[64];
    size_t len = 99;

    enum vtpm_driver_err rc =
        vtpm_driver_transmit(&x->drv, get_random, sizeof(get_random), rsp, sizeof(rsp), &len);
    if (rc != VTPM_DRIVER_OK) {
        assert_int_equal(len, 0);
    }
    return rc;
}

/* ---- the command flow --------------------------------------------------- */

static void test_get_random_flow(void **state)
{
    struct fx *x = *state;
    uint64_t t0 = x->now_us;

    assert_idle(x);
    assert_get_random_works(x);
    assert_true(x->now_us == t0); /* a synchronous TPM: no wait ever ran out */
    assert_get_random_works(x);   /* the interface was left idle */
}

/* A TPM that takes 300 ms: the driver polls Start within the long duration. */
static void test_get_random_deferred(void **state)
{
    struct fx *x = *state;
    uint64_t t0 = x->now_us;

    x->tpm.delay_us = 300000;
    assert_get_random_works(x);
    assert_true(x->now_us - t0 >= 300000);
    assert_true(x->now_us - t0 < 310000);
}

/* A caller holding the locality keeps it across commands. */
static void test_held_locality(void **state)
{
    struct fx *x = *state;
    uint8_t rsp[64];
    size_t len = 0;

    assert_int_equal(vtpm_driver_request_locality(&x->drv), VTPM_DRIVER_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            vtpm_driver_transmit(&x->drv, get_random, sizeof(get_random), rsp, sizeof(rsp), &len),
            VTPM_DRIVER_OK);
        assert_true(x->drv.have_locality);
        assert_int_equal(model_reg(x, VTPM_CRB_REG_LOC_STS), VTPM_CRB_LOC_STS_Granted);
        assert_int_equal(model_reg(x, VTPM_CRB_REG_CTRL_STS), VTPM_CRB_CTRL_STS_tpmIdle);
    }
    assert_int_equal(vtpm_driver_relinquish_locality(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
}

/* ---- failures ----------------------------------------------------------- */

/* The backend fails: the model sets tpmSts; the driver names it with CTRL_STS's raw value. */
static void test_backend_failure_is_fatal(void **state)
{
    struct fx *x = *state;
    char want[64];

    x->tpm.status = -EIO;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_TPM_FATAL);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    assert_int_equal(e->code, VTPM_DRIVER_E_TPM_FATAL);
    assert_int_equal(e->offset, ((uint32_t)x->locality << 12) | VTPM_CRB_REG_CTRL_STS);
    assert_int_equal(e->value, VTPM_CRB_CTRL_STS_tpmSts);
    snprintf(want, sizeof(want), "TPM_CRB_CTRL_STS_%u reads 0x00000001", x->locality);
    assert_contains(e->message, want);
    assert_contains(e->message, "fatal error");

    /* Recovery does not hide it: only a TPM reset clears tpmSts. */
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_E_TPM_FATAL);
    /* And the next command is refused before the TPM sees it. */
    int delivered = x->tpm.delivered;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_TPM_FATAL);
    assert_int_equal(x->tpm.delivered, delivered);
    assert_contains(vtpm_driver_last_error(&x->drv)->message, "before the command");
}

/* Start never clears: EXEC_TIMEOUT after the long duration; recovery cancels the command. */
static void test_start_never_clears(void **state)
{
    struct fx *x = *state;
    uint64_t t0 = x->now_us;

    x->tpm.delay_us = NEVER;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_EXEC_TIMEOUT);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    uint32_t dur = vtpm_driver_duration_ms(&x->drv, 0x17B);
    assert_int_equal(dur, 2000); /* GetRandom is LONG */
    assert_true(e->waited_ms >= dur && e->waited_ms <= dur + 1);
    assert_true(x->now_us - t0 <= (uint64_t)(dur + 2) * 1000u);
    assert_int_equal(e->value, VTPM_CRB_CTRL_START_Start);
    assert_contains(e->message, "CTRL_START_0 still reads 0x00000001");
    assert_contains(e->message, "command 0x0000017b");
    assert_true(vtpm_crb_busy(x->crb));
    assert_int_equal(x->tpm.cancels, 0); /* the failure leaves the interface as found */

    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(model_reg(x, VTPM_CRB_REG_CTRL_CANCEL), 0);
    assert_idle(x);
    x->tpm.delay_us = 0;
    assert_get_random_works(x);
}

static void test_locality_never_granted(void **state)
{
    struct fx *x = *state;
    uint64_t t0 = x->now_us;

    x->fault = FAULT_NO_GRANT;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_LOCALITY_TIMEOUT);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    assert_true(e->waited_ms >= 750 && e->waited_ms <= 751);
    assert_true(x->now_us - t0 <= 752000);
    assert_int_equal(e->offset, VTPM_CRB_REG_LOC_STS);
    assert_int_equal(e->value, 0);
    assert_contains(e->message, "locality 0 not granted within 750 ms (LOC_STS 0x00000000, "
                                "LOC_STATE 0x00000081)");
    assert_int_equal(x->tpm.delivered, 0);

    x->fault = FAULT_NONE;
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
    assert_get_random_works(x);
}

static void test_all_ones(void **state)
{
    struct fx *x = *state;

    x->fault = FAULT_ALL_ONES;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_BUS_ALL_ONES);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    assert_int_equal(e->offset, VTPM_CRB_REG_LOC_STATE);
    assert_int_equal(e->value, 0xFFFFFFFFu);
    assert_true(e->waited_ms >= 750 && e->waited_ms <= 751);
    assert_contains(e->message, "TPM_LOC_STATE_0 reads 0xffffffff (all ones) for 750 ms");
    assert_contains(e->message, "power-cycle it");
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_E_BUS_ALL_ONES);

    x->fault = FAULT_NONE;
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_get_random_works(x);
}

/* A command larger than CMD_SIZE is refused before Start; nothing reaches the TPM. */
static void test_command_too_big(void **state)
{
    struct fx *x = *state;

    x->fault = FAULT_CMD_SIZE_11;
    assert_int_equal(send_get_random(x), VTPM_DRIVER_E_CMD_TOO_BIG);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    assert_int_equal(e->value, 11);
    assert_contains(e->message, "12 bytes but TPM_CRB_CMD_SIZE_0 says the buffer holds 11");
    assert_int_equal(x->tpm.delivered, 0);
    x->fault = FAULT_NONE;
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
    assert_get_random_works(x);
}

/* A response larger than the caller's buffer: RSP_TOO_BIG with the header's size. */
static void test_response_too_big(void **state)
{
    struct fx *x = *state;
    uint8_t rsp[12];
    size_t len = 0;

    assert_int_equal(
        vtpm_driver_transmit(&x->drv, get_random, sizeof(get_random), rsp, sizeof(rsp), &len),
        VTPM_DRIVER_E_RSP_TOO_BIG);
    assert_int_equal(vtpm_driver_last_error(&x->drv)->value, 16);
    assert_contains(vtpm_driver_last_error(&x->drv)->message,
                    "says 16 bytes, more than the 12-byte buffer");
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
    assert_get_random_works(x);
}

static void test_error_names(void **state)
{
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_TPM_FATAL), "TPM_FATAL");
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_CMD_TOO_BIG), "CMD_TOO_BIG");
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_CRB_BUFFER), "CRB_BUFFER");
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_IDLE_TIMEOUT), "IDLE_TIMEOUT");
    assert_ptr_equal(vtpm_driver_find("tis"), &vtpm_driver_tis);
    assert_null(vtpm_driver_find("spapr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_random_flow, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_get_random_flow, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_get_random_deferred, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_held_locality, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failure_is_fatal, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failure_is_fatal, setup3, teardown),
        cmocka_unit_test_setup_teardown(test_start_never_clears, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_locality_never_granted, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_all_ones, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_command_too_big, setup0, teardown),
        cmocka_unit_test_setup_teardown(test_response_too_big, setup0, teardown),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
