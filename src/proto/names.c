/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto/names.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct code_name {
    uint32_t code;
    const char *name;
};

/* TPM 2.0 Library Part 2, TPM_CC (rev 1.59), in code order. */
static const struct code_name tpm2_cc[] = {
    {0x11F, "NV_UndefineSpaceSpecial"},
    {0x120, "EvictControl"},
    {0x121, "HierarchyControl"},
    {0x122, "NV_UndefineSpace"},
    {0x124, "ChangeEPS"},
    {0x125, "ChangePPS"},
    {0x126, "Clear"},
    {0x127, "ClearControl"},
    {0x128, "ClockSet"},
    {0x129, "HierarchyChangeAuth"},
    {0x12A, "NV_DefineSpace"},
    {0x12B, "PCR_Allocate"},
    {0x12C, "PCR_SetAuthPolicy"},
    {0x12D, "PP_Commands"},
    {0x12E, "SetPrimaryPolicy"},
    {0x12F, "FieldUpgradeStart"},
    {0x130, "ClockRateAdjust"},
    {0x131, "CreatePrimary"},
    {0x132, "NV_GlobalWriteLock"},
    {0x133, "GetCommandAuditDigest"},
    {0x134, "NV_Increment"},
    {0x135, "NV_SetBits"},
    {0x136, "NV_Extend"},
    {0x137, "NV_Write"},
    {0x138, "NV_WriteLock"},
    {0x139, "DictionaryAttackLockReset"},
    {0x13A, "DictionaryAttackParameters"},
    {0x13B, "NV_ChangeAuth"},
    {0x13C, "PCR_Event"},
    {0x13D, "PCR_Reset"},
    {0x13E, "SequenceComplete"},
    {0x13F, "SetAlgorithmSet"},
    {0x140, "SetCommandCodeAuditStatus"},
    {0x141, "FieldUpgradeData"},
    {0x142, "IncrementalSelfTest"},
    {0x143, "SelfTest"},
    {0x144, "Startup"},
    {0x145, "Shutdown"},
    {0x146, "StirRandom"},
    {0x147, "ActivateCredential"},
    {0x148, "Certify"},
    {0x149, "PolicyNV"},
    {0x14A, "CertifyCreation"},
    {0x14B, "Duplicate"},
    {0x14C, "GetTime"},
    {0x14D, "GetSessionAuditDigest"},
    {0x14E, "NV_Read"},
    {0x14F, "NV_ReadLock"},
    {0x150, "ObjectChangeAuth"},
    {0x151, "PolicySecret"},
    {0x152, "Rewrap"},
    {0x153, "Create"},
    {0x154, "ECDH_ZGen"},
    {0x155, "HMAC"},
    {0x156, "Import"},
    {0x157, "Load"},
    {0x158, "Quote"},
    {0x159, "RSA_Decrypt"},
    {0x15B, "HMAC_Start"},
    {0x15C, "SequenceUpdate"},
    {0x15D, "Sign"},
    {0x15E, "Unseal"},
    {0x160, "PolicySigned"},
    {0x161, "ContextLoad"},
    {0x162, "ContextSave"},
    {0x163, "ECDH_KeyGen"},
    {0x164, "EncryptDecrypt"},
    {0x165, "FlushContext"},
    {0x167, "LoadExternal"},
    {0x168, "MakeCredential"},
    {0x169, "NV_ReadPublic"},
    {0x16A, "PolicyAuthorize"},
    {0x16B, "PolicyAuthValue"},
    {0x16C, "PolicyCommandCode"},
    {0x16D, "PolicyCounterTimer"},
    {0x16E, "PolicyCpHash"},
    {0x16F, "PolicyLocality"},
    {0x170, "PolicyNameHash"},
    {0x171, "PolicyOR"},
    {0x172, "PolicyTicket"},
    {0x173, "ReadPublic"},
    {0x174, "RSA_Encrypt"},
    {0x176, "StartAuthSession"},
    {0x177, "VerifySignature"},
    {0x178, "ECC_Parameters"},
    {0x179, "FirmwareRead"},
    {0x17A, "GetCapability"},
    {0x17B, "GetRandom"},
    {0x17C, "GetTestResult"},
    {0x17D, "Hash"},
    {0x17E, "PCR_Read"},
    {0x17F, "PolicyPCR"},
    {0x180, "PolicyRestart"},
    {0x181, "ReadClock"},
    {0x182, "PCR_Extend"},
    {0x183, "PCR_SetAuthValue"},
    {0x184, "NV_Certify"},
    {0x185, "EventSequenceComplete"},
    {0x186, "HashSequenceStart"},
    {0x187, "PolicyPhysicalPresence"},
    {0x188, "PolicyDuplicationSelect"},
    {0x189, "PolicyGetDigest"},
    {0x18A, "TestParms"},
    {0x18B, "Commit"},
    {0x18C, "PolicyPassword"},
    {0x18D, "ZGen_2Phase"},
    {0x18E, "EC_Ephemeral"},
    {0x18F, "PolicyNvWritten"},
    {0x190, "PolicyTemplate"},
    {0x191, "CreateLoaded"},
    {0x192, "PolicyAuthorizeNV"},
    {0x193, "EncryptDecrypt2"},
    {0x194, "AC_GetCapability"},
    {0x195, "AC_Send"},
    {0x196, "Policy_AC_SendSelect"},
    {0x197, "CertifyX509"},
    {0x198, "ACT_SetTimeout"},
    {0x199, "ECC_Encrypt"},
    {0x19A, "ECC_Decrypt"},
};

/* TPM 1.2 Part 2 §17 ordinals: the ones firmware, Linux and TrouSerS use. */
static const struct code_name tpm12_ord[] = {
    {0x0000000A, "OIAP"},
    {0x0000000B, "OSAP"},
    {0x0000000C, "ChangeAuth"},
    {0x0000000D, "TakeOwnership"},
    {0x00000014, "Extend"},
    {0x00000015, "PcrRead"},
    {0x00000016, "Quote"},
    {0x00000017, "Seal"},
    {0x00000018, "Unseal"},
    {0x0000001F, "CreateWrapKey"},
    {0x00000021, "GetPubKey"},
    {0x0000003C, "Sign"},
    {0x00000041, "LoadKey2"},
    {0x00000046, "GetRandom"},
    {0x00000047, "StirRandom"},
    {0x00000050, "SelfTestFull"},
    {0x00000053, "ContinueSelfTest"},
    {0x00000054, "GetTestResult"},
    {0x0000005B, "OwnerClear"},
    {0x0000005C, "DisableOwnerClear"},
    {0x0000005D, "ForceClear"},
    {0x0000005E, "DisableForceClear"},
    {0x00000065, "GetCapability"},
    {0x0000006E, "OwnerSetDisable"},
    {0x0000006F, "PhysicalEnable"},
    {0x00000070, "PhysicalDisable"},
    {0x00000071, "SetOwnerInstall"},
    {0x00000072, "PhysicalSetDeactivated"},
    {0x00000073, "SetTempDeactivated"},
    {0x00000078, "CreateEndorsementKeyPair"},
    {0x0000007C, "ReadPubek"},
    {0x00000098, "SaveState"},
    {0x00000099, "Startup"},
    {0x000000BA, "FlushSpecific"},
    {0x000000C8, "PCR_Reset"},
    {0x000000CC, "NV_DefineSpace"},
    {0x000000CD, "NV_WriteValue"},
    {0x000000CF, "NV_ReadValue"},
    {0x4000000A, "TSC_PhysicalPresence"},
    {0x4000000B, "TSC_ResetEstablishmentBit"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- response codes ------------------------------------------------------ */

/* TPM 1.2 Main Part 2 §16: TPM_BASE + n */
static const char *const tpm12_rc_names[] = {
    "TPM_SUCCESS",
    "TPM_AUTHFAIL",
    "TPM_BADINDEX",
    "TPM_BAD_PARAMETER",
    "TPM_AUDITFAILURE",
    "TPM_CLEAR_DISABLED",
    "TPM_DEACTIVATED",
    "TPM_DISABLED",
    "TPM_DISABLED_CMD",
    "TPM_FAIL",
    "TPM_BAD_ORDINAL",
    "TPM_INSTALL_DISABLED",
    "TPM_INVALID_KEYHANDLE",
    "TPM_KEYNOTFOUND",
    "TPM_INAPPROPRIATE_ENC",
    "TPM_MIGRATEFAIL",
    "TPM_INVALID_PCR_INFO",
    "TPM_NOSPACE",
    "TPM_NOSRK",
    "TPM_NOTSEALED_BLOB",
    "TPM_OWNER_SET",
    "TPM_RESOURCES",
    "TPM_SHORTRANDOM",
    "TPM_SIZE",
    "TPM_WRONGPCRVAL",
    "TPM_BAD_PARAM_SIZE",
    "TPM_SHA_THREAD",
    "TPM_SHA_ERROR",
    "TPM_FAILEDSELFTEST",
    "TPM_AUTH2FAIL",
    "TPM_BADTAG",
    "TPM_IOERROR",
    "TPM_ENCRYPT_ERROR",
    "TPM_DECRYPT_ERROR",
    "TPM_INVALID_AUTHHANDLE",
    "TPM_NO_ENDORSEMENT",
    "TPM_INVALID_KEYUSAGE",
    "TPM_WRONG_ENTITYTYPE",
    "TPM_INVALID_POSTINIT",
};

static const struct code_name tpm12_rc_more[] = {
    {0x3D, "TPM_BAD_LOCALITY"},
    {0x800, "TPM_RETRY"},
};

/* TPM 2.0 Part 2 §6.6.3: format-zero codes, RC_VER1 (0x100) + n */
static const struct code_name tpm2_rc_ver1[] = {
    {0x000, "TPM_RC_INITIALIZE"},
    {0x001, "TPM_RC_FAILURE"},
    {0x003, "TPM_RC_SEQUENCE"},
    {0x00B, "TPM_RC_PRIVATE"},
    {0x019, "TPM_RC_HMAC"},
    {0x020, "TPM_RC_DISABLED"},
    {0x021, "TPM_RC_EXCLUSIVE"},
    {0x024, "TPM_RC_AUTH_TYPE"},
    {0x025, "TPM_RC_AUTH_MISSING"},
    {0x026, "TPM_RC_POLICY"},
    {0x027, "TPM_RC_PCR"},
    {0x028, "TPM_RC_PCR_CHANGED"},
    {0x02D, "TPM_RC_UPGRADE"},
    {0x02E, "TPM_RC_TOO_MANY_CONTEXTS"},
    {0x02F, "TPM_RC_AUTH_UNAVAILABLE"},
    {0x030, "TPM_RC_REBOOT"},
    {0x031, "TPM_RC_UNBALANCED"},
    {0x042, "TPM_RC_COMMAND_SIZE"},
    {0x043, "TPM_RC_COMMAND_CODE"},
    {0x044, "TPM_RC_AUTHSIZE"},
    {0x045, "TPM_RC_AUTH_CONTEXT"},
    {0x046, "TPM_RC_NV_RANGE"},
    {0x047, "TPM_RC_NV_SIZE"},
    {0x048, "TPM_RC_NV_LOCKED"},
    {0x049, "TPM_RC_NV_AUTHORIZATION"},
    {0x04A, "TPM_RC_NV_UNINITIALIZED"},
    {0x04B, "TPM_RC_NV_SPACE"},
    {0x04C, "TPM_RC_NV_DEFINED"},
    {0x050, "TPM_RC_BAD_CONTEXT"},
    {0x051, "TPM_RC_CPHASH"},
    {0x052, "TPM_RC_PARENT"},
    {0x053, "TPM_RC_NEEDS_TEST"},
    {0x054, "TPM_RC_NO_RESULT"},
    {0x055, "TPM_RC_SENSITIVE"},
};

/* TPM 2.0 Part 2 §6.6.3: warnings, RC_WARN (0x900) + n */
static const struct code_name tpm2_rc_warn[] = {
    {0x001, "TPM_RC_CONTEXT_GAP"},     {0x002, "TPM_RC_OBJECT_MEMORY"},
    {0x003, "TPM_RC_SESSION_MEMORY"},  {0x004, "TPM_RC_MEMORY"},
    {0x005, "TPM_RC_SESSION_HANDLES"}, {0x006, "TPM_RC_OBJECT_HANDLES"},
    {0x007, "TPM_RC_LOCALITY"},        {0x008, "TPM_RC_YIELDED"},
    {0x009, "TPM_RC_CANCELED"},        {0x00A, "TPM_RC_TESTING"},
    {0x020, "TPM_RC_NV_RATE"},         {0x021, "TPM_RC_LOCKOUT"},
    {0x022, "TPM_RC_RETRY"},           {0x023, "TPM_RC_NV_UNAVAILABLE"},
};

/* TPM 2.0 Part 2 §6.6.3: format-one codes, RC_FMT1 (0x080) + n */
static const struct code_name tpm2_rc_fmt1[] = {
    {0x01, "TPM_RC_ASYMMETRIC"}, {0x02, "TPM_RC_ATTRIBUTES"}, {0x03, "TPM_RC_HASH"},
    {0x04, "TPM_RC_VALUE"},      {0x05, "TPM_RC_HIERARCHY"},  {0x07, "TPM_RC_KEY_SIZE"},
    {0x08, "TPM_RC_MGF"},        {0x09, "TPM_RC_MODE"},       {0x0A, "TPM_RC_TYPE"},
    {0x0B, "TPM_RC_HANDLE"},     {0x0C, "TPM_RC_KDF"},        {0x0D, "TPM_RC_RANGE"},
    {0x0E, "TPM_RC_AUTH_FAIL"},  {0x0F, "TPM_RC_NONCE"},      {0x10, "TPM_RC_PP"},
    {0x12, "TPM_RC_SCHEME"},     {0x15, "TPM_RC_SIZE"},       {0x16, "TPM_RC_SYMMETRIC"},
    {0x17, "TPM_RC_TAG"},        {0x18, "TPM_RC_SELECTOR"},   {0x1A, "TPM_RC_INSUFFICIENT"},
    {0x1B, "TPM_RC_SIGNATURE"},  {0x1C, "TPM_RC_KEY"},        {0x1D, "TPM_RC_POLICY_FAIL"},
    {0x1F, "TPM_RC_INTEGRITY"},  {0x20, "TPM_RC_TICKET"},     {0x21, "TPM_RC_RESERVED_BITS"},
    {0x22, "TPM_RC_BAD_AUTH"},   {0x23, "TPM_RC_EXPIRED"},    {0x24, "TPM_RC_POLICY_CC"},
    {0x25, "TPM_RC_BINDING"},    {0x26, "TPM_RC_CURVE"},      {0x27, "TPM_RC_ECC_POINT"},
};

static const char *find_name(const struct code_name *t, size_t n, uint32_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].code == code)
            return t[i].name;
    }
    return NULL;
}

static bool find_code(const struct code_name *t, size_t n, const char *name, uint32_t *code)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name) == 0) {
            *code = t[i].code;
            return true;
        }
    }
    return false;
}

const char *vtpm_tpm2_cc_name(uint32_t cc)
{
    return find_name(tpm2_cc, COUNT(tpm2_cc), cc);
}

const char *vtpm_tpm12_ord_name(uint32_t ord)
{
    return find_name(tpm12_ord, COUNT(tpm12_ord), ord);
}

static const char *strip(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool vtpm_tpm_cmd_lookup(const char *name, uint32_t *code)
{
    const char *rest;

    if ((rest = strip(name, "TPM_ORD_")) != NULL)
        return find_code(tpm12_ord, COUNT(tpm12_ord), rest, code);
    if ((rest = strip(name, "TPM2_CC_")) != NULL || (rest = strip(name, "TPM2_")) != NULL)
        return find_code(tpm2_cc, COUNT(tpm2_cc), rest, code);
    return find_code(tpm2_cc, COUNT(tpm2_cc), name, code) ||
           find_code(tpm12_ord, COUNT(tpm12_ord), name, code);
}

static const char *tpm12_rc_name(uint32_t rc)
{
    if (rc < COUNT(tpm12_rc_names))
        return tpm12_rc_names[rc];
    return find_name(tpm12_rc_more, COUNT(tpm12_rc_more), rc);
}

/*
 * TPM 2.0 Part 2 §6.6.2 format one: bit 7 set, error number in bits 0-5;
 * bit 6 (P) says bits 8-11 number a parameter, else bit 11 says bits 8-10
 * number a session, else a handle (0: not said which).
 */
static void describe_fmt1(uint32_t rc, char *out, size_t cap)
{
    const char *name = find_name(tpm2_rc_fmt1, COUNT(tpm2_rc_fmt1), rc & 0x3F);
    char base[40];
    unsigned n;

    if (name)
        snprintf(base, sizeof(base), "%s", name);
    else
        snprintf(base, sizeof(base), "TPM_RC_FMT1 + 0x%02x", rc & 0x3F);
    if (rc & 0x40) {
        n = (rc >> 8) & 0xF;
        snprintf(out, cap, "%s, parameter %u", base, n);
    } else if (rc & 0x800) {
        n = (rc >> 8) & 0x7;
        snprintf(out, cap, "%s, session %u", base, n);
    } else if ((n = (rc >> 8) & 0x7) != 0) {
        snprintf(out, cap, "%s, handle %u", base, n);
    } else {
        snprintf(out, cap, "%s", base);
    }
}

void vtpm_tpm_rc_describe(enum vtpm_family family, uint32_t rc, char *out, size_t cap)
{
    const char *name = NULL;

    if (rc == 0) {
        snprintf(out, cap, "%s", family == VTPM_FAMILY_20 ? "TPM_RC_SUCCESS" : "TPM_SUCCESS");
        return;
    }
    if (family == VTPM_FAMILY_20 && (rc & 0x80)) {
        describe_fmt1(rc, out, cap); /* bit 7 (F): format one, whatever bit 8 says */
        return;
    }
    if (family == VTPM_FAMILY_12 || rc < 0x100) {
        /* TPM 2.0 Part 2 §6.6.2: format zero without bit 8 is a TPM 1.2 code */
        name = tpm12_rc_name(rc);
    } else if (rc & 0x400) {
        snprintf(out, cap, "vendor-defined code 0x%03x", rc & 0x7F);
        return;
    } else if ((rc & 0xF00) == 0x900) {
        name = find_name(tpm2_rc_warn, COUNT(tpm2_rc_warn), rc & 0x7F);
    } else if ((rc & 0xF00) == 0x100) {
        name = find_name(tpm2_rc_ver1, COUNT(tpm2_rc_ver1), rc & 0x7F);
    }
    snprintf(out, cap, "%s", name ? name : "unknown response code");
}
