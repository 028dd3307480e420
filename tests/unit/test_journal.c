/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The permanent-state journal: slot codec, and recovery after a crash
 * (a child process that saves and exits without closing the store).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/blob.h"
#include "state/journal.h"
#include "state/store.h"

#define JOURNAL ".tpm2-00.permall.journal"

struct fixture {
    char dir[64];
    char err[512];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/vtpm-journal-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void path_in(char *out, const struct fixture *f, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", f->dir, name);
}

static bool exists(const struct fixture *f, const char *name)
{
    char p[PATH_MAX];

    path_in(p, f, name);
    return access(p, F_OK) == 0;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + seed);
}

static struct vtpm_store *open_store(struct fixture *f)
{
    struct vtpm_store *s = NULL;

    if (vtpm_store_open_dir(&s, f->dir, 2, -1, f->err, sizeof(f->err)) != 0)
        fail_msg("open: %s", f->err);
    return s;
}

/* A child saves each version in turn and dies without closing the store: a crash. */
static void crash_after_saves(struct fixture *f, const uint8_t *const *v, const size_t *len,
                              size_t n)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct vtpm_store *s = NULL;
        if (vtpm_store_open_dir(&s, f->dir, 2, -1, f->err, sizeof(f->err)) != 0)
            _exit(2);
        for (size_t i = 0; i < n; i++)
            if (vtpm_store_save(s, VTPM_BLOB_PERMANENT, v[i], len[i], f->err, sizeof(f->err)))
                _exit(3);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void expect_permanent(struct fixture *f, struct vtpm_store *s, const uint8_t *want,
                             size_t n)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = vtpm_store_load(s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err));

    if (rc != 0)
        fail_msg("load: %d %s", rc, f->err);
    assert_int_equal(len, n);
    assert_memory_equal(data, want, n);
    free(data);
}

static void test_slot_codec(void **state)
{
    uint8_t slot[VTPM_JOURNAL_SLOT_HDR + 100], data[100];
    const uint8_t *out;
    uint64_t seq, ino;
    size_t len;

    (void)state;
    fill(data, sizeof(data), 3);
    vtpm_journal_slot_encode(slot, 7, 1234, sizeof(slot), data, sizeof(data));
    assert_true(vtpm_journal_slot_decode(slot, sizeof(slot), &seq, &ino, &out, &len));
    assert_int_equal(seq, 7);
    assert_int_equal(ino, 1234);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
    /* A slot of another size belongs to another journal layout. */
    assert_false(vtpm_journal_slot_decode(slot, sizeof(slot) - 1, &seq, &ino, &out, &len));
    /* Any flipped byte of header or data (a torn write) makes the slot invalid. */
    for (size_t i = 0; i < sizeof(slot); i++) {
        slot[i] ^= 0x40;
        assert_false(vtpm_journal_slot_decode(slot, sizeof(slot), &seq, &ino, &out, &len));
        slot[i] ^= 0x40;
    }
    /* A length beyond the slot is refused, not read past. */
    slot[24] = 0xff;
    assert_false(vtpm_journal_slot_decode(slot, sizeof(slot), &seq, &ino, &out, &len));
}

static void test_recovers_newest_after_crash(void **state)
{
    struct fixture *f = *state;
    uint8_t a[500], b[700], c[600];
    const uint8_t *v[] = { a, b, c };
    const size_t n[] = { sizeof(a), sizeof(b), sizeof(c) };

    fill(a, sizeof(a), 1);
    fill(b, sizeof(b), 2);
    fill(c, sizeof(c), 3);
    crash_after_saves(f, v, n, 3);
    /* The crash left only the journal; the swtpm-format file was never written. */
    assert_true(exists(f, JOURNAL));
    assert_false(exists(f, "tpm2-00.permall"));

    struct vtpm_store *s = open_store(f);
    expect_permanent(f, s, c, sizeof(c));
    assert_true(vtpm_store_exists(s, VTPM_BLOB_PERMANENT));
    vtpm_store_close(s);
    /* A clean close checkpoints: the file holds the newest state, the journal is gone. */
    assert_false(exists(f, JOURNAL));
    assert_true(exists(f, "tpm2-00.permall"));
    s = open_store(f);
    expect_permanent(f, s, c, sizeof(c));
    vtpm_store_close(s);
}

static void test_torn_newest_slot_falls_back(void **state)
{
    struct fixture *f = *state;
    uint8_t a[300], b[300];
    const uint8_t *v[] = { a, b };
    const size_t n[] = { sizeof(a), sizeof(b) };
    char p[PATH_MAX];
    struct stat st;

    fill(a, sizeof(a), 4);
    fill(b, sizeof(b), 5);
    crash_after_saves(f, v, n, 2);
    /* Version 1 sits in slot 0, version 2 in slot 1: tear version 2. */
    path_in(p, f, JOURNAL);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    off_t off = st.st_size / 2 + VTPM_JOURNAL_SLOT_HDR + 10;
    assert_int_equal(pwrite(fd, "XX", 2, off), 2);
    close(fd);

    struct vtpm_store *s = open_store(f);
    expect_permanent(f, s, a, sizeof(a));
    vtpm_store_close(s);
}

static void test_replaced_file_makes_journal_stale(void **state)
{
    struct fixture *f = *state;
    uint8_t a[200], other[50], file[100];
    const uint8_t *v[] = { a };
    const size_t n[] = { sizeof(a) };
    char p[PATH_MAX], tmp[PATH_MAX];
    size_t flen;

    fill(a, sizeof(a), 6);
    fill(other, sizeof(other), 7);
    crash_after_saves(f, v, n, 1);
    /* After the crash another program (swtpm) wrote the directory: its file wins. */
    assert_int_equal(vtpm_blob_file_encode(file, sizeof(file), other, sizeof(other), &flen), 0);
    path_in(tmp, f, "swtpm.tmp");
    path_in(p, f, "tpm2-00.permall");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file, flen), (ssize_t)flen);
    close(fd);
    assert_int_equal(rename(tmp, p), 0);

    struct vtpm_store *s = open_store(f);
    expect_permanent(f, s, other, sizeof(other));
    assert_false(exists(f, JOURNAL));
    vtpm_store_close(s);
}

static void test_growth_beyond_slot(void **state)
{
    struct fixture *f = *state;
    static uint8_t small[100], big[64 * 1024];

    fill(small, sizeof(small), 8);
    fill(big, sizeof(big), 9);
    struct vtpm_store *s = open_store(f);
    assert_int_equal(vtpm_store_save(s, VTPM_BLOB_PERMANENT, small, sizeof(small), f->err,
                                     sizeof(f->err)), 0);
    assert_true(exists(f, JOURNAL));
    /* Too big for the slots: saved straight into the file, journal dropped. */
    assert_int_equal(
        vtpm_store_save(s, VTPM_BLOB_PERMANENT, big, sizeof(big), f->err, sizeof(f->err)), 0);
    assert_false(exists(f, JOURNAL));
    expect_permanent(f, s, big, sizeof(big));
    /* The next save starts a journal sized for the larger state. */
    big[5] ^= 1;
    assert_int_equal(
        vtpm_store_save(s, VTPM_BLOB_PERMANENT, big, sizeof(big), f->err, sizeof(f->err)), 0);
    assert_true(exists(f, JOURNAL));
    expect_permanent(f, s, big, sizeof(big));
    vtpm_store_close(s);
    s = open_store(f);
    expect_permanent(f, s, big, sizeof(big));
    vtpm_store_close(s);
}

static void test_delete_removes_journal(void **state)
{
    struct fixture *f = *state;
    uint8_t a[10];

    fill(a, sizeof(a), 10);
    struct vtpm_store *s = open_store(f);
    assert_int_equal(vtpm_store_save(s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err,
                                     sizeof(f->err)), 0);
    assert_int_equal(vtpm_store_delete(s, VTPM_BLOB_PERMANENT), 0);
    assert_false(vtpm_store_exists(s, VTPM_BLOB_PERMANENT));
    assert_false(exists(f, JOURNAL));
    uint8_t *d = NULL;
    size_t len;
    assert_int_equal(vtpm_store_load(s, VTPM_BLOB_PERMANENT, &d, &len, f->err, sizeof(f->err)),
                     -ENOENT);
    vtpm_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_codec),
        cmocka_unit_test_setup_teardown(test_recovers_newest_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_newest_slot_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_file_makes_journal_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_beyond_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_removes_journal, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
