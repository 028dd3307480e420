/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's log: one destination (stderr, a file or an fd), a level and
 * an optional prefix, as swtpm's --log option. Thread-safe; each message is
 * written with a single write(2).
 */
#ifndef VTPM_UTIL_LOG_H
#define VTPM_UTIL_LOG_H

#include <stdarg.h>

enum vtpm_log_level {
    VTPM_LOG_ERROR = 0, /* always written */
    VTPM_LOG_INFO = 1,
    VTPM_LOG_DEBUG = 5, /* swtpm: level 5 and higher also enables libtpms' log */
    VTPM_LOG_TRACE = 20,
};

/* fd: where to write (-1 disables); level: the highest level written. */
void vtpm_log_setup(int fd, int level, const char *prefix);
int vtpm_log_fd(void);
int vtpm_log_level(void);
const char *vtpm_log_prefix(void);

__attribute__((format(printf, 2, 3))) void vtpm_log(int level, const char *fmt, ...);
void vtpm_vlog(int level, const char *fmt, va_list ap);

#endif
