/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TIS / PTP FIFO register model: 5 localities, one shared 4 KiB command
 * buffer, the idle / ready / reception / execution / completion machine of
 * TIS 1.3 §5.6, and locality arbitration. Pure: the only ways out are the
 * backend's ops and the IRQ callback.
 *
 * Where the specs leave room, registers read as QEMU's tpm-tis reads them, so
 * that QEMU can serve as the oracle. The deliberate differences are:
 *  - Expect clears with the very byte that completes paramSize; bytes after
 *    it in the same access are dropped, not appended to the command.
 *  - Any change of the active locality (relinquish, Seize, a granted
 *    requestUse) aborts the old locality's command and returns it to Idle, so
 *    no locality can read a response left behind by another (TIS 1.3
 *    TPM_ACCESS_x.Seize: "the TPM aborts ... the command of the locality
 *    being seized"). QEMU keeps the old locality's state and offset.
 *  - INT_STATUS only records the events INT_ENABLE enables.
 *  - A backend failure or a malformed response yields a TPM failure response
 *    (TPM_RC_FAILURE / TPM_FAIL) instead of whatever the buffer held.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm/tis.h"

#include "proto/tpm.h"
#include "util/buf.h"
#include "device/device_priv.h"

#define NO_LOCALITY 0xFFu
#define WINDOW_SIZE (1u << VTPM_TIS_LOCALITY_SHIFT)
#define NO_DATA_BYTE 0xFFu      /* FIFO reads when there is nothing to read */
#define STATE_MAGIC 0x56544953u /* "VTIS" */

static_assert(WINDOW_SIZE == 0x1000, "a locality's register window is 4 KiB");
static_assert(VTPM_TIS_SIZE == 0x5000, "5 localities span 0xFED40000-0xFED44FFF");
static_assert(VTPM_TIS_BUFFER_SIZE <= 0xFFFFu, "burstCount is a 16-bit field");
static_assert(VTPM_TIS_REG_XDATA_FIFO_END - VTPM_TIS_REG_XDATA_FIFO + 1 == 64,
              "XDATA_FIFO is 64 bytes (DataTransferSizeSupport = 64 bytes)");

/* TPM_INTF_CAPABILITY_x fields (TIS 1.3 §5.4.3, PTP FIFO interface capability) */
#define CAP_InterruptLevelLow (1u << 4)
#define CAP_DataTransferSizeSupport_64 (3u << 9)
#define CAP_InterfaceVersion_TIS13 (2u << 28)
#define CAP_InterfaceVersion_TIS13_TPM20 (3u << 28)
#define CAP_COMMON (VTPM_TIS_INT_ALL | CAP_InterruptLevelLow | CAP_DataTransferSizeSupport_64)

/* TPM_INTERFACE_ID_x: TPM 1.2 has no such register and reads all ones */
#define IFACE_ID_TPM12 0xFFFFFFFFu
#define IFACE_ID_TPM20 (VTPM_TIS_IFACE_CapLocality | VTPM_TIS_IFACE_CapTIS)

/* STS bits that survive every state change until reset */
#define STS_STICKY (VTPM_TIS_STS_selfTestDone | VTPM_TIS_STS_tpmFamily_MASK)
/* ACCESS bits kept per locality; the others are computed on read */
#define ACCESS_STORED                                                                              \
    (VTPM_TIS_ACCESS_tpmRegValidSts | VTPM_TIS_ACCESS_activeLocality |                             \
     VTPM_TIS_ACCESS_beenSeized | VTPM_TIS_ACCESS_Seize | VTPM_TIS_ACCESS_requestUse)

/* The commands whose success sets selfTestDone */
#define TPM2_CC_SELF_TEST 0x00000143u
#define TPM12_ORD_SELF_TEST_FULL 0x00000050u
#define TPM12_ORD_CONTINUE_SELF_TEST 0x00000053u

struct tis_locality {
    enum vtpm_tis_state state;
    uint8_t access;
    uint32_t sts; /* without burstCount, which is computed on read */
    uint32_t inte;
    uint32_t ints;
    uint32_t iface_id;
};

struct vtpm_tis {
    struct vtpm_tis_config cfg;
    struct vtpm_backend *be;
    struct tis_locality loc[VTPM_TIS_LOCALITIES];
    uint8_t active; /* the active locality, or NO_LOCALITY */
    /* An abort waiting for the executing command to come back from the TPM */
    bool abort_pending;
    uint8_t aborting;      /* whose command is aborted, or NO_LOCALITY */
    uint8_t next;          /* who is active afterwards, or NO_LOCALITY */
    uint8_t exec_locality; /* whose command the TPM executes, or NO_LOCALITY */
    uint32_t exec_code;
    bool irq_asserted;
    uint16_t buffer_size; /* min(backend's, 4096) */
    uint16_t rw_offset;   /* command bytes received, or response bytes read */
    uint16_t rsp_len;     /* response length, in Completion */
    uint8_t buffer[VTPM_TIS_BUFFER_SIZE];
};

/* One MMIO access, decoded */
struct tis_access {
    uint8_t locality;
    unsigned size;  /* 1, 2 or 4 */
    unsigned shift; /* bit position of the first byte inside the 32-bit register */
    uint32_t val;   /* write: the value at its bit position */
    uint32_t mask;  /* write: the bits the access covers */
};

/* ---------------------------------------------------------------------------
 * Status, interrupts, locality
 */

static void tis_sts_set(struct tis_locality *loc, uint32_t flags)
{
    loc->sts = (loc->sts & STS_STICKY) | flags;
}

static void tis_update_irq(struct vtpm_tis *t)
{
    bool asserted = false;

    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        asserted = asserted || t->loc[l].ints != 0;
    }
    if (asserted == t->irq_asserted) {
        return;
    }
    t->irq_asserted = asserted;
    if (t->cfg.irq) {
        t->cfg.irq(t->cfg.irq_opaque, asserted);
    }
}

/* Records the events `bits` for locality `l` if it enables them (TIS 1.3 §5.5). */
static void tis_raise_irq(struct vtpm_tis *t, uint8_t l, uint32_t bits)
{
    if (l >= VTPM_TIS_LOCALITIES) {
        return;
    }
    struct tis_locality *loc = &t->loc[l];
    if (!(loc->inte & VTPM_TIS_INT_globalIntEnable) || !(loc->inte & bits)) {
        return;
    }
    loc->ints |= loc->inte & bits & VTPM_TIS_INT_ALL;
    tis_update_irq(t);
}

static void tis_set_active(struct vtpm_tis *t, uint8_t next)
{
    uint8_t old = t->active;

    if (old == next) {
        if (next != NO_LOCALITY) {
            t->loc[next].access &= (uint8_t) ~(VTPM_TIS_ACCESS_requestUse | VTPM_TIS_ACCESS_Seize);
        }
        return;
    }
    if (old != NO_LOCALITY) {
        bool seized = next != NO_LOCALITY && (t->loc[next].access & VTPM_TIS_ACCESS_Seize);
        t->loc[old].access &=
            (uint8_t) ~(VTPM_TIS_ACCESS_activeLocality | VTPM_TIS_ACCESS_requestUse);
        if (seized) {
            t->loc[old].access |= VTPM_TIS_ACCESS_beenSeized;
        }
    }
    t->active = next;
    if (next != NO_LOCALITY) {
        t->loc[next].access |= VTPM_TIS_ACCESS_activeLocality;
        t->loc[next].access &= (uint8_t) ~(VTPM_TIS_ACCESS_requestUse | VTPM_TIS_ACCESS_Seize);
    }
    tis_raise_irq(t, next, VTPM_TIS_INT_localityChange);
}

/*
 * Ends `aborting`'s command and hands the interface to `next`. The same
 * locality aborting its own command (commandReady) lands in Ready; a
 * locality losing the interface lands in Idle.
 */
static void tis_finish_abort(struct vtpm_tis *t)
{
    uint8_t from = t->aborting;
    uint8_t to = t->next;

    t->abort_pending = false;
    t->aborting = NO_LOCALITY;
    t->next = NO_LOCALITY;
    t->rw_offset = 0;
    t->rsp_len = 0;
    if (from != NO_LOCALITY && from == to) {
        t->loc[from].state = VTPM_TIS_READY;
        tis_sts_set(&t->loc[from], VTPM_TIS_STS_commandReady);
        tis_raise_irq(t, from, VTPM_TIS_INT_commandReady);
    } else if (from != NO_LOCALITY) {
        t->loc[from].state = VTPM_TIS_IDLE;
        tis_sts_set(&t->loc[from], 0);
    }
    tis_set_active(t, to);
}

/* An executing command must come back first: cancel it and finish on its completion. */
static void tis_start_abort(struct vtpm_tis *t, uint8_t from, uint8_t to)
{
    t->aborting = from;
    t->next = to;
    if (t->exec_locality != NO_LOCALITY) {
        t->abort_pending = true;
        vtpm_backend_cancel(t->be);
        return;
    }
    tis_finish_abort(t);
}

static void tis_relinquish(struct vtpm_tis *t, uint8_t l)
{
    if (t->active != l) {
        t->loc[l].access &= (uint8_t)~VTPM_TIS_ACCESS_requestUse;
        return;
    }
    /* The highest locality asking for use gets it next. */
    uint8_t next = NO_LOCALITY;
    for (int c = VTPM_TIS_LOCALITIES - 1; c >= 0; c--) {
        if (t->loc[c].access & VTPM_TIS_ACCESS_requestUse) {
            next = (uint8_t)c;
            break;
        }
    }
    tis_start_abort(t, l, next);
}

/* TIS 1.3 TPM_ACCESS_x.Seize: only a locality above the active one may seize. */
static void tis_seize(struct vtpm_tis *t, uint8_t l)
{
    if (t->active != NO_LOCALITY && l <= t->active) {
        return;
    }
    if (t->loc[l].access & VTPM_TIS_ACCESS_Seize) {
        return;
    }
    for (unsigned h = l + 1u; h < VTPM_TIS_LOCALITIES; h++) {
        if (t->loc[h].access & VTPM_TIS_ACCESS_Seize) {
            return; /* a higher locality's seize wins */
        }
    }
    for (unsigned low = 0; low < l; low++) {
        t->loc[low].access &= (uint8_t)~VTPM_TIS_ACCESS_Seize;
    }
    t->loc[l].access |= VTPM_TIS_ACCESS_Seize;
    tis_start_abort(t, t->active, l);
}

static void tis_request_use(struct vtpm_tis *t, uint8_t l)
{
    if (t->active == l) {
        return;
    }
    if (t->active == NO_LOCALITY) {
        tis_set_active(t, l);
        return;
    }
    t->loc[l].access |= VTPM_TIS_ACCESS_requestUse;
}

/* ---------------------------------------------------------------------------
 * Commands
 */

static void tis_execute(struct vtpm_tis *t, uint8_t l)
{
    t->loc[l].state = VTPM_TIS_EXECUTION;
    t->exec_locality = l;
    t->exec_code = t->rw_offset >= VTPM_TPM_HDR_SIZE ? get_be32(t->buffer + 6) : 0;
    int rc = vtpm_backend_deliver(t->be, t->buffer, t->rw_offset, l, vtpm_tis_command_done, t);
    if (rc < 0) {
        vtpm_tis_command_done(t, rc, NULL, 0);
    }
}

static void tis_command_ready(struct vtpm_tis *t, uint8_t l)
{
    struct tis_locality *loc = &t->loc[l];

    switch (loc->state) {
    case VTPM_TIS_IDLE:
        loc->state = VTPM_TIS_READY;
        tis_sts_set(loc, VTPM_TIS_STS_commandReady);
        tis_raise_irq(t, l, VTPM_TIS_INT_commandReady);
        break;
    case VTPM_TIS_READY:
        t->rw_offset = 0;
        break;
    case VTPM_TIS_RECEPTION:
    case VTPM_TIS_EXECUTION:
        tis_start_abort(t, l, l);
        break;
    case VTPM_TIS_COMPLETION:
        /* Completion -> Idle -> Ready in one step, as TIS 1.3 §5.6.2 allows */
        t->rw_offset = 0;
        t->rsp_len = 0;
        loc->state = VTPM_TIS_READY;
        tis_sts_set(loc, VTPM_TIS_STS_commandReady);
        tis_raise_irq(t, l, VTPM_TIS_INT_commandReady);
        break;
    }
}

static void tis_tpm_go(struct vtpm_tis *t, uint8_t l)
{
    /* tpmGo while Expect is set is ignored: the command is not complete. */
    if (t->loc[l].state == VTPM_TIS_RECEPTION && !(t->loc[l].sts & VTPM_TIS_STS_Expect)) {
        tis_execute(t, l);
    }
}

static void tis_response_retry(struct vtpm_tis *t, uint8_t l)
{
    if (t->loc[l].state == VTPM_TIS_COMPLETION) {
        t->rw_offset = 0;
        tis_sts_set(&t->loc[l], VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail);
    }
}

static void tis_store_response(struct vtpm_tis *t, int status, const uint8_t *rsp, size_t len)
{
    if (status == 0 && rsp && len >= VTPM_TPM_HDR_SIZE && len <= t->buffer_size &&
        get_be32(rsp + 2) == len) {
        memmove(t->buffer, rsp, len);
        t->rsp_len = (uint16_t)len;
        return;
    }
    /* The TPM could not answer, or answered garbage: give the guest an answer it can act on. */
    enum vtpm_family fam = t->cfg.version == VTPM_TPM_VERSION_2_0 ? VTPM_FAMILY_20 : VTPM_FAMILY_12;
    uint32_t rc = fam == VTPM_FAMILY_20 ? VTPM_TPM2_RC_FAILURE : VTPM_TPM12_FAIL;
    t->rsp_len = (uint16_t)vtpm_tpm_error_response(t->buffer, fam, rc);
}

static bool tis_is_self_test(uint32_t code)
{
    return code == TPM2_CC_SELF_TEST || code == TPM12_ORD_SELF_TEST_FULL ||
           code == TPM12_ORD_CONTINUE_SELF_TEST;
}

void vtpm_tis_command_done(void *tis, int status, const uint8_t *rsp, size_t len)
{
    struct vtpm_tis *t = tis;
    uint8_t l = t->exec_locality;

    if (l == NO_LOCALITY) {
        return; /* nothing executes: a late answer after reset */
    }
    t->exec_locality = NO_LOCALITY;
    if (t->abort_pending) {
        tis_finish_abort(t);
        return;
    }
    tis_store_response(t, status, rsp, len);
    if (tis_is_self_test(t->exec_code) && vtpm_tpm_response_code(t->buffer, t->rsp_len) == 0) {
        for (unsigned c = 0; c < VTPM_TIS_LOCALITIES; c++) {
            t->loc[c].sts |= VTPM_TIS_STS_selfTestDone;
        }
    }
    t->loc[l].state = VTPM_TIS_COMPLETION;
    t->rw_offset = 0;
    tis_sts_set(&t->loc[l], VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail);
    tis_raise_irq(t, l, VTPM_TIS_INT_dataAvail | VTPM_TIS_INT_stsValid);
}

/* ---------------------------------------------------------------------------
 * Registers
 */

static uint32_t tis_access_read(struct vtpm_tis *t, const struct tis_access *a)
{
    uint32_t v = t->loc[a->locality].access & (uint32_t)~VTPM_TIS_ACCESS_Seize;

    for (unsigned c = 0; c < VTPM_TIS_LOCALITIES; c++) {
        if (c != a->locality && (t->loc[c].access & VTPM_TIS_ACCESS_requestUse)) {
            v |= VTPM_TIS_ACCESS_pendingRequest;
        }
    }
    if (!vtpm_backend_established(t->be)) {
        v |= VTPM_TIS_ACCESS_tpmEstablishment;
    }
    return v;
}

static void tis_access_write(struct vtpm_tis *t, const struct tis_access *a)
{
    uint8_t l = a->locality;
    uint32_t v = a->val & 0xFFu; /* bytes 1-3 of the dword are reserved */

    if (v & VTPM_TIS_ACCESS_beenSeized) {
        t->loc[l].access &= (uint8_t)~VTPM_TIS_ACCESS_beenSeized;
    }
    /* One request per write; Seize wins over the others (TIS 1.3 TPM_ACCESS_x). */
    if (v & VTPM_TIS_ACCESS_Seize) {
        tis_seize(t, l);
    } else if (v & VTPM_TIS_ACCESS_activeLocality) {
        tis_relinquish(t, l);
    } else if (v & VTPM_TIS_ACCESS_requestUse) {
        tis_request_use(t, l);
    }
}

static uint32_t tis_int_enable_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->loc[a->locality].inte;
}

static void tis_int_enable_write(struct vtpm_tis *t, const struct tis_access *a)
{
    const uint32_t writable =
        VTPM_TIS_INT_globalIntEnable | VTPM_TIS_INT_typePolarity_MASK | VTPM_TIS_INT_ALL;
    struct tis_locality *loc = &t->loc[a->locality];

    loc->inte = (loc->inte & ~a->mask) | (a->val & a->mask & writable);
}

static uint32_t tis_int_vector_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->cfg.irq_vector;
}

static uint32_t tis_int_status_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->loc[a->locality].ints;
}

static void tis_int_status_write(struct vtpm_tis *t, const struct tis_access *a)
{
    t->loc[a->locality].ints &= ~(a->val & VTPM_TIS_INT_ALL); /* write 1 to clear */
    tis_update_irq(t);
}

static uint32_t tis_intf_capability_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return CAP_COMMON | (t->cfg.version == VTPM_TPM_VERSION_2_0 ? CAP_InterfaceVersion_TIS13_TPM20
                                                                : CAP_InterfaceVersion_TIS13);
}

static uint32_t tis_sts_read(struct vtpm_tis *t, const struct tis_access *a)
{
    const struct tis_locality *loc = &t->loc[a->locality];
    uint32_t burst;

    if (loc->sts & VTPM_TIS_STS_dataAvail) {
        burst = (uint32_t)t->rsp_len - t->rw_offset;
    } else {
        burst = (uint32_t)t->buffer_size - t->rw_offset;
        /* A byte read of burstCount must not show 0x00 for 0x100 free bytes. */
        if (a->size == 1 && burst > 0xFF) {
            burst = 0xFF;
        }
    }
    return loc->sts | burst << VTPM_TIS_STS_burstCount_SHIFT;
}

static void tis_sts_write(struct vtpm_tis *t, const struct tis_access *a)
{
    uint8_t l = a->locality;
    uint32_t v = a->val;

    if (t->cfg.version == VTPM_TPM_VERSION_2_0) {
        if ((v & VTPM_TIS_STS_commandCancel) && t->loc[l].state == VTPM_TIS_EXECUTION) {
            vtpm_backend_cancel(t->be);
        }
        /* PTP: resetEstablishment is honoured from localities 3 and 4 only */
        if ((v & VTPM_TIS_STS_resetEstablishment) && (l == 3 || l == 4)) {
            (void)vtpm_backend_reset_established(t->be, l);
        }
    }
    /* Exactly one of these per write; a write with several is ignored. */
    switch (v & (VTPM_TIS_STS_commandReady | VTPM_TIS_STS_tpmGo | VTPM_TIS_STS_responseRetry)) {
    case VTPM_TIS_STS_commandReady:
        tis_command_ready(t, l);
        break;
    case VTPM_TIS_STS_tpmGo:
        tis_tpm_go(t, l);
        break;
    case VTPM_TIS_STS_responseRetry:
        tis_response_retry(t, l);
        break;
    default:
        break;
    }
}

static uint8_t tis_fifo_get(struct vtpm_tis *t, uint8_t l)
{
    struct tis_locality *loc = &t->loc[l];

    if (loc->state != VTPM_TIS_COMPLETION || !(loc->sts & VTPM_TIS_STS_dataAvail)) {
        return NO_DATA_BYTE;
    }
    uint8_t b = t->buffer[t->rw_offset++];
    if (t->rw_offset >= t->rsp_len) {
        tis_sts_set(loc, VTPM_TIS_STS_stsValid); /* dataAvail clears with the last byte */
        tis_raise_irq(t, l, VTPM_TIS_INT_stsValid);
    }
    return b;
}

static uint32_t tis_fifo_read(struct vtpm_tis *t, const struct tis_access *a)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < a->size; i++) {
        v |= (uint32_t)tis_fifo_get(t, a->locality) << (8 * i);
    }
    return v;
}

static void tis_fifo_put(struct vtpm_tis *t, struct tis_locality *loc, uint8_t b)
{
    if (t->rw_offset >= t->buffer_size) {
        tis_sts_set(loc, VTPM_TIS_STS_stsValid); /* overflow: Expect drops, the rest is lost */
        return;
    }
    t->buffer[t->rw_offset++] = b;
    /* TIS 1.3 §5.6.2: Expect clears once the header's paramSize bytes have arrived */
    if (t->rw_offset >= 6 && t->rw_offset >= get_be32(t->buffer + 2)) {
        tis_sts_set(loc, VTPM_TIS_STS_stsValid);
    }
}

static void tis_fifo_write(struct vtpm_tis *t, const struct tis_access *a)
{
    struct tis_locality *loc = &t->loc[a->locality];
    uint32_t v = a->val >> a->shift;

    if (loc->state == VTPM_TIS_READY) {
        loc->state = VTPM_TIS_RECEPTION;
        tis_sts_set(loc, VTPM_TIS_STS_Expect | VTPM_TIS_STS_stsValid);
    }
    if (loc->state != VTPM_TIS_RECEPTION) {
        return; /* Idle, Execution, Completion: the byte is dropped */
    }
    for (unsigned i = 0; i < a->size && (loc->sts & VTPM_TIS_STS_Expect); i++) {
        tis_fifo_put(t, loc, (uint8_t)v);
        v >>= 8;
    }
}

static uint32_t tis_interface_id_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->loc[a->locality].iface_id;
}

static void tis_interface_id_write(struct vtpm_tis *t, const struct tis_access *a)
{
    if (a->val & VTPM_TIS_IFACE_IntfSelLock) {
        for (unsigned c = 0; c < VTPM_TIS_LOCALITIES; c++) {
            t->loc[c].iface_id |= VTPM_TIS_IFACE_IntfSelLock;
        }
    }
}

static uint32_t tis_did_vid_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->cfg.did_vid;
}

static uint32_t tis_rid_read(struct vtpm_tis *t, const struct tis_access *a)
{
    return t->cfg.rid;
}

/* The register map of one locality's window. */
struct tis_reg {
    uint16_t first; /* 4-byte aligned offsets the register covers */
    uint16_t last;
    const char *name;
    bool read_active_only;  /* another locality reads all ones */
    bool write_active_only; /* another locality's writes are dropped */
    bool stream;            /* FIFO: each byte of the access is the next data byte */
    uint32_t (*read)(struct vtpm_tis *t, const struct tis_access *a);
    void (*write)(struct vtpm_tis *t, const struct tis_access *a); /* NULL: read-only */
};

static const struct tis_reg tis_regs[] = {
    {VTPM_TIS_REG_ACCESS, VTPM_TIS_REG_ACCESS, "ACCESS", false, false, false, tis_access_read,
     tis_access_write},
    {VTPM_TIS_REG_INT_ENABLE, VTPM_TIS_REG_INT_ENABLE, "INT_ENABLE", false, true, false,
     tis_int_enable_read, tis_int_enable_write},
    {VTPM_TIS_REG_INT_VECTOR, VTPM_TIS_REG_INT_VECTOR, "INT_VECTOR", false, true, false,
     tis_int_vector_read, NULL},
    {VTPM_TIS_REG_INT_STATUS, VTPM_TIS_REG_INT_STATUS, "INT_STATUS", false, true, false,
     tis_int_status_read, tis_int_status_write},
    {VTPM_TIS_REG_INTF_CAPABILITY, VTPM_TIS_REG_INTF_CAPABILITY, "INTF_CAPABILITY", false, false,
     false, tis_intf_capability_read, NULL},
    {VTPM_TIS_REG_STS, VTPM_TIS_REG_STS, "STS", true, true, false, tis_sts_read, tis_sts_write},
    {VTPM_TIS_REG_DATA_FIFO, VTPM_TIS_REG_DATA_FIFO, "DATA_FIFO", true, true, true, tis_fifo_read,
     tis_fifo_write},
    {VTPM_TIS_REG_INTERFACE_ID, VTPM_TIS_REG_INTERFACE_ID, "INTERFACE_ID", false, false, false,
     tis_interface_id_read, tis_interface_id_write},
    {VTPM_TIS_REG_XDATA_FIFO, VTPM_TIS_REG_XDATA_FIFO_END & ~3u, "XDATA_FIFO", true, true, true,
     tis_fifo_read, tis_fifo_write},
    {VTPM_TIS_REG_DID_VID, VTPM_TIS_REG_DID_VID, "DID_VID", false, false, false, tis_did_vid_read,
     NULL},
    {VTPM_TIS_REG_RID, VTPM_TIS_REG_RID, "RID", false, false, false, tis_rid_read, NULL},
};

static const struct tis_reg *tis_reg_find(uint64_t offset)
{
    uint32_t in_window = (uint32_t)(offset & (WINDOW_SIZE - 1)) & ~3u;

    for (size_t i = 0; i < sizeof(tis_regs) / sizeof(tis_regs[0]); i++) {
        if (in_window >= tis_regs[i].first && in_window <= tis_regs[i].last) {
            return &tis_regs[i];
        }
    }
    return NULL;
}

const char *vtpm_tis_reg_name(uint64_t offset)
{
    const struct tis_reg *r = offset < VTPM_TIS_SIZE ? tis_reg_find(offset) : NULL;
    return r ? r->name : NULL;
}

/* 1, 2 or 4 bytes inside one dword of the 0x5000-byte window */
static bool tis_access_valid(uint64_t offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset < VTPM_TIS_SIZE &&
           (offset & 3) + size <= 4;
}

uint64_t vtpm_tis_read(struct vtpm_tis *t, uint64_t offset, unsigned size)
{
    if (!tis_access_valid(offset, size)) {
        return size == 1 || size == 2 ? (uint32_t)vtpm_dev_size_mask(size) : 0xFFFFFFFFu;
    }
    const struct tis_reg *r = tis_reg_find(offset);
    uint8_t l = (uint8_t)(offset >> VTPM_TIS_LOCALITY_SHIFT);
    if (!r || (r->read_active_only && t->active != l)) {
        return (uint32_t)vtpm_dev_size_mask(size);
    }
    struct tis_access a = {.locality = l, .size = size, .shift = (unsigned)(offset & 3) * 8};
    uint32_t v = r->read(t, &a);
    if (!r->stream) {
        v >>= a.shift;
    }
    return v & (uint32_t)vtpm_dev_size_mask(size);
}

void vtpm_tis_write(struct vtpm_tis *t, uint64_t offset, uint64_t value, unsigned size)
{
    if (!tis_access_valid(offset, size)) {
        return;
    }
    uint8_t l = (uint8_t)(offset >> VTPM_TIS_LOCALITY_SHIFT);
    /* Locality 4 belongs to the CPU's dynamic-launch cycles (TIS 1.3 §5.1). */
    if (l == 4 && !t->cfg.locality4_writable) {
        return;
    }
    const struct tis_reg *r = tis_reg_find(offset);
    if (!r || !r->write || (r->write_active_only && t->active != l)) {
        return;
    }
    struct tis_access a = {.locality = l, .size = size, .shift = (unsigned)(offset & 3) * 8};
    a.val = ((uint32_t)value & (uint32_t)vtpm_dev_size_mask(size)) << a.shift;
    a.mask = (uint32_t)vtpm_dev_size_mask(size) << a.shift;
    r->write(t, &a);
}

/* ---------------------------------------------------------------------------
 * Life cycle
 */

static void tis_init_registers(struct vtpm_tis *t)
{
    bool tpm2 = t->cfg.version == VTPM_TPM_VERSION_2_0;
    size_t be_size = vtpm_backend_buffer_size(t->be);

    if (be_size == 0 || be_size > VTPM_TIS_BUFFER_SIZE) {
        be_size = VTPM_TIS_BUFFER_SIZE;
    }
    t->buffer_size = (uint16_t)be_size;
    t->active = NO_LOCALITY;
    t->abort_pending = false;
    t->aborting = NO_LOCALITY;
    t->next = NO_LOCALITY;
    t->exec_locality = NO_LOCALITY;
    t->exec_code = 0;
    t->rw_offset = 0;
    t->rsp_len = 0;
    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        t->loc[l] = (struct tis_locality){
            .state = VTPM_TIS_IDLE,
            .access = VTPM_TIS_ACCESS_tpmRegValidSts,
            .sts = tpm2 ? VTPM_TIS_STS_tpmFamily_2_0 : VTPM_TIS_STS_tpmFamily_1_2,
            .inte = VTPM_TIS_INT_typePolarity_LOW_LEVEL,
            .ints = 0,
            .iface_id = tpm2 ? IFACE_ID_TPM20 : IFACE_ID_TPM12,
        };
    }
}

int vtpm_tis_create(const struct vtpm_tis_config *cfg, struct vtpm_backend *be,
                    struct vtpm_tis **out)
{
    if (!cfg || !be || !be->ops || !be->ops->deliver || !out ||
        (cfg->version != VTPM_TPM_VERSION_1_2 && cfg->version != VTPM_TPM_VERSION_2_0)) {
        return -EINVAL;
    }
    struct vtpm_tis *t = calloc(1, sizeof(*t));
    if (!t) {
        return -ENOMEM;
    }
    t->cfg = *cfg;
    if (t->cfg.did_vid == 0) {
        t->cfg.did_vid = VTPM_TIS_DEFAULT_DID_VID;
    }
    if (t->cfg.rid == 0) {
        t->cfg.rid = VTPM_TIS_DEFAULT_RID;
    }
    t->be = be;
    tis_init_registers(t);
    *out = t;
    return 0;
}

void vtpm_tis_destroy(struct vtpm_tis *t)
{
    free(t);
}

int vtpm_tis_reset(struct vtpm_tis *t)
{
    if (t->exec_locality != NO_LOCALITY) {
        vtpm_backend_cancel(t->be);
    }
    /* The backend's reset also ends (or drops) a command still running. */
    int rc = vtpm_backend_reset(t->be);
    tis_init_registers(t);
    tis_update_irq(t);
    return rc;
}

bool vtpm_tis_busy(const struct vtpm_tis *t)
{
    return t->exec_locality != NO_LOCALITY;
}

enum vtpm_tis_state vtpm_tis_state(const struct vtpm_tis *t, uint8_t locality)
{
    return locality < VTPM_TIS_LOCALITIES ? t->loc[locality].state : VTPM_TIS_IDLE;
}

/* ---------------------------------------------------------------------------
 * Save / restore. Layout (version 1, big-endian):
 *   be32 "VTIS", be16 version, u8 TPM family, u8 active locality (0xFF none),
 *   be16 buffer size, be16 rw offset, be16 response length,
 *   5 x { u8 state, u8 access, be32 sts, be32 int_enable, be32 int_status,
 *         be32 interface_id },
 *   the buffer's meaningful bytes: max(rw offset, response length).
 */

static_assert(VTPM_TIS_STATE_MAX ==
                  4 + 2 + 1 + 1 + 2 + 2 + 2 + VTPM_TIS_LOCALITIES * 18 + VTPM_TIS_BUFFER_SIZE,
              "VTPM_TIS_STATE_MAX matches the version 1 layout");

static uint16_t tis_saved_bytes(uint16_t rw_offset, uint16_t rsp_len)
{
    return rw_offset > rsp_len ? rw_offset : rsp_len;
}

long vtpm_tis_save(const struct vtpm_tis *t, uint8_t *buf, size_t cap)
{
    struct vtpm_writer w;

    if (vtpm_tis_busy(t)) {
        return -EBUSY;
    }
    vtpm_writer_init(&w, buf, cap);
    vtpm_dev_state_write_header(&w, STATE_MAGIC, VTPM_TIS_STATE_VERSION);
    vtpm_write_u8(&w, (uint8_t)t->cfg.version);
    vtpm_write_u8(&w, t->active);
    vtpm_write_be16(&w, t->buffer_size);
    vtpm_write_be16(&w, t->rw_offset);
    vtpm_write_be16(&w, t->rsp_len);
    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        const struct tis_locality *loc = &t->loc[l];
        vtpm_write_u8(&w, (uint8_t)loc->state);
        vtpm_write_u8(&w, loc->access);
        vtpm_write_be32(&w, loc->sts);
        vtpm_write_be32(&w, loc->inte);
        vtpm_write_be32(&w, loc->ints);
        vtpm_write_be32(&w, loc->iface_id);
    }
    vtpm_write_bytes(&w, t->buffer, tis_saved_bytes(t->rw_offset, t->rsp_len));
    return w.err ? -ENOSPC : (long)w.pos;
}

/* A locality's saved state is one this model can be in between commands. */
static bool tis_locality_valid(uint8_t state, uint8_t access, uint8_t l, uint8_t active)
{
    bool is_active = (access & VTPM_TIS_ACCESS_activeLocality) != 0;

    if (state > VTPM_TIS_COMPLETION || state == VTPM_TIS_EXECUTION) {
        return false;
    }
    if (is_active != (l == active) || (access & ~ACCESS_STORED) != 0) {
        return false;
    }
    return l == active || state == VTPM_TIS_IDLE;
}

int vtpm_tis_restore(struct vtpm_tis *t, const uint8_t *buf, size_t len)
{
    struct vtpm_reader r;
    struct tis_locality loc[VTPM_TIS_LOCALITIES];
    uint8_t state[VTPM_TIS_LOCALITIES];

    vtpm_reader_init(&r, buf, len);
    int hdr = vtpm_dev_state_read_header(&r, STATE_MAGIC, VTPM_TIS_STATE_VERSION);
    if (hdr < 0) {
        return hdr;
    }
    uint8_t family = vtpm_read_u8(&r);
    uint8_t active = vtpm_read_u8(&r);
    uint16_t buffer_size = vtpm_read_be16(&r);
    uint16_t rw_offset = vtpm_read_be16(&r);
    uint16_t rsp_len = vtpm_read_be16(&r);
    for (unsigned l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        state[l] = vtpm_read_u8(&r);
        loc[l].access = vtpm_read_u8(&r);
        loc[l].sts = vtpm_read_be32(&r);
        loc[l].inte = vtpm_read_be32(&r);
        loc[l].ints = vtpm_read_be32(&r);
        loc[l].iface_id = vtpm_read_be32(&r);
    }
    if (r.err || family != (uint8_t)t->cfg.version ||
        (active >= VTPM_TIS_LOCALITIES && active != NO_LOCALITY) ||
        buffer_size < VTPM_TPM_HDR_SIZE || buffer_size > VTPM_TIS_BUFFER_SIZE ||
        rw_offset > buffer_size || rsp_len > buffer_size) {
        return -EINVAL;
    }
    for (uint8_t l = 0; l < VTPM_TIS_LOCALITIES; l++) {
        if (!tis_locality_valid(state[l], loc[l].access, l, active)) {
            return -EINVAL;
        }
        loc[l].state = (enum vtpm_tis_state)state[l];
    }
    uint16_t n = tis_saved_bytes(rw_offset, rsp_len);
    const uint8_t *data = vtpm_read_bytes(&r, n);
    if (!data || vtpm_reader_left(&r) != 0) {
        return -EINVAL;
    }
    memcpy(t->loc, loc, sizeof(loc));
    memcpy(t->buffer, data, n);
    t->active = active;
    t->buffer_size = buffer_size;
    t->rw_offset = rw_offset;
    t->rsp_len = rsp_len;
    t->abort_pending = false;
    t->aborting = NO_LOCALITY;
    t->next = NO_LOCALITY;
    t->exec_locality = NO_LOCALITY;
    tis_update_irq(t);
    return 0;
}
