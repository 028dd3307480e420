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
 * comment. The TPM is the in-process engine (libtpms, TPM 2.0) on a fresh
 * state in STATE_DIR, answering synchronously: what a guest sees of a TPM
 * over the interface, minus time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "state/store.h"
#include "vtpm/crb.h"
#include "vtpm/tis.h"

static int inproc_deliver(void *be, const uint8_t *cmd, size_t len, uint8_t locality,
                          vtpm_done_fn done, void *arg)
{
    static uint8_t *rbuf;
    static uint32_t rtotal;
    uint32_t rlen = 0;

    (void)be;
    vtpm_engine_set_locality(locality);
    vtpm_engine_process(cmd, len, &rbuf, &rtotal, &rlen);
    done(arg, 0, rbuf, rlen);
    return 0;
}

static int inproc_reset(void *be)
{
    char err[256];

    (void)be;
    if (vtpm_engine_running()) {
        vtpm_engine_stop(false);
    }
    return vtpm_engine_start(0, err, sizeof(err)) == 0 ? 0 : -EIO;
}

static int inproc_established(void *be, bool *set)
{
    (void)be;
    return vtpm_engine_established(set) == 0 ? 0 : -EIO;
}

static int inproc_reset_established(void *be, uint8_t locality)
{
    (void)be;
    return vtpm_engine_reset_established(locality) == 0 ? 0 : -EIO;
}

static size_t inproc_buffer_size(void *be)
{
    (void)be;
    return vtpm_engine_buffer_size(0, NULL, NULL);
}

static const struct vtpm_backend_ops inproc_ops = {
    .name = "inproc",
    .deliver = inproc_deliver,
    .reset = inproc_reset,
    .established = inproc_established,
    .reset_established = inproc_reset_established,
    .buffer_size = inproc_buffer_size,
};

/* ---- the models, behind one small table --------------------------------- */

static int tis_open(struct vtpm_backend *be, void **dev)
{
    struct vtpm_tis_config cfg = {.version = VTPM_TPM_VERSION_2_0, .irq_vector = 5};

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
    void (*close)(void *dev);
};

static const struct model models[] = {
    {"tis", tis_open, tis_rd, tis_wr, tis_rst, tis_close},
    {"crb", crb_open, crb_rd, crb_wr, crb_rst, crb_close},
};

/* ---- the script ---------------------------------------------------------- */

static unsigned access_size(char c)
{
    return c == 'b' ? 1 : c == 'w' ? 2 : c == 'l' ? 4 : c == 'q' ? 8 : 0;
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
        printf("0x%llx\n", (unsigned long long)m->read(dev, off, size));
        return 0;
    }
    if (n == 3 && strncmp(op, "write", 5) == 0 && strlen(op) == 6 && size) {
        m->write(dev, off, val, size);
        return 0;
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
    struct vtpm_store *store = NULL;
    struct vtpm_backend be = {.ops = &inproc_ops};
    const struct model *m =
        argc == 4 && strcmp(argv[1], "--model") == 0 ? find_model(argv[2]) : NULL;
    void *dev = NULL;
    char err[512], line[256];
    unsigned lineno = 0;
    int status = 1;

    if (!m) {
        fprintf(stderr, "usage: dev-replay --model tis|crb STATE_DIR < script\n");
        return 2;
    }
    if (vtpm_store_open_dir(&store, argv[3], 2, -1, err, sizeof(err)) < 0) {
        fprintf(stderr, "dev-replay: %s\n", err);
        return 1;
    }
    if (vtpm_engine_setup(VTPM_FAMILY_20, store) < 0 || m->open(&be, &dev) < 0) {
        fprintf(stderr, "dev-replay: cannot set up a TPM 2.0 behind the %s model\n", m->name);
        goto out;
    }
    /* Machine power-on, as QEMU's reset does: registers reset, TPM_Init. */
    if (m->reset(dev) < 0) {
        fprintf(stderr, "dev-replay: TPM_Init failed in libtpms\n");
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
    if (dev) {
        m->close(dev);
    }
    if (vtpm_engine_running()) {
        vtpm_engine_stop(false);
    }
    vtpm_store_close(store);
    return status;
}
