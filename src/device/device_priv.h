/* SPDX-License-Identifier: BSD-3-Clause */
/* What the register models share: access-width masks and the header of their
 * save/restore blobs (be32 magic, be16 version). */
#ifndef VTPM_DEVICE_PRIV_H
#define VTPM_DEVICE_PRIV_H

#include <errno.h>
#include <stdint.h>

#include "util/buf.h"

/* The bits an access of `size` bytes (1, 2, 4 or 8) carries. */
static inline uint64_t vtpm_dev_size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
}

static inline void vtpm_dev_state_write_header(struct vtpm_writer *w, uint32_t magic,
                                               uint16_t version)
{
    vtpm_write_be32(w, magic);
    vtpm_write_be16(w, version);
}

/* 0; -EINVAL for a blob of another model or a short one; -EPROTONOSUPPORT
 * for another version of this model's blob. */
static inline int vtpm_dev_state_read_header(struct vtpm_reader *r, uint32_t magic,
                                             uint16_t version)
{
    if (vtpm_read_be32(r) != magic)
        return -EINVAL;
    uint16_t got = vtpm_read_be16(r);
    if (r->err)
        return -EINVAL;
    return got == version ? 0 : -EPROTONOSUPPORT;
}

#endif
