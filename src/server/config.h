/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's configuration, as parsed from swtpm-compatible command-line
 * options by tools/vtpmd. The server consumes it; it never parses argv itself.
 */
#ifndef VTPM_SERVER_CONFIG_H
#define VTPM_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum vtpmd_family {
    VTPMD_TPM12 = 1,
    VTPMD_TPM20 = 2,
};

enum vtpmd_chan_type {
    VTPMD_CHAN_NONE = 0,
    VTPMD_CHAN_TCP,      /* listen on bindaddr:port */
    VTPMD_CHAN_UNIX,     /* listen on path */
    VTPMD_CHAN_FD,       /* an already listening socket (fd=) or, for --server, a connected one */
    VTPMD_CHAN_CLIENTFD, /* an already connected unix socket (ctrl clientfd=) */
};

struct vtpmd_chan {
    enum vtpmd_chan_type type;
    char *path;     /* unixio path */
    char *bindaddr; /* tcp; NULL means 127.0.0.1 */
    char *ifname;   /* tcp with an IPv6 link-local bindaddr */
    uint16_t port;
    int fd;         /* fd= / clientfd=; -1 when unset */
    int mode;       /* unixio socket file mode; -1 when unset */
    long uid, gid;  /* unixio socket owner; -1 when unset */
    bool disconnect; /* --server: close the connection after each response */
    bool terminate;  /* --ctrl: exit when the control connection closes */
};

enum vtpmd_startup {
    VTPMD_STARTUP_NONE = 0, /* no --flags startup-*: send no TPM_Startup */
    VTPMD_STARTUP_CLEAR,
    VTPMD_STARTUP_STATE,
    VTPMD_STARTUP_DEACTIVATED, /* TPM 1.2 only */
};

struct vtpmd_config {
    enum vtpmd_family family; /* default TPM 1.2, as swtpm */
    char *state_dir;          /* --tpmstate dir= or $TPM_PATH */
    int state_mode;           /* --tpmstate mode=; -1 means 0640 */

    struct vtpmd_chan server; /* data channel (--server, -p, -f) */
    struct vtpmd_chan ctrl;   /* control channel (--ctrl) */

    bool not_need_init;       /* --flags not-need-init */
    enum vtpmd_startup startup; /* --flags startup-* */
    bool disable_auto_shutdown; /* --flags disable-auto-shutdown */

    bool reject_locality4;    /* --locality reject-locality-4 */
    bool allow_set_locality;  /* --locality allow-set-locality */

    char *log_file;           /* --log file=; "-" disables logging */
    int log_fd;               /* --log fd=; -1 when unset */
    int log_level;            /* --log level=; 0 when unset */
    char *log_prefix;         /* --log prefix= */
    bool log_truncate;        /* --log truncate */

    char *pid_file;           /* --pid file= */
    int pid_fd;               /* --pid fd=; -1 when unset */

    bool daemonize;           /* -d / --daemon */
    bool terminate;           /* -t / --terminate: exit when the data connection closes */
    char *runas;              /* -r / --runas */
};

/* Sets every field to its documented default (fds -1, modes -1, TPM 1.2). */
void vtpmd_config_init(struct vtpmd_config *cfg);
void vtpmd_config_free(struct vtpmd_config *cfg);

/*
 * Runs the daemon until it is told to stop. Returns the process exit code.
 * Messages for people go to stderr / the log and name the cause and the fix.
 */
int vtpmd_run(const struct vtpmd_config *cfg);

#endif
