/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtpm-bench: compares the TPM 2.0 daemon under test (vtpmd) with swtpm and with libtpms called
 * in-process, in one run on one machine.
 *
 * Machines are noisy, so the targets (vtpmd, swtpm, in-process libtpms and a bare loopback round
 * trip) are interleaved batch by batch, the order rotating every batch, everything is pinned to
 * one CPU by default (see pin_init), and the program prints medians and ratios; the ratios are
 * what the targets in bench/README.md speak of. It is a benchmark, not a test: targets are
 * printed as information, and the exit status is 0 unless something failed to run.
 *
 * libtpms holds one TPM per process, so this process hosts the in-process TPM and each daemon is
 * a child process with a fresh state directory, killed by pid at the end or on any failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_types.h>

#include "util/buf.h"

/* TPM 2.0 Part 2: structure tags, command codes, handles, algorithms, attributes */
#define TPM2_ST_NO_SESSIONS 0x8001u
#define TPM2_ST_SESSIONS 0x8002u
#define TPM2_CC_NV_DEFINE_SPACE 0x0000012Au
#define TPM2_CC_CREATE_PRIMARY 0x00000131u
#define TPM2_CC_NV_WRITE 0x00000137u
#define TPM2_CC_STARTUP 0x00000144u
#define TPM2_CC_FLUSH_CONTEXT 0x00000165u
#define TPM2_CC_GET_CAPABILITY 0x0000017Au
#define TPM2_CC_GET_RANDOM 0x0000017Bu
#define TPM2_CC_PCR_EXTEND 0x00000182u
#define TPM2_SU_CLEAR 0x0000u
#define TPM2_RH_OWNER 0x40000001u
#define TPM2_RS_PW 0x40000009u
#define TPM2_ALG_AES 0x0006u
#define TPM2_ALG_SHA256 0x000Bu
#define TPM2_ALG_NULL 0x0010u
#define TPM2_ALG_ECC 0x0023u
#define TPM2_ALG_CFB 0x0043u
#define TPM2_ECC_NIST_P256 0x0003u
#define TPM2_CAP_TPM_PROPERTIES 0x00000006u
#define TPM2_PT_FIXED 0x00000100u
#define TPMA_NV_AUTHWRITE 0x00000004u
#define TPMA_NV_AUTHREAD 0x00040000u
#define TPMA_NV_NO_DA 0x02000000u
/* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | decrypt:
 * the usual storage-parent template (Part 2 §8.3) */
#define TPMA_OBJECT_STORAGE_PARENT 0x00030072u

#define NV_INDEX 0x01500016u /* an ordinary index in the owner range */
#define NV_DATA_SIZE 64u
#define PCR_DEBUG 16u /* PC Client: the debug PCR, extendable from locality 0 */
#define SHA256_SIZE 32u

#define TPM_HDR_SIZE 10u
#define CMD_MAX 512u
#define RSP_MAX 4096u
#define ECHO_SIZE 10u
#define IO_TIMEOUT_S 10
#define START_TIMEOUT_NS (10ull * 1000000000ull)
#define STOP_TIMEOUT_MS 2000
#define START_ATTEMPTS 3
#define WARMUP 20u
#define MAX_LIVE 4

#define DEFAULT_VTPMD "build/tools/vtpmd/vtpmd"
#define DEFAULT_SWTPM "/usr/bin/swtpm"
#define DEFAULT_ITERATIONS 5000u
#define DEFAULT_STARTS 10u
#define QUICK_ITERATIONS 300u
#define QUICK_STARTS 5u

enum target {
    TARGET_VTPMD,
    TARGET_SWTPM,
    TARGET_INPROC,
    TARGET_RTT,
    TARGET_COUNT,
};

static const char *const target_names[TARGET_COUNT] = {"vtpmd", "swtpm", "in-proc", "bare-RTT"};

enum op_id {
    OP_GET_RANDOM,
    OP_PCR_EXTEND,
    OP_GET_CAPABILITY,
    OP_NV_WRITE,
    OP_CREATE_PRIMARY,
    OP_COUNT,
};

struct cmd_buf {
    uint8_t b[CMD_MAX];
    size_t len;
};

struct rsp_buf {
    uint8_t b[RSP_MAX];
    size_t len;
};

struct op {
    const char *name;
    struct cmd_buf cmd;
    bool cheap;        /* held to "bare round trip + in-process" */
    bool flush_handle; /* the response carries an object handle to flush, untimed */
    size_t counter_at; /* if nonzero: where each run stamps a fresh counter into the command */
    uint64_t counter;
    uint32_t iterations;
    uint32_t batch;
};

struct samples {
    uint64_t *ns;
    size_t n;
    size_t cap;
};

struct daemon {
    const char *label;
    const char *bin;
    int cpu;       /* pinned to this CPU, or -1 */
    pid_t pid;     /* > 0 while the child has not been reaped */
    int status;    /* wait status once reaped */
    int fd;        /* the one data connection, or -1 */
    uint16_t port; /* data port; the control port is port + 1 */
    uint64_t fork_ns;
    char dir[PATH_MAX]; /* fresh tmp dir holding state/ and daemon.log; "" when none */
};

struct inproc {
    unsigned char *rsp; /* libtpms's response buffer, reallocated by libtpms as it needs */
    uint32_t rsp_cap;
    uint8_t scratch[CMD_MAX];
};

struct echo {
    int listen_fd;
    int client_fd;
    int cpu; /* where the echo thread runs, or -1 */
    pthread_t thread;
    bool running;
};

enum pin_mode {
    PIN_SAME,  /* the bench, the daemons and the echo thread share one CPU */
    PIN_SPLIT, /* the bench on one CPU; the daemons and the echo thread on another */
    PIN_NONE,
};

struct options {
    enum pin_mode pin;
    const char *vtpmd_bin;
    const char *swtpm_bin;
    uint32_t iterations;
    uint32_t starts;
    bool only_swtpm;
    bool verbose;
};

struct op_result {
    bool have[TARGET_COUNT];
    double median_us[TARGET_COUNT];
    double p10_us[TARGET_COUNT];
    double p90_us[TARGET_COUNT];
    size_t count[TARGET_COUNT];
};

struct bench {
    struct options opt;
    struct daemon daemons[2]; /* indexed by TARGET_VTPMD, TARGET_SWTPM */
    int bench_cpu;            /* -1: not pinned */
    int peer_cpu;             /* where daemons and the echo thread run; -1: not pinned */
    enum target targets[TARGET_COUNT];
    size_t ntargets;
    struct inproc inproc;
    struct echo echo;
    struct op ops[OP_COUNT];
    struct op_result results[OP_COUNT];
    double start_ms[2];
    long rss_kb[2];
};

/*
 * File-scope state, each for a reason the code cannot avoid: a signal handler and the failure
 * path must reach every live daemon (so none outlives the run and no state directory is left
 * behind), and libtpms's NVRAM callbacks carry no context pointer.
 */
static struct daemon *g_live[MAX_LIVE];
static volatile sig_atomic_t g_stop;

struct nv_blob {
    char name[32];
    unsigned char *data;
    uint32_t len;
};

static struct nv_blob g_nv[8];

/* ---- failure path ---------------------------------------------------------------------- */

static void daemon_stop(struct daemon *d);

static void cleanup(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    for (size_t i = 0; i < MAX_LIVE; i++) {
        if (g_live[i] != NULL) {
            daemon_stop(g_live[i]);
        }
    }
}

static void print_log_tail(const struct daemon *d)
{
    char path[PATH_MAX + 16];
    char tail[2048];

    snprintf(path, sizeof(path), "%s/daemon.log", d->dir);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return;
    }
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
    }
    size_t n = fread(tail, 1, sizeof(tail) - 1, f);
    fclose(f);
    tail[n] = '\0';
    if (n == 0) {
        fprintf(stderr, "  (%s wrote nothing to stdout or stderr)\n", d->label);
        return;
    }
    fprintf(stderr, "  last output of %s:\n", d->label);
    for (char *line = strtok(tail, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        fprintf(stderr, "  | %s\n", line);
    }
}

__attribute__((format(printf, 2, 0))) static _Noreturn void vdie(const struct daemon *d,
                                                                 const char *fmt, va_list ap)
{
    fputs("vtpm-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (d != NULL && d->dir[0] != '\0') {
        print_log_tail(d);
    }
    cleanup();
    exit(1);
}

__attribute__((format(printf, 1, 2))) static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(NULL, fmt, ap);
}

/* Like die(), and shows what the daemon printed before its directory goes. */
__attribute__((format(printf, 2, 3))) static _Noreturn void die_daemon(const struct daemon *d,
                                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(d, fmt, ap);
}

static void check_stop(void)
{
    if (g_stop != 0) {
        die("interrupted by signal %d; daemons stopped, state directories removed", (int)g_stop);
    }
}

static void on_signal(int sig)
{
    g_stop = sig;
    for (size_t i = 0; i < MAX_LIVE; i++) {
        if (g_live[i] != NULL && g_live[i]->pid > 0) {
            kill(g_live[i]->pid, SIGTERM);
        }
    }
}

static void install_signal_handlers(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: blocking calls return EINTR and we stop */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static void live_add(struct daemon *d)
{
    for (size_t i = 0; i < MAX_LIVE; i++) {
        if (g_live[i] == NULL) {
            g_live[i] = d;
            return;
        }
    }
    die("internal: more than %d daemons alive at once", MAX_LIVE);
}

static void live_remove(const struct daemon *d)
{
    for (size_t i = 0; i < MAX_LIVE; i++) {
        if (g_live[i] == d) {
            g_live[i] = NULL;
        }
    }
}

/* ---- time and samples ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Pins the calling thread to cpu (-1: leaves it alone); 0 or -errno. */
static int pin_to_cpu(int cpu)
{
    cpu_set_t set;

    if (cpu < 0) {
        return 0;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

static void samples_init(struct samples *s, size_t cap)
{
    s->ns = calloc(cap, sizeof(*s->ns));
    s->n = 0;
    s->cap = cap;
    if (s->ns == NULL) {
        die("out of memory for %zu samples: lower --iterations", cap);
    }
}

static void samples_add(struct samples *s, uint64_t ns)
{
    if (s->n < s->cap) {
        s->ns[s->n++] = ns;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void samples_sort(struct samples *s)
{
    qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
}

/* Of sorted samples, in ns. */
static double samples_median(const struct samples *s)
{
    if (s->n == 0) {
        return 0.0;
    }
    size_t mid = s->n / 2;
    if (s->n % 2 == 1) {
        return (double)s->ns[mid];
    }
    return ((double)s->ns[mid - 1] + (double)s->ns[mid]) / 2.0;
}

/* Nearest-rank percentile (pct in 1..99) of sorted samples, in ns. */
static double samples_percentile(const struct samples *s, unsigned pct)
{
    if (s->n == 0) {
        return 0.0;
    }
    size_t rank = (s->n * pct + 99) / 100;
    return (double)s->ns[rank - 1];
}

static void samples_free(struct samples *s)
{
    free(s->ns);
    s->ns = NULL;
    s->n = 0;
    s->cap = 0;
}

/* ---- TPM 2.0 command building ---------------------------------------------------------- */

static uint8_t *cmd_room(struct cmd_buf *c, size_t n)
{
    if (n > sizeof(c->b) - c->len) {
        die("internal: command buffer too small (%zu + %zu bytes)", c->len, n);
    }
    uint8_t *p = c->b + c->len;
    c->len += n;
    return p;
}

static void cmd_u8(struct cmd_buf *c, uint8_t v)
{
    *cmd_room(c, 1) = v;
}

static void cmd_be16(struct cmd_buf *c, uint16_t v)
{
    put_be16(cmd_room(c, 2), v);
}

static void cmd_be32(struct cmd_buf *c, uint32_t v)
{
    put_be32(cmd_room(c, 4), v);
}

static void cmd_fill(struct cmd_buf *c, uint8_t v, size_t n)
{
    memset(cmd_room(c, n), v, n);
}

static void cmd_begin(struct cmd_buf *c, uint16_t tag, uint32_t cc)
{
    c->len = 0;
    cmd_be16(c, tag);
    cmd_be32(c, 0); /* commandSize, set by cmd_end */
    cmd_be32(c, cc);
}

static void cmd_end(struct cmd_buf *c)
{
    put_be32(c->b + 2, (uint32_t)c->len);
}

/* Part 1 §19.8.4, Part 2 §10.13.2: TPMS_AUTH_COMMAND of a password session, empty password. */
static void cmd_pw_session(struct cmd_buf *c)
{
    cmd_be32(c, 9); /* authorizationSize */
    cmd_be32(c, TPM2_RS_PW);
    cmd_be16(c, 0); /* nonceCaller: empty */
    cmd_u8(c, 0);   /* sessionAttributes */
    cmd_be16(c, 0); /* hmac, i.e. the password: empty */
}

static void build_startup(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_NO_SESSIONS, TPM2_CC_STARTUP);
    cmd_be16(c, TPM2_SU_CLEAR);
    cmd_end(c);
}

static void build_get_random(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_NO_SESSIONS, TPM2_CC_GET_RANDOM);
    cmd_be16(c, 16); /* bytesRequested */
    cmd_end(c);
}

static void build_pcr_extend(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_SESSIONS, TPM2_CC_PCR_EXTEND);
    cmd_be32(c, PCR_DEBUG);
    cmd_pw_session(c);
    cmd_be32(c, 1); /* TPML_DIGEST_VALUES.count */
    cmd_be16(c, TPM2_ALG_SHA256);
    cmd_fill(c, 0x5a, SHA256_SIZE);
    cmd_end(c);
}

static void build_get_capability(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_NO_SESSIONS, TPM2_CC_GET_CAPABILITY);
    cmd_be32(c, TPM2_CAP_TPM_PROPERTIES);
    cmd_be32(c, TPM2_PT_FIXED);
    cmd_be32(c, 8); /* propertyCount */
    cmd_end(c);
}

static void build_nv_define_space(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_SESSIONS, TPM2_CC_NV_DEFINE_SPACE);
    cmd_be32(c, TPM2_RH_OWNER);
    cmd_pw_session(c);
    cmd_be16(c, 0); /* auth: empty */
    size_t size_at = c->len;
    cmd_be16(c, 0); /* TPM2B_NV_PUBLIC.size, set below */
    cmd_be32(c, NV_INDEX);
    cmd_be16(c, TPM2_ALG_SHA256); /* nameAlg */
    /* TPMA_NV, TPM_NT_ORDINARY */
    cmd_be32(c, TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA);
    cmd_be16(c, 0); /* authPolicy: empty */
    cmd_be16(c, NV_DATA_SIZE);
    put_be16(c->b + size_at, (uint16_t)(c->len - size_at - 2));
    cmd_end(c);
}

static void build_nv_write(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_SESSIONS, TPM2_CC_NV_WRITE);
    cmd_be32(c, NV_INDEX); /* authHandle: the index itself (AUTHWRITE) */
    cmd_be32(c, NV_INDEX);
    cmd_pw_session(c);
    cmd_be16(c, NV_DATA_SIZE);
    cmd_fill(c, 0xa5, NV_DATA_SIZE);
    cmd_be16(c, 0); /* offset */
    cmd_end(c);
}

/* Where build_nv_write puts the data: libtpms skips the store when a write changes nothing, so
 * every NV_Write must carry different bytes to measure a real state update. */
#define NV_WRITE_DATA_AT (TPM_HDR_SIZE + 4 + 4 + 4 + 9 + 2)

static void build_create_primary(struct cmd_buf *c)
{
    cmd_begin(c, TPM2_ST_SESSIONS, TPM2_CC_CREATE_PRIMARY);
    cmd_be32(c, TPM2_RH_OWNER);
    cmd_pw_session(c);
    cmd_be16(c, 4); /* TPM2B_SENSITIVE_CREATE: */
    cmd_be16(c, 0); /*   userAuth: empty */
    cmd_be16(c, 0); /*   data: empty */
    size_t size_at = c->len;
    cmd_be16(c, 0); /* TPM2B_PUBLIC.size, set below */
    cmd_be16(c, TPM2_ALG_ECC);
    cmd_be16(c, TPM2_ALG_SHA256);
    cmd_be32(c, TPMA_OBJECT_STORAGE_PARENT);
    cmd_be16(c, 0);            /* authPolicy: empty */
    cmd_be16(c, TPM2_ALG_AES); /* symmetric: AES-128-CFB */
    cmd_be16(c, 128);
    cmd_be16(c, TPM2_ALG_CFB);
    cmd_be16(c, TPM2_ALG_NULL); /* scheme */
    cmd_be16(c, TPM2_ECC_NIST_P256);
    cmd_be16(c, TPM2_ALG_NULL); /* kdf */
    cmd_be16(c, 0);             /* unique.x: empty */
    cmd_be16(c, 0);             /* unique.y: empty */
    put_be16(c->b + size_at, (uint16_t)(c->len - size_at - 2));
    cmd_be16(c, 0); /* outsideInfo: empty */
    cmd_be32(c, 0); /* creationPCR: no selection */
    cmd_end(c);
}

static void build_flush_context(struct cmd_buf *c, uint32_t handle)
{
    cmd_begin(c, TPM2_ST_NO_SESSIONS, TPM2_CC_FLUSH_CONTEXT);
    cmd_be32(c, handle);
    cmd_end(c);
}

static const char *rc_name(uint32_t rc)
{
    switch (rc) {
    case 0x100:
        return "TPM_RC_INITIALIZE: the TPM was not started; the daemon must honour "
               "--flags not-need-init,startup-clear";
    case 0x101: return "TPM_RC_FAILURE: the TPM is in failure mode";
    case 0x14B: return "TPM_RC_NV_SPACE: no room for the NV index";
    case 0x14C: return "TPM_RC_NV_DEFINED: the state directory was not fresh";
    case 0x902: return "TPM_RC_OBJECT_MEMORY: objects are not being flushed";
    case 0x908: return "TPM_RC_YIELDED";
    case 0x90A: return "TPM_RC_TESTING";
    case 0x920: return "TPM_RC_NV_RATE";
    case 0x921: return "TPM_RC_LOCKOUT";
    case 0x922: return "TPM_RC_RETRY";
    case 0x923: return "TPM_RC_NV_UNAVAILABLE";
    default: return "see TPM 2.0 Part 2 §6.6 for its meaning";
    }
}

static uint32_t rsp_code(const struct rsp_buf *rsp)
{
    return get_be32(rsp->b + 6);
}

static void check_rc(const char *target, const char *command, const struct rsp_buf *rsp)
{
    uint32_t rc = rsp_code(rsp);
    if (rc != 0) {
        die("%s answered %s with rc 0x%03x (%s); a failing command cannot be measured", target,
            command, rc, rc_name(rc));
    }
}

/* ---- sockets --------------------------------------------------------------------------- */

static void set_socket_options(int fd)
{
    int one = 1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static struct sockaddr_in loopback_addr(uint16_t port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

/* A socket bound to 127.0.0.1:port (0: any free port); the fd, or -errno. */
static int bind_loopback(uint16_t port)
{
    struct sockaddr_in sa = loopback_addr(port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        return 0;
    }
    return ntohs(sa.sin_port);
}

/* A port P with P and P + 1 free on loopback right now (data and control channel). */
static uint16_t pick_port_pair(void)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int a = bind_loopback(0);
        if (a < 0) {
            die("cannot bind a loopback TCP socket: %s", strerror(-a));
        }
        uint16_t port = bound_port(a);
        int b = port != 0 && port < UINT16_MAX ? bind_loopback((uint16_t)(port + 1)) : -EINVAL;
        close(a);
        if (b >= 0) {
            close(b);
            return port;
        }
    }
    die("found no two adjacent free loopback TCP ports in 100 tries; free some ports");
}

/* A connected, configured socket to 127.0.0.1:port, or -errno. */
static int tcp_connect(uint16_t port)
{
    struct sockaddr_in sa = loopback_addr(port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    set_socket_options(fd);
    return fd;
}

static int io_error(ssize_t n)
{
    if (n == 0) {
        return -ECONNRESET;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return -ETIMEDOUT;
    }
    return -errno;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR && g_stop == 0) {
            continue;
        }
        if (w <= 0) {
            return io_error(w);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Receives exactly n bytes; 0 or -errno (-ECONNRESET: the peer closed). */
static int recv_exact(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR && g_stop == 0) {
            continue;
        }
        if (r <= 0) {
            return io_error(r);
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One TPM response, whose length the header's size field gives; 0 or -errno (-EPROTO: bad
 * size field). Reads as much as is there at once, so a response usually costs one recv(). */
static int recv_response(int fd, struct rsp_buf *rsp)
{
    size_t want = TPM_HDR_SIZE;

    rsp->len = 0;
    while (rsp->len < want) {
        ssize_t r = recv(fd, rsp->b + rsp->len, sizeof(rsp->b) - rsp->len, 0);
        if (r < 0 && errno == EINTR && g_stop == 0) {
            continue;
        }
        if (r <= 0) {
            return io_error(r);
        }
        rsp->len += (size_t)r;
        if (rsp->len >= TPM_HDR_SIZE) {
            want = get_be32(rsp->b + 2);
            if (want < TPM_HDR_SIZE || want > sizeof(rsp->b)) {
                return -EPROTO;
            }
        }
    }
    return rsp->len == want ? 0 : -EPROTO;
}

/* ---- the echo server: a bare loopback round trip --------------------------------------- */

static void *echo_serve(void *arg)
{
    struct echo *e = arg;
    uint8_t buf[ECHO_SIZE];
    int fd = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);

    pin_to_cpu(e->cpu); /* failure only costs reproducibility; the daemons' pinning is alike */
    if (fd < 0) {
        return NULL;
    }
    set_socket_options(fd);
    /* The client closing its end (at the end of the run) ends the loop. */
    while (recv_exact(fd, buf, sizeof(buf)) == 0 && send_all(fd, buf, sizeof(buf)) == 0) {
    }
    close(fd);
    return NULL;
}

static void echo_start(struct echo *e)
{
    sigset_t all;
    sigset_t old;

    e->listen_fd = bind_loopback(0);
    if (e->listen_fd < 0 || listen(e->listen_fd, 1) < 0) {
        die("cannot listen on loopback for the echo server: %s", strerror(errno));
    }
    /* Signals go to the main thread, whose blocking calls they interrupt. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&e->thread, NULL, echo_serve, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        die("cannot start the echo server thread: %s", strerror(err));
    }
    e->running = true;
    e->client_fd = tcp_connect(bound_port(e->listen_fd));
    if (e->client_fd < 0) {
        die("cannot connect to the echo server: %s", strerror(-e->client_fd));
    }
}

static void echo_stop(struct echo *e)
{
    if (e->client_fd >= 0) {
        close(e->client_fd);
        e->client_fd = -1;
    }
    if (e->running) {
        pthread_join(e->thread, NULL);
        e->running = false;
    }
    if (e->listen_fd >= 0) {
        close(e->listen_fd);
        e->listen_fd = -1;
    }
}

static uint64_t echo_round_trip(struct echo *e)
{
    static const uint8_t msg[ECHO_SIZE] = "0123456789";
    uint8_t back[ECHO_SIZE];

    uint64_t t0 = now_ns();
    int err = send_all(e->client_fd, msg, sizeof(msg));
    if (err == 0) {
        err = recv_exact(e->client_fd, back, sizeof(back));
    }
    uint64_t t1 = now_ns();
    if (err != 0) {
        check_stop();
        die("bare round trip through the echo server failed: %s", strerror(-err));
    }
    return t1 - t0;
}

/* ---- in-process libtpms, its NVRAM kept in memory --------------------------------------- */

static struct nv_blob *nv_find(const char *name)
{
    for (size_t i = 0; i < sizeof(g_nv) / sizeof(g_nv[0]); i++) {
        if (g_nv[i].data != NULL && strcmp(g_nv[i].name, name) == 0) {
            return &g_nv[i];
        }
    }
    return NULL;
}

static struct nv_blob *nv_free_slot(void)
{
    for (size_t i = 0; i < sizeof(g_nv) / sizeof(g_nv[0]); i++) {
        if (g_nv[i].data == NULL) {
            return &g_nv[i];
        }
    }
    return NULL;
}

static TPM_RESULT nv_init(void)
{
    return TPM_SUCCESS;
}

static TPM_RESULT nv_load(unsigned char **data, uint32_t *length, uint32_t tpm_number,
                          const char *name)
{
    (void)tpm_number;
    const struct nv_blob *blob = nv_find(name);
    if (blob == NULL) {
        return TPM_RETRY; /* libtpms: no such blob yet, so manufacture a fresh TPM */
    }
    *data = malloc(blob->len > 0 ? blob->len : 1); /* libtpms frees it */
    if (*data == NULL) {
        return TPM_FAIL;
    }
    memcpy(*data, blob->data, blob->len);
    *length = blob->len;
    return TPM_SUCCESS;
}

static TPM_RESULT nv_store(const unsigned char *data, uint32_t length, uint32_t tpm_number,
                           const char *name)
{
    (void)tpm_number;
    struct nv_blob *blob = nv_find(name);
    if (blob == NULL) {
        blob = nv_free_slot();
    }
    if (blob == NULL || strlen(name) >= sizeof(blob->name)) {
        return TPM_FAIL;
    }
    unsigned char *copy = malloc(length > 0 ? length : 1);
    if (copy == NULL) {
        return TPM_FAIL;
    }
    memcpy(copy, data, length);
    free(blob->data);
    blob->data = copy;
    blob->len = length;
    snprintf(blob->name, sizeof(blob->name), "%s", name);
    return TPM_SUCCESS;
}

static TPM_RESULT nv_delete(uint32_t tpm_number, const char *name, TPM_BOOL must_exist)
{
    (void)tpm_number;
    struct nv_blob *blob = nv_find(name);
    if (blob == NULL) {
        return must_exist ? TPM_FAIL : TPM_SUCCESS;
    }
    free(blob->data);
    memset(blob, 0, sizeof(*blob));
    return TPM_SUCCESS;
}

static TPM_RESULT io_init(void)
{
    return TPM_SUCCESS;
}

static TPM_RESULT io_get_locality(TPM_MODIFIER_INDICATOR *locality, uint32_t tpm_number)
{
    (void)tpm_number;
    *locality = 0;
    return TPM_SUCCESS;
}

static TPM_RESULT io_get_physical_presence(TPM_BOOL *present, uint32_t tpm_number)
{
    (void)tpm_number;
    *present = 0;
    return TPM_SUCCESS;
}

/* Runs one command through libtpms; returns the ns TPMLIB_Process took (the copies in and out
 * are not timed). */
static uint64_t inproc_exchange(struct inproc *ip, const struct cmd_buf *cmd, struct rsp_buf *rsp)
{
    uint32_t rsp_size = 0;

    memcpy(ip->scratch, cmd->b, cmd->len); /* TPMLIB_Process takes a non-const command */
    uint64_t t0 = now_ns();
    TPM_RESULT rc =
        TPMLIB_Process(&ip->rsp, &rsp_size, &ip->rsp_cap, ip->scratch, (uint32_t)cmd->len);
    uint64_t t1 = now_ns();
    if (rc != TPM_SUCCESS) {
        die("in-process TPMLIB_Process failed with 0x%x", (unsigned)rc);
    }
    if (rsp_size < TPM_HDR_SIZE || rsp_size > sizeof(rsp->b)) {
        die("in-process libtpms returned a %u-byte response; expected 10..%zu", rsp_size,
            sizeof(rsp->b));
    }
    memcpy(rsp->b, ip->rsp, rsp_size);
    rsp->len = rsp_size;
    return t1 - t0;
}

static void inproc_init(struct inproc *ip)
{
    static struct libtpms_callbacks callbacks = {
        .sizeOfStruct = sizeof(struct libtpms_callbacks),
        .tpm_nvram_init = nv_init,
        .tpm_nvram_loaddata = nv_load,
        .tpm_nvram_storedata = nv_store,
        .tpm_nvram_deletename = nv_delete,
        .tpm_io_init = io_init,
        .tpm_io_getlocality = io_get_locality,
        .tpm_io_getphysicalpresence = io_get_physical_presence,
    };
    struct cmd_buf startup;
    struct rsp_buf rsp;
    TPM_RESULT rc;

    if ((rc = TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2)) != TPM_SUCCESS) {
        die("libtpms refused TPM 2.0 (0x%x): is libtpms built without TPM 2.0?", (unsigned)rc);
    }
    if ((rc = TPMLIB_RegisterCallbacks(&callbacks)) != TPM_SUCCESS) {
        die("libtpms refused the NVRAM callbacks (0x%x)", (unsigned)rc);
    }
    if ((rc = TPMLIB_MainInit()) != TPM_SUCCESS) {
        die("in-process TPMLIB_MainInit failed (0x%x)", (unsigned)rc);
    }
    build_startup(&startup);
    inproc_exchange(ip, &startup, &rsp);
    check_rc("in-process libtpms", "Startup(CLEAR)", &rsp);
}

static void inproc_fini(struct inproc *ip)
{
    TPMLIB_Terminate();
    free(ip->rsp);
    ip->rsp = NULL;
    for (size_t i = 0; i < sizeof(g_nv) / sizeof(g_nv[0]); i++) {
        free(g_nv[i].data);
        memset(&g_nv[i], 0, sizeof(g_nv[i]));
    }
}

/* ---- daemons ---------------------------------------------------------------------------- */

static void daemon_init(struct daemon *d, const char *label, const char *bin, int cpu)
{
    memset(d, 0, sizeof(*d));
    d->label = label;
    d->bin = bin;
    d->cpu = cpu;
    d->fd = -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0) {
        fprintf(stderr, "vtpm-bench: warning: cannot remove %s: %s\n", path, strerror(errno));
    }
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void make_tmp_dir(struct daemon *d)
{
    const char *base = getenv("TMPDIR");
    char state[PATH_MAX + 16];

    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    int n = snprintf(d->dir, sizeof(d->dir), "%s/vtpm-bench.XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof(d->dir) || mkdtemp(d->dir) == NULL) {
        d->dir[0] = '\0';
        die("cannot create a directory under %s: %s; set TMPDIR to a writable directory", base,
            strerror(n < 0 || (size_t)n >= PATH_MAX ? ENAMETOOLONG : errno));
    }
    snprintf(state, sizeof(state), "%s/state", d->dir);
    if (mkdir(state, 0700) != 0) {
        die("cannot create %s: %s", state, strerror(errno));
    }
}

/* True once the child is reaped (or there is none); records its wait status. */
static bool daemon_reaped(struct daemon *d)
{
    int status = 0;

    if (d->pid <= 0) {
        return true;
    }
    pid_t r = waitpid(d->pid, &status, WNOHANG);
    if (r == d->pid || (r < 0 && errno == ECHILD)) {
        d->status = status;
        d->pid = 0;
        return true;
    }
    return false;
}

static void daemon_stop(struct daemon *d)
{
    if (d->fd >= 0) {
        close(d->fd);
        d->fd = -1;
    }
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        for (int i = 0; i < STOP_TIMEOUT_MS && !daemon_reaped(d); i++) {
            sleep_ms(1);
        }
    }
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    if (d->dir[0] != '\0') {
        remove_tree(d->dir);
        d->dir[0] = '\0';
    }
    live_remove(d);
}

/* Between fork and exec of a threaded process: async-signal-safe calls only. */
static _Noreturn void exec_daemon(const char *bin, char *const argv[], int log_fd, pid_t parent,
                                  int cpu)
{
    static const char msg[] = "vtpm-bench: exec of the daemon failed\n";
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL; /* an ignored SIGPIPE would survive exec */
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    pin_to_cpu(cpu);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* no daemon outlives a crashed bench */
    if (getppid() != parent) {
        _exit(127);
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(bin, argv);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        _exit(127);
    }
    _exit(127);
}

/* Forks and execs `<bin> socket ...` with a fresh state directory and fresh ports. */
static void daemon_launch(struct daemon *d)
{
    char tpmstate[PATH_MAX + 16];
    char log_path[PATH_MAX + 16];
    char server[48];
    char ctrl[48];

    live_add(d); /* first: the directory must go even if launching fails */
    make_tmp_dir(d);
    d->port = pick_port_pair();
    snprintf(tpmstate, sizeof(tpmstate), "dir=%s/state", d->dir);
    snprintf(log_path, sizeof(log_path), "%s/daemon.log", d->dir);
    snprintf(server, sizeof(server), "type=tcp,port=%u", (unsigned)d->port);
    snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%u", (unsigned)d->port + 1);
    char *const argv[] = {(char *)d->bin,
                          "socket",
                          "--tpm2",
                          "--tpmstate",
                          tpmstate,
                          "--server",
                          server,
                          "--ctrl",
                          ctrl,
                          "--flags",
                          "not-need-init,startup-clear",
                          NULL};
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        die("cannot create %s: %s", log_path, strerror(errno));
    }
    pid_t parent = getpid();
    d->fork_ns = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        die("cannot fork to start %s: %s", d->label, strerror(errno));
    }
    if (pid == 0) {
        exec_daemon(d->bin, argv, log_fd, parent, d->cpu);
    }
    d->pid = pid;
    close(log_fd);
}

/*
 * Connects (retrying every 1 ms) and sends the probe until the first answer. Returns 0 with the
 * connection kept in d->fd, -ECHILD when the daemon exited, -ETIMEDOUT, or -EINTR.
 */
static int daemon_await(struct daemon *d, const struct cmd_buf *probe, struct rsp_buf *rsp)
{
    uint64_t deadline = d->fork_ns + START_TIMEOUT_NS;

    while (g_stop == 0) {
        if (daemon_reaped(d)) {
            return -ECHILD;
        }
        if (now_ns() > deadline) {
            return -ETIMEDOUT;
        }
        int fd = tcp_connect(d->port);
        if (fd >= 0 && send_all(fd, probe->b, probe->len) == 0 && recv_response(fd, rsp) == 0) {
            d->fd = fd;
            return 0;
        }
        if (fd >= 0) {
            close(fd);
        }
        sleep_ms(1);
    }
    return -EINTR;
}

static void describe_exit(const struct daemon *d, char *buf, size_t n)
{
    if (WIFSIGNALED(d->status)) {
        snprintf(buf, n, "was killed by signal %d", WTERMSIG(d->status));
    } else {
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(d->status));
    }
}

static _Noreturn void die_start_failed(const struct daemon *d, int err)
{
    char how[64];

    if (err == -ETIMEDOUT) {
        die_daemon(d,
                   "%s (%s) did not answer GetRandom on 127.0.0.1:%u within %llu s of "
                   "starting; it was started as: %s socket --tpm2 --tpmstate dir=%s/state "
                   "--server type=tcp,port=%u --ctrl type=tcp,port=%u "
                   "--flags not-need-init,startup-clear",
                   d->label, d->bin, (unsigned)d->port, START_TIMEOUT_NS / 1000000000ull, d->bin,
                   d->dir, (unsigned)d->port, (unsigned)d->port + 1);
    }
    describe_exit(d, how, sizeof(how));
    die_daemon(d,
               "%s (%s) %s before answering GetRandom, %d times; it must accept swtpm's "
               "command line: %s socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=P "
               "--ctrl type=tcp,port=P+1 --flags not-need-init,startup-clear",
               d->label, d->bin, how, START_ATTEMPTS, d->bin);
}

/* Starts d and waits for its first GetRandom answer; returns the ns from fork to that answer. */
static uint64_t daemon_start(struct daemon *d)
{
    struct cmd_buf probe;
    struct rsp_buf rsp;

    build_get_random(&probe);
    for (int attempt = 1;; attempt++) {
        daemon_launch(d);
        int err = daemon_await(d, &probe, &rsp);
        uint64_t elapsed = now_ns() - d->fork_ns;
        if (err == 0) {
            check_rc(d->label, "GetRandom (its first command)", &rsp);
            return elapsed;
        }
        check_stop();
        if (err != -ECHILD || attempt == START_ATTEMPTS) {
            die_start_failed(d, err);
        }
        /* Most likely another program took a port between our probe and the daemon's bind. */
        daemon_stop(d);
    }
}

static const char *io_reason(int err)
{
    switch (err) {
    case -ECONNRESET: return "the daemon closed the connection";
    case -ETIMEDOUT: return "no answer within the I/O timeout";
    case -EPROTO: return "the response's size field is out of range";
    default: return strerror(-err);
    }
}

static _Noreturn void die_exchange_failed(struct daemon *d, const char *name, int err)
{
    char how[64] = "is still running";

    /* A daemon that dropped the connection is often on its way out: name how it ended. */
    for (int i = 0; i < 100 && !daemon_reaped(d); i++) {
        sleep_ms(1);
    }
    if (d->pid == 0) {
        describe_exit(d, how, sizeof(how));
    }
    die_daemon(d, "%s: %s failed on the data connection: %s; the daemon %s", d->label, name,
               io_reason(err), how);
}

static uint64_t daemon_exchange(struct daemon *d, const struct cmd_buf *cmd, struct rsp_buf *rsp,
                                const char *name)
{
    uint64_t t0 = now_ns();
    int err = send_all(d->fd, cmd->b, cmd->len);
    if (err == 0) {
        err = recv_response(d->fd, rsp);
    }
    uint64_t t1 = now_ns();
    if (err != 0) {
        check_stop();
        die_exchange_failed(d, name, err);
    }
    return t1 - t0;
}

static long read_vmhwm_kb(pid_t pid)
{
    char path[64];
    char line[256];
    long kb = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

/* ---- measurement ------------------------------------------------------------------------ */

static bool is_daemon(enum target t)
{
    return t == TARGET_VTPMD || t == TARGET_SWTPM;
}

static uint64_t tpm_exchange(struct bench *b, enum target t, const struct cmd_buf *cmd,
                             struct rsp_buf *rsp, const char *name)
{
    if (is_daemon(t)) {
        return daemon_exchange(&b->daemons[t], cmd, rsp, name);
    }
    return inproc_exchange(&b->inproc, cmd, rsp);
}

static void tpm_command(struct bench *b, enum target t, const struct cmd_buf *cmd, const char *name)
{
    struct rsp_buf rsp;

    tpm_exchange(b, t, cmd, &rsp, name);
    check_rc(target_names[t], name, &rsp);
}

static void flush_object(struct bench *b, enum target t, const struct rsp_buf *created)
{
    struct cmd_buf flush;

    if (created->len < TPM_HDR_SIZE + 4) {
        die("%s: CreatePrimary's response (%zu bytes) has no object handle", target_names[t],
            created->len);
    }
    build_flush_context(&flush, get_be32(created->b + TPM_HDR_SIZE));
    tpm_command(b, t, &flush, "FlushContext");
}

/* One timed operation on target t, and its untimed follow-up; returns the elapsed ns. */
static uint64_t run_one(struct bench *b, enum target t, struct op *op)
{
    struct rsp_buf rsp;

    if (t == TARGET_RTT) {
        return echo_round_trip(&b->echo);
    }
    if (op->counter_at != 0) {
        put_be64(op->cmd.b + op->counter_at, ++op->counter);
    }
    uint64_t ns = tpm_exchange(b, t, &op->cmd, &rsp, op->name);
    check_rc(target_names[t], op->name, &rsp);
    if (op->flush_handle) {
        flush_object(b, t, &rsp);
    }
    return ns;
}

static void summarize(struct op_result *res, enum target t, struct samples *s)
{
    samples_sort(s);
    res->have[t] = s->n > 0;
    res->count[t] = s->n;
    res->median_us[t] = samples_median(s) / 1000.0;
    res->p10_us[t] = samples_percentile(s, 10) / 1000.0;
    res->p90_us[t] = samples_percentile(s, 90) / 1000.0;
}

/* Interleaves the targets batch by batch, rotating their order every batch, so that a noisy
 * stretch of time lands on all of them alike. */
static void measure_op(struct bench *b, enum op_id id)
{
    struct op *op = &b->ops[id];
    struct samples s[TARGET_COUNT];
    uint32_t warmup = op->iterations < WARMUP ? op->iterations : WARMUP;

    fprintf(stderr, "vtpm-bench: measuring %s ...\n", op->name);
    for (size_t k = 0; k < b->ntargets; k++) {
        samples_init(&s[b->targets[k]], op->iterations);
        for (uint32_t i = 0; i < warmup; i++) {
            run_one(b, b->targets[k], op);
        }
    }
    uint32_t done = 0;
    for (size_t round = 0; done < op->iterations; round++) {
        uint32_t n = op->iterations - done < op->batch ? op->iterations - done : op->batch;
        for (size_t k = 0; k < b->ntargets; k++) {
            enum target t = b->targets[(round + k) % b->ntargets];
            for (uint32_t i = 0; i < n; i++) {
                samples_add(&s[t], run_one(b, t, op));
            }
            check_stop();
        }
        done += n;
    }
    for (size_t k = 0; k < b->ntargets; k++) {
        summarize(&b->results[id], b->targets[k], &s[b->targets[k]]);
        samples_free(&s[b->targets[k]]);
    }
}

static size_t daemon_targets(const struct bench *b, enum target out[2])
{
    size_t n = 0;

    for (size_t k = 0; k < b->ntargets; k++) {
        if (is_daemon(b->targets[k])) {
            out[n++] = b->targets[k];
        }
    }
    return n;
}

/* Fork to first GetRandom answer, fresh state directory each time, the daemons alternating. */
static void measure_starts(struct bench *b)
{
    enum target dt[2];
    size_t nd = daemon_targets(b, dt);
    struct samples s[2];

    fprintf(stderr, "vtpm-bench: measuring start -> first response ...\n");
    for (size_t k = 0; k < nd; k++) {
        samples_init(&s[dt[k]], b->opt.starts);
    }
    for (uint32_t i = 0; i < b->opt.starts; i++) {
        for (size_t k = 0; k < nd; k++) {
            enum target t = dt[(i + k) % nd];
            struct daemon d;
            daemon_init(&d, target_names[t], b->daemons[t].bin, b->peer_cpu);
            samples_add(&s[t], daemon_start(&d));
            daemon_stop(&d);
        }
    }
    for (size_t k = 0; k < nd; k++) {
        samples_sort(&s[dt[k]]);
        b->start_ms[dt[k]] = samples_median(&s[dt[k]]) / 1e6;
        samples_free(&s[dt[k]]);
    }
}

static void start_daemons(struct bench *b)
{
    enum target dt[2];
    size_t nd = daemon_targets(b, dt);
    struct cmd_buf define;

    build_nv_define_space(&define);
    for (size_t k = 0; k < nd; k++) {
        daemon_start(&b->daemons[dt[k]]);
        tpm_command(b, dt[k], &define, "NV_DefineSpace");
    }
    tpm_command(b, TARGET_INPROC, &define, "NV_DefineSpace");
}

static void stop_daemons(struct bench *b)
{
    enum target dt[2];
    size_t nd = daemon_targets(b, dt);

    for (size_t k = 0; k < nd; k++) {
        struct daemon *d = &b->daemons[dt[k]];
        b->rss_kb[dt[k]] = read_vmhwm_kb(d->pid);
        daemon_stop(d);
    }
}

static void ops_init(struct bench *b)
{
    uint32_t n = b->opt.iterations;
    uint32_t slow = n / 10 < 10 ? 10 : n / 10;
    struct op *o = b->ops;

    o[OP_GET_RANDOM] = (struct op){.name = "GetRandom(16)", .cheap = true};
    build_get_random(&o[OP_GET_RANDOM].cmd);
    o[OP_PCR_EXTEND] = (struct op){.name = "PCR_Extend(16,sha256)", .cheap = true};
    build_pcr_extend(&o[OP_PCR_EXTEND].cmd);
    o[OP_GET_CAPABILITY] = (struct op){.name = "GetCapability(fixed,8)", .cheap = true};
    build_get_capability(&o[OP_GET_CAPABILITY].cmd);
    o[OP_NV_WRITE] = (struct op){.name = "NV_Write(64)"};
    build_nv_write(&o[OP_NV_WRITE].cmd);
    o[OP_NV_WRITE].counter_at = NV_WRITE_DATA_AT;
    if (get_be16(o[OP_NV_WRITE].cmd.b + NV_WRITE_DATA_AT - 2) != NV_DATA_SIZE) {
        die("internal: NV_WRITE_DATA_AT does not match build_nv_write");
    }
    o[OP_CREATE_PRIMARY] = (struct op){.name = "CreatePrimary(ECC P-256)", .flush_handle = true};
    build_create_primary(&o[OP_CREATE_PRIMARY].cmd);
    for (size_t i = 0; i < OP_COUNT; i++) {
        o[i].iterations = i == OP_CREATE_PRIMARY ? slow : n;
        o[i].batch = i == OP_CREATE_PRIMARY ? 5 : 50;
    }
}

/* ---- report ----------------------------------------------------------------------------- */

static void fmt_value(char *buf, size_t n, bool have, double v, int decimals)
{
    if (have) {
        snprintf(buf, n, "%.*f", decimals, v);
    } else {
        snprintf(buf, n, "-");
    }
}

struct ratios {
    bool have_ref, have_v_sw, have_v_ref, have_sw_ref;
    double ref, v_sw, v_ref, sw_ref;
};

static struct ratios op_ratios(const struct op_result *r)
{
    struct ratios q;

    memset(&q, 0, sizeof(q));
    q.have_ref = r->have[TARGET_RTT] && r->have[TARGET_INPROC];
    q.ref = r->median_us[TARGET_RTT] + r->median_us[TARGET_INPROC];
    q.have_v_sw = r->have[TARGET_VTPMD] && r->have[TARGET_SWTPM] && r->median_us[TARGET_SWTPM] > 0;
    q.v_sw = q.have_v_sw ? r->median_us[TARGET_VTPMD] / r->median_us[TARGET_SWTPM] : 0.0;
    q.have_v_ref = q.have_ref && r->have[TARGET_VTPMD] && q.ref > 0;
    q.v_ref = q.have_v_ref ? r->median_us[TARGET_VTPMD] / q.ref : 0.0;
    q.have_sw_ref = q.have_ref && r->have[TARGET_SWTPM] && q.ref > 0;
    q.sw_ref = q.have_sw_ref ? r->median_us[TARGET_SWTPM] / q.ref : 0.0;
    return q;
}

static void print_op_row(const struct op *op, const struct op_result *r)
{
    char v[TARGET_COUNT][24];
    char ref[24], v_sw[24], v_ref[24], sw_ref[24];
    struct ratios q = op_ratios(r);

    for (size_t t = 0; t < TARGET_COUNT; t++) {
        fmt_value(v[t], sizeof(v[t]), r->have[t], r->median_us[t], 1);
    }
    fmt_value(ref, sizeof(ref), q.have_ref, q.ref, 1);
    fmt_value(v_sw, sizeof(v_sw), q.have_v_sw, q.v_sw, 2);
    fmt_value(v_ref, sizeof(v_ref), q.have_v_ref, q.v_ref, 2);
    fmt_value(sw_ref, sizeof(sw_ref), q.have_sw_ref, q.sw_ref, 2);
    printf("%-24s %7s %7s %7s %8s %7s %11s %9s %9s\n", op->name, v[TARGET_VTPMD], v[TARGET_SWTPM],
           v[TARGET_INPROC], v[TARGET_RTT], ref, v_sw, v_ref, sw_ref);
}

static void print_ops_table(const struct bench *b)
{
    printf("\nmedian latency of one command, us (ref = bare-RTT + in-proc)\n");
    printf("%-24s %7s %7s %7s %8s %7s %11s %9s %9s\n", "operation", "vtpmd", "swtpm", "in-proc",
           "bare-RTT", "ref", "vtpmd/swtpm", "vtpmd/ref", "swtpm/ref");
    for (size_t i = 0; i < OP_COUNT; i++) {
        print_op_row(&b->ops[i], &b->results[i]);
    }
}

static void print_spread(const struct bench *b)
{
    printf("\nspread, us: p10 / median / p90 (samples)\n");
    for (size_t i = 0; i < OP_COUNT; i++) {
        const struct op_result *r = &b->results[i];
        printf("%s\n", b->ops[i].name);
        for (size_t t = 0; t < TARGET_COUNT; t++) {
            if (r->have[t]) {
                printf("  %-9s %9.1f / %9.1f / %9.1f  (%zu)\n", target_names[t], r->p10_us[t],
                       r->median_us[t], r->p90_us[t], r->count[t]);
            }
        }
    }
}

static void print_daemon_table(const struct bench *b)
{
    bool have_v = b->ntargets == TARGET_COUNT;
    char v[24], s[24], ratio[24];

    printf("\n%-24s %9s %9s %11s\n", "daemon", "vtpmd", "swtpm", "vtpmd/swtpm");
    fmt_value(v, sizeof(v), have_v, b->start_ms[TARGET_VTPMD], 2);
    fmt_value(s, sizeof(s), true, b->start_ms[TARGET_SWTPM], 2);
    fmt_value(ratio, sizeof(ratio), have_v && b->start_ms[TARGET_SWTPM] > 0,
              b->start_ms[TARGET_VTPMD] / b->start_ms[TARGET_SWTPM], 2);
    printf("%-24s %9s %9s %11s\n", "start->first resp, ms", v, s, ratio);
    bool have_rss = b->rss_kb[TARGET_SWTPM] > 0;
    fmt_value(v, sizeof(v), have_v && b->rss_kb[TARGET_VTPMD] > 0, (double)b->rss_kb[TARGET_VTPMD],
              0);
    fmt_value(s, sizeof(s), have_rss, (double)b->rss_kb[TARGET_SWTPM], 0);
    fmt_value(ratio, sizeof(ratio), have_v && have_rss && b->rss_kb[TARGET_VTPMD] > 0,
              (double)b->rss_kb[TARGET_VTPMD] / (double)b->rss_kb[TARGET_SWTPM], 2);
    printf("%-24s %9s %9s %11s\n", "peak RSS (VmHWM), kB", v, s, ratio);
}

struct tally {
    unsigned pass, miss;
};

static void print_goal(struct tally *tl, const char *what, const char *ratio_name, bool have,
                       double value, bool at_most, double limit)
{
    char shown[24];
    const char *verdict = "skipped (no vtpmd)";

    fmt_value(shown, sizeof(shown), have, value, 3); /* 3 places: 1.004 is not <= 1.00 */
    if (have) {
        bool ok = at_most ? value <= limit : value >= limit;
        verdict = ok ? "PASS" : "MISS";
        tl->pass += ok;
        tl->miss += !ok;
    }
    printf("  %-24s %-17s %6s  %s %.2f  %s\n", what, ratio_name, shown,
           at_most ? "<=" : ">=", limit, verdict);
}

static void print_goals(const struct bench *b)
{
    struct tally tl = {0, 0};
    bool have_v = b->ntargets == TARGET_COUNT;

    printf("\ntargets (information only: the exit status does not depend on them)\n");
    for (size_t i = 0; i < OP_COUNT; i++) {
        if (!b->ops[i].cheap) {
            continue;
        }
        struct ratios q = op_ratios(&b->results[i]);
        print_goal(&tl, b->ops[i].name, "vtpmd/ref", q.have_v_ref, q.v_ref, true, 1.10);
        print_goal(&tl, b->ops[i].name, "vtpmd/swtpm", q.have_v_sw, q.v_sw, true, 1.00);
    }
    const struct op_result *nv = &b->results[OP_NV_WRITE];
    bool have_nv = nv->have[TARGET_VTPMD] && nv->median_us[TARGET_VTPMD] > 0;
    print_goal(&tl, b->ops[OP_NV_WRITE].name, "rate vtpmd/swtpm", have_nv,
               have_nv ? nv->median_us[TARGET_SWTPM] / nv->median_us[TARGET_VTPMD] : 0.0, false,
               1.50);
    bool have_start = have_v && b->start_ms[TARGET_SWTPM] > 0;
    print_goal(&tl, "start->first response", "vtpmd/swtpm", have_start,
               have_start ? b->start_ms[TARGET_VTPMD] / b->start_ms[TARGET_SWTPM] : 0.0, true,
               0.50);
    printf("  %u of %u targets met\n", tl.pass, tl.pass + tl.miss);
}

static bool same_binary(const char *a, const char *b)
{
    char ra[PATH_MAX];
    char rb[PATH_MAX];

    return realpath(a, ra) != NULL && realpath(b, rb) != NULL && strcmp(ra, rb) == 0;
}

static void print_header(const struct bench *b)
{
    uint32_t v = TPMLIB_GetVersion();
    const struct op *cp = &b->ops[OP_CREATE_PRIMARY];

    printf("vtpm-bench: vtpmd %s, swtpm %s, libtpms %u.%u.%u in-process\n",
           b->opt.only_swtpm ? "(skipped: --only-swtpm)" : b->opt.vtpmd_bin, b->opt.swtpm_bin,
           (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff, (unsigned)v & 0xff);
    printf("%u iterations per command (%s %u), batches of %u (%u), target order rotating per "
           "batch; %u starts per daemon; %ld CPUs online\n",
           b->ops[0].iterations, "CreatePrimary", cp->iterations, b->ops[0].batch, cp->batch,
           b->opt.starts, sysconf(_SC_NPROCESSORS_ONLN));
    if (b->opt.pin == PIN_NONE) {
        printf("CPUs not pinned (--pin none): each ratio also depends on where the scheduler "
               "put each peer\n");
    } else {
        printf("bench on CPU %d; daemons and echo server on CPU %d (--pin %s)\n", b->bench_cpu,
               b->peer_cpu, b->opt.pin == PIN_SAME ? "same" : "split");
    }
    if (!b->opt.only_swtpm && same_binary(b->opt.vtpmd_bin, b->opt.swtpm_bin)) {
        printf("note: vtpmd and swtpm are the same binary: a sanity check, so every vtpmd/swtpm "
               "ratio should come out near 1.00\n");
    }
    fflush(stdout);
}

/* ---- options and main ------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vtpm-bench [options]\n"
            "Compares vtpmd with swtpm and with libtpms in-process; prints medians and ratios.\n"
            "\n"
            "  --vtpmd PATH      the daemon under test (default %s)\n"
            "  --swtpm PATH      the reference daemon (default %s)\n"
            "  --iterations N    timed commands per target and operation (default %u;\n"
            "                    CreatePrimary runs N/10, at least 10)\n"
            "  --starts N        daemon starts per daemon for start->first response "
            "(default %u)\n"
            "  --quick           %u iterations and %u starts, unless given explicitly\n"
            "  --only-swtpm      skip vtpmd (its columns and targets show '-')\n"
            "  --pin MODE        same: the bench, the daemons and the echo server share one CPU\n"
            "                    (default); split: the bench on one CPU, the rest on another;\n"
            "                    none: let the scheduler place them\n"
            "  --verbose         also print p10 / median / p90 of every target\n"
            "  --help            this text\n"
            "\n"
            "Targets are printed as information; the exit status is 0 unless something failed "
            "to run.\n",
            DEFAULT_VTPMD, DEFAULT_SWTPM, DEFAULT_ITERATIONS, DEFAULT_STARTS, QUICK_ITERATIONS,
            QUICK_STARTS);
}

static uint32_t parse_count(const char *opt, const char *arg)
{
    char *end = NULL;

    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > 10000000ul || arg[0] == '-') {
        die("%s wants a whole number from 1 to 10000000, not '%s'", opt, arg);
    }
    return (uint32_t)v;
}

static enum pin_mode parse_pin(const char *arg)
{
    if (strcmp(arg, "same") == 0) {
        return PIN_SAME;
    }
    if (strcmp(arg, "split") == 0) {
        return PIN_SPLIT;
    }
    if (strcmp(arg, "none") == 0) {
        return PIN_NONE;
    }
    die("--pin wants same, split or none, not '%s'", arg);
}

static void parse_options(struct options *o, int argc, char **argv)
{
    enum {
        OPT_VTPMD = 256,
        OPT_SWTPM,
        OPT_ITER,
        OPT_STARTS,
        OPT_QUICK,
        OPT_ONLY,
        OPT_PIN,
        OPT_VERBOSE,
    };
    static const struct option longopts[] = {
        {"vtpmd", required_argument, NULL, OPT_VTPMD},
        {"swtpm", required_argument, NULL, OPT_SWTPM},
        {"iterations", required_argument, NULL, OPT_ITER},
        {"starts", required_argument, NULL, OPT_STARTS},
        {"quick", no_argument, NULL, OPT_QUICK},
        {"only-swtpm", no_argument, NULL, OPT_ONLY},
        {"pin", required_argument, NULL, OPT_PIN},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quick = false;
    int c;

    *o = (struct options){.vtpmd_bin = DEFAULT_VTPMD, .swtpm_bin = DEFAULT_SWTPM};
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_VTPMD: o->vtpmd_bin = optarg; break;
        case OPT_SWTPM: o->swtpm_bin = optarg; break;
        case OPT_ITER: o->iterations = parse_count("--iterations", optarg); break;
        case OPT_STARTS: o->starts = parse_count("--starts", optarg); break;
        case OPT_QUICK: quick = true; break;
        case OPT_ONLY: o->only_swtpm = true; break;
        case OPT_PIN: o->pin = parse_pin(optarg); break;
        case OPT_VERBOSE: o->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        die("unexpected argument '%s'; see --help", argv[optind]);
    }
    if (o->iterations == 0) {
        o->iterations = quick ? QUICK_ITERATIONS : DEFAULT_ITERATIONS;
    }
    if (o->starts == 0) {
        o->starts = quick ? QUICK_STARTS : DEFAULT_STARTS;
    }
}

static void check_binary(const char *label, const char *path, const char *fix)
{
    if (strchr(path, '/') == NULL) {
        die("%s path '%s' has no '/': give a path such as ./%s or /usr/bin/%s", label, path, path,
            path);
    }
    if (access(path, X_OK) != 0) {
        die("%s is not executable at %s (%s): %s", label, path, strerror(errno), fix);
    }
}

/*
 * A round trip costs what the scheduler makes it: a peer woken on the caller's CPU answers in
 * a few context switches, one woken on an idle CPU first waits for that CPU to wake (tens of us
 * on a VM). Left alone, the scheduler puts each peer in one regime or the other for a while, so
 * two peers can differ by 4x for no fault of their own. Pinning puts all of them in one regime.
 * Called while the process has one thread, so later threads inherit the bench's CPU.
 */
static void pin_init(struct bench *b)
{
    cpu_set_t allowed;
    int cpus[2] = {-1, -1};
    int n = 0;

    b->bench_cpu = -1;
    b->peer_cpu = -1;
    if (b->opt.pin == PIN_NONE) {
        return;
    }
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        die("cannot read this process's CPU affinity: %s; use --pin none", strerror(errno));
    }
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) {
            cpus[n++] = cpu;
        }
    }
    if (b->opt.pin == PIN_SPLIT && n < 2) {
        die("--pin split needs two CPUs, but this process may run only on CPU %d; use --pin same",
            cpus[0]);
    }
    b->bench_cpu = cpus[0];
    b->peer_cpu = b->opt.pin == PIN_SPLIT ? cpus[1] : cpus[0];
    int err = pin_to_cpu(b->bench_cpu);
    if (err != 0) {
        die("cannot pin the bench to CPU %d: %s; use --pin none", b->bench_cpu, strerror(-err));
    }
}

static void bench_init(struct bench *b)
{
    pin_init(b);
    daemon_init(&b->daemons[TARGET_VTPMD], "vtpmd", b->opt.vtpmd_bin, b->peer_cpu);
    daemon_init(&b->daemons[TARGET_SWTPM], "swtpm", b->opt.swtpm_bin, b->peer_cpu);
    b->echo.listen_fd = -1;
    b->echo.client_fd = -1;
    b->echo.cpu = b->peer_cpu;
    b->ntargets = 0;
    if (!b->opt.only_swtpm) {
        b->targets[b->ntargets++] = TARGET_VTPMD;
    }
    b->targets[b->ntargets++] = TARGET_SWTPM;
    b->targets[b->ntargets++] = TARGET_INPROC;
    b->targets[b->ntargets++] = TARGET_RTT;
    ops_init(b);
}

int main(int argc, char **argv)
{
    static struct bench bench; /* large; lives for the whole run */
    struct bench *b = &bench;

    parse_options(&b->opt, argc, argv);
    if (!b->opt.only_swtpm) {
        check_binary("vtpmd", b->opt.vtpmd_bin,
                     "build it with `ninja -C build`, pass --vtpmd PATH, or use --only-swtpm");
    }
    check_binary("swtpm", b->opt.swtpm_bin, "install swtpm or pass --swtpm PATH");
    install_signal_handlers();
    bench_init(b);
    print_header(b);

    inproc_init(&b->inproc);
    echo_start(&b->echo);
    start_daemons(b);
    for (size_t i = 0; i < OP_COUNT; i++) {
        measure_op(b, (enum op_id)i);
    }
    stop_daemons(b);
    measure_starts(b);
    echo_stop(&b->echo);
    inproc_fini(&b->inproc);

    print_ops_table(b);
    if (b->opt.verbose) {
        print_spread(b);
    }
    print_daemon_table(b);
    print_goals(b);
    return 0;
}
