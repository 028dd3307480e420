/* SPDX-License-Identifier: BSD-3-Clause */
/* Attaching a file descriptor to a message (SCM_RIGHTS), as QEMU hands its
 * data socket to swtpm with CMD_SET_DATAFD. */
#ifndef VTPM_UTIL_FDPASS_H
#define VTPM_UTIL_FDPASS_H

#include <string.h>
#include <sys/socket.h>

/* Room for one descriptor's control message, aligned as cmsghdr needs. */
union vtpm_fd_cmsg {
    struct cmsghdr hdr;
    char space[CMSG_SPACE(sizeof(int))];
};

/* Makes msg carry fd in `buf`, which must live until the sendmsg(). */
static inline void vtpm_msg_attach_fd(struct msghdr *msg, union vtpm_fd_cmsg *buf, int fd)
{
    memset(buf, 0, sizeof(*buf));
    msg->msg_control = buf->space;
    msg->msg_controllen = sizeof(buf->space);
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

#endif
