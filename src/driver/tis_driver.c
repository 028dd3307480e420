/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference driver for the TIS / PTP FIFO interface. One command is:
 *
 *   locality   ACCESS.tpmRegValidSts, then requestUse until activeLocality
 *                                                              (TIMEOUT_A)
 *   ready      STS.commandReady, written then awaited          (TIMEOUT_B)
 *   send       burstCount-sized chunks but the last byte, Expect checked
 *              (with stsValid) after each chunk                (TIMEOUT_C);
 *              the last byte alone, then Expect must be 0
 *   execute    tpmGo, then dataAvail and stsValid     (the command's duration)
 *   receive    the 10-byte header, then the body, by burstCount; dataAvail
 *              must clear with the last byte                   (TIMEOUT_C)
 *   finish     commandReady (back to Idle), relinquish the locality
 *
 * burstCount waits use TIMEOUT_D on TPM 1.2 (TIS 1.2) and TIMEOUT_A on TPM
 * 2.0: PTP's TIMEOUT_D (30 ms) is shorter than real chips need, which is
 * why Linux's tpm_tis_core waits TIMEOUT_A there too.
 *
 * A status read of all ones (TIS: the low byte 0xff, which no valid state
 * shows, since reserved bit 0 reads 0 and commandReady, tpmGo, dataAvail
 * and Expect are never all set) never satisfies a wait; when a wait runs
 * out on it, the failure is VTPM_DRIVER_E_BUS_ALL_ONES, not a timeout.
 */

#include "driver_priv.h"
#include "util/buf.h"
#include "vtpm/tis.h"

#define TPM_HDR_SIZE 10u

static uint32_t tis_reg(const struct vtpm_driver *d, uint32_t reg)
{
    return ((uint32_t)d->cfg.locality << VTPM_TIS_LOCALITY_SHIFT) | reg;
}

static bool sts_all_ones(uint32_t sts)
{
    return (sts & 0xFFu) == 0xFFu;
}

/* Bit 6 of ACCESS is reserved and reads 0; 0xff is the bus, not the TPM. */
static bool access_all_ones(uint32_t access)
{
    return access == 0xFFu;
}

static uint32_t sts_burst(uint32_t sts)
{
    return (sts & VTPM_TIS_STS_burstCount_MASK) >> VTPM_TIS_STS_burstCount_SHIFT;
}

static uint32_t elapsed_ms(struct vtpm_driver *d, uint64_t start)
{
    uint64_t now = drv_now(d);
    return now > start ? (uint32_t)(now - start) : 0;
}

/* ---------------------------------------------------------------------------
 * Waits. Each polls one register until a condition holds or its timeout
 * passes, and leaves the last raw value and the time waited behind.
 */

struct wait_result {
    uint32_t value;
    uint32_t waited_ms;
};

static bool wait_sts(struct vtpm_driver *d, uint32_t mask, uint32_t want, uint32_t timeout_ms,
                     struct wait_result *w)
{
    uint64_t start = drv_now(d);

    for (;;) {
        w->value = drv_read(d, tis_reg(d, VTPM_TIS_REG_STS), 4);
        w->waited_ms = elapsed_ms(d, start);
        if (!sts_all_ones(w->value) && (w->value & mask) == want) {
            return true;
        }
        if (w->waited_ms >= timeout_ms) {
            return false;
        }
        drv_pause(d);
    }
}

static bool wait_access(struct vtpm_driver *d, uint32_t mask, uint32_t want, uint32_t timeout_ms,
                        struct wait_result *w)
{
    uint64_t start = drv_now(d);

    for (;;) {
        w->value = drv_read(d, tis_reg(d, VTPM_TIS_REG_ACCESS), 1);
        w->waited_ms = elapsed_ms(d, start);
        if (!access_all_ones(w->value) && (w->value & mask) == want) {
            return true;
        }
        if (w->waited_ms >= timeout_ms) {
            return false;
        }
        drv_pause(d);
    }
}

static enum vtpm_driver_err fail_sts_all_ones(struct vtpm_driver *d, const struct wait_result *w,
                                              const char *waiting_for)
{
    d->err.waited_ms = w->waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_BUS_ALL_ONES, tis_reg(d, VTPM_TIS_REG_STS), w->value,
                    "TPM_STS_%u reads 0x%08x (all ones, status byte 0xff) for %u ms while "
                    "waiting for %s: the TPM is not responding on the bus; power-cycle it",
                    d->cfg.locality, w->value, w->waited_ms, waiting_for);
}

static enum vtpm_driver_err fail_access_all_ones(struct vtpm_driver *d, const struct wait_result *w,
                                                 const char *waiting_for)
{
    d->err.waited_ms = w->waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_BUS_ALL_ONES, tis_reg(d, VTPM_TIS_REG_ACCESS), w->value,
                    "TPM_ACCESS_%u reads 0x%02x (all ones) for %u ms while waiting for %s: the "
                    "TPM is not responding on the bus; power-cycle it",
                    d->cfg.locality, w->value, w->waited_ms, waiting_for);
}

/* burstCount > 0, for `done` of `total` bytes sent (sending) or read. */
static enum vtpm_driver_err wait_burst(struct vtpm_driver *d, bool sending, size_t done,
                                       size_t total, uint32_t *burst)
{
    enum vtpm_driver_timeout t =
        d->cfg.version == VTPM_TPM_VERSION_1_2 ? VTPM_DRIVER_TIMEOUT_D : VTPM_DRIVER_TIMEOUT_A;
    uint32_t timeout_ms = d->cfg.timeout_ms[t];
    struct wait_result w;
    uint64_t start = drv_now(d);

    for (;;) {
        w.value = drv_read(d, tis_reg(d, VTPM_TIS_REG_STS), 4);
        w.waited_ms = elapsed_ms(d, start);
        if (!sts_all_ones(w.value) && sts_burst(w.value) > 0) {
            *burst = sts_burst(w.value);
            return VTPM_DRIVER_OK;
        }
        if (w.waited_ms >= timeout_ms) {
            break;
        }
        drv_pause(d);
    }
    d->err.done = done;
    d->err.total = total;
    if (sts_all_ones(w.value)) {
        return fail_sts_all_ones(d, &w, "burstCount");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_BURST_TIMEOUT, tis_reg(d, VTPM_TIS_REG_STS), w.value,
                    "burstCount stayed 0 for %u ms after %zu of %zu %s bytes (STS 0x%08x): the "
                    "TPM's FIFO %s; abort with commandReady",
                    w.waited_ms, done, total, sending ? "command" : "response", w.value,
                    sending ? "takes no more data" : "offers no data");
}

/* ---------------------------------------------------------------------------
 * Locality
 */

static enum vtpm_driver_err tis_request_locality(struct vtpm_driver *d)
{
    const uint32_t valid = VTPM_TIS_ACCESS_tpmRegValidSts;
    const uint32_t granted = valid | VTPM_TIS_ACCESS_activeLocality;
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_A];
    uint32_t off = tis_reg(d, VTPM_TIS_REG_ACCESS);
    struct wait_result w;

    if (!wait_access(d, valid, valid, timeout_ms, &w)) {
        if (access_all_ones(w.value)) {
            return fail_access_all_ones(d, &w, "tpmRegValidSts");
        }
        d->err.waited_ms = w.waited_ms;
        return drv_fail(d, VTPM_DRIVER_E_ACCESS_INVALID, off, w.value,
                        "TPM_ACCESS_%u.tpmRegValidSts stayed 0 for %u ms (ACCESS 0x%02x): the "
                        "TPM's registers never became valid; is a TPM at this address?",
                        d->cfg.locality, w.waited_ms, w.value);
    }
    if ((w.value & granted) == granted) {
        d->have_locality = true;
        return VTPM_DRIVER_OK;
    }
    drv_write(d, off, VTPM_TIS_ACCESS_requestUse, 1);
    if (!wait_access(d, granted, granted, timeout_ms, &w)) {
        if (access_all_ones(w.value)) {
            return fail_access_all_ones(d, &w, "activeLocality");
        }
        d->err.waited_ms = w.waited_ms;
        return drv_fail(d, VTPM_DRIVER_E_LOCALITY_TIMEOUT, off, w.value,
                        "locality %u not granted within %u ms (ACCESS 0x%02x%s): another "
                        "locality holds the TPM or the TPM ignores requestUse; relinquish and "
                        "request it again",
                        d->cfg.locality, timeout_ms, w.value,
                        (w.value & VTPM_TIS_ACCESS_pendingRequest) ? ", pendingRequest set" : "");
    }
    d->have_locality = true;
    return VTPM_DRIVER_OK;
}

static enum vtpm_driver_err tis_relinquish_locality(struct vtpm_driver *d)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_A];
    uint32_t off = tis_reg(d, VTPM_TIS_REG_ACCESS);
    struct wait_result w;

    /* TIS 1.3 TPM_ACCESS_x.activeLocality: writing 1 relinquishes the locality. */
    drv_write(d, off, VTPM_TIS_ACCESS_activeLocality, 1);
    d->have_locality = false;
    if (wait_access(d, VTPM_TIS_ACCESS_activeLocality, 0, timeout_ms, &w)) {
        return VTPM_DRIVER_OK;
    }
    if (access_all_ones(w.value)) {
        return fail_access_all_ones(d, &w, "the locality's release");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_RELEASE_TIMEOUT, off, w.value,
                    "locality %u still active %u ms after relinquishing it (ACCESS 0x%02x): the "
                    "TPM may still be executing a command; abort it with commandReady",
                    d->cfg.locality, w.waited_ms, w.value);
}

/* ---------------------------------------------------------------------------
 * One command
 */

static enum vtpm_driver_err tis_command_ready(struct vtpm_driver *d, const char *why)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_B];
    struct wait_result w;

    drv_write(d, tis_reg(d, VTPM_TIS_REG_STS), VTPM_TIS_STS_commandReady, 4);
    if (wait_sts(d, VTPM_TIS_STS_commandReady, VTPM_TIS_STS_commandReady, timeout_ms, &w)) {
        return VTPM_DRIVER_OK;
    }
    if (sts_all_ones(w.value)) {
        return fail_sts_all_ones(d, &w, "commandReady");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_READY_TIMEOUT, tis_reg(d, VTPM_TIS_REG_STS), w.value,
                    "commandReady not set within %u ms of requesting it %s (STS 0x%08x): the "
                    "TPM does not leave its current command; power-cycle it",
                    timeout_ms, why, w.value);
}

/* Waits for stsValid after `done` of `total` bytes moved; returns the status in *sts. */
static enum vtpm_driver_err wait_valid(struct vtpm_driver *d, bool sending, size_t done,
                                       size_t total, uint32_t *sts)
{
    uint32_t timeout_ms = d->cfg.timeout_ms[VTPM_DRIVER_TIMEOUT_C];
    struct wait_result w;
    bool ok = wait_sts(d, VTPM_TIS_STS_stsValid, VTPM_TIS_STS_stsValid, timeout_ms, &w);

    *sts = w.value;
    if (ok) {
        return VTPM_DRIVER_OK;
    }
    d->err.done = done;
    d->err.total = total;
    if (sts_all_ones(w.value)) {
        return fail_sts_all_ones(d, &w, "stsValid");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_STS_VALID_TIMEOUT, tis_reg(d, VTPM_TIS_REG_STS), w.value,
                    "stsValid not set within %u ms after %zu of %zu %s bytes (STS 0x%08x): the "
                    "TPM's status cannot be trusted; abort with commandReady",
                    timeout_ms, done, total, sending ? "command" : "response", w.value);
}

static enum vtpm_driver_err tis_send(struct vtpm_driver *d, const uint8_t *cmd, size_t len)
{
    uint32_t fifo = tis_reg(d, VTPM_TIS_REG_DATA_FIFO);
    uint32_t sts = drv_read(d, tis_reg(d, VTPM_TIS_REG_STS), 4);
    uint32_t burst;
    size_t sent = 0;
    enum vtpm_driver_err rc;

    if (sts_all_ones(sts) || !(sts & VTPM_TIS_STS_commandReady)) {
        rc = tis_command_ready(d, "before sending a command");
        if (rc) {
            return rc;
        }
    }
    /* All bytes but the last in burstCount-sized chunks, Expect checked after each. */
    while (sent < len - 1) {
        rc = wait_burst(d, true, sent, len, &burst);
        if (rc) {
            return rc;
        }
        size_t n = len - 1 - sent < burst ? len - 1 - sent : burst;
        for (size_t i = 0; i < n; i++) {
            drv_write(d, fifo, cmd[sent++], 1);
        }
        rc = wait_valid(d, true, sent, len, &sts);
        if (rc) {
            return rc;
        }
        if (!(sts & VTPM_TIS_STS_Expect)) {
            d->err.done = sent;
            d->err.total = len;
            return drv_fail(d, VTPM_DRIVER_E_EXPECT_EARLY, tis_reg(d, VTPM_TIS_REG_STS), sts,
                            "Expect cleared after %zu of %zu bytes (STS 0x%08x): the TPM took "
                            "the command as complete before its last byte; abort with "
                            "commandReady",
                            sent, len, sts);
        }
    }
    /* The last byte alone, so that Expect == 0 proves the TPM took the whole command. */
    rc = wait_burst(d, true, sent, len, &burst);
    if (rc) {
        return rc;
    }
    drv_write(d, fifo, cmd[sent++], 1);
    rc = wait_valid(d, true, sent, len, &sts);
    if (rc) {
        return rc;
    }
    if (sts & VTPM_TIS_STS_Expect) {
        d->err.done = sent;
        d->err.total = len;
        return drv_fail(d, VTPM_DRIVER_E_EXPECT_STUCK, tis_reg(d, VTPM_TIS_REG_STS), sts,
                        "Expect still set after %zu of %zu bytes (STS 0x%08x): the TPM wants more "
                        "data than the command holds (it stopped taking data after the header, "
                        "or lost bytes); abort with commandReady, power-cycle the TPM if it "
                        "repeats",
                        sent, len, sts);
    }
    return VTPM_DRIVER_OK;
}

static const char *duration_name(enum vtpm_driver_duration dur)
{
    static const char *const names[VTPM_DRIVER_DURATION_COUNT] = {"short", "medium", "long",
                                                                  "long-long", "default"};
    return (unsigned)dur < VTPM_DRIVER_DURATION_COUNT ? names[dur] : "?";
}

static enum vtpm_driver_err tis_execute(struct vtpm_driver *d, uint32_t code)
{
    const uint32_t done = VTPM_TIS_STS_stsValid | VTPM_TIS_STS_dataAvail;
    uint32_t timeout_ms = vtpm_driver_duration_ms(d, code);
    struct wait_result w;

    drv_write(d, tis_reg(d, VTPM_TIS_REG_STS), VTPM_TIS_STS_tpmGo, 4);
    if (wait_sts(d, done, done, timeout_ms, &w)) {
        return VTPM_DRIVER_OK;
    }
    if (sts_all_ones(w.value)) {
        return fail_sts_all_ones(d, &w, "dataAvail");
    }
    d->err.waited_ms = w.waited_ms;
    return drv_fail(d, VTPM_DRIVER_E_EXEC_TIMEOUT, tis_reg(d, VTPM_TIS_REG_STS), w.value,
                    "dataAvail not set within %u ms after tpmGo (STS 0x%08x; command 0x%08x, "
                    "%s duration): the TPM did not finish the command; abort it with "
                    "commandReady",
                    timeout_ms, w.value, code,
                    duration_name(vtpm_driver_duration_class(d->cfg.version, code)));
}

static enum vtpm_driver_err tis_receive(struct vtpm_driver *d, uint8_t *rsp, size_t cap,
                                        size_t *rsp_len)
{
    uint32_t fifo = tis_reg(d, VTPM_TIS_REG_DATA_FIFO);
    uint32_t sts_off = tis_reg(d, VTPM_TIS_REG_STS);
    size_t got = 0;
    size_t need = TPM_HDR_SIZE; /* the header first; then its size field says the rest */
    uint32_t sts, burst;
    enum vtpm_driver_err rc;

    while (got < need) {
        rc = wait_valid(d, false, got, need, &sts);
        if (rc) {
            return rc;
        }
        if (!(sts & VTPM_TIS_STS_dataAvail)) {
            d->err.done = got;
            d->err.total = need;
            return drv_fail(d, VTPM_DRIVER_E_RSP_SHORT, sts_off, sts,
                            "dataAvail cleared after %zu of %zu response bytes (STS 0x%08x): the "
                            "TPM sent less than %s",
                            got, need, sts,
                            need == TPM_HDR_SIZE ? "a response header" : "its header announced");
        }
        rc = wait_burst(d, false, got, need, &burst);
        if (rc) {
            return rc;
        }
        size_t n = need - got < burst ? need - got : burst;
        for (size_t i = 0; i < n; i++) {
            rsp[got++] = (uint8_t)drv_read(d, fifo, 1);
        }
        if (need == TPM_HDR_SIZE && got == TPM_HDR_SIZE) {
            uint32_t size = get_be32(rsp + 2);
            if (size < TPM_HDR_SIZE) {
                return drv_fail(d, VTPM_DRIVER_E_RSP_BAD_HEADER, fifo, size,
                                "response header says %u bytes, less than the 10-byte header "
                                "itself (tag 0x%04x, code 0x%08x): the response is garbage",
                                size, get_be16(rsp), get_be32(rsp + 6));
            }
            if (size > cap) {
                d->err.total = size;
                return drv_fail(d, VTPM_DRIVER_E_RSP_TOO_BIG, fifo, size,
                                "response header says %u bytes, more than the %zu-byte buffer "
                                "(tag 0x%04x, code 0x%08x)",
                                size, cap, get_be16(rsp), get_be32(rsp + 6));
            }
            need = size;
        }
    }
    /* dataAvail must clear with the last byte (TIS 1.3 §5.6.2, Completion). */
    rc = wait_valid(d, false, got, need, &sts);
    if (rc) {
        return rc;
    }
    if (sts & VTPM_TIS_STS_dataAvail) {
        d->err.done = got;
        d->err.total = need;
        return drv_fail(d, VTPM_DRIVER_E_RSP_EXTRA, sts_off, sts,
                        "dataAvail still set after all %zu response bytes (STS 0x%08x): the TPM "
                        "holds more data than its header says",
                        got, sts);
    }
    *rsp_len = got;
    return VTPM_DRIVER_OK;
}

static enum vtpm_driver_err tis_transmit(struct vtpm_driver *d, const uint8_t *cmd, size_t len,
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
        rc = tis_request_locality(d);
        if (rc) {
            return rc;
        }
    }
    rc = tis_send(d, cmd, len);
    if (rc) {
        return rc;
    }
    rc = tis_execute(d, get_be32(cmd + 6));
    if (rc) {
        return rc;
    }
    rc = tis_receive(d, rsp, cap, rsp_len);
    if (rc) {
        return rc;
    }
    /* Completion -> Idle (TIS 1.3 §5.6.2); the next command's commandReady is awaited then. */
    drv_write(d, tis_reg(d, VTPM_TIS_REG_STS), VTPM_TIS_STS_commandReady, 4);
    return took_locality ? tis_relinquish_locality(d) : VTPM_DRIVER_OK;
}

/*
 * Abort whatever the locality's interface is doing (commandReady), give the
 * locality back, then take it and give it back once more: if that works,
 * the interface is idle and answers.
 */
static enum vtpm_driver_err tis_recover(struct vtpm_driver *d)
{
    uint32_t access = drv_read(d, tis_reg(d, VTPM_TIS_REG_ACCESS), 1);
    enum vtpm_driver_err rc;

    if (!access_all_ones(access) && (access & VTPM_TIS_ACCESS_activeLocality)) {
        rc = tis_command_ready(d, "to abort the failed command");
        if (rc) {
            return rc;
        }
    }
    return drv_cycle_locality(d);
}

const struct vtpm_driver_ops vtpm_driver_tis = {
    .name = "tis",
    .request_locality = tis_request_locality,
    .relinquish_locality = tis_relinquish_locality,
    .transmit = tis_transmit,
    .recover = tis_recover,
};
