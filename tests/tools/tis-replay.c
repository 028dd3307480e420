/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tis-replay: runs a register access script against the TIS model and
 * prints every value read, one per line ("0x%x"), so that the same script
 * can be run against QEMU's tpm-tis over qtest and the outputs compared.
 *
 *   tis-replay STATE_DIR < script
 *
 * Script lines: "readb|readw|readl OFFSET" and "writeb|writew|writel OFFSET
 * VALUE", offsets relative to 0xFED40000; '#' starts a comment. The TPM is
 * the in-process engine (libtpms, TPM 2.0) on a fresh state in STATE_DIR,
 * answering synchronously: what a guest sees of a TPM over TIS, minus time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "state/store.h"
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

static unsigned access_size(char c)
{
    return c == 'b' ? 1 : c == 'w' ? 2 : c == 'l' ? 4 : 0;
}

/* Runs one script line; returns 0, or -1 after saying what is wrong with it. */
static int run_line(struct vtpm_tis *t, const char *line, unsigned lineno)
{
    char op[16];
    unsigned long long off, val;
    int n = sscanf(line, "%15s %llx %llx", op, &off, &val);

    if (n <= 0 || op[0] == '#') {
        return 0;
    }
    unsigned size = strlen(op) == 5 || strlen(op) == 6 ? access_size(op[strlen(op) - 1]) : 0;
    if (n == 2 && strncmp(op, "read", 4) == 0 && size) {
        printf("0x%llx\n", (unsigned long long)vtpm_tis_read(t, off, size));
        return 0;
    }
    if (n == 3 && strncmp(op, "write", 5) == 0 && size) {
        vtpm_tis_write(t, off, val, size);
        return 0;
    }
    fprintf(stderr,
            "tis-replay: line %u: expected 'read[bwl] OFFSET' or "
            "'write[bwl] OFFSET VALUE', got: %s",
            lineno, line);
    return -1;
}

int main(int argc, char **argv)
{
    struct vtpm_store *store = NULL;
    struct vtpm_backend be = {.ops = &inproc_ops};
    struct vtpm_tis_config cfg = {.version = VTPM_TPM_VERSION_2_0, .irq_vector = 5};
    struct vtpm_tis *t = NULL;
    char err[512], line[256];
    unsigned lineno = 0;
    int status = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: tis-replay STATE_DIR < script\n");
        return 2;
    }
    if (vtpm_store_open_dir(&store, argv[1], 2, -1, err, sizeof(err)) < 0) {
        fprintf(stderr, "tis-replay: %s\n", err);
        return 1;
    }
    if (vtpm_engine_setup(VTPM_FAMILY_20, store) < 0 || vtpm_tis_create(&cfg, &be, &t) < 0) {
        fprintf(stderr, "tis-replay: cannot set up a TPM 2.0 behind the TIS model\n");
        goto out;
    }
    /* Machine power-on, as QEMU's reset does: registers reset, TPM_Init. */
    if (vtpm_tis_reset(t) < 0) {
        fprintf(stderr, "tis-replay: TPM_Init failed in libtpms\n");
        goto out;
    }
    status = 0;
    while (fgets(line, sizeof(line), stdin)) {
        if (run_line(t, line, ++lineno) < 0) {
            status = 1;
            break;
        }
    }
out:
    vtpm_tis_destroy(t);
    if (vtpm_engine_running()) {
        vtpm_engine_stop(false);
    }
    vtpm_store_close(store);
    return status;
}
