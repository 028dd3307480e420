/* SPDX-License-Identifier: BSD-3-Clause */
/* Fault specifications: parse, format, scenarios, trigger evaluation (vtpm/fault.h). */
#include "vtpm/fault.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/names.h"
#include "util/optstr.h"

#define PPM 1000000u
#define DEFAULT_SEED 0x9E3779B97F4A7C15ull

/* TPM 2.0 Part 2 TPM_RC; TPM 1.2 Part 2 §16 return codes. */
#define TPM2_RC_RETRY 0x922u
#define TPM2_RC_TESTING 0x90Au
#define TPM2_RC_FAILURE 0x101u
#define TPM12_RETRY 0x800u
#define TPM12_DOING_SELFTEST 0x802u
#define TPM12_FAILEDSELFTEST 0x1Cu

/* What each effect is called, does, and which parameter key it takes. */
struct effect_info {
    const char *name;
    enum vtpm_fault_level level;
    const char *param; /* NULL: none */
    uint32_t param_default;
    const char *help;
};

static const struct effect_info effects[VTPM_FAULT_EFFECT_COUNT] = {
    [VTPM_FAULT_STALL] = {"stall", VTPM_FAULT_LEVEL_REGISTER, "after", 10,
                          "after N command bytes Expect stays set and further bytes are dropped"},
    [VTPM_FAULT_ALL_ONES] = {"all-ones", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                             "every register reads all ones until reset (chip gone from the bus)"},
    [VTPM_FAULT_NO_DATA_AVAIL] = {"no-data-avail", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                                  "the command runs but the response never shows"},
    [VTPM_FAULT_IGNORE_GO] = {"ignore-go", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                              "tpmGo is ignored: the command never starts"},
    [VTPM_FAULT_BURST_ZERO] = {"burst-zero", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                               "burstCount reads 0 while the FIFO is open"},
    [VTPM_FAULT_NO_LOCALITY] = {"no-locality", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                                "locality requests are never granted"},
    [VTPM_FAULT_CORRUPT] = {"corrupt", VTPM_FAULT_LEVEL_REGISTER, "offset", UINT32_MAX,
                            "one response byte (offset=N, default the last) is XORed with xor=M"},
    [VTPM_FAULT_CRB_START_STUCK] = {"crb-start-stuck", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                                    "CRB CTRL_START never clears"},
    [VTPM_FAULT_CRB_FATAL] = {"crb-fatal", VTPM_FAULT_LEVEL_REGISTER, NULL, 0,
                              "CRB CTRL_STS reports a fatal error"},
    [VTPM_FAULT_DELAY] = {"delay", VTPM_FAULT_LEVEL_ENGINE, "ms", 1000,
                          "the response is sent ms=N milliseconds late"},
    [VTPM_FAULT_HANG] = {"hang", VTPM_FAULT_LEVEL_ENGINE, NULL, 0,
                         "no response until the command is cancelled or the TPM reset"},
    [VTPM_FAULT_CLOSE] = {"close", VTPM_FAULT_LEVEL_ENGINE, NULL, 0,
                          "the connection is closed instead of answering"},
    [VTPM_FAULT_RC] =
        {"rc", VTPM_FAULT_LEVEL_ENGINE, NULL, 0,
         "answered with that code (rc=retry|testing|failure|NUMBER) without running it"},
    [VTPM_FAULT_LOSE_STARTUP] = {"lose-startup", VTPM_FAULT_LEVEL_ENGINE, NULL, 0,
                                 "the TPM is reset behind the client's back (needs Startup again)"},
    [VTPM_FAULT_TRUNCATE] = {"truncate", VTPM_FAULT_LEVEL_ENGINE, "len", 6,
                             "only the first len=N response bytes are sent"},
    [VTPM_FAULT_OVERSIZE] = {"oversize", VTPM_FAULT_LEVEL_ENGINE, "extra", 16,
                             "extra=N bytes follow the response"},
};

static const struct vtpm_fault_scenario scenarios[] = {
    {"esxi-stall-after-header", "stall,after=10", "hang",
     "the TPM takes the 10-byte header and no more: ESXi logs \"TpmWrite: still expects data "
     "after 12 bytes transfered\" and 0xbad0001",
     "a reset of the TPM (host reboot; CMD_INIT for vtpmd)"},
    {"sts-all-ones", "all-ones", "close",
     "TPM_STS reads 0xff: Linux logs \"invalid TPM_STS.x 0xff\" and \"Operation Timed out\"",
     "a platform reset brings the chip back; until then nothing answers"},
    {"timer-expired", "no-data-avail", "hang",
     "the command never completes: TrouSerS logs \"write to device /dev/tpm0 failed: Timer "
     "expired\"",
     "cancel the command (commandReady / CMD_CANCEL) or reset the TPM"},
    {"lost-startup", NULL, "lose-startup",
     "the TPM was reset behind the OS's back: TPM 1.2 answers 0x26 TPM_INVALID_POSTINIT, "
     "TPM 2.0 TPM_RC_INITIALIZE",
     "send TPM_Startup again (a reboot does it)"},
    {NULL, NULL, NULL, NULL, NULL},
};

const char *vtpm_fault_effect_name(enum vtpm_fault_effect e)
{
    return (unsigned)e < VTPM_FAULT_EFFECT_COUNT && effects[e].name ? effects[e].name : "none";
}

enum vtpm_fault_level vtpm_fault_effect_level(enum vtpm_fault_effect e)
{
    return (unsigned)e < VTPM_FAULT_EFFECT_COUNT ? effects[e].level : 0;
}

const char *vtpm_fault_effect_help(enum vtpm_fault_effect e)
{
    return (unsigned)e < VTPM_FAULT_EFFECT_COUNT && effects[e].help ? effects[e].help : "";
}

const struct vtpm_fault_scenario *vtpm_fault_scenarios(void)
{
    return scenarios;
}

const struct vtpm_fault_scenario *vtpm_fault_scenario_find(const char *name)
{
    for (const struct vtpm_fault_scenario *s = scenarios; s->name; s++) {
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Decimal or 0x-hex, no sign, within [0, max]. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0' || strchr(s, '-') || strchr(s, '+') || strchr(s, ' '))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end != '\0')
        return -EINVAL;
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

static int get_u32(const struct vtpm_optstr *o, const char *key, uint32_t max, uint32_t *out,
                   char *err, size_t errlen)
{
    const char *v = vtpm_optstr_get(o, key);
    uint64_t n;

    if (!v)
        return fail(err, errlen, "'%s' needs a value, as %s=N", key, key);
    int rc = parse_u64(v, max, &n);
    if (rc == -ERANGE)
        return fail(err, errlen, "'%s=%s' is out of range (at most %" PRIu32 ")", key, v, max);
    if (rc < 0)
        return fail(err, errlen, "'%s=%s' is not a number", key, v);
    *out = (uint32_t)n;
    return 0;
}

/* "0.25", "25%", "1": a probability, in parts per million. */
static int parse_probability(const char *v, uint32_t *ppm)
{
    size_t n = strlen(v);
    bool percent = n > 0 && v[n - 1] == '%';
    char *end;

    if (n == 0 || n > 32 || !(v[0] >= '0' && v[0] <= '9'))
        return -EINVAL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end != v + n - (percent ? 1 : 0))
        return -EINVAL;
    if (percent)
        d /= 100.0;
    if (!(d >= 0.0 && d <= 1.0))
        return -ERANGE;
    *ppm = (uint32_t)(d * PPM + 0.5);
    return 0;
}

static int parse_rc(const char *v, struct vtpm_fault *f)
{
    static const char *const names[] = {
        [VTPM_FAULT_RC_RETRY] = "retry",
        [VTPM_FAULT_RC_TESTING] = "testing",
        [VTPM_FAULT_RC_FAILURE] = "failure",
    };
    for (unsigned i = VTPM_FAULT_RC_RETRY; i <= VTPM_FAULT_RC_FAILURE; i++) {
        if (strcmp(v, names[i]) == 0) {
            f->rc_kind = i;
            return 0;
        }
    }
    uint64_t n;
    if (parse_u64(v, UINT32_MAX, &n) < 0 || n == 0)
        return -EINVAL;
    f->rc_kind = VTPM_FAULT_RC_NUMBER;
    f->value = (uint32_t)n;
    return 0;
}

static enum vtpm_fault_effect find_effect(const char *name)
{
    for (unsigned e = 1; e < VTPM_FAULT_EFFECT_COUNT; e++) {
        if (strcmp(effects[e].name, name) == 0)
            return e;
    }
    return VTPM_FAULT_NONE;
}

static int parse_trigger(const struct vtpm_optstr *o, struct vtpm_fault *f, char *err,
                         size_t errlen)
{
    const char *v;
    int rc;

    if ((v = vtpm_optstr_get(o, "cmd")) != NULL) {
        uint64_t n;
        if (vtpm_tpm_cmd_lookup(v, &f->cmd)) {
            f->has_cmd = true;
        } else if (parse_u64(v, UINT32_MAX, &n) == 0) {
            f->cmd = (uint32_t)n;
            f->has_cmd = true;
        } else {
            return fail(err, errlen,
                        "'cmd=%s' is neither a command code (0x182) nor a command name "
                        "(PCR_Extend, TPM_ORD_Extend)",
                        v);
        }
    } else if (vtpm_optstr_has(o, "cmd")) {
        return fail(err, errlen, "'cmd' needs a value, as cmd=PCR_Extend or cmd=0x182");
    }
    uint32_t loc = VTPM_FAULT_ANY_LOCALITY;
    if (vtpm_optstr_has(o, "locality") && (rc = get_u32(o, "locality", 4, &loc, err, errlen)) < 0)
        return rc;
    f->locality = (uint8_t)loc;
    if (vtpm_optstr_has(o, "nth")) {
        if ((rc = get_u32(o, "nth", UINT32_MAX, &f->nth, err, errlen)) < 0)
            return rc;
        if (f->nth == 0)
            return fail(err, errlen, "'nth=0': commands are counted from 1");
        f->count = 1;
    }
    if (vtpm_optstr_has(o, "count") &&
        (rc = get_u32(o, "count", UINT32_MAX, &f->count, err, errlen)) < 0)
        return rc;
    if (vtpm_optstr_has(o, "probability")) {
        v = vtpm_optstr_get(o, "probability");
        if (!v || parse_probability(v, &f->probability_ppm) < 0)
            return fail(err, errlen, "'probability=%s' is not a probability (0.25, 25%%, 1)",
                        v ? v : "");
    }
    if (vtpm_optstr_has(o, "seed")) {
        uint64_t s;
        v = vtpm_optstr_get(o, "seed");
        if (!v || parse_u64(v, UINT64_MAX, &s) < 0)
            return fail(err, errlen, "'seed=%s' is not a number", v ? v : "");
        f->seed = s;
    }
    return 0;
}

/* The effect's parameter: "EFFECT=V" as the first item, or its named key ("stall,after=12"). */
static int parse_param(const struct vtpm_optstr *o, struct vtpm_fault *f, char *err, size_t errlen)
{
    const struct effect_info *info = &effects[f->effect];
    const char *inline_value = o->items[0].value;
    uint64_t n;
    int rc;

    f->value = info->param_default;
    if (f->effect == VTPM_FAULT_RC) {
        if (!inline_value)
            return fail(err, errlen, "'rc' needs the code: rc=retry|testing|failure|NUMBER");
        if (parse_rc(inline_value, f) < 0)
            return fail(err, errlen, "'rc=%s' is not retry, testing, failure or a nonzero number",
                        inline_value);
        return 0;
    }
    if (f->effect == VTPM_FAULT_CORRUPT) {
        f->xor_mask = 0x01;
        if (vtpm_optstr_has(o, "xor") &&
            (rc = get_u32(o, "xor", 0xFF, &f->xor_mask, err, errlen)) < 0)
            return rc;
        if (f->xor_mask == 0)
            return fail(err, errlen, "'xor=0' would change nothing");
    }
    if (inline_value) {
        if (!info->param)
            return fail(err, errlen, "'%s' takes no value", info->name);
        if (vtpm_optstr_has(o, info->param))
            return fail(err, errlen, "'%s': the %s is given twice", info->name, info->param);
        rc = parse_u64(inline_value, UINT32_MAX - 1, &n);
        if (rc < 0)
            return fail(err, errlen, "'%s=%s' is %s", info->name, inline_value,
                        rc == -ERANGE ? "out of range" : "not a number");
        f->value = (uint32_t)n;
        return 0;
    }
    if (info->param && vtpm_optstr_has(o, info->param) &&
        (rc = get_u32(o, info->param, UINT32_MAX - 1, &f->value, err, errlen)) < 0)
        return rc;
    return 0;
}

static void reset_runtime(struct vtpm_fault *f)
{
    f->matched = 0;
    f->fired = 0;
    f->rng = f->seed ? f->seed : DEFAULT_SEED;
}

int vtpm_fault_parse(const char *spec, struct vtpm_fault *f, char *err, size_t errlen)
{
    struct vtpm_optstr o;
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    memset(f, 0, sizeof(*f));
    f->locality = VTPM_FAULT_ANY_LOCALITY;
    f->nth = 1;
    f->probability_ppm = PPM;

    rc = vtpm_optstr_parse(&o, spec);
    if (rc < 0) {
        rc = fail(err, errlen, "'%s': %s", o.bad ? o.bad : spec,
                  rc == -EEXIST  ? "given twice"
                  : rc == -E2BIG ? "too long"
                                 : "malformed item");
        goto out;
    }
    if (o.count == 0) {
        rc = fail(err, errlen, "a fault starts with its effect (stall, hang, rc=retry, ...)");
        goto out;
    }
    f->effect = find_effect(o.items[0].key);
    if (f->effect == VTPM_FAULT_NONE) {
        rc = fail(err, errlen,
                  "unknown fault effect '%s' (see vtpm fault scenarios / docs/faults.md)",
                  o.items[0].key);
        goto out;
    }
    const char *param = effects[f->effect].param;
    const char *allowed[10] = {o.items[0].key, "cmd",         "locality", "nth",
                               "count",        "probability", "seed"};
    size_t na = 7;
    if (param)
        allowed[na++] = param;
    if (f->effect == VTPM_FAULT_CORRUPT)
        allowed[na++] = "xor";
    allowed[na] = NULL;
    const char *bad = vtpm_optstr_unknown_key(&o, allowed);
    if (bad) {
        rc = fail(err, errlen, "'%s' is not an option of the '%s' fault", bad, o.items[0].key);
        goto out;
    }
    if ((rc = parse_param(&o, f, err, errlen)) < 0 || (rc = parse_trigger(&o, f, err, errlen)) < 0)
        goto out;
    reset_runtime(f);
out:
    vtpm_optstr_free(&o);
    return rc;
}

int vtpm_fault_format(const struct vtpm_fault *f, char *buf, size_t cap)
{
    static const char *const rc_names[] = {"", "retry", "testing", "failure"};
    const struct effect_info *info =
        &effects[(unsigned)f->effect < VTPM_FAULT_EFFECT_COUNT ? f->effect : VTPM_FAULT_NONE];
    char tmp[256];
    size_t n = 0;

#define ADD(...)                                                                                   \
    (n += (size_t)snprintf(tmp + n, n < sizeof(tmp) ? sizeof(tmp) - n : 0, __VA_ARGS__))
    ADD("%s", vtpm_fault_effect_name(f->effect));
    if (f->effect == VTPM_FAULT_RC) {
        if (f->rc_kind == VTPM_FAULT_RC_NUMBER)
            ADD("=0x%" PRIx32, f->value);
        else
            ADD("=%s", rc_names[f->rc_kind]);
    } else if (info->param && f->value != UINT32_MAX) {
        ADD(",%s=%" PRIu32, info->param, f->value);
    }
    if (f->effect == VTPM_FAULT_CORRUPT)
        ADD(",xor=0x%02" PRIx32, f->xor_mask);
    if (f->has_cmd)
        ADD(",cmd=0x%" PRIx32, f->cmd);
    if (f->locality != VTPM_FAULT_ANY_LOCALITY)
        ADD(",locality=%u", f->locality);
    if (f->nth != 1)
        ADD(",nth=%" PRIu32, f->nth);
    if (f->count != (f->nth != 1 ? 1u : 0u))
        ADD(",count=%" PRIu32, f->count);
    if (f->probability_ppm != PPM)
        ADD(",probability=%" PRIu32 ".%06" PRIu32, f->probability_ppm / PPM,
            f->probability_ppm % PPM);
    if (f->seed)
        ADD(",seed=%" PRIu64, f->seed);
#undef ADD
    return snprintf(buf, cap, "%s", tmp);
}

uint32_t vtpm_fault_rc_code(const struct vtpm_fault *f, enum vtpm_tpm_version version)
{
    bool v2 = version == VTPM_TPM_VERSION_2_0;

    switch (f->rc_kind) {
    case VTPM_FAULT_RC_RETRY:
        return v2 ? TPM2_RC_RETRY : TPM12_RETRY;
    case VTPM_FAULT_RC_TESTING:
        return v2 ? TPM2_RC_TESTING : TPM12_DOING_SELFTEST;
    case VTPM_FAULT_RC_FAILURE:
        return v2 ? TPM2_RC_FAILURE : TPM12_FAILEDSELFTEST;
    case VTPM_FAULT_RC_NUMBER:
    default:
        return f->value;
    }
}

void vtpm_fault_set_init(struct vtpm_fault_set *s)
{
    memset(s, 0, sizeof(*s));
    s->next_id = 1;
}

long vtpm_fault_set_add(struct vtpm_fault_set *s, const struct vtpm_fault *f)
{
    if (s->count >= VTPM_FAULT_SET_MAX)
        return -ENOSPC;
    s->faults[s->count] = *f;
    reset_runtime(&s->faults[s->count]);
    s->ids[s->count] = s->next_id++;
    return s->ids[s->count++];
}

long vtpm_fault_set_add_spec(struct vtpm_fault_set *s, const char *spec,
                             enum vtpm_fault_level level, char *err, size_t errlen)
{
    struct vtpm_fault f;
    const char *name = strncmp(spec, "scenario=", 9) == 0 ? spec + 9 : NULL;
    int rc;

    if (name) {
        const struct vtpm_fault_scenario *sc = vtpm_fault_scenario_find(name);
        if (!sc) {
            fail(err, errlen,
                 "unknown scenario '%s' (known: esxi-stall-after-header, "
                 "sts-all-ones, timer-expired, lost-startup)",
                 name);
            return -ENOENT;
        }
        spec = level == VTPM_FAULT_LEVEL_REGISTER ? sc->register_spec : sc->engine_spec;
        if (!spec) {
            fail(err, errlen, "scenario '%s' has no %s-level fault", name,
                 level == VTPM_FAULT_LEVEL_REGISTER ? "register" : "engine");
            return -ENOENT;
        }
    }
    if ((rc = vtpm_fault_parse(spec, &f, err, errlen)) < 0)
        return rc;
    if (vtpm_fault_effect_level(f.effect) != level) {
        fail(err, errlen, "'%s' is a %s-level fault; here only %s-level faults apply",
             vtpm_fault_effect_name(f.effect),
             level == VTPM_FAULT_LEVEL_REGISTER ? "engine" : "register",
             level == VTPM_FAULT_LEVEL_REGISTER ? "register" : "engine");
        return -EINVAL;
    }
    long id = vtpm_fault_set_add(s, &f);
    if (id < 0)
        fail(err, errlen, "at most %u faults can be active at once", VTPM_FAULT_SET_MAX);
    return id;
}

int vtpm_fault_set_clear(struct vtpm_fault_set *s, uint32_t id)
{
    if (id == 0) {
        s->count = 0;
        return 0;
    }
    for (size_t i = 0; i < s->count; i++) {
        if (s->ids[i] != id)
            continue;
        memmove(&s->faults[i], &s->faults[i + 1], (s->count - i - 1) * sizeof(s->faults[0]));
        memmove(&s->ids[i], &s->ids[i + 1], (s->count - i - 1) * sizeof(s->ids[0]));
        s->count--;
        return 0;
    }
    return -ENOENT;
}

/* xorshift64*: small, seeded, reproducible across platforms (not for secrets). */
static uint32_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static bool matches(const struct vtpm_fault *f, const struct vtpm_fault_cmd *cmd)
{
    if (f->has_cmd && (!cmd->has_ordinal || cmd->ordinal != f->cmd))
        return false;
    return f->locality == VTPM_FAULT_ANY_LOCALITY || f->locality == cmd->locality;
}

/* Counts one matching command for f; true when f fires on it. */
static bool fires(struct vtpm_fault *f, bool taken)
{
    f->matched++;
    if (taken || f->matched < f->nth || (f->count != 0 && f->fired >= f->count))
        return false;
    if (f->probability_ppm < PPM && next_random(&f->rng) % PPM >= f->probability_ppm)
        return false;
    f->fired++;
    return true;
}

struct vtpm_fault *vtpm_fault_set_check(struct vtpm_fault_set *s, uint32_t effects_mask,
                                        const struct vtpm_fault_cmd *cmd)
{
    struct vtpm_fault *hit = NULL;

    /*
     * Every matching fault counts the command, so nth= means the same
     * whatever else is configured; only the first that fires acts on it.
     */
    for (size_t i = 0; i < s->count; i++) {
        struct vtpm_fault *f = &s->faults[i];
        if (!(effects_mask & VTPM_FAULT_BIT(f->effect)) || !matches(f, cmd))
            continue;
        if (fires(f, hit != NULL))
            hit = f;
    }
    return hit;
}

struct vtpm_fault *vtpm_fault_set_always(struct vtpm_fault_set *s, uint32_t effects_mask)
{
    for (size_t i = 0; i < s->count; i++) {
        struct vtpm_fault *f = &s->faults[i];
        if ((effects_mask & VTPM_FAULT_BIT(f->effect)) && !f->has_cmd &&
            f->locality == VTPM_FAULT_ANY_LOCALITY && f->nth == 1 && f->count == 0 &&
            f->probability_ppm == PPM)
            return f;
    }
    return NULL;
}
