/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CRB register model as an executable spec: each test is a sequence of
 * register accesses a guest driver makes and the values the PTP CRB
 * interface must answer, against a fake backend that records what the TPM
 * was asked and answers when the test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "fake_tpm.h"
#include "util/buf.h"
#include "vtpm/crb.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct fake_tpm tpm;
    struct vtpm_backend be;
    struct vtpm_crb *crb;
    int irq_calls;
    bool irq_asserted;
};

static void on_irq(void *opaque, bool asserted)
{
    struct fx *x = opaque;

    x->irq_calls++;
    x->irq_asserted = asserted;
}

/* TPM2_Startup(SU_CLEAR) and a 16-byte answer */
static const uint8_t startup_cmd[] = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0};
static const uint8_t answer16[] = {0x80, 0x01, 0,    0,    0,    0x10, 0,    0,
                                   0,    0,    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6};
/* TPM_ST_NO_SESSIONS, 10 bytes, TPM_RC_FAILURE */
static const uint8_t failure[] = {0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01};

#define INTF_ID_LOW 0x00025911u /* CRB active, version CRB, 5 localities, 64-byte xfers, CRB */

static struct fx *fx_new(const struct vtpm_crb_config *base, size_t buffer_size)
{
    struct fx *x = test_calloc(1, sizeof(*x));
    struct vtpm_crb_config cfg = base ? *base : (struct vtpm_crb_config){0};

    cfg.irq = on_irq;
    cfg.irq_opaque = x;
    x->tpm.buffer_size = buffer_size;
    memcpy(x->tpm.rsp, answer16, sizeof(answer16));
    x->tpm.rsp_len = sizeof(answer16);
    x->be = (struct vtpm_backend){.ops = &fake_ops, .priv = &x->tpm};
    assert_int_equal(vtpm_crb_create(&cfg, &x->be, &x->crb), 0);
    return x;
}

static int setup(void **state)
{
    *state = fx_new(NULL, 4096);
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    vtpm_crb_destroy(x->crb);
    test_free(x);
    return 0;
}

static uint64_t rd(struct fx *x, unsigned l, unsigned reg, unsigned size)
{
    return vtpm_crb_read(x->crb, (uint64_t)l << 12 | reg, size);
}

static void wr(struct fx *x, unsigned l, unsigned reg, uint64_t v, unsigned size)
{
    vtpm_crb_write(x->crb, (uint64_t)l << 12 | reg, v, size);
}

static uint32_t ctrl_sts(struct fx *x)
{
    return (uint32_t)rd(x, 0, VTPM_CRB_REG_CTRL_STS, 4);
}

static uint32_t loc_state(struct fx *x)
{
    return (uint32_t)rd(x, 0, VTPM_CRB_REG_LOC_STATE, 4);
}

static uint32_t loc_sts(struct fx *x, unsigned l)
{
    return (uint32_t)rd(x, l, VTPM_CRB_REG_LOC_STS, 4);
}

static void loc_ctrl(struct fx *x, unsigned l, uint32_t bits)
{
    wr(x, l, VTPM_CRB_REG_LOC_CTRL, bits, 4);
}

static void request(struct fx *x, unsigned l)
{
    loc_ctrl(x, l, VTPM_CRB_LOC_CTRL_requestAccess);
}

static void ctrl_req(struct fx *x, unsigned l, uint32_t bits)
{
    wr(x, l, VTPM_CRB_REG_CTRL_REQ, bits, 4);
}

static void start(struct fx *x, unsigned l)
{
    wr(x, l, VTPM_CRB_REG_CTRL_START, VTPM_CRB_CTRL_START_Start, 4);
}

static void write_buffer(struct fx *x, unsigned l, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        wr(x, l, VTPM_CRB_REG_DATA_BUFFER + (unsigned)i, data[i], 1);
    }
}

static void assert_buffer(struct fx *x, unsigned l, const uint8_t *want, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(rd(x, l, VTPM_CRB_REG_DATA_BUFFER + (unsigned)i, 1), want[i]);
    }
}

/* Locality l granted, Ready, the startup command written and started. */
static void run_to_execution(struct fx *x, unsigned l)
{
    request(x, l);
    ctrl_req(x, l, VTPM_CRB_CTRL_REQ_cmdReady);
    write_buffer(x, l, startup_cmd, sizeof(startup_cmd));
    start(x, l);
    assert_true(vtpm_crb_busy(x->crb));
}

/* ---- reset values ------------------------------------------------------- */

static void test_reset_values(void **state)
{
    struct fx *x = *state;

    for (unsigned l = 0; l < VTPM_CRB_LOCALITIES; l++) {
        uint32_t buf_addr = VTPM_CRB_BASE + (l << 12) + 0x80;
        /* tpmRegValidSts, and tpmEstablished = 1 while no DRTM has run; no locality */
        assert_int_equal(rd(x, l, VTPM_CRB_REG_LOC_STATE, 4), 0x81);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_LOC_CTRL, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_LOC_STS, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_INTF_ID, 4), INTF_ID_LOW);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_INTF_ID_HI, 4), VTPM_CRB_DEFAULT_DID_VID);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_INTF_ID, 8),
                         (uint64_t)VTPM_CRB_DEFAULT_DID_VID << 32 | INTF_ID_LOW);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_EXT, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_REQ, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_STS, 4), VTPM_CRB_CTRL_STS_tpmIdle);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_CANCEL, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_START, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_INT_ENABLE, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_INT_STS, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CMD_SIZE, 4), 0xF80);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CMD_LADDR, 4), buf_addr);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CMD_HADDR, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_RSP_SIZE, 4), 0xF80);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_RSP_ADDR, 4), buf_addr);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_RSP_ADDR + 4, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_RSP_ADDR, 8), buf_addr);
        /* reserved dwords read 0 */
        for (unsigned off = 0x04; off < 0x80; off += 4) {
            if (off == 0x04 || (off >= 0x10 && off < 0x30) || off == 0x3C || off >= 0x70) {
                assert_int_equal(rd(x, l, off, 4), 0);
            }
        }
        /* no locality granted: the buffer is nobody's */
        assert_int_equal(rd(x, l, VTPM_CRB_REG_DATA_BUFFER, 4), 0xFFFFFFFFu);
    }
    assert_false(vtpm_crb_busy(x->crb));
    assert_string_equal(vtpm_crb_reg_name(0x4C), "CTRL_START");
    assert_string_equal(vtpm_crb_reg_name(0x3044), "CTRL_STS");
    assert_string_equal(vtpm_crb_reg_name(0x36), "INTF_ID");
    assert_string_equal(vtpm_crb_reg_name(0x4FFF), "DATA_BUFFER");
    assert_null(vtpm_crb_reg_name(0x20));
    assert_null(vtpm_crb_reg_name(0x5000));
}

static void test_config_and_create(void **state)
{
    struct vtpm_crb_config cfg = {.did_vid = 0xBEEF1AB0u, .rid = 0x42};
    struct fx *x = fx_new(&cfg, 1024);
    struct vtpm_crb *c = NULL;

    (void)state;
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INTF_ID, 4), INTF_ID_LOW | 0x42000000u);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INTF_ID + 3, 1), 0x42);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INTF_ID_HI, 4), 0xBEEF1AB0u);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INTF_ID_HI + 2, 2), 0xBEEF);
    /* a smaller TPM buffer is what CMD_SIZE and RSP_SIZE say */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE, 4), 1024);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_RSP_SIZE, 4), 1024);
    /* a TPM with tpmEstablished set */
    x->tpm.established = true;
    assert_int_equal(rd(x, 1, VTPM_CRB_REG_LOC_STATE, 1), 0x80);
    teardown((void **)&x);

    struct fake_tpm f = {0};
    struct vtpm_backend be = {.ops = &fake_ops, .priv = &f};
    struct vtpm_backend_ops no_deliver = fake_ops;
    struct vtpm_backend bad = {.ops = &no_deliver, .priv = &f};
    no_deliver.deliver = NULL;
    assert_int_equal(vtpm_crb_create(NULL, &be, &c), -EINVAL);
    assert_int_equal(vtpm_crb_create(&cfg, NULL, &c), -EINVAL);
    assert_int_equal(vtpm_crb_create(&cfg, &bad, &c), -EINVAL);
    assert_int_equal(vtpm_crb_create(&cfg, &be, NULL), -EINVAL);
    assert_null(c);
}

/* ---- commands ----------------------------------------------------------- */

static void test_command_flow(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    assert_int_equal(loc_state(x), 0x83); /* locAssigned, activeLocality 0 */
    assert_int_equal(loc_sts(x, 0), VTPM_CRB_LOC_STS_Granted);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), 0); /* the transition is done */
    assert_int_equal(ctrl_sts(x), 0);                        /* Ready */
    /* the command, with junk after it that is not part of it */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER + 12, 0xDDCCBBAA, 4);
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER + 16, 0x1122334455667788ull, 8);
    assert_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 1);
    assert_true(vtpm_crb_busy(x->crb));
    assert_int_equal(x->tpm.delivered, 1);
    assert_int_equal(x->tpm.cmd_len, sizeof(startup_cmd)); /* paramSize bytes, no more */
    assert_memory_equal(x->tpm.cmd, startup_cmd, sizeof(startup_cmd));
    assert_int_equal(x->tpm.cmd_locality, 0);
    /* Start again while executing: nothing */
    start(x, 0);
    assert_int_equal(x->tpm.delivered, 1);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 0);
    assert_false(vtpm_crb_busy(x->crb));
    assert_int_equal(ctrl_sts(x), 0);
    assert_buffer(x, 0, answer16, sizeof(answer16));
    /* the response overwrote 16 bytes; what follows is as it was */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER + 16, 8), 0x1122334455667788ull);
    /* a late answer (none outstanding) changes nothing */
    vtpm_crb_command_done(x->crb, 0, failure, sizeof(failure));
    assert_buffer(x, 0, answer16, sizeof(answer16));
    assert_int_equal(ctrl_sts(x), 0);
    /* Start written as 0 does nothing */
    wr(x, 0, VTPM_CRB_REG_CTRL_START, 0, 4);
    assert_int_equal(x->tpm.delivered, 1);
}

static void test_param_size_beyond_buffer(void **state)
{
    struct fx *x = fx_new(NULL, 256);
    uint8_t big[16] = {0x80, 0x01, 0, 0, 0x10, 0x00, 0, 0, 0x01, 0x7a};

    (void)state;
    request(x, 0);
    write_buffer(x, 0, big, sizeof(big));
    start(x, 0);
    /* the TPM gets what the buffer can hold and answers TPM_RC_COMMAND_SIZE itself */
    assert_int_equal(x->tpm.cmd_len, 256);
    fake_answer(&x->tpm, 0);
    assert_int_equal(ctrl_sts(x) & VTPM_CRB_CTRL_STS_tpmSts, 0);
    teardown((void **)&x);
}

static void test_short_command_is_fatal(void **state)
{
    struct fx *x = *state;
    const uint8_t short_cmd[] = {0x80, 0x01, 0, 0, 0, 0x06};

    x->tpm.sync = true;
    request(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    write_buffer(x, 0, short_cmd, sizeof(short_cmd));
    start(x, 0);
    assert_int_equal(x->tpm.delivered, 0); /* never reaches the TPM */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_buffer(x, 0, failure, sizeof(failure));
    /* paramSize 0 too */
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER, 0, 8);
    start(x, 0);
    assert_int_equal(x->tpm.delivered, 0);
    /* fatal is sticky: a good command runs, the bit stays until reset */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    assert_int_equal(x->tpm.delivered, 1);
    assert_buffer(x, 0, answer16, sizeof(answer16));
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_int_equal(vtpm_crb_reset(x->crb), 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
}

static void test_backend_failures_are_fatal(void **state)
{
    struct fx *x = *state;

    /* the TPM is unreachable */
    run_to_execution(x, 0);
    fake_answer(&x->tpm, -ECONNRESET);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 0);
    assert_buffer(x, 0, failure, sizeof(failure));
    assert_int_equal(vtpm_crb_reset(x->crb), 0);

    /* the answer's size field disagrees with its length */
    run_to_execution(x, 0);
    x->tpm.rsp_len = 14;
    fake_answer(&x->tpm, 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_buffer(x, 0, failure, sizeof(failure));
    assert_int_equal(vtpm_crb_reset(x->crb), 0);

    /* an answer shorter than a header */
    run_to_execution(x, 0);
    x->tpm.rsp_len = 6;
    fake_answer(&x->tpm, 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_int_equal(vtpm_crb_reset(x->crb), 0);

    /* an answer larger than the buffer */
    run_to_execution(x, 0);
    x->tpm.rsp_len = 4000;
    put_be32(x->tpm.rsp + 2, 4000);
    fake_answer(&x->tpm, 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts);
    assert_int_equal(vtpm_crb_reset(x->crb), 0);

    /* deliver fails at once */
    x->tpm.deliver_rc = -EPIPE;
    request(x, 0);
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    assert_false(vtpm_crb_busy(x->crb));
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmSts | VTPM_CRB_CTRL_STS_tpmIdle);
    assert_buffer(x, 0, failure, sizeof(failure));
}

static void test_cancel(void **state)
{
    struct fx *x = *state;

    /* nothing executes: the bit latches, the TPM is not bothered */
    request(x, 0);
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 1, 4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 4), 1);
    assert_int_equal(x->tpm.cancels, 0);
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 0, 4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 4), 0);
    /* during execution: one cancel to the backend, the answer still completes the command */
    run_to_execution(x, 0);
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 1, 1);
    assert_int_equal(x->tpm.cancels, 1);
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 1, 4); /* still set: no second request */
    assert_int_equal(x->tpm.cancels, 1);
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL + 1, 0, 1); /* the upper bytes leave the bit alone */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 4), 1);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 1);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_START, 4), 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 4), 1); /* software clears it */
    wr(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 0, 4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_CANCEL, 4), 0);
    /* another locality cannot cancel */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    wr(x, 1, VTPM_CRB_REG_CTRL_CANCEL, 1, 4);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(rd(x, 1, VTPM_CRB_REG_CTRL_CANCEL, 4), 0);
    fake_answer(&x->tpm, 0);
}

static void test_idle_transitions(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(ctrl_sts(x), 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), 0);
    /* both at once, reserved bits, upper bytes: ignored */
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady | VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    ctrl_req(x, 0, 0x101);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    wr(x, 0, VTPM_CRB_REG_CTRL_REQ + 1, 1, 1);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    wr(x, 0, VTPM_CRB_REG_CTRL_REQ, VTPM_CRB_CTRL_REQ_cmdReady, 1);
    assert_int_equal(ctrl_sts(x), 0);
    /* goIdle during execution waits for the answer, and reads 1 until then */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(ctrl_sts(x), 0);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    /* the buffer survives Idle */
    assert_buffer(x, 0, answer16, sizeof(answer16));
    /* Start from Idle runs the command (as QEMU), and cmdReady written meanwhile waits too */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    fake_answer(&x->tpm, 0);
    assert_int_equal(ctrl_sts(x), 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), 0);
}

static void test_buffer_frozen_during_execution(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 0);
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER, 0xFFFFFFFF, 4);
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER + 8, 0xFF, 1);
    assert_buffer(x, 0, startup_cmd, sizeof(startup_cmd)); /* readable, unchanged */
    fake_answer(&x->tpm, 0);
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER, 0x12, 1);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER, 1), 0x12);
}

/* ---- localities --------------------------------------------------------- */

static unsigned active_of(struct fx *x)
{
    uint32_t s = loc_state(x);

    assert_true(s & VTPM_CRB_LOC_STATE_locAssigned);
    return (s & VTPM_CRB_LOC_STATE_activeLocality_MASK) >> VTPM_CRB_LOC_STATE_activeLocality_SHIFT;
}

static void test_locality_request_relinquish(void **state)
{
    struct fx *x = *state;

    request(x, 1);
    assert_int_equal(active_of(x), 1);
    /* LOC_STATE is the same in every window; LOC_STS is per locality */
    for (unsigned l = 0; l < VTPM_CRB_LOCALITIES; l++) {
        assert_int_equal(rd(x, l, VTPM_CRB_REG_LOC_STATE, 4), 0x80 | 0x02 | 1u << 2 | 0x01);
        assert_int_equal(loc_sts(x, l), l == 1 ? VTPM_CRB_LOC_STS_Granted : 0);
    }
    /* others wait; the highest waiting locality is next */
    request(x, 0);
    request(x, 3);
    request(x, 2);
    request(x, 1); /* already active: nothing */
    assert_int_equal(active_of(x), 1);
    assert_int_equal(loc_sts(x, 3), 0);
    loc_ctrl(x, 1, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(active_of(x), 3);
    assert_int_equal(loc_sts(x, 3), VTPM_CRB_LOC_STS_Granted);
    assert_int_equal(loc_sts(x, 1), 0);
    /* 2 withdraws its request; relinquishing from a non-active locality changes nothing else */
    loc_ctrl(x, 2, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(active_of(x), 3);
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(active_of(x), 0);
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(loc_state(x), 0x81); /* nobody */
    for (unsigned l = 0; l < VTPM_CRB_LOCALITIES; l++) {
        assert_int_equal(loc_sts(x, l), 0);
    }
    /* locality 4 is the CPU's: writes dropped unless the platform lets them through */
    request(x, 4);
    assert_int_equal(loc_state(x), 0x81);
    struct vtpm_crb_config cfg = {.locality4_writable = true};
    struct fx *y = fx_new(&cfg, 4096);
    request(y, 4);
    assert_int_equal(active_of(y), 4);
    assert_int_equal(rd(y, 0, VTPM_CRB_REG_LOC_STATE, 1), 0x80 | 0x02 | 4u << 2 | 0x01);
    teardown((void **)&y);
}

static void test_seize(void **state)
{
    struct fx *x = *state;

    request(x, 2);
    /* a lower or equal locality cannot seize */
    loc_ctrl(x, 1, VTPM_CRB_LOC_CTRL_Seize);
    loc_ctrl(x, 2, VTPM_CRB_LOC_CTRL_Seize);
    assert_int_equal(active_of(x), 2);
    assert_int_equal(loc_sts(x, 2), VTPM_CRB_LOC_STS_Granted);
    /* a higher one can; the loser learns it */
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_Seize);
    assert_int_equal(active_of(x), 3);
    assert_int_equal(loc_sts(x, 2), VTPM_CRB_LOC_STS_beenSeized);
    assert_int_equal(loc_sts(x, 3), VTPM_CRB_LOC_STS_Granted);
    /* Seize wins over the other bits of the same write */
    loc_ctrl(x, 4, VTPM_CRB_LOC_CTRL_Seize | VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(active_of(x), 3); /* locality 4 is read-only here */
    /* beenSeized stays until the locality asks again */
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(loc_sts(x, 2), VTPM_CRB_LOC_STS_beenSeized);
    request(x, 2);
    assert_int_equal(loc_sts(x, 2), VTPM_CRB_LOC_STS_Granted);
    /* Seize with nobody active is a request */
    loc_ctrl(x, 2, VTPM_CRB_LOC_CTRL_Relinquish);
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Seize);
    assert_int_equal(active_of(x), 0);
    assert_int_equal(loc_sts(x, 0), VTPM_CRB_LOC_STS_Granted);
}

static void test_buffer_changes_hands(void **state)
{
    static const uint8_t zeros[16] = {0};
    struct fx *x = *state;

    /* the same locality again: its buffer stays (as in QEMU) */
    request(x, 0);
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER, 4), 0xFFFFFFFFu);
    request(x, 0);
    assert_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    /* another locality: wiped */
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Relinquish);
    request(x, 1);
    assert_buffer(x, 1, zeros, sizeof(zeros));
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER, 4), 0xFFFFFFFFu);
    /* each window shows the one buffer to its owner */
    wr(x, 1, VTPM_CRB_REG_DATA_BUFFER + 0xF7C, 0xCAFEF00D, 4);
    assert_int_equal(rd(x, 1, 0xFFC, 4), 0xCAFEF00D);
    assert_int_equal(rd(x, 1, 0xFFC, 8), 0xFFFFFFFFFFFFFFFFull); /* past the window's end */
    loc_ctrl(x, 1, VTPM_CRB_LOC_CTRL_Relinquish);

    /* Seize during execution: the old command is cancelled, its answer never shown */
    run_to_execution(x, 2);
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_Seize);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(active_of(x), 3);
    /* the TPM still reads the old command: the new owner neither sees nor changes it yet */
    assert_int_equal(rd(x, 3, VTPM_CRB_REG_CTRL_START, 4), 1);
    assert_int_equal(rd(x, 3, VTPM_CRB_REG_DATA_BUFFER, 8), 0xFFFFFFFFFFFFFFFFull);
    wr(x, 3, VTPM_CRB_REG_DATA_BUFFER, 0x11, 1);
    assert_memory_equal(x->tpm.cmd, startup_cmd, sizeof(startup_cmd));
    start(x, 3);
    assert_int_equal(x->tpm.delivered, 1);
    wr(x, 3, VTPM_CRB_REG_CTRL_CANCEL, 1, 4); /* the command is being dropped already */
    assert_int_equal(x->tpm.cancels, 1);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 3, VTPM_CRB_REG_CTRL_START, 4), 0);
    assert_buffer(x, 3, zeros, sizeof(zeros));
    assert_int_equal(ctrl_sts(x) & VTPM_CRB_CTRL_STS_tpmSts, 0);
    /* and the new owner runs its own */
    write_buffer(x, 3, startup_cmd, sizeof(startup_cmd));
    start(x, 3);
    assert_int_equal(x->tpm.cmd_locality, 3);
    fake_answer(&x->tpm, 0);
    assert_buffer(x, 3, answer16, sizeof(answer16));
}

static void test_non_active_locality(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    /* the control area and the buffer belong to locality 0 */
    ctrl_req(x, 1, VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(ctrl_sts(x), 0);
    start(x, 2);
    assert_int_equal(x->tpm.delivered, 0);
    wr(x, 1, VTPM_CRB_REG_INT_ENABLE, 0x8000000F, 4);
    assert_int_equal(rd(x, 1, VTPM_CRB_REG_INT_ENABLE, 4), 0);
    wr(x, 1, VTPM_CRB_REG_DATA_BUFFER, 0xFF, 1);
    assert_int_equal(rd(x, 1, VTPM_CRB_REG_DATA_BUFFER, 1), 0xFF);
    assert_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    /* but the status registers read alike everywhere */
    for (unsigned l = 1; l < VTPM_CRB_LOCALITIES; l++) {
        assert_int_equal(rd(x, l, VTPM_CRB_REG_CTRL_STS, 4), 0);
        assert_int_equal(rd(x, l, VTPM_CRB_REG_LOC_STATE, 4), 0x83);
    }
    /* read-only registers ignore writes */
    wr(x, 0, VTPM_CRB_REG_CTRL_STS, 0, 4);
    wr(x, 0, VTPM_CRB_REG_CMD_SIZE, 0x10, 4);
    wr(x, 0, VTPM_CRB_REG_INTF_ID, 0, 8);
    wr(x, 0, VTPM_CRB_REG_LOC_STATE, 0, 4);
    assert_int_equal(ctrl_sts(x), 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE, 4), 0xF80);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INTF_ID, 4), INTF_ID_LOW);
    assert_int_equal(loc_state(x), 0x83);
}

/* ---- interrupts, establishment ------------------------------------------ */

static void test_interrupts(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    /* enabled events without GlobalEnable are not recorded */
    wr(x, 0, VTPM_CRB_REG_INT_ENABLE, VTPM_CRB_INT_ALL, 4);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), 0);
    assert_int_equal(x->irq_calls, 0);
    /* writable bits only */
    wr(x, 0, VTPM_CRB_REG_INT_ENABLE, 0xFFFFFFFF, 4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_ENABLE, 4), 0x8000000F);
    /* Start: a command completes */
    write_buffer(x, 0, startup_cmd, sizeof(startup_cmd));
    start(x, 0);
    assert_false(x->irq_asserted);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_Start);
    assert_true(x->irq_asserted);
    assert_int_equal(x->irq_calls, 1);
    /* write 1 to clear; writing 0 clears nothing */
    wr(x, 0, VTPM_CRB_REG_INT_STS, 0, 4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_Start);
    wr(x, 0, VTPM_CRB_REG_INT_STS, VTPM_CRB_INT_Start, 1);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), 0);
    assert_false(x->irq_asserted);
    assert_int_equal(x->irq_calls, 2);
    /* CmdReady: Idle -> Ready, not Ready -> Ready */
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_goIdle);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_CmdReady);
    wr(x, 0, VTPM_CRB_REG_INT_STS, 0xFFFFFFFF, 4);
    /* LocChanged: a grant */
    request(x, 2);
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_LocChanged);
    wr(x, 2, VTPM_CRB_REG_INT_STS, VTPM_CRB_INT_LocChanged, 4);
    /* EstablishmentClear */
    x->tpm.established = true;
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_resetEstablishmentBit);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_EstablishmentClear);
    assert_true(x->irq_asserted);
    /* reset drops the line */
    assert_int_equal(vtpm_crb_reset(x->crb), 0);
    assert_false(x->irq_asserted);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_ENABLE, 4), 0);
    /* only the enabled events are recorded */
    request(x, 0);
    wr(x, 0, VTPM_CRB_REG_INT_ENABLE, VTPM_CRB_INT_GlobalEnable | VTPM_CRB_INT_LocChanged, 4);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_cmdReady);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_STS, 4), 0);
    assert_false(x->irq_asserted);
    loc_ctrl(x, 0, VTPM_CRB_LOC_CTRL_Relinquish);
    request(x, 1);
    assert_int_equal(rd(x, 1, VTPM_CRB_REG_INT_STS, 4), VTPM_CRB_INT_LocChanged);
    assert_true(x->irq_asserted);
}

static void test_reset_establishment(void **state)
{
    struct fx *x = *state;

    x->tpm.established = true;
    assert_int_equal(loc_state(x) & VTPM_CRB_LOC_STATE_tpmEstablished, 0);
    /* localities 0-2 may not */
    for (unsigned l = 0; l < 3; l++) {
        loc_ctrl(x, l, VTPM_CRB_LOC_CTRL_resetEstablishmentBit);
    }
    assert_int_equal(x->tpm.reset_established_calls, 0);
    assert_int_equal(loc_state(x) & VTPM_CRB_LOC_STATE_tpmEstablished, 0);
    /* locality 3 may, without holding the interface, and no locality is granted by it */
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_resetEstablishmentBit);
    assert_int_equal(x->tpm.reset_established_calls, 1);
    assert_int_equal(x->tpm.reset_established_locality, 3);
    assert_int_equal(loc_state(x), 0x81);
    /* a TPM that refuses raises no interrupt */
    request(x, 3);
    wr(x, 3, VTPM_CRB_REG_INT_ENABLE, 0x80000004, 4);
    x->tpm.reset_established_rc = -EIO;
    loc_ctrl(x, 3, VTPM_CRB_LOC_CTRL_resetEstablishmentBit);
    assert_int_equal(x->tpm.reset_established_calls, 2);
    assert_int_equal(rd(x, 3, VTPM_CRB_REG_INT_STS, 4), 0);
}

/* ---- access widths ------------------------------------------------------ */

static void test_access_widths(void **state)
{
    struct fx *x = *state;

    /* bytes and words of a dword register */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_LADDR, 1), 0x80);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_LADDR + 1, 1), 0x00);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_LADDR + 2, 2), 0xFED4);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_LADDR + 3, 1), 0xFE);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_RSP_ADDR + 1, 1), 0x20);
    /* 8 bytes at an 8-aligned offset: both halves, INTF_ID and RSP_ADDR */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INTF_ID, 8) >> 32, VTPM_CRB_DEFAULT_DID_VID);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE, 8), 0xFED40080ull << 32 | 0xF80);
    /* misaligned or oversized: all ones, dropped on write */
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INTF_ID_HI, 8), 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE + 2, 4), 0xFFFFFFFFu);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE + 3, 2), 0xFFFF);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE, 3), 0xFFFFFF);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CMD_SIZE, 16), 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(vtpm_crb_read(x->crb, VTPM_CRB_SIZE, 4), 0xFFFFFFFFu);
    request(x, 0);
    wr(x, 0, VTPM_CRB_REG_CTRL_REQ + 2, VTPM_CRB_CTRL_REQ_cmdReady, 4); /* crosses a dword */
    wr(x, 0, VTPM_CRB_REG_CTRL_REQ, VTPM_CRB_CTRL_REQ_cmdReady, 3);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    vtpm_crb_write(x->crb, VTPM_CRB_SIZE + VTPM_CRB_REG_CTRL_REQ, 1, 4);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    /* a qword write is the low dword then the high one: CTRL_REQ, then CTRL_STS (read-only) */
    wr(x, 0, VTPM_CRB_REG_CTRL_REQ, 0xFFFFFFFF00000000ull | VTPM_CRB_CTRL_REQ_cmdReady, 8);
    assert_int_equal(ctrl_sts(x), 0);
    /* INT_ENABLE then INT_STS in one qword */
    wr(x, 0, VTPM_CRB_REG_INT_ENABLE, 0x8000000Full, 8);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_ENABLE, 4), 0x8000000F);
    /* a byte write keeps the other bytes of INT_ENABLE */
    wr(x, 0, VTPM_CRB_REG_INT_ENABLE + 3, 0x00, 1);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_INT_ENABLE, 4), 0x0F);
    /* the buffer: any width anywhere inside it, little-endian */
    wr(x, 0, VTPM_CRB_REG_DATA_BUFFER + 3, 0x0807060504030201ull, 8);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER + 3, 1), 0x01);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER + 4, 4), 0x05040302);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER + 5, 2), 0x0403);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER, 8), 0x0504030201000000ull);
    wr(x, 0, 0xFFE, 0xAAAA, 2);
    assert_int_equal(rd(x, 0, 0xFFE, 2), 0xAAAA);
    wr(x, 0, 0xFFE, 0xBBBBBBBB, 4); /* past the end: dropped */
    assert_int_equal(rd(x, 0, 0xFFE, 2), 0xAAAA);
}

/* ---- life cycle --------------------------------------------------------- */

static void test_reset_during_execution(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 0);
    ctrl_req(x, 0, VTPM_CRB_CTRL_REQ_goIdle);
    assert_int_equal(vtpm_crb_reset(x->crb), 0);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(x->tpm.resets, 1);
    assert_false(vtpm_crb_busy(x->crb));
    assert_int_equal(loc_state(x), 0x81);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_CTRL_REQ, 4), 0);
    /* the buffer is cleared, and an answer arriving anyway is dropped */
    vtpm_crb_command_done(x->crb, 0, answer16, sizeof(answer16));
    request(x, 0);
    assert_int_equal(rd(x, 0, VTPM_CRB_REG_DATA_BUFFER, 8), 0);
    assert_int_equal(ctrl_sts(x), VTPM_CRB_CTRL_STS_tpmIdle);
}

static void test_save_restore_round_trip(void **state)
{
    struct fx *x = *state;
    uint8_t blob[VTPM_CRB_STATE_MAX];
    uint8_t small[64];

    /* locality 2 active with a response, 1 and 3 waiting, 0 seized, Cancel set, interrupts */
    request(x, 0);
    loc_ctrl(x, 2, VTPM_CRB_LOC_CTRL_Seize);
    request(x, 1);
    request(x, 3);
    wr(x, 2, VTPM_CRB_REG_INT_ENABLE, 0x80000001, 4);
    ctrl_req(x, 2, VTPM_CRB_CTRL_REQ_cmdReady);
    write_buffer(x, 2, startup_cmd, sizeof(startup_cmd));
    start(x, 2);
    assert_int_equal(vtpm_crb_save(x->crb, blob, sizeof(blob)), -EBUSY);
    fake_answer(&x->tpm, 0);
    wr(x, 2, VTPM_CRB_REG_CTRL_CANCEL, 1, 4);
    assert_int_equal(vtpm_crb_save(x->crb, small, sizeof(small)), -ENOSPC);
    long n = vtpm_crb_save(x->crb, blob, sizeof(blob));
    assert_int_equal(n, VTPM_CRB_STATE_MAX);

    struct fx *y = fx_new(NULL, 4096);
    assert_int_equal(vtpm_crb_restore(y->crb, blob, (size_t)n), 0);
    assert_true(y->irq_asserted); /* the pending Start interrupt comes along */
    for (unsigned l = 0; l < VTPM_CRB_LOCALITIES; l++) {
        for (unsigned off = 0; off < 0x80; off += 4) {
            assert_int_equal(rd(y, l, off, 4), rd(x, l, off, 4));
        }
    }
    assert_buffer(y, 2, answer16, sizeof(answer16));
    assert_int_equal(loc_sts(y, 0), VTPM_CRB_LOC_STS_beenSeized);
    /* the waiting requests came along: 3 is next */
    loc_ctrl(y, 2, VTPM_CRB_LOC_CTRL_Relinquish);
    assert_int_equal(active_of(y), 3);
    /* and the restored device runs commands */
    start(y, 3);
    assert_int_equal(y->tpm.delivered, 0); /* the buffer was wiped for 3: paramSize 0 */
    assert_int_equal(rd(y, 3, VTPM_CRB_REG_CTRL_STS, 4), VTPM_CRB_CTRL_STS_tpmSts);
    teardown((void **)&y);
}

static void test_restore_rejects_bad_blobs(void **state)
{
    struct fx *x = *state;
    uint8_t blob[VTPM_CRB_STATE_MAX], bad[VTPM_CRB_STATE_MAX];

    request(x, 1);
    write_buffer(x, 1, startup_cmd, sizeof(startup_cmd));
    long n = vtpm_crb_save(x->crb, blob, sizeof(blob));
    assert_int_equal(n, VTPM_CRB_STATE_MAX);
    assert_int_equal(vtpm_crb_reset(x->crb), 0);

    struct {
        size_t at;
        uint8_t val;
        int rc;
    } cases[] = {
        {0, 'X', -EINVAL},        /* magic */
        {5, 2, -EPROTONOSUPPORT}, /* version */
        {6, 5, -EINVAL},          /* active locality */
        {7, 9, -EINVAL},          /* buffer owner */
        {8, 0x20, -EINVAL},       /* a request from locality 5 */
        {8, 0x02, -EINVAL},       /* the active locality waiting for itself */
        {9, 0x40, -EINVAL},       /* beenSeized of locality 6 */
        {10, 0x08, -EINVAL},      /* an unknown control flag */
        {11, 1, -EINVAL},         /* the pad byte */
        {12, 0x40, -EINVAL},      /* INT_ENABLE bit 30 */
        {19, 0x10, -EINVAL},      /* INT_STS bit 4 */
        {20, 0x10, -EINVAL},      /* buffer size 0x1000 + */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(bad, blob, sizeof(bad));
        bad[cases[i].at] = cases[i].val;
        assert_int_equal(vtpm_crb_restore(x->crb, bad, (size_t)n), cases[i].rc);
    }
    memcpy(bad, blob, sizeof(bad));
    put_be16(bad + 20, 4); /* a buffer smaller than a header */
    assert_int_equal(vtpm_crb_restore(x->crb, bad, (size_t)n), -EINVAL);
    assert_int_equal(vtpm_crb_restore(x->crb, blob, (size_t)n - 1), -EINVAL);
    assert_int_equal(vtpm_crb_restore(x->crb, blob, 3), -EINVAL);
    memcpy(bad, blob, sizeof(bad));
    assert_int_equal(vtpm_crb_restore(x->crb, bad, sizeof(bad)), 0);
    /* what the failed ones left: nothing; the good one: locality 1 with its bytes */
    assert_int_equal(active_of(x), 1);
    assert_buffer(x, 1, startup_cmd, sizeof(startup_cmd));
}

static void test_restore_failure_leaves_device_unchanged(void **state)
{
    struct fx *x = *state;
    uint8_t blob[VTPM_CRB_STATE_MAX];

    long n = vtpm_crb_save(x->crb, blob, sizeof(blob)); /* nobody active */
    request(x, 2);
    wr(x, 2, VTPM_CRB_REG_DATA_BUFFER, 0x5A, 1);
    blob[6] = 7;
    assert_int_equal(vtpm_crb_restore(x->crb, blob, (size_t)n), -EINVAL);
    assert_int_equal(active_of(x), 2);
    assert_int_equal(rd(x, 2, VTPM_CRB_REG_DATA_BUFFER, 1), 0x5A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test(test_config_and_create),
        cmocka_unit_test_setup_teardown(test_command_flow, setup, teardown),
        cmocka_unit_test(test_param_size_beyond_buffer),
        cmocka_unit_test_setup_teardown(test_short_command_is_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failures_are_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_frozen_during_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locality_request_relinquish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_changes_hands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_active_locality, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_establishment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_widths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_during_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_restore_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_rejects_bad_blobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_failure_leaves_device_unchanged, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
