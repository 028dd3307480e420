/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `vtpm trace`: a decoding proxy on a TPM data channel. Clients (tpm2-tools'
 * swtpm TCTI, tcsd, a test harness) connect to the address vtpm listens on;
 * each connection is forwarded byte for byte to the daemon's data channel
 * (vtpmd or swtpm), and every command and response that passes is printed
 * with its name, locality, size, response code and round-trip time.
 *
 * Bytes are forwarded as they arrive and never changed: the decoder only
 * watches (src/proto/tpmstream.c). A stream that turns out not to be TPM
 * traffic is still forwarded, and said so once.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"
#include "proto/names.h"
#include "proto/tpm.h"
#include "proto/tpmstream.h"
#include "util/io.h"

#define KEEP_BYTES 4096u /* per message, for --hex */
#define IO_CHUNK 65536u

struct trace_args {
    struct cli cli;
    struct endpoint listen_ep;
    struct endpoint upstream_ep;
    bool have_listen, have_upstream;
    bool hex;
    bool once;
    uint64_t count; /* 0: without end */
};

/* One proxied connection and what its two streams have shown. */
struct session {
    const struct trace_args *a;
    unsigned client;
    struct vtpm_tpmstream cmds, rsps;
    uint8_t cmd_buf[KEEP_BYTES], rsp_buf[KEEP_BYTES];
    struct vtpm_tpmstream_msg cmd; /* the command awaiting its response */
    uint8_t cmd_copy[KEEP_BYTES];
    bool cmd_pending;
    int64_t cmd_us;
    bool garbage_said;
};

static volatile sig_atomic_t stop_requested;

static uint64_t answered; /* responses seen, for --count */

enum {
    OPT_LISTEN_TCP = 0x100,
    OPT_LISTEN_UNIX,
    OPT_TCP,
    OPT_UNIX,
    OPT_HEX,
    OPT_ONCE,
    OPT_COUNT,
    OPT_HELP
};

static const struct option long_options[] = {
    {"listen-tcp", required_argument, NULL, OPT_LISTEN_TCP},
    {"listen-unix", required_argument, NULL, OPT_LISTEN_UNIX},
    {"tcp", required_argument, NULL, OPT_TCP},
    {"unix", required_argument, NULL, OPT_UNIX},
    {"hex", no_argument, NULL, OPT_HEX},
    {"once", no_argument, NULL, OPT_ONCE},
    {"count", required_argument, NULL, OPT_COUNT},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void help_trace(void)
{
    fputs("Usage: vtpm trace (--listen-tcp [HOST:]PORT | --listen-unix PATH)\n"
          "                  (--tcp [HOST:]PORT | --unix PATH) [--hex] [--once] [--count N]\n"
          "\n"
          "A decoding proxy for a TPM data channel. Point the client (tpm2-tools'\n"
          "swtpm TCTI, tcsd, a test harness) at the --listen address; vtpm forwards\n"
          "each connection unchanged to the daemon's data channel at --tcp/--unix\n"
          "(vtpmd or swtpm: --server type=tcp/unixio) and prints one line per\n"
          "command:\n"
          "\n"
          "  #N  client C  loc L  NAME (CODE)  SIZE B  ->  RESPONSE CODE  SIZE B  TIME ms\n"
          "\n"
          "NAME is the TPM 2.0 command (TPM2_...) or TPM 1.2 ordinal (TPM_ORD_...);\n"
          "loc is the locality of the TCG send-command prefix (0 without one).\n"
          "\n"
          "  --listen-tcp [HOST:]PORT  where clients connect (HOST defaults to 127.0.0.1)\n"
          "  --listen-unix PATH        the same on a unix socket (created; must not exist)\n"
          "  --tcp [HOST:]PORT         the daemon's data channel\n"
          "  --unix PATH               the daemon's data channel on a unix socket\n"
          "  --hex                     also print each command and response in hex\n"
          "  --once                    stop when the first client disconnects\n"
          "  --count N                 stop after N responses\n"
          "  -t, --timeout SECONDS     bound on connecting to the daemon (default 10)\n"
          "\n"
          "One client is served at a time, as swtpm and vtpmd do; the next waits.\n"
          "QEMU cannot be traced this way: it hands its data channel to the daemon\n"
          "as a file descriptor (use vtpmd --log level=20 for its commands).\n"
          "Note: tpm2-tools' swtpm TCTI sends control commands to PORT + 1, so give\n"
          "it the port vtpm listens on and run the daemon's --ctrl on that port + 1.\n"
          "\n"
          "Exit status: 0 after --once/--count or SIGINT/SIGTERM; 1 if the daemon\n"
          "cannot be reached or the address cannot be bound; 2 usage error.\n",
          stdout);
}

static int parse_args(struct trace_args *a, int argc, char **argv)
{
    int opt;
    uint64_t n;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:t:", long_options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case OPT_HELP:
            return 1;
        case OPT_LISTEN_TCP:
            a->have_listen = true;
            rc = endpoint_set_tcp(&a->cli, &a->listen_ep, optarg, 0);
            break;
        case OPT_LISTEN_UNIX:
            a->have_listen = true;
            rc = endpoint_set_unix(&a->cli, &a->listen_ep, optarg);
            break;
        case OPT_TCP:
            a->have_upstream = true;
            rc = endpoint_set_tcp(&a->cli, &a->upstream_ep, optarg, 0);
            break;
        case OPT_UNIX:
            a->have_upstream = true;
            rc = endpoint_set_unix(&a->cli, &a->upstream_ep, optarg);
            break;
        case OPT_HEX:
            a->hex = true;
            break;
        case OPT_ONCE:
            a->once = true;
            break;
        case OPT_COUNT:
            rc = cli_parse_uint(optarg, UINT32_MAX, &n);
            if (rc < 0 || n == 0) {
                cli_err(&a->cli, "--count '%s': give a number of responses, 1 or more", optarg);
                return -1;
            }
            a->count = n;
            break;
        case 't':
            rc = cli_parse_timeout(&a->cli, optarg);
            break;
        case ':':
            cli_err(&a->cli, "option '%s' needs an argument", argv[optind - 1]);
            return -1;
        default:
            cli_err(&a->cli, "unknown option '%s' (see `vtpm help trace`)", argv[optind - 1]);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        cli_err(&a->cli, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!a->have_listen || !a->have_upstream) {
        cli_err(&a->cli, "give where clients connect (--listen-tcp/--listen-unix) and where "
                         "the daemon's data channel is (--tcp/--unix)");
        return -1;
    }
    return 0;
}

/* ---- listening ------------------------------------------------------------ */

static int listen_unix(const struct trace_args *a)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->listen_ep.path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        cli_err(&a->cli, "cannot listen on %s: %s%s", a->listen_ep.path, strerror(errno),
                errno == EADDRINUSE ? " (remove the stale socket file or pick another path)" : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const struct trace_args *a)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[8];
    int fd = -1, err;

    snprintf(port, sizeof(port), "%u", a->listen_ep.port);
    err = getaddrinfo(a->listen_ep.host, port, &hints, &res);
    if (err != 0) {
        cli_err(&a->cli, "--listen-tcp %s: %s", a->listen_ep.host, gai_strerror(err));
        return -1;
    }
    errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
            err = errno;
            close(fd);
            fd = -1;
            errno = err;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        cli_err(&a->cli, "cannot listen on %s:%u: %s", a->listen_ep.host, a->listen_ep.port,
                strerror(errno ? errno : EADDRNOTAVAIL));
    return fd;
}

/* ---- decoding ------------------------------------------------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static enum vtpm_family family_of_tag(uint16_t tag)
{
    return (tag & 0xFF00) == 0x8000 ? VTPM_FAMILY_20 : VTPM_FAMILY_12;
}

static void command_name(const struct vtpm_tpmstream_msg *m, char *out, size_t cap)
{
    bool v2 = family_of_tag(m->tag) == VTPM_FAMILY_20;
    const char *name = v2 ? vtpm_tpm2_cc_name(m->code) : vtpm_tpm12_ord_name(m->code);

    if (name)
        snprintf(out, cap, "%s%s (0x%" PRIx32 ")", v2 ? "TPM2_" : "TPM_ORD_", name, m->code);
    else
        snprintf(out, cap, "unknown command 0x%08" PRIx32, m->code);
}

static void print_hex(char dir, const struct vtpm_tpmstream_msg *m)
{
    printf("      %c ", dir);
    for (size_t i = 0; i < m->kept; i++)
        printf("%02x", m->bytes[i]);
    if (m->kept < m->size)
        printf(" ... (%" PRIu32 " bytes more)", (uint32_t)(m->size - m->kept));
    putchar('\n');
}

static void on_command(struct session *s, const struct vtpm_tpmstream_msg *m)
{
    s->cmd = *m;
    memcpy(s->cmd_copy, m->bytes, m->kept);
    s->cmd.bytes = s->cmd_copy;
    s->cmd_pending = true;
    s->cmd_us = mono_us();
    s->rsps.prefixed_next = m->prefixed; /* the answer is framed as the question */
}

static void on_response(struct session *s, const struct vtpm_tpmstream_msg *r)
{
    char name[96], rc[96];
    double ms = s->cmd_pending ? (double)(mono_us() - s->cmd_us) / 1000.0 : 0.0;

    answered++;
    if (!s->cmd_pending) {
        printf("#%-4" PRIu64 " client %u  response without a command: 0x%" PRIx32 ", %" PRIu32
               " B\n",
               answered, s->client, r->code, r->size);
        return;
    }
    command_name(&s->cmd, name, sizeof(name));
    vtpm_tpm_rc_describe(family_of_tag(s->cmd.tag), r->code, rc, sizeof(rc));
    printf("#%-4" PRIu64 " client %u  loc %u  %-36s %5" PRIu32 " B  ->  %s (0x%" PRIx32
           ")  %" PRIu32 " B  %.3f ms\n",
           answered, s->client, s->cmd.locality, name, s->cmd.size, rc, r->code, r->size, ms);
    if (s->a->hex) {
        print_hex('>', &s->cmd);
        print_hex('<', r);
    }
    s->cmd_pending = false;
    fflush(stdout);
}

/* Watches bytes going one way; decoding problems are said once and never stop the forwarding. */
static void watch(struct session *s, bool responses, const uint8_t *p, size_t n)
{
    struct vtpm_tpmstream *st = responses ? &s->rsps : &s->cmds;
    size_t off = 0;

    while (off < n) {
        struct vtpm_tpmstream_msg m;
        size_t used = 0;
        enum vtpm_tpmstream_event ev = vtpm_tpmstream_feed(st, p + off, n - off, &used, &m);
        off += used;
        if (ev == VTPM_TPMSTREAM_GARBAGE) {
            if (!s->garbage_said)
                printf("client %u: the %s are not TPM traffic (%s); forwarding without "
                       "decoding\n",
                       s->client, responses ? "responses" : "commands", st->why);
            s->garbage_said = true;
            return;
        }
        if (ev == VTPM_TPMSTREAM_NEED_MORE)
            return;
        if (responses)
            on_response(s, &m);
        else
            on_command(s, &m);
    }
}

/* ---- forwarding ----------------------------------------------------------- */

static bool done_counting(const struct trace_args *a)
{
    return a->count && answered >= a->count;
}

/* Copies what `from` has to `to`; 0 on EOF or error (the session ends). */
static int pump(struct session *s, int from, int to, bool responses)
{
    static uint8_t buf[IO_CHUNK];
    ssize_t n = read(from, buf, sizeof(buf));

    if (n <= 0)
        return 0;
    if (vtpm_write_full(to, buf, (size_t)n) < 0)
        return 0;
    watch(s, responses, buf, (size_t)n);
    return 1;
}

static void serve(const struct trace_args *a, int client_fd, unsigned client)
{
    struct conn up;
    struct session *s = calloc(1, sizeof(*s));

    if (!s) {
        cli_err(&a->cli, "out of memory");
        return;
    }
    s->a = a;
    s->client = client;
    vtpm_tpmstream_init(&s->cmds, false, s->cmd_buf, sizeof(s->cmd_buf));
    vtpm_tpmstream_init(&s->rsps, true, s->rsp_buf, sizeof(s->rsp_buf));
    printf("client %u connected\n", client);
    fflush(stdout);
    const char *how =
        a->upstream_ep.is_unix ? "--server type=unixio,path=PATH" : "--server type=tcp,port=PORT";
    if (conn_open(&up, &a->cli, &a->upstream_ep, "data channel", how) < 0) {
        free(s);
        return; /* the client sees its connection close, as with a daemon that is gone */
    }
    struct pollfd p[2] = {{.fd = client_fd, .events = POLLIN}, {.fd = up.fd, .events = POLLIN}};
    while (!stop_requested && !done_counting(a)) {
        int r = poll(p, 2, 200);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(s, client_fd, up.fd, false))
            break;
        if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(s, up.fd, client_fd, true))
            break;
    }
    if (s->cmd_pending)
        printf("client %u: the last command got no response\n", client);
    printf("client %u closed\n", client);
    fflush(stdout);
    conn_close(&up);
    free(s);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int cmd_trace(int argc, char **argv)
{
    struct trace_args a = {.cli = {.prog = "vtpm trace", .timeout_ms = CLI_DEFAULT_TIMEOUT_MS}};
    struct sigaction sa = {.sa_handler = on_signal};
    int rc = parse_args(&a, argc, argv);

    if (rc != 0) {
        if (rc > 0)
            help_trace();
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    int lfd = a.listen_ep.is_unix ? listen_unix(&a) : listen_tcp(&a);
    if (lfd < 0)
        return CLI_EXIT_FAIL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    char where[CONN_HOST_MAX + 64], to[CONN_HOST_MAX + 64];
    endpoint_describe(&a.listen_ep, where, sizeof(where));
    endpoint_describe(&a.upstream_ep, to, sizeof(to));
    printf("listening on %s, forwarding to %s\n", where, to);
    fflush(stdout);

    unsigned clients = 0;
    while (!stop_requested && !done_counting(&a)) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int r = poll(&p, 1, 200);
        if (r <= 0)
            continue;
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        serve(&a, cfd, ++clients);
        close(cfd);
        if (a.once)
            break;
    }
    close(lfd);
    if (a.listen_ep.is_unix)
        unlink(a.listen_ep.path);
    printf("%" PRIu64 " responses traced\n", answered);
    return CLI_EXIT_OK;
}
