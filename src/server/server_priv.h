/* SPDX-License-Identifier: BSD-3-Clause */
/* State shared by the daemon's two threads: the data path and the control channel. */
#ifndef VTPM_SERVER_PRIV_H
#define VTPM_SERVER_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "proto/tpm.h"
#include "server/config.h"

struct vtpm_server {
    const struct vtpmd_config *cfg;
    enum vtpm_family family;

    int data_listen;   /* -1 when commands only arrive through SET_DATAFD or --server fd= */
    int data_initial;  /* a connected data socket given on the command line, or -1 */
    int ctrl_listen;   /* -1 without --ctrl, or with clientfd= */
    int ctrl_initial;  /* --ctrl clientfd=, or -1 */

    int quit_pipe[2];  /* readable once the daemon must end; both threads poll it */
    int wake_pipe[2];  /* control thread -> data thread: a SET_DATAFD socket is pending */

    pthread_mutex_t mu;   /* guards the two fields below */
    int pending_datafd;   /* handed over by SET_DATAFD, not yet taken by the data thread */
    bool datafd_active;   /* a SET_DATAFD socket is in use (swtpm refuses a second one) */

    atomic_bool terminating;
    atomic_int conn_fd; /* the data connection, for terminate to wake a blocked read */
};

/* Ends the daemon: both threads leave their loops. Safe from any thread. */
void vtpm_server_terminate(struct vtpm_server *s);

/* The control channel thread's body. */
void *vtpm_ctrl_thread(void *arg);

#endif
