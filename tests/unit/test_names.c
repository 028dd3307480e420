/* SPDX-License-Identifier: BSD-3-Clause */
/* Command and response-code names (src/proto/names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/names.h"

static void test_command_names(void **state)
{
    (void)state;
    uint32_t code;
    assert_string_equal(vtpm_tpm2_cc_name(0x144), "Startup");
    assert_string_equal(vtpm_tpm2_cc_name(0x182), "PCR_Extend");
    assert_string_equal(vtpm_tpm2_cc_name(0x11F), "NV_UndefineSpaceSpecial");
    assert_string_equal(vtpm_tpm2_cc_name(0x19A), "ECC_Decrypt");
    assert_null(vtpm_tpm2_cc_name(0x123));
    assert_string_equal(vtpm_tpm12_ord_name(0x99), "Startup");
    assert_string_equal(vtpm_tpm12_ord_name(0x4000000A), "TSC_PhysicalPresence");
    assert_true(vtpm_tpm_cmd_lookup("NV_Write", &code));
    assert_int_equal(code, 0x137);
    assert_true(vtpm_tpm_cmd_lookup("TPM2_CC_NV_Write", &code));
    assert_int_equal(code, 0x137);
    assert_true(vtpm_tpm_cmd_lookup("TPM_ORD_Startup", &code));
    assert_int_equal(code, 0x99);
    assert_true(vtpm_tpm_cmd_lookup("OIAP", &code)); /* only in the 1.2 table */
    assert_int_equal(code, 0x0A);
    assert_false(vtpm_tpm_cmd_lookup("TPM_ORD_PCR_Extend", &code));
    assert_false(vtpm_tpm_cmd_lookup("pcr_extend", &code));
}

static void expect_rc(enum vtpm_family family, uint32_t rc, const char *want)
{
    char out[96];
    vtpm_tpm_rc_describe(family, rc, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_response_codes(void **state)
{
    (void)state;
    expect_rc(VTPM_FAMILY_20, 0, "TPM_RC_SUCCESS");
    expect_rc(VTPM_FAMILY_12, 0, "TPM_SUCCESS");
    expect_rc(VTPM_FAMILY_20, 0x100, "TPM_RC_INITIALIZE");
    expect_rc(VTPM_FAMILY_20, 0x101, "TPM_RC_FAILURE");
    expect_rc(VTPM_FAMILY_20, 0x922, "TPM_RC_RETRY");
    expect_rc(VTPM_FAMILY_20, 0x90A, "TPM_RC_TESTING");
    expect_rc(VTPM_FAMILY_20, 0x921, "TPM_RC_LOCKOUT");
    /* format one: the parameter, session or handle it is about */
    expect_rc(VTPM_FAMILY_20, 0x1C4, "TPM_RC_VALUE, parameter 1");
    expect_rc(VTPM_FAMILY_20, 0x98E, "TPM_RC_AUTH_FAIL, session 1");
    expect_rc(VTPM_FAMILY_20, 0x28B, "TPM_RC_HANDLE, handle 2");
    expect_rc(VTPM_FAMILY_20, 0x084, "TPM_RC_VALUE");
    /* a 2.0 TPM answering a 1.2 command: format zero without bit 8 is a 1.2 code */
    expect_rc(VTPM_FAMILY_20, 0x1E, "TPM_BADTAG");
    expect_rc(VTPM_FAMILY_12, 0x26, "TPM_INVALID_POSTINIT");
    expect_rc(VTPM_FAMILY_12, 0x800, "TPM_RETRY");
    expect_rc(VTPM_FAMILY_12, 0x3D, "TPM_BAD_LOCALITY");
    expect_rc(VTPM_FAMILY_20, 0x512, "vendor-defined code 0x012");
    expect_rc(VTPM_FAMILY_12, 0x777, "unknown response code");
    /* a short buffer is cut, never overrun */
    char small[8];
    vtpm_tpm_rc_describe(VTPM_FAMILY_20, 0x100, small, sizeof(small));
    assert_string_equal(small, "TPM_RC_");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_names),
        cmocka_unit_test(test_response_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
