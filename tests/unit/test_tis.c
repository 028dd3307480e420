/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TIS register model as an executable spec: each test is a sequence of
 * register accesses a guest driver makes and the values the TIS 1.3 / PTP
 * FIFO interface must answer, against a fake backend that records what the
 * TPM was asked and answers when the test says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "util/buf.h"
#include "vtpm/tis.h"

#include "fake_tpm.h"

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    struct fake_tpm tpm;
    struct vtpm_backend be;
    struct vtpm_tis *tis;
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

static struct fx *fx_new(enum vtpm_tpm_version version, size_t buffer_size)
{
    struct fx *x = test_calloc(1, sizeof(*x));
    struct vtpm_tis_config cfg = {
        .version = version,
        .irq_vector = 5,
        .irq = on_irq,
        .irq_opaque = x,
    };

    x->tpm.buffer_size = buffer_size;
    memcpy(x->tpm.rsp, answer16, sizeof(answer16));
    x->tpm.rsp_len = sizeof(answer16);
    x->be = (struct vtpm_backend){.ops = &fake_ops, .priv = &x->tpm};
    assert_int_equal(vtpm_tis_create(&cfg, &x->be, &x->tis), 0);
    return x;
}

static int setup(void **state)
{
    *state = fx_new(VTPM_TPM_VERSION_2_0, 4096);
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;

    vtpm_tis_destroy(x->tis);
    test_free(x);
    return 0;
}

static uint32_t rd(struct fx *x, unsigned l, unsigned reg, unsigned size)
{
    return (uint32_t)vtpm_tis_read(x->tis, (uint64_t)l << 12 | reg, size);
}

static void wr(struct fx *x, unsigned l, unsigned reg, uint32_t v, unsigned size)
{
    vtpm_tis_write(x->tis, (uint64_t)l << 12 | reg, v, size);
}

static uint32_t sts(struct fx *x, unsigned l)
{
    return rd(x, l, VTPM_TIS_REG_STS, 4);
}

static uint32_t sts_bits(struct fx *x, unsigned l)
{
    return sts(x, l) & 0xFF;
}

static uint32_t burst(struct fx *x, unsigned l)
{
    return (sts(x, l) & VTPM_TIS_STS_burstCount_MASK) >> VTPM_TIS_STS_burstCount_SHIFT;
}

static void request(struct fx *x, unsigned l)
{
    wr(x, l, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_requestUse, 1);
}

static void command_ready(struct fx *x, unsigned l)
{
    wr(x, l, VTPM_TIS_REG_STS, VTPM_TIS_STS_commandReady, 1);
}

static void tpm_go(struct fx *x, unsigned l)
{
    wr(x, l, VTPM_TIS_REG_STS, VTPM_TIS_STS_tpmGo, 1);
}

static void send_bytes(struct fx *x, unsigned l, const uint8_t *cmd, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        wr(x, l, VTPM_TIS_REG_DATA_FIFO, cmd[i], 1);
    }
}

/* Locality l active, Ready, the startup command written and started. */
static void run_to_execution(struct fx *x, unsigned l)
{
    request(x, l);
    command_ready(x, l);
    send_bytes(x, l, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, l);
    assert_int_equal(vtpm_tis_state(x->tis, (uint8_t)l), VTPM_TIS_EXECUTION);
}

/* ---- reset values ------------------------------------------------------- */

static void test_reset_values_tpm2(void **state)
{
    struct fx *x = *state;

    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        /* tpmRegValidSts, and tpmEstablishment = 1 while no DRTM has run */
        assert_int_equal(rd(x, l, VTPM_TIS_REG_ACCESS, 1), 0x81);
        assert_int_equal(rd(x, l, VTPM_TIS_REG_INT_ENABLE, 4), 0x08); /* low level */
        assert_int_equal(rd(x, l, VTPM_TIS_REG_INT_VECTOR, 1), 5);
        assert_int_equal(rd(x, l, VTPM_TIS_REG_INT_STATUS, 4), 0);
        /* all four interrupts, low level, 64-byte transfers, TIS 1.3 for TPM 2.0 */
        assert_int_equal(rd(x, l, VTPM_TIS_REG_INTF_CAPABILITY, 4), 0x30000697);
        /* STS and the FIFO belong to the active locality only: none is active */
        assert_int_equal(sts(x, l), 0xFFFFFFFF);
        assert_int_equal(rd(x, l, VTPM_TIS_REG_DATA_FIFO, 4), 0xFFFFFFFF);
        /* FIFO interface, 5 localities, TIS-compatible */
        assert_int_equal(rd(x, l, VTPM_TIS_REG_INTERFACE_ID, 4), 0x2100);
        assert_int_equal(rd(x, l, VTPM_TIS_REG_DID_VID, 4), VTPM_TIS_DEFAULT_DID_VID);
        assert_int_equal(rd(x, l, VTPM_TIS_REG_RID, 1), VTPM_TIS_DEFAULT_RID);
        assert_int_equal(rd(x, l, 0x04, 4), 0xFFFFFFFF); /* unassigned */
        assert_int_equal(vtpm_tis_state(x->tis, (uint8_t)l), VTPM_TIS_IDLE);
    }
    request(x, 0);
    /* Idle: the family bits (2.0) and the free buffer as burstCount, no stsValid */
    assert_int_equal(sts(x, 0), 0x04000000u | 4096u << 8);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_string_equal(vtpm_tis_reg_name(0x3018), "STS");
    assert_string_equal(vtpm_tis_reg_name(0x00A0), "XDATA_FIFO");
    assert_null(vtpm_tis_reg_name(0x0100));
    assert_null(vtpm_tis_reg_name(0x5000));
}

static void test_reset_values_tpm12_and_config(void **state)
{
    struct fx *x = fx_new(VTPM_TPM_VERSION_1_2, 4096);
    struct vtpm_tis *custom = NULL;
    struct vtpm_tis_config cfg = {
        .version = VTPM_TPM_VERSION_2_0,
        .did_vid = 0x001B15D1,
        .rid = 0x36,
    };

    (void)state;
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_INTF_CAPABILITY, 4), 0x20000697);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_INTERFACE_ID, 4), 0xFFFFFFFF);
    request(x, 2);
    assert_int_equal(sts(x, 2), 4096u << 8); /* family bits 00: TPM 1.2 */
    x->tpm.established = true;
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0xA0);

    assert_int_equal(vtpm_tis_create(&cfg, &x->be, &custom), 0);
    assert_int_equal(vtpm_tis_read(custom, VTPM_TIS_REG_DID_VID, 4), 0x001B15D1);
    assert_int_equal(vtpm_tis_read(custom, VTPM_TIS_REG_DID_VID + 2, 2), 0x001B);
    assert_int_equal(vtpm_tis_read(custom, VTPM_TIS_REG_RID, 1), 0x36);
    assert_int_equal(vtpm_tis_read(custom, VTPM_TIS_REG_INT_VECTOR, 1), 0);
    vtpm_tis_destroy(custom);

    cfg.version = 3;
    assert_int_equal(vtpm_tis_create(&cfg, &x->be, &custom), -EINVAL);
    teardown((void **)&x);
}

/* ---- one command, byte by byte ------------------------------------------ */

static void test_command_flow_byte_by_byte(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    command_ready(x, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    assert_int_equal(sts(x, 0), 0x04000000u | 4096u << 8 | VTPM_TIS_STS_commandReady);

    for (size_t i = 0; i < sizeof(startup_cmd); i++) {
        wr(x, 0, VTPM_TIS_REG_DATA_FIFO, startup_cmd[i], 1);
        assert_int_equal(burst(x, 0), 4096 - (i + 1));
        if (i + 1 < sizeof(startup_cmd)) {
            /* Expect stays set until paramSize (12) bytes have arrived */
            assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_Expect);
            assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_RECEPTION);
        }
    }
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid);
    assert_int_equal(x->tpm.delivered, 0);

    tpm_go(x, 0);
    assert_int_equal(x->tpm.delivered, 1);
    assert_int_equal(x->tpm.cmd_len, sizeof(startup_cmd));
    assert_memory_equal(x->tpm.cmd, startup_cmd, sizeof(startup_cmd));
    assert_int_equal(x->tpm.cmd_locality, 0);
    assert_true(vtpm_tis_busy(x->tis));
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid); /* no dataAvail yet */
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF);

    fake_answer(&x->tpm, 0);
    assert_false(vtpm_tis_busy(x->tis));
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_COMPLETION);
    for (size_t i = 0; i < sizeof(answer16); i++) {
        assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail);
        assert_int_equal(burst(x, 0), sizeof(answer16) - i); /* bytes left to read */
        assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), answer16[i]);
    }
    /* dataAvail clears with the last byte; more reads find nothing */
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF);

    command_ready(x, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    assert_int_equal(sts(x, 0), 0x04000000u | 4096u << 8 | VTPM_TIS_STS_commandReady);
}

static void test_fifo_widths_and_xfifo(void **state)
{
    struct fx *x = *state;
    /* An 11-byte command: the 4-byte write carrying its last bytes has one too many */
    const uint8_t cmd11[] = {0x80, 0x01, 0, 0, 0, 0x0b, 0, 0, 0x01, 0x7b, 0x99};

    request(x, 1);
    command_ready(x, 1);
    wr(x, 1, VTPM_TIS_REG_DATA_FIFO, 0x0180, 2);      /* bytes 0-1, little endian */
    wr(x, 1, VTPM_TIS_REG_XDATA_FIFO, 0x0b000000, 4); /* bytes 2-5: paramSize */
    assert_int_equal(burst(x, 1), 4096 - 6);
    assert_int_equal(sts_bits(x, 1), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_Expect);
    /* bytes 6-10 through the last dword of XDATA_FIFO, plus one byte beyond paramSize */
    wr(x, 1, VTPM_TIS_REG_XDATA_FIFO_END - 3, 0x7b010000, 4);
    assert_int_equal(sts_bits(x, 1), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_Expect);
    wr(x, 1, VTPM_TIS_REG_DATA_FIFO + 1, 0xEE99, 2); /* 0x99 ends it, 0xEE is dropped */
    assert_int_equal(sts_bits(x, 1), VTPM_TIS_STS_stsValid);
    tpm_go(x, 1);
    assert_int_equal(x->tpm.cmd_len, sizeof(cmd11));
    assert_memory_equal(x->tpm.cmd, cmd11, sizeof(cmd11));
    assert_int_equal(x->tpm.cmd_locality, 1);

    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO, 4), 0x00000180);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_XDATA_FIFO + 0x10, 2), 0x1000);
    assert_int_equal(burst(x, 1), 10);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO + 3, 1), 0x00);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO, 4), 0xa1000000);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_XDATA_FIFO + 4, 4), 0xa5a4a3a2);
    /* the last byte, then nothing: a short response never reads past its end */
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO, 2), 0xFFa6);
    assert_int_equal(sts_bits(x, 1), VTPM_TIS_STS_stsValid);
}

static void test_reads_with_no_data(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0xFFFFFFFF); /* Idle */
    command_ready(x, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF); /* Ready */
    send_bytes(x, 0, startup_cmd, 3);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF); /* Reception */
    assert_int_equal(burst(x, 0), 4093);                         /* reads consumed nothing */
    send_bytes(x, 0, startup_cmd + 3, sizeof(startup_cmd) - 3);
    tpm_go(x, 0);
    assert_int_equal(x->tpm.cmd_len, sizeof(startup_cmd));
    assert_memory_equal(x->tpm.cmd, startup_cmd, sizeof(startup_cmd));
}

static void test_tpm_go_while_expect(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    command_ready(x, 0);
    tpm_go(x, 0); /* Ready: nothing to send */
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd) - 1);
    tpm_go(x, 0); /* Expect still set: ignored */
    assert_int_equal(x->tpm.delivered, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_RECEPTION);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_Expect);
    send_bytes(x, 0, startup_cmd + sizeof(startup_cmd) - 1, 1);
    tpm_go(x, 0);
    assert_int_equal(x->tpm.delivered, 1);
    /* More data while executing is dropped, and a second tpmGo does nothing */
    wr(x, 0, VTPM_TIS_REG_DATA_FIFO, 0x55, 1);
    tpm_go(x, 0);
    assert_int_equal(x->tpm.delivered, 1);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), answer16[0]);
}

static void test_response_retry(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 0);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x00000180);
    assert_int_equal(burst(x, 0), 12);
    wr(x, 0, VTPM_TIS_REG_STS, VTPM_TIS_STS_responseRetry, 1);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail);
    assert_int_equal(burst(x, 0), 16);
    for (size_t i = 0; i < sizeof(answer16); i++) {
        assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), answer16[i]);
    }
    /* after the whole response, a retry starts over again */
    wr(x, 0, VTPM_TIS_REG_STS, VTPM_TIS_STS_responseRetry, 1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), answer16[0]);
    /* responseRetry outside Completion does nothing; two bits at once are ignored */
    wr(x, 0, VTPM_TIS_REG_STS, VTPM_TIS_STS_commandReady | VTPM_TIS_STS_responseRetry, 1);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_COMPLETION);
    command_ready(x, 0);
    wr(x, 0, VTPM_TIS_REG_STS, VTPM_TIS_STS_responseRetry, 1);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_commandReady);
}

/* ---- aborts ------------------------------------------------------------- */

static void test_abort_mid_reception(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    command_ready(x, 0);
    send_bytes(x, 0, startup_cmd, 7);
    command_ready(x, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    assert_int_equal(sts(x, 0), 0x04000000u | 4096u << 8 | VTPM_TIS_STS_commandReady);
    assert_int_equal(x->tpm.cancels, 0); /* nothing executes: nothing to cancel */
    /* the next command starts from byte 0 */
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 0);
    assert_int_equal(x->tpm.cmd_len, sizeof(startup_cmd));
    assert_memory_equal(x->tpm.cmd, startup_cmd, sizeof(startup_cmd));
}

static void test_abort_mid_execution(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 0);
    command_ready(x, 0);
    assert_int_equal(x->tpm.cancels, 1);
    /* the abort completes when the TPM gives the command back */
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_EXECUTION);
    fake_answer(&x->tpm, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_commandReady);
    assert_int_equal(burst(x, 0), 4096);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF); /* the answer is gone */

    /* commandCancel (TPM 2.0) asks the TPM to hurry and keeps the response */
    command_ready(x, 0);
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 0);
    wr(x, 0, VTPM_TIS_REG_STS + 3, VTPM_TIS_STS_commandCancel >> 24, 1);
    assert_int_equal(x->tpm.cancels, 2);
    fake_answer(&x->tpm, 0);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail);
    wr(x, 0, VTPM_TIS_REG_STS, VTPM_TIS_STS_commandCancel, 4); /* not executing: no cancel */
    assert_int_equal(x->tpm.cancels, 2);
}

/* ---- localities ---------------------------------------------------------- */

static void test_locality_request_relinquish(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    request(x, 2);
    /* 2 waits; 0 sees that another locality wants the TPM */
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0x83);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA5);
    request(x, 1);
    /* 0 relinquishes: the highest requester, 2, gets it */
    wr(x, 0, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0x85);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0xA5); /* 1 still waits */
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1), 0x83);
    assert_int_equal(sts(x, 0), 0xFFFFFFFF);
    assert_int_equal(sts(x, 2), 0x04000000u | 4096u << 8);
    /* 1 withdraws its request by writing activeLocality while not active */
    wr(x, 1, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1), 0x81);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    /* relinquish with nobody waiting: no locality is active */
    wr(x, 2, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        assert_int_equal(rd(x, l, VTPM_TIS_REG_ACCESS, 1), 0x81);
    }
}

static void test_relinquish_aborts_and_hides_response(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 0);
    fake_answer(&x->tpm, 0);
    request(x, 1);
    wr(x, 0, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_IDLE);
    /* 1 never sees 0's response */
    assert_int_equal(sts_bits(x, 1), 0);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO, 4), 0xFFFFFFFF);
    /* relinquish while the TPM executes: the switch waits for the answer */
    command_ready(x, 1);
    send_bytes(x, 1, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 1);
    request(x, 3);
    wr(x, 1, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1) & VTPM_TIS_ACCESS_activeLocality,
                     VTPM_TIS_ACCESS_activeLocality);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 3, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_int_equal(vtpm_tis_state(x->tis, 1), VTPM_TIS_IDLE);
    assert_int_equal(sts_bits(x, 3), 0);
}

static void test_seize(void **state)
{
    struct fx *x = *state;

    request(x, 2);
    command_ready(x, 2);
    send_bytes(x, 2, startup_cmd, 5);
    /* a lower locality cannot seize */
    wr(x, 1, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_Seize, 1);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1), 0x81); /* Seize never reads back */
    /* a higher one can: 2 is aborted, marked beenSeized */
    wr(x, 3, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_Seize, 1);
    assert_int_equal(rd(x, 3, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0x91);
    assert_int_equal(vtpm_tis_state(x->tis, 2), VTPM_TIS_IDLE);
    assert_int_equal(sts_bits(x, 3), 0);
    assert_int_equal(burst(x, 3), 4096);
    /* beenSeized is write-1-to-clear */
    wr(x, 2, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_beenSeized, 1);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0x81);

    /* seize while executing: cancel, switch on completion, answer discarded */
    command_ready(x, 3);
    send_bytes(x, 3, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 3);
    x->tpm.established = true;
    wr(x, 4, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_Seize, 1); /* locality 4: dropped */
    assert_int_equal(x->tpm.cancels, 0);
    struct vtpm_tis_config cfg = {.version = VTPM_TPM_VERSION_2_0, .locality4_writable = true};
    struct vtpm_tis *t4;
    assert_int_equal(vtpm_tis_create(&cfg, &x->be, &t4), 0);
    vtpm_tis_write(t4, 0x4000, VTPM_TIS_ACCESS_Seize, 1);
    assert_int_equal(vtpm_tis_read(t4, 0x4000, 1), 0xA0); /* granted; established */
    vtpm_tis_destroy(t4);
    x->tpm.established = false;
}

static void test_seize_during_execution(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 1);
    wr(x, 2, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_Seize, 1);
    assert_int_equal(x->tpm.cancels, 1);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1), 0xA1); /* until the TPM answers */
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_ACCESS, 1), 0x91);
    assert_int_equal(vtpm_tis_state(x->tis, 1), VTPM_TIS_IDLE);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_DATA_FIFO, 1), 0xFF);
}

static void test_non_active_locality(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    command_ready(x, 0);
    /* locality 1 is not active: its STS and FIFO read all ones, its writes go nowhere */
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_STS, 1), 0xFF);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_STS + 1, 2), 0xFFFF);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_XDATA_FIFO, 4), 0xFFFFFFFF);
    wr(x, 1, VTPM_TIS_REG_STS, VTPM_TIS_STS_commandReady, 1);
    wr(x, 1, VTPM_TIS_REG_DATA_FIFO, 0x80, 1);
    wr(x, 1, VTPM_TIS_REG_INT_ENABLE, 0x8000008F, 4);
    assert_int_equal(vtpm_tis_state(x->tis, 1), VTPM_TIS_IDLE);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    assert_int_equal(burst(x, 0), 4096);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_INT_ENABLE, 4), 0x08);
    /* registers that describe the TPM read the same everywhere */
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_DID_VID, 4), VTPM_TIS_DEFAULT_DID_VID);
    assert_int_equal(rd(x, 1, VTPM_TIS_REG_INTF_CAPABILITY, 4), 0x30000697);
    /* INTERFACE_ID's IntfSelLock may be set from any locality and sticks everywhere */
    wr(x, 1, VTPM_TIS_REG_INTERFACE_ID, VTPM_TIS_IFACE_IntfSelLock, 4);
    assert_int_equal(rd(x, 4, VTPM_TIS_REG_INTERFACE_ID, 4), 0x2100 | VTPM_TIS_IFACE_IntfSelLock);
}

/* ---- interrupts --------------------------------------------------------- */

static void test_interrupts(void **state)
{
    struct fx *x = *state;
    const uint32_t all =
        VTPM_TIS_INT_globalIntEnable | VTPM_TIS_INT_typePolarity_LOW_LEVEL | VTPM_TIS_INT_ALL;

    /* nothing enabled: events leave no trace */
    request(x, 0);
    command_ready(x, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4), 0);
    assert_int_equal(x->irq_calls, 0);

    wr(x, 0, VTPM_TIS_REG_INT_ENABLE, all, 4);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_ENABLE, 4), all);
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 0);
    fake_answer(&x->tpm, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4),
                     VTPM_TIS_INT_dataAvail | VTPM_TIS_INT_stsValid);
    assert_true(x->irq_asserted);
    assert_int_equal(x->irq_calls, 1);
    /* write 1 to clear, one bit at a time; the line drops with the last */
    wr(x, 0, VTPM_TIS_REG_INT_STATUS, VTPM_TIS_INT_dataAvail, 4);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4), VTPM_TIS_INT_stsValid);
    assert_true(x->irq_asserted);
    wr(x, 1, VTPM_TIS_REG_INT_STATUS, VTPM_TIS_INT_stsValid, 4); /* not active: ignored */
    assert_true(x->irq_asserted);
    wr(x, 0, VTPM_TIS_REG_INT_STATUS, 0xFFFFFFFF, 4);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4), 0);
    assert_false(x->irq_asserted);
    assert_int_equal(x->irq_calls, 2);

    /* the last response byte raises stsValid; commandReady raises commandReady */
    for (size_t i = 0; i < sizeof(answer16); i++) {
        rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1);
    }
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4), VTPM_TIS_INT_stsValid);
    command_ready(x, 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4),
                     VTPM_TIS_INT_stsValid | VTPM_TIS_INT_commandReady);
    wr(x, 0, VTPM_TIS_REG_INT_STATUS, VTPM_TIS_INT_ALL, 4);

    /* localityChange goes to the locality that gains the TPM, if it enabled it */
    request(x, 2);
    wr(x, 0, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_INT_STATUS, 4), 0);
    wr(x, 2, VTPM_TIS_REG_INT_ENABLE + 3, 0x80, 1); /* byte 3: globalIntEnable only */
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_INT_ENABLE, 4), 0x80000008);
    wr(x, 2, VTPM_TIS_REG_INT_ENABLE, VTPM_TIS_INT_localityChange, 1);
    assert_int_equal(rd(x, 2, VTPM_TIS_REG_INT_ENABLE, 4), 0x80000004);
    request(x, 0);
    wr(x, 2, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_STATUS, 4), VTPM_TIS_INT_localityChange);
    assert_true(x->irq_asserted);
    /* INT_VECTOR is hard-wired */
    wr(x, 0, VTPM_TIS_REG_INT_VECTOR, 9, 1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INT_VECTOR, 1), 5);
}

/* ---- access widths ------------------------------------------------------ */

static void test_access_widths(void **state)
{
    struct fx *x = *state;

    request(x, 0);
    command_ready(x, 0);
    /* STS bytes: status, burstCount low, burstCount high, family/cancel */
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS, 1), VTPM_TIS_STS_commandReady);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS + 1, 2), 0x1000);
    /* a byte read of a burstCount above 255 says 255, not 0 */
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS + 1, 1), 0xFF);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS + 2, 1), 0x00);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS + 3, 1), 0x04);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_STS + 2, 2), 0x0410);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DID_VID + 2, 2), 0x0001);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DID_VID + 1, 1), 0x10);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_INTF_CAPABILITY + 3, 1), 0x30);
    /* not 1, 2 or 4 bytes, or across a dword, or past the window: all ones, no effect */
    assert_int_equal(vtpm_tis_read(x->tis, VTPM_TIS_REG_STS, 3), 0xFFFFFFFF);
    assert_int_equal(vtpm_tis_read(x->tis, VTPM_TIS_REG_STS, 8), 0xFFFFFFFF);
    assert_int_equal(vtpm_tis_read(x->tis, VTPM_TIS_REG_STS + 3, 2), 0xFFFF);
    assert_int_equal(vtpm_tis_read(x->tis, VTPM_TIS_SIZE, 4), 0xFFFFFFFF);
    vtpm_tis_write(x->tis, VTPM_TIS_REG_DATA_FIFO + 3, 0x8001, 2);
    vtpm_tis_write(x->tis, VTPM_TIS_REG_DATA_FIFO, 0x80, 3);
    vtpm_tis_write(x->tis, VTPM_TIS_SIZE + VTPM_TIS_REG_DATA_FIFO, 0x80, 1);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_READY);
    /* a write to ACCESS's reserved bytes is not a request */
    wr(x, 1, VTPM_TIS_REG_ACCESS + 1, VTPM_TIS_ACCESS_Seize, 1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 4), 0xA1);
}

/* ---- backend answers and other TPM-side events -------------------------- */

static void test_backend_failures_become_tpm_errors(void **state)
{
    struct fx *x = *state;
    const uint8_t failure[] = {0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01};

    /* the TPM is unreachable */
    run_to_execution(x, 0);
    fake_answer(&x->tpm, -ECONNRESET);
    assert_int_equal(burst(x, 0), sizeof(failure));
    for (size_t i = 0; i < sizeof(failure); i++) {
        assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 1), failure[i]);
    }
    /* the answer's size field disagrees with its length */
    command_ready(x, 0);
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd));
    tpm_go(x, 0);
    x->tpm.rsp_len = 14;
    fake_answer(&x->tpm, 0);
    assert_int_equal(burst(x, 0), sizeof(failure));
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x00000180);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x00000a00);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 2), 0x0101); /* TPM_RC_FAILURE */
    /* deliver fails at once */
    command_ready(x, 0);
    send_bytes(x, 0, startup_cmd, sizeof(startup_cmd));
    x->tpm.deliver_rc = -EPIPE;
    tpm_go(x, 0);
    assert_int_equal(vtpm_tis_state(x->tis, 0), VTPM_TIS_COMPLETION);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x00000180);
}

static void test_tpm12_failure_response(void **state)
{
    struct fx *x = fx_new(VTPM_TPM_VERSION_1_2, 4096);

    (void)state;
    run_to_execution(x, 0);
    fake_answer(&x->tpm, -EIO);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 2), 0xC400); /* TPM_TAG_RSP_COMMAND */
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x0a000000);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_DATA_FIFO, 4), 0x09000000); /* TPM_FAIL */
    teardown((void **)&x);
}

static void test_self_test_done_and_reset(void **state)
{
    struct fx *x = *state;
    const uint8_t self_test[] = {0x80, 0x01, 0, 0, 0, 0x0b, 0, 0, 0x01, 0x43, 0x01};

    x->tpm.sync = true;
    request(x, 0);
    command_ready(x, 0);
    send_bytes(x, 0, self_test, sizeof(self_test));
    x->tpm.rsp[9] = 0x01; /* a failing self test does not count */
    tpm_go(x, 0);
    assert_int_equal(sts_bits(x, 0) & VTPM_TIS_STS_selfTestDone, 0);
    command_ready(x, 0);
    send_bytes(x, 0, self_test, sizeof(self_test));
    x->tpm.rsp[9] = 0x00;
    tpm_go(x, 0);
    assert_int_equal(sts_bits(x, 0) & VTPM_TIS_STS_selfTestDone, VTPM_TIS_STS_selfTestDone);
    command_ready(x, 0); /* it survives state changes ... */
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_commandReady | VTPM_TIS_STS_selfTestDone);
    request(x, 3);
    wr(x, 0, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    assert_int_equal(sts_bits(x, 3), VTPM_TIS_STS_selfTestDone); /* ... and is global */

    /* platform reset: TPM_Init through the backend, every register back */
    wr(x, 3, VTPM_TIS_REG_INT_ENABLE, 0x80000084, 4);
    command_ready(x, 3);
    assert_true(x->irq_asserted);
    assert_int_equal(vtpm_tis_reset(x->tis), 0);
    assert_int_equal(x->tpm.resets, 1);
    assert_false(x->irq_asserted);
    assert_int_equal(rd(x, 3, VTPM_TIS_REG_ACCESS, 1), 0x81);
    assert_int_equal(rd(x, 3, VTPM_TIS_REG_INT_ENABLE, 4), 0x08);
    request(x, 3);
    assert_int_equal(sts(x, 3), 0x04000000u | 4096u << 8);
}

static void test_reset_during_execution(void **state)
{
    struct fx *x = *state;

    run_to_execution(x, 2);
    assert_int_equal(vtpm_tis_reset(x->tis), 0);
    assert_int_equal(x->tpm.cancels, 1);
    assert_false(vtpm_tis_busy(x->tis));
    /* a late answer after reset changes nothing */
    vtpm_tis_command_done(x->tis, 0, answer16, sizeof(answer16));
    request(x, 2);
    assert_int_equal(sts_bits(x, 2), 0);
    assert_int_equal(vtpm_tis_state(x->tis, 2), VTPM_TIS_IDLE);
}

static void test_reset_establishment(void **state)
{
    struct fx *x = *state;
    struct fx *y = fx_new(VTPM_TPM_VERSION_1_2, 4096);

    request(x, 0);
    wr(x, 0, VTPM_TIS_REG_STS + 3, VTPM_TIS_STS_resetEstablishment >> 24, 1);
    assert_int_equal(x->tpm.reset_established_calls, 0); /* locality 0 may not */
    wr(x, 0, VTPM_TIS_REG_ACCESS, VTPM_TIS_ACCESS_activeLocality, 1);
    request(x, 3);
    wr(x, 3, VTPM_TIS_REG_STS, VTPM_TIS_STS_resetEstablishment, 4);
    assert_int_equal(x->tpm.reset_established_calls, 1);
    assert_int_equal(x->tpm.reset_established_locality, 3);
    /* TPM 1.2 has no such bit */
    request(y, 3);
    wr(y, 3, VTPM_TIS_REG_STS, VTPM_TIS_STS_resetEstablishment, 4);
    assert_int_equal(y->tpm.reset_established_calls, 0);
    teardown((void **)&y);
}

static void test_small_backend_buffer_overflow(void **state)
{
    struct fx *x = fx_new(VTPM_TPM_VERSION_2_0, 64);
    uint8_t big[80] = {0x80, 0x01, 0, 0, 0, 100}; /* claims 100 bytes */

    (void)state;
    request(x, 0);
    command_ready(x, 0);
    assert_int_equal(burst(x, 0), 64);
    send_bytes(x, 0, big, 64);
    assert_int_equal(burst(x, 0), 0);
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid | VTPM_TIS_STS_Expect);
    send_bytes(x, 0, big + 64, 1); /* no room: Expect drops, the byte is lost */
    assert_int_equal(sts_bits(x, 0), VTPM_TIS_STS_stsValid);
    tpm_go(x, 0);
    assert_int_equal(x->tpm.cmd_len, 64);
    /* a response larger than the buffer is a failure, not a truncation */
    x->tpm.rsp_len = 70;
    put_be32(x->tpm.rsp + 2, 70);
    fake_answer(&x->tpm, 0);
    assert_int_equal(burst(x, 0), 10);
    teardown((void **)&x);
}

/* ---- save / restore ----------------------------------------------------- */

static void test_save_restore_round_trip(void **state)
{
    struct fx *x = *state;
    struct fx *y = fx_new(VTPM_TPM_VERSION_2_0, 4096);
    uint8_t blob[VTPM_TIS_STATE_MAX];
    uint8_t blob2[VTPM_TIS_STATE_MAX];

    /* mid-reception, with interrupts enabled and a pending request */
    request(x, 1);
    wr(x, 1, VTPM_TIS_REG_INT_ENABLE, 0x80000080, 4);
    command_ready(x, 1);
    send_bytes(x, 1, startup_cmd, 7);
    request(x, 2);
    long n = vtpm_tis_save(x->tis, blob, sizeof(blob));
    assert_true(n > 0 && n <= (long)sizeof(blob));
    assert_int_equal(vtpm_tis_save(x->tis, blob, (size_t)n - 1), -ENOSPC);
    assert_int_equal(vtpm_tis_restore(y->tis, blob, (size_t)n), 0);
    /* the same registers and the same next steps */
    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        for (unsigned reg = 0; reg <= VTPM_TIS_REG_INTERFACE_ID; reg += 4) {
            if (reg != VTPM_TIS_REG_DATA_FIFO) {
                assert_int_equal(rd(y, l, reg, 4), rd(x, l, reg, 4));
            }
        }
    }
    assert_true(y->irq_asserted); /* commandReady is pending in INT_STATUS */
    send_bytes(y, 1, startup_cmd + 7, sizeof(startup_cmd) - 7);
    tpm_go(y, 1);
    assert_int_equal(y->tpm.cmd_len, sizeof(startup_cmd));
    assert_memory_equal(y->tpm.cmd, startup_cmd, sizeof(startup_cmd));

    /* executing: the embedder must wait for the answer */
    assert_int_equal(vtpm_tis_save(y->tis, blob2, sizeof(blob2)), -EBUSY);
    fake_answer(&y->tpm, 0);
    rd(y, 1, VTPM_TIS_REG_DATA_FIFO, 4);
    /* mid-response: the rest of the answer moves with the state */
    n = vtpm_tis_save(y->tis, blob2, sizeof(blob2));
    assert_true(n > 0);
    assert_int_equal(vtpm_tis_restore(x->tis, blob2, (size_t)n), 0);
    assert_int_equal(burst(x, 1), 12);
    for (size_t i = 4; i < sizeof(answer16); i++) {
        assert_int_equal(rd(x, 1, VTPM_TIS_REG_DATA_FIFO, 1), answer16[i]);
    }
    teardown((void **)&y);
}

static void test_restore_rejects_bad_blobs(void **state)
{
    struct fx *x = *state;
    struct fx *v12 = fx_new(VTPM_TPM_VERSION_1_2, 4096);
    uint8_t blob[VTPM_TIS_STATE_MAX];
    uint8_t bad[VTPM_TIS_STATE_MAX];

    request(x, 0);
    command_ready(x, 0);
    send_bytes(x, 0, startup_cmd, 5);
    long n = vtpm_tis_save(x->tis, blob, sizeof(blob));
    assert_true(n > 0);
    request(x, 1); /* the device moves on; failed restores must not undo this */
    /* every truncation and one byte too many */
    for (long cut = 0; cut < n; cut++) {
        assert_int_equal(vtpm_tis_restore(x->tis, blob, (size_t)cut), -EINVAL);
    }
    memcpy(bad, blob, (size_t)n);
    bad[n] = 0;
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n + 1), -EINVAL);
    /* wrong magic; a newer version; another family */
    memcpy(bad, blob, (size_t)n);
    bad[0] ^= 1;
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n), -EINVAL);
    memcpy(bad, blob, (size_t)n);
    bad[5] = 2;
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n), -EPROTONOSUPPORT);
    assert_int_equal(vtpm_tis_restore(v12->tis, blob, (size_t)n), -EINVAL);
    /* an active locality that does not say so; an impossible state */
    memcpy(bad, blob, (size_t)n);
    bad[7] = 2; /* active locality */
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n), -EINVAL);
    memcpy(bad, blob, (size_t)n);
    bad[14] = VTPM_TIS_EXECUTION; /* locality 0's state */
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n), -EINVAL);
    memcpy(bad, blob, (size_t)n);
    bad[14] = 9;
    assert_int_equal(vtpm_tis_restore(x->tis, bad, (size_t)n), -EINVAL);
    /* nothing changed */
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA5);
    assert_int_equal(burst(x, 0), 4096 - 5);
    assert_int_equal(vtpm_tis_restore(x->tis, blob, (size_t)n), 0);
    assert_int_equal(rd(x, 0, VTPM_TIS_REG_ACCESS, 1), 0xA1);
    teardown((void **)&v12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values_tpm2, setup, teardown),
        cmocka_unit_test(test_reset_values_tpm12_and_config),
        cmocka_unit_test_setup_teardown(test_command_flow_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_widths_and_xfifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_with_no_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpm_go_while_expect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_mid_reception, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_mid_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locality_request_relinquish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relinquish_aborts_and_hides_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seize_during_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_active_locality, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_widths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_failures_become_tpm_errors, setup, teardown),
        cmocka_unit_test(test_tpm12_failure_response),
        cmocka_unit_test_setup_teardown(test_self_test_done_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_during_execution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_establishment, setup, teardown),
        cmocka_unit_test(test_small_backend_buffer_overflow),
        cmocka_unit_test_setup_teardown(test_save_restore_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_rejects_bad_blobs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
