/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser for swtpm-style option strings: "key=value,flag,key2=value2".
 *
 * Items are separated by commas; values cannot contain commas. An item
 * without '=' is a flag. Empty items (",,", a leading or trailing comma) are
 * skipped, as swtpm does. "=value" (no key) and "key=" (no value) are
 * rejected, as swtpm rejects them. A key given twice is rejected: swtpm
 * silently keeps the first, which hides typos in long command lines.
 *
 * Pure: no I/O. The only allocation is the copy of the input and the item
 * table, both reported through the return value.
 */
#ifndef VTPM_UTIL_OPTSTR_H
#define VTPM_UTIL_OPTSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer strings are refused with -E2BIG: a path is at most PATH_MAX (4096). */
#define VTPM_OPTSTR_MAX_LEN 16384
/* swtpm's longest option string (--ctrl) has 11 keys; this leaves room. */
#define VTPM_OPTSTR_MAX_ITEMS 32

struct vtpm_optstr_item {
    const char *key;
    const char *value; /* NULL for a bare flag */
};

struct vtpm_optstr {
    char *buf; /* private copy of the input, split in place */
    struct vtpm_optstr_item *items;
    size_t count;
    /*
     * After a failed parse: the offending item (-EINVAL, -ENODATA) or key
     * (-EEXIST), pointing into buf; NULL otherwise.
     */
    const char *bad;
};

/*
 * Parses s into o. Returns 0, or:
 *   -EINVAL   an item with an empty key ("=value"); o->bad names it
 *   -ENODATA  a key with an empty value ("key="); o->bad names the key
 *   -EEXIST   a key given twice; o->bad names the key
 *   -E2BIG    longer than VTPM_OPTSTR_MAX_LEN or more than VTPM_OPTSTR_MAX_ITEMS items
 *   -ENOMEM
 * Call vtpm_optstr_free() afterwards whether or not it succeeded.
 */
int vtpm_optstr_parse(struct vtpm_optstr *o, const char *s);
void vtpm_optstr_free(struct vtpm_optstr *o);

/* The item for key, or NULL when absent. */
const struct vtpm_optstr_item *vtpm_optstr_find(const struct vtpm_optstr *o, const char *key);
/* The value of key; NULL when absent or given as a bare flag. */
const char *vtpm_optstr_get(const struct vtpm_optstr *o, const char *key);
/* Whether key is present, with or without a value. */
bool vtpm_optstr_has(const struct vtpm_optstr *o, const char *key);

/*
 * Typed getters. Each returns 0 and stores the value, -ENOENT when the key
 * is absent (out untouched), -EINVAL when the value is missing (bare flag)
 * or malformed, -ERANGE when it is well formed but out of range.
 */
/* Decimal digits only: no sign, no blanks, no 0x. */
int vtpm_optstr_get_uint(const struct vtpm_optstr *o, const char *key, unsigned int *out);
/* Octal file mode bits, "0600" or "600", at most 07777. */
int vtpm_optstr_get_mode(const struct vtpm_optstr *o, const char *key, unsigned int *out);
/* TCP port 1-65535. */
int vtpm_optstr_get_port(const struct vtpm_optstr *o, const char *key, uint16_t *out);
/* File descriptor 0-INT_MAX. */
int vtpm_optstr_get_fd(const struct vtpm_optstr *o, const char *key, int *out);
/*
 * Boolean as swtpm's remove[=true|false]: a bare flag is true; "true"/"1"
 * and "false"/"0" as written.
 */
int vtpm_optstr_get_bool(const struct vtpm_optstr *o, const char *key, bool *out);

/*
 * The number parser behind the typed getters, for plain arguments such as
 * "-p 2321": digits of base 8 or 10 only, then min <= value <= max.
 * Returns 0, -EINVAL (empty or not digits) or -ERANGE.
 */
int vtpm_optstr_number(const char *s, int base, unsigned long min, unsigned long max,
                       unsigned long *out);

/*
 * The first key of o that is not in allowed (a NULL-terminated list), or
 * NULL when every key is allowed.
 */
const char *vtpm_optstr_unknown_key(const struct vtpm_optstr *o, const char *const *allowed);

#endif
