/* SPDX-License-Identifier: BSD-3-Clause */
#include "server/framing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int vtpm_framer_init(struct vtpm_framer *f, enum vtpm_family family, size_t max_cmd)
{
    memset(f, 0, sizeof(*f));
    f->family = family;
    f->max_cmd = max_cmd;
    f->cap = max_cmd + VTPM_TCG_PREFIX_SIZE;
    f->buf = malloc(f->cap);
    return f->buf ? 0 : -ENOMEM;
}

void vtpm_framer_free(struct vtpm_framer *f)
{
    free(f->buf);
    f->buf = NULL;
}

/* TPM 2.0 only: a frame that does not start with a TPM 2.0 tag but with
 * TPM_SEND_COMMAND carries the simulator prefix. */
static bool has_prefix(const struct vtpm_framer *f)
{
    if (f->family != VTPM_FAMILY_20 || f->have < 4)
        return false;
    uint16_t tag = get_be16(f->buf);
    if (tag == VTPM_TPM2_ST_NO_SESSIONS || tag == VTPM_TPM2_ST_SESSIONS)
        return false;
    return get_be32(f->buf) == VTPM_TCG_SEND_COMMAND;
}

enum vtpm_frame_status vtpm_framer_status(struct vtpm_framer *f)
{
    if (f->frame)
        return f->have >= f->frame ? VTPM_FRAME_COMPLETE : VTPM_FRAME_NEED_MORE;

    size_t off = has_prefix(f) ? VTPM_TCG_PREFIX_SIZE : 0;
    if (f->have < off + VTPM_TPM_HDR_SIZE)
        return VTPM_FRAME_NEED_MORE;

    uint32_t size = get_be32(f->buf + off + 2);
    if (size < VTPM_TPM_HDR_SIZE || size > f->max_cmd) {
        f->bad_size = size;
        return VTPM_FRAME_BAD_SIZE;
    }
    /* The prefix repeats the size; a disagreement means a corrupt stream. */
    if (off && get_be32(f->buf + 5) != size) {
        f->bad_size = get_be32(f->buf + 5);
        return VTPM_FRAME_BAD_SIZE;
    }
    f->frame = off + size;
    return f->have >= f->frame ? VTPM_FRAME_COMPLETE : VTPM_FRAME_NEED_MORE;
}

uint8_t *vtpm_framer_space(struct vtpm_framer *f, size_t *room)
{
    *room = f->cap - f->have;
    return f->buf + f->have;
}

enum vtpm_frame_status vtpm_framer_commit(struct vtpm_framer *f, size_t n)
{
    f->have += n;
    return vtpm_framer_status(f);
}

void vtpm_framer_command(const struct vtpm_framer *f, struct vtpm_frame *out)
{
    bool prefixed = has_prefix(f);

    out->prefixed = prefixed;
    out->locality = prefixed ? f->buf[4] : 0;
    out->cmd = f->buf + (prefixed ? VTPM_TCG_PREFIX_SIZE : 0);
    out->len = f->frame - (prefixed ? VTPM_TCG_PREFIX_SIZE : 0);
}

void vtpm_framer_consume(struct vtpm_framer *f)
{
    size_t rest = f->have - f->frame;

    if (rest)
        memmove(f->buf, f->buf + f->frame, rest);
    f->have = rest;
    f->frame = 0;
}

void vtpm_framer_reset(struct vtpm_framer *f)
{
    f->have = 0;
    f->frame = 0;
}

bool vtpm_framer_partial(const struct vtpm_framer *f)
{
    return f->have > 0;
}
