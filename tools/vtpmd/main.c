/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtpmd: a drop-in replacement for `swtpm socket`. This file only turns the
 * command line into a struct vtpmd_config; src/server runs the daemon.
 *
 * Every usage error is one line on stderr naming the option, what was wrong
 * and what is expected, and exit code 1, as swtpm exits 1 on bad options.
 */
#include "engine/engine.h"
#include "server/config.h"
#include "util/optstr.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef VTPM_VERSION
#error "VTPM_VERSION must be defined by the build (meson.build sets it)"
#endif

#define EXIT_USAGE 1

/* Long-only options; values above any short option character. */
enum {
    OPT_TPM2 = 256,
    OPT_TPMSTATE,
    OPT_SERVER,
    OPT_CTRL,
    OPT_FLAGS,
    OPT_LOCALITY,
    OPT_LOG,
    OPT_PID,
    OPT_PRINT_CAPS,
    OPT_PRINT_STATES,
    /* swtpm options this build does not implement yet */
    OPT_KEY,
    OPT_MIGRATION_KEY,
    OPT_SECCOMP,
    OPT_MIGRATION,
};

static const struct option long_opts[] = {
    {"tpm2", no_argument, NULL, OPT_TPM2},
    {"tpmstate", required_argument, NULL, OPT_TPMSTATE},
    {"server", required_argument, NULL, OPT_SERVER},
    {"port", required_argument, NULL, 'p'},
    {"fd", required_argument, NULL, 'f'},
    {"ctrl", required_argument, NULL, OPT_CTRL},
    {"flags", required_argument, NULL, OPT_FLAGS},
    {"locality", required_argument, NULL, OPT_LOCALITY},
    {"log", required_argument, NULL, OPT_LOG},
    {"pid", required_argument, NULL, OPT_PID},
    {"daemon", no_argument, NULL, 'd'},
    {"terminate", no_argument, NULL, 't'},
    {"runas", required_argument, NULL, 'r'},
    {"print-capabilities", no_argument, NULL, OPT_PRINT_CAPS},
    /* swtpm's --help spells it this way; accept both */
    {"print-capabilites", no_argument, NULL, OPT_PRINT_CAPS},
    {"print-states", no_argument, NULL, OPT_PRINT_STATES},
    {"version", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"key", required_argument, NULL, OPT_KEY},
    {"migration-key", required_argument, NULL, OPT_MIGRATION_KEY},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"migration", required_argument, NULL, OPT_MIGRATION},
    {NULL, 0, NULL, 0},
};

/* Leading ':' makes getopt report a missing argument apart from an unknown option. */
static const char short_opts[] = "+:p:f:dtr:vh";

/* The command line as given, before the option strings are parsed. */
struct raw_opts {
    const char *tpmstate, *server, *port, *fd, *ctrl, *flags, *locality, *log, *pid, *runas;
    bool tpm2, daemonize, terminate, print_caps, print_states, version, help;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("vtpmd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -EINVAL;
}

static int out_of_memory(void)
{
    fputs("vtpmd: out of memory\n", stderr);
    return -ENOMEM;
}

/* ---- help, version, capabilities ---------------------------------------------------------- */

static void print_top_help(void)
{
    fputs("vtpmd: a TPM 1.2 and 2.0 emulator daemon built on libtpms, compatible with\n"
          "`swtpm socket`.\n"
          "\n"
          "Usage: vtpmd socket [options]\n"
          "       vtpmd -v|--version\n"
          "       vtpmd -h|--help\n"
          "\n"
          "Only the socket interface is supported; chardev (swtpm chardev) is planned,\n"
          "cuse is not. Use 'vtpmd socket --help' to see the options.\n",
          stdout);
}

/* One entry per option: ISO C caps a single string literal at 4095 characters. */
static const char *const socket_help[] = {
    "Usage: vtpmd socket [options]\n"
    "\n"
    "The options and their syntax are those of `swtpm socket` (swtpm 0.7.1, plus\n"
    "the 0.8 additions --ctrl terminate and --flags disable-auto-shutdown).\n"
    "\n",
    "--tpm2           : choose TPM 2 functionality; TPM 1.2 without it\n",
    "--tpmstate dir=<dir>[,mode=0...]|backend-uri=dir://<dir>[,mode=0...]\n"
    "                 : the directory the TPM's state files are written into;\n"
    "                   the TPM_PATH environment variable is used when this\n"
    "                   option is not given; one of the two is required;\n"
    "                   mode sets the file mode bits of the state files, in\n"
    "                   octal; the default is 0640; backend-uri=file://...\n"
    "                   is not supported yet\n",
    "--server [type=tcp][,port=<port>[,bindaddr=<address>[,ifname=<ifname>]]]"
    "[,fd=<fd>][,disconnect]\n"
    "                 : the data channel: listen for TCP connections on port\n"
    "                   (1-65535), bound to 127.0.0.1 unless bindaddr is\n"
    "                   given; ifname names the interface for a link-local\n"
    "                   IPv6 bindaddr; fd is an already connected socket to\n"
    "                   read commands from instead; disconnect closes the\n"
    "                   connection after each response\n",
    "--server type=unixio[,path=<path>][,fd=<fd>][,mode=0...][,uid=<uid>][,gid=<gid>]"
    "[,disconnect]\n"
    "                 : the data channel on a UnixIO socket created at path,\n"
    "                   or an already connected socket fd; mode sets the\n"
    "                   socket file's mode bits in octal; uid and gid (names\n"
    "                   or numbers) set its owner\n",
    "-p|--port <port> : same as --server type=tcp,port=<port>\n",
    "-f|--fd <fd>     : same as --server type=tcp,fd=<fd>; implies -t\n",
    "--ctrl type=unixio[,path=<path>][,fd=<fd>|clientfd=<fd>][,mode=0...][,uid=<uid>]"
    "[,gid=<gid>][,terminate]\n"
    "--ctrl type=tcp[,port=<port>[,bindaddr=<address>[,ifname=<ifname>]]][,fd=<fd>]"
    "[,terminate]\n"
    "                 : the control channel (swtpm's control protocol, as\n"
    "                   QEMU's tpm-emulator speaks it); type is required;\n"
    "                   type=tcp needs port or fd; type=unixio needs path, fd\n"
    "                   or clientfd; fd is a listening socket, clientfd an\n"
    "                   already connected one (UnixIO only); mode, uid and\n"
    "                   gid as for --server; terminate makes vtpmd exit when\n"
    "                   the control connection is lost\n",
    "--flags [not-need-init][,startup-clear|startup-state|startup-deactivated|startup-none]"
    "[,disable-auto-shutdown]\n"
    "                 : not-need-init: accept TPM commands without a prior\n"
    "                   INIT on the control channel;\n"
    "                   startup-...: send TPM_Startup/TPM2_Startup with this\n"
    "                   type at start (implies not-need-init, except\n"
    "                   startup-none); startup-deactivated is TPM 1.2 only;\n"
    "                   disable-auto-shutdown: do not send TPM2_Shutdown\n"
    "                   before a reset or exit\n",
    "--locality [reject-locality-4][,allow-set-locality]\n"
    "                 : reject-locality-4: reject commands in locality 4;\n"
    "                   allow-set-locality: accept the SetLocality command\n",
    "--log file=<path>|fd=<fd>[,level=<n>][,prefix=<prefix>][,truncate]\n"
    "                 : write the log to a file ('-' to disable logging) or\n"
    "                   file descriptor rather than the console; level 5 and\n"
    "                   higher also enables libtpms logging; every line is\n"
    "                   prefixed with prefix; truncate empties the file first\n",
    "--pid file=<path>|fd=<fd>\n"
    "                 : write the process ID into the file or descriptor\n",
    "-d|--daemon      : daemonize\n",
    "-t|--terminate   : exit when the data channel's client disconnects\n",
    "-r|--runas <user>: switch to this user after start (needs root)\n",
    "--print-capabilities\n"
    "                 : print the supported features as JSON and exit\n"
    "                   (also accepted as --print-capabilites)\n",
    "--print-states   : print which state blobs exist in the --tpmstate\n"
    "                   directory for the chosen TPM family, as JSON, and exit\n",
    "-v|--version     : print the version and exit\n",
    "-h|--help        : print this help and exit\n",
    "\n"
    "Recognised but not supported yet by this build (vtpmd exits with an error):\n"
    "--key, --migration-key, --seccomp, --migration, --tpmstate backend-uri=file://\n"
    "\n"
    "Option strings take comma-separated key=value items and flags; a key may\n"
    "be given once. Flags also accept =true, =false, =1 or =0.\n",
};

static void print_socket_help(void)
{
    for (size_t i = 0; i < sizeof(socket_help) / sizeof(socket_help[0]); i++)
        fputs(socket_help[i], stdout);
}

static void print_version(void)
{
    uint32_t lib = vtpm_engine_libtpms_version();

    printf("vtpmd version %s (libtpms %u.%u.%u)\n", VTPM_VERSION, lib >> 16, (lib >> 8) & 0xff,
           lib & 0xff);
}

/*
 * Feature names mean what swtpm's --print-capabilities documents; list only
 * what vtpmd implements. libvirt reads only the "features" array, so "type"
 * can name vtpmd.
 */
static void print_capabilities(void)
{
    static const char *const features[] = {
        "tpm-1.2",
        "tpm-2.0",
        "tpm-send-command-header",
        "flags-opt-startup",
        "flags-opt-disable-auto-shutdown",
        "cmdarg-print-states",
        "nvram-backend-dir",
        "ctrl-opt-terminate",
    };

    printf("{ \"type\": \"vtpmd\", \"features\": [ ");
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
        printf("%s\"%s\"", i ? ", " : "", features[i]);
    printf(" ], \"version\": \"%s\" }\n", VTPM_VERSION);
}

/* ---- option strings ------------------------------------------------------------------------- */

static void join_keys(char *buf, size_t len, const char *const *keys)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; keys[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* Parses s into o and checks its keys; on failure prints the one-line error. */
static int parse_optstr(const char *opt, const char *s, const char *const *allowed,
                        struct vtpm_optstr *o)
{
    char list[256];
    int rc = vtpm_optstr_parse(o, s);

    switch (rc) {
    case 0:
        break;
    case -EINVAL:
        return usage_error("%s: '%s' has no key before '=' (expected key=value)", opt, o->bad);
    case -ENODATA:
        return usage_error("%s: '%s=' has an empty value; give a value or leave the key out",
                           opt, o->bad);
    case -EEXIST:
        return usage_error("%s: '%s' is given more than once; give it once", opt, o->bad);
    case -E2BIG:
        return usage_error("%s: option string too long (at most %d characters and %d items)",
                           opt, VTPM_OPTSTR_MAX_LEN, VTPM_OPTSTR_MAX_ITEMS);
    default:
        return out_of_memory();
    }
    const char *unknown = vtpm_optstr_unknown_key(o, allowed);
    if (unknown) {
        join_keys(list, sizeof(list), allowed);
        return usage_error("%s: unknown key '%s' (expected one of: %s)", opt, unknown, list);
    }
    return 0;
}

/*
 * Maps a typed getter's result to a message; expected says what a good value
 * looks like. Returns 0 when the key is absent, which leaves the value alone.
 */
static int check_value(int rc, const char *opt, const struct vtpm_optstr *o, const char *key,
                       const char *expected)
{
    if (rc == 0 || rc == -ENOENT)
        return 0;
    const char *value = vtpm_optstr_get(o, key);
    if (!value)
        return usage_error("%s: '%s' needs a value (expected %s=<%s>)", opt, key, key, expected);
    return usage_error("%s: invalid %s '%s' (expected %s)", opt, key, value, expected);
}

static int opt_port(const char *opt, const struct vtpm_optstr *o, const char *key, uint16_t *out)
{
    return check_value(vtpm_optstr_get_port(o, key, out), opt, o, key, "1-65535");
}

static int opt_fd(const char *opt, const struct vtpm_optstr *o, const char *key, int *out)
{
    return check_value(vtpm_optstr_get_fd(o, key, out), opt, o, key,
                       "a file descriptor number, 0 or more");
}

static int opt_mode(const char *opt, const struct vtpm_optstr *o, int *out)
{
    unsigned int mode;
    int rc = vtpm_optstr_get_mode(o, "mode", &mode);

    if (rc == 0)
        *out = (int)mode;
    return check_value(rc, opt, o, "mode", "octal file mode bits 0000-07777, such as 0600");
}

/* A flag: bare, or =true/false/1/0 as swtpm accepts. Absent leaves *out alone. */
static int opt_flag(const char *opt, const struct vtpm_optstr *o, const char *key, bool *out)
{
    int rc = vtpm_optstr_get_bool(o, key, out);

    if (rc == -EINVAL) {
        return usage_error("%s: invalid %s '%s' (expected the bare flag or =true, =false, =1, =0)",
                           opt, key, vtpm_optstr_get(o, key));
    }
    return rc == -ENOENT ? 0 : rc;
}

/* A string value; absent leaves *out NULL. */
static int opt_string(const char *opt, const struct vtpm_optstr *o, const char *key, char **out)
{
    if (!vtpm_optstr_has(o, key))
        return 0;
    const char *value = vtpm_optstr_get(o, key);
    if (!value)
        return usage_error("%s: '%s' needs a value (expected %s=<value>)", opt, key, key);
    free(*out);
    *out = strdup(value);
    return *out ? 0 : out_of_memory();
}

/* The first of keys present in o, or NULL. */
static const char *first_present(const struct vtpm_optstr *o, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        if (vtpm_optstr_has(o, keys[i]))
            return keys[i];
    }
    return NULL;
}

/* ---- channels (--server, --ctrl) ------------------------------------------------------------ */

static bool all_digits(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* uid= / gid=: a number or, as swtpm allows, a user or group name. */
static int opt_owner(const char *opt, const struct vtpm_optstr *o, const char *key, bool group,
                     long *out)
{
    unsigned long id;

    if (!vtpm_optstr_has(o, key))
        return 0;
    const char *value = vtpm_optstr_get(o, key);
    if (!value) {
        return usage_error("%s: '%s' needs a value (expected %s=<%s name or number>)", opt, key,
                           key, group ? "group" : "user");
    }
    if (all_digits(value) || (value[0] == '-' && all_digits(value + 1))) {
        /* (uid_t)-1 means "leave unchanged" to chown(2), so it cannot name an owner */
        if (vtpm_optstr_number(value, 10, 0, UINT32_MAX - 1, &id) < 0)
            return usage_error("%s: invalid %s '%s' (expected 0-%lu or a %s name)", opt, key,
                               value, (unsigned long)UINT32_MAX - 1, group ? "group" : "user");
        *out = (long)id;
        return 0;
    }
    if (group) {
        struct group *gr = getgrnam(value);
        if (!gr)
            return usage_error("%s: group '%s' does not exist (give an existing group name or a "
                               "numeric gid)", opt, value);
        *out = (long)gr->gr_gid;
        return 0;
    }
    struct passwd *pw = getpwnam(value);
    if (!pw)
        return usage_error("%s: user '%s' does not exist (give an existing user name or a "
                           "numeric uid)", opt, value);
    *out = (long)pw->pw_uid;
    return 0;
}

static int chan_tcp(const char *opt, const struct vtpm_optstr *o, struct vtpmd_chan *ch)
{
    static const char *const unix_only[] = {"path", "mode", "uid", "gid", "clientfd", NULL};
    static const char *const port_only[] = {"bindaddr", "ifname", NULL};
    const char *bad = first_present(o, unix_only);
    bool has_port = vtpm_optstr_has(o, "port");
    bool has_fd = vtpm_optstr_has(o, "fd");

    if (bad)
        return usage_error("%s: %s= is only valid with type=unixio", opt, bad);
    if (has_port && has_fd)
        return usage_error("%s: port= and fd= are mutually exclusive; give one", opt);
    if (!has_port && !has_fd)
        return usage_error("%s: type=tcp needs port=<1-65535> or fd=<fd>", opt);
    if (has_fd) {
        bad = first_present(o, port_only);
        if (bad)
            return usage_error("%s: %s= applies only with port=, not with fd=", opt, bad);
        ch->type = VTPMD_CHAN_FD;
        return opt_fd(opt, o, "fd", &ch->fd);
    }
    if (vtpm_optstr_has(o, "ifname") && !vtpm_optstr_has(o, "bindaddr"))
        return usage_error("%s: ifname= needs bindaddr= (a link-local IPv6 address)", opt);
    ch->type = VTPMD_CHAN_TCP;
    int rc = opt_port(opt, o, "port", &ch->port);
    if (rc == 0)
        rc = opt_string(opt, o, "bindaddr", &ch->bindaddr);
    if (rc == 0)
        rc = opt_string(opt, o, "ifname", &ch->ifname);
    return rc;
}

static int chan_unix(const char *opt, const struct vtpm_optstr *o, struct vtpmd_chan *ch)
{
    static const char *const tcp_only[] = {"port", "bindaddr", "ifname", NULL};
    static const char *const path_only[] = {"mode", "uid", "gid", NULL};
    const char *bad = first_present(o, tcp_only);
    int given = vtpm_optstr_has(o, "path") + vtpm_optstr_has(o, "fd") +
                vtpm_optstr_has(o, "clientfd");

    if (bad)
        return usage_error("%s: %s= is only valid with type=tcp", opt, bad);
    if (given > 1)
        return usage_error("%s: path=, fd= and clientfd= are mutually exclusive; give one", opt);
    if (given == 0)
        return usage_error("%s: type=unixio needs path=<path> or fd=<fd>", opt);
    if (!vtpm_optstr_has(o, "path")) {
        bad = first_present(o, path_only);
        if (bad)
            return usage_error("%s: %s= applies only to a socket created at path=", opt, bad);
    }
    if (vtpm_optstr_has(o, "fd")) {
        ch->type = VTPMD_CHAN_FD;
        return opt_fd(opt, o, "fd", &ch->fd);
    }
    if (vtpm_optstr_has(o, "clientfd")) {
        ch->type = VTPMD_CHAN_CLIENTFD;
        return opt_fd(opt, o, "clientfd", &ch->fd);
    }
    ch->type = VTPMD_CHAN_UNIX;
    int rc = opt_string(opt, o, "path", &ch->path);
    if (rc == 0)
        rc = opt_mode(opt, o, &ch->mode);
    if (rc == 0)
        rc = opt_owner(opt, o, "uid", false, &ch->uid);
    if (rc == 0)
        rc = opt_owner(opt, o, "gid", true, &ch->gid);
    return rc;
}

/* type= of --server (defaults to tcp) or --ctrl (required). */
static int chan_type(const char *opt, const struct vtpm_optstr *o, bool required,
                     const char **type)
{
    *type = "tcp";
    if (!vtpm_optstr_has(o, "type")) {
        if (required)
            return usage_error("%s: type= is required (expected type=unixio or type=tcp)", opt);
        return 0;
    }
    *type = vtpm_optstr_get(o, "type");
    if (!*type)
        return usage_error("%s: 'type' needs a value (expected type=tcp or type=unixio)", opt);
    if (strcmp(*type, "tcp") != 0 && strcmp(*type, "unixio") != 0)
        return usage_error("%s: invalid type '%s' (expected tcp or unixio)", opt, *type);
    return 0;
}

static int parse_server(const char *s, struct vtpmd_chan *ch)
{
    static const char *const keys[] = {"type", "port", "bindaddr", "ifname", "fd", "disconnect",
                                       "path", "mode", "uid", "gid", NULL};
    struct vtpm_optstr o;
    const char *type;
    int rc = parse_optstr("--server", s, keys, &o);

    if (rc < 0)
        goto out;
    rc = chan_type("--server", &o, false, &type);
    if (rc < 0)
        goto out;
    if (strcmp(type, "tcp") == 0)
        rc = chan_tcp("--server", &o, ch);
    else
        rc = chan_unix("--server", &o, ch);
    if (rc == 0)
        rc = opt_flag("--server", &o, "disconnect", &ch->disconnect);
out:
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_ctrl(const char *s, struct vtpmd_chan *ch)
{
    static const char *const keys[] = {"type", "path", "port", "bindaddr", "ifname", "fd",
                                       "clientfd", "mode", "uid", "gid", "terminate", NULL};
    struct vtpm_optstr o;
    const char *type;
    int rc = parse_optstr("--ctrl", s, keys, &o);

    if (rc < 0)
        goto out;
    rc = chan_type("--ctrl", &o, true, &type);
    if (rc < 0)
        goto out;
    if (strcmp(type, "tcp") == 0)
        rc = chan_tcp("--ctrl", &o, ch);
    else
        rc = chan_unix("--ctrl", &o, ch);
    if (rc == 0)
        rc = opt_flag("--ctrl", &o, "terminate", &ch->terminate);
out:
    vtpm_optstr_free(&o);
    return rc;
}

/* -p PORT and -f FD: swtpm's older spellings of --server type=tcp,port= / fd=. */
static int parse_data_shortcuts(const struct raw_opts *raw, struct vtpmd_config *cfg)
{
    unsigned long v;

    if (raw->port && raw->fd)
        return usage_error("-p/--port and -f/--fd both set the data channel; give one");
    if (raw->server && (raw->port || raw->fd))
        return usage_error("%s and --server both set the data channel; give one "
                           "(--server type=tcp,port=<port> or --server fd=<fd>)",
                           raw->port ? "-p/--port" : "-f/--fd");
    if (raw->port) {
        if (vtpm_optstr_number(raw->port, 10, 1, 65535, &v) < 0)
            return usage_error("-p/--port: invalid port '%s' (expected 1-65535)", raw->port);
        cfg->server.type = VTPMD_CHAN_TCP;
        cfg->server.port = (uint16_t)v;
    }
    if (raw->fd) {
        if (vtpm_optstr_number(raw->fd, 10, 0, INT_MAX, &v) < 0)
            return usage_error("-f/--fd: invalid file descriptor '%s' (expected a number, 0 or "
                               "more)", raw->fd);
        cfg->server.type = VTPMD_CHAN_FD;
        cfg->server.fd = (int)v;
        cfg->terminate = true; /* swtpm: -f implies -t */
    }
    return 0;
}

/* ---- the other option strings --------------------------------------------------------------- */

static int tpmstate_uri(const char *uri, char **dir)
{
    static const char dir_scheme[] = "dir://";
    static const char file_scheme[] = "file://";

    if (strncmp(uri, file_scheme, sizeof(file_scheme) - 1) == 0)
        return usage_error("--tpmstate: backend-uri=file:// is not supported yet by this vtpmd "
                           "build; use dir=<dir>");
    if (strncmp(uri, dir_scheme, sizeof(dir_scheme) - 1) != 0)
        return usage_error("--tpmstate: invalid backend-uri '%s' (expected dir://<path>)", uri);
    const char *path = uri + sizeof(dir_scheme) - 1;
    if (path[0] == '\0')
        return usage_error("--tpmstate: backend-uri '%s' has no path (expected dir://<path>)",
                           uri);
    *dir = strdup(path);
    return *dir ? 0 : out_of_memory();
}

static int parse_tpmstate(const char *s, struct vtpmd_config *cfg)
{
    static const char *const keys[] = {"dir", "mode", "backend-uri", NULL};
    struct vtpm_optstr o;
    int rc = parse_optstr("--tpmstate", s, keys, &o);

    if (rc < 0)
        goto out;
    bool has_dir = vtpm_optstr_has(&o, "dir");
    bool has_uri = vtpm_optstr_has(&o, "backend-uri");
    if (has_dir && has_uri) {
        rc = usage_error("--tpmstate: dir= and backend-uri= are mutually exclusive; give one");
        goto out;
    }
    if (!has_dir && !has_uri) {
        rc = usage_error("--tpmstate: dir=<dir> is required (or backend-uri=dir://<dir>)");
        goto out;
    }
    if (has_dir) {
        rc = opt_string("--tpmstate", &o, "dir", &cfg->state_dir);
    } else {
        const char *uri = vtpm_optstr_get(&o, "backend-uri");
        rc = uri ? tpmstate_uri(uri, &cfg->state_dir)
                 : usage_error("--tpmstate: 'backend-uri' needs a value (expected "
                               "backend-uri=dir://<path>)");
    }
    if (rc == 0)
        rc = opt_mode("--tpmstate", &o, &cfg->state_mode);
out:
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_startup(const struct vtpm_optstr *o, struct vtpmd_config *cfg)
{
    static const struct {
        const char *key;
        enum vtpmd_startup startup;
    } kinds[] = {
        {"startup-clear", VTPMD_STARTUP_CLEAR},
        {"startup-state", VTPMD_STARTUP_STATE},
        {"startup-deactivated", VTPMD_STARTUP_DEACTIVATED},
        {"startup-none", VTPMD_STARTUP_NONE},
    };
    const char *chosen = NULL;

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        bool on = false;
        int rc = opt_flag("--flags", o, kinds[i].key, &on);
        if (rc < 0)
            return rc;
        if (!on)
            continue;
        if (chosen)
            return usage_error("--flags: %s and %s are mutually exclusive; give one startup-* "
                               "flag", chosen, kinds[i].key);
        chosen = kinds[i].key;
        cfg->startup = kinds[i].startup;
    }
    /* swtpm: every startup-* but startup-none implies not-need-init */
    if (cfg->startup != VTPMD_STARTUP_NONE)
        cfg->not_need_init = true;
    return 0;
}

static int parse_flags(const char *s, struct vtpmd_config *cfg)
{
    static const char *const keys[] = {"not-need-init", "startup-clear", "startup-state",
                                       "startup-deactivated", "startup-none",
                                       "disable-auto-shutdown", NULL};
    struct vtpm_optstr o;
    int rc = parse_optstr("--flags", s, keys, &o);

    if (rc == 0)
        rc = opt_flag("--flags", &o, "not-need-init", &cfg->not_need_init);
    if (rc == 0)
        rc = opt_flag("--flags", &o, "disable-auto-shutdown", &cfg->disable_auto_shutdown);
    if (rc == 0)
        rc = parse_startup(&o, cfg);
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_locality(const char *s, struct vtpmd_config *cfg)
{
    static const char *const keys[] = {"reject-locality-4", "allow-set-locality", NULL};
    struct vtpm_optstr o;
    int rc = parse_optstr("--locality", s, keys, &o);

    if (rc == 0)
        rc = opt_flag("--locality", &o, "reject-locality-4", &cfg->reject_locality4);
    if (rc == 0)
        rc = opt_flag("--locality", &o, "allow-set-locality", &cfg->allow_set_locality);
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_log_level(const struct vtpm_optstr *o, int *level)
{
    unsigned int v;
    int rc = vtpm_optstr_get_uint(o, "level", &v);

    if (rc < 0)
        return check_value(rc, "--log", o, "level",
                           "a number 0 or more; 5 and above add libtpms logging");
    if (v > INT_MAX)
        return usage_error("--log: invalid level '%s' (expected 0-%d)",
                           vtpm_optstr_get(o, "level"), INT_MAX);
    *level = (int)v;
    return 0;
}

static int parse_log(const char *s, struct vtpmd_config *cfg)
{
    static const char *const keys[] = {"file", "fd", "level", "prefix", "truncate", NULL};
    struct vtpm_optstr o;
    int rc = parse_optstr("--log", s, keys, &o);

    if (rc < 0)
        goto out;
    if (vtpm_optstr_has(&o, "file") && vtpm_optstr_has(&o, "fd")) {
        rc = usage_error("--log: file= and fd= are mutually exclusive; give one");
        goto out;
    }
    rc = opt_string("--log", &o, "file", &cfg->log_file);
    if (rc == 0 && vtpm_optstr_has(&o, "fd"))
        rc = opt_fd("--log", &o, "fd", &cfg->log_fd);
    if (rc == 0)
        rc = parse_log_level(&o, &cfg->log_level);
    if (rc == 0)
        rc = opt_string("--log", &o, "prefix", &cfg->log_prefix);
    if (rc == 0)
        rc = opt_flag("--log", &o, "truncate", &cfg->log_truncate);
    if (rc == 0 && cfg->log_truncate && !cfg->log_file)
        rc = usage_error("--log: truncate applies only to file=<path>");
out:
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_pid(const char *s, struct vtpmd_config *cfg)
{
    static const char *const keys[] = {"file", "fd", NULL};
    struct vtpm_optstr o;
    int rc = parse_optstr("--pid", s, keys, &o);

    if (rc < 0)
        goto out;
    bool has_file = vtpm_optstr_has(&o, "file");
    bool has_fd = vtpm_optstr_has(&o, "fd");
    if (has_file == has_fd) {
        rc = usage_error("--pid: give exactly one of file=<path> and fd=<fd>");
        goto out;
    }
    if (has_file)
        rc = opt_string("--pid", &o, "file", &cfg->pid_file);
    else
        rc = opt_fd("--pid", &o, "fd", &cfg->pid_fd);
out:
    vtpm_optstr_free(&o);
    return rc;
}

static int parse_runas(const char *user, struct vtpmd_config *cfg)
{
    /* Checked now so a typo fails at once, not after the sockets are open. */
    if (!getpwnam(user))
        return usage_error("-r/--runas: user '%s' does not exist; give an existing user name",
                           user);
    cfg->runas = strdup(user);
    return cfg->runas ? 0 : out_of_memory();
}

/* ---- argv ----------------------------------------------------------------------------------- */

static const char *long_name(int val)
{
    for (size_t i = 0; long_opts[i].name; i++) {
        if (long_opts[i].val == val)
            return long_opts[i].name;
    }
    return "?";
}

static bool unsupported(int val)
{
    return val == OPT_KEY || val == OPT_MIGRATION_KEY || val == OPT_SECCOMP ||
           val == OPT_MIGRATION;
}

static int set_once(const char **slot, const char *value, const char *name)
{
    if (*slot)
        return usage_error("%s is given more than once; give it once", name);
    *slot = value;
    return 0;
}

/* One getopt result into raw; the option's name for messages is argv[optind - 1]. */
static int collect_one(int c, const char *arg, const char *name, struct raw_opts *raw)
{
    if (unsupported(c))
        return usage_error("--%s is not supported yet by this vtpmd build", long_name(c));
    switch (c) {
    case OPT_TPM2: raw->tpm2 = true; return 0;
    case 'd': raw->daemonize = true; return 0;
    case 't': raw->terminate = true; return 0;
    case 'v': raw->version = true; return 0;
    case 'h': raw->help = true; return 0;
    case OPT_PRINT_CAPS: raw->print_caps = true; return 0;
    case OPT_PRINT_STATES: raw->print_states = true; return 0;
    case OPT_TPMSTATE: return set_once(&raw->tpmstate, arg, "--tpmstate");
    case OPT_SERVER: return set_once(&raw->server, arg, "--server");
    case 'p': return set_once(&raw->port, arg, "-p/--port");
    case 'f': return set_once(&raw->fd, arg, "-f/--fd");
    case OPT_CTRL: return set_once(&raw->ctrl, arg, "--ctrl");
    case OPT_FLAGS: return set_once(&raw->flags, arg, "--flags");
    case OPT_LOCALITY: return set_once(&raw->locality, arg, "--locality");
    case OPT_LOG: return set_once(&raw->log, arg, "--log");
    case OPT_PID: return set_once(&raw->pid, arg, "--pid");
    case 'r': return set_once(&raw->runas, arg, "-r/--runas");
    case ':':
        if (unsupported(optopt))
            return usage_error("--%s is not supported yet by this vtpmd build",
                               long_name(optopt));
        return usage_error("%s needs an argument; see 'vtpmd socket --help'", name);
    default:
        /* glibc sets optopt for a long option given an argument it does not take */
        if (optopt && strncmp(name, "--", 2) == 0)
            return usage_error("%.*s takes no argument", (int)strcspn(name, "="), name);
        if (optopt)
            return usage_error("unknown option '-%c'; see 'vtpmd socket --help'", optopt);
        return usage_error("unknown or ambiguous option '%s'; see 'vtpmd socket --help'", name);
    }
}

/* argv[0] is the mode word "socket". */
static int collect_options(int argc, char **argv, struct raw_opts *raw)
{
    int c;

    opterr = 0; /* every message is ours, on one line */
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        int rc = collect_one(c, optarg, argv[optind - 1], raw);
        if (rc < 0)
            return rc;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'; options start with '-' (see 'vtpmd socket "
                           "--help')", argv[optind]);
    return 0;
}

static int build_config(const struct raw_opts *raw, struct vtpmd_config *cfg)
{
    int rc = 0;

    if (raw->tpm2)
        cfg->family = VTPMD_TPM20;
    cfg->daemonize = raw->daemonize;
    cfg->terminate = raw->terminate;
    if (raw->tpmstate)
        rc = parse_tpmstate(raw->tpmstate, cfg);
    if (rc == 0 && raw->server)
        rc = parse_server(raw->server, &cfg->server);
    if (rc == 0)
        rc = parse_data_shortcuts(raw, cfg);
    if (rc == 0 && raw->ctrl)
        rc = parse_ctrl(raw->ctrl, &cfg->ctrl);
    if (rc == 0 && raw->flags)
        rc = parse_flags(raw->flags, cfg);
    if (rc == 0 && raw->locality)
        rc = parse_locality(raw->locality, cfg);
    if (rc == 0 && raw->log)
        rc = parse_log(raw->log, cfg);
    if (rc == 0 && raw->pid)
        rc = parse_pid(raw->pid, cfg);
    if (rc == 0 && raw->runas)
        rc = parse_runas(raw->runas, cfg);
    if (rc < 0)
        return rc;
    if (cfg->startup == VTPMD_STARTUP_DEACTIVATED && cfg->family == VTPMD_TPM20)
        return usage_error("--flags: startup-deactivated is only valid for TPM 1.2; drop it or "
                           "drop --tpm2");
    return 0;
}

/* Without --tpmstate, swtpm reads the state directory from $TPM_PATH. */
static int state_dir_from_env(struct vtpmd_config *cfg)
{
    if (cfg->state_dir)
        return 0;
    const char *env = getenv("TPM_PATH");
    if (!env || env[0] == '\0')
        return usage_error("no TPM state directory: give --tpmstate dir=<dir> or set TPM_PATH");
    cfg->state_dir = strdup(env);
    return cfg->state_dir ? 0 : out_of_memory();
}

/* ---- --print-states ------------------------------------------------------------------------- */

/* The blob names of swtpm's dir backend: files <prefix>-00.<name>. */
static const char *const state_names[] = {"permall", "volatilestate", "savestate"};
#define STATE_COUNT (sizeof(state_names) / sizeof(state_names[0]))

static int print_states(const struct vtpmd_config *cfg)
{
    const char *prefix = cfg->family == VTPMD_TPM20 ? "tpm2-00" : "tpm-00";
    long long sizes[STATE_COUNT];
    char path[PATH_MAX];
    struct stat st;

    if (stat(cfg->state_dir, &st) < 0)
        return usage_error("--print-states: cannot use state directory '%s': %s; check "
                           "--tpmstate dir= or TPM_PATH", cfg->state_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return usage_error("--print-states: '%s' is not a directory; check --tpmstate dir= or "
                           "TPM_PATH", cfg->state_dir);
    /* Stat everything first so an error cannot leave half a JSON object on stdout. */
    for (size_t i = 0; i < STATE_COUNT; i++) {
        int n = snprintf(path, sizeof(path), "%s/%s.%s", cfg->state_dir, prefix, state_names[i]);
        if (n < 0 || (size_t)n >= sizeof(path))
            return usage_error("--print-states: state directory path too long: '%s'",
                               cfg->state_dir);
        sizes[i] = -1;
        if (stat(path, &st) == 0) {
            sizes[i] = (long long)st.st_size;
        } else if (errno != ENOENT) {
            fprintf(stderr, "vtpmd: --print-states: cannot stat '%s': %s\n", path,
                    strerror(errno));
            return -errno;
        }
    }
    bool first = true;
    printf("{ \"type\": \"vtpmd\", \"states\": [");
    for (size_t i = 0; i < STATE_COUNT; i++) {
        if (sizes[i] < 0)
            continue;
        printf("%s{\"name\": \"%s\", \"size\": %lld}", first ? " " : ", ", state_names[i],
               sizes[i]);
        first = false;
    }
    printf("%s] }\n", first ? "" : " ");
    return 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

static int mode_error(const char *mode)
{
    if (!mode)
        return usage_error("missing interface: start it as 'vtpmd socket [options]' (see "
                           "'vtpmd --help')");
    if (strcmp(mode, "chardev") == 0)
        return usage_error("interface 'chardev' is not supported yet by this vtpmd build; only "
                           "'socket' is (chardev is planned)");
    if (strcmp(mode, "cuse") == 0)
        return usage_error("interface 'cuse' is not supported by vtpmd; use 'socket'");
    if (mode[0] == '-')
        return usage_error("option '%s' before the interface: start it as 'vtpmd socket "
                           "[options]'", mode);
    return usage_error("unknown interface '%s': only 'socket' is supported (chardev is planned)",
                       mode);
}

/* Returns an exit code, or -1 to go on and run the daemon. */
static int handle_info_options(const struct raw_opts *raw)
{
    if (raw->help) {
        print_socket_help();
        return EXIT_SUCCESS;
    }
    if (raw->version) {
        print_version();
        return EXIT_SUCCESS;
    }
    if (raw->print_caps) {
        print_capabilities();
        return EXIT_SUCCESS;
    }
    return -1;
}

static bool is_arg(const char *arg, const char *short_form, const char *long_form)
{
    return strcmp(arg, short_form) == 0 || strcmp(arg, long_form) == 0;
}

int main(int argc, char **argv)
{
    struct raw_opts raw = {0};
    struct vtpmd_config cfg;
    int exit_code = EXIT_USAGE;

    vtpmd_config_init(&cfg);
    if (argc > 1 && is_arg(argv[1], "-h", "--help")) {
        print_top_help();
        return EXIT_SUCCESS;
    }
    if (argc > 1 && is_arg(argv[1], "-v", "--version")) {
        print_version();
        return EXIT_SUCCESS;
    }
    if (argc < 2 || strcmp(argv[1], "socket") != 0) {
        mode_error(argc < 2 ? NULL : argv[1]);
        return EXIT_USAGE;
    }
    if (collect_options(argc - 1, argv + 1, &raw) < 0)
        goto out;
    exit_code = handle_info_options(&raw);
    if (exit_code >= 0)
        goto out;
    exit_code = EXIT_USAGE;
    if (build_config(&raw, &cfg) < 0 || state_dir_from_env(&cfg) < 0)
        goto out;
    if (raw.print_states) {
        exit_code = print_states(&cfg) < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        goto out;
    }
    fflush(stdout);
    exit_code = vtpmd_run(&cfg);
out:
    vtpmd_config_free(&cfg);
    return exit_code;
}
