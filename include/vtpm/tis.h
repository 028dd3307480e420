/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TPM TIS / PTP FIFO interface (TCG PC Client TIS 1.3; TCG PC Client
 * Platform TPM Profile, FIFO interface) as a register model a VMM forwards
 * MMIO to: 5 localities of 4 KiB each at VTPM_TIS_BASE.
 *
 * The model is pure: no I/O, no threads, no locks. The embedder serialises
 * every call on one device (MMIO accesses, vtpm_tis_command_done, reset,
 * save, restore), e.g. under its device lock.
 */
#ifndef VTPM_TIS_H
#define VTPM_TIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

#define VTPM_TIS_BASE 0xFED40000u
#define VTPM_TIS_LOCALITIES 5u
#define VTPM_TIS_LOCALITY_SHIFT 12u /* each locality owns a 4 KiB window */
#define VTPM_TIS_SIZE (VTPM_TIS_LOCALITIES << VTPM_TIS_LOCALITY_SHIFT)
#define VTPM_TIS_BUFFER_SIZE 4096u

/* The identity QEMU's tpm-tis reports (IBM vendor id), used when a config says 0. */
#define VTPM_TIS_DEFAULT_DID_VID 0x00011014u
#define VTPM_TIS_DEFAULT_RID 0x01u

/* Register offsets inside each locality's window (TIS 1.3 §5.4, PTP FIFO register space) */
#define VTPM_TIS_REG_ACCESS 0x000u          /* 8 bit */
#define VTPM_TIS_REG_INT_ENABLE 0x008u      /* 32 bit */
#define VTPM_TIS_REG_INT_VECTOR 0x00Cu      /* 8 bit */
#define VTPM_TIS_REG_INT_STATUS 0x010u      /* 32 bit, write 1 to clear */
#define VTPM_TIS_REG_INTF_CAPABILITY 0x014u /* 32 bit, read-only */
#define VTPM_TIS_REG_STS 0x018u             /* 32 bit: status, burstCount, family */
#define VTPM_TIS_REG_DATA_FIFO 0x024u       /* 8 to 32 bit */
#define VTPM_TIS_REG_INTERFACE_ID 0x030u    /* 32 bit (TPM 2.0) */
#define VTPM_TIS_REG_XDATA_FIFO 0x080u      /* 0x80-0xBF, the extended FIFO */
#define VTPM_TIS_REG_XDATA_FIFO_END 0x0BFu
#define VTPM_TIS_REG_DID_VID 0xF00u
#define VTPM_TIS_REG_RID 0xF04u

/* TPM_ACCESS_x */
#define VTPM_TIS_ACCESS_tpmEstablishment (1u << 0) /* 1: no dynamic OS launched */
#define VTPM_TIS_ACCESS_requestUse (1u << 1)
#define VTPM_TIS_ACCESS_pendingRequest (1u << 2)
#define VTPM_TIS_ACCESS_Seize (1u << 3)
#define VTPM_TIS_ACCESS_beenSeized (1u << 4)
#define VTPM_TIS_ACCESS_activeLocality (1u << 5)
#define VTPM_TIS_ACCESS_tpmRegValidSts (1u << 7)

/* TPM_STS_x */
#define VTPM_TIS_STS_responseRetry (1u << 1)
#define VTPM_TIS_STS_selfTestDone (1u << 2)
#define VTPM_TIS_STS_Expect (1u << 3)
#define VTPM_TIS_STS_dataAvail (1u << 4)
#define VTPM_TIS_STS_tpmGo (1u << 5)
#define VTPM_TIS_STS_commandReady (1u << 6)
#define VTPM_TIS_STS_stsValid (1u << 7)
#define VTPM_TIS_STS_burstCount_SHIFT 8u
#define VTPM_TIS_STS_burstCount_MASK (0xFFFFu << 8)
#define VTPM_TIS_STS_commandCancel (1u << 24)      /* TPM 2.0 */
#define VTPM_TIS_STS_resetEstablishment (1u << 25) /* TPM 2.0, localities 3 and 4 */
#define VTPM_TIS_STS_tpmFamily_MASK (3u << 26)
#define VTPM_TIS_STS_tpmFamily_1_2 (0u << 26)
#define VTPM_TIS_STS_tpmFamily_2_0 (1u << 26)

/* TPM_INT_ENABLE_x and TPM_INT_STATUS_x */
#define VTPM_TIS_INT_dataAvail (1u << 0)
#define VTPM_TIS_INT_stsValid (1u << 1)
#define VTPM_TIS_INT_localityChange (1u << 2)
#define VTPM_TIS_INT_typePolarity_MASK (3u << 3)
#define VTPM_TIS_INT_typePolarity_LOW_LEVEL (1u << 3)
#define VTPM_TIS_INT_commandReady (1u << 7)
#define VTPM_TIS_INT_globalIntEnable (1u << 31)
#define VTPM_TIS_INT_ALL                                                                           \
    (VTPM_TIS_INT_dataAvail | VTPM_TIS_INT_stsValid | VTPM_TIS_INT_localityChange |                \
     VTPM_TIS_INT_commandReady)

/* TPM_INTERFACE_ID_x (TPM 2.0) */
#define VTPM_TIS_IFACE_CapLocality (1u << 8)
#define VTPM_TIS_IFACE_CapTIS (1u << 13)
#define VTPM_TIS_IFACE_IntfSelLock (1u << 19)

/* The state of the FIFO interface (TIS 1.3 §5.6, "TPM state transitions") */
enum vtpm_tis_state {
    VTPM_TIS_IDLE = 0,
    VTPM_TIS_READY,
    VTPM_TIS_RECEPTION,
    VTPM_TIS_EXECUTION,
    VTPM_TIS_COMPLETION,
};

/* The interrupt line, asserted (true) or deasserted; the embedder applies the polarity. */
typedef void (*vtpm_irq_fn)(void *opaque, bool asserted);

struct vtpm_tis_config {
    enum vtpm_tpm_version version;
    uint32_t did_vid;        /* TPM_DID_VID_x; 0 means VTPM_TIS_DEFAULT_DID_VID */
    uint8_t rid;             /* TPM_RID_x; 0 means VTPM_TIS_DEFAULT_RID */
    uint8_t irq_vector;      /* TPM_INT_VECTOR_x.sirqVec, hard-wired by the platform */
    bool locality4_writable; /* writes to locality 4 reach the TPM (else dropped) */
    vtpm_irq_fn irq;         /* may be NULL: polling only */
    void *irq_opaque;
};

struct vtpm_tis;

/*
 * Creates a device in its reset state (no locality active, all idle) using
 * `be`, which must outlive it. Does not touch the TPM: call vtpm_tis_reset()
 * at machine power-on. Returns 0, -EINVAL (bad config) or -ENOMEM.
 */
int vtpm_tis_create(const struct vtpm_tis_config *cfg, struct vtpm_backend *be,
                    struct vtpm_tis **out);
void vtpm_tis_destroy(struct vtpm_tis *t);

/*
 * MMIO access at `offset` from VTPM_TIS_BASE, of 1, 2 or 4 bytes, not
 * crossing a 4-byte boundary. Anything else reads as all ones and is
 * dropped on write, as are reads of unassigned offsets.
 */
uint64_t vtpm_tis_read(struct vtpm_tis *t, uint64_t offset, unsigned size);
void vtpm_tis_write(struct vtpm_tis *t, uint64_t offset, uint64_t value, unsigned size);

/*
 * The completion entry point: a vtpm_done_fn whose `arg` is the device. The
 * device passes it to the backend's deliver op itself; a backend that
 * completes on another thread must take the embedder's device lock around it.
 */
void vtpm_tis_command_done(void *tis, int status, const uint8_t *rsp, size_t len);

/* Platform reset: every register to its reset value, then TPM_Init through the backend. */
int vtpm_tis_reset(struct vtpm_tis *t);

/* True while a command is executing in the backend; save refuses then. */
bool vtpm_tis_busy(const struct vtpm_tis *t);

/* The state of locality `locality`'s FIFO interface (for traces and tests). */
enum vtpm_tis_state vtpm_tis_state(const struct vtpm_tis *t, uint8_t locality);

/* The spec name of the register at `offset` ("STS", "DATA_FIFO", ...), or NULL. */
const char *vtpm_tis_reg_name(uint64_t offset);

/*
 * Device state for migration, as a versioned big-endian blob of at most
 * VTPM_TIS_STATE_MAX bytes. Save returns the length, -EBUSY while a command
 * executes (wait for its completion and retry) or -ENOSPC. Restore returns 0,
 * -EINVAL for a malformed blob or one from another TPM family, or
 * -EPROTONOSUPPORT for an unknown version; on error the device is unchanged.
 */
#define VTPM_TIS_STATE_VERSION 1u
#define VTPM_TIS_STATE_MAX (4u + 2u + 6u + VTPM_TIS_LOCALITIES * 18u + 2u + VTPM_TIS_BUFFER_SIZE)
long vtpm_tis_save(const struct vtpm_tis *t, uint8_t *buf, size_t cap);
int vtpm_tis_restore(struct vtpm_tis *t, const uint8_t *buf, size_t len);

#endif
