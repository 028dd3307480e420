/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decoding one direction of a TPM data channel (swtpm/vtpmd protocol) as it
 * flows past, for traces: commands, optionally behind the TCG send-command
 * prefix, and responses, framed the same way as the command they answer
 * (be32 size, response, be32 0 behind a prefix). The bytes themselves are
 * not changed or held back; the decoder only watches them.
 *
 * Pure: no I/O; the only memory is the caller's.
 */
#ifndef VTPM_PROTO_TPMSTREAM_H
#define VTPM_PROTO_TPMSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger size fields are taken as a stream that is not TPM traffic. */
#define VTPM_TPMSTREAM_MAX_MESSAGE (1u << 20)

enum vtpm_tpmstream_event {
    VTPM_TPMSTREAM_NEED_MORE = 0, /* everything fed was consumed, no message ended */
    VTPM_TPMSTREAM_MESSAGE,       /* `msg` describes the message that just ended */
    VTPM_TPMSTREAM_GARBAGE,       /* not TPM traffic: the decoder stops (sticky) */
};

struct vtpm_tpmstream_msg {
    bool prefixed;    /* behind the TCG send-command prefix / framed as its answer */
    uint8_t locality; /* from the prefix (commands); 0 otherwise */
    uint16_t tag;
    uint32_t size;        /* the header's size field */
    uint32_t code;        /* ordinal / command code, or response code */
    const uint8_t *bytes; /* the message (without framing), its first `kept` bytes */
    size_t kept;          /* min(size, the buffer's capacity) */
};

struct vtpm_tpmstream {
    bool responses;     /* this direction carries responses */
    bool prefixed_next; /* responses: the next one answers a prefixed command */
    uint8_t *buf;       /* the caller's, for the message bytes */
    size_t cap;
    /* private */
    int phase;
    uint8_t frame[9]; /* prefix or size word being read */
    size_t frame_have;
    bool prefixed;
    uint8_t locality;
    uint32_t size; /* of the message, once its header is in */
    size_t have;   /* message bytes seen */
    bool garbage;
    const char *why; /* after GARBAGE: what was wrong, for the trace */
};

/* buf (at least 10 bytes) receives each message's first cap bytes. */
void vtpm_tpmstream_init(struct vtpm_tpmstream *s, bool responses, uint8_t *buf, size_t cap);

/*
 * Feeds up to n bytes; consumes them until a message ends (MESSAGE, with
 * *used bytes consumed and msg filled), all are consumed (NEED_MORE), or
 * the stream turns out not to be TPM traffic (GARBAGE).
 */
enum vtpm_tpmstream_event vtpm_tpmstream_feed(struct vtpm_tpmstream *s, const uint8_t *p, size_t n,
                                              size_t *used, struct vtpm_tpmstream_msg *msg);

/* True between messages (no partial message buffered). */
bool vtpm_tpmstream_idle(const struct vtpm_tpmstream *s);

#endif
