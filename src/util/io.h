/* SPDX-License-Identifier: BSD-3-Clause */
/* Whole-buffer writes to files, retried across short writes and EINTR. */
#ifndef VTPM_UTIL_IO_H
#define VTPM_UTIL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Returns 0 or -errno. */
int vtpm_write_full(int fd, const void *buf, size_t len);
/* The same at offset `off` (pwrite). */
int vtpm_pwrite_full(int fd, const void *buf, size_t len, off_t off);

#endif
