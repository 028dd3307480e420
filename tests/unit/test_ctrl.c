/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ctrl.h"
#include "util/buf.h"

static enum vtpm_ctrl_size size_of(const uint8_t *b, size_t have, size_t *needed)
{
    return vtpm_ctrl_request_size(b, have, needed);
}

static void test_code_needs_four_bytes(void **state)
{
    uint8_t b[4] = { 0, 0, 0, VTPM_CMD_GET_CAPABILITY };
    size_t needed;

    (void)state;
    for (size_t have = 0; have < 4; have++)
        assert_int_equal(size_of(b, have, &needed), VTPM_CTRL_NEED_MORE);
    assert_int_equal(size_of(b, 4, &needed), VTPM_CTRL_COMPLETE);
    assert_int_equal(needed, 4);
}

static void test_fixed_bodies(void **state)
{
    static const struct {
        uint32_t cmd;
        size_t total;
    } cases[] = {
        { VTPM_CMD_INIT, 8 },           { VTPM_CMD_SHUTDOWN, 4 },
        { VTPM_CMD_SET_LOCALITY, 5 },   { VTPM_CMD_RESET_TPMESTABLISHED, 5 },
        { VTPM_CMD_GET_STATEBLOB, 16 }, { VTPM_CMD_SET_BUFFERSIZE, 8 },
        { VTPM_CMD_GET_INFO, 20 },      { VTPM_CMD_LOCK_STORAGE, 8 },
        { VTPM_CMD_STOP, 4 },           { 0x99, 4 }, /* unknown: the code alone */
    };
    uint8_t b[32] = { 0 };
    size_t needed;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_be32(b, cases[i].cmd);
        if (cases[i].total > 4)
            assert_int_equal(size_of(b, cases[i].total - 1, &needed), VTPM_CTRL_NEED_MORE);
        assert_int_equal(size_of(b, cases[i].total, &needed), VTPM_CTRL_COMPLETE);
        assert_int_equal(needed, cases[i].total);
    }
}

static void test_set_stateblob_includes_data(void **state)
{
    uint8_t b[16 + 5];
    size_t needed;

    (void)state;
    put_be32(b, VTPM_CMD_SET_STATEBLOB);
    put_be32(b + 4, 0);
    put_be32(b + 8, 1);
    put_be32(b + 12, 5);
    assert_int_equal(size_of(b, 16, &needed), VTPM_CTRL_NEED_MORE);
    assert_int_equal(needed, 21);
    assert_int_equal(size_of(b, 21, &needed), VTPM_CTRL_COMPLETE);
}

static void test_oversized_requests_refused(void **state)
{
    uint8_t b[16];
    size_t needed;

    (void)state;
    put_be32(b, VTPM_CMD_SET_STATEBLOB);
    put_be32(b + 12, 0xffffffff); /* swtpm 0.7.1 would try to malloc 4 GiB */
    assert_int_equal(size_of(b, 16, &needed), VTPM_CTRL_TOO_LARGE);
    put_be32(b + 12, VTPM_CTRL_MAX_BLOB);
    assert_int_equal(size_of(b, 16, &needed), VTPM_CTRL_NEED_MORE);

    put_be32(b, VTPM_CMD_HASH_DATA);
    put_be32(b + 4, VTPM_CTRL_MAX_HASH_DATA + 1);
    assert_int_equal(size_of(b, 8, &needed), VTPM_CTRL_TOO_LARGE);
    put_be32(b + 4, 3);
    assert_int_equal(size_of(b, 8, &needed), VTPM_CTRL_NEED_MORE);
    assert_int_equal(needed, 11);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vtpm_ctrl_cmd_name(VTPM_CMD_SET_DATAFD), "CMD_SET_DATAFD");
    assert_string_equal(vtpm_ctrl_cmd_name(VTPM_CMD_LOCK_STORAGE), "CMD_LOCK_STORAGE");
    assert_null(vtpm_ctrl_cmd_name(0));
    assert_null(vtpm_ctrl_cmd_name(0x14));
    assert_null(vtpm_ctrl_cmd_name(0xffffffff));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_needs_four_bytes),
        cmocka_unit_test(test_fixed_bodies),
        cmocka_unit_test(test_set_stateblob_includes_data),
        cmocka_unit_test(test_oversized_requests_refused),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
