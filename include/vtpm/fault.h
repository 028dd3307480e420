/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection: a TPM that misbehaves like real silicon, on purpose.
 *
 * A fault is an effect plus a trigger, written as an option string:
 *
 *     EFFECT[=V][,PARAM=V...][,cmd=C][,locality=L][,nth=N][,count=K]
 *           [,probability=P][,seed=S]
 *
 * where "EFFECT=V" is short for the effect's parameter ("stall=12" is
 * "stall,after=12"; rc= takes its code only this way), e.g.
 * "stall,after=10", "rc=retry,cmd=PCR_Extend,nth=3",
 * "delay,ms=2500,probability=0.25,seed=7", or a named scenario that
 * reproduces one of the seed reports: "scenario=esxi-stall-after-header".
 *
 * Effects act at one of two depths (ARCHITECTURE.md): the register level
 * (the TIS/CRB device models: what a driver sees on the bus) or the engine
 * level (vtpmd and the backends: what any client sees in the response).
 *
 * Triggers are checked once per command, at the point where the consumer
 * (a device model, the daemon's data path) asks, with what it knows of the
 * command then: its ordinal (unless no header has arrived yet) and the
 * locality. A fault "matches" a command when its cmd= and locality= filters
 * accept it; of the matching commands, the first nth-1 are let through,
 * then the fault fires on the following ones, at most `count` times
 * (count=0: without end; the default is 1 when nth= is given and 0 when it
 * is not), each time with the given probability (a seeded generator, so a
 * run is reproducible from its seed).
 *
 * Pure: no I/O, no allocation, no locking (the consumer serialises calls on
 * one set, e.g. under its device lock).
 */
#ifndef VTPM_FAULT_H
#define VTPM_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

enum vtpm_fault_effect {
    VTPM_FAULT_NONE = 0,
    /* Register level (device models) */
    VTPM_FAULT_STALL,           /* after=N bytes (10): Expect stays set, later bytes dropped */
    VTPM_FAULT_ALL_ONES,        /* every register reads all ones until reset: the chip is gone */
    VTPM_FAULT_NO_DATA_AVAIL,   /* the command runs, but dataAvail never rises */
    VTPM_FAULT_IGNORE_GO,       /* TIS tpmGo is dropped: the command never starts */
    VTPM_FAULT_BURST_ZERO,      /* burstCount reads 0 while the FIFO is open */
    VTPM_FAULT_NO_LOCALITY,     /* requestUse / CRB requestAccess is never granted */
    VTPM_FAULT_CORRUPT,         /* offset=N (last byte), xor=M (0x01): one response byte flipped */
    VTPM_FAULT_CRB_START_STUCK, /* CRB CTRL_START stays 1: the command never completes */
    VTPM_FAULT_CRB_FATAL,       /* CRB CTRL_STS.tpmSts (fatal error) set */
    /* Engine level (vtpmd, backends) */
    VTPM_FAULT_DELAY,        /* ms=N: the response comes N ms late */
    VTPM_FAULT_HANG,         /* no response until the command is cancelled or the TPM reset */
    VTPM_FAULT_CLOSE,        /* the connection is closed instead of answering */
    VTPM_FAULT_RC,           /* rc=retry|testing|failure|NUMBER: answered with that code */
    VTPM_FAULT_LOSE_STARTUP, /* TPM_Init behind the client's back: the command gets 0x26 / 0x100 */
    VTPM_FAULT_TRUNCATE,     /* len=N (6): only the first N response bytes are sent */
    VTPM_FAULT_OVERSIZE,     /* extra=N (16): N bytes beyond the response's own size */
    VTPM_FAULT_EFFECT_COUNT,
};

enum vtpm_fault_level {
    VTPM_FAULT_LEVEL_REGISTER = 1,
    VTPM_FAULT_LEVEL_ENGINE = 2,
};

/* The rc= effect's symbolic codes; a NUMBER is sent as written. */
enum vtpm_fault_rc {
    VTPM_FAULT_RC_NUMBER = 0,
    VTPM_FAULT_RC_RETRY,   /* TPM_RC_RETRY 0x922 / TPM_RETRY 0x800 */
    VTPM_FAULT_RC_TESTING, /* TPM_RC_TESTING 0x90A / TPM_DOING_SELFTEST 0x802 */
    VTPM_FAULT_RC_FAILURE, /* TPM_RC_FAILURE 0x101 / TPM_FAILEDSELFTEST 0x1C */
};

#define VTPM_FAULT_ANY_LOCALITY 0xFFu

struct vtpm_fault {
    enum vtpm_fault_effect effect;
    /* Trigger */
    bool has_cmd;
    uint32_t cmd;             /* command code / ordinal, when has_cmd */
    uint8_t locality;         /* VTPM_FAULT_ANY_LOCALITY or 0-4 */
    uint32_t nth;             /* fire from the nth matching command on (>= 1) */
    uint32_t count;           /* fire at most this often; 0: without end */
    uint32_t probability_ppm; /* 1000000: always */
    uint64_t seed;
    /* Effect parameter: after= / ms= / len= / extra= / offset=; rc= in rc_kind + value */
    uint32_t value;
    uint32_t xor_mask; /* corrupt: the bits flipped */
    enum vtpm_fault_rc rc_kind;
    /* Runtime */
    uint32_t matched; /* matching commands seen */
    uint32_t fired;   /* times the fault fired */
    uint64_t rng;
};

/* What a consumer knows of a command when it checks the triggers. */
struct vtpm_fault_cmd {
    bool has_ordinal; /* false before a header has arrived */
    uint32_t ordinal;
    uint8_t locality;
};

/* Effect names as written in specs ("stall", "all-ones", ...), and back. */
const char *vtpm_fault_effect_name(enum vtpm_fault_effect e);
enum vtpm_fault_level vtpm_fault_effect_level(enum vtpm_fault_effect e);
/* A one-line description of what the effect does, for --help and listings. */
const char *vtpm_fault_effect_help(enum vtpm_fault_effect e);

/*
 * Parses one spec (not a scenario) into f with its runtime fields reset.
 * Returns 0, or -EINVAL with a message naming the bad item in err (always
 * NUL-terminated when errlen > 0).
 */
int vtpm_fault_parse(const char *spec, struct vtpm_fault *f, char *err, size_t errlen);

/* Writes f's canonical spec (parse of it gives f back). Returns the length snprintf would. */
int vtpm_fault_format(const struct vtpm_fault *f, char *buf, size_t cap);

/* The response code the rc= effect sends for a TPM of `version`. */
uint32_t vtpm_fault_rc_code(const struct vtpm_fault *f, enum vtpm_tpm_version version);

/*
 * Named scenarios reproducing the seed reports. Each has one spec per
 * level: the register-level one for device models, the engine-level one
 * for vtpmd (so it reaches a guest through QEMU's own device model).
 */
struct vtpm_fault_scenario {
    const char *name;
    const char *register_spec; /* NULL: none at this level */
    const char *engine_spec;
    const char *summary;  /* what the seed saw */
    const char *recovery; /* what brings the TPM back */
};
const struct vtpm_fault_scenario *vtpm_fault_scenario_find(const char *name);
/* The table, NULL-name terminated. */
const struct vtpm_fault_scenario *vtpm_fault_scenarios(void);

/* A set of active faults, in the order they were added. */
#define VTPM_FAULT_SET_MAX 16u
struct vtpm_fault_set {
    struct vtpm_fault faults[VTPM_FAULT_SET_MAX];
    uint32_t ids[VTPM_FAULT_SET_MAX]; /* stable ids for listing and clearing, from 1 */
    size_t count;
    uint32_t next_id;
};

void vtpm_fault_set_init(struct vtpm_fault_set *s);
/* Adds a copy of f (runtime fields reset). Returns its id (> 0) or -ENOSPC. */
long vtpm_fault_set_add(struct vtpm_fault_set *s, const struct vtpm_fault *f);
/*
 * Parses `spec` and adds it; "scenario=NAME" adds the scenario's spec for
 * `level` (-ENOENT with a message when the scenario has none at that level).
 * Returns the id, -EINVAL / -ENOENT / -ENOSPC with a message in err.
 */
long vtpm_fault_set_add_spec(struct vtpm_fault_set *s, const char *spec,
                             enum vtpm_fault_level level, char *err, size_t errlen);
/* Removes the fault with `id` (0: all). Returns 0 or -ENOENT. */
int vtpm_fault_set_clear(struct vtpm_fault_set *s, uint32_t id);

/*
 * Checks the triggers of the faults whose effect is in `effects` (a mask of
 * (1u << effect) bits) against one command, counting it for each fault it
 * matches. Returns the first fault that fires, or NULL. Call it once per
 * command for a given mask: each call counts.
 */
struct vtpm_fault *vtpm_fault_set_check(struct vtpm_fault_set *s, uint32_t effects,
                                        const struct vtpm_fault_cmd *cmd);

/* The first fault in `effects` that has no trigger at all (always on), or NULL. */
struct vtpm_fault *vtpm_fault_set_always(struct vtpm_fault_set *s, uint32_t effects);

#define VTPM_FAULT_BIT(e) (1u << (e))
#define VTPM_FAULT_REGISTER_EFFECTS                                                                \
    (VTPM_FAULT_BIT(VTPM_FAULT_STALL) | VTPM_FAULT_BIT(VTPM_FAULT_ALL_ONES) |                      \
     VTPM_FAULT_BIT(VTPM_FAULT_NO_DATA_AVAIL) | VTPM_FAULT_BIT(VTPM_FAULT_IGNORE_GO) |             \
     VTPM_FAULT_BIT(VTPM_FAULT_BURST_ZERO) | VTPM_FAULT_BIT(VTPM_FAULT_NO_LOCALITY) |              \
     VTPM_FAULT_BIT(VTPM_FAULT_CORRUPT) | VTPM_FAULT_BIT(VTPM_FAULT_CRB_START_STUCK) |             \
     VTPM_FAULT_BIT(VTPM_FAULT_CRB_FATAL))
#define VTPM_FAULT_ENGINE_EFFECTS                                                                  \
    (VTPM_FAULT_BIT(VTPM_FAULT_DELAY) | VTPM_FAULT_BIT(VTPM_FAULT_HANG) |                          \
     VTPM_FAULT_BIT(VTPM_FAULT_CLOSE) | VTPM_FAULT_BIT(VTPM_FAULT_RC) |                            \
     VTPM_FAULT_BIT(VTPM_FAULT_LOSE_STARTUP) | VTPM_FAULT_BIT(VTPM_FAULT_TRUNCATE) |               \
     VTPM_FAULT_BIT(VTPM_FAULT_OVERSIZE))

#endif
