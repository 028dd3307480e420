/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounds-checked byte reader and writer, and big-endian helpers.
 *
 * Every parser of untrusted bytes reads through struct vtpm_reader: a read
 * past the end sets the sticky `err` flag and yields zeroes, so a parser can
 * read a whole structure and check once at the end.
 */
#ifndef VTPM_UTIL_BUF_H
#define VTPM_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

struct vtpm_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool err; /* sticky: set by any read past the end */
};

struct vtpm_writer {
    uint8_t *p;
    size_t cap;
    size_t pos;
    bool err; /* sticky: set by any write past the capacity */
};

void vtpm_reader_init(struct vtpm_reader *r, const void *p, size_t len);
size_t vtpm_reader_left(const struct vtpm_reader *r);
uint8_t vtpm_read_u8(struct vtpm_reader *r);
uint16_t vtpm_read_be16(struct vtpm_reader *r);
uint32_t vtpm_read_be32(struct vtpm_reader *r);
uint64_t vtpm_read_be64(struct vtpm_reader *r);
/* Returns a pointer to the next n bytes, or NULL (and sets err) if fewer remain. */
const uint8_t *vtpm_read_bytes(struct vtpm_reader *r, size_t n);

void vtpm_writer_init(struct vtpm_writer *w, void *p, size_t cap);
void vtpm_write_u8(struct vtpm_writer *w, uint8_t v);
void vtpm_write_be16(struct vtpm_writer *w, uint16_t v);
void vtpm_write_be32(struct vtpm_writer *w, uint32_t v);
void vtpm_write_be64(struct vtpm_writer *w, uint64_t v);
void vtpm_write_bytes(struct vtpm_writer *w, const void *src, size_t n);

#endif
