/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-channel request sizing (src/proto/ctrl.c), as the control channel
 * uses it: the input is a stream of requests back to back, and every prefix
 * of each request is offered (the finest split a socket can produce), so any
 * split of the stream is covered.
 *
 * Bytes beyond the offered prefix are poisoned: a look past `have` is an
 * ASan report. The answer is checked against the request layouts of
 * swtpm_ioctls(3), written out again here, and for stability: once complete
 * or too large, more bytes never change the answer.
 */
#include <string.h>

#include "fuzz.h"
#include "proto/ctrl.h"
#include "util/buf.h"

/* swtpm_ioctls(3): bytes after the 4-byte code, before any variable data. */
static size_t body_size(uint32_t cmd)
{
    switch (cmd) {
    case VTPM_CMD_SET_LOCALITY:         /* ptm_loc: u8 loc */
    case VTPM_CMD_RESET_TPMESTABLISHED: /* ptm_reset_est: u8 loc */
        return 1;
    case VTPM_CMD_INIT:           /* ptm_init: u32 init_flags */
    case VTPM_CMD_HASH_DATA:      /* ptm_hdata: u32 length, data */
    case VTPM_CMD_SET_BUFFERSIZE: /* ptm_setbuffersize: u32 buffersize */
    case VTPM_CMD_LOCK_STORAGE:   /* ptm_lockstorage: u32 retries */
        return 4;
    case VTPM_CMD_GET_STATEBLOB: /* ptm_getstate: u32 state_flags, u32 type, u32 offset */
    case VTPM_CMD_SET_STATEBLOB: /* ptm_setstate: u32 state_flags, u32 type, u32 length, data */
        return 12;
    case VTPM_CMD_GET_INFO: /* ptm_getinfo: u64 flags, u32 offset, u32 pad */
        return 16;
    default:
        return 0;
    }
}

/* What the request starting at p needs in all, given enough bytes; 0 if too large. */
static uint64_t model_needed(const uint8_t *p, size_t n, int *too_large)
{
    uint32_t cmd = get_be32(p);
    uint64_t need = 4 + body_size(cmd);

    *too_large = 0;
    if (n < need)
        return need;
    if (cmd == VTPM_CMD_HASH_DATA) {
        uint32_t l = get_be32(p + 4);
        *too_large = l > VTPM_CTRL_MAX_HASH_DATA;
        need += l;
    } else if (cmd == VTPM_CMD_SET_STATEBLOB) {
        uint32_t l = get_be32(p + 12);
        *too_large = l > VTPM_CTRL_MAX_BLOB;
        need += l;
    }
    return need;
}

static void check_name(uint32_t cmd)
{
    const char *name = vtpm_ctrl_cmd_name(cmd);

    if (cmd >= VTPM_CMD_GET_CAPABILITY && cmd <= VTPM_CMD_LOCK_STORAGE)
        FUZZ_CHECK(name != NULL && strncmp(name, "CMD_", 4) == 0);
    else
        FUZZ_CHECK(name == NULL);
}

/* Checks the answer for one prefix; returns it. */
static enum vtpm_ctrl_size check_prefix(const uint8_t *req, size_t have, size_t *needed)
{
    size_t prev = *needed;
    enum vtpm_ctrl_size st = vtpm_ctrl_request_size(req, have, needed);

    FUZZ_CHECK(*needed >= 4);
    if (have < 4) {
        FUZZ_CHECK(st == VTPM_CTRL_NEED_MORE && *needed == 4);
        return st;
    }
    int too_large;
    uint64_t want = model_needed(req, have, &too_large);
    switch (st) {
    case VTPM_CTRL_NEED_MORE:
        FUZZ_CHECK(!too_large);
        FUZZ_CHECK(*needed > have && *needed == want);
        break;
    case VTPM_CTRL_COMPLETE:
        FUZZ_CHECK(!too_large);
        FUZZ_CHECK(*needed <= have && *needed == want);
        break;
    case VTPM_CTRL_TOO_LARGE: {
        uint32_t cmd = get_be32(req);
        FUZZ_CHECK(too_large);
        FUZZ_CHECK(cmd == VTPM_CMD_HASH_DATA || cmd == VTPM_CMD_SET_STATEBLOB);
        break;
    }
    default:
        FUZZ_CHECK(!"unknown vtpm_ctrl_size");
    }
    /* Learning more of the request never shrinks what it needs. */
    if (st == VTPM_CTRL_NEED_MORE || st == VTPM_CTRL_COMPLETE)
        FUZZ_CHECK(*needed >= prev);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    size_t pos = 0;

    FUZZ_CHECK(buf != NULL);
    if (size)
        memcpy(buf, data, size);
    ASAN_POISON_MEMORY_REGION(buf, size);

    while (pos < size) {
        const uint8_t *req = buf + pos;
        size_t left = size - pos, needed = 0, have;
        enum vtpm_ctrl_size st = VTPM_CTRL_NEED_MORE;

        /* Offer the request one more byte at a time: each is a possible read boundary. */
        for (have = 0; have <= left; have++) {
            if (have)
                ASAN_UNPOISON_MEMORY_REGION(buf + pos + have - 1, 1);
            st = check_prefix(req, have, &needed);
            if (st != VTPM_CTRL_NEED_MORE)
                break;
        }
        if (st == VTPM_CTRL_NEED_MORE)
            break; /* the stream ends inside a request: the peer would time out */

        /* Whatever follows (the padded union QEMU sends, the next request) changes nothing. */
        ASAN_UNPOISON_MEMORY_REGION(buf + pos, left);
        size_t first = needed;
        FUZZ_CHECK(vtpm_ctrl_request_size(req, left, &needed) == st);
        if (st == VTPM_CTRL_COMPLETE)
            FUZZ_CHECK(needed == first);
        if (st == VTPM_CTRL_TOO_LARGE)
            break; /* the channel answers and drops the connection */
        check_name(get_be32(req));
        FUZZ_CHECK(needed <= left);
        pos += needed;
        ASAN_POISON_MEMORY_REGION(buf + pos, size - pos);
    }
    /* Codes never seen in the stream, too: the whole name table and its edges. */
    for (uint32_t cmd = 0; cmd <= VTPM_CMD_LOCK_STORAGE + 1; cmd++)
        check_name(cmd);
    check_name(size >= 4 ? get_be32(data) : UINT32_MAX);

    ASAN_UNPOISON_MEMORY_REGION(buf, size);
    free(buf);
    return 0;
}
