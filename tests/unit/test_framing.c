/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/framing.h"
#include "util/buf.h"

static struct vtpm_framer f;

static int setup20(void **state)
{
    (void)state;
    return vtpm_framer_init(&f, VTPM_FAMILY_20, 4096);
}

static int setup12(void **state)
{
    (void)state;
    return vtpm_framer_init(&f, VTPM_FAMILY_12, 4096);
}

static int teardown(void **state)
{
    (void)state;
    vtpm_framer_free(&f);
    return 0;
}

static enum vtpm_frame_status feed(const uint8_t *p, size_t n)
{
    size_t room;
    uint8_t *space = vtpm_framer_space(&f, &room);

    assert_true(n <= room);
    memcpy(space, p, n);
    return vtpm_framer_commit(&f, n);
}

/* TPM2_GetRandom(16) */
static const uint8_t getrandom[] = { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 0x10 };

static void test_whole_command_in_one_read(void **state)
{
    struct vtpm_frame fr;

    (void)state;
    assert_int_equal(feed(getrandom, sizeof(getrandom)), VTPM_FRAME_COMPLETE);
    vtpm_framer_command(&f, &fr);
    assert_int_equal(fr.len, 12);
    assert_false(fr.prefixed);
    assert_memory_equal(fr.cmd, getrandom, 12);
    vtpm_framer_consume(&f);
    assert_false(vtpm_framer_partial(&f));
}

static void test_byte_by_byte(void **state)
{
    (void)state;
    /* However the sender splits it, the command is complete only at its last byte. */
    for (size_t i = 0; i < sizeof(getrandom) - 1; i++) {
        assert_int_equal(feed(getrandom + i, 1), VTPM_FRAME_NEED_MORE);
        assert_true(vtpm_framer_partial(&f));
    }
    assert_int_equal(feed(getrandom + 11, 1), VTPM_FRAME_COMPLETE);
}

static void test_two_commands_back_to_back(void **state)
{
    uint8_t two[24];
    struct vtpm_frame fr;

    (void)state;
    memcpy(two, getrandom, 12);
    memcpy(two + 12, getrandom, 12);
    two[23] = 0x20;
    assert_int_equal(feed(two, 20), VTPM_FRAME_COMPLETE);
    vtpm_framer_consume(&f);
    assert_int_equal(vtpm_framer_status(&f), VTPM_FRAME_NEED_MORE);
    assert_int_equal(feed(two + 20, 4), VTPM_FRAME_COMPLETE);
    vtpm_framer_command(&f, &fr);
    assert_int_equal(fr.cmd[11], 0x20);
}

static void test_size_below_header(void **state)
{
    uint8_t bad[10];

    (void)state;
    memcpy(bad, getrandom, 10);
    put_be32(bad + 2, 9);
    assert_int_equal(feed(bad, 10), VTPM_FRAME_BAD_SIZE);
    assert_int_equal(f.bad_size, 9);
    vtpm_framer_reset(&f);
    assert_int_equal(feed(getrandom, 12), VTPM_FRAME_COMPLETE);
}

static void test_size_above_buffer(void **state)
{
    uint8_t bad[10];

    (void)state;
    memcpy(bad, getrandom, 10);
    put_be32(bad + 2, 4097);
    assert_int_equal(feed(bad, 10), VTPM_FRAME_BAD_SIZE);
    vtpm_framer_reset(&f);
    put_be32(bad + 2, 4096); /* exactly the buffer: accepted, waits for the rest */
    assert_int_equal(feed(bad, 10), VTPM_FRAME_NEED_MORE);
}

static void test_tcg_prefix(void **state)
{
    uint8_t pre[9 + 12];
    struct vtpm_frame fr;

    (void)state;
    put_be32(pre, VTPM_TCG_SEND_COMMAND);
    pre[4] = 3;
    put_be32(pre + 5, 12);
    memcpy(pre + 9, getrandom, 12);
    assert_int_equal(feed(pre, 15), VTPM_FRAME_NEED_MORE);
    assert_int_equal(feed(pre + 15, 6), VTPM_FRAME_COMPLETE);
    vtpm_framer_command(&f, &fr);
    assert_true(fr.prefixed);
    assert_int_equal(fr.locality, 3);
    assert_int_equal(fr.len, 12);
    assert_memory_equal(fr.cmd, getrandom, 12);
}

static void test_tcg_prefix_size_mismatch(void **state)
{
    uint8_t pre[9 + 12];

    (void)state;
    put_be32(pre, VTPM_TCG_SEND_COMMAND);
    pre[4] = 0;
    put_be32(pre + 5, 13);
    memcpy(pre + 9, getrandom, 12);
    assert_int_equal(feed(pre, sizeof(pre)), VTPM_FRAME_BAD_SIZE);
}

static void test_tpm12_has_no_prefix(void **state)
{
    /* TPM_Startup(ST_CLEAR), then a frame starting 00 00 00 08: no prefix on 1.2 */
    const uint8_t startup[] = { 0x00, 0xC1, 0, 0, 0, 0x0C, 0, 0, 0, 0x99, 0, 0x01 };
    const uint8_t odd[] = { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0 };

    (void)state;
    assert_int_equal(feed(startup, sizeof(startup)), VTPM_FRAME_COMPLETE);
    vtpm_framer_consume(&f);
    assert_int_equal(feed(odd, sizeof(odd)), VTPM_FRAME_BAD_SIZE); /* size field is 8 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_command_in_one_read, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_two_commands_back_to_back, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_size_below_header, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_size_above_buffer, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_tcg_prefix, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_tcg_prefix_size_mismatch, setup20, teardown),
        cmocka_unit_test_setup_teardown(test_tpm12_has_no_prefix, setup12, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
