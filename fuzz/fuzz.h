/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer targets. Each target asserts invariants of the
 * parser it drives, not only the absence of crashes: a violated invariant
 * aborts, and libFuzzer saves the input as a crash artifact.
 */
#ifndef VTPM_FUZZ_H
#define VTPM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sanitizer/asan_interface.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* True when [p, p+n) lies inside [base, base+len). */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
    const uint8_t *q = p, *b = base;

    return q >= b && q <= b + len && n <= (size_t)(b + len - q);
}

/* A small deterministic generator for choices derived from the input. */
static inline uint32_t fuzz_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* FNV-1a over the input, to pick positions without taking bytes from it. */
static inline uint32_t fuzz_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif
