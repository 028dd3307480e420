/* SPDX-License-Identifier: BSD-3-Clause */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A day: longer waits are typos, and the value must fit poll()'s int. */
#define TIMEOUT_MAX_S 86400.0

void cli_err(const struct cli *cli, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout); /* keep the order of output and errors on a shared terminal */
    fprintf(stderr, "%s: ", cli->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_parse_timeout(struct cli *cli, const char *arg)
{
    char *end;

    errno = 0;
    double s = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(s) || s <= 0 || s > TIMEOUT_MAX_S) {
        cli_err(cli, "--timeout '%s': give the seconds to wait, more than 0 and at most %.0f", arg,
                TIMEOUT_MAX_S);
        return -1;
    }
    cli->timeout_ms = (int)(s * 1000 + 0.5);
    if (cli->timeout_ms == 0)
        cli->timeout_ms = 1;
    return 0;
}

int cli_parse_uint(const char *arg, uint64_t max, uint64_t *out)
{
    char *end;

    if (!*arg || *arg == '-' || *arg == '+' || isspace((unsigned char)*arg))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}
