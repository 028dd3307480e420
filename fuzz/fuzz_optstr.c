/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * swtpm-style option strings (src/util/optstr.c): "k=v,flag", as typed on a
 * command line or written by libvirt. The input (up to its first NUL) is
 * parsed; the result is checked against a reading of the same string done
 * here by other means, then every lookup and typed getter is run on every
 * key and compared with what the rules say it should answer.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "util/optstr.h"

/* The keys vtpmd's options use, and a few near misses. */
/* clang-format off */
static const char *const known_keys[] = {
    "dir", "file", "mode", "port", "bindaddr", "fd", "path", "type", "remove", "uid", "gid",
    "level", "key", "pwdfile", "format", "terminate", "disconnect", "startup-clear", "",
    "dir=", "Dir", "d", NULL,
};
/* clang-format on */

/* Digits of the base only, then the range. */
static int model_number(const char *s, int base, unsigned long min, unsigned long max,
                        unsigned long *out)
{
    unsigned long v = 0;
    bool overflow = false;

    if (*s == '\0')
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p >= '0' + base)
            return -EINVAL;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (ULONG_MAX - digit) / (unsigned long)base)
            overflow = true;
        else
            v = v * (unsigned long)base + digit;
    }
    if (overflow || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

static void check_number(const char *s, int base, unsigned long min, unsigned long max)
{
    unsigned long got = 12345, want = 54321;
    int rc = vtpm_optstr_number(s, base, min, max, &got);

    FUZZ_CHECK(rc == model_number(s, base, min, max, &want));
    FUZZ_CHECK(rc != 0 || got == want);
}

/*
 * The rules, applied item by item to a copy: returns the parse result and,
 * on success, the canonical string (items joined without empty ones).
 */
static int model_parse(const char *s, char *canon, size_t *items)
{
    char *copy = strdup(s);
    char *keys[VTPM_OPTSTR_MAX_ITEMS];
    size_t n = 0;
    int rc = 0;

    FUZZ_CHECK(copy != NULL);
    canon[0] = '\0';
    for (char *item = copy, *next; item && rc == 0; item = next) {
        char *comma = strchr(item, ',');
        next = comma ? comma + 1 : NULL;
        if (comma)
            *comma = '\0';
        if (*item == '\0')
            continue;
        if (canon[0])
            strcat(canon, ",");
        strcat(canon, item);
        char *eq = strchr(item, '=');
        if (eq == item) {
            rc = -EINVAL;
            break;
        }
        if (eq && eq[1] == '\0') {
            rc = -ENODATA;
            break;
        }
        if (eq)
            *eq = '\0';
        for (size_t i = 0; i < n; i++) {
            if (strcmp(keys[i], item) == 0)
                rc = -EEXIST;
        }
        if (rc == 0 && n == VTPM_OPTSTR_MAX_ITEMS)
            rc = -E2BIG;
        if (rc == 0)
            keys[n++] = item;
    }
    *items = n;
    free(copy);
    return rc;
}

static bool inside_buf(const struct vtpm_optstr *o, const char *p, size_t buflen)
{
    return p >= o->buf && p <= o->buf + buflen && strlen(p) <= (size_t)(o->buf + buflen - p);
}

static void check_getters(const struct vtpm_optstr *o, const char *key)
{
    const struct vtpm_optstr_item *it = NULL;
    const char *value = NULL;

    for (size_t i = 0; i < o->count && !it; i++) {
        if (strcmp(o->items[i].key, key) == 0)
            it = &o->items[i];
    }
    FUZZ_CHECK(vtpm_optstr_find(o, key) == it);
    FUZZ_CHECK(vtpm_optstr_has(o, key) == (it != NULL));
    if (it)
        value = it->value;
    FUZZ_CHECK(vtpm_optstr_get(o, key) == value);

    static const struct {
        int base;
        unsigned long min, max;
    } ranges[] = {
        {10, 0, UINT_MAX},
        {8, 0, 07777},
        {10, 1, 65535},
        {10, 0, INT_MAX},
    };
    int want[4];
    unsigned long v[4] = {0};
    for (int i = 0; i < 4; i++) {
        if (!it)
            want[i] = -ENOENT;
        else if (!value)
            want[i] = -EINVAL;
        else
            want[i] = model_number(value, ranges[i].base, ranges[i].min, ranges[i].max, &v[i]);
    }
    unsigned int u = 7, mode = 7;
    uint16_t port = 7;
    int fd = 7;
    FUZZ_CHECK(vtpm_optstr_get_uint(o, key, &u) == want[0]);
    FUZZ_CHECK(want[0] != 0 ? u == 7 : u == v[0]);
    FUZZ_CHECK(vtpm_optstr_get_mode(o, key, &mode) == want[1]);
    FUZZ_CHECK(want[1] != 0 ? mode == 7 : mode == v[1]);
    FUZZ_CHECK(vtpm_optstr_get_port(o, key, &port) == want[2]);
    FUZZ_CHECK(want[2] != 0 ? port == 7 : port == v[2]);
    FUZZ_CHECK(vtpm_optstr_get_fd(o, key, &fd) == want[3]);
    FUZZ_CHECK(want[3] != 0 ? fd == 7 : fd == (int)v[3]);

    bool b = false;
    int brc = vtpm_optstr_get_bool(o, key, &b);
    if (!it)
        FUZZ_CHECK(brc == -ENOENT);
    else if (!value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
        FUZZ_CHECK(brc == 0 && b);
    else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
        FUZZ_CHECK(brc == 0 && !b);
    else
        FUZZ_CHECK(brc == -EINVAL);
}

static void check_string(const char *s, size_t slen)
{
    check_number(s, 10, 0, ULONG_MAX);
    check_number(s, 8, 0, 07777);
    check_number(s, 10, 1, 65535);

    struct vtpm_optstr o;
    char *canon = malloc(slen + 1);
    size_t model_items = 0;
    FUZZ_CHECK(canon != NULL);
    int rc = vtpm_optstr_parse(&o, s);

    if (slen > VTPM_OPTSTR_MAX_LEN) {
        FUZZ_CHECK(rc == -E2BIG && o.buf == NULL && o.count == 0);
        goto out;
    }
    FUZZ_CHECK(o.buf != NULL && o.items != NULL);
    int want = model_parse(s, canon, &model_items);
    FUZZ_CHECK(rc == want);
    FUZZ_CHECK(o.count <= VTPM_OPTSTR_MAX_ITEMS);

    /* Every item, even after an error: a non-empty key without ',' or '=', inside the copy. */
    for (size_t i = 0; i < o.count; i++) {
        const struct vtpm_optstr_item *it = &o.items[i];
        FUZZ_CHECK(inside_buf(&o, it->key, slen));
        FUZZ_CHECK(it->key[0] != '\0' && !strpbrk(it->key, ",="));
        if (it->value) {
            FUZZ_CHECK(inside_buf(&o, it->value, slen));
            FUZZ_CHECK(it->value[0] != '\0' && !strchr(it->value, ','));
            FUZZ_CHECK(it->value == it->key + strlen(it->key) + 1);
        }
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(o.items[j].key, it->key) != 0);
    }

    switch (rc) {
    case 0: {
        FUZZ_CHECK(o.bad == NULL && o.count == model_items);
        /* Joining the items gives back the input without its empty items. */
        char *joined = malloc(slen + 1);
        FUZZ_CHECK(joined != NULL);
        joined[0] = '\0';
        for (size_t i = 0; i < o.count; i++) {
            if (i)
                strcat(joined, ",");
            strcat(joined, o.items[i].key);
            if (o.items[i].value) {
                strcat(joined, "=");
                strcat(joined, o.items[i].value);
            }
        }
        FUZZ_CHECK(strcmp(joined, canon) == 0);
        /* And the canonical string parses to the same items. */
        struct vtpm_optstr o2;
        FUZZ_CHECK(vtpm_optstr_parse(&o2, joined) == 0 && o2.count == o.count);
        for (size_t i = 0; i < o.count; i++) {
            FUZZ_CHECK(strcmp(o2.items[i].key, o.items[i].key) == 0);
            FUZZ_CHECK(!o2.items[i].value == !o.items[i].value);
            FUZZ_CHECK(!o.items[i].value || strcmp(o2.items[i].value, o.items[i].value) == 0);
        }
        vtpm_optstr_free(&o2);
        free(joined);

        for (size_t i = 0; i < o.count; i++)
            check_getters(&o, o.items[i].key);
        for (size_t i = 0; known_keys[i]; i++)
            check_getters(&o, known_keys[i]);

        const char *const allowed[] = {"dir", "mode", "port", "fd", "type", NULL};
        const char *unknown = NULL;
        for (size_t i = 0; i < o.count && !unknown; i++) {
            bool ok = false;
            for (size_t j = 0; allowed[j]; j++)
                ok = ok || strcmp(o.items[i].key, allowed[j]) == 0;
            if (!ok)
                unknown = o.items[i].key;
        }
        FUZZ_CHECK(vtpm_optstr_unknown_key(&o, allowed) == unknown);
        break;
    }
    case -EINVAL:
        FUZZ_CHECK(o.bad && inside_buf(&o, o.bad, slen) && o.bad[0] == '=');
        break;
    case -ENODATA:
        FUZZ_CHECK(o.bad && inside_buf(&o, o.bad, slen) && o.bad[0] != '\0');
        FUZZ_CHECK(!strpbrk(o.bad, ",="));
        break;
    case -EEXIST:
        FUZZ_CHECK(o.bad && inside_buf(&o, o.bad, slen));
        FUZZ_CHECK(vtpm_optstr_has(&o, o.bad));
        break;
    case -E2BIG:
        FUZZ_CHECK(o.count == VTPM_OPTSTR_MAX_ITEMS);
        break;
    default:
        FUZZ_CHECK(!"unexpected vtpm_optstr_parse result");
    }
out:
    vtpm_optstr_free(&o);
    FUZZ_CHECK(o.buf == NULL && o.items == NULL && o.count == 0);
    free(canon);
}

/* s repeated to exactly len characters. */
static char *repeat(const char *s, size_t slen, size_t len)
{
    char *r = malloc(len + 1);

    FUZZ_CHECK(r != NULL);
    for (size_t i = 0; i < len; i++)
        r[i] = slen ? s[i % slen] : ',';
    r[len] = '\0';
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A C string: the input up to its first NUL, in a heap block of exactly that size. */
    size_t slen = strnlen((const char *)data, size);
    char *s = malloc(slen + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, data, slen);
    s[slen] = '\0';
    check_string(s, slen);

    /* The length limit, on one input in 256: exactly at it, and one past it. */
    if ((fuzz_hash(data, size) & 0xff) == 0) {
        for (size_t len = VTPM_OPTSTR_MAX_LEN; len <= VTPM_OPTSTR_MAX_LEN + 1; len++) {
            char *big = repeat(s, slen, len);
            check_string(big, len);
            free(big);
        }
    }
    free(s);
    return 0;
}
