/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A two-slot journal that makes frequent saves of one blob (libtpms'
 * permanent state, written on every NV change) durable at the cost of one
 * pwrite + fdatasync, instead of write-temp + fdatasync + rename + fsync of
 * the directory.
 *
 * The journal file holds two slots of fixed size; each save goes to the
 * slot not holding the newest version, with a header carrying a sequence
 * number and a SHA-256 over header and data, so a torn write leaves the
 * previous version intact. The swtpm-format file beside it is brought up to
 * date (checkpointed) when the store closes, and the journal removed.
 *
 * Each slot also records the inode of the swtpm-format file the journal
 * builds on. When that file is replaced (a checkpoint, or another program
 * writing the directory after a crash), the journal is stale and ignored.
 */
#ifndef VTPM_STATE_JOURNAL_H
#define VTPM_STATE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VTPM_JOURNAL_SLOT_HDR 64u

struct vtpm_journal {
    int dirfd;
    const char *name; /* journal file name within the directory */
    const char *tmp;  /* its temporary name while being created */
    mode_t mode;
    int fd;           /* open while active */
    bool active;      /* the journal holds the newest version */
    uint64_t seq;
    uint64_t base_ino;
    size_t slot_size;
    uint8_t *data;    /* the newest version */
    size_t len;
};

void vtpm_journal_init(struct vtpm_journal *j, int dirfd, const char *name, const char *tmp,
                       mode_t mode);
/*
 * Looks for a journal left by an earlier run on top of the file with inode
 * base_ino (0: no such file). Returns 1 and makes the journal active when it
 * holds a valid version (see vtpm_journal_latest), 0 when there is none (a
 * stale or unusable journal is removed), or a negative errno.
 */
int vtpm_journal_recover(struct vtpm_journal *j, uint64_t base_ino);
/*
 * Saves a new version durably. Returns 0; -EFBIG when it does not fit the
 * slots (the caller then saves the file itself and discards the journal);
 * or another negative errno, with the previous version intact.
 */
int vtpm_journal_append(struct vtpm_journal *j, uint64_t base_ino, const uint8_t *data,
                        size_t len);
const uint8_t *vtpm_journal_latest(const struct vtpm_journal *j, size_t *len);
/* Removes the journal file durably and deactivates it. */
int vtpm_journal_discard(struct vtpm_journal *j);
void vtpm_journal_free(struct vtpm_journal *j);

/* Pure helpers, exposed for the unit test. */
void vtpm_journal_slot_encode(uint8_t *slot, uint64_t seq, uint64_t base_ino, size_t slot_size,
                              const uint8_t *data, size_t len);
/* Returns true and the version's fields when the slot holds a valid version. */
bool vtpm_journal_slot_decode(const uint8_t *slot, size_t slot_size, uint64_t *seq,
                              uint64_t *base_ino, const uint8_t **data, size_t *len);

#endif
