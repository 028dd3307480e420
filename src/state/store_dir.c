/* SPDX-License-Identifier: BSD-3-Clause */
#include "state/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/blob.h"
#include "state/journal.h"
#include "util/io.h"

#define LOCK_NAME ".lock"
#define LOCK_MODE 0640
#define NAME_MAX_LEN 32 /* "tpm2-00.volatilestate" and room to spare */
#define KEEP_HINT                                                                                  \
    "vtpmd will not replace it with a fresh TPM: restore it from a backup or move it away"

struct vtpm_store {
    char *dir;
    char *lock_path;
    int dirfd;
    int lockfd;
    mode_t mode;
    /* Indexed by enum vtpm_blob_type; entry 0 unused. */
    char name[4][NAME_MAX_LEN];
    char tmp_name[4][NAME_MAX_LEN + 8]; /* ".NAME.tmp" */
    char *path[4];
    /* Saves of the permanent state go through the journal (journal.h). */
    struct vtpm_journal journal;
    char journal_name[NAME_MAX_LEN + 16];     /* ".tpm2-00.permall.journal" */
    char journal_tmp[NAME_MAX_LEN + 24];
};

static const char *const blob_suffix[4] = {
    [VTPM_BLOB_PERMANENT] = "permall",
    [VTPM_BLOB_VOLATILE] = "volatilestate",
    [VTPM_BLOB_SAVESTATE] = "savestate",
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool valid_type(enum vtpm_blob_type t)
{
    return t >= VTPM_BLOB_PERMANENT && t <= VTPM_BLOB_SAVESTATE;
}

/* "dir/" and "dir" name the same directory; keep messages free of "//". */
static char *dup_without_trailing_slashes(const char *dir)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strndup(dir, n);
}

static int make_names(struct vtpm_store *s, int family)
{
    /* swtpm's GetFilenameForName: "tpm-00.NAME" for TPM 1.2, "tpm2-00.NAME" for 2.0. */
    const char *prefix = family == 2 ? "tpm2-00" : "tpm-00";
    const char *sep = strcmp(s->dir, "/") == 0 ? "" : "/";

    for (int t = VTPM_BLOB_PERMANENT; t <= VTPM_BLOB_SAVESTATE; t++) {
        snprintf(s->name[t], sizeof(s->name[t]), "%s.%s", prefix, blob_suffix[t]);
        snprintf(s->tmp_name[t], sizeof(s->tmp_name[t]), ".%s.%s.tmp", prefix, blob_suffix[t]);
        if (asprintf(&s->path[t], "%s%s%s", s->dir, sep, s->name[t]) < 0) {
            s->path[t] = NULL;
            return -ENOMEM;
        }
    }
    snprintf(s->journal_name, sizeof(s->journal_name), ".%s.journal", s->name[VTPM_BLOB_PERMANENT]);
    snprintf(s->journal_tmp, sizeof(s->journal_tmp), "%s.tmp", s->journal_name);
    if (asprintf(&s->lock_path, "%s%s%s", s->dir, sep, LOCK_NAME) < 0) {
        s->lock_path = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int open_state_dir(struct vtpm_store *s, char *err, size_t errlen)
{
    int e;

    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd >= 0)
        return 0;
    e = errno;
    if (e == ENOENT)
        set_err(err, errlen, "state directory %s does not exist; create it with `mkdir -p %s`",
                s->dir, s->dir);
    else if (e == ENOTDIR)
        set_err(err, errlen, "%s is not a directory; --tpmstate dir= needs a directory", s->dir);
    else if (e == EACCES)
        set_err(err, errlen,
                "cannot open state directory %s: permission denied; give the user vtpmd "
                "runs as access to it",
                s->dir);
    else
        set_err(err, errlen, "cannot open state directory %s: %s", s->dir, strerror(e));
    return -e;
}

static int describe_lock_open_error(const struct vtpm_store *s, int e, char *err, size_t errlen)
{
    if (e == ELOOP)
        set_err(err, errlen,
                "%s is a symbolic link; remove it (vtpmd creates the lock file itself)",
                s->lock_path);
    else
        set_err(err, errlen,
                "cannot create lock file %s: %s; vtpmd needs write access to the state "
                "directory",
                s->lock_path, strerror(e));
    return -e;
}

static int describe_busy(const struct vtpm_store *s, const struct flock *holder, char *err,
                         size_t errlen)
{
    /* l_pid is 0 or -1 when the holder is in another pid namespace or holds an OFD lock. */
    if (holder->l_pid > 0)
        set_err(err, errlen,
                "state directory %s is in use by another vtpmd/swtpm (lock %s held by pid "
                "%ld); stop it or use another --tpmstate dir",
                s->dir, s->lock_path, (long)holder->l_pid);
    else
        set_err(err, errlen,
                "state directory %s is in use by another vtpmd/swtpm (lock %s is held); "
                "stop it or use another --tpmstate dir",
                s->dir, s->lock_path);
    return -EBUSY;
}

/* swtpm_nvstore_dir.c locks the same file the same way: F_WRLCK over the whole file. */
static int try_lock(struct vtpm_store *s, int fd, char *err, size_t errlen)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct flock holder = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int e;

    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    e = errno;
    if (e != EACCES && e != EAGAIN) {
        set_err(err, errlen, "cannot lock %s: %s", s->lock_path, strerror(e));
        return -e;
    }
    if (fcntl(fd, F_GETLK, &holder) < 0) {
        e = errno;
        set_err(err, errlen, "cannot query the lock on %s: %s", s->lock_path, strerror(e));
        return -e;
    }
    /* The holder went away between the two calls: worth another try. */
    if (holder.l_type == F_UNLCK)
        return -EAGAIN;
    return describe_busy(s, &holder, err, errlen);
}

static int take_lock(struct vtpm_store *s, char *err, size_t errlen)
{
    struct flock unknown = {.l_pid = 0};
    int fd, rc = -EAGAIN;

    fd = openat(s->dirfd, LOCK_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, LOCK_MODE);
    if (fd < 0)
        return describe_lock_open_error(s, errno, err, errlen);
    for (int tries = 0; tries < 3 && rc == -EAGAIN; tries++)
        rc = try_lock(s, fd, err, errlen);
    if (rc == -EAGAIN)
        rc = describe_busy(s, &unknown, err, errlen);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    s->lockfd = fd;
    return 0;
}

int vtpm_store_open_dir(struct vtpm_store **out, const char *dir, int family, int mode, char *err,
                        size_t errlen)
{
    struct vtpm_store *s = NULL;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (family != 1 && family != 2) {
        set_err(err, errlen, "unknown TPM family %d: use 1 (TPM 1.2) or 2 (TPM 2.0)", family);
        return -EINVAL;
    }
    if (mode == -1)
        mode = VTPM_STORE_DEFAULT_MODE;
    if (mode < 0 || mode > 0777 || (mode & 0600) != 0600) {
        set_err(err, errlen,
                "state file mode 0%o is not usable: give permission bits such as 0640 that "
                "let the owner read and write",
                (unsigned)mode);
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->dirfd = -1;
    s->lockfd = -1;
    s->mode = (mode_t)mode;
    vtpm_journal_init(&s->journal, -1, s->journal_name, s->journal_tmp, s->mode);
    s->dir = dup_without_trailing_slashes(dir);
    rc = s->dir ? make_names(s, family) : -ENOMEM;
    if (rc < 0) {
        set_err(err, errlen, "out of memory opening state directory %s", dir);
        goto out;
    }
    rc = open_state_dir(s, err, errlen);
    if (rc < 0)
        goto out;
    s->journal.dirfd = s->dirfd;
    rc = take_lock(s, err, errlen);
out:
    if (rc < 0)
        vtpm_store_close(s);
    else
        *out = s;
    return rc;
}

static int describe_open_error(const char *path, int e, char *err, size_t errlen)
{
    if (e == ENOENT)
        set_err(err, errlen, "%s does not exist", path);
    else if (e == ELOOP)
        set_err(err, errlen,
                "%s is a symbolic link; vtpmd does not follow links for state files: put "
                "the file itself there",
                path);
    else
        set_err(err, errlen, "cannot open %s: %s", path, strerror(e));
    return -e;
}

static int read_fd(int fd, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n = 0;

    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return 0;
}

/* Reads a whole regular file of at most VTPM_STORE_MAX_FILE bytes into a malloc'd buffer. */
static int read_whole(int fd, const char *path, uint8_t **out, size_t *outlen, char *err,
                      size_t errlen)
{
    struct stat st;
    uint8_t *buf;
    size_t cap;
    int rc;

    if (fstat(fd, &st) < 0) {
        rc = -errno;
        set_err(err, errlen, "cannot stat %s: %s", path, strerror(-rc));
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s is not a regular file; move it away", path);
        return -EINVAL;
    }
    if (st.st_size > (off_t)VTPM_STORE_MAX_FILE) {
        set_err(err, errlen,
                "%s has %lld bytes, more than any TPM state (limit %u); it is not a state "
                "file: move it away",
                path, (long long)st.st_size, VTPM_STORE_MAX_FILE);
        return -EFBIG;
    }
    /* One byte more than the size, so the buffer is never malloc(0). */
    cap = (size_t)st.st_size;
    buf = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    rc = read_fd(fd, buf, cap, outlen);
    if (rc < 0) {
        set_err(err, errlen, "cannot read %s: %s", path, strerror(-rc));
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

static int describe_decode_error(const char *path, int brc, const uint8_t *buf, size_t n, char *err,
                                 size_t errlen)
{
    struct vtpm_blob_header h;

    vtpm_blob_header_parse(buf, n, &h);
    switch (brc) {
    case VTPM_BLOB_E_ENCRYPTED:
        set_err(err, errlen, "%s is encrypted; vtpmd needs the key swtpm used for it (--key)",
                path);
        return -ENOKEY;
    case VTPM_BLOB_E_VERSION:
        set_err(err, errlen,
                "%s has state format version %u needing a reader of version %u, but vtpmd "
                "reads version %u; open it with the program that wrote it",
                path, h.version, h.min_version, VTPM_BLOB_VERSION);
        return -EBADMSG;
    case VTPM_BLOB_E_TOTLEN:
        set_err(err, errlen,
                "%s is damaged: header says %lu bytes but the file has %zu; " KEEP_HINT, path,
                (unsigned long)h.totlen, n);
        return -EBADMSG;
    default:
        set_err(err, errlen, "%s is damaged: %s; " KEEP_HINT, path, vtpm_blob_strerror(brc));
        return -EBADMSG;
    }
}

/* The inode of the swtpm-format permanent file, or 0 when there is none. */
static uint64_t permanent_ino(struct vtpm_store *s)
{
    struct stat st;

    if (fstatat(s->dirfd, s->name[VTPM_BLOB_PERMANENT], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return (uint64_t)st.st_ino;
}

/* Returns 1 with the newest permanent state when the journal holds it, 0 when
 * the file holds it, or a negative errno. */
static int load_from_journal(struct vtpm_store *s, uint8_t **data, size_t *len, char *err,
                             size_t errlen)
{
    const uint8_t *latest;
    size_t n;

    if (!s->journal.active) {
        int rc = vtpm_journal_recover(&s->journal, permanent_ino(s));
        if (rc < 0) {
            set_err(err, errlen, "cannot read the journal %s/%s: %s", s->dir, s->journal_name,
                    strerror(-rc));
            return rc;
        }
        if (rc == 0)
            return 0;
    }
    latest = vtpm_journal_latest(&s->journal, &n);
    *data = malloc(n ? n : 1);
    if (!*data)
        return -ENOMEM;
    memcpy(*data, latest, n);
    *len = n;
    return 1;
}

int vtpm_store_load(struct vtpm_store *s, enum vtpm_blob_type t, uint8_t **data, size_t *len,
                    char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    const uint8_t *payload;
    size_t n = 0, payload_len;
    int fd = -1, rc, brc;

    *data = NULL;
    *len = 0;
    if (!valid_type(t)) {
        set_err(err, errlen, "unknown state blob type %d", (int)t);
        return -EINVAL;
    }
    if (t == VTPM_BLOB_PERMANENT) {
        rc = load_from_journal(s, data, len, err, errlen);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    /* O_NONBLOCK: a FIFO planted under the name must not hang us before the S_ISREG check. */
    fd = openat(s->dirfd, s->name[t], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rc = describe_open_error(s->path[t], errno, err, errlen);
        goto out;
    }
    rc = read_whole(fd, s->path[t], &buf, &n, err, errlen);
    if (rc < 0)
        goto out;
    brc = vtpm_blob_file_decode(buf, n, &payload, &payload_len);
    if (brc != VTPM_BLOB_OK) {
        rc = describe_decode_error(s->path[t], brc, buf, n, err, errlen);
        goto out;
    }
    memmove(buf, payload, payload_len);
    *data = buf;
    *len = payload_len;
    buf = NULL;
out:
    if (fd >= 0)
        close(fd);
    if (buf)
        explicit_bzero(buf, n);
    free(buf);
    return rc;
}

/* rename() would replace a link rather than follow it, and whatever else sits
 * under the name is not ours: refuse both so as not to break a setup. */
static int refuse_symlink(struct vtpm_store *s, enum vtpm_blob_type t, char *err, size_t errlen)
{
    struct stat st;

    if (fstatat(s->dirfd, s->name[t], &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode))
        return 0;
    if (S_ISLNK(st.st_mode))
        return describe_open_error(s->path[t], ELOOP, err, errlen);
    set_err(err, errlen, "cannot save %s: it is not a regular file; move it away", s->path[t]);
    return -EINVAL;
}

/*
 * The new content goes to a fresh temporary file, reaches the disk
 * (fdatasync), and only then replaces the old name (rename is atomic); the
 * directory fsync makes the rename itself durable.
 */
static int write_durably(struct vtpm_store *s, enum vtpm_blob_type t, const uint8_t *buf,
                         size_t len, char *err, size_t errlen)
{
    const char *tmp = s->tmp_name[t];
    const char *step;
    bool renamed = false;
    int fd = -1, rc;

    /* A leftover from a crash (or anything planted there) goes; O_EXCL then never follows. */
    step = "removing a stale temporary file";
    if (unlinkat(s->dirfd, tmp, 0) < 0 && errno != ENOENT)
        goto fail;
    step = "creating the temporary file";
    fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, s->mode);
    if (fd < 0)
        goto fail;
    /* The umask narrows open()'s mode; the configured mode is what swtpm leaves on disk. */
    step = "setting the file mode";
    if (fchmod(fd, s->mode) < 0)
        goto fail;
    step = "writing";
    rc = vtpm_write_full(fd, buf, len);
    if (rc < 0) {
        errno = -rc;
        goto fail;
    }
    step = "fdatasync";
    if (fdatasync(fd) < 0)
        goto fail;
    step = "closing the temporary file";
    rc = close(fd);
    fd = -1;
    if (rc < 0)
        goto fail;
    step = "renaming the temporary file";
    if (renameat(s->dirfd, tmp, s->dirfd, s->name[t]) < 0)
        goto fail;
    renamed = true;
    step = "fsync of the directory";
    if (fsync(s->dirfd) < 0)
        goto fail;
    return 0;
fail:
    rc = -errno;
    set_err(err, errlen, "cannot save %s: %s failed: %s; %s", s->path[t], step, strerror(-rc),
            renamed ? "the new state may not survive a power loss"
                    : "the previous state is unchanged");
    if (fd >= 0)
        close(fd);
    if (!renamed)
        unlinkat(s->dirfd, tmp, 0);
    return rc;
}

int vtpm_store_save(struct vtpm_store *s, enum vtpm_blob_type t, const uint8_t *data, size_t len,
                    char *err, size_t errlen)
{
    size_t total, written;
    uint8_t *buf;
    int rc;

    if (!valid_type(t)) {
        set_err(err, errlen, "unknown state blob type %d", (int)t);
        return -EINVAL;
    }
    total = vtpm_blob_file_size(len);
    if (total == 0) {
        set_err(err, errlen, "cannot save %s: %zu bytes of state exceed the file format's limit",
                s->path[t], len);
        return -EFBIG;
    }
    rc = refuse_symlink(s, t, err, errlen);
    if (rc < 0)
        return rc;
    /* The permanent state changes with every NV write: one pwrite + fdatasync
     * in the journal instead of four steps; the file catches up at close. */
    if (t == VTPM_BLOB_PERMANENT && vtpm_journal_append(&s->journal, permanent_ino(s), data,
                                                        len) == 0)
        return 0;
    buf = malloc(total);
    if (!buf)
        return -ENOMEM;
    vtpm_blob_file_encode(buf, total, data, len, &written);
    rc = write_durably(s, t, buf, written, err, errlen);
    explicit_bzero(buf, total);
    free(buf);
    /* The file now holds the newest state; a journal on the old file is stale. */
    if (rc == 0 && t == VTPM_BLOB_PERMANENT)
        vtpm_journal_discard(&s->journal);
    return rc;
}

/* Brings the swtpm-format file up to date and removes the journal, so that
 * the directory is what swtpm (or a later vtpmd) expects. */
static int checkpoint(struct vtpm_store *s)
{
    const uint8_t *latest;
    size_t n, written;
    char err[256];
    int rc;

    if (!s->journal.active)
        return 0;
    latest = vtpm_journal_latest(&s->journal, &n);
    size_t total = vtpm_blob_file_size(n);
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf)
        return -ENOMEM;
    vtpm_blob_file_encode(buf, total, latest, n, &written);
    rc = write_durably(s, VTPM_BLOB_PERMANENT, buf, written, err, sizeof(err));
    explicit_bzero(buf, total);
    free(buf);
    if (rc == 0)
        rc = vtpm_journal_discard(&s->journal);
    return rc;
}

int vtpm_store_sync(struct vtpm_store *s)
{
    return checkpoint(s);
}

int vtpm_store_delete(struct vtpm_store *s, enum vtpm_blob_type t)
{
    if (!valid_type(t))
        return -EINVAL;
    if (t == VTPM_BLOB_PERMANENT) {
        int rc = vtpm_journal_discard(&s->journal);
        if (rc < 0)
            return rc;
    }
    if (unlinkat(s->dirfd, s->name[t], 0) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (fsync(s->dirfd) < 0)
        return -errno;
    return 0;
}

bool vtpm_store_exists(struct vtpm_store *s, enum vtpm_blob_type t)
{
    struct stat st;

    if (!valid_type(t))
        return false;
    if (t == VTPM_BLOB_PERMANENT && s->journal.active)
        return true;
    return fstatat(s->dirfd, s->name[t], &st, AT_SYMLINK_NOFOLLOW) == 0;
}

const char *vtpm_store_path(struct vtpm_store *s, enum vtpm_blob_type t)
{
    return valid_type(t) ? s->path[t] : NULL;
}

int vtpm_store_unlock(struct vtpm_store *s)
{
    int rc = checkpoint(s);

    /* Closing the only descriptor of the lock file drops the POSIX lock. */
    if (s->lockfd >= 0 && close(s->lockfd) < 0 && errno != EINTR && rc == 0)
        rc = -errno;
    s->lockfd = -1;
    return rc;
}

int vtpm_store_relock(struct vtpm_store *s, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (s->lockfd >= 0)
        return 0;
    return take_lock(s, err, errlen);
}

void vtpm_store_close(struct vtpm_store *s)
{
    if (!s)
        return;
    if (s->lockfd >= 0)
        checkpoint(s); /* only the lock holder may write the directory */
    vtpm_journal_free(&s->journal);
    if (s->lockfd >= 0)
        close(s->lockfd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    for (int t = VTPM_BLOB_PERMANENT; t <= VTPM_BLOB_SAVESTATE; t++)
        free(s->path[t]);
    free(s->lock_path);
    free(s->dir);
    free(s);
}
