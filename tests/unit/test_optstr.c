/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/optstr.h"

/* Parses s and expects success; the caller frees o. */
static void parse_ok(struct vtpm_optstr *o, const char *s)
{
    assert_int_equal(vtpm_optstr_parse(o, s), 0);
    assert_null(o->bad);
}

static void test_keys_values_and_flags(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    parse_ok(&o, "type=unixio,path=/run/tpm/sock,terminate,mode=0600");
    assert_int_equal(o.count, 4);
    assert_string_equal(o.items[0].key, "type");
    assert_string_equal(o.items[0].value, "unixio");
    assert_string_equal(vtpm_optstr_get(&o, "path"), "/run/tpm/sock");
    assert_true(vtpm_optstr_has(&o, "terminate"));
    assert_null(vtpm_optstr_get(&o, "terminate")); /* a flag has no value */
    assert_non_null(vtpm_optstr_find(&o, "terminate"));
    assert_false(vtpm_optstr_has(&o, "port"));
    assert_null(vtpm_optstr_get(&o, "port"));
    assert_null(vtpm_optstr_find(&o, "port"));
    /* keys match whole and case-sensitively */
    assert_false(vtpm_optstr_has(&o, "Type"));
    assert_false(vtpm_optstr_has(&o, "typ"));
    vtpm_optstr_free(&o);
}

static void test_value_keeps_later_equals_signs(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    parse_ok(&o, "backend-uri=dir:///var/lib/tpm,prefix=a=b");
    assert_string_equal(vtpm_optstr_get(&o, "backend-uri"), "dir:///var/lib/tpm");
    assert_string_equal(vtpm_optstr_get(&o, "prefix"), "a=b");
    vtpm_optstr_free(&o);
}

static void test_empty_items_are_skipped(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    /* swtpm accepts a leading, trailing or doubled comma */
    parse_ok(&o, ",type=tcp,,port=2321,");
    assert_int_equal(o.count, 2);
    assert_string_equal(vtpm_optstr_get(&o, "port"), "2321");
    vtpm_optstr_free(&o);

    parse_ok(&o, "");
    assert_int_equal(o.count, 0);
    assert_null(vtpm_optstr_find(&o, "type"));
    vtpm_optstr_free(&o);

    parse_ok(&o, ",,,");
    assert_int_equal(o.count, 0);
    vtpm_optstr_free(&o);
}

static void test_empty_key_is_rejected(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    assert_int_equal(vtpm_optstr_parse(&o, "type=tcp,=5"), -EINVAL);
    assert_string_equal(o.bad, "=5");
    vtpm_optstr_free(&o);

    assert_int_equal(vtpm_optstr_parse(&o, "="), -EINVAL);
    assert_string_equal(o.bad, "=");
    vtpm_optstr_free(&o);
}

static void test_empty_value_is_rejected(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    assert_int_equal(vtpm_optstr_parse(&o, "type=tcp,port="), -ENODATA);
    assert_string_equal(o.bad, "port");
    vtpm_optstr_free(&o);

    assert_int_equal(vtpm_optstr_parse(&o, "prefix=,level=2"), -ENODATA);
    assert_string_equal(o.bad, "prefix");
    vtpm_optstr_free(&o);
}

static void test_duplicate_key_is_rejected(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    assert_int_equal(vtpm_optstr_parse(&o, "port=1,port=2"), -EEXIST);
    assert_string_equal(o.bad, "port");
    vtpm_optstr_free(&o);

    /* a flag and a key=value of the same name are the same key */
    assert_int_equal(vtpm_optstr_parse(&o, "disconnect,disconnect=false"), -EEXIST);
    assert_string_equal(o.bad, "disconnect");
    vtpm_optstr_free(&o);
}

static void test_free_is_safe_twice(void **state)
{
    struct vtpm_optstr o;

    (void)state;
    parse_ok(&o, "a=b");
    vtpm_optstr_free(&o);
    vtpm_optstr_free(&o);
    assert_null(o.buf);
    assert_int_equal(o.count, 0);
}

static void test_input_is_not_modified(void **state)
{
    char in[] = "dir=/tmp/x,mode=0640";
    struct vtpm_optstr o;

    (void)state;
    parse_ok(&o, in);
    assert_string_equal(in, "dir=/tmp/x,mode=0640");
    vtpm_optstr_free(&o);
}

static void test_long_input(void **state)
{
    size_t path_len = 4095; /* PATH_MAX - 1: the longest path a user can give */
    char *s = malloc(VTPM_OPTSTR_MAX_LEN + 2);
    struct vtpm_optstr o;

    (void)state;
    assert_non_null(s);
    strcpy(s, "dir=");
    memset(s + 4, 'a', path_len);
    strcpy(s + 4 + path_len, ",mode=0600");
    parse_ok(&o, s);
    assert_int_equal(strlen(vtpm_optstr_get(&o, "dir")), path_len);
    vtpm_optstr_free(&o);

    /* exactly at the limit is fine, one more is not */
    memset(s, 'k', VTPM_OPTSTR_MAX_LEN);
    s[VTPM_OPTSTR_MAX_LEN] = '\0';
    parse_ok(&o, s);
    assert_int_equal(o.count, 1);
    vtpm_optstr_free(&o);

    s[VTPM_OPTSTR_MAX_LEN] = 'k';
    s[VTPM_OPTSTR_MAX_LEN + 1] = '\0';
    assert_int_equal(vtpm_optstr_parse(&o, s), -E2BIG);
    vtpm_optstr_free(&o);
    free(s);
}

static void test_too_many_items(void **state)
{
    char s[VTPM_OPTSTR_MAX_ITEMS * 8 + 16];
    size_t len = 0;
    struct vtpm_optstr o;

    (void)state;
    for (int i = 0; i < VTPM_OPTSTR_MAX_ITEMS; i++)
        len += (size_t)snprintf(s + len, sizeof(s) - len, "k%d,", i);
    parse_ok(&o, s);
    assert_int_equal(o.count, VTPM_OPTSTR_MAX_ITEMS);
    vtpm_optstr_free(&o);

    snprintf(s + len, sizeof(s) - len, "one-more");
    assert_int_equal(vtpm_optstr_parse(&o, s), -E2BIG);
    vtpm_optstr_free(&o);
}

static void test_get_uint(void **state)
{
    struct vtpm_optstr o;
    unsigned int v = 7;

    (void)state;
    parse_ok(&o, "a=0,b=20,c=4294967295,d=4294967296,e=-1,f=+5,g= 5,h=0x10,i=5a,j,k=007,"
                 "l=99999999999999999999999");
    assert_int_equal(vtpm_optstr_get_uint(&o, "a", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(vtpm_optstr_get_uint(&o, "b", &v), 0);
    assert_int_equal(v, 20);
    assert_int_equal(vtpm_optstr_get_uint(&o, "c", &v), 0);
    assert_true(v == UINT_MAX);
    assert_int_equal(vtpm_optstr_get_uint(&o, "d", &v), -ERANGE);
    assert_int_equal(vtpm_optstr_get_uint(&o, "e", &v), -EINVAL);
    assert_int_equal(vtpm_optstr_get_uint(&o, "f", &v), -EINVAL);
    assert_int_equal(vtpm_optstr_get_uint(&o, "g", &v), -EINVAL);
    assert_int_equal(vtpm_optstr_get_uint(&o, "h", &v), -EINVAL);
    assert_int_equal(vtpm_optstr_get_uint(&o, "i", &v), -EINVAL);
    assert_int_equal(vtpm_optstr_get_uint(&o, "j", &v), -EINVAL); /* flag, no value */
    assert_int_equal(vtpm_optstr_get_uint(&o, "k", &v), 0);
    assert_int_equal(v, 7); /* decimal, not octal */
    assert_int_equal(vtpm_optstr_get_uint(&o, "l", &v), -ERANGE);
    v = 3;
    assert_int_equal(vtpm_optstr_get_uint(&o, "absent", &v), -ENOENT);
    assert_int_equal(v, 3);
    vtpm_optstr_free(&o);
}

static void test_get_mode(void **state)
{
    struct vtpm_optstr o;
    unsigned int m = 1;

    (void)state;
    parse_ok(&o, "a=0600,b=777,c=0,d=07777,e=010000,f=0999,g=0o600,h=-600,i");
    assert_int_equal(vtpm_optstr_get_mode(&o, "a", &m), 0);
    assert_int_equal(m, 0600);
    assert_int_equal(vtpm_optstr_get_mode(&o, "b", &m), 0); /* swtpm reads 777 as octal too */
    assert_int_equal(m, 0777);
    assert_int_equal(vtpm_optstr_get_mode(&o, "c", &m), 0);
    assert_int_equal(m, 0);
    assert_int_equal(vtpm_optstr_get_mode(&o, "d", &m), 0);
    assert_int_equal(m, 07777);
    assert_int_equal(vtpm_optstr_get_mode(&o, "e", &m), -ERANGE);
    assert_int_equal(vtpm_optstr_get_mode(&o, "f", &m), -EINVAL);
    assert_int_equal(vtpm_optstr_get_mode(&o, "g", &m), -EINVAL);
    assert_int_equal(vtpm_optstr_get_mode(&o, "h", &m), -EINVAL);
    assert_int_equal(vtpm_optstr_get_mode(&o, "i", &m), -EINVAL);
    assert_int_equal(vtpm_optstr_get_mode(&o, "mode", &m), -ENOENT);
    vtpm_optstr_free(&o);
}

static void test_get_port(void **state)
{
    struct vtpm_optstr o;
    uint16_t p = 9;

    (void)state;
    parse_ok(&o, "a=1,b=65535,c=0,d=65536,e=abc,f=2321,g=-1,h");
    assert_int_equal(vtpm_optstr_get_port(&o, "a", &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(vtpm_optstr_get_port(&o, "b", &p), 0);
    assert_int_equal(p, 65535);
    p = 9;
    assert_int_equal(vtpm_optstr_get_port(&o, "c", &p), -ERANGE);
    assert_int_equal(vtpm_optstr_get_port(&o, "d", &p), -ERANGE);
    assert_int_equal(vtpm_optstr_get_port(&o, "e", &p), -EINVAL);
    assert_int_equal(p, 9); /* untouched on error */
    assert_int_equal(vtpm_optstr_get_port(&o, "f", &p), 0);
    assert_int_equal(p, 2321);
    assert_int_equal(vtpm_optstr_get_port(&o, "g", &p), -EINVAL);
    assert_int_equal(vtpm_optstr_get_port(&o, "h", &p), -EINVAL);
    assert_int_equal(vtpm_optstr_get_port(&o, "port", &p), -ENOENT);
    vtpm_optstr_free(&o);
}

static void test_get_fd(void **state)
{
    struct vtpm_optstr o;
    int fd = -1;

    (void)state;
    parse_ok(&o, "a=0,b=3,c=-1,d=2147483647,e=2147483648,f=x");
    assert_int_equal(vtpm_optstr_get_fd(&o, "a", &fd), 0);
    assert_int_equal(fd, 0);
    assert_int_equal(vtpm_optstr_get_fd(&o, "b", &fd), 0);
    assert_int_equal(fd, 3);
    assert_int_equal(vtpm_optstr_get_fd(&o, "c", &fd), -EINVAL);
    assert_int_equal(vtpm_optstr_get_fd(&o, "d", &fd), 0);
    assert_int_equal(fd, INT_MAX);
    assert_int_equal(vtpm_optstr_get_fd(&o, "e", &fd), -ERANGE);
    assert_int_equal(vtpm_optstr_get_fd(&o, "f", &fd), -EINVAL);
    assert_int_equal(vtpm_optstr_get_fd(&o, "fd", &fd), -ENOENT);
    vtpm_optstr_free(&o);
}

static void test_get_bool(void **state)
{
    struct vtpm_optstr o;
    bool b;

    (void)state;
    parse_ok(&o, "flag,t=true,one=1,f=false,zero=0,bad=yes,upper=TRUE,two=2");
    b = false;
    assert_int_equal(vtpm_optstr_get_bool(&o, "flag", &b), 0);
    assert_true(b);
    b = false;
    assert_int_equal(vtpm_optstr_get_bool(&o, "t", &b), 0);
    assert_true(b);
    b = false;
    assert_int_equal(vtpm_optstr_get_bool(&o, "one", &b), 0);
    assert_true(b);
    assert_int_equal(vtpm_optstr_get_bool(&o, "f", &b), 0);
    assert_false(b);
    b = true;
    assert_int_equal(vtpm_optstr_get_bool(&o, "zero", &b), 0);
    assert_false(b);
    b = true;
    assert_int_equal(vtpm_optstr_get_bool(&o, "bad", &b), -EINVAL);
    assert_int_equal(vtpm_optstr_get_bool(&o, "upper", &b), -EINVAL);
    assert_int_equal(vtpm_optstr_get_bool(&o, "two", &b), -EINVAL);
    assert_true(b); /* untouched on error */
    assert_int_equal(vtpm_optstr_get_bool(&o, "absent", &b), -ENOENT);
    vtpm_optstr_free(&o);
}

static void test_number(void **state)
{
    unsigned long v = 0;

    (void)state;
    assert_int_equal(vtpm_optstr_number("2321", 10, 1, 65535, &v), 0);
    assert_int_equal(v, 2321);
    assert_int_equal(vtpm_optstr_number("0", 10, 1, 65535, &v), -ERANGE);
    assert_int_equal(vtpm_optstr_number("", 10, 0, 10, &v), -EINVAL);
    assert_int_equal(vtpm_optstr_number("12 ", 10, 0, 100, &v), -EINVAL);
    assert_int_equal(vtpm_optstr_number("644", 8, 0, 07777, &v), 0);
    assert_int_equal(v, 0644);
    assert_int_equal(vtpm_optstr_number("8", 8, 0, 07777, &v), -EINVAL);
    assert_int_equal(vtpm_optstr_number("10", 16, 0, 100, &v), -EINVAL); /* base 8 or 10 only */
}

static void test_unknown_key(void **state)
{
    static const char *const allowed[] = {"type", "port", "fd", "disconnect", NULL};
    static const char *const none[] = {NULL};
    struct vtpm_optstr o;

    (void)state;
    parse_ok(&o, "type=tcp,port=1,disconnect");
    assert_null(vtpm_optstr_unknown_key(&o, allowed));
    vtpm_optstr_free(&o);

    parse_ok(&o, "type=tcp,path=/x,bindaddr=::1");
    assert_string_equal(vtpm_optstr_unknown_key(&o, allowed), "path"); /* the first one */
    vtpm_optstr_free(&o);

    parse_ok(&o, "");
    assert_null(vtpm_optstr_unknown_key(&o, none));
    vtpm_optstr_free(&o);

    parse_ok(&o, "x");
    assert_string_equal(vtpm_optstr_unknown_key(&o, none), "x");
    vtpm_optstr_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_values_and_flags),
        cmocka_unit_test(test_value_keeps_later_equals_signs),
        cmocka_unit_test(test_empty_items_are_skipped),
        cmocka_unit_test(test_empty_key_is_rejected),
        cmocka_unit_test(test_empty_value_is_rejected),
        cmocka_unit_test(test_duplicate_key_is_rejected),
        cmocka_unit_test(test_free_is_safe_twice),
        cmocka_unit_test(test_input_is_not_modified),
        cmocka_unit_test(test_long_input),
        cmocka_unit_test(test_too_many_items),
        cmocka_unit_test(test_get_uint),
        cmocka_unit_test(test_get_mode),
        cmocka_unit_test(test_get_port),
        cmocka_unit_test(test_get_fd),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_unknown_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
