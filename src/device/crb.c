/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CRB register model (PTP 1.03, CRB interface): 5 locality windows, one
 * shared data buffer, the Idle / Ready / Execution cycle driven by CTRL_REQ
 * and CTRL_START, and locality arbitration through LOC_CTRL. Pure: the only
 * ways out are the backend's ops and the IRQ callback.
 *
 * Where the spec leaves room, registers read as QEMU 7.2's tpm-crb reads them
 * (it has locality 0 only), so that QEMU can serve as the oracle. The
 * deliberate differences are:
 *  - All 5 localities, so INTF_ID.CapLocality reads 1 and LOC_CTRL requests
 *    are arbitrated (highest pending request wins on relinquish; Seize only
 *    from above the active locality, setting the loser's beenSeized).
 *  - A command whose header says it is shorter than a header (paramSize < 10)
 *    is not sent to the TPM: it sets CTRL_STS.tpmSts (fatal error), as does a
 *    backend failure or a malformed response. The buffer then holds a
 *    TPM_RC_FAILURE response rather than whatever was left in it.
 *  - CTRL_CANCEL, INT_ENABLE and INT_STS keep what is written (they are
 *    read/write registers in the PTP); QEMU drops the writes.
 *  - Only the active locality may write the control area or touch the data
 *    buffer; other localities read the buffer as all ones. QEMU's buffer is
 *    plain RAM that anyone reads and writes, assigned locality or not.
 *  - The buffer cannot change under an executing command: writes to it are
 *    dropped while CTRL_START reads 1 (the backend reads the command then).
 *  - A goIdle or cmdReady written while a command executes takes effect when
 *    it completes (the CTRL_REQ bit reads 1 until then); QEMU applies it at once.
 *  - When the buffer passes to another locality (Seize, or a grant after a
 *    relinquish), it is wiped and a command still executing for the old
 *    owner is cancelled and its response dropped (the new owner reads the
 *    buffer as all ones until then), so no locality reads another's data.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vtpm/crb.h"

#include "proto/tpm.h"
#include "util/buf.h"
#include "device/device_priv.h"

#define NO_LOCALITY 0xFFu
#define WINDOW_SIZE (1u << VTPM_CRB_LOCALITY_SHIFT)
#define STATE_MAGIC 0x56435242u /* "VCRB" */

static_assert(WINDOW_SIZE == 0x1000, "a locality's register window is 4 KiB");
static_assert(VTPM_CRB_SIZE == 0x5000, "5 localities span 0xFED40000-0xFED44FFF");
static_assert(VTPM_CRB_BUFFER_SIZE == 0xF80, "the data buffer runs from 0x80 to the window's end");
static_assert(VTPM_CRB_LOCALITIES <= 8, "activeLocality is a 3-bit field");

#define INTF_ID_LOW                                                                                \
    (VTPM_CRB_INTF_InterfaceType_CRB | VTPM_CRB_INTF_InterfaceVersion_CRB |                        \
     VTPM_CRB_INTF_CapLocality | VTPM_CRB_INTF_CapDataXferSizeSupport_64 | VTPM_CRB_INTF_CapCRB |  \
     VTPM_CRB_INTF_InterfaceSelector_CRB)
#define INT_ENABLE_WRITABLE (VTPM_CRB_INT_GlobalEnable | VTPM_CRB_INT_ALL)

/* The bits of the saved control flags */
#define SAVED_FATAL (1u << 0)
#define SAVED_IDLE (1u << 1)
#define SAVED_CANCEL (1u << 2)

struct vtpm_crb {
    struct vtpm_crb_config cfg;
    struct vtpm_backend *be;
    uint8_t active;   /* the active locality, or NO_LOCALITY */
    uint8_t owner;    /* whose data the buffer holds, or NO_LOCALITY */
    uint8_t requests; /* bit l: locality l asked for access and waits */
    uint8_t seized;   /* bit l: LOC_STS_l.beenSeized */
    bool idle;        /* CTRL_STS.tpmIdle */
    bool fatal;       /* CTRL_STS.tpmSts */
    bool cancel;      /* CTRL_CANCEL.Cancel as last written */
    bool start;       /* CTRL_START.Start: a command executes */
    bool discard;     /* the executing command's owner lost the buffer: drop its answer */
    uint8_t req;      /* CTRL_REQ bits written during execution, applied at completion */
    bool irq_asserted;
    uint32_t inte;
    uint32_t ints;
    uint16_t buffer_size; /* min(backend's, VTPM_CRB_BUFFER_SIZE) */
    uint8_t buffer[VTPM_CRB_BUFFER_SIZE];
};

/* One dword register access, decoded */
struct crb_access {
    uint8_t locality;
    uint32_t val;  /* write: the value at its bit position in the dword */
    uint32_t mask; /* write: the bits the access covers */
};

/* ---------------------------------------------------------------------------
 * Interrupts, locality
 */

static void crb_update_irq(struct vtpm_crb *c)
{
    bool asserted = c->ints != 0;

    if (asserted == c->irq_asserted) {
        return;
    }
    c->irq_asserted = asserted;
    if (c->cfg.irq) {
        c->cfg.irq(c->cfg.irq_opaque, asserted);
    }
}

/* Records the events `bits` if INT_ENABLE enables them. */
static void crb_raise_irq(struct vtpm_crb *c, uint32_t bits)
{
    if (!(c->inte & VTPM_CRB_INT_GlobalEnable) || !(c->inte & bits)) {
        return;
    }
    c->ints |= c->inte & bits & VTPM_CRB_INT_ALL;
    crb_update_irq(c);
}

/*
 * The buffer passes to locality `next`: nothing of the old owner's stays
 * readable. A command still executing keeps its bytes until the TPM is done
 * with them; its response is dropped then.
 */
static void crb_hand_buffer(struct vtpm_crb *c, uint8_t next)
{
    if (c->start) {
        if (!c->discard) {
            c->discard = true;
            vtpm_backend_cancel(c->be);
        }
    } else {
        memset(c->buffer, 0, sizeof(c->buffer));
    }
    c->owner = next;
}

static void crb_set_active(struct vtpm_crb *c, uint8_t next)
{
    if (c->active == next) {
        return;
    }
    c->active = next;
    if (next == NO_LOCALITY) {
        return;
    }
    c->requests &= (uint8_t) ~(1u << next);
    if (c->owner != next) {
        crb_hand_buffer(c, next);
    }
    crb_raise_irq(c, VTPM_CRB_INT_LocChanged);
}

static void crb_request_access(struct vtpm_crb *c, uint8_t l)
{
    c->seized &= (uint8_t) ~(1u << l);
    if (c->active == NO_LOCALITY) {
        crb_set_active(c, l);
    } else if (c->active != l) {
        c->requests |= (uint8_t)(1u << l);
    }
}

static void crb_relinquish(struct vtpm_crb *c, uint8_t l)
{
    if (c->active != l) {
        c->requests &= (uint8_t) ~(1u << l); /* withdraws a waiting request */
        return;
    }
    /* The highest locality waiting for access gets it next. */
    uint8_t next = NO_LOCALITY;
    for (int w = VTPM_CRB_LOCALITIES - 1; w >= 0; w--) {
        if (c->requests & (1u << w)) {
            next = (uint8_t)w;
            break;
        }
    }
    crb_set_active(c, next);
}

/* PTP TPM_LOC_CTRL_x.Seize: only a locality above the active one may seize it. */
static void crb_seize(struct vtpm_crb *c, uint8_t l)
{
    if (c->active == NO_LOCALITY) {
        crb_request_access(c, l);
        return;
    }
    if (l <= c->active) {
        return;
    }
    c->seized |= (uint8_t)(1u << c->active);
    c->seized &= (uint8_t) ~(1u << l);
    crb_set_active(c, l);
}

/* ---------------------------------------------------------------------------
 * Commands
 */

/* The TPM cannot give an answer: tpmSts says so, and the buffer holds one a driver can act on. */
static void crb_fail(struct vtpm_crb *c)
{
    c->fatal = true;
    (void)vtpm_tpm_error_response(c->buffer, VTPM_FAMILY_20, VTPM_TPM2_RC_FAILURE);
}

static void crb_finish_request(struct vtpm_crb *c)
{
    uint8_t req = c->req;

    c->req = 0;
    if (req == VTPM_CRB_CTRL_REQ_cmdReady && c->idle) {
        c->idle = false;
        crb_raise_irq(c, VTPM_CRB_INT_CmdReady);
    } else if (req == VTPM_CRB_CTRL_REQ_goIdle) {
        c->idle = true;
    }
}

void vtpm_crb_command_done(void *crb, int status, const uint8_t *rsp, size_t len)
{
    struct vtpm_crb *c = crb;

    if (!c->start) {
        return; /* nothing executes: a late answer after reset */
    }
    c->start = false;
    if (c->discard) {
        c->discard = false;
        memset(c->buffer, 0, sizeof(c->buffer));
    } else if (status == 0 && rsp && len >= VTPM_TPM_HDR_SIZE && len <= c->buffer_size &&
               get_be32(rsp + 2) == len) {
        memmove(c->buffer, rsp, len); /* the rest of the buffer stays, as in QEMU */
    } else {
        crb_fail(c);
    }
    crb_finish_request(c);
    crb_raise_irq(c, VTPM_CRB_INT_Start);
}

static void crb_start(struct vtpm_crb *c, uint8_t l)
{
    uint32_t size = get_be32(c->buffer + 2);

    if (size < VTPM_TPM_HDR_SIZE) {
        /* Not a command: the TPM would never see its end. Say so instead of waiting forever. */
        crb_fail(c);
        crb_raise_irq(c, VTPM_CRB_INT_Start);
        return;
    }
    size_t len = size < c->buffer_size ? size : c->buffer_size;
    c->start = true;
    int rc = vtpm_backend_deliver(c->be, c->buffer, len, l, vtpm_crb_command_done, c);
    if (rc < 0) {
        vtpm_crb_command_done(c, rc, NULL, 0);
    }
}

/* ---------------------------------------------------------------------------
 * Registers
 */

static uint32_t crb_loc_state_read(struct vtpm_crb *c, const struct crb_access *a)
{
    uint32_t v = VTPM_CRB_LOC_STATE_tpmRegValidSts;

    if (c->active != NO_LOCALITY) {
        v |= VTPM_CRB_LOC_STATE_locAssigned | (uint32_t)c->active
                                                  << VTPM_CRB_LOC_STATE_activeLocality_SHIFT;
    }
    if (!vtpm_backend_established(c->be)) {
        v |= VTPM_CRB_LOC_STATE_tpmEstablished;
    }
    return v;
}

static uint32_t crb_zero_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return 0;
}

static void crb_loc_ctrl_write(struct vtpm_crb *c, const struct crb_access *a)
{
    uint8_t l = a->locality;
    uint32_t v = a->val;

    /* PTP: only localities 3 and 4 (the dynamic launch) may clear tpmEstablished */
    if ((v & VTPM_CRB_LOC_CTRL_resetEstablishmentBit) && (l == 3 || l == 4)) {
        if (vtpm_backend_reset_established(c->be, l) == 0) {
            crb_raise_irq(c, VTPM_CRB_INT_EstablishmentClear);
        }
    }
    /* One request per write; Seize wins over the others. */
    if (v & VTPM_CRB_LOC_CTRL_Seize) {
        crb_seize(c, l);
    } else if (v & VTPM_CRB_LOC_CTRL_Relinquish) {
        crb_relinquish(c, l);
    } else if (v & VTPM_CRB_LOC_CTRL_requestAccess) {
        crb_request_access(c, l);
    }
}

static uint32_t crb_loc_sts_read(struct vtpm_crb *c, const struct crb_access *a)
{
    uint32_t v = 0;

    if (c->active == a->locality) {
        v |= VTPM_CRB_LOC_STS_Granted;
    }
    if (c->seized & (1u << a->locality)) {
        v |= VTPM_CRB_LOC_STS_beenSeized;
    }
    return v;
}

static uint32_t crb_intf_id_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return INTF_ID_LOW | (uint32_t)c->cfg.rid << VTPM_CRB_INTF_RID_SHIFT;
}

static uint32_t crb_intf_id_hi_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->cfg.did_vid;
}

static uint32_t crb_ctrl_req_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->req; /* a request reads 1 until the TPM has made the transition */
}

static void crb_ctrl_req_write(struct vtpm_crb *c, const struct crb_access *a)
{
    uint32_t v = a->val;

    /* Exactly one request per write; both at once, or reserved bits set, is ignored (as QEMU). */
    if (v != VTPM_CRB_CTRL_REQ_cmdReady && v != VTPM_CRB_CTRL_REQ_goIdle) {
        return;
    }
    c->req = (uint8_t)v;
    if (!c->start) {
        crb_finish_request(c);
    }
}

static uint32_t crb_ctrl_sts_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return (c->fatal ? VTPM_CRB_CTRL_STS_tpmSts : 0) | (c->idle ? VTPM_CRB_CTRL_STS_tpmIdle : 0);
}

static uint32_t crb_ctrl_cancel_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->cancel ? VTPM_CRB_CTRL_CANCEL_Cancel : 0;
}

static void crb_ctrl_cancel_write(struct vtpm_crb *c, const struct crb_access *a)
{
    if (!(a->mask & VTPM_CRB_CTRL_CANCEL_Cancel)) {
        return; /* an access to the upper bytes leaves the bit alone */
    }
    bool was = c->cancel;
    c->cancel = (a->val & VTPM_CRB_CTRL_CANCEL_Cancel) != 0;
    if (c->cancel && !was && c->start && !c->discard) {
        vtpm_backend_cancel(c->be);
    }
}

static uint32_t crb_ctrl_start_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->start ? VTPM_CRB_CTRL_START_Start : 0;
}

static void crb_ctrl_start_write(struct vtpm_crb *c, const struct crb_access *a)
{
    /* Writing 0 has no effect; writing 1 while a command executes neither. */
    if ((a->val & VTPM_CRB_CTRL_START_Start) && !c->start) {
        crb_start(c, a->locality);
    }
}

static uint32_t crb_int_enable_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->inte;
}

static void crb_int_enable_write(struct vtpm_crb *c, const struct crb_access *a)
{
    c->inte = (c->inte & ~a->mask) | (a->val & a->mask & INT_ENABLE_WRITABLE);
}

static uint32_t crb_int_sts_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->ints;
}

static void crb_int_sts_write(struct vtpm_crb *c, const struct crb_access *a)
{
    c->ints &= ~(a->val & VTPM_CRB_INT_ALL); /* write 1 to clear */
    crb_update_irq(c);
}

static uint32_t crb_size_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return c->buffer_size;
}

/* Each locality's window shows the buffer at its own 0x80. */
static uint32_t crb_addr_read(struct vtpm_crb *c, const struct crb_access *a)
{
    return VTPM_CRB_BASE + ((uint32_t)a->locality << VTPM_CRB_LOCALITY_SHIFT) +
           VTPM_CRB_REG_DATA_BUFFER;
}

/* The register map of one locality's window, below the data buffer. */
struct crb_reg {
    uint8_t offset; /* dword-aligned */
    const char *name;
    bool write_active_only; /* another locality's writes are dropped */
    uint32_t (*read)(struct vtpm_crb *c, const struct crb_access *a);
    void (*write)(struct vtpm_crb *c, const struct crb_access *a); /* NULL: read-only */
};

static const struct crb_reg crb_regs[] = {
    {VTPM_CRB_REG_LOC_STATE, "LOC_STATE", false, crb_loc_state_read, NULL},
    {VTPM_CRB_REG_LOC_CTRL, "LOC_CTRL", false, crb_zero_read, crb_loc_ctrl_write},
    {VTPM_CRB_REG_LOC_STS, "LOC_STS", false, crb_loc_sts_read, NULL},
    {VTPM_CRB_REG_INTF_ID, "INTF_ID", false, crb_intf_id_read, NULL},
    {VTPM_CRB_REG_INTF_ID_HI, "INTF_ID", false, crb_intf_id_hi_read, NULL},
    {VTPM_CRB_REG_CTRL_EXT, "CTRL_EXT", false, crb_zero_read, NULL},
    {VTPM_CRB_REG_CTRL_REQ, "CTRL_REQ", true, crb_ctrl_req_read, crb_ctrl_req_write},
    {VTPM_CRB_REG_CTRL_STS, "CTRL_STS", false, crb_ctrl_sts_read, NULL},
    {VTPM_CRB_REG_CTRL_CANCEL, "CTRL_CANCEL", true, crb_ctrl_cancel_read, crb_ctrl_cancel_write},
    {VTPM_CRB_REG_CTRL_START, "CTRL_START", true, crb_ctrl_start_read, crb_ctrl_start_write},
    {VTPM_CRB_REG_INT_ENABLE, "INT_ENABLE", true, crb_int_enable_read, crb_int_enable_write},
    {VTPM_CRB_REG_INT_STS, "INT_STS", true, crb_int_sts_read, crb_int_sts_write},
    {VTPM_CRB_REG_CMD_SIZE, "CMD_SIZE", false, crb_size_read, NULL},
    {VTPM_CRB_REG_CMD_LADDR, "CMD_LADDR", false, crb_addr_read, NULL},
    {VTPM_CRB_REG_CMD_HADDR, "CMD_HADDR", false, crb_zero_read, NULL},
    {VTPM_CRB_REG_RSP_SIZE, "RSP_SIZE", false, crb_size_read, NULL},
    {VTPM_CRB_REG_RSP_ADDR, "RSP_ADDR", false, crb_addr_read, NULL},
    {VTPM_CRB_REG_RSP_ADDR + 4, "RSP_ADDR", false, crb_zero_read, NULL},
};

static const struct crb_reg *crb_reg_find(uint32_t in_window)
{
    for (size_t i = 0; i < sizeof(crb_regs) / sizeof(crb_regs[0]); i++) {
        if ((in_window & ~3u) == crb_regs[i].offset) {
            return &crb_regs[i];
        }
    }
    return NULL;
}

const char *vtpm_crb_reg_name(uint64_t offset)
{
    if (offset >= VTPM_CRB_SIZE) {
        return NULL;
    }
    uint32_t in_window = (uint32_t)offset & (WINDOW_SIZE - 1);
    if (in_window >= VTPM_CRB_REG_DATA_BUFFER) {
        return "DATA_BUFFER";
    }
    const struct crb_reg *r = crb_reg_find(in_window);
    return r ? r->name : NULL;
}

static bool crb_size_valid(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* A register access stays inside one dword, or is an aligned qword. */
static bool crb_reg_access_valid(uint32_t in_window, unsigned size)
{
    return size == 8 ? (in_window & 7) == 0 : (in_window & 3) + size <= 4;
}

/* A dword register; unassigned offsets below the buffer read 0, as in QEMU. */
static uint32_t crb_reg_read(struct vtpm_crb *c, uint8_t l, uint32_t dword)
{
    const struct crb_reg *r = crb_reg_find(dword);
    struct crb_access a = {.locality = l};

    return r ? r->read(c, &a) : 0;
}

static void crb_reg_write(struct vtpm_crb *c, uint8_t l, uint32_t dword, uint32_t val,
                          uint32_t mask)
{
    const struct crb_reg *r = crb_reg_find(dword);

    if (!r || !r->write || (r->write_active_only && c->active != l)) {
        return;
    }
    struct crb_access a = {.locality = l, .val = val & mask, .mask = mask};
    r->write(c, &a);
}

uint64_t vtpm_crb_read(struct vtpm_crb *c, uint64_t offset, unsigned size)
{
    if (!crb_size_valid(size) || offset >= VTPM_CRB_SIZE) {
        return vtpm_dev_size_mask(size < 8 ? size : 8);
    }
    uint8_t l = (uint8_t)(offset >> VTPM_CRB_LOCALITY_SHIFT);
    uint32_t in_window = (uint32_t)offset & (WINDOW_SIZE - 1);
    if (in_window >= VTPM_CRB_REG_DATA_BUFFER) {
        uint32_t at = in_window - VTPM_CRB_REG_DATA_BUFFER;
        /* Not the reader's: another locality's, or still the old owner's command. */
        if (at + size > VTPM_CRB_BUFFER_SIZE || c->active != l || c->discard) {
            return vtpm_dev_size_mask(size);
        }
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            v |= (uint64_t)c->buffer[at + i] << (8 * i);
        }
        return v;
    }
    if (!crb_reg_access_valid(in_window, size)) {
        return vtpm_dev_size_mask(size);
    }
    uint32_t dword = in_window & ~3u;
    if (size == 8) {
        return crb_reg_read(c, l, dword) | (uint64_t)crb_reg_read(c, l, dword + 4) << 32;
    }
    return (crb_reg_read(c, l, dword) >> (8 * (in_window & 3))) & vtpm_dev_size_mask(size);
}

void vtpm_crb_write(struct vtpm_crb *c, uint64_t offset, uint64_t value, unsigned size)
{
    if (!crb_size_valid(size) || offset >= VTPM_CRB_SIZE) {
        return;
    }
    uint8_t l = (uint8_t)(offset >> VTPM_CRB_LOCALITY_SHIFT);
    /* Locality 4 belongs to the CPU's dynamic-launch cycles (PTP: locality 4 access). */
    if (l == 4 && !c->cfg.locality4_writable) {
        return;
    }
    uint32_t in_window = (uint32_t)offset & (WINDOW_SIZE - 1);
    if (in_window >= VTPM_CRB_REG_DATA_BUFFER) {
        uint32_t at = in_window - VTPM_CRB_REG_DATA_BUFFER;
        if (at + size > VTPM_CRB_BUFFER_SIZE || c->active != l || c->start) {
            return;
        }
        c->owner = l;
        for (unsigned i = 0; i < size; i++) {
            c->buffer[at + i] = (uint8_t)(value >> (8 * i));
        }
        return;
    }
    if (!crb_reg_access_valid(in_window, size)) {
        return;
    }
    uint32_t dword = in_window & ~3u;
    if (size == 8) {
        crb_reg_write(c, l, dword, (uint32_t)value, UINT32_MAX);
        crb_reg_write(c, l, dword + 4, (uint32_t)(value >> 32), UINT32_MAX);
        return;
    }
    unsigned shift = 8 * (in_window & 3);
    crb_reg_write(c, l, dword, (uint32_t)(value & vtpm_dev_size_mask(size)) << shift,
                  (uint32_t)vtpm_dev_size_mask(size) << shift);
}

/* ---------------------------------------------------------------------------
 * Life cycle
 */

static void crb_init_registers(struct vtpm_crb *c)
{
    size_t be_size = vtpm_backend_buffer_size(c->be);

    if (be_size < VTPM_TPM_HDR_SIZE || be_size > VTPM_CRB_BUFFER_SIZE) {
        be_size = VTPM_CRB_BUFFER_SIZE;
    }
    c->buffer_size = (uint16_t)be_size;
    c->active = NO_LOCALITY;
    c->owner = NO_LOCALITY;
    c->requests = 0;
    c->seized = 0;
    c->idle = true;
    c->fatal = false;
    c->cancel = false;
    c->start = false;
    c->discard = false;
    c->req = 0;
    c->inte = 0;
    c->ints = 0;
    memset(c->buffer, 0, sizeof(c->buffer));
}

int vtpm_crb_create(const struct vtpm_crb_config *cfg, struct vtpm_backend *be,
                    struct vtpm_crb **out)
{
    if (!cfg || !be || !be->ops || !be->ops->deliver || !out) {
        return -EINVAL;
    }
    struct vtpm_crb *c = calloc(1, sizeof(*c));
    if (!c) {
        return -ENOMEM;
    }
    c->cfg = *cfg;
    if (c->cfg.did_vid == 0) {
        c->cfg.did_vid = VTPM_CRB_DEFAULT_DID_VID;
    }
    c->be = be;
    crb_init_registers(c);
    *out = c;
    return 0;
}

void vtpm_crb_destroy(struct vtpm_crb *c)
{
    free(c);
}

int vtpm_crb_reset(struct vtpm_crb *c)
{
    if (c->start) {
        vtpm_backend_cancel(c->be);
    }
    /* The backend's reset also ends (or drops) a command still running. */
    int rc = vtpm_backend_reset(c->be);
    crb_init_registers(c);
    crb_update_irq(c);
    return rc;
}

bool vtpm_crb_busy(const struct vtpm_crb *c)
{
    return c->start;
}

/* ---------------------------------------------------------------------------
 * Save / restore. Layout (version 1, big-endian):
 *   be32 "VCRB", be16 version,
 *   u8 active locality (0xFF none), u8 buffer owner (0xFF none),
 *   u8 waiting requests (bit per locality), u8 beenSeized (bit per locality),
 *   u8 control flags (bit 0 tpmSts, bit 1 tpmIdle, bit 2 Cancel), u8 0,
 *   be32 INT_ENABLE, be32 INT_STS, be16 buffer size,
 *   the whole data buffer (VTPM_CRB_BUFFER_SIZE bytes).
 */

static_assert(VTPM_CRB_STATE_MAX == 4 + 2 + 6 + 4 + 4 + 2 + VTPM_CRB_BUFFER_SIZE,
              "VTPM_CRB_STATE_MAX matches the version 1 layout");

long vtpm_crb_save(const struct vtpm_crb *c, uint8_t *buf, size_t cap)
{
    struct vtpm_writer w;

    if (vtpm_crb_busy(c)) {
        return -EBUSY;
    }
    vtpm_writer_init(&w, buf, cap);
    vtpm_dev_state_write_header(&w, STATE_MAGIC, VTPM_CRB_STATE_VERSION);
    vtpm_write_u8(&w, c->active);
    vtpm_write_u8(&w, c->owner);
    vtpm_write_u8(&w, c->requests);
    vtpm_write_u8(&w, c->seized);
    vtpm_write_u8(&w, (uint8_t)((c->fatal ? SAVED_FATAL : 0) | (c->idle ? SAVED_IDLE : 0) |
                                (c->cancel ? SAVED_CANCEL : 0)));
    vtpm_write_u8(&w, 0);
    vtpm_write_be32(&w, c->inte);
    vtpm_write_be32(&w, c->ints);
    vtpm_write_be16(&w, c->buffer_size);
    vtpm_write_bytes(&w, c->buffer, sizeof(c->buffer));
    return w.err ? -ENOSPC : (long)w.pos;
}

static bool crb_locality_or_none(uint8_t l)
{
    return l < VTPM_CRB_LOCALITIES || l == NO_LOCALITY;
}

int vtpm_crb_restore(struct vtpm_crb *c, const uint8_t *buf, size_t len)
{
    struct vtpm_reader r;
    const uint8_t all = (uint8_t)((1u << VTPM_CRB_LOCALITIES) - 1);

    vtpm_reader_init(&r, buf, len);
    int hdr = vtpm_dev_state_read_header(&r, STATE_MAGIC, VTPM_CRB_STATE_VERSION);
    if (hdr < 0) {
        return hdr;
    }
    uint8_t active = vtpm_read_u8(&r);
    uint8_t owner = vtpm_read_u8(&r);
    uint8_t requests = vtpm_read_u8(&r);
    uint8_t seized = vtpm_read_u8(&r);
    uint8_t flags = vtpm_read_u8(&r);
    uint8_t pad = vtpm_read_u8(&r);
    uint32_t inte = vtpm_read_be32(&r);
    uint32_t ints = vtpm_read_be32(&r);
    uint16_t buffer_size = vtpm_read_be16(&r);
    const uint8_t *data = vtpm_read_bytes(&r, VTPM_CRB_BUFFER_SIZE);
    if (r.err || !data || vtpm_reader_left(&r) != 0 || !crb_locality_or_none(active) ||
        !crb_locality_or_none(owner) || (requests & ~all) != 0 || (seized & ~all) != 0 ||
        (active != NO_LOCALITY && (requests & (1u << active))) ||
        (flags & ~(SAVED_FATAL | SAVED_IDLE | SAVED_CANCEL)) != 0 || pad != 0 ||
        (inte & ~INT_ENABLE_WRITABLE) != 0 || (ints & ~VTPM_CRB_INT_ALL) != 0 ||
        buffer_size < VTPM_TPM_HDR_SIZE || buffer_size > VTPM_CRB_BUFFER_SIZE) {
        return -EINVAL;
    }
    c->active = active;
    c->owner = owner;
    c->requests = requests;
    c->seized = seized;
    c->fatal = (flags & SAVED_FATAL) != 0;
    c->idle = (flags & SAVED_IDLE) != 0;
    c->cancel = (flags & SAVED_CANCEL) != 0;
    c->start = false;
    c->discard = false;
    c->req = 0;
    c->inte = inte;
    c->ints = ints;
    c->buffer_size = buffer_size;
    memcpy(c->buffer, data, sizeof(c->buffer));
    crb_update_irq(c);
    return 0;
}
