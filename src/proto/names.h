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
#include <stdint.h>

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

#endif
