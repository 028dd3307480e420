/* SPDX-License-Identifier: BSD-3-Clause */
/* Socket edges of the daemon: listening sockets, full reads/writes with deadlines. */
#ifndef VTPM_SERVER_SOCK_H
#define VTPM_SERVER_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/config.h"

/* Opens the listening socket a channel describes. Returns the fd, or -1
 * with err naming the address and the fix. */
int vtpm_sock_listen(const struct vtpmd_chan *chan, char *err, size_t errlen);

/* Writes all of buf; returns 0 or -errno. */
int vtpm_sock_write_all(int fd, const void *buf, size_t len);

/* Milliseconds on the monotonic clock. */
int64_t vtpm_now_ms(void);

#endif
