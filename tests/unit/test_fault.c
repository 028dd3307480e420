/* SPDX-License-Identifier: BSD-3-Clause */
/* Fault specs: parsing, canonical form, scenarios and trigger evaluation (src/fault/fault.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vtpm/fault.h"

static struct vtpm_fault parse_ok(const char *spec)
{
    struct vtpm_fault f;
    char err[200];
    int rc = vtpm_fault_parse(spec, &f, err, sizeof(err));
    if (rc != 0)
        fail_msg("'%s' refused: %s", spec, err);
    return f;
}

static void expect_refused(const char *spec, const char *needle)
{
    struct vtpm_fault f;
    char err[200];
    assert_int_equal(vtpm_fault_parse(spec, &f, err, sizeof(err)), -EINVAL);
    if (!strstr(err, needle))
        fail_msg("'%s': message '%s' lacks '%s'", spec, err, needle);
}

static struct vtpm_fault_cmd cmd_of(uint32_t ordinal, uint8_t locality)
{
    return (struct vtpm_fault_cmd){.has_ordinal = true, .ordinal = ordinal, .locality = locality};
}

static void test_parse_effects_and_defaults(void **state)
{
    (void)state;
    struct vtpm_fault f = parse_ok("stall");
    assert_int_equal(f.effect, VTPM_FAULT_STALL);
    assert_int_equal(f.value, 10); /* a TPM header */
    assert_int_equal(f.nth, 1);
    assert_int_equal(f.count, 0);
    assert_int_equal(f.locality, VTPM_FAULT_ANY_LOCALITY);
    assert_false(f.has_cmd);
    assert_int_equal(vtpm_fault_effect_level(f.effect), VTPM_FAULT_LEVEL_REGISTER);

    f = parse_ok("stall,after=3");
    assert_int_equal(f.value, 3);
    f = parse_ok("stall=12"); /* the parameter inline */
    assert_int_equal(f.value, 12);
    f = parse_ok("delay=40");
    assert_int_equal(f.value, 40);
    f = parse_ok("delay,ms=2500");
    assert_int_equal(f.effect, VTPM_FAULT_DELAY);
    assert_int_equal(f.value, 2500);
    assert_int_equal(vtpm_fault_effect_level(f.effect), VTPM_FAULT_LEVEL_ENGINE);
    f = parse_ok("truncate");
    assert_int_equal(f.value, 6);
    f = parse_ok("oversize,extra=3");
    assert_int_equal(f.value, 3);
    f = parse_ok("corrupt");
    assert_int_equal(f.value, UINT32_MAX); /* the last byte */
    assert_int_equal(f.xor_mask, 0x01);
    f = parse_ok("corrupt,offset=4,xor=0x80");
    assert_int_equal(f.value, 4);
    assert_int_equal(f.xor_mask, 0x80);

    /* Every effect's name parses back to it. */
    for (unsigned e = 1; e < VTPM_FAULT_EFFECT_COUNT; e++) {
        const char *name = vtpm_fault_effect_name(e);
        if (e == VTPM_FAULT_RC)
            continue;
        f = parse_ok(name);
        assert_int_equal(f.effect, e);
        assert_true(strlen(vtpm_fault_effect_help(e)) > 10);
    }
}

static void test_parse_rc(void **state)
{
    (void)state;
    struct vtpm_fault f = parse_ok("rc=retry");
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_2_0), 0x922);
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_1_2), 0x800);
    f = parse_ok("rc=testing");
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_2_0), 0x90A);
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_1_2), 0x802);
    f = parse_ok("rc=failure");
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_2_0), 0x101);
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_1_2), 0x1C);
    f = parse_ok("rc=0x26");
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_1_2), 0x26);
    f = parse_ok("rc=38");
    assert_int_equal(vtpm_fault_rc_code(&f, VTPM_TPM_VERSION_2_0), 38);
}

static void test_parse_triggers(void **state)
{
    (void)state;
    struct vtpm_fault f = parse_ok("hang,cmd=PCR_Extend,locality=3,nth=4");
    assert_true(f.has_cmd);
    assert_int_equal(f.cmd, 0x182);
    assert_int_equal(f.locality, 3);
    assert_int_equal(f.nth, 4);
    assert_int_equal(f.count, 1); /* nth= alone: that one command */

    f = parse_ok("hang,cmd=0x17b,nth=2,count=0");
    assert_int_equal(f.cmd, 0x17B);
    assert_int_equal(f.count, 0);
    f = parse_ok("hang,cmd=TPM_ORD_Extend");
    assert_int_equal(f.cmd, 0x14);
    f = parse_ok("hang,cmd=TPM2_GetRandom");
    assert_int_equal(f.cmd, 0x17B);
    f = parse_ok("close,probability=25%,seed=7");
    assert_int_equal(f.probability_ppm, 250000);
    assert_int_equal(f.seed, 7);
    f = parse_ok("close,probability=0.5");
    assert_int_equal(f.probability_ppm, 500000);
    f = parse_ok("close,probability=1");
    assert_int_equal(f.probability_ppm, 1000000);
}

static void test_parse_refusals_name_the_item(void **state)
{
    (void)state;
    expect_refused("", "starts with its effect");
    expect_refused("after=3", "unknown fault effect 'after'");
    expect_refused("hang=3", "'hang' takes no value");
    expect_refused("stall=4,after=5", "the after is given twice");
    expect_refused("delay=soon", "'delay=soon' is not a number");
    expect_refused("explode", "unknown fault effect 'explode'");
    expect_refused("stall,ms=3", "'ms' is not an option of the 'stall' fault");
    expect_refused("hang,rc=retry", "'rc' is not an option");
    expect_refused("rc=retry,rc=failure", "given twice");
    expect_refused("rc", "'rc' needs the code");
    expect_refused("rc=maybe", "'rc=maybe'");
    expect_refused("rc=0", "'rc=0'");
    expect_refused("stall,after=-1", "'after=-1' is not a number");
    expect_refused("stall,after=99999999999", "out of range");
    expect_refused("hang,cmd=Frobnicate", "'cmd=Frobnicate'");
    expect_refused("hang,locality=5", "'locality=5' is out of range");
    expect_refused("hang,nth=0", "nth=0");
    expect_refused("hang,probability=2", "'probability=2'");
    expect_refused("hang,probability=-0.5", "'probability=-0.5'");
    expect_refused("hang,probability=nan", "'probability=nan'");
    expect_refused("hang,seed=x", "'seed=x'");
    expect_refused("hang,nth=2,nth=3", "given twice");
    expect_refused("corrupt,xor=0", "xor=0");
    expect_refused("corrupt,xor=0x100", "out of range");
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const char *const specs[] = {
        "stall",
        "stall,after=12,locality=0",
        "all-ones,nth=3",
        "rc=retry,cmd=PCR_Extend,nth=3,count=2",
        "rc=0x26",
        "delay,ms=250,probability=0.25,seed=99",
        "corrupt,offset=7,xor=0xff,nth=2,count=0",
        "corrupt",
        "hang,cmd=TPM_ORD_Extend,locality=4",
        "truncate,len=0",
    };
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct vtpm_fault a = parse_ok(specs[i]);
        char text[256];
        assert_true(vtpm_fault_format(&a, text, sizeof(text)) < (int)sizeof(text));
        struct vtpm_fault b = parse_ok(text);
        if (memcmp(&a, &b, sizeof(a)) != 0)
            fail_msg("'%s' formatted as '%s' does not parse back to the same fault", specs[i],
                     text);
    }
    struct vtpm_fault f = parse_ok("rc=retry,cmd=PCR_Extend,nth=3");
    char text[256];
    vtpm_fault_format(&f, text, sizeof(text));
    assert_string_equal(text, "rc=retry,cmd=0x182,nth=3");
    /* A short buffer is truncated, never overrun, and the full length is reported. */
    char small[5];
    assert_int_equal(vtpm_fault_format(&f, small, sizeof(small)), (int)strlen(text));
    assert_string_equal(small, "rc=r");
}

static void test_scenarios(void **state)
{
    (void)state;
    static const char *const names[] = {"esxi-stall-after-header", "sts-all-ones", "timer-expired",
                                        "lost-startup"};
    for (size_t i = 0; i < 4; i++) {
        const struct vtpm_fault_scenario *sc = vtpm_fault_scenario_find(names[i]);
        assert_non_null(sc);
        assert_non_null(sc->summary);
        assert_non_null(sc->recovery);
        /* Each level's spec parses and belongs to that level. */
        struct vtpm_fault f;
        char err[200];
        if (sc->register_spec) {
            assert_int_equal(vtpm_fault_parse(sc->register_spec, &f, err, sizeof(err)), 0);
            assert_int_equal(vtpm_fault_effect_level(f.effect), VTPM_FAULT_LEVEL_REGISTER);
        }
        assert_non_null(sc->engine_spec);
        assert_int_equal(vtpm_fault_parse(sc->engine_spec, &f, err, sizeof(err)), 0);
        assert_int_equal(vtpm_fault_effect_level(f.effect), VTPM_FAULT_LEVEL_ENGINE);
    }
    assert_null(vtpm_fault_scenario_find("esxi"));

    struct vtpm_fault_set s;
    char err[200];
    vtpm_fault_set_init(&s);
    assert_int_equal(vtpm_fault_set_add_spec(&s, "scenario=esxi-stall-after-header",
                                             VTPM_FAULT_LEVEL_REGISTER, err, sizeof(err)),
                     1);
    assert_int_equal(s.faults[0].effect, VTPM_FAULT_STALL);
    assert_int_equal(s.faults[0].value, 10);
    assert_int_equal(vtpm_fault_set_add_spec(&s, "scenario=esxi-stall-after-header",
                                             VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
                     2);
    assert_int_equal(s.faults[1].effect, VTPM_FAULT_HANG);
    assert_int_equal(vtpm_fault_set_add_spec(&s, "scenario=lost-startup", VTPM_FAULT_LEVEL_REGISTER,
                                             err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "no register-level fault"));
    assert_int_equal(
        vtpm_fault_set_add_spec(&s, "scenario=nope", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
        -ENOENT);
    assert_non_null(strstr(err, "unknown scenario 'nope'"));
    /* A fault of the other level is refused where it cannot act. */
    assert_int_equal(
        vtpm_fault_set_add_spec(&s, "all-ones", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "'all-ones' is a register-level fault"));
    assert_int_equal(s.count, 2);
}

static void test_set_ids_and_clear(void **state)
{
    (void)state;
    struct vtpm_fault_set s;
    char err[200];
    vtpm_fault_set_init(&s);
    for (unsigned i = 0; i < VTPM_FAULT_SET_MAX; i++)
        assert_int_equal(
            vtpm_fault_set_add_spec(&s, "hang", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
            (long)i + 1);
    assert_int_equal(vtpm_fault_set_add_spec(&s, "hang", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
                     -ENOSPC);
    assert_non_null(strstr(err, "at most 16"));
    assert_int_equal(vtpm_fault_set_clear(&s, 3), 0);
    assert_int_equal(vtpm_fault_set_clear(&s, 3), -ENOENT);
    assert_int_equal(s.count, VTPM_FAULT_SET_MAX - 1);
    assert_int_equal(s.ids[2], 4); /* ids stay stable */
    /* ids are never reused, even after a clear-all */
    assert_int_equal(vtpm_fault_set_clear(&s, 0), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(
        vtpm_fault_set_add_spec(&s, "close", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)),
        VTPM_FAULT_SET_MAX + 1);
}

static void test_check_nth_count_filters(void **state)
{
    (void)state;
    struct vtpm_fault_set s;
    char err[200];
    vtpm_fault_set_init(&s);
    /* The 3rd PCR_Extend at any locality, and only that one. */
    assert_true(vtpm_fault_set_add_spec(&s, "rc=retry,cmd=PCR_Extend,nth=3",
                                        VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err)) > 0);
    struct vtpm_fault_cmd extend = cmd_of(0x182, 0), other = cmd_of(0x17B, 0);
    uint32_t engine = VTPM_FAULT_ENGINE_EFFECTS;
    int fired_at = 0;
    for (int i = 1; i <= 8; i++) {
        assert_null(vtpm_fault_set_check(&s, engine, &other));
        if (vtpm_fault_set_check(&s, engine, &extend)) {
            assert_int_equal(fired_at, 0);
            fired_at = i;
        }
    }
    assert_int_equal(fired_at, 3);
    assert_int_equal(s.faults[0].matched, 8);
    assert_int_equal(s.faults[0].fired, 1);

    /* A mask without the effect neither fires nor counts. */
    vtpm_fault_set_clear(&s, 0);
    vtpm_fault_set_add_spec(&s, "delay,ms=5,nth=2,count=2,locality=3", VTPM_FAULT_LEVEL_ENGINE, err,
                            sizeof(err));
    struct vtpm_fault_cmd l3 = cmd_of(0x17B, 3), l0 = cmd_of(0x17B, 0);
    assert_null(vtpm_fault_set_check(&s, VTPM_FAULT_BIT(VTPM_FAULT_HANG), &l3));
    assert_int_equal(s.faults[0].matched, 0);
    assert_null(vtpm_fault_set_check(&s, engine, &l0));
    assert_null(vtpm_fault_set_check(&s, engine, &l3));     /* 1st at locality 3 */
    assert_non_null(vtpm_fault_set_check(&s, engine, &l3)); /* 2nd */
    assert_non_null(vtpm_fault_set_check(&s, engine, &l3)); /* 3rd: count=2 */
    assert_null(vtpm_fault_set_check(&s, engine, &l3));     /* exhausted */

    /* cmd= never matches a command whose header has not arrived yet. */
    vtpm_fault_set_clear(&s, 0);
    vtpm_fault_set_add_spec(&s, "stall,cmd=Startup", VTPM_FAULT_LEVEL_REGISTER, err, sizeof(err));
    struct vtpm_fault_cmd early = {.has_ordinal = false, .locality = 0};
    assert_null(vtpm_fault_set_check(&s, VTPM_FAULT_REGISTER_EFFECTS, &early));
    struct vtpm_fault_cmd startup = cmd_of(0x144, 0);
    assert_non_null(vtpm_fault_set_check(&s, VTPM_FAULT_REGISTER_EFFECTS, &startup));
}

static void test_check_counts_every_matching_fault(void **state)
{
    (void)state;
    struct vtpm_fault_set s;
    char err[200];
    vtpm_fault_set_init(&s);
    vtpm_fault_set_add_spec(&s, "hang", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err));
    vtpm_fault_set_add_spec(&s, "close,nth=2", VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err));
    struct vtpm_fault_cmd c = cmd_of(0x17B, 0);
    struct vtpm_fault *f = vtpm_fault_set_check(&s, VTPM_FAULT_ENGINE_EFFECTS, &c);
    assert_int_equal(f->effect, VTPM_FAULT_HANG);
    f = vtpm_fault_set_check(&s, VTPM_FAULT_ENGINE_EFFECTS, &c);
    assert_int_equal(f->effect, VTPM_FAULT_HANG);
    /* close saw both commands but did not act on the second: it is not marked as fired */
    assert_int_equal(s.faults[1].matched, 2);
    assert_int_equal(s.faults[1].fired, 0);
    vtpm_fault_set_clear(&s, 1);
    f = vtpm_fault_set_check(&s, VTPM_FAULT_ENGINE_EFFECTS, &c);
    assert_int_equal(f->effect, VTPM_FAULT_CLOSE);
}

static unsigned count_fires(const char *spec, unsigned n)
{
    struct vtpm_fault_set s;
    char err[200];
    struct vtpm_fault_cmd c = cmd_of(0x17B, 0);
    unsigned fired = 0;
    vtpm_fault_set_init(&s);
    vtpm_fault_set_add_spec(&s, spec, VTPM_FAULT_LEVEL_ENGINE, err, sizeof(err));
    for (unsigned i = 0; i < n; i++)
        fired += vtpm_fault_set_check(&s, VTPM_FAULT_ENGINE_EFFECTS, &c) != NULL;
    return fired;
}

static void test_check_probability_is_seeded(void **state)
{
    (void)state;
    unsigned a = count_fires("hang,probability=0.25,seed=42", 10000);
    unsigned b = count_fires("hang,probability=0.25,seed=42", 10000);
    unsigned c = count_fires("hang,probability=0.25,seed=43", 10000);
    assert_int_equal(a, b); /* reproducible from the seed */
    assert_in_range(a, 2300, 2700);
    assert_in_range(c, 2300, 2700);
    assert_int_equal(count_fires("hang,probability=0", 1000), 0);
    assert_int_equal(count_fires("hang,probability=1", 1000), 1000);
    /* The sequence differs between seeds (probability is not a counter in disguise). */
    struct vtpm_fault_set s1, s2;
    char err[200];
    struct vtpm_fault_cmd cmd = cmd_of(1, 0);
    vtpm_fault_set_init(&s1);
    vtpm_fault_set_init(&s2);
    vtpm_fault_set_add_spec(&s1, "hang,probability=0.5,seed=1", VTPM_FAULT_LEVEL_ENGINE, err, 200);
    vtpm_fault_set_add_spec(&s2, "hang,probability=0.5,seed=2", VTPM_FAULT_LEVEL_ENGINE, err, 200);
    unsigned differ = 0;
    for (int i = 0; i < 64; i++)
        differ += (vtpm_fault_set_check(&s1, ~0u, &cmd) != NULL) !=
                  (vtpm_fault_set_check(&s2, ~0u, &cmd) != NULL);
    assert_true(differ > 8);
}

static void test_always(void **state)
{
    (void)state;
    struct vtpm_fault_set s;
    char err[200];
    vtpm_fault_set_init(&s);
    vtpm_fault_set_add_spec(&s, "all-ones,nth=2", VTPM_FAULT_LEVEL_REGISTER, err, sizeof(err));
    assert_null(vtpm_fault_set_always(&s, VTPM_FAULT_REGISTER_EFFECTS));
    vtpm_fault_set_add_spec(&s, "burst-zero", VTPM_FAULT_LEVEL_REGISTER, err, sizeof(err));
    assert_null(vtpm_fault_set_always(&s, VTPM_FAULT_BIT(VTPM_FAULT_ALL_ONES)));
    struct vtpm_fault *f = vtpm_fault_set_always(&s, VTPM_FAULT_REGISTER_EFFECTS);
    assert_non_null(f);
    assert_int_equal(f->effect, VTPM_FAULT_BURST_ZERO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_effects_and_defaults),
        cmocka_unit_test(test_parse_rc),
        cmocka_unit_test(test_parse_triggers),
        cmocka_unit_test(test_parse_refusals_name_the_item),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_set_ids_and_clear),
        cmocka_unit_test(test_check_nth_count_filters),
        cmocka_unit_test(test_check_counts_every_matching_fault),
        cmocka_unit_test(test_check_probability_is_seeded),
        cmocka_unit_test(test_always),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
