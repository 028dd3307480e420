/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PAPR virtual TPM (pseries "IBM,vtpm" / "IBM,vtpm20"): a VIO device the
 * guest talks to through a Command/Response Queue (CRQ) of 16-byte messages,
 * with TPM commands and responses passed in a guest buffer reached by DMA
 * through the device's RTCE window (Linux: drivers/char/tpm/tpm_ibmvtpm.c).
 *
 * A CRQ message, all fields big-endian:
 *     u8 valid   0xC0 init / 0x80 command or response
 *     u8 msg     message type; a response has 0x80 set
 *     u16 len    TPM response length / RTCE buffer size
 *     u32 data   I/O bus address of the guest buffer / version / error code
 *     u64 reserved
 *
 * The model is pure: guest memory and the guest's response queue are reached
 * through the callbacks in the config; the embedder serialises every call on
 * one device (vtpm_spapr_crq, vtpm_spapr_command_done, reset, save,
 * restore), e.g. under its device lock.
 */
#ifndef VTPM_SPAPR_H
#define VTPM_SPAPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

#define VTPM_SPAPR_CRQ_SIZE 16u
#define VTPM_SPAPR_BUFFER_SIZE 4096u

/* CRQ valid byte */
#define VTPM_SPAPR_VALID_INIT 0xC0u
#define VTPM_SPAPR_VALID_COMMAND 0x80u
/* msg for valid = INIT: the guest's request, answered with the same msg */
#define VTPM_SPAPR_INIT_CRQ 0x01u
#define VTPM_SPAPR_INIT_CRQ_COMPLETE 0x02u
/* msg for valid = COMMAND */
#define VTPM_SPAPR_MSG_GET_VERSION 0x01u
#define VTPM_SPAPR_MSG_TPM_COMMAND 0x02u
#define VTPM_SPAPR_MSG_GET_RTCE_BUFFER_SIZE 0x03u
#define VTPM_SPAPR_MSG_PREPARE_TO_SUSPEND 0x04u
#define VTPM_SPAPR_MSG_RESPONSE 0x80u /* or-ed into the msg of a response */
#define VTPM_SPAPR_MSG_ERROR 0xFFu    /* data: one of the error codes below */
#define VTPM_SPAPR_ERR_COPY_IN_FAILED 0x3u
#define VTPM_SPAPR_ERR_COPY_OUT_FAILED 0x4u

/* What vtpm_spapr_crq() returns to the guest's H_SEND_CRQ hypercall (PAPR return codes). */
#define VTPM_SPAPR_H_SUCCESS 0
#define VTPM_SPAPR_H_BUSY 1
#define VTPM_SPAPR_H_PARAMETER (-4)

struct vtpm_spapr_config {
    enum vtpm_tpm_version version;
    /*
     * Guest memory through the device's RTCE window: copy `len` bytes at I/O
     * bus address `ioba` from / to the guest. 0, or negative when the window
     * does not map it (the guest then gets a copy-in / copy-out error).
     */
    int (*dma_read)(void *opaque, uint32_t ioba, uint8_t *buf, size_t len);
    int (*dma_write)(void *opaque, uint32_t ioba, const uint8_t *buf, size_t len);
    /* Queues one message on the guest's CRQ (and raises its interrupt). 0 or negative. */
    int (*send_crq)(void *opaque, const uint8_t msg[VTPM_SPAPR_CRQ_SIZE]);
    void *opaque;
};

enum vtpm_spapr_state {
    VTPM_SPAPR_IDLE = 0,  /* no command outstanding */
    VTPM_SPAPR_EXECUTION, /* a TPM_COMMAND is in the backend: further ones get H_BUSY */
};

struct vtpm_spapr;

/* Creates a device using `be` (which must outlive it). 0, -EINVAL or -ENOMEM. */
int vtpm_spapr_create(const struct vtpm_spapr_config *cfg, struct vtpm_backend *be,
                      struct vtpm_spapr **out);
void vtpm_spapr_destroy(struct vtpm_spapr *s);

/*
 * One message from the guest (its H_SEND_CRQ). Answers arrive through
 * send_crq, at once or, for TPM_COMMAND, when the backend completes.
 * Returns VTPM_SPAPR_H_SUCCESS, VTPM_SPAPR_H_BUSY (a command is executing:
 * the guest retries) or VTPM_SPAPR_H_PARAMETER (a NULL message).
 */
int vtpm_spapr_crq(struct vtpm_spapr *s, const uint8_t msg[VTPM_SPAPR_CRQ_SIZE]);

/* The completion entry point passed to the backend (a vtpm_done_fn whose arg is the device). */
void vtpm_spapr_command_done(void *spapr, int status, const uint8_t *rsp, size_t len);

/* Platform reset: drops an outstanding command, then TPM_Init through the backend. */
int vtpm_spapr_reset(struct vtpm_spapr *s);

enum vtpm_spapr_state vtpm_spapr_state(const struct vtpm_spapr *s);
/* True once the guest completed the CRQ init handshake since the last reset. */
bool vtpm_spapr_initialized(const struct vtpm_spapr *s);

/* The device-tree "compatible" string for the family: "IBM,vtpm" or "IBM,vtpm20". */
const char *vtpm_spapr_dt_compatible(enum vtpm_tpm_version version);

/*
 * Device state for migration (versioned, big-endian). Save returns the
 * length, -EBUSY while a command executes, or -ENOSPC; restore returns 0,
 * -EINVAL or -EPROTONOSUPPORT and leaves the device unchanged on error.
 */
#define VTPM_SPAPR_STATE_VERSION 1u
#define VTPM_SPAPR_STATE_MAX (4u + 2u + 1u + 2u)
long vtpm_spapr_save(const struct vtpm_spapr *s, uint8_t *buf, size_t cap);
int vtpm_spapr_restore(struct vtpm_spapr *s, const uint8_t *buf, size_t len);

#endif
