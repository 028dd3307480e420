/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of TPM commands from a byte stream (the data channel).
 *
 * A command is complete when its 10-byte header and then exactly paramSize
 * bytes have arrived, however the sender split them. For TPM 2.0 the
 * optional TCG send-command prefix is recognised and stripped. Bytes that
 * follow a complete command stay buffered for the next one. Pure: the
 * caller reads from the socket into vtpm_framer_space() and commits.
 */
#ifndef VTPM_SERVER_FRAMING_H
#define VTPM_SERVER_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/tpm.h"

enum vtpm_frame_status {
    VTPM_FRAME_NEED_MORE, /* no complete command buffered yet */
    VTPM_FRAME_COMPLETE,  /* vtpm_framer_command() describes one */
    VTPM_FRAME_BAD_SIZE,  /* paramSize < 10 or larger than the buffer */
};

struct vtpm_framer {
    uint8_t *buf;
    size_t cap;     /* buffer size: the largest command plus the prefix */
    size_t max_cmd; /* largest command accepted */
    size_t have;    /* bytes buffered */
    size_t frame;   /* length of the complete frame at the head, once known */
    enum vtpm_family family;
    uint32_t bad_size; /* the offending size field, for messages */
};

struct vtpm_frame {
    const uint8_t *cmd; /* the TPM command, without any prefix */
    size_t len;
    bool prefixed;      /* arrived with the TCG send-command prefix */
    uint8_t locality;   /* from the prefix */
};

/* max_cmd: largest TPM command (libtpms' buffer size). Returns -ENOMEM. */
int vtpm_framer_init(struct vtpm_framer *f, enum vtpm_family family, size_t max_cmd);
void vtpm_framer_free(struct vtpm_framer *f);

/* Where the next read goes, and how much room is there (never 0 while
 * the status is NEED_MORE). */
uint8_t *vtpm_framer_space(struct vtpm_framer *f, size_t *room);
/* Account for n bytes read into the space; returns the new status. */
enum vtpm_frame_status vtpm_framer_commit(struct vtpm_framer *f, size_t n);
enum vtpm_frame_status vtpm_framer_status(struct vtpm_framer *f);
/* The complete command at the head; only valid while status is COMPLETE. */
void vtpm_framer_command(const struct vtpm_framer *f, struct vtpm_frame *out);
/* Drop the command at the head (after it was answered). */
void vtpm_framer_consume(struct vtpm_framer *f);
/* Drop everything buffered (after a size error or a stalled sender). */
void vtpm_framer_reset(struct vtpm_framer *f);
/* True when some bytes of an incomplete command are buffered. */
bool vtpm_framer_partial(const struct vtpm_framer *f);

#endif
