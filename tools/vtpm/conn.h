/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client sockets of the vtpm tool: where a daemon listens (unix path or
 * TCP host and port), and a connection whose every wait -- connect, write,
 * read -- ends at a deadline. Failures are printed here, naming the peer,
 * the exchange and the likely fix, and reported as -1.
 */
#ifndef VTPM_TOOL_CONN_H
#define VTPM_TOOL_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "cli.h"

#define CONN_HOST_MAX 256

struct endpoint {
    bool is_unix;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char host[CONN_HOST_MAX];
    uint16_t port;
};

struct conn {
    int fd;
    const struct cli *cli;
    const char *role; /* "control channel" or "data channel", for messages */
    char peer[CONN_HOST_MAX + 64];
    int64_t deadline_ms; /* CLOCK_MONOTONIC time at which the current exchange gives up */
};

/* --unix PATH; prints the reason and returns -1 if PATH does not fit sun_path. */
int endpoint_set_unix(const struct cli *cli, struct endpoint *ep, const char *path);

/*
 * --tcp [HOST:]PORT, also "[V6ADDR]:PORT" and swtpm_ioctl's "HOST:" (with
 * default_port, or an error if default_port is 0). The host defaults to
 * 127.0.0.1.
 */
int endpoint_set_tcp(const struct cli *cli, struct endpoint *ep, const char *arg,
                     uint16_t default_port);

/* "/x/sock" or "host:port" (v6 hosts in brackets). */
void endpoint_describe(const struct endpoint *ep, char *out, size_t len);

/*
 * Connects within cli->timeout_ms. On failure prints the cause and how to
 * start a daemon that listens there (`how_to_start` is the vtpmd option
 * that would, e.g. "--ctrl type=unixio,path=/x/sock").
 */
int conn_open(struct conn *c, const struct cli *cli, const struct endpoint *ep, const char *role,
              const char *how_to_start);

/* Wraps an fd we already hold (one end of a socketpair). */
void conn_adopt(struct conn *c, const struct cli *cli, int fd, const char *role, const char *peer);

void conn_close(struct conn *c);

/* Starts one request/response exchange: its waits end cli->timeout_ms from now. */
void conn_arm(struct conn *c);

/* Sends all of buf; `what` names the exchange ("CMD_INIT") in messages. */
int conn_send(struct conn *c, const void *buf, size_t len, const char *what);

/* As conn_send, with `fd` passed alongside as SCM_RIGHTS (unix sockets only). */
int conn_send_with_fd(struct conn *c, const void *buf, size_t len, int fd, const char *what);

/* Reads exactly len bytes of the answer to `what`, or prints why not. */
int conn_recv(struct conn *c, void *buf, size_t len, const char *what);

#endif
