/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference driver against the real TIS register model (src/device/tis.c)
 * and a fake TPM behind it, on virtual time: the accessor is
 * vtpm_tis_read/write, sleep_us only advances a counter, and a deferred fake
 * TPM answers when virtual time reaches its due time.
 *
 * The failure cases wrap the accessor in one that misbehaves the way the
 * seeds' TPMs did (STS reading all ones, Expect stuck after the header, ...)
 * and check the exact error code, that the message carries the raw register
 * value, that the failure came within its TCG timeout, and that recovery
 * leaves the model idle so the next command succeeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "vtpm/driver.h"
#include "vtpm/tis.h"

/* ---- the fake TPM ------------------------------------------------------- */

struct fake_tpm {
    bool deferred;     /* answer when virtual time reaches due_us, not inside deliver */
    uint32_t delay_ms; /* deferred: how long the command "executes" */
    uint64_t due_us;
    const uint64_t *clock_us;
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
    done(f->done_arg, 0, f->rsp, f->rsp_len);
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
    if (!f->deferred) {
        fake_answer(f);
    } else {
        f->due_us = *f->clock_us + (uint64_t)f->delay_ms * 1000u;
    }
    return 0;
}

/* A cancelled command ends at once (the backend contract: done still follows). */
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
    if (f->done && *f->clock_us >= f->due_us) {
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
    FAULT_STS_ALL_ONES,       /* STS reads 0xffffffff (the TrouSerS/Linux seed) */
    FAULT_ACCESS_ALL_ONES,    /* ACCESS reads 0xff */
    FAULT_ACCESS_NOT_VALID,   /* ACCESS.tpmRegValidSts never set */
    FAULT_NO_LOCALITY,        /* activeLocality never shows */
    FAULT_LOCALITY_STUCK,     /* activeLocality, once granted, never clears */
    FAULT_NO_COMMAND_READY,   /* commandReady never shows */
    FAULT_NO_STS_VALID,       /* stsValid never shows */
    FAULT_BURST_ZERO,         /* burstCount stuck at 0 */
    FAULT_EXPECT_STUCK_AT_10, /* Expect forced to 1 after 10 bytes (the ESXi seed) */
    FAULT_EXPECT_EARLY_AT_8,  /* Expect cleared after 8 bytes, bursts of 8 */
    FAULT_NO_DATA_AVAIL,      /* dataAvail never shows */
    FAULT_RSP_SIZE,           /* the response's size field replaced by rsp_size */
    FAULT_DATA_AVAIL_DROPS,   /* dataAvail clears after the 10-byte response header */
    FAULT_DATA_AVAIL_STAYS,   /* dataAvail stays set after the last response byte */
};

#define TRACE_MAX 512

struct fx {
    struct fake_tpm tpm;
    struct vtpm_backend be;
    struct vtpm_tis *tis;
    struct vtpm_driver drv;
    enum vtpm_tpm_version version;
    uint8_t locality;
    uint64_t now_us;
    enum fault fault;
    uint32_t burst_cap; /* 0: none */
    uint32_t rsp_size;  /* FAULT_RSP_SIZE */
    bool was_granted;   /* FAULT_LOCALITY_STUCK */
    size_t fifo_written;
    size_t fifo_read;
    uint32_t last_sts; /* the last values the driver was shown */
    uint32_t last_access;
    size_t traced;
    struct vtpm_driver_access trace[TRACE_MAX];
};

static uint32_t fault_sts(struct fx *x, uint32_t v)
{
    switch (x->fault) {
    case FAULT_STS_ALL_ONES:
        return 0xFFFFFFFFu;
    case FAULT_NO_COMMAND_READY:
        return v & ~VTPM_TIS_STS_commandReady;
    case FAULT_NO_STS_VALID:
        return v & ~VTPM_TIS_STS_stsValid;
    case FAULT_BURST_ZERO:
        return v & ~VTPM_TIS_STS_burstCount_MASK;
    case FAULT_EXPECT_STUCK_AT_10:
        return x->fifo_written >= 10 ? v | VTPM_TIS_STS_Expect : v;
    case FAULT_EXPECT_EARLY_AT_8:
        return x->fifo_written >= 8 ? v & ~VTPM_TIS_STS_Expect : v;
    case FAULT_NO_DATA_AVAIL:
        return v & ~VTPM_TIS_STS_dataAvail;
    case FAULT_DATA_AVAIL_DROPS:
        return x->fifo_read >= 10 ? v & ~VTPM_TIS_STS_dataAvail : v;
    case FAULT_DATA_AVAIL_STAYS:
        return x->fifo_read >= x->tpm.rsp_len ? v | VTPM_TIS_STS_dataAvail : v;
    default:
        return v;
    }
}

static uint32_t cap_burst(struct fx *x, uint32_t v)
{
    uint32_t cap = x->fault == FAULT_EXPECT_EARLY_AT_8 ? 8 : x->burst_cap;
    uint32_t burst = (v & VTPM_TIS_STS_burstCount_MASK) >> VTPM_TIS_STS_burstCount_SHIFT;

    if (cap == 0 || burst <= cap || (v & 0xFF) == 0xFF) {
        return v;
    }
    return (v & ~VTPM_TIS_STS_burstCount_MASK) | cap << VTPM_TIS_STS_burstCount_SHIFT;
}

static uint32_t fault_access(struct fx *x, uint32_t v)
{
    switch (x->fault) {
    case FAULT_ACCESS_ALL_ONES:
        return 0xFF;
    case FAULT_ACCESS_NOT_VALID:
        return v & ~VTPM_TIS_ACCESS_tpmRegValidSts;
    case FAULT_NO_LOCALITY:
        return v & ~VTPM_TIS_ACCESS_activeLocality;
    case FAULT_LOCALITY_STUCK:
        x->was_granted = x->was_granted || (v & VTPM_TIS_ACCESS_activeLocality);
        return x->was_granted ? v | VTPM_TIS_ACCESS_activeLocality : v;
    default:
        return v;
    }
}

static uint32_t fault_fifo(struct fx *x, uint32_t v)
{
    size_t i = x->fifo_read;

    if (x->fault == FAULT_RSP_SIZE && i >= 2 && i <= 5) {
        return (x->rsp_size >> (8 * (5 - i))) & 0xFF;
    }
    return v;
}

static uint32_t io_read(void *ctx, uint32_t offset, unsigned size)
{
    struct fx *x = ctx;
    uint32_t reg = offset & 0xFFF;
    uint32_t v = (uint32_t)vtpm_tis_read(x->tis, offset, size);

    if (reg == VTPM_TIS_REG_STS) {
        v = cap_burst(x, fault_sts(x, v));
        x->last_sts = v;
    } else if (reg == VTPM_TIS_REG_ACCESS) {
        v = fault_access(x, v);
        x->last_access = v;
    } else if (reg == VTPM_TIS_REG_DATA_FIFO) {
        assert_int_equal(size, 1);
        v = fault_fifo(x, v);
        x->fifo_read++;
    }
    return v;
}

static void io_write(void *ctx, uint32_t offset, uint32_t value, unsigned size)
{
    struct fx *x = ctx;

    if ((offset & 0xFFF) == VTPM_TIS_REG_DATA_FIFO) {
        x->fifo_written += size;
    }
    vtpm_tis_write(x->tis, offset, value, size);
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

static void on_trace(void *opaque, const struct vtpm_driver_access *a)
{
    struct fx *x = opaque;

    if (x->traced < TRACE_MAX) {
        x->trace[x->traced] = *a;
    }
    x->traced++;
}

/* ---- fixture ------------------------------------------------------------ */

/* TPM2_GetRandom(32) and a 16-byte answer carrying 4 random bytes */
static const uint8_t get_random[] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x20};
static const uint8_t random_rsp[] = {0x80, 0x01, 0, 0, 0,    0x10, 0,    0,
                                     0,    0,    0, 4, 0xa1, 0xa2, 0xa3, 0xa4};
/* TPM_Startup(ST_CLEAR) (TPM 1.2) and its success answer */
static const uint8_t startup12[] = {0x00, 0xc1, 0, 0, 0, 0x0c, 0, 0, 0, 0x99, 0, 1};
static const uint8_t startup12_rsp[] = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0};

static struct fx *fx_new(enum vtpm_tpm_version version, uint8_t locality)
{
    struct fx *x = test_calloc(1, sizeof(*x));
    struct vtpm_tis_config tcfg = {.version = version};

    x->version = version;
    x->locality = locality;
    x->now_us = 1000000; /* time does not start at 0 on a real machine either */
    x->tpm.clock_us = &x->now_us;
    memcpy(x->tpm.rsp, random_rsp, sizeof(random_rsp));
    x->tpm.rsp_len = sizeof(random_rsp);
    x->be = (struct vtpm_backend){.ops = &fake_ops, .priv = &x->tpm};
    assert_int_equal(vtpm_tis_create(&tcfg, &x->be, &x->tis), 0);

    struct vtpm_driver_config cfg = {
        .iface = &vtpm_driver_tis,
        .version = version,
        .locality = locality,
        .io = {.read = io_read,
               .write = io_write,
               .now_ms = io_now_ms,
               .sleep_us = io_sleep_us,
               .ctx = x,
               .trace = on_trace,
               .trace_opaque = x},
    };
    assert_int_equal(vtpm_driver_init(&x->drv, &cfg), VTPM_DRIVER_OK);
    return x;
}

static int setup20(void **state)
{
    *state = fx_new(VTPM_TPM_VERSION_2_0, 0);
    return 0;
}

static int setup12(void **state)
{
    *state = fx_new(VTPM_TPM_VERSION_1_2, 0);
    return 0;
}

static int setup20_locality2(void **state)
{
    *state = fx_new(VTPM_TPM_VERSION_2_0, 2);
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    vtpm_tis_destroy(x->tis);
    test_free(x);
    return 0;
}

static enum vtpm_driver_err drv_send(struct fx *x, const uint8_t *cmd, size_t len, uint8_t *rsp,
                                     size_t cap, size_t *rsp_len)
{
    x->fifo_written = 0;
    x->fifo_read = 0;
    return vtpm_driver_transmit(&x->drv, cmd, len, rsp, cap, rsp_len);
}

static void assert_idle(struct fx *x)
{
    uint32_t access = (uint32_t)vtpm_tis_read(x->tis, (uint64_t)x->locality << 12, 1);

    assert_int_equal(vtpm_tis_state(x->tis, x->locality), VTPM_TIS_IDLE);
    assert_false(access & VTPM_TIS_ACCESS_activeLocality);
    assert_false(vtpm_tis_busy(x->tis));
    assert_false(x->drv.have_locality);
}

/* GetRandom goes through and comes back as the fake answered it. */
static void assert_get_random_works(struct fx *x)
{
    uint8_t rsp[4096];
    size_t len = 0;
    int before = x->tpm.delivered;

    assert_int_equal(drv_send(x, get_random, sizeof(get_random), rsp, sizeof(rsp), &len),
                     VTPM_DRIVER_OK);
    assert_int_equal(x->tpm.delivered, before + 1);
    assert_int_equal(x->tpm.cmd_len, sizeof(get_random));
    assert_memory_equal(x->tpm.cmd, get_random, sizeof(get_random));
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

/* ---- the command flow --------------------------------------------------- */

static void test_get_random_flow(void **state)
{
    struct fx *x = *state;
    uint64_t t0 = x->now_us;

    assert_get_random_works(x);
    assert_int_equal(x->tpm.cmd_locality, 0);
    assert_true(x->now_us == t0); /* a synchronous TPM: no wait ever ran out */

    /* The trace starts at ACCESS (requestUse) and ends with the relinquish. */
    assert_true(x->traced > 20 && x->traced < TRACE_MAX);
    assert_int_equal(x->trace[0].offset, VTPM_TIS_REG_ACCESS);
    assert_false(x->trace[0].write);
    assert_int_equal(x->trace[0].value, 0x81);
    bool requested = false;
    for (size_t i = 0; i < x->traced; i++) {
        requested = requested || (x->trace[i].write && x->trace[i].offset == VTPM_TIS_REG_ACCESS &&
                                  x->trace[i].value == VTPM_TIS_ACCESS_requestUse);
    }
    assert_true(requested);
    const struct vtpm_driver_access *last = &x->trace[x->traced - 1];
    assert_int_equal(last->offset, VTPM_TIS_REG_ACCESS);
    assert_false(last->write); /* the read that saw the locality released */
    assert_false(last->value & VTPM_TIS_ACCESS_activeLocality);
    const struct vtpm_driver_access *rel = &x->trace[x->traced - 2];
    assert_true(rel->write);
    assert_int_equal(rel->value, VTPM_TIS_ACCESS_activeLocality);

    /* Each command byte went through DATA_FIFO, in order. */
    size_t n = 0;
    for (size_t i = 0; i < x->traced; i++) {
        if (x->trace[i].write && x->trace[i].offset == VTPM_TIS_REG_DATA_FIFO) {
            assert_int_equal(x->trace[i].value, get_random[n]);
            n++;
        }
    }
    assert_int_equal(n, sizeof(get_random));

    /* And again: the interface was left idle. */
    assert_get_random_works(x);
}

/* A caller holding the locality keeps it across commands; each ends with commandReady. */
static void test_held_locality(void **state)
{
    struct fx *x = *state;
    uint8_t rsp[64];
    size_t len = 0;

    assert_int_equal(vtpm_driver_request_locality(&x->drv), VTPM_DRIVER_OK);
    assert_true(x->drv.have_locality);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(drv_send(x, get_random, sizeof(get_random), rsp, sizeof(rsp), &len),
                         VTPM_DRIVER_OK);
        assert_memory_equal(rsp, random_rsp, sizeof(random_rsp));
        /* Completion left through commandReady (TIS 1.3 §5.6.2), the locality still ours */
        assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
        assert_true(vtpm_tis_read(x->tis, VTPM_TIS_REG_ACCESS, 1) & VTPM_TIS_ACCESS_activeLocality);
        const struct vtpm_driver_access *last = &x->trace[x->traced - 1];
        assert_true(last->write);
        assert_int_equal(last->offset, VTPM_TIS_REG_STS);
        assert_int_equal(last->value, VTPM_TIS_STS_commandReady);
    }
    assert_int_equal(vtpm_driver_relinquish_locality(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
}

/* burstCount 4: chunks of at most 4 bytes, STS checked between, the last byte alone. */
static void test_burst_sized_chunks(void **state)
{
    struct fx *x = *state;
    size_t run = 0, max_run = 0, runs = 0;

    x->burst_cap = 4;
    assert_get_random_works(x);
    for (size_t i = 0; i < x->traced; i++) {
        const struct vtpm_driver_access *a = &x->trace[i];
        if (a->write && a->offset == VTPM_TIS_REG_DATA_FIFO) {
            runs += run == 0;
            run++;
            max_run = run > max_run ? run : max_run;
        } else if (!a->write && a->offset == VTPM_TIS_REG_STS) {
            run = 0;
        }
    }
    assert_int_equal(max_run, 4);
    assert_int_equal(runs, 4); /* 4 + 4 + 3, then the last byte alone */
    /* The response came in bursts of 4 as well. */
    run = max_run = 0;
    for (size_t i = 0; i < x->traced; i++) {
        const struct vtpm_driver_access *a = &x->trace[i];
        if (!a->write && a->offset == VTPM_TIS_REG_DATA_FIFO) {
            run++;
            max_run = run > max_run ? run : max_run;
        } else if (!a->write && a->offset == VTPM_TIS_REG_STS) {
            run = 0;
        }
    }
    assert_int_equal(max_run, 4);
}

static void test_other_locality(void **state)
{
    struct fx *x = *state;

    assert_get_random_works(x);
    assert_int_equal(x->tpm.cmd_locality, 2);
    for (size_t i = 0; i < x->traced && i < TRACE_MAX; i++) {
        assert_int_equal(x->trace[i].offset >> 12, 2);
    }
}

static void test_tpm12_command(void **state)
{
    struct fx *x = *state;
    uint8_t rsp[64];
    size_t len = 0;

    memcpy(x->tpm.rsp, startup12_rsp, sizeof(startup12_rsp));
    x->tpm.rsp_len = sizeof(startup12_rsp);
    assert_int_equal(drv_send(x, startup12, sizeof(startup12), rsp, sizeof(rsp), &len),
                     VTPM_DRIVER_OK);
    assert_memory_equal(x->tpm.cmd, startup12, sizeof(startup12));
    assert_int_equal(len, sizeof(startup12_rsp));
    assert_memory_equal(rsp, startup12_rsp, len);
    assert_idle(x);
    /* 1.2 STS carries family bits 00; the driver does not care. */
    assert_int_equal(x->last_sts & VTPM_TIS_STS_tpmFamily_MASK, VTPM_TIS_STS_tpmFamily_1_2);
}

/* CreatePrimary (LONG_LONG) completes after 5 s: beyond LONG, the driver keeps waiting. */
static void test_long_command_deferred(void **state)
{
    struct fx *x = *state;
    uint8_t cmd[40] = {0x80, 0x02, 0, 0, 0, 40, 0, 0, 0x01, 0x31};
    uint8_t rsp[4096];
    size_t len = 0;

    for (size_t i = 10; i < sizeof(cmd); i++) {
        cmd[i] = (uint8_t)i;
    }
    x->tpm.deferred = true;
    x->tpm.delay_ms = 5000;
    uint64_t t0 = x->now_us;
    assert_int_equal(drv_send(x, cmd, sizeof(cmd), rsp, sizeof(rsp), &len), VTPM_DRIVER_OK);
    uint64_t took_ms = (x->now_us - t0) / 1000;
    assert_true(took_ms >= 5000 && took_ms <= 5002);
    assert_memory_equal(x->tpm.cmd, cmd, sizeof(cmd));
    assert_int_equal(len, sizeof(random_rsp));
    assert_memory_equal(rsp, random_rsp, len);
    assert_int_equal(x->tpm.cancels, 0);
    assert_idle(x);
}

/* A deferred answer within the duration is waited for; one beyond it times out and is aborted. */
static void test_deferred_medium_command(void **state)
{
    struct fx *x = *state;
    /* TPM2_GetCapability: MEDIUM, 750 ms */
    static const uint8_t get_cap[] = {0x80, 0x01, 0, 0, 0, 0x16, 0, 0, 0x01, 0x7a, 0,
                                      0,    0,    6, 0, 0, 1,    0, 0, 0,    0,    1};
    uint8_t rsp[4096];
    size_t len = 0;

    x->tpm.deferred = true;
    x->tpm.delay_ms = 700;
    assert_int_equal(drv_send(x, get_cap, sizeof(get_cap), rsp, sizeof(rsp), &len), VTPM_DRIVER_OK);
    assert_idle(x);

    x->tpm.delay_ms = 1000;
    uint64_t t0 = x->now_us;
    assert_int_equal(drv_send(x, get_cap, sizeof(get_cap), rsp, sizeof(rsp), &len),
                     VTPM_DRIVER_E_EXEC_TIMEOUT);
    uint64_t took_ms = (x->now_us - t0) / 1000;
    assert_true(took_ms >= 750 && took_ms <= 752);
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    assert_contains(e->message, "dataAvail not set within 750 ms after tpmGo");
    assert_contains(e->message, "medium");
    assert_true(vtpm_tis_busy(x->tis)); /* the TPM is still executing it */

    /* Recovery: commandReady aborts it, the model cancels the backend, the interface idles. */
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_int_equal(x->tpm.cancels, 1);
    assert_idle(x);
    x->tpm.deferred = false;
    assert_get_random_works(x);
}

/* ---- failures ----------------------------------------------------------- */

struct fault_case {
    enum fault fault;
    enum vtpm_driver_err code;
    uint32_t timeout_ms; /* the failure must come after this much virtual time (0: at once) */
    const char *says[3]; /* phrases the message must contain */
    /* what recovery answers while the fault persists (VTPM_DRIVER_OK: it recovers anyway) */
    enum vtpm_driver_err recover_with_fault;
};

static void run_fault_case(struct fx *x, const struct fault_case *c)
{
    uint8_t rsp[4096];
    size_t len = 0;
    char raw[32];

    x->fault = c->fault;
    uint64_t t0 = x->now_us;
    assert_int_equal(drv_send(x, get_random, sizeof(get_random), rsp, sizeof(rsp), &len), c->code);
    uint64_t took_ms = (x->now_us - t0) / 1000;
    const struct vtpm_driver_error *e = vtpm_driver_last_error(&x->drv);
    print_message("# %s: %s\n", vtpm_driver_err_name(e->code), e->message);
    assert_int_equal(e->code, c->code);

    /* Within the TCG timeout: not before it ran out, and not long after. */
    assert_true(took_ms >= c->timeout_ms && took_ms <= c->timeout_ms + 2);
    for (size_t i = 0; i < 3 && c->says[i]; i++) {
        assert_contains(e->message, c->says[i]);
    }
    /* The raw value the driver saw is in the record and in the sentence. */
    if ((e->offset & 0xFFF) == VTPM_TIS_REG_STS) {
        assert_int_equal(e->value, x->last_sts);
        snprintf(raw, sizeof(raw), "0x%08x", x->last_sts);
        assert_contains(e->message, raw);
    } else if ((e->offset & 0xFFF) == VTPM_TIS_REG_ACCESS) {
        assert_int_equal(e->value, x->last_access);
        snprintf(raw, sizeof(raw), "0x%02x", x->last_access);
        assert_contains(e->message, raw);
    }
    assert_string_not_equal(vtpm_driver_strerror(e->code), vtpm_driver_strerror(VTPM_DRIVER_OK));

    /* Recovery while the fault persists, then once it is gone. */
    assert_int_equal(vtpm_driver_recover(&x->drv), c->recover_with_fault);
    if (c->recover_with_fault == VTPM_DRIVER_OK) {
        assert_idle(x);
    }
    x->fault = FAULT_NONE;
    assert_int_equal(vtpm_driver_recover(&x->drv), VTPM_DRIVER_OK);
    assert_idle(x);
    assert_get_random_works(x);
}

/* The TrouSerS/Linux seed: "invalid TPM_STS.x 0xff", then "Operation Timed out". */
static void test_sts_all_ones(void **state)
{
    static const struct fault_case c = {
        FAULT_STS_ALL_ONES,
        VTPM_DRIVER_E_BUS_ALL_ONES,
        2000, /* TIMEOUT_B: the wait for commandReady ran out on all ones */
        {"TPM_STS_0 reads 0xffffffff", "status byte 0xff", "power-cycle it"},
        VTPM_DRIVER_E_BUS_ALL_ONES,
    };
    run_fault_case(*state, &c);
}

static void test_access_all_ones(void **state)
{
    static const struct fault_case c = {
        FAULT_ACCESS_ALL_ONES,
        VTPM_DRIVER_E_BUS_ALL_ONES,
        750,
        {"TPM_ACCESS_0 reads 0xff (all ones)", "not responding on the bus"},
        VTPM_DRIVER_E_BUS_ALL_ONES,
    };
    run_fault_case(*state, &c);
}

static void test_access_never_valid(void **state)
{
    static const struct fault_case c = {
        FAULT_ACCESS_NOT_VALID,
        VTPM_DRIVER_E_ACCESS_INVALID,
        750,
        {"tpmRegValidSts stayed 0 for 750 ms", "(ACCESS 0x01)"},
        VTPM_DRIVER_E_ACCESS_INVALID,
    };
    run_fault_case(*state, &c);
}

static void test_locality_never_granted(void **state)
{
    static const struct fault_case c = {
        FAULT_NO_LOCALITY,
        VTPM_DRIVER_E_LOCALITY_TIMEOUT,
        750,
        {"locality 0 not granted within 750 ms (ACCESS 0x81)"},
        VTPM_DRIVER_E_LOCALITY_TIMEOUT,
    };
    run_fault_case(*state, &c);
}

/* The command went through; giving the locality back did not. */
static void test_locality_never_released(void **state)
{
    static const struct fault_case c = {
        FAULT_LOCALITY_STUCK,
        VTPM_DRIVER_E_RELEASE_TIMEOUT,
        750,
        {"locality 0 still active 750 ms after relinquishing it"},
        /* ACCESS claims the locality, but STS (of a locality the model released) reads all ones */
        VTPM_DRIVER_E_BUS_ALL_ONES,
    };
    run_fault_case(*state, &c);
}

static void test_command_ready_never_set(void **state)
{
    static const struct fault_case c = {
        FAULT_NO_COMMAND_READY,
        VTPM_DRIVER_E_READY_TIMEOUT,
        2000,
        {"commandReady not set within 2000 ms"},
        VTPM_DRIVER_E_READY_TIMEOUT,
    };
    run_fault_case(*state, &c);
}

static void test_sts_valid_never_set(void **state)
{
    static const struct fault_case c = {
        FAULT_NO_STS_VALID,
        VTPM_DRIVER_E_STS_VALID_TIMEOUT,
        200, /* PTP TIMEOUT_C */
        {"stsValid not set within 200 ms after 11 of 12 command bytes"},
        VTPM_DRIVER_OK, /* commandReady and the locality still work */
    };
    run_fault_case(*state, &c);
}

static void test_burst_count_stuck(void **state)
{
    static const struct fault_case c = {
        FAULT_BURST_ZERO,
        VTPM_DRIVER_E_BURST_TIMEOUT,
        750,
        {"burstCount stayed 0 for 750 ms after 0 of 12 command bytes"},
        VTPM_DRIVER_OK,
    };
    run_fault_case(*state, &c);
}

/* The ESXi seed: "TpmWrite: still expects data after 12 bytes transfered". */
static void test_expect_stuck(void **state)
{
    static const struct fault_case c = {
        FAULT_EXPECT_STUCK_AT_10,
        VTPM_DRIVER_E_EXPECT_STUCK,
        0,
        {"Expect still set after 12 of 12 bytes", "the TPM wants more data than the command holds"},
        VTPM_DRIVER_OK, /* commandReady aborts the stalled reception */
    };
    run_fault_case(*state, &c);
}

static void test_expect_early(void **state)
{
    static const struct fault_case c = {
        FAULT_EXPECT_EARLY_AT_8,
        VTPM_DRIVER_E_EXPECT_EARLY,
        0,
        {"Expect cleared after 8 of 12 bytes"},
        VTPM_DRIVER_OK,
    };
    run_fault_case(*state, &c);
}

static void test_data_avail_never_set(void **state)
{
    static const struct fault_case c = {
        FAULT_NO_DATA_AVAIL,
        VTPM_DRIVER_E_EXEC_TIMEOUT,
        2000, /* GetRandom is a LONG command: 2000 ms */
        {"dataAvail not set within 2000 ms after tpmGo", "command 0x0000017b, long duration"},
        VTPM_DRIVER_OK,
    };
    run_fault_case(*state, &c);
}

static void test_response_too_big(void **state)
{
    static const struct fault_case c = {
        FAULT_RSP_SIZE,
        VTPM_DRIVER_E_RSP_TOO_BIG,
        0,
        {"response header says 5000 bytes, more than the 4096-byte buffer"},
        VTPM_DRIVER_OK,
    };
    struct fx *x = *state;

    x->rsp_size = 5000;
    run_fault_case(x, &c);
    assert_int_equal(x->drv.err.code, VTPM_DRIVER_OK); /* cleared by the later success */
}

static void test_response_header_too_small(void **state)
{
    static const struct fault_case c = {
        FAULT_RSP_SIZE,
        VTPM_DRIVER_E_RSP_BAD_HEADER,
        0,
        {"response header says 6 bytes, less than the 10-byte header"},
        VTPM_DRIVER_OK,
    };
    struct fx *x = *state;

    x->rsp_size = 6;
    run_fault_case(x, &c);
}

static void test_data_avail_drops_early(void **state)
{
    static const struct fault_case c = {
        FAULT_DATA_AVAIL_DROPS,
        VTPM_DRIVER_E_RSP_SHORT,
        0,
        {"dataAvail cleared after 10 of 16 response bytes"},
        VTPM_DRIVER_OK,
    };
    run_fault_case(*state, &c);
}

static void test_data_avail_stays(void **state)
{
    static const struct fault_case c = {
        FAULT_DATA_AVAIL_STAYS,
        VTPM_DRIVER_E_RSP_EXTRA,
        0,
        {"dataAvail still set after all 16 response bytes"},
        VTPM_DRIVER_OK,
    };
    run_fault_case(*state, &c);
}

/* TPM 1.2 waits for burstCount TIMEOUT_D, here configured to 321 ms. */
static void test_tpm12_burst_uses_timeout_d(void **state)
{
    struct fx *x = *state;
    struct vtpm_driver_config cfg = x->drv.cfg;
    uint8_t rsp[64];
    size_t len;

    cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_D] = 321;
    assert_int_equal(vtpm_driver_init(&x->drv, &cfg), VTPM_DRIVER_OK);
    x->fault = FAULT_BURST_ZERO;
    uint64_t t0 = x->now_us;
    assert_int_equal(drv_send(x, startup12, sizeof(startup12), rsp, sizeof(rsp), &len),
                     VTPM_DRIVER_E_BURST_TIMEOUT);
    assert_int_equal((x->now_us - t0) / 1000, 321);
    assert_contains(x->drv.err.message, "burstCount stayed 0 for 321 ms");
}

/* ---- arguments, tables, strings ----------------------------------------- */

static void test_bad_command_touches_nothing(void **state)
{
    struct fx *x = *state;
    uint8_t cmd[12];
    uint8_t rsp[64];
    size_t len = 99;

    memcpy(cmd, get_random, sizeof(cmd));
    put_be32(cmd + 2, 14);
    assert_int_equal(drv_send(x, cmd, sizeof(cmd), rsp, sizeof(rsp), &len),
                     VTPM_DRIVER_E_BAD_COMMAND);
    assert_contains(x->drv.err.message, "the command is 12 bytes but its header says 14");
    assert_int_equal(len, 0);
    assert_int_equal(drv_send(x, cmd, 6, rsp, sizeof(rsp), &len), VTPM_DRIVER_E_BAD_COMMAND);
    assert_int_equal(drv_send(x, get_random, sizeof(get_random), rsp, 9, &len),
                     VTPM_DRIVER_E_INVALID_ARG);
    assert_int_equal(x->traced, 0);
    assert_int_equal(x->tpm.delivered, 0);
}

static void test_init_rejects_bad_config(void **state)
{
    struct fx *x = *state;
    struct vtpm_driver d;
    struct vtpm_driver_config cfg = x->drv.cfg;

    cfg.locality = 5;
    assert_int_equal(vtpm_driver_init(&d, &cfg), VTPM_DRIVER_E_INVALID_ARG);
    cfg.locality = 0;
    cfg.io.sleep_us = NULL;
    assert_int_equal(vtpm_driver_init(&d, &cfg), VTPM_DRIVER_E_INVALID_ARG);
    cfg.io.sleep_us = io_sleep_us;
    cfg.version = 3;
    assert_int_equal(vtpm_driver_init(&d, &cfg), VTPM_DRIVER_E_INVALID_ARG);
    cfg.version = VTPM_TPM_VERSION_2_0;
    cfg.iface = NULL;
    assert_int_equal(vtpm_driver_init(&d, &cfg), VTPM_DRIVER_E_INVALID_ARG);
    assert_int_equal(vtpm_driver_init(NULL, &cfg), VTPM_DRIVER_E_INVALID_ARG);

    /* Defaults fill the zero entries; explicit ones stay. */
    cfg.iface = vtpm_driver_find("tis");
    assert_ptr_equal(cfg.iface, &vtpm_driver_tis);
    assert_null(vtpm_driver_find("nope"));
    cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_B] = 1234;
    assert_int_equal(vtpm_driver_init(&d, &cfg), VTPM_DRIVER_OK);
    assert_int_equal(d.cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_A], 750);
    assert_int_equal(d.cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_B], 1234);
    assert_int_equal(d.cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_C], 200);
    assert_int_equal(d.cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_D], 30);
    assert_int_equal(d.cfg.duration_ms[VTPM_DRIVER_DURATION_LONG], 2000);
    assert_int_equal(d.cfg.poll_us, 500);
}

static void test_timeouts_and_durations(void **state)
{
    const enum vtpm_tpm_version v12 = VTPM_TPM_VERSION_1_2, v20 = VTPM_TPM_VERSION_2_0;

    /* TIS 1.2 defaults and PTP Table 18 */
    assert_int_equal(vtpm_driver_default_timeout(v12, VTPM_DRIVER_TIMEOUT_A), 750);
    assert_int_equal(vtpm_driver_default_timeout(v12, VTPM_DRIVER_TIMEOUT_B), 2000);
    assert_int_equal(vtpm_driver_default_timeout(v12, VTPM_DRIVER_TIMEOUT_C), 750);
    assert_int_equal(vtpm_driver_default_timeout(v12, VTPM_DRIVER_TIMEOUT_D), 750);
    assert_int_equal(vtpm_driver_default_timeout(v20, VTPM_DRIVER_TIMEOUT_C), 200);
    assert_int_equal(vtpm_driver_default_timeout(v20, VTPM_DRIVER_TIMEOUT_D), 30);
    assert_int_equal(vtpm_driver_default_timeout(v20, VTPM_DRIVER_TIMEOUT_COUNT), 0);
    /* PTP durations 20 / 750 / 2000 ms */
    assert_int_equal(vtpm_driver_default_duration(v20, VTPM_DRIVER_DURATION_SHORT), 20);
    assert_int_equal(vtpm_driver_default_duration(v20, VTPM_DRIVER_DURATION_MEDIUM), 750);
    assert_int_equal(vtpm_driver_default_duration(v20, VTPM_DRIVER_DURATION_LONG), 2000);
    assert_int_equal(vtpm_driver_default_duration(v12, VTPM_DRIVER_DURATION_LONG), 60000);
    assert_int_equal(vtpm_driver_default_duration(3, VTPM_DRIVER_DURATION_LONG), 0);

    assert_int_equal(vtpm_driver_duration_class(v20, 0x17B), VTPM_DRIVER_DURATION_LONG);
    assert_int_equal(vtpm_driver_duration_class(v20, 0x144), VTPM_DRIVER_DURATION_MEDIUM);
    assert_int_equal(vtpm_driver_duration_class(v20, 0x131), VTPM_DRIVER_DURATION_LONG_LONG);
    assert_int_equal(vtpm_driver_duration_class(v20, 0x17C), VTPM_DRIVER_DURATION_SHORT);
    assert_int_equal(vtpm_driver_duration_class(v20, 0x20001000), VTPM_DRIVER_DURATION_DEFAULT);
    assert_int_equal(vtpm_driver_duration_class(v12, 0x99), VTPM_DRIVER_DURATION_SHORT);
    assert_int_equal(vtpm_driver_duration_class(v12, 0x1F), VTPM_DRIVER_DURATION_LONG);
    assert_int_equal(vtpm_driver_duration_class(v12, 0x4000000A), VTPM_DRIVER_DURATION_SHORT);
    assert_int_equal(vtpm_driver_duration_class(v12, 0x17B), VTPM_DRIVER_DURATION_MEDIUM);
}

static void test_error_strings(void **state)
{
    for (int a = 0; a < VTPM_DRIVER_E_COUNT; a++) {
        assert_true(strlen(vtpm_driver_strerror(a)) > 5);
        assert_string_not_equal(vtpm_driver_err_name(a), "?");
        for (int b = a + 1; b < VTPM_DRIVER_E_COUNT; b++) {
            assert_string_not_equal(vtpm_driver_strerror(a), vtpm_driver_strerror(b));
            assert_string_not_equal(vtpm_driver_err_name(a), vtpm_driver_err_name(b));
        }
    }
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_EXPECT_STUCK), "EXPECT_STUCK");
    assert_string_equal(vtpm_driver_err_name(VTPM_DRIVER_E_COUNT), "?");
    assert_string_equal(vtpm_driver_strerror(VTPM_DRIVER_E_COUNT), "unknown driver error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_random_flow, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_held_locality, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_burst_sized_chunks, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_other_locality, setup20_locality2, teardown),
        cmocka_unit_test_setup_teardown(test_tpm12_command, setup12, teardown),
        cmocka_unit_test_setup_teardown(test_long_command_deferred, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_medium_command, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_sts_all_ones, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_access_all_ones, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_access_never_valid, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_locality_never_granted, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_locality_never_released, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_command_ready_never_set, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_sts_valid_never_set, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_burst_count_stuck, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_expect_stuck, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_expect_early, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_data_avail_never_set, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_response_too_big, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_response_header_too_small, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_data_avail_drops_early, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_data_avail_stays, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_tpm12_burst_uses_timeout_d, setup12, teardown),
        cmocka_unit_test_setup_teardown(test_bad_command_touches_nothing, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_init_rejects_bad_config, setup20, teardown),
        cmocka_unit_test(test_timeouts_and_durations),
        cmocka_unit_test(test_error_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
