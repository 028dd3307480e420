/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vtpm ctl`: the control channel by hand, a superset of swtpm_ioctl over
 * sockets. Where swtpm_ioctl prints something on success, the same words are
 * printed here, so scripts written for one work with the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "ctrl_client.h"
#include "proto/ctrl.h"
#include "util/buf.h"

/* swtpm_ioctl's default control port for --tcp HOST: */
#define DEFAULT_CTRL_PORT 6546
/* swtpm_ioctl hashes in pieces of this size (struct ptm_hdata) */
#define HASH_CHUNK 4096u
/* Largest blob --load reads; swtpm has no limit, real states are < 1 MiB */
#define LOAD_MAX (256u * 1024 * 1024)

enum ctl_op {
    OP_NONE,
    OP_CAPS,
    OP_INIT,
    OP_STOP,
    OP_SHUTDOWN,
    OP_ESTABLISHED,
    OP_RESET_ESTABLISHED,
    OP_LOCALITY,
    OP_CANCEL,
    OP_STORE_VOLATILE,
    OP_HASH,
    OP_SAVE,
    OP_LOAD,
    OP_CONFIG,
    OP_BUFFER_SIZE,
    OP_INFO,
    OP_LOCK_STORAGE,
};

struct ctl_args {
    struct cli cli;
    struct endpoint ep;
    bool have_ep;
    enum ctl_op op;
    const char *op_flag; /* the option that chose op, for messages */
    uint64_t num;        /* locality, buffer size, info flags or retries */
    uint32_t blob_type;
    const char *data; /* -h DATA, or the --save/--load FILE */
};

enum long_only {
    OPT_UNIX = 0x100,
    OPT_TCP,
    OPT_STOP,
    OPT_SAVE,
    OPT_LOAD,
    OPT_INFO,
    OPT_LOCK_STORAGE,
    OPT_HELP,
    OPT_CUSE,
};

static const struct option long_options[] = {
    {"unix", required_argument, NULL, OPT_UNIX},
    {"tcp", required_argument, NULL, OPT_TCP},
    {"stop", no_argument, NULL, OPT_STOP},
    {"save", required_argument, NULL, OPT_SAVE},
    {"load", required_argument, NULL, OPT_LOAD},
    {"info", required_argument, NULL, OPT_INFO},
    {"lock-storage", required_argument, NULL, OPT_LOCK_STORAGE},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, OPT_HELP},
    {"tpm-device", required_argument, NULL, OPT_CUSE},
    {NULL, 0, NULL, 0},
};

void help_ctl(void)
{
    fputs("Usage: vtpm ctl (--unix PATH | --tcp [HOST:]PORT) [-t SECONDS] OPERATION\n"
          "\n"
          "Sends one command on the control channel of vtpmd or swtpm, as swtpm_ioctl\n"
          "does over sockets, and prints the answer in swtpm_ioctl's words.\n"
          "\n"
          "Where:\n"
          "  --unix PATH            the control socket (vtpmd/swtpm --ctrl type=unixio,path=PATH)\n"
          "  --tcp [HOST:]PORT      the control port (--ctrl type=tcp,port=PORT); HOST defaults\n"
          "                         to 127.0.0.1, PORT to 6546 when written as HOST:\n"
          "  -t, --timeout SECONDS  give up waiting for an answer after this long (default 10)\n"
          "\n"
          "Operations (exactly one):\n"
          "  -c                     capabilities: the mask and the name of each bit\n"
          "  -i                     CMD_INIT (TPM_Init) with the delete-volatile flag: resume\n"
          "                         from saved volatile state, if any, then delete it\n"
          "  --stop                 CMD_STOP: stop the TPM; the daemon keeps running\n"
          "  -s                     CMD_SHUTDOWN: stop the TPM and end the daemon\n"
          "  -e                     print the tpmEstablished bit\n"
          "  -r LOC                 reset tpmEstablished from locality LOC (3 or 4)\n"
          "  -l LOC                 set the locality of later TPM commands (0..4)\n"
          "  -C                     cancel the TPM command in progress\n"
          "  -v                     store the volatile state (CMD_STORE_VOLATILE)\n"
          "  -h DATA                hash DATA as the CPU does at DRTM launch (HASH_START,\n"
          "                         HASH_DATA, HASH_END); '-' hashes standard input\n"
          "  --save TYPE FILE       write the state blob TYPE (permanent, volatile, savestate)\n"
          "                         to FILE (mode 0600, written only once complete)\n"
          "  --load TYPE FILE       load FILE as state blob TYPE; the TPM must be stopped\n"
          "  -g                     configuration flags (which keys are in use)\n"
          "  -b SIZE                set the TPM's I/O buffer size (TPM stopped), 0 only asks;\n"
          "                         prints the size in use and the supported range\n"
          "  --info FLAGS           libtpms' information as JSON; FLAGS 1: specification,\n"
          "                         2: attributes, 3: both\n"
          "  --lock-storage RETRIES take the state storage lock (CMD_LOCK_STORAGE, swtpm 0.8)\n"
          "  --help                 this text\n"
          "\n"
          "Exit status: 0 success; 1 the daemon answered a non-zero result (printed as\n"
          "\"TPM result code: 0x.. (NAME)\"), or no answer came; 2 usage error.\n",
          stdout);
}

static int set_op(struct ctl_args *a, enum ctl_op op, const char *flag)
{
    if (a->op != OP_NONE) {
        cli_err(&a->cli, "%s and %s: give one operation per call", a->op_flag, flag);
        return -1;
    }
    a->op = op;
    a->op_flag = flag;
    return 0;
}

static int parse_locality(struct ctl_args *a, const char *arg)
{
    if (cli_parse_uint(arg, UINT64_MAX, &a->num) < 0 || a->num > 4) {
        cli_err(&a->cli, "locality '%s' is outside 0..4 (the five localities of TIS/CRB)", arg);
        return -1;
    }
    return 0;
}

static int parse_number(struct ctl_args *a, const char *arg, uint64_t max, const char *what)
{
    if (cli_parse_uint(arg, max, &a->num) < 0) {
        cli_err(&a->cli, "%s '%s' is not a number from 0 to %" PRIu64, what, arg, max);
        return -1;
    }
    return 0;
}

/* PTM_BLOB_TYPE_PERMANENT = 1, VOLATILE = 2, SAVESTATE = 3 */
static const char *const blob_types[] = {"permanent", "volatile", "savestate"};

static const char *blob_type_name(uint32_t type)
{
    return type >= 1 && type <= 3 ? blob_types[type - 1] : "unknown";
}

/* --save/--load TYPE FILE: FILE is the argument after TYPE. */
static int parse_blob_args(struct ctl_args *a, int argc, char **argv, const char *flag)
{
    a->blob_type = 0;
    for (uint32_t i = 0; i < 3; i++)
        if (!strcmp(optarg, blob_types[i]))
            a->blob_type = i + 1;
    if (!a->blob_type) {
        cli_err(&a->cli, "%s: unknown TPM state type '%s' (permanent, volatile or savestate)", flag,
                optarg);
        return -1;
    }
    if (optind >= argc || !argv[optind][0]) {
        cli_err(&a->cli, "%s %s: the FILE argument is missing", flag, optarg);
        return -1;
    }
    a->data = argv[optind++];
    return 0;
}

static int parse_long_only(struct ctl_args *a, int opt, int argc, char **argv)
{
    switch (opt) {
    case OPT_UNIX:
        a->have_ep = true;
        return endpoint_set_unix(&a->cli, &a->ep, optarg);
    case OPT_TCP:
        a->have_ep = true;
        return endpoint_set_tcp(&a->cli, &a->ep, optarg, DEFAULT_CTRL_PORT);
    case OPT_STOP:
        return set_op(a, OP_STOP, "--stop");
    case OPT_SAVE:
        return set_op(a, OP_SAVE, "--save") < 0 ? -1 : parse_blob_args(a, argc, argv, "--save");
    case OPT_LOAD:
        return set_op(a, OP_LOAD, "--load") < 0 ? -1 : parse_blob_args(a, argc, argv, "--load");
    case OPT_INFO:
        return set_op(a, OP_INFO, "--info") < 0 ? -1
                                                : parse_number(a, optarg, UINT64_MAX, "--info");
    case OPT_LOCK_STORAGE:
        if (set_op(a, OP_LOCK_STORAGE, "--lock-storage") < 0)
            return -1;
        return parse_number(a, optarg, UINT32_MAX, "--lock-storage");
    case OPT_CUSE:
        cli_err(&a->cli, "--tpm-device: CUSE character devices are not supported; "
                         "use --unix PATH or --tcp [HOST:]PORT");
        return -1;
    default:
        return -1;
    }
}

static int parse_short(struct ctl_args *a, int opt)
{
    switch (opt) {
    case 'c':
        return set_op(a, OP_CAPS, "-c");
    case 'i':
        return set_op(a, OP_INIT, "-i");
    case 's':
        return set_op(a, OP_SHUTDOWN, "-s");
    case 'e':
        return set_op(a, OP_ESTABLISHED, "-e");
    case 'C':
        return set_op(a, OP_CANCEL, "-C");
    case 'v':
        return set_op(a, OP_STORE_VOLATILE, "-v");
    case 'g':
        return set_op(a, OP_CONFIG, "-g");
    case 'r':
        return set_op(a, OP_RESET_ESTABLISHED, "-r") < 0 ? -1 : parse_locality(a, optarg);
    case 'l':
        return set_op(a, OP_LOCALITY, "-l") < 0 ? -1 : parse_locality(a, optarg);
    case 'b':
        return set_op(a, OP_BUFFER_SIZE, "-b") < 0 ? -1 : parse_number(a, optarg, UINT32_MAX, "-b");
    case 'h':
        a->data = optarg;
        return set_op(a, OP_HASH, "-h");
    case 't':
        return cli_parse_timeout(&a->cli, optarg);
    default:
        return -1;
    }
}

static void report_bad_option(const struct ctl_args *a, int opt, char **argv)
{
    char short_name[3] = {'-', (char)optopt, '\0'};
    const char *given = argv[optind - 1];
    const char *name = optopt > 0 && optopt < 0x100 && given[1] != '-' ? short_name : given;

    if (opt == '?')
        cli_err(&a->cli, "unknown option '%s' (see `vtpm help ctl`)", name);
    else if (optopt == 'h')
        cli_err(&a->cli, "-h needs DATA to hash, as in swtpm_ioctl; --help shows the help");
    else
        cli_err(&a->cli, "option '%s' needs an argument", name);
}

/* Returns 0, -1 on a usage error (printed), or 1 when --help was given. */
static int parse_args(struct ctl_args *a, int argc, char **argv)
{
    int opt;

    opterr = 0;
    optind = 1;
    /* '+': stop at the first operand, so --save/--load may take the FILE after TYPE. */
    while ((opt = getopt_long(argc, argv, "+:ciseCvgr:l:b:h:t:", long_options, NULL)) != -1) {
        if (opt == OPT_HELP)
            return 1;
        if (opt == '?' || opt == ':') {
            report_bad_option(a, opt, argv);
            return -1;
        }
        int rc = opt >= 0x100 ? parse_long_only(a, opt, argc, argv) : parse_short(a, opt);
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        cli_err(&a->cli,
                "unexpected argument '%s' (vtpm ctl talks to sockets: --unix PATH or "
                "--tcp [HOST:]PORT)",
                argv[optind]);
        return -1;
    }
    if (!a->have_ep) {
        cli_err(&a->cli, "where is the daemon? give --unix PATH or --tcp [HOST:]PORT");
        return -1;
    }
    if (a->op == OP_NONE) {
        cli_err(&a->cli, "no operation given (e.g. -c; see `vtpm help ctl`)");
        return -1;
    }
    return 0;
}

/* Checks a result: prints and fails on a non-zero one. */
static int check_result(const struct ctl_args *a, uint32_t cmd, uint32_t res)
{
    if (res == 0)
        return 0;
    ctrl_print_result(&a->cli, cmd, res);
    return -1;
}

/* A command whose request is `body` and whose answer is only the result. */
static int simple_call(const struct ctl_args *a, struct conn *c, uint32_t cmd, const uint8_t *body,
                       size_t body_len)
{
    uint32_t res;

    if (ctrl_call(c, cmd, body, body_len, -1, &res, NULL, 0) < 0)
        return -1;
    return check_result(a, cmd, res);
}

static int op_caps(const struct ctl_args *a, struct conn *c)
{
    uint64_t caps;

    if (ctrl_get_capability(c, &caps) < 0)
        return -1;
    printf("ptm capability is 0x%" PRIx64 "\n", caps);
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(caps >> bit & 1))
            continue;
        const char *name = ctrl_cap_name(bit);
        if (name)
            printf("  0x%05" PRIx64 " %s\n", (uint64_t)1 << bit, name);
        else
            printf("  0x%05" PRIx64 " (bit %u, unknown to this vtpm)\n", (uint64_t)1 << bit, bit);
    }
    (void)a;
    return 0;
}

static int op_u8(const struct ctl_args *a, struct conn *c, uint32_t cmd)
{
    uint8_t body[1] = {(uint8_t)a->num};

    return simple_call(a, c, cmd, body, sizeof(body));
}

static int op_u32(const struct ctl_args *a, struct conn *c, uint32_t cmd, uint32_t value)
{
    uint8_t body[4];

    put_be32(body, value);
    return simple_call(a, c, cmd, body, sizeof(body));
}

static int op_established(const struct ctl_args *a, struct conn *c)
{
    uint8_t resp[1]; /* u8 bit; the 3 padding bytes after it are not needed */
    uint32_t res;
    struct vtpm_reader r;

    if (ctrl_call(c, VTPM_CMD_GET_TPMESTABLISHED, NULL, 0, -1, &res, resp, sizeof(resp)) < 0)
        return -1;
    if (check_result(a, VTPM_CMD_GET_TPMESTABLISHED, res) < 0)
        return -1;
    vtpm_reader_init(&r, resp, sizeof(resp));
    printf("tpmEstablished is %u\n", vtpm_read_u8(&r) & 1);
    return 0;
}

static int op_config(const struct ctl_args *a, struct conn *c)
{
    uint8_t resp[4];
    uint32_t res;
    struct vtpm_reader r;

    if (ctrl_call(c, VTPM_CMD_GET_CONFIG, NULL, 0, -1, &res, resp, sizeof(resp)) < 0)
        return -1;
    if (check_result(a, VTPM_CMD_GET_CONFIG, res) < 0)
        return -1;
    vtpm_reader_init(&r, resp, sizeof(resp));
    uint32_t flags = vtpm_read_be32(&r);
    printf("ptm configuration flags: 0x%x\n", flags);
    if (flags & VTPM_CONFIG_FLAG_FILE_KEY)
        printf("  0x1 FILE_KEY: the state is encrypted with a key (--key)\n");
    if (flags & VTPM_CONFIG_FLAG_MIGRATION_KEY)
        printf("  0x2 MIGRATION_KEY: state blobs leave encrypted (--migration-key)\n");
    return 0;
}

static int op_buffer_size(const struct ctl_args *a, struct conn *c)
{
    uint8_t body[4], resp[12];
    uint32_t res;
    struct vtpm_reader r;

    put_be32(body, (uint32_t)a->num);
    if (ctrl_call(c, VTPM_CMD_SET_BUFFERSIZE, body, sizeof(body), -1, &res, resp, sizeof(resp)) < 0)
        return -1;
    if (check_result(a, VTPM_CMD_SET_BUFFERSIZE, res) < 0)
        return -1;
    vtpm_reader_init(&r, resp, sizeof(resp));
    uint32_t size = vtpm_read_be32(&r);
    uint32_t min = vtpm_read_be32(&r);
    uint32_t max = vtpm_read_be32(&r);
    printf("TPM buffersize: %u\nminimum size  : %u\nmaximum size  : %u\n", size, min, max);
    return 0;
}

static int op_info(const struct ctl_args *a, struct conn *c)
{
    uint32_t res;
    char *text;

    if (ctrl_get_info(c, a->num, &res, &text) < 0)
        return -1;
    if (check_result(a, VTPM_CMD_GET_INFO, res) < 0)
        return -1;
    printf("%s\n", text);
    free(text);
    return 0;
}

static int hash_piece(const struct ctl_args *a, struct conn *c, const uint8_t *data, size_t len)
{
    uint8_t body[4 + HASH_CHUNK];

    put_be32(body, (uint32_t)len);
    memcpy(body + 4, data, len);
    return simple_call(a, c, VTPM_CMD_HASH_DATA, body, 4 + len);
}

static int hash_stdin(const struct ctl_args *a, struct conn *c)
{
    uint8_t buf[HASH_CHUNK];

    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), stdin);
        if (n && hash_piece(a, c, buf, n) < 0)
            return -1;
        if (n < sizeof(buf))
            break;
    }
    if (ferror(stdin)) {
        cli_err(&a->cli, "-h -: cannot read standard input: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int op_hash(const struct ctl_args *a, struct conn *c)
{
    const uint8_t *data = (const uint8_t *)a->data;
    size_t len = strlen(a->data);

    if (simple_call(a, c, VTPM_CMD_HASH_START, NULL, 0) < 0)
        return -1;
    if (!strcmp(a->data, "-")) {
        if (hash_stdin(a, c) < 0)
            return -1;
    } else {
        for (size_t off = 0; off < len; off += HASH_CHUNK) {
            size_t n = len - off < HASH_CHUNK ? len - off : HASH_CHUNK;
            if (hash_piece(a, c, data + off, n) < 0)
                return -1;
        }
    }
    return simple_call(a, c, VTPM_CMD_HASH_END, NULL, 0);
}

static int write_file(const struct ctl_args *a, const uint8_t *data, size_t len)
{
    int fd = open(a->data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0) {
        cli_err(&a->cli, "cannot open '%s' for writing: %s", a->data, strerror(errno));
        return -1;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cli_err(&a->cli, "cannot write '%s': %s", a->data, strerror(errno));
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (close(fd) < 0) {
        cli_err(&a->cli, "cannot write '%s': %s", a->data, strerror(errno));
        return -1;
    }
    return 0;
}

/* One GET_STATEBLOB round from offset *have; appends to *blob. Returns -1, 0, or 1 when done. */
static int save_piece(const struct ctl_args *a, struct conn *c, uint8_t **blob, size_t *have,
                      uint32_t *state_flags)
{
    uint8_t body[12], hdr[12];
    uint32_t res;
    struct vtpm_reader r;

    put_be32(body, VTPM_STATE_FLAG_DECRYPTED);
    put_be32(body + 4, a->blob_type);
    put_be32(body + 8, (uint32_t)*have);
    if (ctrl_call(c, VTPM_CMD_GET_STATEBLOB, body, sizeof(body), -1, &res, hdr, sizeof(hdr)) < 0)
        return -1;
    if (res == VTPM_RES_RETRY && *have == 0) {
        /* No blob of this type: an empty file, as swtpm_ioctl and QEMU's migration treat it. */
        cli_err(&a->cli,
                "note: the TPM holds no %s blob (CMD_GET_STATEBLOB answers 0x800 RETRY); "
                "'%s' will be empty, and loading it restores that absence",
                blob_type_name(a->blob_type), a->data);
        return 1;
    }
    if (check_result(a, VTPM_CMD_GET_STATEBLOB, res) < 0)
        return -1;
    vtpm_reader_init(&r, hdr, sizeof(hdr));
    *state_flags = vtpm_read_be32(&r);
    uint32_t total = vtpm_read_be32(&r);
    uint32_t len = vtpm_read_be32(&r);
    if (len > total || *have > total - len || (len == 0 && *have < total)) {
        cli_err(&a->cli,
                "CMD_GET_STATEBLOB: the answer carries %u bytes at offset %zu of a "
                "%u-byte blob; that does not add up (a broken daemon?)",
                len, *have, total);
        return -1;
    }
    uint8_t *grown = realloc(*blob, *have + len + 1);
    if (!grown) {
        cli_err(&a->cli, "out of memory for a %u-byte state blob", total);
        return -1;
    }
    *blob = grown;
    if (conn_recv(c, *blob + *have, len, "CMD_GET_STATEBLOB") < 0)
        return -1;
    *have += len;
    return *have == total;
}

static int op_save(const struct ctl_args *a, struct conn *c)
{
    uint8_t *blob = NULL;
    size_t have = 0;
    uint32_t state_flags = 0;
    int rc;

    while ((rc = save_piece(a, c, &blob, &have, &state_flags)) == 0)
        ;
    if (rc > 0)
        rc = write_file(a, blob, have);
    free(blob);
    if (rc >= 0 && (state_flags & VTPM_STATE_FLAG_ENCRYPTED))
        cli_err(&a->cli,
                "note: the daemon flagged '%s' as encrypted (PTM_STATE_FLAG_ENCRYPTED); "
                "--load sends blobs back with state flags 0, as swtpm_ioctl does",
                a->data);
    return rc < 0 ? -1 : 0;
}

static int read_file(const struct ctl_args *a, uint8_t **data, size_t *len)
{
    int fd = open(a->data, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0) {
        cli_err(&a->cli, "cannot open '%s' for reading: %s", a->data, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > LOAD_MAX) {
        cli_err(&a->cli, "'%s' is not a regular file of at most %u MiB", a->data, LOAD_MAX >> 20);
        close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = malloc(*len + 1);
    size_t done = 0;
    while (*data && done < *len) {
        ssize_t n = read(fd, *data + done, *len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (!*data || done != *len) {
        cli_err(&a->cli, "cannot read '%s': %s", a->data,
                *data ? "it changed while read" : "out of memory");
        free(*data);
        return -1;
    }
    return 0;
}

static int op_load(const struct ctl_args *a, struct conn *c)
{
    uint8_t *blob, *body;
    size_t len;

    if (read_file(a, &blob, &len) < 0)
        return -1;
    body = malloc(12 + len);
    if (!body) {
        free(blob);
        cli_err(&a->cli, "out of memory for a %zu-byte state blob", len);
        return -1;
    }
    put_be32(body, 0); /* state flags 0, as swtpm_ioctl: swtpm reads encryption from the blob */
    put_be32(body + 4, a->blob_type);
    put_be32(body + 8, (uint32_t)len);
    memcpy(body + 12, blob, len);
    free(blob);
    int rc = simple_call(a, c, VTPM_CMD_SET_STATEBLOB, body, 12 + len);
    free(body);
    return rc;
}

static int run_op(const struct ctl_args *a, struct conn *c)
{
    switch (a->op) {
    case OP_CAPS:
        return op_caps(a, c);
    case OP_INIT:
        return op_u32(a, c, VTPM_CMD_INIT, VTPM_INIT_FLAG_DELETE_VOLATILE);
    case OP_STOP:
        return simple_call(a, c, VTPM_CMD_STOP, NULL, 0);
    case OP_SHUTDOWN:
        return simple_call(a, c, VTPM_CMD_SHUTDOWN, NULL, 0);
    case OP_ESTABLISHED:
        return op_established(a, c);
    case OP_RESET_ESTABLISHED:
        return op_u8(a, c, VTPM_CMD_RESET_TPMESTABLISHED);
    case OP_LOCALITY:
        return op_u8(a, c, VTPM_CMD_SET_LOCALITY);
    case OP_CANCEL:
        return simple_call(a, c, VTPM_CMD_CANCEL_TPM_CMD, NULL, 0);
    case OP_STORE_VOLATILE:
        return simple_call(a, c, VTPM_CMD_STORE_VOLATILE, NULL, 0);
    case OP_HASH:
        return op_hash(a, c);
    case OP_SAVE:
        return op_save(a, c);
    case OP_LOAD:
        return op_load(a, c);
    case OP_CONFIG:
        return op_config(a, c);
    case OP_BUFFER_SIZE:
        return op_buffer_size(a, c);
    case OP_INFO:
        return op_info(a, c);
    case OP_LOCK_STORAGE:
        return op_u32(a, c, VTPM_CMD_LOCK_STORAGE, (uint32_t)a->num);
    case OP_NONE:
        break;
    }
    return -1;
}

int cmd_ctl(int argc, char **argv)
{
    struct ctl_args a = {
        .cli = {.prog = "vtpm ctl", .timeout_ms = CLI_DEFAULT_TIMEOUT_MS},
    };
    struct conn c;
    char how[sizeof(a.ep.path) + 64];

    int rc = parse_args(&a, argc, argv);
    if (rc > 0) {
        help_ctl();
        return CLI_EXIT_OK;
    }
    if (rc < 0)
        return CLI_EXIT_USAGE;
    if (a.ep.is_unix)
        snprintf(how, sizeof(how), "--ctrl type=unixio,path=%s", a.ep.path);
    else
        snprintf(how, sizeof(how), "--ctrl type=tcp,port=%u", a.ep.port);
    if (conn_open(&c, &a.cli, &a.ep, "control channel", how) < 0)
        return CLI_EXIT_FAIL;
    rc = run_op(&a, &c);
    conn_close(&c);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
