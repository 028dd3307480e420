/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vtpm send`: one TPM command through a libvtpm device model (TIS) and a
 * backend (inproc, emulator, passthrough), sent by the reference guest
 * driver on real time, the way a guest would send it. Prints the response,
 * its response code in TPM terms and, with --trace, every register access
 * the driver made.
 *
 * The device model is not thread-safe and the backend completes commands
 * on its worker thread, so one mutex guards the model: the accessor takes
 * it around every register access and the backend's worker takes it around
 * done() (include/vtpm/backends.h, "Threads").
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto/names.h"
#include "proto/tpm.h"
#include "tpm_query.h"
#include "util/buf.h"
#include "vtpm/backends.h"
#include "vtpm/driver.h"
#include "vtpm/crb.h"
#include "vtpm/tis.h"

#define CMD_MAX VTPM_TIS_BUFFER_SIZE
#define RSP_MAX VTPM_TIS_BUFFER_SIZE
#define KEY_WIDTH 10

/* TPM 2.0 Part 3 §16.1 TPM2_GetRandom; TPM 1.2 Main Part 3 §13.6 TPM_GetRandom */
#define TPM2_CC_GET_RANDOM 0x0000017Bu
#define TPM12_ORD_GET_RANDOM 0x00000046u

enum send_what { SEND_RAW = 0, SEND_GET_RANDOM, SEND_PCR_READ };

struct send_args {
    struct cli cli;
    const char *backend; /* NULL: implied by --state / --unix / --device */
    const char *path;
    const char *path_opt;    /* the option that gave `path` */
    const char *cancel_path; /* passthrough: --cancel-path */
    uint8_t locality;
    uint32_t duration_ms; /* --duration-ms; 0: the TCG defaults per command class */
    enum vtpm_tpm_version version;
    bool crb; /* --interface crb */
    bool trace;
    bool startup;
    enum send_what what;
    uint32_t what_arg; /* --getrandom N or --pcrread N */
    uint8_t raw[CMD_MAX];
    size_t raw_len;
};

/* The embedder: the device model, its lock, the driver and the trace state. */
struct bench {
    const struct send_args *args;
    pthread_mutex_t lock;
    struct vtpm_backend *be;
    struct vtpm_tis *tis; /* one of the two models, as --interface says */
    struct vtpm_crb *crb;
    struct vtpm_driver drv;
    uint64_t t0_us; /* the first access; 0 before it */
    /* Identical consecutive accesses (status polls) print as one line with a count. */
    struct vtpm_driver_access last;
    uint64_t last_us;
    unsigned repeats;
};

enum {
    OPT_INTERFACE = 0x100,
    OPT_BACKEND,
    OPT_STATE,
    OPT_UNIX,
    OPT_DEVICE,
    OPT_CANCEL_PATH,
    OPT_LOCALITY,
    OPT_DURATION,
    OPT_TPM,
    OPT_TRACE,
    OPT_STARTUP,
    OPT_GET_RANDOM,
    OPT_PCR_READ,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"interface", required_argument, NULL, OPT_INTERFACE},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"state", required_argument, NULL, OPT_STATE},
    {"unix", required_argument, NULL, OPT_UNIX},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"cancel-path", required_argument, NULL, OPT_CANCEL_PATH},
    {"locality", required_argument, NULL, OPT_LOCALITY},
    {"duration-ms", required_argument, NULL, OPT_DURATION},
    {"tpm", required_argument, NULL, OPT_TPM},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"startup", no_argument, NULL, OPT_STARTUP},
    {"getrandom", required_argument, NULL, OPT_GET_RANDOM},
    {"pcrread", required_argument, NULL, OPT_PCR_READ},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void help_send(void)
{
    fputs("Usage: vtpm send [--interface tis|crb] BACKEND [--locality N] [--tpm 1.2|2.0]\n"
          "                 [--startup] [--trace] (HEXBYTES... | --getrandom N | --pcrread N)\n"
          "\n"
          "Sends one TPM command the way a guest does: the reference driver writes it\n"
          "into a TIS device model, which hands it to the backend; then prints the\n"
          "response, its response code by name and, for --getrandom and --pcrread,\n"
          "the decoded result. The TPM is power-cycled first (TPM_Init), as at a\n"
          "machine's power-on.\n"
          "\n"
          "BACKEND, one of:\n"
          "  --backend inproc --state DIR        libtpms in this process on state dir DIR\n"
          "  --backend emulator --unix CTRLPATH  vtpmd or swtpm on its control socket\n"
          "                                      (--ctrl type=unixio,path=CTRLPATH)\n"
          "  --backend passthrough --device DEV  the host's TPM, e.g. /dev/tpmrm0\n"
          "  (--state, --unix and --device alone imply their backend)\n"
          "  --cancel-path FILE   passthrough: the sysfs file that cancels a command\n"
          "                       (default /sys/class/tpm/tpmN/device/cancel for DEV)\n"
          "\n"
          "  --interface tis|crb  the device model (default tis; crb is TPM 2.0 only)\n"
          "  --locality N         the locality the driver uses, 0-4 (default 0)\n"
          "  --tpm 1.2|2.0        the TPM family (default 2.0)\n"
          "  --duration-ms MS     how long any command may execute before the driver gives\n"
          "                       up (default: the TCG duration of the command's class)\n"
          "  --startup            send TPM2_Startup(SU_CLEAR) / TPM_Startup(ST_CLEAR) first,\n"
          "                       from locality 0 as firmware does\n"
          "  --trace              print every register access: time in us, locality,\n"
          "                       register, R/W, size, value and its STS/ACCESS bits\n"
          "  HEXBYTES...          the command as hex digits (spaces and colons ignored);\n"
          "                       its size field must count all its bytes\n"
          "  --getrandom N        TPM2_GetRandom(N) / TPM_GetRandom(N); prints the bytes\n"
          "  --pcrread N          PCR N (sha256 bank; SHA-1 for TPM 1.2); prints the digest\n"
          "  --help               this text\n"
          "\n"
          "Exit status: 0 the TPM answered success; 1 the backend or the driver failed\n"
          "(the driver's sentence says what it saw) or the TPM answered an error code;\n"
          "2 usage error.\n",
          stdout);
}

/* ---- command line -------------------------------------------------------- */

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends the hex digits of `arg` to the raw command; spaces and colons separate bytes. */
static int parse_hex(struct send_args *a, const char *arg, int *pending)
{
    for (const char *p = arg; *p; p++) {
        if (isspace((unsigned char)*p) || *p == ':')
            continue;
        int d = hex_digit((unsigned char)*p);
        if (d < 0) {
            cli_err(&a->cli, "'%s': '%c' is not a hex digit; give the command as hex bytes", arg,
                    *p);
            return -1;
        }
        if (*pending < 0) {
            *pending = d;
            continue;
        }
        if (a->raw_len == CMD_MAX) {
            cli_err(&a->cli, "the command is longer than the TIS buffer (%u bytes)", CMD_MAX);
            return -1;
        }
        a->raw[a->raw_len++] = (uint8_t)(*pending << 4 | d);
        *pending = -1;
    }
    return 0;
}

static int parse_raw(struct send_args *a, int argc, char **argv)
{
    int pending = -1;

    for (int i = 0; i < argc; i++)
        if (parse_hex(a, argv[i], &pending) < 0)
            return -1;
    if (pending >= 0) {
        cli_err(&a->cli, "the command has an odd number of hex digits");
        return -1;
    }
    if (a->raw_len < VTPM_TPM_HDR_SIZE) {
        cli_err(&a->cli, "the command is %zu bytes; a TPM command has a 10-byte header",
                a->raw_len);
        return -1;
    }
    uint32_t size = get_be32(a->raw + 2);
    if (size != a->raw_len) {
        cli_err(&a->cli,
                "the command's size field says %" PRIu32 " bytes but %zu were given; it counts "
                "the whole command, header included",
                size, a->raw_len);
        return -1;
    }
    return 0;
}

static int set_path(struct send_args *a, const char *opt, const char *arg)
{
    if (a->path) {
        cli_err(&a->cli, "%s and %s both name a TPM; give one", a->path_opt, opt);
        return -1;
    }
    a->path = arg;
    a->path_opt = opt;
    return 0;
}

static const char *backend_of_path_opt(const char *opt)
{
    if (!strcmp(opt, "--state"))
        return "inproc";
    if (!strcmp(opt, "--unix"))
        return "emulator";
    return "passthrough";
}

static int set_what(struct send_args *a, enum send_what what, const char *opt, const char *arg)
{
    uint64_t n;
    uint64_t max = what == SEND_GET_RANDOM ? 0xFFFF : 23; /* PCR 0-23 (PC Client) */

    if (a->what != SEND_RAW) {
        cli_err(&a->cli, "%s: give one command (--getrandom or --pcrread), not two", opt);
        return -1;
    }
    if (cli_parse_uint(arg, max, &n) < 0 || (what == SEND_GET_RANDOM && n == 0)) {
        cli_err(&a->cli, "%s '%s': give a number from %u to %" PRIu64, opt, arg,
                what == SEND_GET_RANDOM ? 1u : 0u, max);
        return -1;
    }
    a->what = what;
    a->what_arg = (uint32_t)n;
    return 0;
}

static int parse_option(struct send_args *a, int opt, const char *arg, char **argv)
{
    uint64_t n;

    switch (opt) {
    case OPT_INTERFACE:
        if (strcmp(arg, "tis") && strcmp(arg, "crb")) {
            cli_err(&a->cli, "--interface '%s': the interfaces are tis and crb", arg);
            return -1;
        }
        a->crb = !strcmp(arg, "crb");
        return 0;
    case OPT_BACKEND:
        a->backend = arg;
        return 0;
    case OPT_STATE:
        return set_path(a, "--state", arg);
    case OPT_UNIX:
        return set_path(a, "--unix", arg);
    case OPT_DEVICE:
        return set_path(a, "--device", arg);
    case OPT_CANCEL_PATH:
        a->cancel_path = arg;
        return 0;
    case OPT_LOCALITY:
        if (cli_parse_uint(arg, VTPM_TIS_LOCALITIES - 1, &n) < 0) {
            cli_err(&a->cli, "--locality '%s': give a locality from 0 to 4", arg);
            return -1;
        }
        a->locality = (uint8_t)n;
        return 0;
    case OPT_DURATION:
        if (cli_parse_uint(arg, 3600000, &n) < 0 || n == 0) {
            cli_err(&a->cli, "--duration-ms '%s': give milliseconds, 1 to 3600000", arg);
            return -1;
        }
        a->duration_ms = (uint32_t)n;
        return 0;
    case OPT_TPM:
        if (!strcmp(arg, "2.0") || !strcmp(arg, "2")) {
            a->version = VTPM_TPM_VERSION_2_0;
        } else if (!strcmp(arg, "1.2")) {
            a->version = VTPM_TPM_VERSION_1_2;
        } else {
            cli_err(&a->cli, "--tpm '%s': the TPM families are 1.2 and 2.0", arg);
            return -1;
        }
        return 0;
    case OPT_TRACE:
        a->trace = true;
        return 0;
    case OPT_STARTUP:
        a->startup = true;
        return 0;
    case OPT_GET_RANDOM:
        return set_what(a, SEND_GET_RANDOM, "--getrandom", arg);
    case OPT_PCR_READ:
        return set_what(a, SEND_PCR_READ, "--pcrread", arg);
    case ':':
        cli_err(&a->cli, "option '%s' needs an argument", argv[optind - 1]);
        return -1;
    default:
        cli_err(&a->cli, "unknown option '%s' (see `vtpm help send`)", argv[optind - 1]);
        return -1;
    }
}

/* The backend named by --backend must match the option that names its TPM. */
static int check_backend(struct send_args *a)
{
    if (!a->path) {
        cli_err(&a->cli, "which TPM? give --state DIR (inproc), --unix CTRLPATH (emulator) or "
                         "--device /dev/tpmX (passthrough)");
        return -1;
    }
    const char *implied = backend_of_path_opt(a->path_opt);
    if (a->cancel_path && strcmp(implied, "passthrough")) {
        cli_err(&a->cli, "--cancel-path is for the passthrough backend (--device), not %s",
                a->path_opt);
        return -1;
    }
    if (!a->backend) {
        a->backend = implied;
        return 0;
    }
    if (strcmp(a->backend, "inproc") && strcmp(a->backend, "emulator") &&
        strcmp(a->backend, "passthrough")) {
        cli_err(&a->cli, "--backend '%s': the backends are inproc, emulator and passthrough",
                a->backend);
        return -1;
    }
    if (strcmp(a->backend, implied)) {
        cli_err(&a->cli, "--backend %s does not take %s (that is the %s backend's option)",
                a->backend, a->path_opt, implied);
        return -1;
    }
    return 0;
}

/* Returns 0, -1 on a usage error (printed), or 1 when --help was given. */
static int parse_args(struct send_args *a, int argc, char **argv)
{
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return 1;
        if (parse_option(a, opt, optarg, argv) < 0)
            return -1;
    }
    if (a->crb && a->version != VTPM_TPM_VERSION_2_0) {
        cli_err(&a->cli, "--interface crb: CRB is a TPM 2.0 interface (PTP); use tis for TPM 1.2");
        return -1;
    }
    if (check_backend(a) < 0)
        return -1;
    if (a->what != SEND_RAW) {
        if (optind < argc) {
            cli_err(&a->cli,
                    "unexpected argument '%s': give the command as HEXBYTES or as "
                    "--getrandom / --pcrread, not both",
                    argv[optind]);
            return -1;
        }
        return 0;
    }
    if (optind == argc) {
        cli_err(&a->cli, "what to send? give HEXBYTES, --getrandom N or --pcrread N");
        return -1;
    }
    return parse_raw(a, argc - optind, argv + optind);
}

/* ---- response codes ------------------------------------------------------ */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Why the two codes every first command can meet matter, in a few words. */
static const char *rc_hint(uint32_t rc, enum vtpm_tpm_version v)
{
    if (v == VTPM_TPM_VERSION_2_0 && rc == VTPM_TPM2_RC_INITIALIZE)
        return " (TPM2_Startup has not been sent: --startup sends it)";
    if (v == VTPM_TPM_VERSION_1_2 && rc == VTPM_TPM12_INVALID_POSTINIT)
        return " (TPM_Startup has not been sent: --startup sends it)";
    if (v == VTPM_TPM_VERSION_2_0 && rc == VTPM_TPM2_RC_FAILURE)
        return " (the TPM is in failure mode)";
    return "";
}

static void describe_rc(enum vtpm_tpm_version v, uint32_t rc, char *out, size_t cap)
{
    char name[96];

    vtpm_tpm_rc_describe(v == VTPM_TPM_VERSION_2_0 ? VTPM_FAMILY_20 : VTPM_FAMILY_12, rc, name,
                         sizeof(name));
    snprintf(out, cap, "%s%s", name, rc_hint(rc, v));
}

/* ---- the trace ----------------------------------------------------------- */

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct bit_name {
    uint32_t bit;
    const char *name;
};

/* TIS 1.3 §5.4.1 TPM_ACCESS_x */
static const struct bit_name access_bits[] = {
    {VTPM_TIS_ACCESS_tpmRegValidSts, "tpmRegValidSts"},
    {VTPM_TIS_ACCESS_activeLocality, "activeLocality"},
    {VTPM_TIS_ACCESS_beenSeized, "beenSeized"},
    {VTPM_TIS_ACCESS_Seize, "Seize"},
    {VTPM_TIS_ACCESS_pendingRequest, "pendingRequest"},
    {VTPM_TIS_ACCESS_requestUse, "requestUse"},
    {VTPM_TIS_ACCESS_tpmEstablishment, "tpmEstablishment"},
};

/* TIS 1.3 §5.4.2 TPM_STS_x; PTP adds commandCancel and resetEstablishment */
static const struct bit_name sts_bits[] = {
    {VTPM_TIS_STS_stsValid, "stsValid"},
    {VTPM_TIS_STS_commandReady, "commandReady"},
    {VTPM_TIS_STS_tpmGo, "tpmGo"},
    {VTPM_TIS_STS_dataAvail, "dataAvail"},
    {VTPM_TIS_STS_Expect, "Expect"},
    {VTPM_TIS_STS_selfTestDone, "selfTestDone"},
    {VTPM_TIS_STS_responseRetry, "responseRetry"},
    {VTPM_TIS_STS_commandCancel, "commandCancel"},
    {VTPM_TIS_STS_resetEstablishment, "resetEstablishment"},
};

static size_t append_bits(char *out, size_t cap, size_t pos, const struct bit_name *t, size_t n,
                          uint32_t value)
{
    for (size_t i = 0; i < n && pos < cap; i++)
        if (value & t[i].bit)
            pos += (size_t)snprintf(out + pos, cap - pos, " %s", t[i].name);
    return pos;
}

/* The spec names of the bits of an ACCESS or STS value (aligned accesses, as the driver makes). */
static void describe_bits(const struct bench *b, const struct vtpm_driver_access *a, char *out,
                          size_t cap)
{
    uint32_t reg = a->offset & ((1u << VTPM_TIS_LOCALITY_SHIFT) - 1);
    size_t pos = 0;

    out[0] = '\0';
    if (b->crb)
        return; /* the CRB registers are printed by name and value */
    if (reg == VTPM_TIS_REG_ACCESS) {
        append_bits(out, cap, 0, access_bits, COUNT(access_bits), a->value);
        return;
    }
    if (reg != VTPM_TIS_REG_STS)
        return;
    pos = append_bits(out, cap, 0, sts_bits, COUNT(sts_bits), a->value);
    if (a->write || a->size < 2 || pos >= cap)
        return;
    pos += (size_t)snprintf(out + pos, cap - pos, " burstCount=%u",
                            (a->value & VTPM_TIS_STS_burstCount_MASK) >>
                                VTPM_TIS_STS_burstCount_SHIFT);
    if (a->size == 4 && b->args->version == VTPM_TPM_VERSION_2_0 && pos < cap)
        snprintf(out + pos, cap - pos, " tpmFamily=%s",
                 (a->value & VTPM_TIS_STS_tpmFamily_MASK) == VTPM_TIS_STS_tpmFamily_2_0 ? "2.0"
                                                                                        : "1.2");
}

static void print_access(const struct bench *b, const struct vtpm_driver_access *a, uint64_t t_us,
                         unsigned repeats)
{
    const char *name = b->crb ? vtpm_crb_reg_name(a->offset) : vtpm_tis_reg_name(a->offset);
    char bits[160], times[32] = "";

    describe_bits(b, a, bits, sizeof(bits));
    if (repeats > 1)
        snprintf(times, sizeof(times), "  (x%u)", repeats);
    printf("  %9" PRIu64 " us  loc%u  %-14s %c %u  0x%0*" PRIx32 "%s%s\n", t_us - b->t0_us,
           a->offset >> VTPM_TIS_LOCALITY_SHIFT, name ? name : "?", a->write ? 'W' : 'R', a->size,
           a->size * 2, a->value, bits, times);
}

static void flush_trace(struct bench *b)
{
    if (b->repeats)
        print_access(b, &b->last, b->last_us, b->repeats);
    b->repeats = 0;
}

static bool same_access(const struct vtpm_driver_access *x, const struct vtpm_driver_access *y)
{
    return x->offset == y->offset && x->size == y->size && x->write == y->write &&
           x->value == y->value;
}

/*
 * The driver's trace callback. Identical consecutive status reads (the
 * driver's polls) become one line with a count; every FIFO byte keeps its own.
 */
static void on_access(void *opaque, const struct vtpm_driver_access *a)
{
    struct bench *b = opaque;
    uint64_t now = mono_us();
    uint32_t reg = a->offset & ((1u << VTPM_TIS_LOCALITY_SHIFT) - 1);
    /* CRB: every register below the data buffer is a status the driver polls. */
    bool poll = !a->write && (b->crb ? reg < VTPM_CRB_REG_DATA_BUFFER
                                     : reg == VTPM_TIS_REG_STS || reg == VTPM_TIS_REG_ACCESS);

    if (!b->t0_us)
        b->t0_us = now; /* offsets count from the first access */
    if (b->repeats && poll && same_access(&b->last, a)) {
        b->repeats++;
        return;
    }
    flush_trace(b);
    b->last = *a;
    b->last_us = now;
    b->repeats = 1;
}

/* ---- the embedder -------------------------------------------------------- */

static void bench_lock(void *opaque)
{
    pthread_mutex_lock(&((struct bench *)opaque)->lock);
}

static void bench_unlock(void *opaque)
{
    pthread_mutex_unlock(&((struct bench *)opaque)->lock);
}

static uint32_t io_read(void *ctx, uint32_t offset, unsigned size)
{
    struct bench *b = ctx;

    bench_lock(b);
    uint32_t v = (uint32_t)(b->crb ? vtpm_crb_read(b->crb, offset, size)
                                   : vtpm_tis_read(b->tis, offset, size));
    bench_unlock(b);
    return v;
}

static void io_write(void *ctx, uint32_t offset, uint32_t value, unsigned size)
{
    struct bench *b = ctx;

    bench_lock(b);
    if (b->crb)
        vtpm_crb_write(b->crb, offset, value, size);
    else
        vtpm_tis_write(b->tis, offset, value, size);
    bench_unlock(b);
}

static uint64_t io_now_ms(void *ctx)
{
    return mono_us() / 1000u;
}

static void io_sleep_us(void *ctx, uint32_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int create_model(struct bench *b)
{
    const struct send_args *a = b->args;

    if (a->crb) {
        struct vtpm_crb_config cfg = {
            .locality4_writable = true, /* --locality 4 is asked for on purpose here */
        };
        return vtpm_crb_create(&cfg, b->be, &b->crb);
    }
    struct vtpm_tis_config cfg = {
        .version = a->version,
        .locality4_writable = true,
    };
    return vtpm_tis_create(&cfg, b->be, &b->tis);
}

/* Backend, device model (powered on: TPM_Init) and driver. */
static int bench_open(struct bench *b)
{
    const struct send_args *a = b->args;
    struct vtpm_backend_options o;
    char err[512];

    vtpm_backend_options_init(&o);
    o.version = a->version;
    o.path = a->path;
    o.cancel_path = a->cancel_path;
    o.lock = bench_lock;
    o.unlock = bench_unlock;
    o.lock_opaque = b;
    if (vtpm_backend_create(a->backend, &o, &b->be, err, sizeof(err)) < 0) {
        cli_err(&a->cli, "%s", err);
        return -1;
    }
    int rc = create_model(b);
    if (rc < 0) {
        cli_err(&a->cli, "creating the %s model: %s", a->crb ? "CRB" : "TIS", strerror(-rc));
        return -1;
    }
    bench_lock(b);
    rc = a->crb ? vtpm_crb_reset(b->crb) : vtpm_tis_reset(b->tis);
    bench_unlock(b);
    if (rc < 0) {
        const char *why = vtpm_backend_last_error(b->be);
        cli_err(&a->cli, "power-on (TPM_Init through the %s backend) failed: %s", a->backend,
                *why ? why : strerror(-rc));
        return -1;
    }
    struct vtpm_driver_config cfg = {
        .iface = a->crb ? &vtpm_driver_crb : &vtpm_driver_tis,
        .version = a->version,
        .locality = a->locality,
        .io = {.read = io_read,
               .write = io_write,
               .now_ms = io_now_ms,
               .sleep_us = io_sleep_us,
               .ctx = b,
               .trace = a->trace ? on_access : NULL,
               .trace_opaque = b},
    };
    for (unsigned i = 0; i < VTPM_DRIVER_DURATION_COUNT; i++)
        cfg.duration_ms[i] = a->duration_ms; /* 0 keeps the class's default */
    if (vtpm_driver_init(&b->drv, &cfg) != VTPM_DRIVER_OK) {
        cli_err(&a->cli, "driver: %s", vtpm_driver_last_error(&b->drv)->message);
        return -1;
    }
    return 0;
}

static void bench_close(struct bench *b)
{
    /* The backend first: its worker must not complete into a freed model. */
    vtpm_backend_destroy(b->be);
    if (b->tis)
        vtpm_tis_destroy(b->tis);
    if (b->crb)
        vtpm_crb_destroy(b->crb);
}

/* ---- commands ------------------------------------------------------------ */

static void print_hex_line(const char *key, const uint8_t *p, size_t n)
{
    printf("%-*s", KEY_WIDTH, key);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
    putchar('\n');
}

/*
 * Sends one command and prints it, the trace, the response and its code.
 * Returns -1 when the driver failed (printed), else 0 with the response.
 */
static int send_one(struct bench *b, struct vtpm_driver *drv, const char *what, const uint8_t *cmd,
                    size_t len, uint8_t *rsp, size_t *rsp_len, uint32_t *rc)
{
    const struct send_args *a = b->args;
    char desc[160];

    printf("%-*s%s\n", KEY_WIDTH, "command:", what);
    print_hex_line("bytes:", cmd, len);
    if (a->trace)
        printf("trace:\n");
    enum vtpm_driver_err e = vtpm_driver_transmit(drv, cmd, len, rsp, RSP_MAX, rsp_len);
    flush_trace(b);
    if (e != VTPM_DRIVER_OK) {
        cli_err(&a->cli, "%s: the driver failed (%s): %s", what, vtpm_driver_err_name(e),
                vtpm_driver_last_error(drv)->message);
        return -1;
    }
    print_hex_line("response:", rsp, *rsp_len);
    *rc = vtpm_tpm_response_code(rsp, *rsp_len);
    describe_rc(a->version, *rc, desc, sizeof(desc));
    printf("%-*s0x%08" PRIx32 " %s\n", KEY_WIDTH, "rc:", *rc, desc);
    return 0;
}

/*
 * Startup comes from locality 0, as firmware sends it (a TPM 2.0 refuses
 * TPM2_Startup from localities 1 and 2 with TPM_RC_LOCALITY).
 */
static int send_startup(struct bench *b)
{
    bool tpm2 = b->args->version == VTPM_TPM_VERSION_2_0;
    struct vtpm_driver firmware;
    struct vtpm_driver_config cfg = b->drv.cfg;
    uint8_t cmd[12], rsp[RSP_MAX];
    size_t rsp_len;
    uint32_t rc;

    size_t n =
        vtpm_tpm_startup_cmd(cmd, tpm2 ? VTPM_FAMILY_20 : VTPM_FAMILY_12, VTPM_TPM12_ST_CLEAR);
    const char *what = tpm2 ? "TPM2_Startup(SU_CLEAR)" : "TPM_Startup(ST_CLEAR)";
    cfg.locality = 0;
    if (vtpm_driver_init(&firmware, &cfg) != VTPM_DRIVER_OK) {
        cli_err(&b->args->cli, "driver: %s", vtpm_driver_last_error(&firmware)->message);
        return -1;
    }
    if (send_one(b, &firmware, what, cmd, n, rsp, &rsp_len, &rc) < 0)
        return -1;
    /* An already started TPM says so; the command that follows still runs. */
    if (rc)
        cli_err(&b->args->cli, "%s answered 0x%" PRIx32 "; sending the command anyway", what, rc);
    return 0;
}

static size_t get_random_cmd(enum vtpm_tpm_version v, uint32_t n, uint8_t *out)
{
    if (v == VTPM_TPM_VERSION_2_0) {
        put_be16(out, VTPM_TPM2_ST_NO_SESSIONS);
        put_be32(out + 2, 12);
        put_be32(out + 6, TPM2_CC_GET_RANDOM);
        put_be16(out + 10, (uint16_t)n);
        return 12;
    }
    put_be16(out, VTPM_TPM12_TAG_RQU_COMMAND);
    put_be32(out + 2, 14);
    put_be32(out + 6, TPM12_ORD_GET_RANDOM);
    put_be32(out + 10, n);
    return 14;
}

/* TPM2B_DIGEST randomBytes (2.0) or UINT32 randomBytesSize + bytes (1.2) after the header. */
static int print_random(const struct send_args *a, const uint8_t *rsp, size_t len)
{
    struct vtpm_reader r;

    vtpm_reader_init(&r, rsp, len);
    (void)vtpm_read_bytes(&r, VTPM_TPM_HDR_SIZE);
    uint32_t n = a->version == VTPM_TPM_VERSION_2_0 ? vtpm_read_be16(&r) : vtpm_read_be32(&r);
    const uint8_t *bytes = vtpm_read_bytes(&r, n);
    if (!bytes) {
        cli_err(&a->cli, "the GetRandom response (%zu bytes) is malformed", len);
        return -1;
    }
    print_hex_line("random:", bytes, n);
    if (n < a->what_arg)
        printf("%-*s%" PRIu32 " of the %" PRIu32 " bytes asked for (a TPM may return fewer)\n",
               KEY_WIDTH, "", n, a->what_arg);
    return 0;
}

static int print_pcr(const struct send_args *a, const uint8_t *rsp, size_t len)
{
    uint8_t digest[64];
    size_t n = TQ_SHA1_SIZE;
    int rc;

    if (a->version == VTPM_TPM_VERSION_2_0)
        rc = tq_tpm2_parse_pcr_read(rsp, len, digest, sizeof(digest), &n);
    else
        rc = tq_tpm12_parse_pcr_read(rsp, len, digest);
    if (rc == -ENOENT) {
        cli_err(&a->cli, "PCR_Read returned no digest: the TPM has no sha256 bank allocated");
        return -1;
    }
    if (rc < 0) {
        cli_err(&a->cli, "the PCR_Read response (%zu bytes) is malformed", len);
        return -1;
    }
    print_hex_line("digest:", digest, n);
    return 0;
}

static int send_command(struct bench *b)
{
    const struct send_args *a = b->args;
    bool tpm2 = a->version == VTPM_TPM_VERSION_2_0;
    uint8_t cmd[CMD_MAX], rsp[RSP_MAX];
    const uint8_t *p = cmd;
    size_t len = 0, rsp_len;
    char what[64];
    uint32_t rc;

    switch (a->what) {
    case SEND_RAW:
        p = a->raw;
        len = a->raw_len;
        snprintf(what, sizeof(what), "code 0x%08" PRIx32 " (%zu bytes, as given)",
                 get_be32(a->raw + 6), len);
        break;
    case SEND_GET_RANDOM:
        len = get_random_cmd(a->version, a->what_arg, cmd);
        snprintf(what, sizeof(what), "%s(%" PRIu32 ")", tpm2 ? "TPM2_GetRandom" : "TPM_GetRandom",
                 a->what_arg);
        break;
    case SEND_PCR_READ:
        len = tpm2 ? tq_tpm2_pcr_read_cmd(cmd, sizeof(cmd), TQ_TPM2_ALG_SHA256, a->what_arg)
                   : tq_tpm12_pcr_read_cmd(cmd, sizeof(cmd), a->what_arg);
        snprintf(what, sizeof(what), "%s(%s%" PRIu32 ")", tpm2 ? "TPM2_PCR_Read" : "TPM_PCRRead",
                 tpm2 ? "sha256:" : "", a->what_arg);
        break;
    }
    if (send_one(b, &b->drv, what, p, len, rsp, &rsp_len, &rc) < 0)
        return -1;
    if (rc) {
        char desc[160];
        describe_rc(a->version, rc, desc, sizeof(desc));
        cli_err(&a->cli, "%s: the TPM answered 0x%" PRIx32 " %s", what, rc, desc);
        return -1;
    }
    if (a->what == SEND_GET_RANDOM)
        return print_random(a, rsp, rsp_len);
    if (a->what == SEND_PCR_READ)
        return print_pcr(a, rsp, rsp_len);
    return 0;
}

int cmd_send(int argc, char **argv)
{
    struct send_args *a = calloc(1, sizeof(*a));
    struct bench b = {.args = a};
    int rc;

    if (!a) {
        fprintf(stderr, "vtpm send: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    a->cli = (struct cli){.prog = "vtpm send", .timeout_ms = CLI_DEFAULT_TIMEOUT_MS};
    a->version = VTPM_TPM_VERSION_2_0;
    rc = parse_args(a, argc, argv);
    if (rc != 0) {
        if (rc > 0)
            help_send();
        free(a);
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    pthread_mutex_init(&b.lock, NULL);
    rc = bench_open(&b);
    if (rc == 0 && a->startup)
        rc = send_startup(&b);
    if (rc == 0)
        rc = send_command(&b);
    fflush(stdout);
    bench_close(&b);
    pthread_mutex_destroy(&b.lock);
    free(a);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
