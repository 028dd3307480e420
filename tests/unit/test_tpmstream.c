/* SPDX-License-Identifier: BSD-3-Clause */
/* Watching a TPM data channel go by (src/proto/tpmstream.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/tpmstream.h"

static const uint8_t startup[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0};
static const uint8_t ok[] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
static const uint8_t getrandom_rsp[] = {0x80, 0x01, 0, 0, 0, 16, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};

/* Feeds `n` bytes in chunks of `chunk`, collecting the messages that end. */
static size_t feed_all(struct vtpm_tpmstream *s, const uint8_t *p, size_t n, size_t chunk,
                       struct vtpm_tpmstream_msg *msgs, size_t max, int *last)
{
    size_t count = 0, off = 0;
    *last = VTPM_TPMSTREAM_NEED_MORE;
    while (off < n) {
        size_t len = n - off < chunk ? n - off : chunk, used = 0, pos = 0;
        while (pos < len) {
            struct vtpm_tpmstream_msg m;
            int ev = vtpm_tpmstream_feed(s, p + off + pos, len - pos, &used, &m);
            pos += used;
            *last = ev;
            if (ev == VTPM_TPMSTREAM_GARBAGE)
                return count;
            if (ev == VTPM_TPMSTREAM_MESSAGE) {
                assert_true(count < max);
                msgs[count++] = m;
            } else {
                assert_int_equal(pos, len); /* NEED_MORE consumed everything */
            }
        }
        off += len;
    }
    return count;
}

static void test_plain_commands_any_split(void **state)
{
    (void)state;
    uint8_t two[sizeof(startup) * 2];
    memcpy(two, startup, sizeof(startup));
    memcpy(two + sizeof(startup), startup, sizeof(startup));
    two[sizeof(startup) + 11] = 1; /* SU_STATE */
    for (size_t chunk = 1; chunk <= sizeof(two); chunk++) {
        uint8_t buf[64];
        struct vtpm_tpmstream s;
        struct vtpm_tpmstream_msg m[4];
        int last;
        vtpm_tpmstream_init(&s, false, buf, sizeof(buf));
        assert_true(vtpm_tpmstream_idle(&s));
        assert_int_equal(feed_all(&s, two, sizeof(two), chunk, m, 4, &last), 2);
        assert_true(vtpm_tpmstream_idle(&s));
        assert_false(m[1].prefixed);
        assert_int_equal(m[1].tag, 0x8001);
        assert_int_equal(m[1].size, 12);
        assert_int_equal(m[1].code, 0x144);
        assert_int_equal(m[1].kept, 12);
        assert_int_equal(m[1].bytes[11], 1); /* the second message's own bytes */
    }
}

static void test_prefixed_command_and_response(void **state)
{
    (void)state;
    uint8_t cmd[9 + sizeof(startup)] = {0, 0, 0, 8, 3, 0, 0, 0, 12};
    memcpy(cmd + 9, startup, sizeof(startup));
    uint8_t rsp[4 + sizeof(getrandom_rsp) + 4] = {0, 0, 0, 16};
    memcpy(rsp + 4, getrandom_rsp, sizeof(getrandom_rsp));
    uint8_t cbuf[64], rbuf[64];
    struct vtpm_tpmstream c, r;
    struct vtpm_tpmstream_msg m[2];
    int last;

    for (size_t chunk = 1; chunk <= sizeof(rsp); chunk++) {
        vtpm_tpmstream_init(&c, false, cbuf, sizeof(cbuf));
        vtpm_tpmstream_init(&r, true, rbuf, sizeof(rbuf));
        assert_int_equal(feed_all(&c, cmd, sizeof(cmd), chunk, m, 2, &last), 1);
        assert_true(m[0].prefixed);
        assert_int_equal(m[0].locality, 3);
        assert_int_equal(m[0].code, 0x144);
        assert_memory_equal(m[0].bytes, startup, sizeof(startup));
        r.prefixed_next = m[0].prefixed;
        /* the trailing four zero bytes belong to the response */
        assert_int_equal(feed_all(&r, rsp, sizeof(rsp) - 4, chunk, m, 2, &last), 0);
        assert_false(vtpm_tpmstream_idle(&r));
        assert_int_equal(feed_all(&r, rsp + sizeof(rsp) - 4, 4, chunk, m, 2, &last), 1);
        assert_true(m[0].prefixed);
        assert_int_equal(m[0].size, 16);
        assert_int_equal(m[0].code, 0);
        assert_memory_equal(m[0].bytes, getrandom_rsp, sizeof(getrandom_rsp));
    }
    /* The next, unprefixed response is read as plain. */
    assert_int_equal(feed_all(&r, ok, sizeof(ok), 3, m, 2, &last), 1);
    assert_false(m[0].prefixed);
}

static void test_small_buffer_keeps_the_head(void **state)
{
    (void)state;
    uint8_t buf[10];
    struct vtpm_tpmstream r;
    struct vtpm_tpmstream_msg m[1];
    int last;
    vtpm_tpmstream_init(&r, true, buf, sizeof(buf));
    assert_int_equal(feed_all(&r, getrandom_rsp, sizeof(getrandom_rsp), 5, m, 1, &last), 1);
    assert_int_equal(m[0].size, 16);
    assert_int_equal(m[0].kept, 10);
}

static void test_garbage_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct vtpm_tpmstream s;
    struct vtpm_tpmstream_msg m[1];
    size_t used;
    int last;

    static const uint8_t tiny[] = {0x80, 0x01, 0, 0, 0, 5, 0, 0, 1, 0x44};
    vtpm_tpmstream_init(&s, false, buf, sizeof(buf));
    assert_int_equal(feed_all(&s, tiny, sizeof(tiny), 4, m, 1, &last), 0);
    assert_int_equal(last, VTPM_TPMSTREAM_GARBAGE);
    assert_non_null(strstr(s.why, "size field"));
    assert_int_equal(vtpm_tpmstream_feed(&s, startup, sizeof(startup), &used, m),
                     VTPM_TPMSTREAM_GARBAGE);
    assert_int_equal(used, 0);

    static const uint8_t huge[] = {0x80, 0x01, 0x01, 0, 0, 0, 0, 0, 1, 0x44};
    vtpm_tpmstream_init(&s, false, buf, sizeof(buf));
    assert_int_equal(feed_all(&s, huge, sizeof(huge), 10, m, 1, &last), 0);
    assert_int_equal(last, VTPM_TPMSTREAM_GARBAGE);

    uint8_t lying[9 + sizeof(startup)] = {0, 0, 0, 8, 0, 0, 0, 0, 13};
    memcpy(lying + 9, startup, sizeof(startup));
    vtpm_tpmstream_init(&s, false, buf, sizeof(buf));
    assert_int_equal(feed_all(&s, lying, sizeof(lying), 7, m, 1, &last), 0);
    assert_int_equal(last, VTPM_TPMSTREAM_GARBAGE);
    assert_non_null(strstr(s.why, "prefix"));

    uint8_t bad_ack[4 + sizeof(ok) + 4] = {0, 0, 0, 10};
    memcpy(bad_ack + 4, ok, sizeof(ok));
    bad_ack[sizeof(bad_ack) - 1] = 1;
    vtpm_tpmstream_init(&s, true, buf, sizeof(buf));
    s.prefixed_next = true;
    assert_int_equal(feed_all(&s, bad_ack, sizeof(bad_ack), 1, m, 1, &last), 0);
    assert_int_equal(last, VTPM_TPMSTREAM_GARBAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_commands_any_split),
        cmocka_unit_test(test_prefixed_command_and_response),
        cmocka_unit_test(test_small_buffer_keeps_the_head),
        cmocka_unit_test(test_garbage_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
