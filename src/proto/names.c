/* SPDX-License-Identifier: BSD-3-Clause */
#include "proto/names.h"

#include <stddef.h>
#include <string.h>

struct code_name {
    uint32_t code;
    const char *name;
};

/* TPM 2.0 Library Part 2, TPM_CC (rev 1.59), in code order. */
static const struct code_name tpm2_cc[] = {
    {0x11F, "NV_UndefineSpaceSpecial"}, {0x120, "EvictControl"},
    {0x121, "HierarchyControl"},        {0x122, "NV_UndefineSpace"},
    {0x124, "ChangeEPS"},               {0x125, "ChangePPS"},
    {0x126, "Clear"},                   {0x127, "ClearControl"},
    {0x128, "ClockSet"},                {0x129, "HierarchyChangeAuth"},
    {0x12A, "NV_DefineSpace"},          {0x12B, "PCR_Allocate"},
    {0x12C, "PCR_SetAuthPolicy"},       {0x12D, "PP_Commands"},
    {0x12E, "SetPrimaryPolicy"},        {0x12F, "FieldUpgradeStart"},
    {0x130, "ClockRateAdjust"},         {0x131, "CreatePrimary"},
    {0x132, "NV_GlobalWriteLock"},      {0x133, "GetCommandAuditDigest"},
    {0x134, "NV_Increment"},            {0x135, "NV_SetBits"},
    {0x136, "NV_Extend"},               {0x137, "NV_Write"},
    {0x138, "NV_WriteLock"},            {0x139, "DictionaryAttackLockReset"},
    {0x13A, "DictionaryAttackParameters"}, {0x13B, "NV_ChangeAuth"},
    {0x13C, "PCR_Event"},               {0x13D, "PCR_Reset"},
    {0x13E, "SequenceComplete"},        {0x13F, "SetAlgorithmSet"},
    {0x140, "SetCommandCodeAuditStatus"}, {0x141, "FieldUpgradeData"},
    {0x142, "IncrementalSelfTest"},     {0x143, "SelfTest"},
    {0x144, "Startup"},                 {0x145, "Shutdown"},
    {0x146, "StirRandom"},              {0x147, "ActivateCredential"},
    {0x148, "Certify"},                 {0x149, "PolicyNV"},
    {0x14A, "CertifyCreation"},         {0x14B, "Duplicate"},
    {0x14C, "GetTime"},                 {0x14D, "GetSessionAuditDigest"},
    {0x14E, "NV_Read"},                 {0x14F, "NV_ReadLock"},
    {0x150, "ObjectChangeAuth"},        {0x151, "PolicySecret"},
    {0x152, "Rewrap"},                  {0x153, "Create"},
    {0x154, "ECDH_ZGen"},               {0x155, "HMAC"},
    {0x156, "Import"},                  {0x157, "Load"},
    {0x158, "Quote"},                   {0x159, "RSA_Decrypt"},
    {0x15B, "HMAC_Start"},              {0x15C, "SequenceUpdate"},
    {0x15D, "Sign"},                    {0x15E, "Unseal"},
    {0x160, "PolicySigned"},            {0x161, "ContextLoad"},
    {0x162, "ContextSave"},             {0x163, "ECDH_KeyGen"},
    {0x164, "EncryptDecrypt"},          {0x165, "FlushContext"},
    {0x167, "LoadExternal"},            {0x168, "MakeCredential"},
    {0x169, "NV_ReadPublic"},           {0x16A, "PolicyAuthorize"},
    {0x16B, "PolicyAuthValue"},         {0x16C, "PolicyCommandCode"},
    {0x16D, "PolicyCounterTimer"},      {0x16E, "PolicyCpHash"},
    {0x16F, "PolicyLocality"},          {0x170, "PolicyNameHash"},
    {0x171, "PolicyOR"},                {0x172, "PolicyTicket"},
    {0x173, "ReadPublic"},              {0x174, "RSA_Encrypt"},
    {0x176, "StartAuthSession"},        {0x177, "VerifySignature"},
    {0x178, "ECC_Parameters"},          {0x179, "FirmwareRead"},
    {0x17A, "GetCapability"},           {0x17B, "GetRandom"},
    {0x17C, "GetTestResult"},           {0x17D, "Hash"},
    {0x17E, "PCR_Read"},                {0x17F, "PolicyPCR"},
    {0x180, "PolicyRestart"},           {0x181, "ReadClock"},
    {0x182, "PCR_Extend"},              {0x183, "PCR_SetAuthValue"},
    {0x184, "NV_Certify"},              {0x185, "EventSequenceComplete"},
    {0x186, "HashSequenceStart"},       {0x187, "PolicyPhysicalPresence"},
    {0x188, "PolicyDuplicationSelect"}, {0x189, "PolicyGetDigest"},
    {0x18A, "TestParms"},               {0x18B, "Commit"},
    {0x18C, "PolicyPassword"},          {0x18D, "ZGen_2Phase"},
    {0x18E, "EC_Ephemeral"},            {0x18F, "PolicyNvWritten"},
    {0x190, "PolicyTemplate"},          {0x191, "CreateLoaded"},
    {0x192, "PolicyAuthorizeNV"},       {0x193, "EncryptDecrypt2"},
    {0x194, "AC_GetCapability"},        {0x195, "AC_Send"},
    {0x196, "Policy_AC_SendSelect"},    {0x197, "CertifyX509"},
    {0x198, "ACT_SetTimeout"},          {0x199, "ECC_Encrypt"},
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
