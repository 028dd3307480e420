/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The directory store in a fresh mkdtemp directory per test: round trips,
 * the swtpm file names and format, modes, damage, symbolic links, and the
 * .lock held against another process (a forked child, ended by pid).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/blob.h"
#include "state/store.h"
#include "util/buf.h"

struct fixture {
    char dir[64];
    char err[512];
    struct vtpm_store *s;
    pid_t child;  /* a forked helper still running, or 0 */
    int to_child; /* write end of the pipe whose EOF ends the helper */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/vtpm-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    f->to_child = -1;
    *state = f;
    return 0;
}

static void end_child(struct fixture *f)
{
    if (f->to_child >= 0)
        close(f->to_child);
    f->to_child = -1;
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    f->child = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    end_child(f);
    vtpm_store_close(f->s);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void path_in(char *out, size_t cap, const struct fixture *f, const char *name)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

static void write_raw(const struct fixture *f, const char *name, const void *p, size_t len)
{
    char path[PATH_MAX];
    int fd;

    path_in(path, sizeof(path), f, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

static uint8_t *read_raw(const struct fixture *f, const char *name, size_t *len)
{
    char path[PATH_MAX];
    struct stat st;
    uint8_t *buf;
    int fd;

    path_in(path, sizeof(path), f, name);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static mode_t mode_of(const struct fixture *f, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    path_in(path, sizeof(path), f, name);
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static void open_store(struct fixture *f, int family, int mode)
{
    int rc = vtpm_store_open_dir(&f->s, f->dir, family, mode, f->err, sizeof(f->err));

    if (rc != 0)
        fail_msg("open_dir: %d %s", rc, f->err);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 31 + seed);
    p[0] = 0; /* like libtpms blobs, which start with a small be16 */
}

static void expect_load(struct fixture *f, enum vtpm_blob_type t, const uint8_t *want,
                        size_t want_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = vtpm_store_load(f->s, t, &data, &len, f->err, sizeof(f->err));

    if (rc != 0)
        fail_msg("load: %d %s", rc, f->err);
    assert_non_null(data);
    assert_int_equal(len, want_len);
    if (want_len)
        assert_memory_equal(data, want, want_len);
    free(data);
}

/* Only the named entries (and "." "..") are in the directory: no temporary leftovers. */
static void expect_entries(const struct fixture *f, const char *const *names, size_t n)
{
    DIR *d = opendir(f->dir);
    struct dirent *e;
    size_t seen = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        bool known = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;

        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(e->d_name, names[i]) == 0;
        if (!known)
            fail_msg("unexpected entry %s in the state directory", e->d_name);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            seen++;
    }
    closedir(d);
    assert_int_equal(seen, n);
}

static void test_save_load_round_trip(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {".lock", "tpm2-00.permall", "tpm2-00.volatilestate"};
    uint8_t a[3000], b[1200], *raw;
    size_t rawlen;

    fill(a, sizeof(a), 1);
    fill(b, sizeof(b), 2);
    open_store(f, 2, -1);
    assert_false(vtpm_store_exists(f->s, VTPM_BLOB_PERMANENT));
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_true(vtpm_store_exists(f->s, VTPM_BLOB_PERMANENT));
    expect_load(f, VTPM_BLOB_PERMANENT, a, sizeof(a));

    /* The file is exactly what swtpm writes: header + TLV(DATA), once synced
     * (until then the newest permanent state may live in the journal). */
    assert_int_equal(vtpm_store_sync(f->s), 0);
    raw = read_raw(f, "tpm2-00.permall", &rawlen);
    assert_int_equal(rawlen, 16 + sizeof(a));
    assert_int_equal(raw[0], 2);
    assert_int_equal(raw[1], 1);
    assert_int_equal(get_be16(raw + 2), 10);
    assert_int_equal(get_be16(raw + 4), 0);
    assert_int_equal(get_be32(raw + 6), rawlen);
    assert_int_equal(get_be16(raw + 10), VTPM_BLOB_TAG_DATA);
    assert_int_equal(get_be32(raw + 12), sizeof(a));
    assert_memory_equal(raw + 16, a, sizeof(a));
    free(raw);

    /* Overwrite with something shorter; the other types are separate files. */
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, b, sizeof(b), f->err, sizeof(f->err)), 0);
    expect_load(f, VTPM_BLOB_PERMANENT, b, sizeof(b));
    assert_int_equal(vtpm_store_save(f->s, VTPM_BLOB_VOLATILE, a, 100, f->err, sizeof(f->err)), 0);
    expect_load(f, VTPM_BLOB_VOLATILE, a, 100);
    expect_load(f, VTPM_BLOB_PERMANENT, b, sizeof(b));
    assert_false(vtpm_store_exists(f->s, VTPM_BLOB_SAVESTATE));
    assert_int_equal(vtpm_store_sync(f->s), 0);
    expect_entries(f, names, 3);

    /* Zero bytes of state round-trip too, and come back as a non-NULL buffer. */
    assert_int_equal(vtpm_store_save(f->s, VTPM_BLOB_SAVESTATE, NULL, 0, f->err, sizeof(f->err)),
                     0);
    expect_load(f, VTPM_BLOB_SAVESTATE, NULL, 0);
}

static void test_swtpm_file_names(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX];
    uint8_t a[64];

    fill(a, sizeof(a), 3);
    open_store(f, 1, -1);
    path_in(want, sizeof(want), f, "tpm-00.permall");
    assert_string_equal(vtpm_store_path(f->s, VTPM_BLOB_PERMANENT), want);
    path_in(want, sizeof(want), f, "tpm-00.volatilestate");
    assert_string_equal(vtpm_store_path(f->s, VTPM_BLOB_VOLATILE), want);
    path_in(want, sizeof(want), f, "tpm-00.savestate");
    assert_string_equal(vtpm_store_path(f->s, VTPM_BLOB_SAVESTATE), want);
    assert_null(vtpm_store_path(f->s, (enum vtpm_blob_type)4));
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_SAVESTATE, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_int_equal(mode_of(f, "tpm-00.savestate"), 0640);
    vtpm_store_close(f->s);
    f->s = NULL;

    /* A trailing slash on the directory does not leak into the paths. */
    snprintf(want, sizeof(want), "%s/", f->dir);
    assert_int_equal(vtpm_store_open_dir(&f->s, want, 2, -1, f->err, sizeof(f->err)), 0);
    path_in(want, sizeof(want), f, "tpm2-00.permall");
    assert_string_equal(vtpm_store_path(f->s, VTPM_BLOB_PERMANENT), want);
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    uint8_t *data = (uint8_t *)"x";
    size_t len = 7;

    open_store(f, 2, -1);
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -ENOENT);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(
        vtpm_store_load(f->s, (enum vtpm_blob_type)0, &data, &len, f->err, sizeof(f->err)),
        -EINVAL);
}

static void expect_damaged(struct fixture *f, const char *needle)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err));

    assert_int_equal(rc, -EBADMSG);
    assert_null(data);
    assert_non_null(strstr(f->err, vtpm_store_path(f->s, VTPM_BLOB_PERMANENT)));
    if (!strstr(f->err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", f->err, needle);
    assert_non_null(strstr(f->err, "will not replace it with a fresh TPM"));
}

static void test_damaged_file(void **state)
{
    struct fixture *f = *state;
    uint8_t a[1299], file[1315 + 1];
    size_t flen;

    fill(a, sizeof(a), 4);
    assert_int_equal(vtpm_blob_file_encode(file, sizeof(file), a, sizeof(a), &flen), 0);
    assert_int_equal(flen, 1315);
    open_store(f, 2, -1);

    write_raw(f, "tpm2-00.permall", file, 700);
    expect_damaged(f, "header says 1315 bytes but the file has 700");
    file[flen] = 0;
    write_raw(f, "tpm2-00.permall", file, flen + 1);
    expect_damaged(f, "header says 1315 bytes but the file has 1316");
    write_raw(f, "tpm2-00.permall", file, 5);
    expect_damaged(f, "header");
    write_raw(f, "tpm2-00.permall", file, 0);
    expect_damaged(f, "header");
    /* A DATA record longer than the file. */
    put_be32(file + 12, sizeof(a) + 1);
    write_raw(f, "tpm2-00.permall", file, flen);
    expect_damaged(f, "runs past the end");
    /* The damaged file is left alone for the user. */
    assert_true(vtpm_store_exists(f->s, VTPM_BLOB_PERMANENT));
}

static void test_newer_format(void **state)
{
    struct fixture *f = *state;
    uint8_t a[32], file[64], *data = NULL;
    size_t flen, len;

    fill(a, sizeof(a), 5);
    assert_int_equal(vtpm_blob_file_encode(file, sizeof(file), a, sizeof(a), &flen), 0);
    file[0] = 4;
    file[1] = 3;
    open_store(f, 2, -1);
    write_raw(f, "tpm2-00.permall", file, flen);
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -EBADMSG);
    assert_non_null(strstr(f->err, "version 4"));
}

static void test_encrypted_file(void **state)
{
    struct fixture *f = *state;
    uint8_t file[64] = {0}, *data = NULL;
    size_t n = 10, len;

    /* Header with the ENCRYPTED flag, then ENCRYPTED_DATA and HMAC records. */
    file[0] = 2;
    file[1] = 1;
    put_be16(file + 2, 10);
    put_be16(file + 4, VTPM_BLOB_FLAG_ENCRYPTED);
    put_be16(file + n, VTPM_BLOB_TAG_ENCRYPTED_DATA);
    put_be32(file + n + 2, 16);
    n += 6 + 16;
    put_be16(file + n, VTPM_BLOB_TAG_HMAC);
    put_be32(file + n + 2, 16);
    n += 6 + 16;
    put_be32(file + 6, (uint32_t)n);
    open_store(f, 2, -1);
    write_raw(f, "tpm2-00.permall", file, n);
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -ENOKEY);
    assert_null(data);
    assert_non_null(strstr(f->err, vtpm_store_path(f->s, VTPM_BLOB_PERMANENT)));
    assert_non_null(strstr(f->err, "encrypted"));
    assert_non_null(strstr(f->err, "--key"));
}

static void test_legacy_headerless_file(void **state)
{
    struct fixture *f = *state;
    uint8_t a[500];

    /* Early swtpm wrote the bare libtpms bytes; swtpm 0.7.1 still loads them. */
    fill(a, sizeof(a), 6);
    open_store(f, 2, -1);
    write_raw(f, "tpm2-00.permall", a, sizeof(a));
    expect_load(f, VTPM_BLOB_PERMANENT, a, sizeof(a));
}

static void test_file_mode(void **state)
{
    struct fixture *f = *state;
    uint8_t a[16];
    mode_t old = umask(077);

    fill(a, sizeof(a), 7);
    /* The configured mode wins over the umask, as swtpm's mode= does. */
    open_store(f, 2, 0660);
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_int_equal(mode_of(f, ".tpm2-00.permall.journal"), 0660);
    assert_int_equal(vtpm_store_sync(f->s), 0);
    assert_int_equal(mode_of(f, "tpm2-00.permall"), 0660);
    assert_int_equal(mode_of(f, ".lock"), 0600); /* 0640 under umask 077 */
    vtpm_store_close(f->s);
    f->s = NULL;
    umask(022);
    open_store(f, 2, 0600);
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_int_equal(vtpm_store_sync(f->s), 0);
    assert_int_equal(mode_of(f, "tpm2-00.permall"), 0600);
    vtpm_store_close(f->s);
    f->s = NULL;
    open_store(f, 2, -1);
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_VOLATILE, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_int_equal(mode_of(f, "tpm2-00.volatilestate"), 0640);
    umask(old);
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    static const int bad_modes[] = {0400, 0200, 01640, 04600, -2, 0x10000};

    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        assert_int_equal(
            vtpm_store_open_dir(&f->s, f->dir, 2, bad_modes[i], f->err, sizeof(f->err)), -EINVAL);
        assert_null(f->s);
        assert_non_null(strstr(f->err, "mode"));
    }
    assert_int_equal(vtpm_store_open_dir(&f->s, f->dir, 3, -1, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "family"));
}

static void test_missing_dir(void **state)
{
    struct fixture *f = *state;
    char dir[PATH_MAX], want[PATH_MAX + 16];

    path_in(dir, sizeof(dir), f, "nope");
    assert_int_equal(vtpm_store_open_dir(&f->s, dir, 2, -1, f->err, sizeof(f->err)), -ENOENT);
    assert_null(f->s);
    snprintf(want, sizeof(want), "mkdir -p %s", dir);
    assert_non_null(strstr(f->err, want));
    assert_non_null(strstr(f->err, "does not exist"));

    write_raw(f, "plain", "x", 1);
    path_in(dir, sizeof(dir), f, "plain");
    assert_int_equal(vtpm_store_open_dir(&f->s, dir, 2, -1, f->err, sizeof(f->err)), -ENOTDIR);
    assert_non_null(strstr(f->err, "not a directory"));
}

/* Fork a child that opens the store and holds it until the pipe closes. */
static void start_holder(struct fixture *f)
{
    int ready[2], hold[2];
    char c;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    f->child = fork();
    assert_true(f->child >= 0);
    if (f->child == 0) {
        struct vtpm_store *s = NULL;

        close(ready[0]);
        close(hold[1]);
        if (vtpm_store_open_dir(&s, f->dir, 2, -1, NULL, 0) != 0)
            _exit(1);
        c = 'r';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        while (read(hold[0], &c, 1) > 0)
            ;
        vtpm_store_close(s);
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    f->to_child = hold[1];
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
}

/* Exit status of a child that tries to open the store: 0 = -EBUSY naming want_pid. */
static int child_sees_busy(const struct fixture *f, pid_t want_pid)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct vtpm_store *s = NULL;
        char err[512], needle[64];
        int rc = vtpm_store_open_dir(&s, f->dir, 2, -1, err, sizeof(err));

        snprintf(needle, sizeof(needle), "held by pid %ld)", (long)want_pid);
        if (rc == 0)
            _exit(10);
        if (rc != -EBUSY)
            _exit(11);
        if (!strstr(err, needle) || !strstr(err, f->dir) || !strstr(err, "/.lock"))
            _exit(12);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int child_opens(const struct fixture *f)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct vtpm_store *s = NULL;

        _exit(vtpm_store_open_dir(&s, f->dir, 2, -1, NULL, 0) == 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_lock_conflict(void **state)
{
    struct fixture *f = *state;
    char needle[64];

    /* Parent holds: a child is refused and told the parent's pid. */
    open_store(f, 2, -1);
    assert_int_equal(child_sees_busy(f, getpid()), 0);
    vtpm_store_close(f->s);
    f->s = NULL;

    /* A child holds: the parent is refused and told the child's pid. */
    start_holder(f);
    assert_int_equal(vtpm_store_open_dir(&f->s, f->dir, 2, -1, f->err, sizeof(f->err)), -EBUSY);
    assert_null(f->s);
    snprintf(needle, sizeof(needle), "held by pid %ld)", (long)f->child);
    if (!strstr(f->err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", f->err, needle);
    assert_non_null(strstr(f->err, "use another --tpmstate dir"));
    end_child(f);
    open_store(f, 2, -1);
}

static void test_unlock_relock(void **state)
{
    struct fixture *f = *state;
    char needle[64];

    open_store(f, 2, -1);
    assert_int_equal(child_opens(f), 1);
    assert_int_equal(vtpm_store_unlock(f->s), 0);
    assert_int_equal(vtpm_store_unlock(f->s), 0);
    assert_int_equal(child_opens(f), 0);

    /* While someone else holds it, relock fails and names them. */
    start_holder(f);
    assert_int_equal(vtpm_store_relock(f->s, f->err, sizeof(f->err)), -EBUSY);
    snprintf(needle, sizeof(needle), "held by pid %ld)", (long)f->child);
    assert_non_null(strstr(f->err, needle));
    end_child(f);

    assert_int_equal(vtpm_store_relock(f->s, f->err, sizeof(f->err)), 0);
    assert_int_equal(vtpm_store_relock(f->s, f->err, sizeof(f->err)), 0);
    assert_int_equal(child_sees_busy(f, getpid()), 0);
}

static void test_symlink_refused(void **state)
{
    struct fixture *f = *state;
    char target[PATH_MAX], link[PATH_MAX];
    uint8_t a[40], file[64], *data = NULL, *raw;
    size_t flen, len, rawlen;
    struct stat st;

    fill(a, sizeof(a), 8);
    assert_int_equal(vtpm_blob_file_encode(file, sizeof(file), a, sizeof(a), &flen), 0);
    write_raw(f, "elsewhere", file, flen);
    path_in(target, sizeof(target), f, "elsewhere");
    path_in(link, sizeof(link), f, "tpm2-00.permall");
    assert_int_equal(symlink(target, link), 0);
    open_store(f, 2, -1);

    assert_true(vtpm_store_exists(f->s, VTPM_BLOB_PERMANENT));
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -ELOOP);
    assert_null(data);
    assert_non_null(strstr(f->err, link));
    assert_non_null(strstr(f->err, "symbolic link"));
    assert_int_equal(vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, 10, f->err, sizeof(f->err)),
                     -ELOOP);
    /* Neither the link nor its target changed. */
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    raw = read_raw(f, "elsewhere", &rawlen);
    assert_int_equal(rawlen, flen);
    assert_memory_equal(raw, file, flen);
    free(raw);
}

static void test_symlink_lock_refused(void **state)
{
    struct fixture *f = *state;
    char target[PATH_MAX], link[PATH_MAX];

    path_in(target, sizeof(target), f, "victim");
    path_in(link, sizeof(link), f, ".lock");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(vtpm_store_open_dir(&f->s, f->dir, 2, -1, f->err, sizeof(f->err)), -ELOOP);
    assert_null(f->s);
    assert_non_null(strstr(f->err, link));
    assert_int_equal(access(target, F_OK), -1); /* nothing created through the link */
}

static void test_stale_temporary_file(void **state)
{
    struct fixture *f = *state;
    char target[PATH_MAX], link[PATH_MAX];
    static const char *const names[] = {".lock", "tpm2-00.permall", "victim"};
    uint8_t a[40], *raw;
    size_t rawlen;

    /* A leftover temporary name, even a planted link, is replaced, never written through. */
    write_raw(f, "victim", "keep", 4);
    path_in(target, sizeof(target), f, "victim");
    path_in(link, sizeof(link), f, ".tpm2-00.permall.tmp");
    assert_int_equal(symlink(target, link), 0);
    fill(a, sizeof(a), 9);
    open_store(f, 2, -1);
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err, sizeof(f->err)), 0);
    expect_load(f, VTPM_BLOB_PERMANENT, a, sizeof(a));
    assert_int_equal(vtpm_store_sync(f->s), 0);
    raw = read_raw(f, "victim", &rawlen);
    assert_int_equal(rawlen, 4);
    assert_memory_equal(raw, "keep", 4);
    free(raw);
    expect_entries(f, names, 3);
}

static void test_not_a_regular_file(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    uint8_t *data = NULL;
    size_t len;

    /* A FIFO must neither hang the load nor pass as state. */
    path_in(path, sizeof(path), f, "tpm2-00.permall");
    assert_int_equal(mkfifo(path, 0600), 0);
    open_store(f, 2, -1);
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -EINVAL);
    assert_non_null(strstr(f->err, "not a regular file"));
    unlink(path);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_PERMANENT, &data, &len, f->err, sizeof(f->err)), -EINVAL);
    assert_null(data);
}

static void test_too_large(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    uint8_t *data = NULL;
    size_t len;
    int fd;

    path_in(path, sizeof(path), f, "tpm2-00.volatilestate");
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)VTPM_STORE_MAX_FILE + 1), 0); /* sparse */
    close(fd);
    open_store(f, 2, -1);
    assert_int_equal(vtpm_store_load(f->s, VTPM_BLOB_VOLATILE, &data, &len, f->err, sizeof(f->err)),
                     -EFBIG);
    assert_null(data);
    assert_non_null(strstr(f->err, path));
}

static void test_delete(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {".lock"};
    uint8_t a[40], *data = NULL;
    size_t len;

    fill(a, sizeof(a), 10);
    open_store(f, 2, -1);
    assert_int_equal(vtpm_store_delete(f->s, VTPM_BLOB_SAVESTATE), 0);
    assert_int_equal(
        vtpm_store_save(f->s, VTPM_BLOB_SAVESTATE, a, sizeof(a), f->err, sizeof(f->err)), 0);
    assert_true(vtpm_store_exists(f->s, VTPM_BLOB_SAVESTATE));
    assert_int_equal(vtpm_store_delete(f->s, VTPM_BLOB_SAVESTATE), 0);
    assert_false(vtpm_store_exists(f->s, VTPM_BLOB_SAVESTATE));
    assert_int_equal(
        vtpm_store_load(f->s, VTPM_BLOB_SAVESTATE, &data, &len, f->err, sizeof(f->err)), -ENOENT);
    assert_int_equal(vtpm_store_delete(f->s, (enum vtpm_blob_type)9), -EINVAL);
    expect_entries(f, names, 1);
}

static void test_save_fails_cleanly(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    uint8_t a[40];

    /* A directory squatting on the name makes the rename fail; no temporary file remains. */
    fill(a, sizeof(a), 11);
    path_in(path, sizeof(path), f, "tpm2-00.permall");
    assert_int_equal(mkdir(path, 0700), 0);
    write_raw(f, "tpm2-00.permall/inside", "x", 1);
    open_store(f, 2, -1);
    assert_true(vtpm_store_save(f->s, VTPM_BLOB_PERMANENT, a, sizeof(a), f->err, sizeof(f->err)) <
                0);
    assert_non_null(strstr(f->err, path));
    assert_non_null(strstr(f->err, "not a regular file"));
    path_in(path, sizeof(path), f, ".tpm2-00.permall.tmp");
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swtpm_file_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encrypted_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_headerless_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlock_relock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_lock_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temporary_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_fails_cleanly, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
