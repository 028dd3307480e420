/* SPDX-License-Identifier: BSD-3-Clause */
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int log_fd = 2;
static int log_level = VTPM_LOG_ERROR;
static char *log_prefix;

void vtpm_log_setup(int fd, int level, const char *prefix)
{
    log_fd = fd;
    log_level = level;
    free(log_prefix);
    log_prefix = prefix ? strdup(prefix) : NULL;
}

int vtpm_log_fd(void)
{
    return log_fd;
}

int vtpm_log_level(void)
{
    return log_level;
}

const char *vtpm_log_prefix(void)
{
    return log_prefix;
}

void vtpm_vlog(int level, const char *fmt, va_list ap)
{
    char line[2048];
    int n = 0;

    if (log_fd < 0 || level > log_level)
        return;
    if (log_prefix)
        n = snprintf(line, sizeof(line), "%s", log_prefix);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len >= sizeof(line) - 1)
        len = sizeof(line) - 2;
    if (line[len - 1] != '\n')
        line[len++] = '\n';
    /* One write per message so lines of concurrent threads do not interleave. */
    ssize_t w = write(log_fd, line, len);
    (void)w;
}

void vtpm_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vtpm_vlog(level, fmt, ap);
    va_end(ap);
}
