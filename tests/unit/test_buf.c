/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/buf.h"

static void test_be_helpers(void **state)
{
    uint8_t b[8];

    (void)state;
    put_be16(b, 0x1234);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(get_be16(b), 0x1234);
    put_be32(b, 0xdeadbeef);
    assert_int_equal(b[0], 0xde);
    assert_int_equal(b[3], 0xef);
    assert_int_equal(get_be32(b), 0xdeadbeef);
    put_be64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[7], 8);
    assert_true(get_be64(b) == 0x0102030405060708ull);
}

static void test_reader_reads_in_order(void **state)
{
    const uint8_t in[] = { 0xaa, 0x01, 0x02, 0x00, 0x00, 0x00, 0x05, 'x', 'y' };
    struct vtpm_reader r;

    (void)state;
    vtpm_reader_init(&r, in, sizeof(in));
    assert_int_equal(vtpm_read_u8(&r), 0xaa);
    assert_int_equal(vtpm_read_be16(&r), 0x0102);
    assert_int_equal(vtpm_read_be32(&r), 5);
    assert_int_equal(vtpm_reader_left(&r), 2);
    const uint8_t *p = vtpm_read_bytes(&r, 2);
    assert_non_null(p);
    assert_memory_equal(p, "xy", 2);
    assert_false(r.err);
}

static void test_reader_overrun_is_sticky(void **state)
{
    const uint8_t in[] = { 1, 2, 3 };
    struct vtpm_reader r;

    (void)state;
    vtpm_reader_init(&r, in, sizeof(in));
    assert_int_equal(vtpm_read_be32(&r), 0);
    assert_true(r.err);
    /* Once failed, even a read that would fit yields nothing. */
    assert_int_equal(vtpm_read_u8(&r), 0);
    assert_null(vtpm_read_bytes(&r, 1));
    assert_int_equal(r.pos, 0);
}

static void test_reader_huge_length_does_not_wrap(void **state)
{
    const uint8_t in[4] = { 0 };
    struct vtpm_reader r;

    (void)state;
    vtpm_reader_init(&r, in, sizeof(in));
    vtpm_read_u8(&r);
    assert_null(vtpm_read_bytes(&r, SIZE_MAX));
    assert_true(r.err);
}

static void test_writer_overflow_is_sticky(void **state)
{
    uint8_t out[5];
    struct vtpm_writer w;

    (void)state;
    vtpm_writer_init(&w, out, sizeof(out));
    vtpm_write_be32(&w, 0x01020304);
    assert_false(w.err);
    vtpm_write_be16(&w, 0xffff);
    assert_true(w.err);
    assert_int_equal(w.pos, 4);
    vtpm_write_u8(&w, 9); /* would fit, but the writer has failed */
    assert_int_equal(w.pos, 4);
    assert_int_equal(out[0], 1);
}

static void test_writer_writes(void **state)
{
    uint8_t out[15];
    struct vtpm_writer w;

    (void)state;
    vtpm_writer_init(&w, out, sizeof(out));
    vtpm_write_u8(&w, 7);
    vtpm_write_be16(&w, 0x8001);
    vtpm_write_be64(&w, 1);
    vtpm_write_bytes(&w, "abcd", 4);
    assert_false(w.err);
    assert_int_equal(w.pos, 15);
    assert_int_equal(get_be16(out + 1), 0x8001);
    assert_true(get_be64(out + 3) == 1);
    assert_memory_equal(out + 11, "abcd", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_be_helpers),
        cmocka_unit_test(test_reader_reads_in_order),
        cmocka_unit_test(test_reader_overrun_is_sticky),
        cmocka_unit_test(test_reader_huge_length_does_not_wrap),
        cmocka_unit_test(test_writer_overflow_is_sticky),
        cmocka_unit_test(test_writer_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
