/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TPM command reassembly on the data channel (src/server/framing.c), driven
 * as the server drives it: bytes arrive in chunks of any size, complete
 * commands are taken and consumed, a size error or a stalled sender resets.
 *
 * Input: 4 bytes of configuration, then the byte stream a client sends.
 *   [0] bit 0: TPM 2.0 (else 1.2); bits 1-3: the largest command accepted
 *   [1..2] seed of the chunk sizes   [3] bits 0-1: chunk style;
 *   bit 2: sometimes read more before draining; bits 4-7: how often a stall resets
 *
 * Every step is checked against a stateless model of the framing rules
 * applied to exactly the bytes that should be buffered, so the framer's
 * state (cached frame length, memmove on consume, prefix detection) must
 * agree with a reading of the whole stream. Bytes of the framer's buffer
 * beyond what was committed are poisoned: reading them is reported by ASan.
 */
#include <string.h>

#include "fuzz.h"
#include "proto/tpm.h"
#include "server/framing.h"
#include "util/buf.h"

static const size_t max_cmds[8] = {10, 11, 12, 19, 64, 256, 1024, 4096};

struct model {
    enum vtpm_frame_status st;
    size_t off;   /* 9 with the TCG send-command prefix, else 0 */
    size_t total; /* prefix + command, once the header is there */
    uint32_t bad; /* the size value that was refused */
};

/*
 * TCG PC Client Platform TPM Profile / TPM 2.0 simulator: a stream whose
 * first be32 is TPM_SEND_COMMAND (8) carries be32 8, u8 locality, be32 size
 * in front of the command. A TPM 2.0 tag (0x8001/0x8002) cannot start with
 * 0x0000, so the first word alone decides.
 */
static void model_status(const uint8_t *p, size_t n, enum vtpm_family fam, size_t max,
                         struct model *m)
{
    memset(m, 0, sizeof(*m));
    if (fam == VTPM_FAMILY_20 && n >= 4 && get_be32(p) == VTPM_TCG_SEND_COMMAND)
        m->off = VTPM_TCG_PREFIX_SIZE;
    if (n < m->off + VTPM_TPM_HDR_SIZE) {
        m->st = VTPM_FRAME_NEED_MORE;
        return;
    }
    uint32_t size = get_be32(p + m->off + 2);
    if (size < VTPM_TPM_HDR_SIZE || size > max) {
        m->st = VTPM_FRAME_BAD_SIZE;
        m->bad = size;
        return;
    }
    if (m->off && get_be32(p + 5) != size) {
        m->st = VTPM_FRAME_BAD_SIZE;
        m->bad = get_be32(p + 5);
        return;
    }
    m->total = m->off + size;
    m->st = n >= m->total ? VTPM_FRAME_COMPLETE : VTPM_FRAME_NEED_MORE;
}

struct run {
    struct vtpm_framer f;
    const uint8_t *stream;
    size_t len;
    size_t fed;  /* stream bytes committed so far */
    size_t base; /* stream offset of the framer's first buffered byte */
    size_t max;
    enum vtpm_family fam;
};

static void poison_tail(struct run *r)
{
    ASAN_POISON_MEMORY_REGION(r->f.buf + r->f.have, r->f.cap - r->f.have);
}

/* The framer holds exactly the stream bytes since the last consume or reset. */
static void check_buffer(const struct run *r)
{
    FUZZ_CHECK(r->base <= r->fed);
    FUZZ_CHECK(r->f.have == r->fed - r->base);
    FUZZ_CHECK(r->f.have <= r->f.cap);
    FUZZ_CHECK(vtpm_framer_partial(&r->f) == (r->f.have > 0));
}

static void check_status(struct run *r, enum vtpm_frame_status st)
{
    struct model m;

    model_status(r->stream + r->base, r->fed - r->base, r->fam, r->max, &m);
    FUZZ_CHECK(st == m.st);
    if (st == VTPM_FRAME_BAD_SIZE)
        FUZZ_CHECK(r->f.bad_size == m.bad);
    /* Once a frame is known, its length never exceeds the buffer. */
    if (r->f.frame)
        FUZZ_CHECK(r->f.frame == m.total && r->f.frame <= r->f.cap);
    if (st == VTPM_FRAME_NEED_MORE) {
        size_t room;
        vtpm_framer_space(&r->f, &room);
        FUZZ_CHECK(room > 0);
    }
}

static void check_command(const struct run *r)
{
    struct vtpm_frame fr;
    struct vtpm_tpm_hdr hdr;
    struct model m;
    const uint8_t *at = r->stream + r->base;

    model_status(at, r->fed - r->base, r->fam, r->max, &m);
    FUZZ_CHECK(m.st == VTPM_FRAME_COMPLETE);
    vtpm_framer_command(&r->f, &fr);
    FUZZ_CHECK(fr.len >= VTPM_TPM_HDR_SIZE && fr.len <= r->max);
    FUZZ_CHECK(fuzz_inside(fr.cmd, fr.len, r->f.buf, r->f.have));
    FUZZ_CHECK(fr.prefixed == (m.off != 0));
    FUZZ_CHECK(fr.cmd == r->f.buf + m.off);
    FUZZ_CHECK(m.off + fr.len == m.total);
    FUZZ_CHECK(get_be32(fr.cmd + 2) == fr.len);
    FUZZ_CHECK(memcmp(fr.cmd, at + m.off, fr.len) == 0);
    if (fr.prefixed) {
        FUZZ_CHECK(r->fam == VTPM_FAMILY_20);
        FUZZ_CHECK(fr.locality == at[4]);
        FUZZ_CHECK(get_be32(at + 5) == fr.len);
    } else {
        FUZZ_CHECK(fr.locality == 0);
    }
    /* proto/tpm.c reads the same header. */
    FUZZ_CHECK(vtpm_tpm_hdr_parse(fr.cmd, fr.len, &hdr) == 0);
    FUZZ_CHECK(hdr.tag == get_be16(fr.cmd) && hdr.size == fr.len &&
               hdr.code == get_be32(fr.cmd + 6));
    FUZZ_CHECK(vtpm_tpm_response_code(fr.cmd, fr.len) == hdr.code);
    for (size_t short_len = 0; short_len < VTPM_TPM_HDR_SIZE; short_len += 3)
        FUZZ_CHECK(vtpm_tpm_response_code(fr.cmd, short_len) == UINT32_MAX);
}

/* What the server's run_commands() does with every complete command. */
static void drain(struct run *r)
{
    enum vtpm_frame_status st;

    while ((st = vtpm_framer_status(&r->f)) == VTPM_FRAME_COMPLETE) {
        check_status(r, st);
        check_command(r);
        size_t total = r->f.frame, before = r->f.have;
        vtpm_framer_consume(&r->f);
        FUZZ_CHECK(r->f.frame == 0);
        FUZZ_CHECK(total <= before && r->f.have == before - total);
        r->base += total;
        check_buffer(r);
        FUZZ_CHECK(memcmp(r->f.buf, r->stream + r->base, r->f.have) == 0);
        poison_tail(r);
    }
    check_status(r, st);
    if (st == VTPM_FRAME_BAD_SIZE) {
        vtpm_framer_reset(&r->f);
        r->base = r->fed;
        check_buffer(r);
        poison_tail(r);
    }
}

static size_t chunk_size(uint8_t style, uint32_t *seed, size_t room)
{
    switch (style & 3) {
    case 0:
        return 1;
    case 1:
        return 1 + fuzz_rand(seed) % 8;
    case 2:
        return 1 + fuzz_rand(seed) % 64;
    default:
        return room;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r = {0};

    if (size < 4)
        return 0;
    r.fam = (data[0] & 1) ? VTPM_FAMILY_20 : VTPM_FAMILY_12;
    r.max = max_cmds[(data[0] >> 1) & 7];
    uint32_t seed = (uint32_t)data[1] << 8 | data[2];
    uint8_t flags = data[3];
    unsigned stall_every = flags >> 4;
    r.stream = data + 4;
    r.len = size - 4;

    FUZZ_CHECK(vtpm_framer_init(&r.f, r.fam, r.max) == 0);
    FUZZ_CHECK(r.f.cap == r.max + VTPM_TCG_PREFIX_SIZE);
    poison_tail(&r);
    check_status(&r, vtpm_framer_status(&r.f));

    while (r.fed < r.len) {
        size_t room;
        uint8_t *space = vtpm_framer_space(&r.f, &room);

        FUZZ_CHECK(space == r.f.buf + r.f.have && room == r.f.cap - r.f.have);
        if (room == 0) {
            /* Only a complete command left undrained can fill the buffer. */
            FUZZ_CHECK(vtpm_framer_status(&r.f) == VTPM_FRAME_COMPLETE);
            drain(&r);
            continue;
        }
        size_t n = chunk_size(flags, &seed, room);
        if (n > room)
            n = room;
        if (n > r.len - r.fed)
            n = r.len - r.fed;
        ASAN_UNPOISON_MEMORY_REGION(space, n);
        memcpy(space, r.stream + r.fed, n);
        r.fed += n;
        enum vtpm_frame_status st = vtpm_framer_commit(&r.f, n);
        check_buffer(&r);
        check_status(&r, st);

        /* A pipelining client: more bytes may arrive before the command is run. */
        if (st == VTPM_FRAME_COMPLETE && (flags & 4) && fuzz_rand(&seed) % 2)
            continue;
        drain(&r);
        if (stall_every && fuzz_rand(&seed) % (64u * stall_every) == 0) {
            vtpm_framer_reset(&r.f);
            r.base = r.fed;
            check_buffer(&r);
            poison_tail(&r);
        }
    }
    drain(&r);
    check_buffer(&r);
    ASAN_UNPOISON_MEMORY_REGION(r.f.buf, r.f.cap);
    vtpm_framer_free(&r.f);
    return 0;
}
