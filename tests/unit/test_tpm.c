/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/tpm.h"
#include "util/buf.h"

static void test_hdr_parse(void **state)
{
    const uint8_t cmd[] = { 0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0 };
    struct vtpm_tpm_hdr h;

    (void)state;
    assert_int_equal(vtpm_tpm_hdr_parse(cmd, sizeof(cmd), &h), 0);
    assert_int_equal(h.tag, 0x8001);
    assert_int_equal(h.size, 12);
    assert_int_equal(h.code, VTPM_TPM2_CC_STARTUP);
    assert_true(vtpm_tpm_hdr_parse(cmd, 9, &h) < 0);
}

static void test_error_response_tags(void **state)
{
    uint8_t r[10];

    (void)state;
    /* swtpm answers with these exact bytes before CMD_INIT */
    vtpm_tpm_error_response(r, VTPM_FAMILY_20, VTPM_TPM2_RC_FAILURE);
    const uint8_t want20[] = { 0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01 };
    assert_memory_equal(r, want20, 10);
    vtpm_tpm_error_response(r, VTPM_FAMILY_12, VTPM_TPM12_FAIL);
    const uint8_t want12[] = { 0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09 };
    assert_memory_equal(r, want12, 10);
    assert_int_equal(vtpm_tpm_response_code(r, 10), VTPM_TPM12_FAIL);
    assert_int_equal(vtpm_tpm_response_code(r, 9), UINT32_MAX);
}

static void test_startup_commands(void **state)
{
    uint8_t c[12];

    (void)state;
    /* The TPM_Startup(ST_CLEAR) bytes from the TrouSerS seed report */
    const uint8_t tpm12[] = { 0x00, 0xC1, 0, 0, 0, 0x0C, 0, 0, 0, 0x99, 0, 0x01 };
    assert_int_equal(vtpm_tpm_startup_cmd(c, VTPM_FAMILY_12, VTPM_TPM12_ST_CLEAR), 12);
    assert_memory_equal(c, tpm12, 12);

    assert_int_equal(vtpm_tpm_startup_cmd(c, VTPM_FAMILY_20, VTPM_TPM12_ST_STATE), 12);
    assert_int_equal(get_be16(c), VTPM_TPM2_ST_NO_SESSIONS);
    assert_int_equal(get_be32(c + 6), VTPM_TPM2_CC_STARTUP);
    assert_int_equal(get_be16(c + 10), VTPM_TPM2_SU_STATE);
    assert_int_equal(vtpm_tpm_startup_cmd(c, VTPM_FAMILY_20, VTPM_TPM12_ST_DEACTIVATED), 0);
}

static void test_shutdown_and_size_rc(void **state)
{
    uint8_t c[12];

    (void)state;
    assert_int_equal(vtpm_tpm2_shutdown_cmd(c, VTPM_TPM2_SU_CLEAR), 12);
    assert_int_equal(get_be32(c + 6), VTPM_TPM2_CC_SHUTDOWN);
    assert_int_equal(get_be16(c + 10), 0);
    assert_int_equal(vtpm_tpm_size_error_rc(VTPM_FAMILY_20), 0x142);
    assert_int_equal(vtpm_tpm_size_error_rc(VTPM_FAMILY_12), 0x19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_parse),
        cmocka_unit_test(test_error_response_tags),
        cmocka_unit_test(test_startup_commands),
        cmocka_unit_test(test_shutdown_and_size_rc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
