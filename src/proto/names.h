/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names of TPM 2.0 command codes (TPM 2.0 Part 2, table "TPM_CC") and of the
 * TPM 1.2 ordinals (TPM 1.2 Part 2, "Ordinals") that drivers, firmware and
 * TrouSerS send, for traces and for fault specs ("cmd=PCR_Extend").
 * Names are written without the TPM2_CC_ / TPM_ORD_ prefix. Pure.
 */
#ifndef VTPM_PROTO_NAMES_H
#define VTPM_PROTO_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/tpm.h"

/* The name of a TPM 2.0 command code, or NULL when unknown. */
const char *vtpm_tpm2_cc_name(uint32_t cc);
/* The name of a TPM 1.2 ordinal, or NULL when unknown. */
const char *vtpm_tpm12_ord_name(uint32_t ord);

/*
 * Looks a name up: "PCR_Extend" or "TPM2_PCR_Extend" / "TPM2_CC_PCR_Extend"
 * in the TPM 2.0 table, "TPM_ORD_Extend" in the TPM 1.2 table (a bare name
 * found only there is accepted too). Case-sensitive, as the specs write
 * them. Returns true and stores the code, or false.
 */
bool vtpm_tpm_cmd_lookup(const char *name, uint32_t *code);

/*
 * The name of response code `rc` from a TPM of `family` (TPM 2.0 Part 2
 * §6.6, TPM 1.2 Part 2 §16): "TPM_RC_INITIALIZE", "TPM_RC_VALUE, parameter
 * 1" (format one names the parameter, session or handle), "TPM_RETRY",
 * "vendor-defined code 0x012" or "unknown response code". A TPM 2.0 code
 * below 0x100 is a TPM 1.2 code (format zero without bit 8).
 */
void vtpm_tpm_rc_describe(enum vtpm_family family, uint32_t rc, char *out, size_t cap);

#endif
