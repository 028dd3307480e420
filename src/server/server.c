/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtpmd's main loop. The data path (this thread) reads whole commands,
 * runs them in libtpms and answers; the control channel has its own
 * thread (ctrl_chan.c). Set-up order follows what a supervisor expects:
 * lock the state, bind the sockets, start the TPM, then daemonize and
 * write the pid file, so that "the pid file exists" means "ready".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "proto/ctrl.h"
#include "server/framing.h"
#include "server/server_priv.h"
#include "server/sock.h"
#include "state/store.h"
#include "util/buf.h"
#include "util/log.h"

/*
 * A command that stops arriving mid-frame is answered with a size error
 * after this long, so that a stalled or short-writing sender cannot wedge
 * the TPM (the ESXi seed: a sender and a TPM waiting on each other).
 */
#define DATA_STALL_TIMEOUT_MS 3000

/* A signal handler has no argument to find the server by: this is the one
 * global of the daemon, set once before signals are unblocked. */
static struct vtpm_server *signal_server;

static void on_signal(int sig)
{
    (void)sig;
    /* write() and shutdown() are async-signal-safe; so is this function. */
    if (signal_server)
        vtpm_server_terminate(signal_server);
}

void vtpm_server_terminate(struct vtpm_server *s)
{
    atomic_store(&s->terminating, true);
    ssize_t w = write(s->quit_pipe[1], "q", 1);
    (void)w;
    /* The data thread may be blocked in read() on its connection. */
    int fd = atomic_load(&s->conn_fd);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

struct data_conn {
    int fd;
    bool from_datafd; /* handed over by SET_DATAFD */
    bool timed;       /* reads time out (SO_RCVTIMEO), so they need no poll */
    int64_t partial_since;
};

static void close_data(struct vtpm_server *s, struct data_conn *c, struct vtpm_framer *f)
{
    if (c->fd < 0)
        return;
    atomic_store(&s->conn_fd, -1);
    close(c->fd);
    if (c->from_datafd) {
        pthread_mutex_lock(&s->mu);
        s->datafd_active = false;
        pthread_mutex_unlock(&s->mu);
    }
    c->fd = -1;
    c->from_datafd = false;
    vtpm_framer_reset(f);
    if (s->cfg->terminate) {
        vtpm_log(VTPM_LOG_INFO, "data connection closed; terminating (--terminate)");
        vtpm_server_terminate(s);
    }
}

static int send_response(int fd, const uint8_t *rsp, uint32_t len, bool prefixed)
{
    uint8_t pre[4], ack[4] = { 0 };

    if (!prefixed)
        return vtpm_sock_write_all(fd, rsp, len);
    /* TCG simulator framing: be32 size, response, be32 0 */
    put_be32(pre, len);
    struct iovec iov[3] = {
        { .iov_base = pre, .iov_len = 4 },
        { .iov_base = (void *)rsp, .iov_len = len },
        { .iov_base = ack, .iov_len = 4 },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n == (ssize_t)(len + 8))
        return 0;
    /* short write: fall back to piecewise full writes of what is left */
    size_t done = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < 3; i++) {
        if (done >= iov[i].iov_len) {
            done -= iov[i].iov_len;
            continue;
        }
        int rc = vtpm_sock_write_all(fd, (uint8_t *)iov[i].iov_base + done, iov[i].iov_len - done);
        if (rc < 0)
            return rc;
        done = 0;
    }
    return 0;
}

/* swtpm's in-band SetLocality vendor command (--locality allow-set-locality). */
static bool handle_set_locality(struct vtpm_server *s, const struct vtpm_frame *fr, uint8_t rsp[10])
{
    struct vtpm_tpm_hdr hdr;

    if (vtpm_tpm_hdr_parse(fr->cmd, fr->len, &hdr) < 0 || hdr.code != VTPM_CC_SET_LOCALITY ||
        !s->cfg->allow_set_locality)
        return false;
    uint32_t bad = s->family == VTPM_FAMILY_20 ? VTPM_TPM2_RC_LOCALITY : VTPM_TPM12_BAD_LOCALITY;
    uint32_t rc = 0;
    if (fr->len < VTPM_TPM_HDR_SIZE + 1) {
        rc = vtpm_tpm_size_error_rc(s->family);
    } else {
        uint8_t loc = fr->cmd[VTPM_TPM_HDR_SIZE];
        if (loc > 4 || (loc == 4 && s->cfg->reject_locality4))
            rc = bad;
        else
            vtpm_engine_set_locality(loc);
    }
    vtpm_tpm_error_response(rsp, s->family, rc);
    return true;
}

/* Runs every complete command buffered; returns -1 if the connection must close. */
static int run_commands(struct vtpm_server *s, struct data_conn *c, struct vtpm_framer *f,
                        uint8_t **rbuf, uint32_t *rtotal)
{
    enum vtpm_frame_status st;
    uint8_t small[VTPM_TPM_HDR_SIZE];

    while ((st = vtpm_framer_status(f)) == VTPM_FRAME_COMPLETE) {
        struct vtpm_frame fr;
        const uint8_t *rsp;
        uint32_t rlen = 0;

        vtpm_framer_command(f, &fr);
        if (fr.prefixed && fr.locality > 4) {
            rlen = (uint32_t)vtpm_tpm_error_response(small, s->family, VTPM_TPM2_RC_LOCALITY);
            rsp = small;
        } else if (fr.prefixed && fr.locality == 4 && s->cfg->reject_locality4) {
            rlen = (uint32_t)vtpm_tpm_error_response(small, s->family, VTPM_TPM2_RC_LOCALITY);
            rsp = small;
        } else if (handle_set_locality(s, &fr, small)) {
            rlen = VTPM_TPM_HDR_SIZE;
            rsp = small;
        } else {
            if (fr.prefixed)
                vtpm_engine_set_locality(fr.locality);
            vtpm_engine_process(fr.cmd, fr.len, rbuf, rtotal, &rlen);
            rsp = *rbuf;
        }
        if (vtpm_log_level() >= VTPM_LOG_TRACE)
            vtpm_log(VTPM_LOG_TRACE, "data: command 0x%08x (%zu bytes%s) -> 0x%x (%u bytes)",
                     fr.len >= VTPM_TPM_HDR_SIZE ? get_be32(fr.cmd + 6) : 0, fr.len,
                     fr.prefixed ? ", TCG prefix" : "", vtpm_tpm_response_code(rsp, rlen), rlen);
        int rc = send_response(c->fd, rsp, rlen, fr.prefixed);
        vtpm_framer_consume(f);
        if (rc < 0 || s->cfg->server.disconnect)
            return -1;
    }
    if (st == VTPM_FRAME_BAD_SIZE) {
        vtpm_log(VTPM_LOG_ERROR,
                 "data channel: command size field %u is outside 10..%zu bytes; answered with a "
                 "size error and discarded the bytes received",
                 f->bad_size, f->max_cmd);
        vtpm_tpm_error_response(small, s->family, vtpm_tpm_size_error_rc(s->family));
        vtpm_framer_reset(f);
        /* Drop what is already queued of the bad command; later bytes start a new one. */
        uint8_t junk[4096];
        while (recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
            ;
        if (vtpm_sock_write_all(c->fd, small, sizeof(small)) < 0)
            return -1;
    }
    c->partial_since = vtpm_framer_partial(f) ? (c->partial_since ? c->partial_since : vtpm_now_ms())
                                              : 0;
    return 0;
}

static void on_stall(struct vtpm_server *s, struct data_conn *c, struct vtpm_framer *f)
{
    uint8_t rsp[VTPM_TPM_HDR_SIZE];

    vtpm_log(VTPM_LOG_ERROR,
             "data channel: a command stopped arriving after %zu bytes for %d ms; answered with "
             "a size error and discarded it",
             f->have, DATA_STALL_TIMEOUT_MS);
    vtpm_framer_reset(f);
    c->partial_since = 0;
    vtpm_tpm_error_response(rsp, s->family, vtpm_tpm_size_error_rc(s->family));
    if (vtpm_sock_write_all(c->fd, rsp, sizeof(rsp)) < 0)
        close_data(s, c, f);
}

static int take_pending_datafd(struct vtpm_server *s)
{
    char drain[16];
    ssize_t r = read(s->wake_pipe[0], drain, sizeof(drain));
    (void)r;

    pthread_mutex_lock(&s->mu);
    int fd = s->pending_datafd;
    s->pending_datafd = -1;
    pthread_mutex_unlock(&s->mu);
    return fd;
}

/* Makes fd the data connection. A receive timeout lets the blocking read
 * notice a stalled sender without a poll per command. */
static void set_conn(struct vtpm_server *s, struct data_conn *c, int fd, bool from_datafd)
{
    struct timeval tv = {
        .tv_sec = DATA_STALL_TIMEOUT_MS / 1000,
        .tv_usec = (DATA_STALL_TIMEOUT_MS % 1000) * 1000,
    };

    c->fd = fd;
    c->from_datafd = from_datafd;
    c->partial_since = 0;
    c->timed = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0;
    atomic_store(&s->conn_fd, fd);
}

/* Without a connection: wait for a client, a SET_DATAFD socket, or the end. */
static void wait_for_connection(struct vtpm_server *s, struct data_conn *c)
{
    struct pollfd pfd[3] = {
        { .fd = s->quit_pipe[0], .events = POLLIN },
        { .fd = s->wake_pipe[0], .events = POLLIN },
        { .fd = s->data_listen, .events = POLLIN },
    };

    if (poll(pfd, 3, -1) <= 0 || pfd[0].revents)
        return;
    if (pfd[1].revents) {
        int fd = take_pending_datafd(s);
        if (fd >= 0)
            set_conn(s, c, fd, true);
        return;
    }
    if (pfd[2].revents) {
        int fd = accept4(s->data_listen, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
            set_conn(s, c, fd, false);
    }
}

/* For a connection without a receive timeout (not a socket): poll with the
 * stall deadline. Returns false when the daemon must end. */
static bool wait_readable(struct vtpm_server *s, struct data_conn *c, struct vtpm_framer *f)
{
    int timeout = -1;

    if (c->partial_since) {
        int64_t left = c->partial_since + DATA_STALL_TIMEOUT_MS - vtpm_now_ms();
        timeout = left > 0 ? (int)left : 0;
    }
    struct pollfd pfd[2] = {
        { .fd = s->quit_pipe[0], .events = POLLIN },
        { .fd = c->fd, .events = POLLIN },
    };
    int n = poll(pfd, 2, timeout);
    if (n < 0)
        return errno == EINTR;
    if (pfd[0].revents)
        return false;
    if (n == 0)
        on_stall(s, c, f);
    return true;
}

/*
 * The hot path is one blocking read, the command, one write: no poll per
 * command. Termination wakes a blocked read by shutting the connection down
 * (vtpm_server_terminate); a stalled sender is noticed by the receive timeout.
 */
static void data_loop(struct vtpm_server *s, struct vtpm_framer *f)
{
    struct data_conn c = { .fd = -1 };
    uint8_t *rbuf = NULL;
    uint32_t rtotal = 0;

    if (s->data_initial >= 0)
        set_conn(s, &c, s->data_initial, false);
    while (!atomic_load(&s->terminating)) {
        if (c.fd < 0) {
            wait_for_connection(s, &c);
            continue;
        }
        if (!c.timed && !wait_readable(s, &c, f))
            break;
        if (c.fd < 0)
            continue;
        size_t room;
        uint8_t *space = vtpm_framer_space(f, &room);
        ssize_t got = read(c.fd, space, room);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A whole receive timeout passed with part of a command buffered. */
            if (c.partial_since)
                on_stall(s, &c, f);
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            close_data(s, &c, f);
            continue;
        }
        vtpm_framer_commit(f, (size_t)got);
        if (run_commands(s, &c, f, &rbuf, &rtotal) < 0) {
            close_data(s, &c, f);
            continue;
        }
        /* A sender trickling bytes never times out a read; bound it here too. */
        if (c.partial_since && vtpm_now_ms() - c.partial_since >= DATA_STALL_TIMEOUT_MS)
            on_stall(s, &c, f);
    }
    if (c.fd >= 0) {
        atomic_store(&s->conn_fd, -1);
        close(c.fd);
    }
    free(rbuf);
}

static int open_log(const struct vtpmd_config *cfg)
{
    int fd = 2;

    if (cfg->log_fd >= 0) {
        fd = cfg->log_fd;
    } else if (cfg->log_file && strcmp(cfg->log_file, "-") == 0) {
        fd = -1;
    } else if (cfg->log_file) {
        int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
        fd = open(cfg->log_file, flags | (cfg->log_truncate ? O_TRUNC : 0), 0640);
        if (fd < 0) {
            fprintf(stderr, "vtpmd: cannot open log file '%s': %s\n", cfg->log_file,
                    strerror(errno));
            return -1;
        }
    }
    /* Errors are always logged; --log level raises the verbosity. */
    vtpm_log_setup(fd, cfg->log_level, cfg->log_prefix);
    if (cfg->log_level >= VTPM_LOG_DEBUG && fd >= 0)
        vtpm_engine_debug(fd, (cfg->log_level - VTPM_LOG_DEBUG) + 1, cfg->log_prefix);
    return 0;
}

/* Reports an error both to stderr (the operator's terminal) and the log file. */
__attribute__((format(printf, 1, 2))) static void fatal(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "vtpmd: %s\n", msg);
    if (vtpm_log_fd() >= 0 && vtpm_log_fd() != 2)
        vtpm_log(VTPM_LOG_ERROR, "vtpmd: %s", msg);
}

static int write_pid(const struct vtpmd_config *cfg)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
    int fd = cfg->pid_fd;

    if (cfg->pid_file) {
        fd = open(cfg->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            fatal("cannot write pid file '%s': %s", cfg->pid_file, strerror(errno));
            return -1;
        }
    }
    if (fd < 0)
        return 0;
    int rc = vtpm_sock_write_all(fd, buf, (size_t)len);
    close(fd);
    return rc;
}

static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);

    if (!pw) {
        fatal("--runas: no such user '%s'", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        fatal("--runas %s: cannot switch to the user: %s (run vtpmd as root to use --runas)",
              user, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Forks into the background. The parent exits only once the child reports
 * that it is ready (pid file written), so `vtpmd -d` returning means the
 * sockets accept connections.
 */
static int daemonize(void)
{
    int ready[2];

    if (pipe(ready) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        char ok = 0;
        close(ready[1]);
        ssize_t n = read(ready[0], &ok, 1);
        _exit(n == 1 && ok == 'r' ? 0 : 1);
    }
    close(ready[0]);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (vtpm_log_fd() != 2)
            dup2(null, 2);
        if (null > 2)
            close(null);
    }
    return ready[1];
}

static int listen_channels(struct vtpm_server *s)
{
    const struct vtpmd_config *cfg = s->cfg;
    char err[512];

    s->data_listen = s->data_initial = s->ctrl_listen = s->ctrl_initial = -1;
    if (cfg->server.type != VTPMD_CHAN_NONE) {
        int fd = vtpm_sock_listen(&cfg->server, err, sizeof(err));
        if (fd < 0) {
            fatal("--server: %s", err);
            return -1;
        }
        int listening = 0;
        socklen_t len = sizeof(listening);
        /* --server fd= may be a listening or an already connected socket. */
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
            s->data_listen = fd;
        else
            s->data_initial = fd;
    }
    if (cfg->ctrl.type == VTPMD_CHAN_CLIENTFD) {
        s->ctrl_initial = cfg->ctrl.fd;
    } else if (cfg->ctrl.type != VTPMD_CHAN_NONE) {
        s->ctrl_listen = vtpm_sock_listen(&cfg->ctrl, err, sizeof(err));
        if (s->ctrl_listen < 0) {
            fatal("--ctrl: %s", err);
            return -1;
        }
    }
    return 0;
}

static void cleanup_sockets(const struct vtpmd_config *cfg)
{
    if (cfg->server.type == VTPMD_CHAN_UNIX && cfg->server.path)
        unlink(cfg->server.path);
    if (cfg->ctrl.type == VTPMD_CHAN_UNIX && cfg->ctrl.path)
        unlink(cfg->ctrl.path);
}

static int start_tpm(struct vtpm_server *s)
{
    static const uint16_t startup_types[] = {
        [VTPMD_STARTUP_CLEAR] = VTPM_TPM12_ST_CLEAR,
        [VTPMD_STARTUP_STATE] = VTPM_TPM12_ST_STATE,
        [VTPMD_STARTUP_DEACTIVATED] = VTPM_TPM12_ST_DEACTIVATED,
    };
    char err[512] = "";

    if (!s->cfg->not_need_init)
        return 0;
    uint32_t rc = vtpm_engine_start(0, err, sizeof(err));
    if (rc) {
        fatal("cannot start the TPM: %s", err);
        return -1;
    }
    if (s->cfg->startup == VTPMD_STARTUP_NONE)
        return 0;
    rc = vtpm_engine_startup(startup_types[s->cfg->startup]);
    if (rc)
        vtpm_log(VTPM_LOG_ERROR, "TPM_Startup from --flags answered 0x%x", rc);
    return 0;
}

int vtpmd_run(const struct vtpmd_config *cfg)
{
    struct vtpm_server s = { .cfg = cfg, .pending_datafd = -1, .conn_fd = -1 };
    struct vtpm_store *store = NULL;
    struct vtpm_framer f = { 0 };
    pthread_t ctrl_thread;
    bool ctrl_started = false;
    int ready_fd = -1, status = 1;
    char err[1024];

    s.family = cfg->family == VTPMD_TPM20 ? VTPM_FAMILY_20 : VTPM_FAMILY_12;
    pthread_mutex_init(&s.mu, NULL);
    if (open_log(cfg) < 0)
        return 1;
    if (pipe2(s.quit_pipe, O_CLOEXEC) < 0 || pipe2(s.wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fatal("pipe: %s", strerror(errno));
        return 1;
    }
    if (vtpm_store_open_dir(&store, cfg->state_dir, s.family, cfg->state_mode, err,
                            sizeof(err)) < 0) {
        fatal("%s", err);
        return 1;
    }
    if (vtpm_engine_setup(s.family, store) < 0) {
        fatal("libtpms %u.%u.%u does not provide TPM %s", vtpm_engine_libtpms_version() >> 16,
              (vtpm_engine_libtpms_version() >> 8) & 0xff, vtpm_engine_libtpms_version() & 0xff,
              s.family == VTPM_FAMILY_20 ? "2.0" : "1.2");
        goto out;
    }
    /* Room for the largest command libtpms can take, whatever SET_BUFFERSIZE picks later. */
    uint32_t min = 0, max = 0;
    vtpm_engine_buffer_size(0, &min, &max);
    if (vtpm_framer_init(&f, s.family, max) < 0)
        goto out;
    if (listen_channels(&s) < 0)
        goto out;
    if (cfg->runas && drop_privileges(cfg->runas) < 0)
        goto out;
    if (start_tpm(&s) < 0)
        goto out;
    if (cfg->daemonize && (ready_fd = daemonize()) < 0) {
        fatal("cannot daemonize: %s", strerror(errno));
        goto out;
    }
    if (write_pid(cfg) < 0)
        goto out;
    if (ready_fd >= 0) {
        ssize_t w = write(ready_fd, "r", 1);
        (void)w;
        close(ready_fd);
        ready_fd = -1;
    }

    signal_server = &s;
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (s.ctrl_listen >= 0 || s.ctrl_initial >= 0) {
        if (pthread_create(&ctrl_thread, NULL, vtpm_ctrl_thread, &s) != 0) {
            fatal("cannot start the control channel thread");
            goto out;
        }
        ctrl_started = true;
    }
    vtpm_log(VTPM_LOG_INFO, "vtpmd %s: TPM %s ready", VTPM_VERSION,
             s.family == VTPM_FAMILY_20 ? "2.0" : "1.2");
    data_loop(&s, &f);
    status = 0;
out:
    if (!atomic_load(&s.terminating))
        vtpm_server_terminate(&s);
    if (ctrl_started)
        pthread_join(ctrl_thread, NULL);
    vtpm_engine_stop(!cfg->disable_auto_shutdown);
    cleanup_sockets(cfg);
    vtpm_framer_free(&f);
    if (store)
        vtpm_store_close(store);
    return status;
}
