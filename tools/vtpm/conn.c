/* SPDX-License-Identifier: BSD-3-Clause */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/fdpass.h"

#define DEFAULT_TCP_HOST "127.0.0.1"

int endpoint_set_unix(const struct cli *cli, struct endpoint *ep, const char *path)
{
    memset(ep, 0, sizeof(*ep));
    if (!*path || strlen(path) >= sizeof(ep->path)) {
        cli_err(cli, "--unix '%s': a socket path must have 1 to %zu characters", path,
                sizeof(ep->path) - 1);
        return -1;
    }
    ep->is_unix = true;
    memcpy(ep->path, path, strlen(path) + 1);
    return 0;
}

/* Splits "host:port", "[v6]:port", "port", "host:", ":port"; NULL port means none given. */
static int split_host_port(const char *arg, char *host, size_t hostlen, const char **port)
{
    const char *colon;
    size_t n;

    *port = NULL;
    if (arg[0] == '[') {
        const char *end = strchr(arg, ']');
        if (!end || (end[1] != ':' && end[1] != '\0'))
            return -1;
        n = (size_t)(end - arg - 1);
        colon = end[1] ? end + 1 : NULL;
        arg++;
    } else {
        colon = strrchr(arg, ':');
        if (colon && strchr(arg, ':') != colon)
            return -1; /* a bare v6 address must be written in brackets */
        if (!colon) {
            host[0] = '\0';
            *port = arg;
            return 0;
        }
        n = (size_t)(colon - arg);
    }
    if (n >= hostlen)
        return -1;
    memcpy(host, arg, n);
    host[n] = '\0';
    if (colon && colon[1])
        *port = colon + 1;
    return 0;
}

int endpoint_set_tcp(const struct cli *cli, struct endpoint *ep, const char *arg,
                     uint16_t default_port)
{
    const char *port;
    uint64_t value = default_port;

    memset(ep, 0, sizeof(*ep));
    if (split_host_port(arg, ep->host, sizeof(ep->host), &port) < 0) {
        cli_err(cli, "--tcp '%s': expected [HOST:]PORT, e.g. 127.0.0.1:2322 or [::1]:2322", arg);
        return -1;
    }
    if (!ep->host[0])
        memcpy(ep->host, DEFAULT_TCP_HOST, sizeof(DEFAULT_TCP_HOST));
    if (port && (cli_parse_uint(port, 65535, &value) < 0 || value == 0)) {
        cli_err(cli, "--tcp '%s': '%s' is not a TCP port (1..65535)", arg, port);
        return -1;
    }
    if (!port && !default_port) {
        cli_err(cli, "--tcp '%s': the port is missing; write [HOST:]PORT", arg);
        return -1;
    }
    ep->port = (uint16_t)value;
    return 0;
}

void endpoint_describe(const struct endpoint *ep, char *out, size_t len)
{
    if (ep->is_unix)
        snprintf(out, len, "%s", ep->path);
    else if (strchr(ep->host, ':'))
        snprintf(out, len, "[%s]:%u", ep->host, ep->port);
    else
        snprintf(out, len, "%s:%u", ep->host, ep->port);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_timeout(const struct conn *c, const char *doing, const char *what)
{
    cli_err(c->cli,
            "timed out after %.1f s %s %s on the %s %s (the daemon accepted the connection "
            "but does not answer: another client may hold this channel, or the TPM is busy; "
            "--timeout SECONDS waits longer)",
            c->cli->timeout_ms / 1000.0, doing, what, c->role, c->peer);
}

/* Waits for `events` until the deadline; returns 1 when ready, 0 on timeout, -1 on error. */
static int wait_fd(const struct conn *c, short events)
{
    for (;;) {
        int64_t left = c->deadline_ms - now_ms();
        struct pollfd pfd = {.fd = c->fd, .events = events};

        if (left <= 0)
            return 0;
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Finishes a non-blocking connect; returns 0 or an errno value (ETIMEDOUT on timeout). */
static int finish_connect(struct conn *c, int rc)
{
    int err = 0;
    socklen_t errlen = sizeof(err);

    if (rc == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return errno;
    int ready = wait_fd(c, POLLOUT);
    if (ready == 0)
        return ETIMEDOUT;
    if (ready < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
        return errno;
    return err;
}

static int connect_unix(struct conn *c, const struct endpoint *ep)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    memcpy(sa.sun_path, ep->path, sizeof(ep->path));
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return errno;
    return finish_connect(c, connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)));
}

static int connect_tcp(struct conn *c, const struct endpoint *ep)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list, *ai;
    char port[8];
    int err = EHOSTUNREACH;

    snprintf(port, sizeof(port), "%u", ep->port);
    int gai = getaddrinfo(ep->host, port, &hints, &list);
    if (gai != 0) {
        cli_err(c->cli, "cannot resolve '%s': %s", ep->host, gai_strerror(gai));
        return -1;
    }
    for (ai = list; ai; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (c->fd < 0 || set_nonblocking(c->fd) < 0) {
            err = errno;
        } else {
            err = finish_connect(c, connect(c->fd, ai->ai_addr, ai->ai_addrlen));
            if (err == 0)
                break;
        }
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(list);
    return err;
}

int conn_open(struct conn *c, const struct cli *cli, const struct endpoint *ep, const char *role,
              const char *how_to_start)
{
    c->fd = -1;
    c->cli = cli;
    c->role = role;
    endpoint_describe(ep, c->peer, sizeof(c->peer));
    conn_arm(c);

    int err = ep->is_unix ? connect_unix(c, ep) : connect_tcp(c, ep);
    if (err < 0)
        return -1;
    if (err == 0)
        return 0;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (err == ETIMEDOUT) {
        cli_err(cli,
                "cannot connect to the %s %s: no answer within %.1f s (is the address "
                "right? --timeout SECONDS waits longer)",
                role, c->peer, cli->timeout_ms / 1000.0);
    } else if (err == EAGAIN) {
        cli_err(cli,
                "cannot connect to the %s %s: its listen queue is full (the daemon is "
                "not accepting connections; is it stuck?)",
                role, c->peer);
    } else {
        cli_err(cli,
                "cannot connect to the %s %s: %s (is vtpmd running? start it with "
                "`vtpmd socket %s ...`)",
                role, c->peer, strerror(err), how_to_start);
    }
    return -1;
}

void conn_adopt(struct conn *c, const struct cli *cli, int fd, const char *role, const char *peer)
{
    c->fd = fd;
    c->cli = cli;
    c->role = role;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    set_nonblocking(fd);
    conn_arm(c);
}

void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void conn_arm(struct conn *c)
{
    c->deadline_ms = now_ms() + c->cli->timeout_ms;
}

static int send_msg(struct conn *c, const uint8_t *buf, size_t len, int fd, const char *what)
{
    size_t done = 0;
    union vtpm_fd_cmsg control;

    while (done < len) {
        struct iovec iov = {.iov_base = (void *)(buf + done), .iov_len = len - done};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

        /* The fd travels with the first byte, as QEMU sends CMD_SET_DATAFD. */
        if (fd >= 0 && done == 0)
            vtpm_msg_attach_fd(&msg, &control, fd);
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            cli_err(c->cli, "cannot send %s on the %s %s: %s (did the daemon exit? see its log)",
                    what, c->role, c->peer, strerror(errno));
            return -1;
        }
        int ready = wait_fd(c, POLLOUT);
        if (ready == 0) {
            print_timeout(c, "sending", what);
            return -1;
        }
        if (ready < 0) {
            cli_err(c->cli, "poll on the %s %s: %s", c->role, c->peer, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int conn_send(struct conn *c, const void *buf, size_t len, const char *what)
{
    return send_msg(c, buf, len, -1, what);
}

int conn_send_with_fd(struct conn *c, const void *buf, size_t len, int fd, const char *what)
{
    return send_msg(c, buf, len, fd, what);
}

int conn_recv(struct conn *c, void *buf, size_t len, const char *what)
{
    uint8_t *p = buf;
    size_t done = 0;

    while (done < len) {
        ssize_t n = recv(c->fd, p + done, len - done, 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == 0) {
            cli_err(c->cli,
                    "the %s %s closed the connection %zu bytes into a %zu-byte part of "
                    "the answer to %s (see the daemon's log)",
                    c->role, c->peer, done, len, what);
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            cli_err(c->cli, "cannot read the answer to %s from the %s %s: %s", what, c->role,
                    c->peer, strerror(errno));
            return -1;
        }
        int ready = wait_fd(c, POLLIN);
        if (ready == 0) {
            print_timeout(c, "waiting for the answer to", what);
            return -1;
        }
        if (ready < 0) {
            cli_err(c->cli, "poll on the %s %s: %s", c->role, c->peer, strerror(errno));
            return -1;
        }
    }
    return 0;
}
