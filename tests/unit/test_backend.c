/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The three backends behind the ops table, on real threads and real TPMs:
 *
 * - inproc: TIS model + reference driver + libtpms in this process;
 *   Startup and GetRandom end to end, done() on the worker under the
 *   embedder's lock, cancel, and reset dropping a running command.
 * - passthrough: a socketpair as the TPM device, answered by a stand-in
 *   thread, and a temporary file as the sysfs cancel attribute.
 * - emulator: a vtpmd started by the test (and swtpm when installed), plus
 *   a silent fake daemon for the control-channel timeout.
 *
 * The "VMM" here is a mutex around every device call, handed to the
 * backends as their lock, as include/vtpm/backends.h asks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "vtpm/backends.h"
#include "vtpm/driver.h"
#include "vtpm/tis.h"

#define TPM_RC_CANCELED 0x909u

static const uint8_t startup_clear[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};
static const uint8_t get_random16[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 16};
/* TPM2_CreatePrimary(TPM_RH_OWNER, RSA 2048 storage key): key generation takes a while. */
/* clang-format off */
static const uint8_t create_primary_rsa[] = {
    0x80, 0x02, 0, 0, 0, 67, 0, 0, 0x01, 0x31,     /* header */
    0x40, 0, 0, 0x01,                              /* TPM_RH_OWNER */
    0, 0, 0, 9, 0x40, 0, 0, 0x09, 0, 0, 0, 0, 0,   /* password session, empty */
    0, 4, 0, 0, 0, 0,                              /* inSensitive */
    0, 26, 0, 0x01, 0, 0x0b, 0, 0x03, 0, 0x72,     /* RSA, SHA256, restricted decrypt */
    0, 0,                                          /* no policy */
    0, 0x06, 0, 0x80, 0, 0x43, 0, 0x10,            /* AES-128-CFB, no scheme */
    0x08, 0, 0, 0, 0, 0, 0, 0,                     /* 2048 bits, default exponent, unique */
    0, 0,                                          /* outsideInfo */
    0, 0, 0, 0,                                    /* creationPCR */
};
/* clang-format on */

static uint32_t rc_of(const uint8_t *rsp, size_t len)
{
    return len >= 10 ? get_be32(rsp + 6) : 0xffffffffu;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void rm_rf(const char *dir)
{
    char cmd[PATH_MAX + 16];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the VMM: one lock around the device ---------------------------------- */

struct vmm {
    pthread_mutex_t lock;
    struct vtpm_backend *be;
    struct vtpm_tis *tis;
    struct vtpm_driver drv;
    char dir[64];
    pid_t daemon;
    /* direct deliveries (no device model) */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int done_calls;
    int status;
    uint8_t rsp[4096];
    size_t rsp_len;
    pthread_t done_thread;
    bool lock_held_in_done;
};

static void vmm_lock(void *opaque)
{
    pthread_mutex_lock(&((struct vmm *)opaque)->lock);
}

static void vmm_unlock(void *opaque)
{
    pthread_mutex_unlock(&((struct vmm *)opaque)->lock);
}

static uint32_t io_read(void *ctx, uint32_t off, unsigned size)
{
    struct vmm *v = ctx;

    vmm_lock(v);
    uint32_t val = (uint32_t)vtpm_tis_read(v->tis, off, size);
    vmm_unlock(v);
    return val;
}

static void io_write(void *ctx, uint32_t off, uint32_t val, unsigned size)
{
    struct vmm *v = ctx;

    vmm_lock(v);
    vtpm_tis_write(v->tis, off, val, size);
    vmm_unlock(v);
}

static uint64_t io_now_ms(void *ctx)
{
    return (uint64_t)mono_ms();
}

static void io_sleep_us(void *ctx, uint32_t us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000L};

    nanosleep(&ts, NULL);
}

static struct vmm *vmm_new(void)
{
    struct vmm *v = calloc(1, sizeof(*v));

    assert_non_null(v);
    pthread_mutex_init(&v->lock, NULL);
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cond, NULL);
    v->daemon = -1;
    strcpy(v->dir, "/tmp/vtpm-backend-XXXXXX");
    assert_non_null(mkdtemp(v->dir));
    return v;
}

static void vmm_options(struct vmm *v, struct vtpm_backend_options *o)
{
    vtpm_backend_options_init(o);
    o->lock = vmm_lock;
    o->unlock = vmm_unlock;
    o->lock_opaque = v;
}

/* A TIS device on `v->be`, powered on (TPM_Init through the backend), and a driver at `loc`. */
static void vmm_attach_tis(struct vmm *v, uint8_t loc)
{
    struct vtpm_tis_config tcfg = {.version = VTPM_TPM_VERSION_2_0};

    assert_int_equal(vtpm_tis_create(&tcfg, v->be, &v->tis), 0);
    vmm_lock(v);
    int rc = vtpm_tis_reset(v->tis);
    vmm_unlock(v);
    assert_int_equal(rc, 0);
    struct vtpm_driver_config cfg = {
        .iface = &vtpm_driver_tis,
        .version = VTPM_TPM_VERSION_2_0,
        .locality = loc,
        .io = {.read = io_read,
               .write = io_write,
               .now_ms = io_now_ms,
               .sleep_us = io_sleep_us,
               .ctx = v},
    };
    assert_int_equal(vtpm_driver_init(&v->drv, &cfg), VTPM_DRIVER_OK);
}

static void vmm_free(struct vmm *v)
{
    if (v->tis) {
        vtpm_tis_destroy(v->tis);
    }
    vtpm_backend_destroy(v->be);
    if (v->daemon > 0) {
        kill(v->daemon, SIGTERM);
        waitpid(v->daemon, NULL, 0);
    }
    rm_rf(v->dir);
    free(v);
}

static int vmm_teardown(void **state)
{
    if (*state) {
        vmm_free(*state);
    }
    return 0;
}

static int vmm_setup(void **state)
{
    *state = vmm_new();
    return 0;
}

/* Sends `cmd` through the driver; returns the TPM's response code. */
static uint32_t transmit(struct vmm *v, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t *rlen)
{
    uint8_t buf[4096];
    size_t n = 0;
    enum vtpm_driver_err e = vtpm_driver_transmit(&v->drv, cmd, len, buf, sizeof(buf), &n);

    if (e != VTPM_DRIVER_OK) {
        fail_msg("driver: %s", vtpm_driver_last_error(&v->drv)->message);
    }
    if (rsp) {
        memcpy(rsp, buf, n);
        *rlen = n;
    }
    return rc_of(buf, n);
}

/* Startup(CLEAR) and GetRandom(16) through TIS and the driver. */
static void startup_and_random(struct vmm *v)
{
    uint8_t rsp[4096];
    size_t n = 0;

    assert_int_equal(transmit(v, startup_clear, sizeof(startup_clear), NULL, NULL), 0);
    assert_int_equal(transmit(v, get_random16, sizeof(get_random16), rsp, &n), 0);
    assert_int_equal(n, 10 + 2 + 16);
    assert_int_equal(get_be16(rsp + 10), 16);
}

/* A done() that records what came, on which thread, and whether the VMM lock was held. */
static void record_done(void *arg, int status, const uint8_t *rsp, size_t len)
{
    struct vmm *v = arg;

    v->lock_held_in_done = pthread_mutex_trylock(&v->lock) == EBUSY;
    if (!v->lock_held_in_done) {
        pthread_mutex_unlock(&v->lock);
    }
    pthread_mutex_lock(&v->mu);
    v->done_calls++;
    v->status = status;
    v->rsp_len = len;
    if (rsp && len <= sizeof(v->rsp)) {
        memcpy(v->rsp, rsp, len);
    }
    v->done_thread = pthread_self();
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->mu);
}

/* Waits up to `ms` for `calls` done() calls in all; returns the count seen. */
static int wait_done(struct vmm *v, int calls, unsigned ms)
{
    int64_t deadline = mono_ms() + ms;

    pthread_mutex_lock(&v->mu);
    while (v->done_calls < calls && mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&v->cond, &v->mu, &ts);
    }
    int n = v->done_calls;
    pthread_mutex_unlock(&v->mu);
    return n;
}

static int deliver_locked(struct vmm *v, const uint8_t *cmd, size_t len, uint8_t loc)
{
    vmm_lock(v);
    int rc = vtpm_backend_deliver(v->be, cmd, len, loc, record_done, v);
    vmm_unlock(v);
    return rc;
}

/* ---- names ---------------------------------------------------------------- */

static void test_names_and_unknown(void **state)
{
    const char *const *names = vtpm_backend_names();
    struct vtpm_backend_options o;
    struct vtpm_backend *be = NULL;
    char err[256];

    assert_string_equal(names[0], "inproc");
    assert_string_equal(names[1], "emulator");
    assert_string_equal(names[2], "passthrough");
    assert_null(names[3]);
    vtpm_backend_options_init(&o);
    assert_int_equal(vtpm_backend_create("cuse", &o, &be, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "'cuse'"));
    assert_null(be);
}

/* ---- inproc --------------------------------------------------------------- */

static void inproc_create(struct vmm *v)
{
    struct vtpm_backend_options o;
    char err[512];

    vmm_options(v, &o);
    o.path = v->dir;
    if (vtpm_backend_create("inproc", &o, &v->be, err, sizeof(err)) < 0) {
        fail_msg("%s", err);
    }
    assert_string_equal(v->be->ops->name, "inproc");
}

static void test_inproc_end_to_end(void **state)
{
    struct vmm *v = *state;

    inproc_create(v);
    vmm_attach_tis(v, 0);
    startup_and_random(v);
    assert_true(vtpm_backend_buffer_size(v->be) >= 4096);
    /* A fresh TPM: no dynamic root of trust has run, ACCESS shows tpmEstablishment = 1. */
    assert_false(vtpm_backend_established(v->be));
    assert_true(io_read(v, VTPM_TIS_REG_ACCESS, 1) & VTPM_TIS_ACCESS_tpmEstablishment);
}

/* A second inproc backend in one process is refused: libtpms holds one TPM. */
static void test_inproc_one_per_process(void **state)
{
    struct vmm *v = *state;
    struct vtpm_backend_options o;
    struct vtpm_backend *second = NULL;
    char err[512];

    inproc_create(v);
    vmm_options(v, &o);
    o.path = v->dir;
    assert_int_equal(vtpm_backend_create("inproc", &o, &second, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "one TPM per process"));
}

/* deliver returns at once; done comes on the worker, under the VMM's lock. */
static void test_inproc_async_done_under_lock(void **state)
{
    struct vmm *v = *state;

    inproc_create(v);
    vmm_lock(v);
    assert_int_equal(vtpm_backend_reset(v->be), 0);
    assert_int_equal(
        vtpm_backend_deliver(v->be, startup_clear, sizeof(startup_clear), 0, record_done, v), 0);
    /* A second command while one runs breaks the one-at-a-time rule. */
    assert_int_equal(
        vtpm_backend_deliver(v->be, get_random16, sizeof(get_random16), 0, record_done, v), -EBUSY);
    /* Holding the lock holds the completion back. */
    sleep_ms(100);
    assert_int_equal(v->done_calls, 0);
    vmm_unlock(v);
    assert_int_equal(wait_done(v, 1, 5000), 1);
    assert_true(v->lock_held_in_done);
    assert_false(pthread_equal(v->done_thread, pthread_self()));
    assert_int_equal(v->status, 0);
    assert_int_equal(rc_of(v->rsp, v->rsp_len), 0);
}

/* Cancel while a key is generated: done still follows, canceled or complete. */
static void test_inproc_cancel(void **state)
{
    struct vmm *v = *state;

    inproc_create(v);
    vmm_attach_tis(v, 0);
    assert_int_equal(transmit(v, startup_clear, sizeof(startup_clear), NULL, NULL), 0);
    assert_int_equal(deliver_locked(v, create_primary_rsa, sizeof(create_primary_rsa), 0), 0);
    vmm_lock(v);
    vtpm_backend_cancel(v->be);
    vmm_unlock(v);
    assert_int_equal(wait_done(v, 1, 20000), 1);
    assert_int_equal(v->status, 0);
    uint32_t rc = rc_of(v->rsp, v->rsp_len);
    if (rc != 0 && rc != TPM_RC_CANCELED) {
        fail_msg("CreatePrimary after cancel answered 0x%x", rc);
    }
    /* A cancel between commands does not leak into the next one. */
    vmm_lock(v);
    vtpm_backend_cancel(v->be);
    vmm_unlock(v);
    assert_int_equal(transmit(v, get_random16, sizeof(get_random16), NULL, NULL), 0);
}

/* Reset while a command runs: its done never comes; the TPM starts afresh. */
static void test_inproc_reset_drops_running_command(void **state)
{
    struct vmm *v = *state;

    inproc_create(v);
    vmm_attach_tis(v, 0);
    assert_int_equal(transmit(v, startup_clear, sizeof(startup_clear), NULL, NULL), 0);
    assert_int_equal(deliver_locked(v, create_primary_rsa, sizeof(create_primary_rsa), 0), 0);
    vmm_lock(v);
    assert_int_equal(vtpm_backend_reset(v->be), 0);
    vmm_unlock(v);
    sleep_ms(200);
    assert_int_equal(v->done_calls, 0);
    /* TPM_Init happened: Startup is needed (and accepted) again. */
    vmm_lock(v);
    assert_int_equal(vtpm_tis_reset(v->tis), 0);
    vmm_unlock(v);
    startup_and_random(v);
    assert_int_equal(v->done_calls, 0);
}

/* ---- passthrough ---------------------------------------------------------- */

enum standin_action {
    ANSWER,              /* answer at once */
    ANSWER_AFTER_CANCEL, /* wait until the cancel file says "-", answer TPM_RC_CANCELED */
    SILENT,              /* never answer */
};

struct standin {
    int fd;
    char cancel_path[128];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    enum standin_action actions[8];
    int n_actions;
    int received;
    uint8_t last_cmd[4096];
    size_t last_len;
};

static bool cancel_file_says_dash(const char *path)
{
    char buf[8] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

    if (fd >= 0) {
        close(fd);
    }
    return n == 1 && buf[0] == '-';
}

/* Reads one command (header, then the rest); false at EOF. */
static bool standin_read(struct standin *s, uint8_t *buf, size_t *len)
{
    size_t got = 0, want = 10;

    while (got < want) {
        ssize_t r = read(s->fd, buf + got, want - got);
        if (r <= 0) {
            return false;
        }
        got += (size_t)r;
        if (got == 10) {
            want = get_be32(buf + 2);
        }
    }
    *len = got;
    return true;
}

static void *standin_main(void *opaque)
{
    struct standin *s = opaque;
    uint8_t cmd[4096];
    size_t len;

    while (standin_read(s, cmd, &len)) {
        pthread_mutex_lock(&s->mu);
        enum standin_action a = s->received < s->n_actions ? s->actions[s->received] : ANSWER;
        memcpy(s->last_cmd, cmd, len);
        s->last_len = len;
        s->received++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);

        uint32_t code = get_be32(cmd + 6);
        if (code == 0x17a) { /* GetCapability: MAX_COMMAND_SIZE 3072, MAX_RESPONSE_SIZE 2048 */
            uint8_t rsp[35] = {0x80, 0x01, 0, 0, 0, 35, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 2};
            put_be32(rsp + 19, 0x11e);
            put_be32(rsp + 23, 3072);
            put_be32(rsp + 27, 0x11f);
            put_be32(rsp + 31, 2048);
            assert_int_equal(write(s->fd, rsp, sizeof(rsp)), sizeof(rsp));
        } else if (a == ANSWER) {
            /* GetRandom-shaped: 16 bytes of the command code's low byte */
            uint8_t rsp[28] = {0x80, 0x01, 0, 0, 0, 28, 0, 0, 0, 0, 0, 16};
            memset(rsp + 12, cmd[9], 16);
            assert_int_equal(write(s->fd, rsp, sizeof(rsp)), sizeof(rsp));
        } else if (a == ANSWER_AFTER_CANCEL) {
            int64_t deadline = mono_ms() + 5000;
            while (!cancel_file_says_dash(s->cancel_path) && mono_ms() < deadline) {
                sleep_ms(5);
            }
            uint8_t rsp[10] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x09, 0x09};
            assert_int_equal(write(s->fd, rsp, sizeof(rsp)), sizeof(rsp));
        }
    }
    return NULL;
}

static void wait_received(struct standin *s, int n)
{
    int64_t deadline = mono_ms() + 5000;

    pthread_mutex_lock(&s->mu);
    while (s->received < n && mono_ms() < deadline) {
        pthread_mutex_unlock(&s->mu);
        sleep_ms(2);
        pthread_mutex_lock(&s->mu);
    }
    int got = s->received;
    pthread_mutex_unlock(&s->mu);
    assert_int_equal(got, n);
}

struct pt_fx {
    struct vmm *v;
    struct standin s;
    int dev_fd; /* the backend's end of the "device", until pt_start hands it over */
};

static int pt_setup(void **state)
{
    struct pt_fx *f = calloc(1, sizeof(*f));
    int sv[2];

    f->v = vmm_new();
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    f->s.fd = sv[1];
    snprintf(f->s.cancel_path, sizeof(f->s.cancel_path), "%s/cancel", f->v->dir);
    int cfd = open(f->s.cancel_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(cfd >= 0);
    close(cfd);
    pthread_mutex_init(&f->s.mu, NULL);
    pthread_cond_init(&f->s.cond, NULL);
    f->dev_fd = sv[0];
    *state = f;
    return 0;
}

static void pt_start(struct pt_fx *f, uint32_t timeout_ms)
{
    struct vtpm_backend_options o;
    char err[512];

    assert_int_equal(pthread_create(&f->s.thread, NULL, standin_main, &f->s), 0);
    vmm_options(f->v, &o);
    o.fd = f->dev_fd;
    f->dev_fd = -1;
    o.cancel_path = f->s.cancel_path;
    o.command_timeout_ms = timeout_ms;
    if (vtpm_backend_create("passthrough", &o, &f->v->be, err, sizeof(err)) < 0) {
        fail_msg("%s", err);
    }
}

static int pt_teardown(void **state)
{
    struct pt_fx *f = *state;

    if (f->v->be) {
        vtpm_backend_destroy(f->v->be); /* closes the backend's end: the stand-in sees EOF */
        f->v->be = NULL;
    } else if (f->dev_fd >= 0) {
        close(f->dev_fd);
    }
    shutdown(f->s.fd, SHUT_RDWR);
    if (f->s.thread) {
        pthread_join(f->s.thread, NULL);
    }
    close(f->s.fd);
    vmm_free(f->v);
    free(f);
    return 0;
}

static void test_pt_cancel_path(void **state)
{
    char p[128];

    assert_int_equal(vtpm_passthrough_cancel_path("/dev/tpm0", p, sizeof(p)), 0);
    assert_string_equal(p, "/sys/class/tpm/tpm0/device/cancel");
    assert_int_equal(vtpm_passthrough_cancel_path("/dev/tpmrm12", p, sizeof(p)), 0);
    assert_string_equal(p, "/sys/class/tpm/tpm12/device/cancel");
    assert_int_equal(vtpm_passthrough_cancel_path("/dev/ttyS0", p, sizeof(p)), -EINVAL);
    assert_int_equal(vtpm_passthrough_cancel_path("/dev/tpm0x", p, sizeof(p)), -EINVAL);
    assert_int_equal(vtpm_passthrough_cancel_path("/dev/tpm0", p, 20), -ENAMETOOLONG);
}

static void test_pt_missing_device(void **state)
{
    struct vtpm_backend_options o;
    struct vtpm_backend *be = NULL;
    char err[512];

    vtpm_backend_options_init(&o);
    o.path = "/nonexistent/tpm7";
    o.cancel_path = "/dev/null";
    assert_int_equal(vtpm_backend_create("passthrough", &o, &be, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/tpm7"));
    o.path = "/dev/null";
    o.cancel_path = NULL;
    assert_int_equal(vtpm_backend_create("passthrough", &o, &be, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "cancel_path"));
}

static void test_pt_command_and_buffer_size(void **state)
{
    struct pt_fx *f = *state;
    struct vmm *v = f->v;

    pt_start(f, 0);
    /* The buffer size came from the stand-in's GetCapability answer: min(3072, 2048). */
    assert_int_equal(vtpm_backend_buffer_size(v->be), 2048);
    assert_int_equal(deliver_locked(v, get_random16, sizeof(get_random16), 2), 0);
    assert_int_equal(wait_done(v, 1, 5000), 1);
    assert_int_equal(v->status, 0);
    assert_int_equal(v->rsp_len, 28);
    assert_int_equal(v->rsp[12], 0x7b);
    assert_memory_equal(f->s.last_cmd, get_random16, sizeof(get_random16));
    assert_false(vtpm_backend_established(v->be));
    vmm_lock(v);
    assert_int_equal(vtpm_backend_reset_established(v->be, 3), -ENOTSUP);
    vmm_unlock(v);
    assert_non_null(strstr(vtpm_backend_last_error(v->be), "belongs to the host"));
}

/* Cancel writes "-" to the sysfs file (as QEMU does) and done still follows. */
static void test_pt_cancel(void **state)
{
    struct pt_fx *f = *state;
    struct vmm *v = f->v;

    f->s.actions[1] = ANSWER_AFTER_CANCEL;
    f->s.n_actions = 2;
    pt_start(f, 0);
    assert_int_equal(deliver_locked(v, create_primary_rsa, sizeof(create_primary_rsa), 0), 0);
    wait_received(&f->s, 2);
    assert_false(cancel_file_says_dash(f->s.cancel_path));
    vmm_lock(v);
    vtpm_backend_cancel(v->be);
    vmm_unlock(v);
    assert_int_equal(wait_done(v, 1, 5000), 1);
    assert_int_equal(v->status, 0);
    assert_int_equal(rc_of(v->rsp, v->rsp_len), TPM_RC_CANCELED);
    assert_true(cancel_file_says_dash(f->s.cancel_path));
}

/* No answer within the command timeout: done reports it, and the message says what. */
static void test_pt_timeout(void **state)
{
    struct pt_fx *f = *state;
    struct vmm *v = f->v;

    f->s.actions[1] = SILENT;
    f->s.n_actions = 2;
    pt_start(f, 200);
    int64_t t0 = mono_ms();
    assert_int_equal(deliver_locked(v, get_random16, sizeof(get_random16), 0), 0);
    assert_int_equal(wait_done(v, 1, 5000), 1);
    assert_true(mono_ms() - t0 >= 190);
    assert_int_equal(v->status, -ETIMEDOUT);
    assert_int_equal(v->rsp_len, 0);
    assert_non_null(strstr(vtpm_backend_last_error(v->be), "no response to command 0x0000017b"));
    assert_true(cancel_file_says_dash(f->s.cancel_path));
}

/* Reset while a command runs: cancel, wait for the device, drop the answer. */
static void test_pt_reset_drops(void **state)
{
    struct pt_fx *f = *state;
    struct vmm *v = f->v;

    f->s.actions[1] = ANSWER_AFTER_CANCEL;
    f->s.n_actions = 2;
    pt_start(f, 0);
    assert_int_equal(deliver_locked(v, get_random16, sizeof(get_random16), 0), 0);
    wait_received(&f->s, 2);
    vmm_lock(v);
    assert_int_equal(vtpm_backend_reset(v->be), 0);
    vmm_unlock(v);
    sleep_ms(100);
    assert_int_equal(v->done_calls, 0);
    /* The device is in step: the next command gets its own answer. */
    assert_int_equal(deliver_locked(v, get_random16, sizeof(get_random16), 0), 0);
    assert_int_equal(wait_done(v, 1, 5000), 1);
    assert_int_equal(rc_of(v->rsp, v->rsp_len), 0);
    assert_int_equal(v->rsp[12], 0x7b);
}

/* ---- emulator ------------------------------------------------------------- */

/* build/tests/unit/test_backend -> build/tools/vtpmd/vtpmd, unless $VTPMD says otherwise. */
static void vtpmd_path(char *out, size_t cap)
{
    char self[PATH_MAX];
    const char *env = getenv("VTPMD");
    ssize_t n;

    if (env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(out, cap, "%s/../../tools/vtpmd/vtpmd", dirname(self));
}

/* Starts `argv` with the control socket at DIR/sock and waits until it listens. */
static void start_daemon(struct vmm *v, char *const argv[])
{
    char sock[128], log[128];
    struct stat st;

    snprintf(sock, sizeof(sock), "%s/sock", v->dir);
    snprintf(log, sizeof(log), "%s/daemon.log", v->dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    v->daemon = pid;
    for (int i = 0; i < 500 && stat(sock, &st) != 0; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            v->daemon = -1;
            fail_msg("%s exited before it listened on %s; see %s", argv[0], sock, log);
        }
        sleep_ms(10);
    }
    assert_int_equal(stat(sock, &st), 0);
}

static void emulator_create(struct vmm *v)
{
    struct vtpm_backend_options o;
    char sock[128], err[512];

    snprintf(sock, sizeof(sock), "%s/sock", v->dir);
    vmm_options(v, &o);
    o.path = sock;
    o.ctrl_timeout_ms = 5000;
    o.command_timeout_ms = 20000;
    if (vtpm_backend_create("emulator", &o, &v->be, err, sizeof(err)) < 0) {
        fail_msg("%s", err);
    }
}

/* The full run against one daemon: power on, commands at two localities, flags, cancel. */
static void emulator_session(struct vmm *v)
{
    emulator_create(v);
    assert_true(vtpm_backend_buffer_size(v->be) >= 4096);
    vmm_attach_tis(v, 0);
    startup_and_random(v);
    assert_false(vtpm_backend_established(v->be));

    /* Locality 3: CMD_SET_LOCALITY before the command, and the flag reset it may do. */
    struct vtpm_driver_config cfg = v->drv.cfg;
    cfg.locality = 3;
    assert_int_equal(vtpm_driver_init(&v->drv, &cfg), VTPM_DRIVER_OK);
    assert_int_equal(transmit(v, get_random16, sizeof(get_random16), NULL, NULL), 0);
    vmm_lock(v);
    int rc = vtpm_backend_reset_established(v->be, 3);
    vmm_unlock(v);
    assert_int_equal(rc, 0);
    cfg.locality = 0;
    assert_int_equal(vtpm_driver_init(&v->drv, &cfg), VTPM_DRIVER_OK);

    /* Cancel of a key generation: done still follows. */
    assert_int_equal(deliver_locked(v, create_primary_rsa, sizeof(create_primary_rsa), 0), 0);
    vmm_lock(v);
    vtpm_backend_cancel(v->be);
    vmm_unlock(v);
    assert_int_equal(wait_done(v, 1, 20000), 1);
    assert_int_equal(v->status, 0);
    uint32_t code = rc_of(v->rsp, v->rsp_len);
    if (code != 0 && code != TPM_RC_CANCELED) {
        fail_msg("CreatePrimary after cancel answered 0x%x", code);
    }

    /* Power cycle (CMD_STOP, CMD_INIT): the TPM wants Startup again, and takes it. */
    vmm_lock(v);
    rc = vtpm_tis_reset(v->tis);
    vmm_unlock(v);
    assert_int_equal(rc, 0);
    assert_int_equal(transmit(v, get_random16, sizeof(get_random16), NULL, NULL), 0x100);
    startup_and_random(v);
}

static void test_emulator_vtpmd(void **state)
{
    struct vmm *v = *state;
    char bin[PATH_MAX], tpmstate[128], ctrl[160];

    vtpmd_path(bin, sizeof(bin));
    if (access(bin, X_OK) != 0) {
        fail_msg("vtpmd not found at %s (set VTPMD)", bin);
    }
    snprintf(tpmstate, sizeof(tpmstate), "dir=%s", v->dir);
    snprintf(ctrl, sizeof(ctrl), "type=unixio,path=%s/sock", v->dir);
    char *argv[] = {bin, "socket", "--tpm2", "--tpmstate", tpmstate, "--ctrl", ctrl, NULL};
    start_daemon(v, argv);
    emulator_session(v);
}

static void test_emulator_swtpm(void **state)
{
    struct vmm *v = *state;
    char tpmstate[128], ctrl[160];
    char bin[] = "/usr/bin/swtpm";

    if (access(bin, X_OK) != 0) {
        print_message("skipped: swtpm is not installed (apt-get install swtpm)\n");
        skip();
    }
    snprintf(tpmstate, sizeof(tpmstate), "dir=%s", v->dir);
    snprintf(ctrl, sizeof(ctrl), "type=unixio,path=%s/sock", v->dir);
    char *argv[] = {bin, "socket", "--tpm2", "--tpmstate", tpmstate, "--ctrl", ctrl, NULL};
    start_daemon(v, argv);
    emulator_session(v);
}

static void test_emulator_no_daemon(void **state)
{
    struct vmm *v = *state;
    struct vtpm_backend_options o;
    char sock[128], err[512];

    snprintf(sock, sizeof(sock), "%s/sock", v->dir);
    vmm_options(v, &o);
    o.path = sock;
    assert_int_equal(vtpm_backend_create("emulator", &o, &v->be, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, sock));
    assert_non_null(strstr(err, "start the daemon"));
}

/* A daemon that accepts and never answers: the timeout names the control command. */
static void test_emulator_ctrl_timeout(void **state)
{
    struct vmm *v = *state;
    struct vtpm_backend_options o;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char err[512];
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", v->dir);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    vmm_options(v, &o);
    o.path = sa.sun_path;
    o.ctrl_timeout_ms = 200;
    int64_t t0 = mono_ms();
    assert_int_equal(vtpm_backend_create("emulator", &o, &v->be, err, sizeof(err)), -ETIMEDOUT);
    assert_true(mono_ms() - t0 >= 190);
    assert_non_null(strstr(err, "CMD_GET_CAPABILITY: no answer on control socket"));
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_unknown),
        cmocka_unit_test_setup_teardown(test_inproc_end_to_end, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_inproc_one_per_process, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_inproc_async_done_under_lock, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_inproc_cancel, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_inproc_reset_drops_running_command, vmm_setup,
                                        vmm_teardown),
        cmocka_unit_test(test_pt_cancel_path),
        cmocka_unit_test(test_pt_missing_device),
        cmocka_unit_test_setup_teardown(test_pt_command_and_buffer_size, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_pt_cancel, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_pt_timeout, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_pt_reset_drops, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_emulator_vtpmd, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_emulator_swtpm, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_emulator_no_daemon, vmm_setup, vmm_teardown),
        cmocka_unit_test_setup_teardown(test_emulator_ctrl_timeout, vmm_setup, vmm_teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
