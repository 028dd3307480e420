/* SPDX-License-Identifier: BSD-3-Clause */
#include "state/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/io.h"

static const uint8_t MAGIC[8] = { 'V', 'T', 'P', 'M', 'J', 'N', 'L', '1' };
/* Slot header: magic[8] seq[8] base_ino[8] len[4] slot_size[4] sha256[32] */
#define DIGEST_OFF 32u
#define MIN_SLOT 16384u
#define MAX_FILE (32u * 1024 * 1024)

static void digest(const uint8_t *slot, const uint8_t *data, size_t len, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 32;

    memset(out, 0, 32);
    if (!ctx)
        return;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, slot, DIGEST_OFF) == 1 && EVP_DigestUpdate(ctx, data, len) == 1)
        EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
}

void vtpm_journal_slot_encode(uint8_t *slot, uint64_t seq, uint64_t base_ino, size_t slot_size,
                              const uint8_t *data, size_t len)
{
    memcpy(slot, MAGIC, sizeof(MAGIC));
    put_be64(slot + 8, seq);
    put_be64(slot + 16, base_ino);
    put_be32(slot + 24, (uint32_t)len);
    put_be32(slot + 28, (uint32_t)slot_size);
    memmove(slot + VTPM_JOURNAL_SLOT_HDR, data, len);
    digest(slot, slot + VTPM_JOURNAL_SLOT_HDR, len, slot + DIGEST_OFF);
}

bool vtpm_journal_slot_decode(const uint8_t *slot, size_t slot_size, uint64_t *seq,
                              uint64_t *base_ino, const uint8_t **data, size_t *len)
{
    struct vtpm_reader r;
    uint8_t want[32];

    vtpm_reader_init(&r, slot, slot_size);
    const uint8_t *magic = vtpm_read_bytes(&r, sizeof(MAGIC));
    *seq = vtpm_read_be64(&r);
    *base_ino = vtpm_read_be64(&r);
    uint32_t n = vtpm_read_be32(&r);
    uint32_t size = vtpm_read_be32(&r);
    const uint8_t *sum = vtpm_read_bytes(&r, 32);
    const uint8_t *payload = vtpm_read_bytes(&r, n);
    if (r.err || memcmp(magic, MAGIC, sizeof(MAGIC)) != 0 || size != slot_size || *seq == 0)
        return false;
    digest(slot, payload, n, want);
    if (memcmp(want, sum, 32) != 0)
        return false;
    *data = payload;
    *len = n;
    return true;
}

void vtpm_journal_init(struct vtpm_journal *j, int dirfd, const char *name, const char *tmp,
                       mode_t mode)
{
    memset(j, 0, sizeof(*j));
    j->dirfd = dirfd;
    j->name = name;
    j->tmp = tmp;
    j->mode = mode;
    j->fd = -1;
}

static int keep_copy(struct vtpm_journal *j, const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);

    if (!copy)
        return -ENOMEM;
    memcpy(copy, data, len);
    if (j->data)
        explicit_bzero(j->data, j->len);
    free(j->data);
    j->data = copy;
    j->len = len;
    return 0;
}

static int read_file(int fd, uint8_t **out, size_t *outlen)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > (off_t)MAX_FILE ||
        st.st_size % 2)
        return -EINVAL;
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n);
    if (!buf)
        return -ENOMEM;
    ssize_t got = pread(fd, buf, n, 0);
    if (got != (ssize_t)n) {
        free(buf);
        return got < 0 ? -errno : -EIO;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

int vtpm_journal_recover(struct vtpm_journal *j, uint64_t base_ino)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    const uint8_t *best = NULL;
    size_t best_len = 0;
    uint64_t best_seq = 0;
    int rc;

    int fd = openat(j->dirfd, j->name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    rc = read_file(fd, &buf, &n);
    for (int i = 0; rc == 0 && i < 2; i++) {
        uint64_t seq, ino;
        const uint8_t *data;
        size_t len;
        size_t slot = n / 2;
        if (vtpm_journal_slot_decode(buf + i * slot, slot, &seq, &ino, &data, &len) &&
            ino == base_ino && seq > best_seq) {
            best = data;
            best_len = len;
            best_seq = seq;
        }
    }
    if (!best) {
        /* Stale (the file it built on was replaced) or never completed: not the newest state. */
        close(fd);
        free(buf);
        return vtpm_journal_discard(j);
    }
    rc = keep_copy(j, best, best_len);
    if (rc == 0) {
        j->fd = fd;
        j->active = true;
        j->seq = best_seq;
        j->base_ino = base_ino;
        j->slot_size = n / 2;
        rc = 1;
    } else {
        close(fd);
    }
    explicit_bzero(buf, n);
    free(buf);
    return rc;
}

/* A new journal is built under a temporary name and renamed into place, so
 * a crash leaves either no journal or a complete one. */
static int create(struct vtpm_journal *j, uint64_t base_ino, const uint8_t *data, size_t len)
{
    size_t want = 2 * len > MIN_SLOT ? 2 * len : MIN_SLOT;
    size_t slot = (VTPM_JOURNAL_SLOT_HDR + want + 4095) & ~(size_t)4095;
    uint8_t *buf = calloc(2, slot);
    int fd = -1, rc;

    if (!buf)
        return -ENOMEM;
    vtpm_journal_slot_encode(buf, 1, base_ino, slot, data, len);
    unlinkat(j->dirfd, j->tmp, 0);
    fd = openat(j->dirfd, j->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, j->mode);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    /* Both slots are written (zeros in the second) so that later saves
     * change no file metadata and fdatasync has only data to flush. */
    rc = vtpm_pwrite_full(fd, buf, 2 * slot, 0);
    if (rc == 0 && (fchmod(fd, j->mode) < 0 || fdatasync(fd) < 0 ||
                    renameat(j->dirfd, j->tmp, j->dirfd, j->name) < 0 || fsync(j->dirfd) < 0))
        rc = -errno;
    if (rc < 0) {
        close(fd);
        unlinkat(j->dirfd, j->tmp, 0);
        goto out;
    }
    if (j->fd >= 0)
        close(j->fd);
    j->fd = fd;
    j->active = true;
    j->seq = 1;
    j->base_ino = base_ino;
    j->slot_size = slot;
out:
    explicit_bzero(buf, 2 * slot);
    free(buf);
    return rc;
}

int vtpm_journal_append(struct vtpm_journal *j, uint64_t base_ino, const uint8_t *data,
                        size_t len)
{
    int rc;

    if (!j->active || j->base_ino != base_ino) {
        rc = create(j, base_ino, data, len);
        return rc < 0 ? rc : keep_copy(j, data, len);
    }
    if (VTPM_JOURNAL_SLOT_HDR + len > j->slot_size)
        return -EFBIG;

    size_t n = VTPM_JOURNAL_SLOT_HDR + len;
    uint8_t *slot = malloc(n);
    if (!slot)
        return -ENOMEM;
    uint64_t seq = j->seq + 1;
    vtpm_journal_slot_encode(slot, seq, base_ino, j->slot_size, data, len);
    rc = vtpm_pwrite_full(j->fd, slot, n, (off_t)((seq & 1) ? 0 : j->slot_size));
    if (rc == 0 && fdatasync(j->fd) < 0)
        rc = -errno;
    explicit_bzero(slot, n);
    free(slot);
    if (rc < 0)
        return rc;
    j->seq = seq;
    return keep_copy(j, data, len);
}

const uint8_t *vtpm_journal_latest(const struct vtpm_journal *j, size_t *len)
{
    *len = j->active ? j->len : 0;
    return j->active ? j->data : NULL;
}

int vtpm_journal_discard(struct vtpm_journal *j)
{
    int rc = 0;

    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    j->active = false;
    if (unlinkat(j->dirfd, j->name, 0) == 0) {
        if (fsync(j->dirfd) < 0)
            rc = -errno;
    } else if (errno != ENOENT) {
        rc = -errno;
    }
    return rc;
}

void vtpm_journal_free(struct vtpm_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (j->data)
        explicit_bzero(j->data, j->len);
    free(j->data);
    j->data = NULL;
    j->active = false;
}
