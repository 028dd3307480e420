/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference driver for the PTP CRB interface (TPM 2.0 only). One
 * command is:
 *
 *   locality   LOC_STATE.tpmRegValidSts, then LOC_CTRL.requestAccess until
 *              LOC_STS.Granted and LOC_STATE.locAssigned with
 *              activeLocality == ours                          (TIMEOUT_A)
 *   ready      CTRL_STS.tpmSts checked (fatal error), CTRL_REQ.cmdReady
 *              written, then cmdReady and CTRL_STS.tpmIdle must clear
 *                                                              (TIMEOUT_C)
 *   send       the command into the buffer CMD_LADDR names, after checking
 *              it fits CMD_SIZE; CTRL_CANCEL cleared
 *   execute    CTRL_START = 1, then Start must clear (the command's duration);
 *              CTRL_STS.tpmSts checked again
 *   receive    the 10-byte header from RSP_ADDR, its size checked against
 *              RSP_SIZE and the caller's buffer, then the body
 *   finish     CTRL_REQ.goIdle until it clears and tpmIdle sets (TIMEOUT_C),
 *              LOC_CTRL.Relinquish until Granted clears        (TIMEOUT_A)
 *
 * PTP 1.03 gives TIMEOUT_C for the TPM to act on cmdReady and goIdle;
 * Linux's tpm_crb waits TIMEOUT_C there too.
 *
 * Every CRB register has reserved bits that read 0 (LOC_STATE bits 6:5,
 * LOC_STS and CTRL_STS bits 31:2, CTRL_REQ and CTRL_START the high ones),
 * so a read of all ones is the bus, never the TPM: it never satisfies a
 * wait, and a wait that runs out on it fails as VTPM_DRIVER_E_BUS_ALL_ONES.
 *
 * The driver reaches only the interface's register windows, so the buffer
 * CMD_LADDR / RSP_ADDR name must lie inside the locality's own 4 KiB window
 * (at 0x80 on every known CRB); its offset there is the address's low 12 bits.
 */

#include "driver_priv.h"
#include "util/buf.h"
#include "vtpm/crb.h"

#define TPM_HDR_SIZE 10u
#define ALL_ONES 0xFFFFFFFFu
#define WINDOW_MASK ((1u << VTPM_CRB_LOCALITY_SHIFT) - 1u)

static uint32_t crb_reg(const struct vtpm_driver *d, uint32_t reg)
{
    return ((uint32_t)d->cfg.locality << VTPM_CRB_LOCALITY_SHIFT) | reg;
}

static uint32_t elapsed_ms(struct vtpm_driver *d, uint64_t start)
{
    uint64_t now = drv_now(d);
    return now > start ? (uint32_t)(now - start) : 0;
}

/* The spec's names of the registers the driver reads (the driver links no device model). */
static const char *reg_name(uint32_t reg)
{
    switch (reg) {
    case VTPM_CRB_REG_LOC_STATE:
        return "LOC_STATE";
    case VTPM_CRB_REG_LOC_STS:
        return "LOC_STS";
    case VTPM_CRB_REG_CTRL_REQ:
        return "CTRL_REQ";
    case VTPM_CRB_REG_CTRL_STS:
        return "CTRL_STS";
    case VTPM_CRB_REG_CTRL_START:
        return "CTRL_START";
    case VTPM_CRB_REG_CMD_SIZE:
        return "CMD_SIZE";
    case VTPM_CRB_REG_CMD_LADDR:
        return "CMD_LADDR";
    case VTPM_CRB_REG_RSP_SIZE:
        return "RSP_SIZE";
    case VTPM_CRB_REG_RSP_ADDR:
        return "RSP_ADDR";
    }
    return "?";
}

/* ---------------------------------------------------------------------------
 * Waits: poll one register until (value & mask) == want or the timeout
 * passes; the last raw value and the time waited are left behind.
 */

struct wait_result {
    uint32_t value;
    uint32_t waited_ms;
};

static bool wait_reg(struct vtpm_driver *d, uint32_t reg, uint32_t mask, uint32_t want,
                     uint32_t timeout_ms, struct wait_result *w)
{
    uint64_t start = drv_now(d);

    for (;;) {
        w->value = drv_read(d, crb_reg(d, reg), 4);
        w->waited_ms = elapsed_ms(d, start);
        if (w->value != ALL_ONES && (w->value & mask) == want) {
            return true;
        }
        if (w->waited_ms >= timeout_ms) {
            return false;
        }
        drv_pause(d);
    }
}

static enum vtpm_driver_err fail_all_ones(struct vtpm_driver *d, uint32_t reg,
                                          const struct wait_result *w, const char *waiting_for)
{
    d->err.waited_ms = w->waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_BUS_ALL_ONES, crb_reg(d, reg), w->value,
                    "TPM_%s_%u reads 0x%08x (all ones) for %u ms while waiting for %s: the TPM "
                    "is not responding on the bus; power-cycle it",
                    reg_name(reg), d->cfg.locality, w->value, w->waited_ms, waiting_for);
}

/* CTRL_STS.tpmSts: the TPM hit a fatal error; nothing but a TPM reset clears it. */
static enum vtpm_driver_err check_fatal(struct vtpm_driver *d, const char *when)
{
    uint32_t sts = drv_read(d, crb_reg(d, VTPM_CRB_REG_CTRL_STS), 4);

    if (sts == ALL_ONES) {
        struct wait_result w = {sts, 0};
        return fail_all_ones(d, VTPM_CRB_REG_CTRL_STS, &w, "CTRL_STS");
    }
    if (!(sts & VTPM_CRB_CTRL_STS_tpmSts)) {
        return VTPM_DRIVER_OK;
    }
    return drv_fail(d, VTPM_DRIVER_E_TPM_FATAL, crb_reg(d, VTPM_CRB_REG_CTRL_STS), sts,
                    "TPM_CRB_CTRL_STS_%u reads 0x%08x %s: tpmSts is set, the TPM hit a fatal "
                    "error; only a TPM reset (power cycle) clears it",
                    d->cfg.locality, sts, when);
}

/* ---------------------------------------------------------------------------
 * Locality
 */

static bool holds_locality(const struct vtpm_driver *d, uint32_t loc_state)
{
    uint32_t active = (loc_state & VTPM_CRB_LOC_STATE_activeLocality_MASK) >>
                      VTPM_CRB_LOC_STATE_activeLocality_SHIFT;
    return loc_state != ALL_ONES && (loc_state & VTPM_CRB_LOC_STATE_locAssigned) &&
           active == d->cfg.locality;
}

static enum vtpm_driver_err crb_request_locality(struct vtpm_driver *d)
{
    const uint32_t valid = VTPM_CRB_LOC_STATE_tpmRegValidSts;
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_A];
    struct wait_result w;

    if (!wait_reg(d, VTPM_CRB_REG_LOC_STATE, valid, valid, timeout_ms, &w)) {
        if (w.value == ALL_ONES) {
            return fail_all_ones(d, VTPM_CRB_REG_LOC_STATE, &w, "tpmRegValidSts");
        }
        d->err.waited_ms = w.waited_ms;
        return drv_fail(d, VTPM_DRIVER_E_ACCESS_INVALID, crb_reg(d, VTPM_CRB_REG_LOC_STATE),
                        w.value,
                        "TPM_LOC_STATE_%u.tpmRegValidSts stayed 0 for %u ms (LOC_STATE 0x%08x): "
                        "the TPM's registers never became valid; is a CRB TPM at this address?",
                        d->cfg.locality, w.waited_ms, w.value);
    }
    drv_write(d, crb_reg(d, VTPM_CRB_REG_LOC_CTRL), VTPM_CRB_LOC_CTRL_requestAccess, 4);

    /* Granted in LOC_STS, and LOC_STATE agreeing that ours is the active locality. */
    uint64_t start = drv_now(d);
    uint32_t state, sts;
    for (;;) {
        sts = drv_read(d, crb_reg(d, VTPM_CRB_REG_LOC_STS), 4);
        state = drv_read(d, crb_reg(d, VTPM_CRB_REG_LOC_STATE), 4);
        w.waited_ms = elapsed_ms(d, start);
        if (sts != ALL_ONES && (sts & VTPM_CRB_LOC_STS_Granted) && holds_locality(d, state)) {
            d->have_locality = true;
            return VTPM_DRIVER_OK;
        }
        if (w.waited_ms >= timeout_ms) {
            break;
        }
        drv_pause(d);
    }
    if (sts == ALL_ONES || state == ALL_ONES) {
        bool sts_bad = sts == ALL_ONES;
        w.value = sts_bad ? sts : state;
        return fail_all_ones(d, sts_bad ? VTPM_CRB_REG_LOC_STS : VTPM_CRB_REG_LOC_STATE, &w,
                             "the locality grant");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_LOCALITY_TIMEOUT, crb_reg(d, VTPM_CRB_REG_LOC_STS), sts,
                    "locality %u not granted within %u ms (LOC_STS 0x%08x, LOC_STATE 0x%08x): "
                    "another locality holds the TPM or the TPM ignores requestAccess; "
                    "relinquish and request it again",
                    d->cfg.locality, timeout_ms, sts, state);
}

static enum vtpm_driver_err crb_relinquish_locality(struct vtpm_driver *d)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_A];
    struct wait_result w;

    drv_write(d, crb_reg(d, VTPM_CRB_REG_LOC_CTRL), VTPM_CRB_LOC_CTRL_Relinquish, 4);
    d->have_locality = false;
    if (wait_reg(d, VTPM_CRB_REG_LOC_STS, VTPM_CRB_LOC_STS_Granted, 0, timeout_ms, &w)) {
        return VTPM_DRIVER_OK;
    }
    if (w.value == ALL_ONES) {
        return fail_all_ones(d, VTPM_CRB_REG_LOC_STS, &w, "the locality's release");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_RELEASE_TIMEOUT, crb_reg(d, VTPM_CRB_REG_LOC_STS), w.value,
                    "locality %u still granted %u ms after relinquishing it (LOC_STS 0x%08x)",
                    d->cfg.locality, w.waited_ms, w.value);
}

/* ---------------------------------------------------------------------------
 * The data buffer: dword accesses, bytes for the tail
 */

static void buffer_write(struct vtpm_driver *d, uint32_t at, const uint8_t *src, size_t len)
{
    size_t i = 0;

    for (; i + 4 <= len; i += 4) {
        uint32_t v = (uint32_t)src[i] | (uint32_t)src[i + 1] << 8 | (uint32_t)src[i + 2] << 16 |
                     (uint32_t)src[i + 3] << 24;
        drv_write(d, crb_reg(d, at + (uint32_t)i), v, 4);
    }
    for (; i < len; i++) {
        drv_write(d, crb_reg(d, at + (uint32_t)i), src[i], 1);
    }
}

static void buffer_read(struct vtpm_driver *d, uint32_t at, uint8_t *dst, size_t len)
{
    size_t i = 0;

    for (; i + 4 <= len; i += 4) {
        uint32_t v = drv_read(d, crb_reg(d, at + (uint32_t)i), 4);
        for (unsigned b = 0; b < 4; b++) {
            dst[i + b] = (uint8_t)(v >> (8 * b));
        }
    }
    for (; i < len; i++) {
        dst[i] = (uint8_t)drv_read(d, crb_reg(d, at + (uint32_t)i), 1);
    }
}

/*
 * Where the buffer that address register `addr_reg` (and the size register
 * `size_reg`) describe lies in our window: *at, *size.
 */
static enum vtpm_driver_err locate_buffer(struct vtpm_driver *d, uint32_t addr_reg,
                                          uint32_t size_reg, uint32_t *at, uint32_t *size)
{
    uint32_t lo = drv_read(d, crb_reg(d, addr_reg), 4);
    uint32_t hi =
        drv_read(d,
                 crb_reg(d, addr_reg == VTPM_CRB_REG_CMD_LADDR ? VTPM_CRB_REG_CMD_HADDR
                                                               : VTPM_CRB_REG_RSP_ADDR + 4),
                 4);
    *size = drv_read(d, crb_reg(d, size_reg), 4);
    *at = lo & WINDOW_MASK;
    if (lo == ALL_ONES || *size == ALL_ONES) {
        struct wait_result w = {ALL_ONES, 0};
        return fail_all_ones(d, lo == ALL_ONES ? addr_reg : size_reg, &w, "the buffer's place");
    }
    if (hi != 0 || *at < VTPM_CRB_REG_DATA_BUFFER || *size < TPM_HDR_SIZE ||
        *at + *size > WINDOW_MASK + 1u) {
        return drv_fail(d, VTPM_DRIVER_E_CRB_BUFFER, crb_reg(d, addr_reg), lo,
                        "TPM_CRB_%s_%u reads 0x%08x:%08x with size %u: the buffer is not inside "
                        "locality %u's register window above 0x80, or is smaller than a "
                        "10-byte header",
                        reg_name(addr_reg), d->cfg.locality, hi, lo, *size, d->cfg.locality);
    }
    return VTPM_DRIVER_OK;
}

/* ---------------------------------------------------------------------------
 * One command
 */

/* PTP CRB Idle -> Ready: cmdReady clears once the TPM is ready, and so does tpmIdle. */
static enum vtpm_driver_err crb_cmd_ready(struct vtpm_driver *d)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_C];
    struct wait_result w;
    uint32_t reg = VTPM_CRB_REG_CTRL_REQ;

    drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_REQ), VTPM_CRB_CTRL_REQ_cmdReady, 4);
    bool ok = wait_reg(d, reg, VTPM_CRB_CTRL_REQ_cmdReady, 0, timeout_ms, &w);
    if (ok) {
        reg = VTPM_CRB_REG_CTRL_STS;
        ok = wait_reg(d, reg, VTPM_CRB_CTRL_STS_tpmIdle, 0, timeout_ms, &w);
    }
    if (ok) {
        return VTPM_DRIVER_OK;
    }
    if (w.value == ALL_ONES) {
        return fail_all_ones(d, reg, &w, "the TPM to become ready");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_READY_TIMEOUT, crb_reg(d, reg), w.value,
                    "TPM_CRB_%s_%u reads 0x%08x %u ms after CTRL_REQ.cmdReady (%s): the TPM "
                    "did not leave Idle; reset it",
                    reg_name(reg), d->cfg.locality, w.value, w.waited_ms,
                    reg == VTPM_CRB_REG_CTRL_REQ ? "cmdReady still set" : "tpmIdle still set");
}

/* PTP CRB Ready -> Idle: goIdle clears and tpmIdle sets. */
static enum vtpm_driver_err crb_go_idle(struct vtpm_driver *d)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_C];
    struct wait_result w;
    uint32_t reg = VTPM_CRB_REG_CTRL_REQ;

    drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_REQ), VTPM_CRB_CTRL_REQ_goIdle, 4);
    bool ok = wait_reg(d, reg, VTPM_CRB_CTRL_REQ_goIdle, 0, timeout_ms, &w);
    if (ok) {
        reg = VTPM_CRB_REG_CTRL_STS;
        ok = wait_reg(d, reg, VTPM_CRB_CTRL_STS_tpmIdle, VTPM_CRB_CTRL_STS_tpmIdle, timeout_ms, &w);
    }
    if (ok) {
        return VTPM_DRIVER_OK;
    }
    if (w.value == ALL_ONES) {
        return fail_all_ones(d, reg, &w, "the TPM to go idle");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_IDLE_TIMEOUT, crb_reg(d, reg), w.value,
                    "TPM_CRB_%s_%u reads 0x%08x %u ms after CTRL_REQ.goIdle (%s): the TPM did "
                    "not go idle",
                    reg_name(reg), d->cfg.locality, w.value, w.waited_ms,
                    reg == VTPM_CRB_REG_CTRL_REQ ? "goIdle still set" : "tpmIdle still clear");
}

static enum vtpm_driver_err crb_send(struct vtpm_driver *d, const uint8_t *cmd, size_t len)
{
    uint32_t at, size;
    enum vtpm_driver_err rc =
        locate_buffer(d, VTPM_CRB_REG_CMD_LADDR, VTPM_CRB_REG_CMD_SIZE, &at, &size);

    if (rc) {
        return rc;
    }
    if (len > size) {
        d->err.total = len;
        return drv_fail(d, VTPM_DRIVER_E_CMD_TOO_BIG, crb_reg(d, VTPM_CRB_REG_CMD_SIZE), size,
                        "the command is %zu bytes but TPM_CRB_CMD_SIZE_%u says the buffer "
                        "holds %u",
                        len, d->cfg.locality, size);
    }
    buffer_write(d, at, cmd, len);
    return VTPM_DRIVER_OK;
}

static const char *duration_name(enum vtpm_driver_duration dur)
{
    static const char *const names[VTPM_DRIVER_DURATION_COUNT] = {"short", "medium", "long",
                                                                  "long-long", "default"};
    return (unsigned)dur < VTPM_DRIVER_DURATION_COUNT ? names[dur] : "?";
}

static enum vtpm_driver_err crb_execute(struct vtpm_driver *d, uint32_t code)
{
    uint32_t timeout_ms = vtpm_driver_duration_ms(d, code);
    struct wait_result w;

    /* A Cancel left set would abort this command (Linux's tpm_crb clears it too). */
    drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_CANCEL), 0, 4);
    drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_START), VTPM_CRB_CTRL_START_Start, 4);
    if (wait_reg(d, VTPM_CRB_REG_CTRL_START, VTPM_CRB_CTRL_START_Start, 0, timeout_ms, &w)) {
        return check_fatal(d, "after the command");
    }
    if (w.value == ALL_ONES) {
        return fail_all_ones(d, VTPM_CRB_REG_CTRL_START, &w, "Start to clear");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_EXEC_TIMEOUT, crb_reg(d, VTPM_CRB_REG_CTRL_START), w.value,
                    "TPM_CRB_CTRL_START_%u still reads 0x%08x %u ms after Start (command 0x%08x, "
                    "%s duration %u ms): the TPM did not finish the command; cancel it with "
                    "CTRL_CANCEL",
                    d->cfg.locality, w.value, w.waited_ms, code,
                    duration_name(vtpm_driver_duration_class(d->cfg.version, code)), timeout_ms);
}

static enum vtpm_driver_err crb_receive(struct vtpm_driver *d, uint8_t *rsp, size_t cap,
                                        size_t *rsp_len)
{
    uint32_t at, size;
    enum vtpm_driver_err rc =
        locate_buffer(d, VTPM_CRB_REG_RSP_ADDR, VTPM_CRB_REG_RSP_SIZE, &at, &size);

    if (rc) {
        return rc;
    }
    buffer_read(d, at, rsp, TPM_HDR_SIZE);
    uint32_t len = get_be32(rsp + 2);
    if (len < TPM_HDR_SIZE || len > size) {
        return drv_fail(d, VTPM_DRIVER_E_RSP_BAD_HEADER, crb_reg(d, at + 2), len,
                        "response header says %u bytes (tag 0x%04x, code 0x%08x), outside "
                        "10..%u (TPM_CRB_RSP_SIZE_%u): the response is garbage",
                        len, get_be16(rsp), get_be32(rsp + 6), size, d->cfg.locality);
    }
    if (len > cap) {
        d->err.total = len;
        return drv_fail(d, VTPM_DRIVER_E_RSP_TOO_BIG, crb_reg(d, at + 2), len,
                        "response header says %u bytes, more than the %zu-byte buffer "
                        "(tag 0x%04x, code 0x%08x)",
                        len, cap, get_be16(rsp), get_be32(rsp + 6));
    }
    buffer_read(d, at + TPM_HDR_SIZE, rsp + TPM_HDR_SIZE, len - TPM_HDR_SIZE);
    *rsp_len = len;
    return VTPM_DRIVER_OK;
}

static enum vtpm_driver_err crb_transmit(struct vtpm_driver *d, const uint8_t *cmd, size_t len,
                                         uint8_t *rsp, size_t cap, size_t *rsp_len)
{
    enum vtpm_driver_err rc;

    if (len < TPM_HDR_SIZE || get_be32(cmd + 2) != len) {
        return drv_fail(d, VTPM_DRIVER_E_BAD_COMMAND, 0, len >= 6 ? get_be32(cmd + 2) : 0,
                        "the command is %zu bytes but its header says %u; a TPM command is at "
                        "least 10 bytes and its size field counts them all",
                        len, len >= 6 ? get_be32(cmd + 2) : 0);
    }
    if (cap < TPM_HDR_SIZE) {
        return drv_fail(d, VTPM_DRIVER_E_INVALID_ARG, 0, (uint32_t)cap,
                        "a %zu-byte response buffer cannot hold a 10-byte response header", cap);
    }
    bool took_locality = !d->have_locality;
    if (took_locality) {
        rc = crb_request_locality(d);
        if (rc) {
            return rc;
        }
    }
    rc = check_fatal(d, "before the command");
    if (rc) {
        return rc;
    }
    rc = crb_cmd_ready(d);
    if (rc) {
        return rc;
    }
    rc = crb_send(d, cmd, len);
    if (rc) {
        return rc;
    }
    rc = crb_execute(d, get_be32(cmd + 6));
    if (rc) {
        return rc;
    }
    rc = crb_receive(d, rsp, cap, rsp_len);
    if (rc) {
        return rc;
    }
    rc = crb_go_idle(d);
    if (rc) {
        return rc;
    }
    return took_locality ? crb_relinquish_locality(d) : VTPM_DRIVER_OK;
}

/*
 * Cancel a command still executing (CTRL_CANCEL until Start clears, within
 * TIMEOUT_B), send the TPM to Idle, give the locality back, then take it and
 * give it back once more: if that works, the interface is idle and answers.
 * A fatal error (tpmSts) survives all of this: it is reported, not hidden.
 */
static enum vtpm_driver_err crb_recover(struct vtpm_driver *d)
{
    uint32_t sts = drv_read(d, crb_reg(d, VTPM_CRB_REG_LOC_STS), 4);
    enum vtpm_driver_err rc;

    if (sts != ALL_ONES && (sts & VTPM_CRB_LOC_STS_Granted)) {
        uint32_t start = drv_read(d, crb_reg(d, VTPM_CRB_REG_CTRL_START), 4);
        if (start != ALL_ONES && (start & VTPM_CRB_CTRL_START_Start)) {
            uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_B];
            struct wait_result w;
            drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_CANCEL), VTPM_CRB_CTRL_CANCEL_Cancel, 4);
            bool stopped =
                wait_reg(d, VTPM_CRB_REG_CTRL_START, VTPM_CRB_CTRL_START_Start, 0, timeout_ms, &w);
            drv_write(d, crb_reg(d, VTPM_CRB_REG_CTRL_CANCEL), 0, 4);
            if (!stopped) {
                if (w.value == ALL_ONES) {
                    return fail_all_ones(d, VTPM_CRB_REG_CTRL_START, &w, "the cancel");
                }
                d->err.waited_ms = w.waited_ms;
                return drv_fail(d, VTPM_DRIVER_E_EXEC_TIMEOUT, crb_reg(d, VTPM_CRB_REG_CTRL_START),
                                w.value,
                                "TPM_CRB_CTRL_START_%u still reads 0x%08x %u ms after "
                                "CTRL_CANCEL: the TPM does not stop the command; reset it",
                                d->cfg.locality, w.value, w.waited_ms);
            }
        }
        rc = check_fatal(d, "during recovery");
        if (rc) {
            return rc;
        }
        rc = crb_go_idle(d);
        if (rc) {
            return rc;
        }
    }
    return drv_cycle_locality(d);
}

const struct vtpm_driver_ops vtpm_driver_crb = {
    .name = "crb",
    .request_locality = crb_request_locality,
    .relinquish_locality = crb_relinquish_locality,
    .transmit = crb_transmit,
    .recover = crb_recover,
};
