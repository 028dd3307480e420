/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto/tpmstream.h"

#include <string.h>

#include "proto/tpm.h"
#include "util/buf.h"

enum phase {
    P_START = 0, /* commands: the first 4 bytes tell a prefix from a header */
    P_PREFIX,    /* commands: the rest of the 9-byte TCG prefix */
    P_RSIZE,     /* responses to a prefixed command: be32 size */
    P_HEADER,    /* the 10-byte header */
    P_BODY,
    P_ACK, /* responses to a prefixed command: be32 0 */
};

void vtpm_tpmstream_init(struct vtpm_tpmstream *s, bool responses, uint8_t *buf, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->responses = responses;
    s->buf = buf;
    s->cap = cap;
}

bool vtpm_tpmstream_idle(const struct vtpm_tpmstream *s)
{
    return s->phase == P_START && s->frame_have == 0;
}

static void keep(struct vtpm_tpmstream *s, const uint8_t *p, size_t n)
{
    if (s->have < s->cap) {
        size_t room = s->cap - s->have;
        memcpy(s->buf + s->have, p, n < room ? n : room);
    }
    s->have += n;
}

static enum vtpm_tpmstream_event garbage(struct vtpm_tpmstream *s, const char *why)
{
    s->garbage = true;
    s->why = why;
    return VTPM_TPMSTREAM_GARBAGE;
}

/* Reads framing bytes into s->frame until it holds `want`; returns bytes used. */
static size_t take_frame(struct vtpm_tpmstream *s, const uint8_t *p, size_t n, size_t want)
{
    size_t k = want - s->frame_have < n ? want - s->frame_have : n;
    memcpy(s->frame + s->frame_have, p, k);
    s->frame_have += k;
    return k;
}

static void finish(struct vtpm_tpmstream *s, struct vtpm_tpmstream_msg *msg)
{
    *msg = (struct vtpm_tpmstream_msg){
        .prefixed = s->prefixed,
        .locality = s->locality,
        .tag = get_be16(s->buf),
        .size = s->size,
        .code = get_be32(s->buf + 6),
        .bytes = s->buf,
        .kept = s->size < s->cap ? s->size : s->cap,
    };
    s->phase = P_START;
    s->frame_have = 0;
    s->have = 0;
    s->prefixed = false;
    s->locality = 0;
    s->prefixed_next = false;
}

/* One step: consumes some of p, maybe ends a message. */
static enum vtpm_tpmstream_event step(struct vtpm_tpmstream *s, const uint8_t *p, size_t n,
                                      size_t *k, struct vtpm_tpmstream_msg *msg)
{
    static const uint8_t send_command[4] = {0, 0, 0, VTPM_TCG_SEND_COMMAND};

    switch (s->phase) {
    case P_START:
        if (s->responses) {
            s->prefixed = s->prefixed_next;
            s->phase = s->prefixed ? P_RSIZE : P_HEADER;
            return VTPM_TPMSTREAM_NEED_MORE;
        }
        *k = take_frame(s, p, n, 4);
        if (s->frame_have < 4)
            return VTPM_TPMSTREAM_NEED_MORE;
        if (memcmp(s->frame, send_command, 4) == 0) {
            s->prefixed = true;
            s->phase = P_PREFIX;
        } else {
            keep(s, s->frame, 4); /* the first bytes of a plain header */
            s->phase = P_HEADER;
        }
        return VTPM_TPMSTREAM_NEED_MORE;
    case P_PREFIX:
        *k = take_frame(s, p, n, VTPM_TCG_PREFIX_SIZE);
        if (s->frame_have == VTPM_TCG_PREFIX_SIZE) {
            s->locality = s->frame[4];
            s->phase = P_HEADER;
        }
        return VTPM_TPMSTREAM_NEED_MORE;
    case P_RSIZE:
        *k = take_frame(s, p, n, 4);
        if (s->frame_have == 4)
            s->phase = P_HEADER;
        return VTPM_TPMSTREAM_NEED_MORE;
    case P_HEADER: {
        size_t want = VTPM_TPM_HDR_SIZE - s->have;
        *k = want < n ? want : n;
        keep(s, p, *k);
        if (s->have < VTPM_TPM_HDR_SIZE)
            return VTPM_TPMSTREAM_NEED_MORE;
        s->size = get_be32(s->buf + 2);
        if (s->size < VTPM_TPM_HDR_SIZE || s->size > VTPM_TPMSTREAM_MAX_MESSAGE)
            return garbage(s, "a size field outside 10 bytes to 1 MiB");
        /* The framing's own size word must agree with the header's. */
        uint32_t framed = s->responses ? get_be32(s->frame) : get_be32(s->frame + 5);
        if (s->prefixed && framed != s->size)
            return garbage(s, "a TCG prefix whose size differs from the header's");
        s->phase = P_BODY;
        break;
    }
    case P_BODY: {
        size_t want = s->size - s->have;
        *k = want < n ? want : n;
        keep(s, p, *k);
        break;
    }
    case P_ACK:
        *k = take_frame(s, p, n, 4);
        if (s->frame_have < 4)
            return VTPM_TPMSTREAM_NEED_MORE;
        if (get_be32(s->frame) != 0)
            return garbage(s, "a prefixed response not followed by four zero bytes");
        finish(s, msg);
        return VTPM_TPMSTREAM_MESSAGE;
    default:
        return garbage(s, "an internal state error");
    }
    if (s->phase != P_BODY || s->have < s->size)
        return VTPM_TPMSTREAM_NEED_MORE;
    if (s->responses && s->prefixed) {
        s->phase = P_ACK;
        s->frame_have = 0;
        return VTPM_TPMSTREAM_NEED_MORE;
    }
    finish(s, msg);
    return VTPM_TPMSTREAM_MESSAGE;
}

enum vtpm_tpmstream_event vtpm_tpmstream_feed(struct vtpm_tpmstream *s, const uint8_t *p, size_t n,
                                              size_t *used, struct vtpm_tpmstream_msg *msg)
{
    *used = 0;
    if (s->garbage)
        return VTPM_TPMSTREAM_GARBAGE;
    while (*used < n || (s->phase == P_START && s->responses)) {
        size_t k = 0;
        enum vtpm_tpmstream_event ev = step(s, p + *used, n - *used, &k, msg);
        *used += k;
        if (ev != VTPM_TPMSTREAM_NEED_MORE)
            return ev;
        if (*used == n && s->phase != P_START)
            break;
    }
    return VTPM_TPMSTREAM_NEED_MORE;
}
