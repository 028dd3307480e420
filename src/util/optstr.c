/* SPDX-License-Identifier: BSD-3-Clause */
#include "util/optstr.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Splits one NUL-terminated item in place and appends it to o->items. */
static int add_item(struct vtpm_optstr *o, char *item)
{
    char *eq = strchr(item, '=');
    const char *value = NULL;

    if (eq) {
        *eq = '\0';
        value = eq + 1;
        if (item[0] == '\0') {
            *eq = '='; /* show the item as the user wrote it */
            o->bad = item;
            return -EINVAL;
        }
        if (value[0] == '\0') {
            o->bad = item;
            return -ENODATA;
        }
    }
    if (vtpm_optstr_has(o, item)) {
        o->bad = item;
        return -EEXIST;
    }
    if (o->count == VTPM_OPTSTR_MAX_ITEMS)
        return -E2BIG;
    o->items[o->count].key = item;
    o->items[o->count].value = value;
    o->count++;
    return 0;
}

int vtpm_optstr_parse(struct vtpm_optstr *o, const char *s)
{
    *o = (struct vtpm_optstr){0};
    if (strnlen(s, VTPM_OPTSTR_MAX_LEN + 1) > VTPM_OPTSTR_MAX_LEN)
        return -E2BIG;

    o->buf = strdup(s);
    o->items = calloc(VTPM_OPTSTR_MAX_ITEMS, sizeof(*o->items));
    if (!o->buf || !o->items)
        return -ENOMEM;

    char *item = o->buf;
    for (;;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (item[0] != '\0') {
            int rc = add_item(o, item);
            if (rc < 0)
                return rc;
        }
        if (!comma)
            return 0;
        item = comma + 1;
    }
}

void vtpm_optstr_free(struct vtpm_optstr *o)
{
    free(o->buf);
    free(o->items);
    *o = (struct vtpm_optstr){0};
}

const struct vtpm_optstr_item *vtpm_optstr_find(const struct vtpm_optstr *o, const char *key)
{
    for (size_t i = 0; i < o->count; i++) {
        if (strcmp(o->items[i].key, key) == 0)
            return &o->items[i];
    }
    return NULL;
}

const char *vtpm_optstr_get(const struct vtpm_optstr *o, const char *key)
{
    const struct vtpm_optstr_item *it = vtpm_optstr_find(o, key);

    return it ? it->value : NULL;
}

bool vtpm_optstr_has(const struct vtpm_optstr *o, const char *key)
{
    return vtpm_optstr_find(o, key) != NULL;
}

/* The value of key for a typed getter: -ENOENT if absent, -EINVAL if a bare flag. */
static int typed_value(const struct vtpm_optstr *o, const char *key, const char **value)
{
    const struct vtpm_optstr_item *it = vtpm_optstr_find(o, key);

    if (!it)
        return -ENOENT;
    if (!it->value)
        return -EINVAL;
    *value = it->value;
    return 0;
}

/*
 * Digits in the given base only. strtoul alone would accept blanks, a sign
 * and (base 0) a 0x prefix, and would wrap "-1" to ULONG_MAX.
 */
int vtpm_optstr_number(const char *s, int base, unsigned long min, unsigned long max,
                       unsigned long *out)
{
    const char *digits = base == 8 ? "01234567" : "0123456789";

    if (base != 8 && base != 10)
        return -EINVAL;
    if (s[0] == '\0' || strspn(s, digits) != strlen(s))
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, NULL, base);
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

static int get_number(const struct vtpm_optstr *o, const char *key, int base, unsigned long min,
                      unsigned long max, unsigned long *out)
{
    const char *value;
    int rc = typed_value(o, key, &value);

    if (rc < 0)
        return rc;
    return vtpm_optstr_number(value, base, min, max, out);
}

int vtpm_optstr_get_uint(const struct vtpm_optstr *o, const char *key, unsigned int *out)
{
    unsigned long v;
    int rc = get_number(o, key, 10, 0, UINT_MAX, &v);

    if (rc == 0)
        *out = (unsigned int)v;
    return rc;
}

int vtpm_optstr_get_mode(const struct vtpm_optstr *o, const char *key, unsigned int *out)
{
    unsigned long v;
    int rc = get_number(o, key, 8, 0, 07777, &v);

    if (rc == 0)
        *out = (unsigned int)v;
    return rc;
}

int vtpm_optstr_get_port(const struct vtpm_optstr *o, const char *key, uint16_t *out)
{
    unsigned long v;
    int rc = get_number(o, key, 10, 1, 65535, &v);

    if (rc == 0)
        *out = (uint16_t)v;
    return rc;
}

int vtpm_optstr_get_fd(const struct vtpm_optstr *o, const char *key, int *out)
{
    unsigned long v;
    int rc = get_number(o, key, 10, 0, INT_MAX, &v);

    if (rc == 0)
        *out = (int)v;
    return rc;
}

int vtpm_optstr_get_bool(const struct vtpm_optstr *o, const char *key, bool *out)
{
    const struct vtpm_optstr_item *it = vtpm_optstr_find(o, key);

    if (!it)
        return -ENOENT;
    if (!it->value || strcmp(it->value, "true") == 0 || strcmp(it->value, "1") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(it->value, "false") == 0 || strcmp(it->value, "0") == 0) {
        *out = false;
        return 0;
    }
    return -EINVAL;
}

static bool in_list(const char *key, const char *const *list)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(key, list[i]) == 0)
            return true;
    }
    return false;
}

const char *vtpm_optstr_unknown_key(const struct vtpm_optstr *o, const char *const *allowed)
{
    for (size_t i = 0; i < o->count; i++) {
        if (!in_list(o->items[i].key, allowed))
            return o->items[i].key;
    }
    return NULL;
}
