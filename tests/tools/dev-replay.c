/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dev-replay: runs a register access script against a device model (TIS or
 * CRB) and prints every value read, one per line ("0x%x"), so that the same
 * script can be run against QEMU's tpm-tis or tpm-crb over qtest and the
 * outputs compared.
 *
 *   dev-replay --model tis|crb STATE_DIR < script
 *
 * Script lines: "readb|readw|readl|readq OFFSET" and "writeb|writew|writel|
 * writeq OFFSET VALUE", offsets relative to 0xFED40000; '#' starts a
 * comment. The TPM is the inproc backend (libtpms, TPM 2.0, on its worker
 * thread) on a fresh state in STATE_DIR. After every write the tool waits
 * until the model has no command executing, so a script sees each command
 * complete before its next access: what a guest sees of a TPM over the
 * interface, minus time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtpm/backends.h"
#include "vtpm/crb.h"
#include "vtpm/tis.h"

/*
 * The device lock: the inproc backend completes commands on its worker
 * thread and takes this lock around the completion, as a VMM would.
 */
static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_dev(void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&dev_lock);
}

static void unlock_dev(void *opaque)
{
    (void)opaque;
    pthread_mutex_unlock(&dev_lock);
}

/*
 * --irq-log FILE: each change of the TIS interrupt line, "raise" or
 * "lower", as qtest's irq_intercept reports QEMU's.
 */
static FILE *irq_log;
static bool irq_level;

static void on_irq(void *opaque, bool asserted)
{
    (void)opaque;
    if (irq_log && asserted != irq_level) {
        fprintf(irq_log, "%s\n", asserted ? "raise" : "lower");
        fflush(irq_log);
    }
    irq_level = asserted;
}

/* ---- the models, behind one small table --------------------------------- */

static int tis_open(struct vtpm_backend *be, void **dev)
{
    struct vtpm_tis_config cfg = {.version = VTPM_TPM_VERSION_2_0, .irq_vector = 5, .irq = on_irq};

    return vtpm_tis_create(&cfg, be, (struct vtpm_tis **)dev);
}

static int crb_open(struct vtpm_backend *be, void **dev)
{
    struct vtpm_crb_config cfg = {0};

    return vtpm_crb_create(&cfg, be, (struct vtpm_crb **)dev);
}

static uint64_t tis_rd(void *dev, uint64_t off, unsigned size)
{
    return vtpm_tis_read(dev, off, size);
}

static void tis_wr(void *dev, uint64_t off, uint64_t val, unsigned size)
{
    vtpm_tis_write(dev, off, val, size);
}

static int tis_rst(void *dev)
{
    return vtpm_tis_reset(dev);
}

static bool tis_busy(void *dev)
{
    return vtpm_tis_busy(dev);
}

static void tis_close(void *dev)
{
    vtpm_tis_destroy(dev);
}

static uint64_t crb_rd(void *dev, uint64_t off, unsigned size)
{
    return vtpm_crb_read(dev, off, size);
}

static void crb_wr(void *dev, uint64_t off, uint64_t val, unsigned size)
{
    vtpm_crb_write(dev, off, val, size);
}

static int crb_rst(void *dev)
{
    return vtpm_crb_reset(dev);
}

static bool crb_busy(void *dev)
{
    return vtpm_crb_busy(dev);
}

static void crb_close(void *dev)
{
    vtpm_crb_destroy(dev);
}

struct model {
    const char *name;
    int (*open)(struct vtpm_backend *be, void **dev);
    uint64_t (*read)(void *dev, uint64_t off, unsigned size);
    void (*write)(void *dev, uint64_t off, uint64_t val, unsigned size);
    int (*reset)(void *dev);
    bool (*busy)(void *dev);
    void (*close)(void *dev);
};

static const struct model models[] = {
    {"tis", tis_open, tis_rd, tis_wr, tis_rst, tis_busy, tis_close},
    {"crb", crb_open, crb_rd, crb_wr, crb_rst, crb_busy, crb_close},
};

/* ---- the script ---------------------------------------------------------- */

static unsigned access_size(char c)
{
    return c == 'b' ? 1 : c == 'w' ? 2 : c == 'l' ? 4 : c == 'q' ? 8 : 0;
}

/* Waits until no command executes in the backend; -1 after 60 s (a hung TPM). */
static int wait_idle(const struct model *m, void *dev)
{
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 200000};

    for (long i = 0; i < 300000; i++) {
        pthread_mutex_lock(&dev_lock);
        bool busy = m->busy(dev);
        pthread_mutex_unlock(&dev_lock);
        if (!busy) {
            return 0;
        }
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "dev-replay: the TPM did not complete a command within 60 s\n");
    return -1;
}

/* Runs one script line; returns 0, or -1 after saying what is wrong with it. */
static int run_line(const struct model *m, void *dev, const char *line, unsigned lineno)
{
    char op[16];
    unsigned long long off, val;
    int n = sscanf(line, "%15s %llx %llx", op, &off, &val);

    if (n <= 0 || op[0] == '#') {
        return 0;
    }
    unsigned size = strlen(op) == 5 || strlen(op) == 6 ? access_size(op[strlen(op) - 1]) : 0;
    if (n == 2 && strncmp(op, "read", 4) == 0 && strlen(op) == 5 && size) {
        pthread_mutex_lock(&dev_lock);
        uint64_t v = m->read(dev, off, size);
        pthread_mutex_unlock(&dev_lock);
        printf("0x%llx\n", (unsigned long long)v);
        return 0;
    }
    if (n == 3 && strncmp(op, "write", 5) == 0 && strlen(op) == 6 && size) {
        pthread_mutex_lock(&dev_lock);
        m->write(dev, off, val, size);
        pthread_mutex_unlock(&dev_lock);
        return wait_idle(m, dev);
    }
    fprintf(stderr,
            "dev-replay: line %u: expected 'read[bwlq] OFFSET' or "
            "'write[bwlq] OFFSET VALUE', got: %s",
            lineno, line);
    return -1;
}

static const struct model *find_model(const char *name)
{
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        if (strcmp(models[i].name, name) == 0) {
            return &models[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct vtpm_backend_options opts;
    struct vtpm_backend *be = NULL;
    const char *irq_path = argc == 6 && strcmp(argv[3], "--irq-log") == 0 ? argv[4] : NULL;
    const struct model *m =
        (argc == 4 || irq_path) && strcmp(argv[1], "--model") == 0 ? find_model(argv[2]) : NULL;
    void *dev = NULL;
    char err[512], line[256];
    unsigned lineno = 0;
    int status = 1;

    if (!m) {
        fprintf(stderr, "usage: dev-replay --model tis|crb [--irq-log FILE] STATE_DIR < script\n");
        return 2;
    }
    if (irq_path && !(irq_log = fopen(irq_path, "w"))) {
        perror(irq_path);
        return 1;
    }
    vtpm_backend_options_init(&opts);
    opts.version = VTPM_TPM_VERSION_2_0;
    opts.path = argv[argc - 1];
    opts.lock = lock_dev;
    opts.unlock = unlock_dev;
    if (vtpm_backend_create("inproc", &opts, &be, err, sizeof(err)) < 0) {
        fprintf(stderr, "dev-replay: %s\n", err);
        return 1;
    }
    if (m->open(be, &dev) < 0) {
        fprintf(stderr, "dev-replay: cannot set up the %s model\n", m->name);
        goto out;
    }
    /* Machine power-on, as QEMU's reset does: registers reset, TPM_Init. */
    pthread_mutex_lock(&dev_lock);
    int rc = m->reset(dev);
    pthread_mutex_unlock(&dev_lock);
    if (rc < 0) {
        fprintf(stderr, "dev-replay: TPM_Init failed: %s\n", vtpm_backend_last_error(be));
        goto out;
    }
    status = 0;
    while (fgets(line, sizeof(line), stdin)) {
        if (run_line(m, dev, line, ++lineno) < 0) {
            status = 1;
            break;
        }
    }
out:
    /* The backend first: its worker may still complete into the model. */
    vtpm_backend_destroy(be);
    if (dev) {
        m->close(dev);
    }
    if (irq_log)
        fclose(irq_log);
    return status;
}
