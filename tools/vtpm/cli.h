/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the subcommands of the vtpm tool share: the invocation context,
 * error printing and exit codes.
 */
#ifndef VTPM_TOOL_CLI_H
#define VTPM_TOOL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* the daemon, the TPM or the system said no */
#define CLI_EXIT_USAGE 2 /* the command line is wrong */

#define CLI_DEFAULT_TIMEOUT_MS 10000

struct cli {
    const char *prog; /* "vtpm ctl": the prefix of every message */
    int timeout_ms;   /* bound of every wait for a daemon */
};

/* "PROG: message\n" on stderr. */
__attribute__((format(printf, 2, 3))) void cli_err(const struct cli *cli, const char *fmt, ...);

/* Parses --timeout SECONDS (decimal, > 0, fractions allowed) into cli->timeout_ms. */
int cli_parse_timeout(struct cli *cli, const char *arg);

/* Parses an unsigned integer (decimal, 0x hex or 0 octal) no larger than max. */
int cli_parse_uint(const char *arg, uint64_t max, uint64_t *out);

int cmd_ctl(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_trace(int argc, char **argv);

void help_ctl(void);
void help_info(void);
void help_send(void);
void help_trace(void);

#endif
