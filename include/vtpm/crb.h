/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TPM 2.0 Command Response Buffer interface (TCG PC Client Platform TPM
 * Profile (PTP) 1.03, CRB interface) as a register model a VMM forwards MMIO
 * to: 5 localities of 4 KiB each at VTPM_CRB_BASE, each window holding the
 * locality registers, the control area and a view of the one data buffer.
 *
 * The model is pure: no I/O, no threads, no locks. The embedder serialises
 * every call on one device (MMIO accesses, vtpm_crb_command_done, reset,
 * save, restore), e.g. under its device lock.
 */
#ifndef VTPM_CRB_H
#define VTPM_CRB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

#define VTPM_CRB_BASE 0xFED40000u
#define VTPM_CRB_LOCALITIES 5u
#define VTPM_CRB_LOCALITY_SHIFT 12u /* each locality owns a 4 KiB window */
#define VTPM_CRB_SIZE (VTPM_CRB_LOCALITIES << VTPM_CRB_LOCALITY_SHIFT)

/* The identity QEMU's tpm-crb reports (IBM vendor id, device id 0), used when a config says 0. */
#define VTPM_CRB_DEFAULT_DID_VID 0x00001014u

/* Register offsets inside each locality's window (PTP 1.03, CRB register space) */
#define VTPM_CRB_REG_LOC_STATE 0x00u   /* 32 bit, read-only, the same in every window */
#define VTPM_CRB_REG_LOC_CTRL 0x08u    /* 32 bit, write-only */
#define VTPM_CRB_REG_LOC_STS 0x0Cu     /* 32 bit, read-only, per locality */
#define VTPM_CRB_REG_INTF_ID 0x30u     /* 64 bit, read-only */
#define VTPM_CRB_REG_INTF_ID_HI 0x34u  /* VID, DID */
#define VTPM_CRB_REG_CTRL_EXT 0x38u    /* 32 bit, reserved: reads 0 */
#define VTPM_CRB_REG_CTRL_REQ 0x40u    /* 32 bit */
#define VTPM_CRB_REG_CTRL_STS 0x44u    /* 32 bit, read-only */
#define VTPM_CRB_REG_CTRL_CANCEL 0x48u /* 32 bit */
#define VTPM_CRB_REG_CTRL_START 0x4Cu  /* 32 bit */
#define VTPM_CRB_REG_INT_ENABLE 0x50u  /* 32 bit */
#define VTPM_CRB_REG_INT_STS 0x54u     /* 32 bit, write 1 to clear */
#define VTPM_CRB_REG_CMD_SIZE 0x58u    /* 32 bit, read-only */
#define VTPM_CRB_REG_CMD_LADDR 0x5Cu   /* 32 bit, read-only */
#define VTPM_CRB_REG_CMD_HADDR 0x60u   /* 32 bit, read-only */
#define VTPM_CRB_REG_RSP_SIZE 0x64u    /* 32 bit, read-only */
#define VTPM_CRB_REG_RSP_ADDR 0x68u    /* 64 bit, read-only */
#define VTPM_CRB_REG_DATA_BUFFER 0x80u /* up to the end of the window */
#define VTPM_CRB_BUFFER_SIZE (0x1000u - VTPM_CRB_REG_DATA_BUFFER) /* 3968, as QEMU's */

/* TPM_LOC_STATE_x */
#define VTPM_CRB_LOC_STATE_tpmEstablished (1u << 0) /* 1: no dynamic OS launched */
#define VTPM_CRB_LOC_STATE_locAssigned (1u << 1)
#define VTPM_CRB_LOC_STATE_activeLocality_SHIFT 2u
#define VTPM_CRB_LOC_STATE_activeLocality_MASK (7u << 2)
#define VTPM_CRB_LOC_STATE_tpmRegValidSts (1u << 7)

/* TPM_LOC_CTRL_x */
#define VTPM_CRB_LOC_CTRL_requestAccess (1u << 0)
#define VTPM_CRB_LOC_CTRL_Relinquish (1u << 1)
#define VTPM_CRB_LOC_CTRL_Seize (1u << 2)
#define VTPM_CRB_LOC_CTRL_resetEstablishmentBit (1u << 3) /* localities 3 and 4 only */

/* TPM_LOC_STS_x */
#define VTPM_CRB_LOC_STS_Granted (1u << 0)
#define VTPM_CRB_LOC_STS_beenSeized (1u << 1)

/* TPM_CRB_INTF_ID_x, low dword (the high dword is VID | DID << 16) */
#define VTPM_CRB_INTF_InterfaceType_CRB (1u << 0)
#define VTPM_CRB_INTF_InterfaceVersion_CRB (1u << 4)
#define VTPM_CRB_INTF_CapLocality (1u << 8) /* all 5 localities */
#define VTPM_CRB_INTF_CapCRBIdleBypass (1u << 9)
#define VTPM_CRB_INTF_CapDataXferSizeSupport_64 (3u << 11)
#define VTPM_CRB_INTF_CapFIFO (1u << 13)
#define VTPM_CRB_INTF_CapCRB (1u << 14)
#define VTPM_CRB_INTF_InterfaceSelector_CRB (1u << 17)
#define VTPM_CRB_INTF_IntfSelLock (1u << 19)
#define VTPM_CRB_INTF_RID_SHIFT 24u

/* TPM_CRB_CTRL_REQ_x, TPM_CRB_CTRL_STS_x, TPM_CRB_CTRL_CANCEL_x, TPM_CRB_CTRL_START_x */
#define VTPM_CRB_CTRL_REQ_cmdReady (1u << 0)
#define VTPM_CRB_CTRL_REQ_goIdle (1u << 1)
#define VTPM_CRB_CTRL_STS_tpmSts (1u << 0) /* fatal error: only a reset clears it */
#define VTPM_CRB_CTRL_STS_tpmIdle (1u << 1)
#define VTPM_CRB_CTRL_CANCEL_Cancel (1u << 0)
#define VTPM_CRB_CTRL_START_Start (1u << 0)

/* TPM_CRB_INT_ENABLE_x and TPM_CRB_INT_STS_x */
#define VTPM_CRB_INT_Start (1u << 0)    /* Start went from 1 to 0: a response is ready */
#define VTPM_CRB_INT_CmdReady (1u << 1) /* the TPM left Idle for Ready */
#define VTPM_CRB_INT_EstablishmentClear (1u << 2)
#define VTPM_CRB_INT_LocChanged (1u << 3)
#define VTPM_CRB_INT_GlobalEnable (1u << 31)
#define VTPM_CRB_INT_ALL                                                                           \
    (VTPM_CRB_INT_Start | VTPM_CRB_INT_CmdReady | VTPM_CRB_INT_EstablishmentClear |                \
     VTPM_CRB_INT_LocChanged)

/* The interrupt line, asserted (true) or deasserted. */
typedef void (*vtpm_crb_irq_fn)(void *opaque, bool asserted);

struct vtpm_crb_config {
    uint32_t did_vid;        /* INTF_ID bits 63:32; 0 means VTPM_CRB_DEFAULT_DID_VID */
    uint8_t rid;             /* INTF_ID.RID */
    bool locality4_writable; /* writes to locality 4 reach the TPM (else dropped) */
    vtpm_crb_irq_fn irq;     /* may be NULL: polling only */
    void *irq_opaque;
};

struct vtpm_crb;

/*
 * Creates a device in its reset state (no locality assigned, TPM idle) using
 * `be`, which must outlive it and hold a TPM 2.0 (CRB has no TPM 1.2 form).
 * Does not touch the TPM: call vtpm_crb_reset() at machine power-on.
 * Returns 0, -EINVAL (bad arguments) or -ENOMEM.
 */
int vtpm_crb_create(const struct vtpm_crb_config *cfg, struct vtpm_backend *be,
                    struct vtpm_crb **out);
void vtpm_crb_destroy(struct vtpm_crb *c);

/*
 * MMIO access at `offset` from VTPM_CRB_BASE. Registers take 1, 2 or 4 bytes
 * inside one dword, and 8 bytes at an 8-aligned offset (done as the low dword
 * then the high one); the data buffer takes 1, 2, 4 or 8 bytes anywhere
 * inside it. Anything else reads as all ones and is dropped on write.
 */
uint64_t vtpm_crb_read(struct vtpm_crb *c, uint64_t offset, unsigned size);
void vtpm_crb_write(struct vtpm_crb *c, uint64_t offset, uint64_t value, unsigned size);

/*
 * The completion entry point: a vtpm_done_fn whose `arg` is the device. The
 * device passes it to the backend's deliver op itself; a backend that
 * completes on another thread must take the embedder's device lock around it.
 */
void vtpm_crb_command_done(void *crb, int status, const uint8_t *rsp, size_t len);

/* Platform reset: every register to its reset value, then TPM_Init through the backend. */
int vtpm_crb_reset(struct vtpm_crb *c);

/* True while a command is executing in the backend (CTRL_START reads 1); save refuses then. */
bool vtpm_crb_busy(const struct vtpm_crb *c);

/* The spec name of the register at `offset` ("CTRL_START", "DATA_BUFFER", ...), or NULL. */
const char *vtpm_crb_reg_name(uint64_t offset);

/*
 * Device state for migration, as a versioned big-endian blob of at most
 * VTPM_CRB_STATE_MAX bytes. Save returns the length, -EBUSY while a command
 * executes (wait for its completion and retry) or -ENOSPC. Restore returns 0,
 * -EINVAL for a malformed blob, or -EPROTONOSUPPORT for an unknown version;
 * on error the device is unchanged.
 */
#define VTPM_CRB_STATE_VERSION 1u
#define VTPM_CRB_STATE_MAX (4u + 2u + 6u + 8u + 2u + VTPM_CRB_BUFFER_SIZE)
long vtpm_crb_save(const struct vtpm_crb *c, uint8_t *buf, size_t cap);
int vtpm_crb_restore(struct vtpm_crb *c, const uint8_t *buf, size_t len);

#endif
