/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interface-independent half of the reference driver: configuration, the
 * TCG timeout and duration tables, the error record, and dispatch to the
 * interface's ops (TIS and CRB: each one ops table and one row in
 * vtpm_driver_ifaces).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "driver_priv.h"

#define DEFAULT_POLL_US 500u

/* ---------------------------------------------------------------------------
 * Timeouts and durations (milliseconds)
 */

/*
 * TPM 1.2: the TIS 1.2 defaults (TIMEOUT_A/C/D 750 ms, B 2000 ms), which a
 * 1.2 TPM may override through TPM_CAP_PROP_TIS_TIMEOUT. TPM 2.0: PTP
 * Table 18, fixed values (A 750, B 2000, C 200, D 30).
 */
static const uint32_t timeouts_12[VTPM_DRIVER_TIMEOUT_COUNT] = {750, 2000, 750, 750};
static const uint32_t timeouts_20[VTPM_DRIVER_TIMEOUT_COUNT] = {750, 2000, 200, 30};

/*
 * TPM 1.2: the defaults drivers use before TPM_CAP_PROP_DURATION answers
 * (2 s, 20 s, 60 s); 1.2 has no LONG_LONG class, so key generation is LONG.
 * TPM 2.0: PTP's 20 ms / 750 ms / 2000 ms, plus two classes PTP does not
 * define but real chips need: key generation (which takes minutes on some
 * chips) and any command the table does not list.
 */
static const uint32_t durations_12[VTPM_DRIVER_DURATION_COUNT] = {2000, 20000, 60000, 60000, 20000};
static const uint32_t durations_20[VTPM_DRIVER_DURATION_COUNT] = {20, 750, 2000, 300000, 120000};

uint32_t vtpm_driver_default_timeout(enum vtpm_tpm_version version, enum vtpm_driver_timeout t)
{
    if ((unsigned)t >= VTPM_DRIVER_TIMEOUT_COUNT) {
        return 0;
    }
    switch (version) {
    case VTPM_TPM_VERSION_1_2:
        return timeouts_12[t];
    case VTPM_TPM_VERSION_2_0:
        return timeouts_20[t];
    }
    return 0;
}

uint32_t vtpm_driver_default_duration(enum vtpm_tpm_version version, enum vtpm_driver_duration dur)
{
    if ((unsigned)dur >= VTPM_DRIVER_DURATION_COUNT) {
        return 0;
    }
    switch (version) {
    case VTPM_TPM_VERSION_1_2:
        return durations_12[dur];
    case VTPM_TPM_VERSION_2_0:
        return durations_20[dur];
    }
    return 0;
}

struct code_class {
    uint32_t code;
    enum vtpm_driver_duration dur;
};

/*
 * TPM 2.0 command codes (Part 2 §6.5.2) with a class: those Linux's TPM driver
 * classifies, plus Shutdown, StirRandom, PCR_Read and GetTestResult by
 * analogy. Any other command gets DEFAULT.
 */
static const struct code_class classes_20[] = {
    {0x00000121, VTPM_DRIVER_DURATION_LONG},      /* HierarchyControl */
    {0x00000129, VTPM_DRIVER_DURATION_LONG},      /* HierarchyChangeAuth */
    {0x00000131, VTPM_DRIVER_DURATION_LONG_LONG}, /* CreatePrimary */
    {0x0000013E, VTPM_DRIVER_DURATION_MEDIUM},    /* SequenceComplete */
    {0x00000143, VTPM_DRIVER_DURATION_LONG},      /* SelfTest */
    {0x00000144, VTPM_DRIVER_DURATION_MEDIUM},    /* Startup */
    {0x00000145, VTPM_DRIVER_DURATION_MEDIUM},    /* Shutdown */
    {0x00000146, VTPM_DRIVER_DURATION_LONG},      /* StirRandom */
    {0x0000014E, VTPM_DRIVER_DURATION_LONG},      /* NV_Read */
    {0x00000153, VTPM_DRIVER_DURATION_LONG_LONG}, /* Create */
    {0x0000015C, VTPM_DRIVER_DURATION_MEDIUM},    /* SequenceUpdate */
    {0x00000177, VTPM_DRIVER_DURATION_LONG},      /* VerifySignature */
    {0x0000017A, VTPM_DRIVER_DURATION_MEDIUM},    /* GetCapability */
    {0x0000017B, VTPM_DRIVER_DURATION_LONG},      /* GetRandom */
    {0x0000017C, VTPM_DRIVER_DURATION_SHORT},     /* GetTestResult */
    {0x0000017E, VTPM_DRIVER_DURATION_MEDIUM},    /* PCR_Read */
    {0x00000182, VTPM_DRIVER_DURATION_MEDIUM},    /* PCR_Extend */
    {0x00000185, VTPM_DRIVER_DURATION_MEDIUM},    /* EventSequenceComplete */
    {0x00000186, VTPM_DRIVER_DURATION_MEDIUM},    /* HashSequenceStart */
    {0x00000191, VTPM_DRIVER_DURATION_LONG_LONG}, /* CreateLoaded */
};

/*
 * TPM 1.2 ordinals (Main Part 3) outside MEDIUM: the ones that only read or
 * flip a flag are SHORT, key generation and full self-tests are LONG.
 */
static const struct code_class classes_12[] = {
    {0x0000000D, VTPM_DRIVER_DURATION_LONG},  /* TPM_TakeOwnership (SRK generation) */
    {0x00000015, VTPM_DRIVER_DURATION_SHORT}, /* TPM_PCRRead */
    {0x0000001F, VTPM_DRIVER_DURATION_LONG},  /* TPM_CreateWrapKey */
    {0x00000046, VTPM_DRIVER_DURATION_SHORT}, /* TPM_GetRandom */
    {0x00000050, VTPM_DRIVER_DURATION_LONG},  /* TPM_SelfTestFull */
    {0x00000053, VTPM_DRIVER_DURATION_LONG},  /* TPM_ContinueSelfTest */
    {0x00000054, VTPM_DRIVER_DURATION_SHORT}, /* TPM_GetTestResult */
    {0x00000065, VTPM_DRIVER_DURATION_SHORT}, /* TPM_GetCapability */
    {0x0000006F, VTPM_DRIVER_DURATION_SHORT}, /* TPM_PhysicalEnable */
    {0x00000070, VTPM_DRIVER_DURATION_SHORT}, /* TPM_PhysicalDisable */
    {0x00000072, VTPM_DRIVER_DURATION_SHORT}, /* TPM_PhysicalSetDeactivated */
    {0x00000078, VTPM_DRIVER_DURATION_LONG},  /* TPM_CreateEndorsementKeyPair */
    {0x00000079, VTPM_DRIVER_DURATION_LONG},  /* TPM_MakeIdentity */
    {0x0000007F, VTPM_DRIVER_DURATION_LONG},  /* TPM_CreateRevocableEK */
    {0x00000099, VTPM_DRIVER_DURATION_SHORT}, /* TPM_Startup */
    {0x4000000A, VTPM_DRIVER_DURATION_SHORT}, /* TSC_PhysicalPresence */
};

static enum vtpm_driver_duration class_lookup(const struct code_class *t, size_t n, uint32_t code,
                                              enum vtpm_driver_duration dflt)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].code == code) {
            return t[i].dur;
        }
    }
    return dflt;
}

enum vtpm_driver_duration vtpm_driver_duration_class(enum vtpm_tpm_version version, uint32_t code)
{
    if (version == VTPM_TPM_VERSION_1_2) {
        return class_lookup(classes_12, sizeof(classes_12) / sizeof(classes_12[0]), code,
                            VTPM_DRIVER_DURATION_MEDIUM);
    }
    return class_lookup(classes_20, sizeof(classes_20) / sizeof(classes_20[0]), code,
                        VTPM_DRIVER_DURATION_DEFAULT);
}

uint32_t vtpm_driver_duration_ms(const struct vtpm_driver *d, uint32_t code)
{
    return d->cfg.duration_ms[vtpm_driver_duration_class(d->cfg.version, code)];
}

/* ---------------------------------------------------------------------------
 * Errors
 */

static const struct {
    const char *name;
    const char *text;
} err_info[VTPM_DRIVER_E_COUNT] = {
    [VTPM_DRIVER_OK] = {"OK", "success"},
    [VTPM_DRIVER_E_INVALID_ARG] = {"INVALID_ARG", "invalid driver configuration or argument"},
    [VTPM_DRIVER_E_BAD_COMMAND] = {"BAD_COMMAND",
                                   "the command is malformed: shorter than its 10-byte header "
                                   "or than its size field says"},
    [VTPM_DRIVER_E_BUS_ALL_ONES] = {"BUS_ALL_ONES",
                                    "the TPM's registers read all ones: the TPM is not "
                                    "responding on the bus; power-cycle it"},
    [VTPM_DRIVER_E_ACCESS_INVALID] = {"ACCESS_INVALID",
                                      "tpmRegValidSts (TIS ACCESS, CRB LOC_STATE) stayed 0: "
                                      "the TPM's registers never became valid"},
    [VTPM_DRIVER_E_LOCALITY_TIMEOUT] = {"LOCALITY_TIMEOUT",
                                        "the locality was not granted within TIMEOUT_A"},
    [VTPM_DRIVER_E_RELEASE_TIMEOUT] = {"RELEASE_TIMEOUT",
                                       "the locality stayed active after relinquish"},
    [VTPM_DRIVER_E_READY_TIMEOUT] = {"READY_TIMEOUT",
                                     "the TPM did not become ready for a command in time (TIS "
                                     "STS.commandReady, CRB CTRL_REQ.cmdReady)"},
    [VTPM_DRIVER_E_STS_VALID_TIMEOUT] = {"STS_VALID_TIMEOUT",
                                         "TPM_STS.stsValid not set within TIMEOUT_C"},
    [VTPM_DRIVER_E_BURST_TIMEOUT] = {"BURST_TIMEOUT", "TPM_STS.burstCount stayed 0"},
    [VTPM_DRIVER_E_EXPECT_EARLY] = {"EXPECT_EARLY",
                                    "TPM_STS.Expect cleared before the whole command was sent"},
    [VTPM_DRIVER_E_EXPECT_STUCK] = {"EXPECT_STUCK",
                                    "TPM_STS.Expect still set after the whole command was "
                                    "sent: the TPM still expects data"},
    [VTPM_DRIVER_E_EXEC_TIMEOUT] = {"EXEC_TIMEOUT",
                                    "the command did not finish within its duration (TIS "
                                    "STS.dataAvail, CRB CTRL_START)"},
    [VTPM_DRIVER_E_RSP_BAD_HEADER] = {"RSP_BAD_HEADER",
                                      "the response's size field is smaller than its header"},
    [VTPM_DRIVER_E_RSP_TOO_BIG] = {"RSP_TOO_BIG", "the response is larger than the receive buffer"},
    [VTPM_DRIVER_E_RSP_SHORT] = {"RSP_SHORT",
                                 "TPM_STS.dataAvail cleared before the response's last byte"},
    [VTPM_DRIVER_E_RSP_EXTRA] = {"RSP_EXTRA",
                                 "TPM_STS.dataAvail still set after the response's last byte"},
    [VTPM_DRIVER_E_TPM_FATAL] = {"TPM_FATAL",
                                 "CRB CTRL_STS.tpmSts is set: the TPM hit a fatal error; only "
                                 "a TPM reset clears it"},
    [VTPM_DRIVER_E_CMD_TOO_BIG] = {"CMD_TOO_BIG",
                                   "the command is larger than the CRB command buffer "
                                   "(CMD_SIZE)"},
    [VTPM_DRIVER_E_CRB_BUFFER] = {"CRB_BUFFER",
                                  "the CRB CMD/RSP address and size registers describe a buffer "
                                  "outside the locality's window"},
    [VTPM_DRIVER_E_IDLE_TIMEOUT] = {"IDLE_TIMEOUT",
                                    "CRB CTRL_REQ.goIdle not acted on within TIMEOUT_C"},
};

const char *vtpm_driver_strerror(enum vtpm_driver_err code)
{
    if ((unsigned)code >= VTPM_DRIVER_E_COUNT) {
        return "unknown driver error";
    }
    return err_info[code].text;
}

const char *vtpm_driver_err_name(enum vtpm_driver_err code)
{
    return (unsigned)code < VTPM_DRIVER_E_COUNT ? err_info[code].name : "?";
}

void drv_clear_error(struct vtpm_driver *d)
{
    memset(&d->err, 0, sizeof(d->err));
}

enum vtpm_driver_err drv_fail(struct vtpm_driver *d, enum vtpm_driver_err code, uint32_t offset,
                              uint32_t value, const char *fmt, ...)
{
    va_list ap;

    d->err.code = code;
    d->err.offset = offset;
    d->err.value = value;
    va_start(ap, fmt);
    vsnprintf(d->err.message, sizeof(d->err.message), fmt, ap);
    va_end(ap);
    return code;
}

const struct vtpm_driver_error *vtpm_driver_last_error(const struct vtpm_driver *d)
{
    return &d->err;
}

/* ---------------------------------------------------------------------------
 * Register access and time
 */

static void drv_trace(struct vtpm_driver *d, uint32_t offset, unsigned size, bool write,
                      uint32_t value)
{
    const struct vtpm_driver_io *io = &d->cfg.io;

    if (!io->trace) {
        return;
    }
    struct vtpm_driver_access a = {
        .time_ms = io->now_ms(io->ctx),
        .offset = offset,
        .size = (uint8_t)size,
        .write = write,
        .value = value,
    };
    io->trace(io->trace_opaque, &a);
}

uint32_t drv_read(struct vtpm_driver *d, uint32_t offset, unsigned size)
{
    uint32_t v = d->cfg.io.read(d->cfg.io.ctx, offset, size);

    drv_trace(d, offset, size, false, v);
    return v;
}

void drv_write(struct vtpm_driver *d, uint32_t offset, uint32_t value, unsigned size)
{
    drv_trace(d, offset, size, true, value);
    d->cfg.io.write(d->cfg.io.ctx, offset, value, size);
}

uint64_t drv_now(struct vtpm_driver *d)
{
    return d->cfg.io.now_ms(d->cfg.io.ctx);
}

void drv_pause(struct vtpm_driver *d)
{
    d->cfg.io.sleep_us(d->cfg.io.ctx, d->cfg.poll_us);
}

/* ---------------------------------------------------------------------------
 * Life cycle and dispatch
 */

static const struct vtpm_driver_ops *const vtpm_driver_ifaces[] = {
    &vtpm_driver_tis,
    &vtpm_driver_crb,
};

const struct vtpm_driver_ops *vtpm_driver_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(vtpm_driver_ifaces) / sizeof(vtpm_driver_ifaces[0]);
         i++) {
        if (strcmp(vtpm_driver_ifaces[i]->name, name) == 0) {
            return vtpm_driver_ifaces[i];
        }
    }
    return NULL;
}

enum vtpm_driver_err vtpm_driver_init(struct vtpm_driver *d, const struct vtpm_driver_config *cfg)
{
    if (!d || !cfg) {
        return VTPM_DRIVER_E_INVALID_ARG;
    }
    memset(d, 0, sizeof(*d));
    const struct vtpm_driver_io *io = &cfg->io;
    if (!cfg->iface || !cfg->iface->transmit || !io->read || !io->write || !io->now_ms ||
        !io->sleep_us || cfg->locality > 4 ||
        (cfg->version != VTPM_TPM_VERSION_1_2 && cfg->version != VTPM_TPM_VERSION_2_0)) {
        return drv_fail(d, VTPM_DRIVER_E_INVALID_ARG, 0, 0,
                        "driver configuration incomplete: an interface, read/write/now_ms/"
                        "sleep_us callbacks, a locality 0-4 and TPM family 1.2 or 2.0 are needed");
    }
    d->ops = cfg->iface;
    d->cfg = *cfg;
    for (unsigned i = 0; i < VTPM_DRIVER_TIMEOUT_COUNT; i++) {
        if (d->cfg.timeout_ms[i] == 0) {
            d->cfg.timeout_ms[i] = vtpm_driver_default_timeout(cfg->version, i);
        }
    }
    for (unsigned i = 0; i < VTPM_DRIVER_DURATION_COUNT; i++) {
        if (d->cfg.duration_ms[i] == 0) {
            d->cfg.duration_ms[i] = vtpm_driver_default_duration(cfg->version, i);
        }
    }
    if (d->cfg.poll_us == 0) {
        d->cfg.poll_us = DEFAULT_POLL_US;
    }
    return VTPM_DRIVER_OK;
}

enum vtpm_driver_err vtpm_driver_transmit(struct vtpm_driver *d, const uint8_t *cmd, size_t len,
                                          uint8_t *rsp, size_t cap, size_t *rsp_len)
{
    drv_clear_error(d);
    if (!d->ops || !cmd || !rsp || !rsp_len) {
        return drv_fail(d, VTPM_DRIVER_E_INVALID_ARG, 0, 0,
                        "transmit needs an initialised driver, a command, a response buffer "
                        "and a length pointer");
    }
    *rsp_len = 0;
    return d->ops->transmit(d, cmd, len, rsp, cap, rsp_len);
}

static enum vtpm_driver_err drv_dispatch(struct vtpm_driver *d,
                                         enum vtpm_driver_err (*op)(struct vtpm_driver *),
                                         const char *what)
{
    drv_clear_error(d);
    if (!op) {
        return drv_fail(d, VTPM_DRIVER_E_INVALID_ARG, 0, 0, "the %s interface has no %s",
                        d->ops ? d->ops->name : "(none)", what);
    }
    return op(d);
}

enum vtpm_driver_err vtpm_driver_request_locality(struct vtpm_driver *d)
{
    return drv_dispatch(d, d->ops ? d->ops->request_locality : NULL, "locality request");
}

enum vtpm_driver_err vtpm_driver_relinquish_locality(struct vtpm_driver *d)
{
    return drv_dispatch(d, d->ops ? d->ops->relinquish_locality : NULL, "locality release");
}

enum vtpm_driver_err vtpm_driver_recover(struct vtpm_driver *d)
{
    return drv_dispatch(d, d->ops ? d->ops->recover : NULL, "recovery");
}

enum vtpm_driver_err drv_cycle_locality(struct vtpm_driver *d)
{
    enum vtpm_driver_err rc = d->ops->relinquish_locality(d);

    if (!rc)
        rc = d->ops->request_locality(d);
    if (!rc)
        rc = d->ops->relinquish_locality(d);
    return rc;
}
