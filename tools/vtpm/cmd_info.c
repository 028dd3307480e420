/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vtpm info`: live facts of a TPM served by vtpmd or swtpm, asked the way a
 * VM would. With --unix the data channel is one end of a socketpair handed
 * over with CMD_SET_DATAFD, as QEMU's tpm-emulator backend does; with --tcp
 * PORT TPM commands go to PORT and control commands to PORT + 1, as the
 * tpm2-tools "swtpm:" TCTI does.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "ctrl_client.h"
#include "proto/ctrl.h"
#include "proto/tpm.h"
#include "tpm_query.h"
#include "util/buf.h"

/* Largest TPM response accepted (swtpm's buffer is 4 KiB at most). */
#define RSP_MAX 8192u
#define KEY_WIDTH 19

struct info_args {
    struct cli cli;
    struct endpoint ctrl_ep;
    struct endpoint data_ep; /* --tcp only */
    bool have_ep;
    bool init;
};

/* What we know of the TPM and how we reach it. */
struct tpm_session {
    const struct info_args *args;
    struct conn ctrl;
    struct conn data;
    enum vtpm_family family;
    bool started_here;  /* --init sent TPM_Startup */
    bool never_started; /* a query answered that TPM_Startup is missing */
};

enum { OPT_UNIX = 0x100, OPT_TCP, OPT_INIT, OPT_HELP };

static const struct option long_options[] = {
    {"unix", required_argument, NULL, OPT_UNIX}, {"tcp", required_argument, NULL, OPT_TCP},
    {"init", no_argument, NULL, OPT_INIT},       {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, OPT_HELP},       {NULL, 0, NULL, 0},
};

void help_info(void)
{
    fputs(
        "Usage: vtpm info (--unix CTRLPATH | --tcp [HOST:]PORT) [--init] [-t SECONDS]\n"
        "\n"
        "Shows live facts of a TPM served by vtpmd or swtpm: its family, whether it\n"
        "runs, manufacturer, vendor strings, firmware version and PCR 0 (sha256 bank\n"
        "for TPM 2.0, the SHA-1 PCR for TPM 1.2).\n"
        "\n"
        "  --unix CTRLPATH        the control socket (--ctrl type=unixio,path=CTRLPATH);\n"
        "                         TPM commands travel on a socketpair handed over with\n"
        "                         CMD_SET_DATAFD, as QEMU attaches\n"
        "  --tcp [HOST:]PORT      the data port (--server type=tcp,port=PORT); control\n"
        "                         commands go to PORT+1, as with tpm2-tools' swtpm: TCTI\n"
        "  --init                 if the TPM is not running, start it as firmware would:\n"
        "                         CMD_INIT, then TPM_Startup(ST_CLEAR) / TPM2_Startup(SU_CLEAR);\n"
        "                         a running TPM is left alone (only a missing Startup is sent)\n"
        "  -t, --timeout SECONDS  give up waiting for an answer after this long (default 10)\n"
        "  --help                 this text\n"
        "\n"
        "Exit status: 0 all facts shown; 1 the TPM is not running (without --init), a\n"
        "command failed or no answer came; 2 usage error.\n",
        stdout);
}

static int parse_tcp(struct info_args *a, const char *arg)
{
    if (endpoint_set_tcp(&a->cli, &a->data_ep, arg, 0) < 0)
        return -1;
    if (a->data_ep.port == 65535) {
        cli_err(&a->cli, "--tcp '%s': the control port is PORT+1, so PORT must be below 65535",
                arg);
        return -1;
    }
    a->ctrl_ep = a->data_ep;
    a->ctrl_ep.port++;
    return 0;
}

/* Returns 0, -1 on a usage error (printed), or 1 when --help was given. */
static int parse_args(struct info_args *a, int argc, char **argv)
{
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:t:", long_options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case OPT_HELP:
            return 1;
        case OPT_UNIX:
            a->have_ep = true;
            rc = endpoint_set_unix(&a->cli, &a->ctrl_ep, optarg);
            break;
        case OPT_TCP:
            a->have_ep = true;
            rc = parse_tcp(a, optarg);
            break;
        case OPT_INIT:
            a->init = true;
            break;
        case 't':
            rc = cli_parse_timeout(&a->cli, optarg);
            break;
        case ':':
            cli_err(&a->cli, "option '%s' needs an argument", argv[optind - 1]);
            return -1;
        default:
            cli_err(&a->cli, "unknown option '%s' (see `vtpm help info`)", argv[optind - 1]);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        cli_err(&a->cli, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!a->have_ep) {
        cli_err(&a->cli, "where is the daemon? give --unix CTRLPATH or --tcp [HOST:]PORT");
        return -1;
    }
    return 0;
}

static void print_fact(const char *key, const char *value)
{
    printf("%-*s%s\n", KEY_WIDTH, key, value);
}

/* Facts gathered from TPM commands, printed once all are in. */
#define FACTS_MAX 8
#define FACT_LEN 1024

struct facts {
    unsigned n;
    const char *key[FACTS_MAX];
    char value[FACTS_MAX][FACT_LEN];
};

/* Adds a fact; returns its value buffer (FACT_LEN bytes) to fill in. */
static char *add_fact(struct facts *f, const char *key)
{
    if (f->n == FACTS_MAX)
        abort(); /* a programming error: FACTS_MAX is too small */
    f->key[f->n] = key;
    f->value[f->n][0] = '\0';
    return f->value[f->n++];
}

static void print_facts(const struct facts *f)
{
    for (unsigned i = 0; i < f->n; i++)
        print_fact(f->key[i], f->value[i]);
}

/* ---- control channel ---------------------------------------------------- */

/* The value of "key":"value" in JSON text we received; no escapes expected. */
static int json_string(const char *text, const char *key, char *out, size_t len)
{
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    const char *p = strstr(text, quoted);

    if (!p)
        return -1;
    p += strlen(quoted);
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        return -1;
    p += strspn(p, " \t\r\n");
    if (*p++ != '"')
        return -1;
    size_t n = strcspn(p, "\"");
    if (p[n] != '"' || n >= len)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int query_family(struct tpm_session *s)
{
    const struct cli *cli = &s->args->cli;
    char family[16];
    uint32_t res;
    char *text;

    if (ctrl_get_info(&s->ctrl, 1 /* SWTPM_INFO_TPMSPECIFICATION */, &res, &text) < 0)
        return -1;
    if (res) {
        ctrl_print_result(cli, VTPM_CMD_GET_INFO, res);
        return -1;
    }
    int rc = json_string(text, "family", family, sizeof(family));
    if (rc < 0)
        cli_err(cli, "CMD_GET_INFO: no \"family\" in the TPM specification info '%s'", text);
    free(text);
    if (rc < 0)
        return -1;
    if (!strcmp(family, "2.0")) {
        s->family = VTPM_FAMILY_20;
    } else if (!strcmp(family, "1.2")) {
        s->family = VTPM_FAMILY_12;
    } else {
        cli_err(cli, "CMD_GET_INFO: TPM family '%s' is neither 1.2 nor 2.0", family);
        return -1;
    }
    print_fact("TPM family:", family);
    return 0;
}

/* 1: running, 0: not running (BAD_ORDINAL), -1: failure (printed). */
static int query_running(struct tpm_session *s, bool *established)
{
    uint8_t resp[4]; /* u8 bit, 3 bytes of padding */
    uint32_t res;
    struct vtpm_reader r;

    if (ctrl_call(&s->ctrl, VTPM_CMD_GET_TPMESTABLISHED, NULL, 0, -1, &res, resp, sizeof(resp)) < 0)
        return -1;
    if (res == VTPM_RES_BAD_ORDINAL)
        return 0;
    if (res) {
        ctrl_print_result(&s->args->cli, VTPM_CMD_GET_TPMESTABLISHED, res);
        return -1;
    }
    vtpm_reader_init(&r, resp, sizeof(resp));
    *established = vtpm_read_u8(&r) & 1;
    return 1;
}

static int send_init(struct tpm_session *s)
{
    uint8_t body[4];
    uint32_t res;

    put_be32(body, 0); /* no flags: a power-on, as firmware sees it */
    if (ctrl_call(&s->ctrl, VTPM_CMD_INIT, body, sizeof(body), -1, &res, NULL, 0) < 0)
        return -1;
    if (res) {
        ctrl_print_result(&s->args->cli, VTPM_CMD_INIT, res);
        return -1;
    }
    return 0;
}

/* With --unix: a socketpair, one end handed to the daemon as its data channel. */
static int attach_datafd(struct tpm_session *s)
{
    const struct cli *cli = &s->args->cli;
    int sv[2];
    uint32_t res;
    char peer[sizeof(s->ctrl.peer) + 32];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        cli_err(cli, "socketpair: %s", strerror(errno));
        return -1;
    }
    int rc = ctrl_call(&s->ctrl, VTPM_CMD_SET_DATAFD, NULL, 0, sv[1], &res, NULL, 0);
    close(sv[1]);
    if (rc == 0 && res)
        ctrl_print_result(cli, VTPM_CMD_SET_DATAFD, res);
    if (rc < 0 || res) {
        close(sv[0]);
        return -1;
    }
    snprintf(peer, sizeof(peer), "%s (CMD_SET_DATAFD)", s->ctrl.peer);
    conn_adopt(&s->data, cli, sv[0], "data channel", peer);
    return 0;
}

static int open_data(struct tpm_session *s)
{
    const struct info_args *a = s->args;
    char how[64];

    if (a->ctrl_ep.is_unix)
        return attach_datafd(s);
    snprintf(how, sizeof(how), "--server type=tcp,port=%u --ctrl type=tcp,port=%u", a->data_ep.port,
             a->ctrl_ep.port);
    return conn_open(&s->data, &a->cli, &a->data_ep, "data channel", how);
}

/* ---- data channel ------------------------------------------------------- */

static const char *startup_name(enum vtpm_family family)
{
    return family == VTPM_FAMILY_20 ? "TPM2_Startup(SU_CLEAR)" : "TPM_Startup(ST_CLEAR)";
}

struct code_name {
    uint32_t code;
    const char *name;
};

/* TPM 1.2 Main Part 2 §16 */
static const struct code_name tpm12_rc_names[] = {
    {0x06, "TPM_DEACTIVATED"},
    {0x07, "TPM_DISABLED"},
    {0x09, "TPM_FAIL"},
    {0x0a, "TPM_BAD_ORDINAL"},
    {0x26, "TPM_INVALID_POSTINIT: TPM_Startup has not been sent"},
    {0x3d, "TPM_BAD_LOCALITY"},
    {0x800, "TPM_RETRY"},
};

/* TPM 2.0 Part 2 §6.6 */
static const struct code_name tpm2_rc_names[] = {
    {0x100, "TPM_RC_INITIALIZE: TPM2_Startup has not been sent"},
    {0x101, "TPM_RC_FAILURE: the TPM is in failure mode"},
    {0x142, "TPM_RC_COMMAND_SIZE"},
    {0x143, "TPM_RC_COMMAND_CODE"},
    {0x907, "TPM_RC_LOCALITY"},
    {0x908, "TPM_RC_YIELDED"},
    {0x909, "TPM_RC_CANCELED"},
    {0x90a, "TPM_RC_TESTING"},
    {0x922, "TPM_RC_RETRY"},
};

static const char *tpm_rc_name(enum vtpm_family family, uint32_t rc)
{
    const struct code_name *t = family == VTPM_FAMILY_12 ? tpm12_rc_names : tpm2_rc_names;
    size_t n = family == VTPM_FAMILY_12 ? sizeof(tpm12_rc_names) / sizeof(tpm12_rc_names[0])
                                        : sizeof(tpm2_rc_names) / sizeof(tpm2_rc_names[0]);

    for (size_t i = 0; i < n; i++)
        if (t[i].code == rc)
            return t[i].name;
    return NULL;
}

static bool is_not_started(enum vtpm_family family, uint32_t rc)
{
    return rc == (family == VTPM_FAMILY_20 ? VTPM_TPM2_RC_INITIALIZE : VTPM_TPM12_INVALID_POSTINIT);
}

/*
 * Sends one TPM command and reads its whole response into rsp. Returns -1
 * on I/O failure, else 0 with the response code in *rc and the length in *len.
 */
static int transact(struct tpm_session *s, const uint8_t *cmd, size_t cmd_len, const char *what,
                    uint8_t *rsp, size_t *len, uint32_t *rc)
{
    struct vtpm_tpm_hdr hdr;

    if (cmd_len == 0) {
        cli_err(&s->args->cli, "%s: the command does not fit its buffer", what);
        return -1;
    }
    conn_arm(&s->data);
    if (conn_send(&s->data, cmd, cmd_len, what) < 0 ||
        conn_recv(&s->data, rsp, VTPM_TPM_HDR_SIZE, what) < 0)
        return -1;
    vtpm_tpm_hdr_parse(rsp, VTPM_TPM_HDR_SIZE, &hdr);
    if (hdr.size < VTPM_TPM_HDR_SIZE || hdr.size > RSP_MAX) {
        cli_err(&s->args->cli,
                "%s: the response announces %" PRIu32 " bytes (tag 0x%04x, code "
                "0x%x); a TPM response has 10 to %u",
                what, hdr.size, hdr.tag, hdr.code, RSP_MAX);
        return -1;
    }
    if (conn_recv(&s->data, rsp + VTPM_TPM_HDR_SIZE, hdr.size - VTPM_TPM_HDR_SIZE, what) < 0)
        return -1;
    *len = hdr.size;
    *rc = hdr.code;
    return 0;
}

static void print_tpm_rc(const struct tpm_session *s, const char *what, uint32_t rc)
{
    const char *name = tpm_rc_name(s->family, rc);

    cli_err(&s->args->cli, "%s: TPM response code 0x%x%s%s%s", what, rc, name ? " (" : "",
            name ? name : "", name ? ")" : "");
}

static int send_startup(struct tpm_session *s)
{
    uint8_t cmd[12], rsp[RSP_MAX];
    size_t len;
    uint32_t rc;
    const char *what = startup_name(s->family);

    size_t n = vtpm_tpm_startup_cmd(cmd, s->family, VTPM_TPM12_ST_CLEAR);
    if (transact(s, cmd, n, what, rsp, &len, &rc) < 0)
        return -1;
    if (rc) {
        print_tpm_rc(s, what, rc);
        return -1;
    }
    s->started_here = true;
    return 0;
}

/*
 * Runs a query; when the TPM answers that it has not been started, sends
 * the Startup with --init and asks again, or says so without.
 */
static int query(struct tpm_session *s, const uint8_t *cmd, size_t cmd_len, const char *what,
                 uint8_t *rsp, size_t *len)
{
    uint32_t rc;

    if (transact(s, cmd, cmd_len, what, rsp, len, &rc) < 0)
        return -1;
    if (rc && is_not_started(s->family, rc) && s->args->init && !s->started_here) {
        if (send_startup(s) < 0 || transact(s, cmd, cmd_len, what, rsp, len, &rc) < 0)
            return -1;
    }
    if (rc == 0)
        return 0;
    print_tpm_rc(s, what, rc);
    s->never_started = is_not_started(s->family, rc);
    if (s->never_started)
        cli_err(&s->args->cli, "the TPM runs but was never started; --init sends %s",
                startup_name(s->family));
    return -1;
}

static void malformed(const struct tpm_session *s, const char *what, size_t len)
{
    cli_err(&s->args->cli, "%s: the %zu-byte response is malformed", what, len);
}

/* ---- printing ----------------------------------------------------------- */

/* Appends the printable form of the 4 characters in a be32 TPM value. */
static void chars_of(uint32_t value, bool keep_spaces, char *out, size_t len)
{
    uint8_t b[4];
    size_t n = 4, pos = 0;

    put_be32(b, value);
    while (n > 0 && (b[n - 1] == 0 || (!keep_spaces && b[n - 1] == ' ')))
        n--;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 5 <= len; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
            pos += (size_t)snprintf(out + pos, len - pos, "%c", b[i]);
        else
            pos += (size_t)snprintf(out + pos, len - pos, "\\x%02x", b[i]);
    }
}

static void hex_of(const uint8_t *p, size_t n, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < n && 2 * i + 3 <= len; i++)
        snprintf(out + 2 * i, len - 2 * i, "%02x", p[i]);
}

/* ---- TPM 2.0 ------------------------------------------------------------ */

static int tpm2_props(struct tpm_session *s, uint32_t *values, bool *present)
{
    const char *what = "TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES)";
    uint8_t cmd[32], rsp[RSP_MAX];
    size_t len;

    size_t n = tq_tpm2_get_props_cmd(cmd, sizeof(cmd), TQ_TPM2_PT_MANUFACTURER, TQ_TPM2_PT_PROPS);
    if (query(s, cmd, n, what, rsp, &len) < 0)
        return -1;
    if (tq_tpm2_parse_props(rsp, len, TQ_TPM2_PT_MANUFACTURER, TQ_TPM2_PT_PROPS, values, present) <
        0) {
        malformed(s, what, len);
        return -1;
    }
    return 0;
}

static int tpm2_pcr0(struct tpm_session *s, char *out, size_t out_len)
{
    const char *what = "TPM2_PCR_Read(sha256, PCR 0)";
    uint8_t cmd[32], rsp[RSP_MAX], digest[64];
    size_t len, dlen;

    size_t n = tq_tpm2_pcr_read_cmd(cmd, sizeof(cmd), TQ_TPM2_ALG_SHA256, 0);
    if (query(s, cmd, n, what, rsp, &len) < 0)
        return -1;
    int rc = tq_tpm2_parse_pcr_read(rsp, len, digest, sizeof(digest), &dlen);
    if (rc == -ENOENT) {
        snprintf(out, out_len, "(no digest: the sha256 bank is not allocated)");
        return 0;
    }
    if (rc < 0 || dlen != TQ_SHA256_SIZE) {
        malformed(s, what, len);
        return -1;
    }
    hex_of(digest, dlen, out, out_len);
    return 0;
}

static void prop_chars(char *out, const uint32_t *values, const bool *present, unsigned idx)
{
    if (present[idx])
        chars_of(values[idx], false, out, FACT_LEN);
    else
        snprintf(out, FACT_LEN, "(not reported)");
}

static int tpm2_facts(struct tpm_session *s, struct facts *f)
{
    uint32_t v[TQ_TPM2_PT_PROPS] = {0};
    bool present[TQ_TPM2_PT_PROPS];

    if (tpm2_props(s, v, present) < 0)
        return -1;
    /* Indexes from TPM_PT_MANUFACTURER: 0 manufacturer, 1..4 vendor strings, 5 type, 6..7 fw */
    prop_chars(add_fact(f, "manufacturer:"), v, present, 0);
    char *line = add_fact(f, "vendor strings:");
    size_t pos = 0;
    for (unsigned i = 1; i <= 4; i++) {
        char text[32] = "";
        if (present[i])
            chars_of(v[i], true, text, sizeof(text));
        pos += (size_t)snprintf(line + pos, FACT_LEN - pos, "%s\"%s\"", i > 1 ? " " : "", text);
    }
    line = add_fact(f, "vendor TPM type:");
    if (present[5])
        snprintf(line, FACT_LEN, "%" PRIu32, v[5]);
    else
        snprintf(line, FACT_LEN, "(not reported)");
    line = add_fact(f, "firmware version:");
    if (present[6] && present[7])
        snprintf(line, FACT_LEN, "0x%08" PRIx32 ".0x%08" PRIx32, v[6], v[7]);
    else
        snprintf(line, FACT_LEN, "(not reported)");
    return tpm2_pcr0(s, add_fact(f, "PCR 0 (sha256):"), FACT_LEN);
}

/* ---- TPM 1.2 ------------------------------------------------------------ */

static int tpm12_get_cap(struct tpm_session *s, uint32_t area, const uint8_t *sub, uint32_t sub_len,
                         const char *what, uint8_t *rsp, const uint8_t **data, uint32_t *data_len)
{
    uint8_t cmd[32];
    size_t len;

    size_t n = tq_tpm12_get_cap_cmd(cmd, sizeof(cmd), area, sub, sub_len);
    if (query(s, cmd, n, what, rsp, &len) < 0)
        return -1;
    if (tq_tpm12_parse_get_cap(rsp, len, data, data_len) < 0) {
        malformed(s, what, len);
        return -1;
    }
    return 0;
}

static int tpm12_manufacturer(struct tpm_session *s, struct facts *f)
{
    const char *what = "TPM_GetCapability(TPM_CAP_PROPERTY, TPM_CAP_PROP_MANUFACTURER)";
    uint8_t sub[4], rsp[RSP_MAX];
    const uint8_t *data;
    uint32_t data_len;
    struct vtpm_reader r;

    put_be32(sub, TQ_TPM12_CAP_PROP_MANUFACTURER);
    if (tpm12_get_cap(s, TQ_TPM12_CAP_PROPERTY, sub, sizeof(sub), what, rsp, &data, &data_len) < 0)
        return -1;
    vtpm_reader_init(&r, data, data_len);
    uint32_t id = vtpm_read_be32(&r);
    if (r.err) {
        malformed(s, what, data_len);
        return -1;
    }
    chars_of(id, false, add_fact(f, "manufacturer:"), FACT_LEN);
    return 0;
}

static int tpm12_version(struct tpm_session *s, struct facts *f)
{
    const char *what = "TPM_GetCapability(TPM_CAP_VERSION_VAL)";
    uint8_t rsp[RSP_MAX];
    const uint8_t *data;
    uint32_t data_len;
    struct tq_tpm12_version v;

    if (tpm12_get_cap(s, TQ_TPM12_CAP_VERSION_VAL, NULL, 0, what, rsp, &data, &data_len) < 0)
        return -1;
    if (tq_tpm12_parse_version_info(data, data_len, &v) < 0) {
        malformed(s, what, data_len);
        return -1;
    }
    /* The facts tpm-tools' tpm_version shows */
    snprintf(add_fact(f, "chip version:"), FACT_LEN, "%u.%u.%u.%u", v.major, v.minor, v.rev_major,
             v.rev_minor);
    snprintf(add_fact(f, "spec level:"), FACT_LEN, "%u", v.spec_level);
    snprintf(add_fact(f, "errata revision:"), FACT_LEN, "%u", v.errata_rev);
    chars_of(get_be32(v.vendor_id), false, add_fact(f, "TPM vendor ID:"), FACT_LEN);
    char *line = add_fact(f, "vendor specific:");
    if (v.vendor_specific_len)
        hex_of(v.vendor_specific, v.vendor_specific_len, line, FACT_LEN);
    else
        snprintf(line, FACT_LEN, "(none)");
    return 0;
}

static int tpm12_pcr0(struct tpm_session *s, struct facts *f)
{
    const char *what = "TPM_PCRRead(0)";
    uint8_t cmd[16], rsp[RSP_MAX], digest[TQ_SHA1_SIZE];
    size_t len;

    size_t n = tq_tpm12_pcr_read_cmd(cmd, sizeof(cmd), 0);
    if (query(s, cmd, n, what, rsp, &len) < 0)
        return -1;
    if (tq_tpm12_parse_pcr_read(rsp, len, digest) < 0) {
        malformed(s, what, len);
        return -1;
    }
    hex_of(digest, sizeof(digest), add_fact(f, "PCR 0 (sha1):"), FACT_LEN);
    return 0;
}

static int tpm12_facts(struct tpm_session *s, struct facts *f)
{
    if (tpm12_manufacturer(s, f) < 0 || tpm12_version(s, f) < 0)
        return -1;
    return tpm12_pcr0(s, f);
}

/* ---- the sequence ------------------------------------------------------- */

static int not_running(const struct tpm_session *s)
{
    const struct info_args *a = s->args;
    char where[sizeof(a->ctrl_ep.path) + CONN_HOST_MAX + 16];
    char data[CONN_HOST_MAX + 16];

    if (a->ctrl_ep.is_unix) {
        snprintf(where, sizeof(where), "--unix %s", a->ctrl_ep.path);
    } else {
        endpoint_describe(&a->data_ep, data, sizeof(data));
        snprintf(where, sizeof(where), "--tcp %s", data);
    }
    print_fact("running:", "no");
    cli_err(&a->cli,
            "the TPM is not running (CMD_GET_TPMESTABLISHED answers 0xa BAD_ORDINAL: "
            "no CMD_INIT since the daemon started, or a CMD_STOP since); "
            "`vtpm info %s --init` starts it with CMD_INIT and %s, as firmware would",
            where, startup_name(s->family));
    return -1;
}

static void print_running(const struct tpm_session *s, bool was_running, bool established)
{
    char line[128];

    if (!was_running)
        snprintf(line, sizeof(line), "no; started by --init (CMD_INIT, %s)",
                 startup_name(s->family));
    else if (s->started_here)
        snprintf(line, sizeof(line), "yes, but never started; --init sent %s",
                 startup_name(s->family));
    else if (s->never_started)
        snprintf(line, sizeof(line), "yes, but never started (no %s)", startup_name(s->family));
    else
        snprintf(line, sizeof(line), "yes");
    print_fact("running:", line);
    if (was_running)
        print_fact("tpmEstablished:", established ? "1" : "0");
}

static int run(struct tpm_session *s)
{
    struct facts f = {.n = 0};
    bool established = false;

    if (query_family(s) < 0)
        return -1;
    int running = query_running(s, &established);
    if (running < 0)
        return -1;
    if (!running && !s->args->init)
        return not_running(s);
    if (!running && send_init(s) < 0)
        return -1;
    if (open_data(s) < 0)
        return -1;
    if (!running && send_startup(s) < 0)
        return -1;
    /* The first query also finds out whether a running TPM still lacks its Startup. */
    int rc = s->family == VTPM_FAMILY_20 ? tpm2_facts(s, &f) : tpm12_facts(s, &f);
    if (rc < 0 && !s->never_started)
        return -1;
    print_running(s, running, established);
    if (rc < 0)
        return -1;
    print_facts(&f);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    struct info_args a = {
        .cli = {.prog = "vtpm info", .timeout_ms = CLI_DEFAULT_TIMEOUT_MS},
    };
    struct tpm_session s = {.args = &a, .data = {.fd = -1}};
    char how[sizeof(a.ctrl_ep.path) + 64];

    int rc = parse_args(&a, argc, argv);
    if (rc > 0) {
        help_info();
        return CLI_EXIT_OK;
    }
    if (rc < 0)
        return CLI_EXIT_USAGE;
    if (a.ctrl_ep.is_unix)
        snprintf(how, sizeof(how), "--ctrl type=unixio,path=%s", a.ctrl_ep.path);
    else
        snprintf(how, sizeof(how), "--server type=tcp,port=%u --ctrl type=tcp,port=%u",
                 a.data_ep.port, a.ctrl_ep.port);
    if (conn_open(&s.ctrl, &a.cli, &a.ctrl_ep, "control channel", how) < 0)
        return CLI_EXIT_FAIL;
    rc = run(&s);
    conn_close(&s.data);
    conn_close(&s.ctrl);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
