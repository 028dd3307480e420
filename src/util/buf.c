/* SPDX-License-Identifier: BSD-3-Clause */
#include "util/buf.h"

#include <string.h>

void vtpm_reader_init(struct vtpm_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = false;
}

size_t vtpm_reader_left(const struct vtpm_reader *r)
{
    return r->len - r->pos;
}

const uint8_t *vtpm_read_bytes(struct vtpm_reader *r, size_t n)
{
    if (r->err || n > r->len - r->pos) {
        r->err = true;
        return NULL;
    }
    const uint8_t *at = r->p + r->pos;
    r->pos += n;
    return at;
}

uint8_t vtpm_read_u8(struct vtpm_reader *r)
{
    const uint8_t *b = vtpm_read_bytes(r, 1);
    return b ? b[0] : 0;
}

uint16_t vtpm_read_be16(struct vtpm_reader *r)
{
    const uint8_t *b = vtpm_read_bytes(r, 2);
    return b ? get_be16(b) : 0;
}

uint32_t vtpm_read_be32(struct vtpm_reader *r)
{
    const uint8_t *b = vtpm_read_bytes(r, 4);
    return b ? get_be32(b) : 0;
}

uint64_t vtpm_read_be64(struct vtpm_reader *r)
{
    const uint8_t *b = vtpm_read_bytes(r, 8);
    return b ? get_be64(b) : 0;
}

void vtpm_writer_init(struct vtpm_writer *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->pos = 0;
    w->err = false;
}

void vtpm_write_bytes(struct vtpm_writer *w, const void *src, size_t n)
{
    if (w->err || n > w->cap - w->pos) {
        w->err = true;
        return;
    }
    if (n)
        memcpy(w->p + w->pos, src, n);
    w->pos += n;
}

void vtpm_write_u8(struct vtpm_writer *w, uint8_t v)
{
    vtpm_write_bytes(w, &v, 1);
}

void vtpm_write_be16(struct vtpm_writer *w, uint16_t v)
{
    uint8_t b[2];
    put_be16(b, v);
    vtpm_write_bytes(w, b, sizeof(b));
}

void vtpm_write_be32(struct vtpm_writer *w, uint32_t v)
{
    uint8_t b[4];
    put_be32(b, v);
    vtpm_write_bytes(w, b, sizeof(b));
}

void vtpm_write_be64(struct vtpm_writer *w, uint64_t v)
{
    uint8_t b[8];
    put_be64(b, v);
    vtpm_write_bytes(w, b, sizeof(b));
}
