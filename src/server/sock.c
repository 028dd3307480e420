/* SPDX-License-Identifier: BSD-3-Clause */
#include "server/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A backlog, not 1 as swtpm: a second client waits its turn instead of being refused. */
#define LISTEN_BACKLOG 16

int64_t vtpm_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vtpm_sock_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int vtpm_sock_write2(int fd, const void *hdr, size_t hdrlen, const void *body, size_t bodylen)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)hdr, .iov_len = hdrlen },
        { .iov_base = (void *)body, .iov_len = bodylen },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = bodylen ? 2 : 1 };
    ssize_t n;

    do {
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != ENOTSOCK)
        return -errno;
    size_t done = n > 0 ? (size_t)n : 0;
    if (done < hdrlen) {
        int rc = vtpm_sock_write_all(fd, (const uint8_t *)hdr + done, hdrlen - done);
        if (rc < 0)
            return rc;
        done = hdrlen;
    }
    done -= hdrlen;
    return done < bodylen ? vtpm_sock_write_all(fd, (const uint8_t *)body + done, bodylen - done)
                          : 0;
}

static int listen_tcp(const struct vtpmd_chan *chan, char *err, size_t errlen)
{
    const char *addr = chan->bindaddr ? chan->bindaddr : "127.0.0.1";
    struct sockaddr_storage ss;
    socklen_t sslen;
    int one = 1;

    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(chan->port);
        sslen = sizeof(*in4);
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(chan->port);
        if (chan->ifname)
            in6->sin6_scope_id = if_nametoindex(chan->ifname);
        sslen = sizeof(*in6);
    } else {
        snprintf(err, errlen, "bindaddr '%s' is not an IPv4 or IPv6 address", addr);
        return -1;
    }

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on %s port %u: %s%s", addr, chan->port,
                 strerror(errno),
                 errno == EADDRINUSE ? " (another process uses it; pick another port)" : "");
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_unix(const struct vtpmd_chan *chan, char *err, size_t errlen)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat st;

    if (strlen(chan->path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "socket path '%s' is longer than %zu bytes; use a shorter path",
                 chan->path, sizeof(sun.sun_path) - 1);
        return -1;
    }
    strcpy(sun.sun_path, chan->path);

    /* A socket left by an earlier run is replaced; any other file is not ours. */
    if (lstat(chan->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "'%s' exists and is not a socket; remove it or choose another path",
                     chan->path);
            return -1;
        }
        unlink(chan->path);
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* Created unreachable (0600 at most), then opened up to the requested mode:
     * nobody can connect in between. */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on unix socket '%s': %s", chan->path, strerror(errno));
        close(fd);
        return -1;
    }
    mode_t mode = chan->mode >= 0 ? (mode_t)chan->mode : (0777 & ~old);
    if (chmod(chan->path, mode) < 0 ||
        ((chan->uid >= 0 || chan->gid >= 0) &&
         chown(chan->path, (uid_t)chan->uid, (gid_t)chan->gid) < 0)) {
        snprintf(err, errlen, "cannot set mode/owner of '%s': %s", chan->path, strerror(errno));
        close(fd);
        unlink(chan->path);
        return -1;
    }
    return fd;
}

int vtpm_sock_listen(const struct vtpmd_chan *chan, char *err, size_t errlen)
{
    switch (chan->type) {
    case VTPMD_CHAN_TCP:
        return listen_tcp(chan, err, errlen);
    case VTPMD_CHAN_UNIX:
        return listen_unix(chan, err, errlen);
    case VTPMD_CHAN_FD:
    case VTPMD_CHAN_CLIENTFD:
        return chan->fd;
    default:
        snprintf(err, errlen, "no channel configured");
        return -1;
    }
}
