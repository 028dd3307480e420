/* SPDX-License-Identifier: BSD-3-Clause */
#include "util/io.h"

#include <errno.h>
#include <unistd.h>

/* off < 0: write at the file position; otherwise pwrite at off. */
static int write_loop(int fd, const uint8_t *p, size_t len, off_t off)
{
    while (len) {
        ssize_t w = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
        if (off >= 0)
            off += w;
    }
    return 0;
}

int vtpm_write_full(int fd, const void *buf, size_t len)
{
    return write_loop(fd, buf, len, -1);
}

int vtpm_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
    return write_loop(fd, buf, len, off < 0 ? 0 : off);
}
