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

/* Writes a header and a body with one sendmsg when possible: some clients
 * (swtpm_ioctl) take a control response from a single read. */
int vtpm_sock_write2(int fd, const void *hdr, size_t hdrlen, const void *body, size_t bodylen);

/* Milliseconds on the monotonic clock. */
int64_t vtpm_now_ms(void);

#endif
