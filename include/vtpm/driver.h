/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference guest driver: sends one TPM command through a TPM interface
 * (TIS / PTP FIFO now, CRB later) the way a careful guest driver does, and
 * says in TPM terms what went wrong when the TPM misbehaves.
 *
 * It reaches the hardware only through an accessor (register read/write at
 * an offset from the interface base, e.g. 0xFED40000) and a clock (now_ms,
 * sleep_us), so the same code runs against a libvtpm device model on virtual
 * time in a unit test, against QEMU through qtest, or in a real guest.
 *
 * Every wait is bounded by its TCG timeout (TIMEOUT_A..D) or by the command's
 * duration class. Every failure returns a distinct vtpm_driver_err and fills
 * the driver's error record with a sentence that names what was seen and the
 * raw register value. vtpm_driver_recover() is the recovery a driver has:
 * abort with commandReady, relinquish the locality, re-request it.
 *
 * Not thread-safe: one driver, one caller at a time.
 */
#ifndef VTPM_DRIVER_H
#define VTPM_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

/* One register access, as the trace callback sees it (the value is what the driver saw). */
struct vtpm_driver_access {
    uint64_t time_ms; /* the accessor clock's now_ms() at the access */
    uint32_t offset;  /* from the interface base, locality window included */
    uint8_t size;     /* 1, 2 or 4 bytes */
    bool write;
    uint32_t value;
};

typedef void (*vtpm_driver_trace_fn)(void *opaque, const struct vtpm_driver_access *a);

/* How the driver reaches the TPM interface and the time. */
struct vtpm_driver_io {
    uint32_t (*read)(void *ctx, uint32_t offset, unsigned size);
    void (*write)(void *ctx, uint32_t offset, uint32_t value, unsigned size);
    uint64_t (*now_ms)(void *ctx); /* monotonic */
    void (*sleep_us)(void *ctx, uint32_t us);
    void *ctx;
    vtpm_driver_trace_fn trace; /* optional: every register access, in order */
    void *trace_opaque;
};

/* TCG timeouts (TIS 1.2 / PTP "TIMEOUT_x"), indexes into vtpm_driver_config.timeout_ms. */
enum vtpm_driver_timeout {
    VTPM_DRIVER_TIMEOUT_A = 0, /* locality: ACCESS.tpmRegValidSts, activeLocality */
    VTPM_DRIVER_TIMEOUT_B,     /* STS.commandReady after a commandReady write */
    VTPM_DRIVER_TIMEOUT_C,     /* STS.stsValid: Expect and dataAvail checks */
    VTPM_DRIVER_TIMEOUT_D,     /* STS.burstCount != 0 (TPM 1.2) */
    VTPM_DRIVER_TIMEOUT_COUNT,
};

/* How long a command may execute before dataAvail must be set. */
enum vtpm_driver_duration {
    VTPM_DRIVER_DURATION_SHORT = 0,
    VTPM_DRIVER_DURATION_MEDIUM,
    VTPM_DRIVER_DURATION_LONG,
    VTPM_DRIVER_DURATION_LONG_LONG, /* TPM 2.0 key generation */
    VTPM_DRIVER_DURATION_DEFAULT,   /* a TPM 2.0 command the table does not list */
    VTPM_DRIVER_DURATION_COUNT,
};

/* Each failure has its own code; 0 is success. */
enum vtpm_driver_err {
    VTPM_DRIVER_OK = 0,
    VTPM_DRIVER_E_INVALID_ARG,       /* bad configuration or arguments */
    VTPM_DRIVER_E_BAD_COMMAND,       /* the command is shorter than its header or than its size */
    VTPM_DRIVER_E_BUS_ALL_ONES,      /* ACCESS or STS read all ones for a whole timeout */
    VTPM_DRIVER_E_ACCESS_INVALID,    /* tpmRegValidSts stayed 0 for TIMEOUT_A */
    VTPM_DRIVER_E_LOCALITY_TIMEOUT,  /* the locality was not granted within TIMEOUT_A */
    VTPM_DRIVER_E_RELEASE_TIMEOUT,   /* activeLocality stayed set after relinquish */
    VTPM_DRIVER_E_READY_TIMEOUT,     /* TIS commandReady not set in TIMEOUT_B, CRB cmdReady in C */
    VTPM_DRIVER_E_STS_VALID_TIMEOUT, /* stsValid not set within TIMEOUT_C */
    VTPM_DRIVER_E_BURST_TIMEOUT,     /* burstCount stayed 0 */
    VTPM_DRIVER_E_EXPECT_EARLY,      /* Expect cleared before the last command byte */
    VTPM_DRIVER_E_EXPECT_STUCK,      /* Expect still set after the last command byte */
    VTPM_DRIVER_E_EXEC_TIMEOUT,      /* dataAvail / CRB Start not done in the duration */
    VTPM_DRIVER_E_RSP_BAD_HEADER,    /* the response's size field is below 10 */
    VTPM_DRIVER_E_RSP_TOO_BIG,       /* the response is larger than the caller's buffer */
    VTPM_DRIVER_E_RSP_SHORT,         /* dataAvail cleared before the response's last byte */
    VTPM_DRIVER_E_RSP_EXTRA,         /* dataAvail still set after the response's last byte */
    VTPM_DRIVER_E_TPM_FATAL,         /* CRB: CTRL_STS.tpmSts (fatal error) set */
    VTPM_DRIVER_E_CMD_TOO_BIG,       /* CRB: the command is larger than CMD_SIZE */
    VTPM_DRIVER_E_CRB_BUFFER,        /* CRB: CMD/RSP address or size unusable */
    VTPM_DRIVER_E_IDLE_TIMEOUT,      /* CRB: goIdle not done within TIMEOUT_C */
    VTPM_DRIVER_E_COUNT,
};

/* The evidence of the last failure. */
struct vtpm_driver_error {
    enum vtpm_driver_err code;
    uint32_t offset;    /* the register that showed it (from the interface base) */
    uint32_t value;     /* its raw value, as last read */
    uint32_t waited_ms; /* how long the driver waited, for timeouts */
    size_t done;        /* command bytes sent or response bytes read so far */
    size_t total;       /* of how many */
    char message[256];  /* one sentence for people: what was seen, the raw value, what to do */
};

struct vtpm_driver;

/*
 * One interface's implementation. All return a vtpm_driver_err and fill the
 * error record on failure; the public functions below dispatch through it.
 */
struct vtpm_driver_ops {
    const char *name; /* "tis", "crb" */
    enum vtpm_driver_err (*request_locality)(struct vtpm_driver *d);
    enum vtpm_driver_err (*relinquish_locality)(struct vtpm_driver *d);
    enum vtpm_driver_err (*transmit)(struct vtpm_driver *d, const uint8_t *cmd, size_t len,
                                     uint8_t *rsp, size_t cap, size_t *rsp_len);
    enum vtpm_driver_err (*recover)(struct vtpm_driver *d);
};

extern const struct vtpm_driver_ops vtpm_driver_tis;
extern const struct vtpm_driver_ops vtpm_driver_crb; /* TPM 2.0 only */

/* The interface named `name` ("tis", "crb"), or NULL. */
const struct vtpm_driver_ops *vtpm_driver_find(const char *name);

struct vtpm_driver_config {
    const struct vtpm_driver_ops *iface;
    enum vtpm_tpm_version version; /* picks the default timeouts and durations */
    uint8_t locality;              /* 0-4 */
    struct vtpm_driver_io io;
    /* Zero entries take the family's defaults (vtpm_driver_default_timeout/duration). */
    uint32_t timeout_ms[VTPM_DRIVER_TIMEOUT_COUNT];
    uint32_t duration_ms[VTPM_DRIVER_DURATION_COUNT];
    uint32_t poll_us; /* between two status reads; 0: 500 */
};

/* The driver's state; the caller owns the memory (no allocation). Read `err`, change nothing. */
struct vtpm_driver {
    const struct vtpm_driver_ops *ops;
    struct vtpm_driver_config cfg;
    bool have_locality; /* this driver was granted cfg.locality and has not relinquished it */
    struct vtpm_driver_error err;
};

/* Checks `cfg` and fills in the defaults. VTPM_DRIVER_OK or VTPM_DRIVER_E_INVALID_ARG. */
enum vtpm_driver_err vtpm_driver_init(struct vtpm_driver *d, const struct vtpm_driver_config *cfg);

/*
 * Sends `cmd` (its header's size field must equal `len`) and reads the
 * response into `rsp` (`cap` bytes), setting *rsp_len. If the driver does
 * not hold the locality, it takes it and gives it back at the end; a caller
 * that took it with vtpm_driver_request_locality() keeps it. *rsp_len is set
 * once the whole response is read, even if giving the locality back then
 * fails. After a failure the interface is left as the failure found it: call
 * vtpm_driver_recover() before the next command.
 */
enum vtpm_driver_err vtpm_driver_transmit(struct vtpm_driver *d, const uint8_t *cmd, size_t len,
                                          uint8_t *rsp, size_t cap, size_t *rsp_len);

/* Waits for the interface and requests cfg.locality; waits for the grant. */
enum vtpm_driver_err vtpm_driver_request_locality(struct vtpm_driver *d);

/* Gives cfg.locality back (ACCESS.activeLocality, write 1) and waits until it is released. */
enum vtpm_driver_err vtpm_driver_relinquish_locality(struct vtpm_driver *d);

/*
 * After a failed command: aborts it (commandReady), relinquishes the
 * locality, then re-requests and relinquishes it again to prove the
 * interface answers. VTPM_DRIVER_OK leaves the interface idle and free;
 * otherwise the error record says which step failed (when STS or ACCESS
 * read all ones, nothing short of a TPM power cycle helps).
 */
enum vtpm_driver_err vtpm_driver_recover(struct vtpm_driver *d);

/* The error record of the last failure (code VTPM_DRIVER_OK after a success). */
const struct vtpm_driver_error *vtpm_driver_last_error(const struct vtpm_driver *d);

/* A fixed sentence for `code` (without the raw values; see the error record for them). */
const char *vtpm_driver_strerror(enum vtpm_driver_err code);

/* The enumerator's name without prefix ("EXPECT_STUCK"), for logs and JSON; "?" if unknown. */
const char *vtpm_driver_err_name(enum vtpm_driver_err code);

/* The TCG defaults: TIS 1.2 for TPM 1.2, PTP for TPM 2.0; 0 for an unknown family or index. */
uint32_t vtpm_driver_default_timeout(enum vtpm_tpm_version version, enum vtpm_driver_timeout t);
uint32_t vtpm_driver_default_duration(enum vtpm_tpm_version version, enum vtpm_driver_duration dur);

/* The duration class of TPM 2.0 command code or TPM 1.2 ordinal `code`. */
enum vtpm_driver_duration vtpm_driver_duration_class(enum vtpm_tpm_version version, uint32_t code);

/* How long `d` lets command `code` execute, in ms (its class's configured duration). */
uint32_t vtpm_driver_duration_ms(const struct vtpm_driver *d, uint32_t code);

#endif
