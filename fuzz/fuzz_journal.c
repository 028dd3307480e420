/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Journal slots (src/state/journal.c): what recovery reads back from disk
 * after a crash, a torn write or bit rot.
 *
 * First the input as a slot read from disk: a slot that decodes must be
 * exactly what the encoder writes for the fields it yields. Then the input
 * as a version to save:
 *   [0..7] seq  [8..15] base inode  [16] slack after the data  [17..] data
 * It must round-trip; a single flipped bit anywhere in the header or the
 * data must be refused (the SHA-256 covers both), while the slack after the
 * data is outside any version and may hold anything.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "state/journal.h"
#include "util/buf.h"

#define PARAMS 17u

static void check_slot_from_disk(const uint8_t *slot, size_t size)
{
    uint64_t seq = 0, ino = 0;
    const uint8_t *d = NULL;
    size_t len = 0;

    if (!vtpm_journal_slot_decode(slot, size, &seq, &ino, &d, &len))
        return;
    FUZZ_CHECK(seq != 0);
    FUZZ_CHECK(size >= VTPM_JOURNAL_SLOT_HDR);
    FUZZ_CHECK(d == slot + VTPM_JOURNAL_SLOT_HDR && fuzz_inside(d, len, slot, size));

    /* Accepted means canonical: the encoder writes these very bytes. */
    uint8_t *again = malloc(size);
    FUZZ_CHECK(again != NULL);
    vtpm_journal_slot_encode(again, seq, ino, size, d, len);
    FUZZ_CHECK(memcmp(again, slot, VTPM_JOURNAL_SLOT_HDR + len) == 0);
    free(again);
}

static bool decodes_to(const uint8_t *slot, size_t size, uint64_t seq, uint64_t ino,
                       const uint8_t *data, size_t len)
{
    uint64_t s, i;
    const uint8_t *d;
    size_t l;

    if (!vtpm_journal_slot_decode(slot, size, &s, &i, &d, &l))
        return false;
    FUZZ_CHECK(s == seq && i == ino && l == len && d == slot + VTPM_JOURNAL_SLOT_HDR);
    FUZZ_CHECK(memcmp(d, data, len) == 0);
    return true;
}

static void check_saved_version(const uint8_t *in, size_t size)
{
    if (size < PARAMS)
        return;
    uint64_t seq = get_be64(in), ino = get_be64(in + 8);
    size_t slack = in[16];
    const uint8_t *data = in + PARAMS;
    size_t len = size - PARAMS;
    size_t covered = VTPM_JOURNAL_SLOT_HDR + len;
    size_t slot_size = covered + slack;
    uint32_t pick = fuzz_hash(in, size);

    uint8_t *slot = malloc(slot_size);
    FUZZ_CHECK(slot != NULL);
    /* What the slack holds is whatever an older, longer version left there. */
    memset(slot + covered, (int)(pick & 0xff), slack);
    vtpm_journal_slot_encode(slot, seq, ino, slot_size, data, len);
    FUZZ_CHECK(get_be32(slot + 24) == len && get_be32(slot + 28) == slot_size);
    if (seq == 0) {
        /* Sequence 0 marks a slot never written (the zeroed second slot). */
        FUZZ_CHECK(!decodes_to(slot, slot_size, seq, ino, data, len));
        free(slot);
        return;
    }
    FUZZ_CHECK(decodes_to(slot, slot_size, seq, ino, data, len));

    /* A slot read with another slot size (a different file length) is not this version. */
    FUZZ_CHECK(!decodes_to(slot, slot_size - 1, seq, ino, data, len));

    /* Single-bit flips in what the digest covers: two positions the input picks. */
    for (int k = 0; k < 2; k++) {
        size_t bit = (k == 0 ? pick : fuzz_rand(&pick)) % (covered * 8);
        slot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        FUZZ_CHECK(!decodes_to(slot, slot_size, seq, ino, data, len));
        slot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Every bit of the 64-byte header, on some inputs (it costs 512 digests). */
    if ((pick & 0x3f) == 0) {
        for (size_t bit = 0; bit < VTPM_JOURNAL_SLOT_HDR * 8; bit++) {
            slot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            FUZZ_CHECK(!decodes_to(slot, slot_size, seq, ino, data, len));
            slot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    if (slack) {
        size_t at = covered + fuzz_rand(&pick) % slack;
        slot[at] ^= 0x80;
        FUZZ_CHECK(decodes_to(slot, slot_size, seq, ino, data, len));
    }
    FUZZ_CHECK(decodes_to(slot, slot_size, seq, ino, data, len) == (seq != 0));
    free(slot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_slot_from_disk(data, size);
    check_saved_version(data, size);
    return 0;
}
