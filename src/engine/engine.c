/* SPDX-License-Identifier: BSD-3-Clause */
#include "engine/engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_memory.h>
#include <libtpms/tpm_nvfilename.h>
#include <libtpms/tpm_tis.h>

#include "proto/ctrl.h"
#include "util/buf.h"
#include "util/log.h"

/* libtpms forces one TPM per process; this is its state (STYLE.md allows it here only). */
static struct {
    pthread_mutex_t lock;
    enum vtpm_family family;
    struct vtpm_store *store;
    atomic_bool running; /* read without the lock: the control thread must not wait */
    atomic_uint_least8_t locality;
    uint32_t last_code;  /* the last command's code, to skip a redundant TPM2_Shutdown */
    char err[512];       /* why the last store access failed, for the caller's message */
    uint8_t *rbuf;       /* responses to the engine's own commands */
    uint32_t rtotal;
} eng = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static int blob_type_of(const char *name, enum vtpm_blob_type *type)
{
    if (strcmp(name, TPM_PERMANENT_ALL_NAME) == 0)
        *type = VTPM_BLOB_PERMANENT;
    else if (strcmp(name, TPM_VOLATILESTATE_NAME) == 0)
        *type = VTPM_BLOB_VOLATILE;
    else if (strcmp(name, TPM_SAVESTATE_NAME) == 0)
        *type = VTPM_BLOB_SAVESTATE;
    else
        return -EINVAL;
    return 0;
}

static TPM_RESULT cb_nvram_init(void)
{
    return TPM_SUCCESS;
}

static TPM_RESULT cb_nvram_load(unsigned char **data, uint32_t *length, uint32_t tpm_number,
                                const char *name)
{
    enum vtpm_blob_type type;
    uint8_t *buf = NULL;
    size_t len = 0;

    (void)tpm_number;
    if (blob_type_of(name, &type) < 0)
        return TPM_FAIL;
    int rc = vtpm_store_load(eng.store, type, &buf, &len, eng.err, sizeof(eng.err));
    if (rc == -ENOENT)
        return TPM_RETRY; /* libtpms: no such state, start fresh */
    if (rc < 0)
        return TPM_FAIL; /* eng.err says why; the caller reports it once */
    /* libtpms frees what it is given with its own allocator. */
    if (TPM_Malloc(data, (uint32_t)len ? (uint32_t)len : 1) != TPM_SUCCESS) {
        free(buf);
        return TPM_SIZE;
    }
    memcpy(*data, buf, len);
    *length = (uint32_t)len;
    free(buf);
    return TPM_SUCCESS;
}

static TPM_RESULT cb_nvram_store(const unsigned char *data, uint32_t length, uint32_t tpm_number,
                                 const char *name)
{
    enum vtpm_blob_type type;

    (void)tpm_number;
    if (blob_type_of(name, &type) < 0)
        return TPM_FAIL;
    if (vtpm_store_save(eng.store, type, data, length, eng.err, sizeof(eng.err)) < 0) {
        vtpm_log(VTPM_LOG_ERROR, "%s", eng.err);
        return TPM_FAIL;
    }
    return TPM_SUCCESS;
}

static TPM_RESULT cb_nvram_delete(uint32_t tpm_number, const char *name, TPM_BOOL must_exist)
{
    enum vtpm_blob_type type;

    (void)tpm_number;
    if (blob_type_of(name, &type) < 0)
        return TPM_FAIL;
    if (must_exist && !vtpm_store_exists(eng.store, type))
        return TPM_FAIL;
    return vtpm_store_delete(eng.store, type) < 0 ? TPM_FAIL : TPM_SUCCESS;
}

static TPM_RESULT cb_io_init(void)
{
    return TPM_SUCCESS;
}

static TPM_RESULT cb_io_locality(TPM_MODIFIER_INDICATOR *locality, uint32_t tpm_number)
{
    (void)tpm_number;
    *locality = atomic_load(&eng.locality);
    return TPM_SUCCESS;
}

static TPM_RESULT cb_io_physical_presence(TPM_BOOL *present, uint32_t tpm_number)
{
    (void)tpm_number;
    *present = FALSE; /* as swtpm: physical presence is asserted by command, not hardware */
    return TPM_SUCCESS;
}

int vtpm_engine_setup(enum vtpm_family family, struct vtpm_store *store)
{
    static struct libtpms_callbacks cbs = {
        .sizeOfStruct = sizeof(struct libtpms_callbacks),
        .tpm_nvram_init = cb_nvram_init,
        .tpm_nvram_loaddata = cb_nvram_load,
        .tpm_nvram_storedata = cb_nvram_store,
        .tpm_nvram_deletename = cb_nvram_delete,
        .tpm_io_init = cb_io_init,
        .tpm_io_getlocality = cb_io_locality,
        .tpm_io_getphysicalpresence = cb_io_physical_presence,
    };
    TPMLIB_TPMVersion ver =
        family == VTPM_FAMILY_20 ? TPMLIB_TPM_VERSION_2 : TPMLIB_TPM_VERSION_1_2;

    eng.family = family;
    eng.store = store;
    if (TPMLIB_ChooseTPMVersion(ver) != TPM_SUCCESS)
        return -ENOTSUP;
    if (TPMLIB_RegisterCallbacks(&cbs) != TPM_SUCCESS)
        return -EINVAL;
    return 0;
}

/* Runs a command the engine builds itself; the lock is held. */
static uint32_t run_internal(const uint8_t *cmd, size_t len)
{
    uint32_t rlen = 0;

    if (TPMLIB_Process(&eng.rbuf, &rlen, &eng.rtotal, (unsigned char *)cmd, (uint32_t)len))
        return TPM_FAIL;
    eng.last_code = get_be32(cmd + 6);
    return vtpm_tpm_response_code(eng.rbuf, rlen);
}

/*
 * Before the TPM stops, a TPM 2.0 gets TPM2_Shutdown unless the last command
 * was one: without it the next start counts as unorderly, which feeds the
 * dictionary-attack counter. SU_STATE first (it keeps more), else SU_CLEAR.
 */
static void auto_shutdown_locked(void)
{
    static const uint16_t types[] = { VTPM_TPM2_SU_STATE, VTPM_TPM2_SU_CLEAR };
    uint8_t cmd[12];

    if (!eng.running || eng.family != VTPM_FAMILY_20 || eng.last_code == VTPM_TPM2_CC_SHUTDOWN)
        return;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        uint32_t rc = run_internal(cmd, vtpm_tpm2_shutdown_cmd(cmd, types[i]));
        if (rc == 0 || rc == VTPM_TPM2_RC_INITIALIZE)
            return;
    }
}

static void stop_locked(bool auto_shutdown)
{
    if (!eng.running)
        return;
    if (auto_shutdown)
        auto_shutdown_locked();
    TPMLIB_Terminate();
    eng.running = false;
}

uint32_t vtpm_engine_start(uint32_t init_flags, char *err, size_t errlen)
{
    uint32_t rc;

    pthread_mutex_lock(&eng.lock);
    stop_locked(false);
    eng.err[0] = '\0';
    eng.last_code = 0;
    rc = TPMLIB_MainInit();
    if (rc != TPM_SUCCESS) {
        snprintf(err, errlen, "%s",
                 eng.err[0] ? eng.err : "libtpms could not initialise the TPM from its state");
        goto out;
    }
    eng.running = true;
    if ((init_flags & VTPM_INIT_FLAG_DELETE_VOLATILE) &&
        vtpm_store_delete(eng.store, VTPM_BLOB_VOLATILE) < 0) {
        snprintf(err, errlen, "could not delete the volatile state %s",
                 vtpm_store_path(eng.store, VTPM_BLOB_VOLATILE));
        stop_locked(false);
        rc = TPM_FAIL;
    }
out:
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

void vtpm_engine_stop(bool auto_shutdown)
{
    pthread_mutex_lock(&eng.lock);
    stop_locked(auto_shutdown);
    pthread_mutex_unlock(&eng.lock);
}

bool vtpm_engine_running(void)
{
    /* Lock-free: CANCEL must be decided while the data thread holds the lock. */
    return atomic_load(&eng.running);
}

uint32_t vtpm_engine_startup(uint16_t type)
{
    uint8_t cmd[12];
    size_t len = vtpm_tpm_startup_cmd(cmd, eng.family, type);
    uint32_t rc = TPM_FAIL;

    if (!len)
        return TPM_BAD_PARAMETER;
    pthread_mutex_lock(&eng.lock);
    if (eng.running)
        rc = run_internal(cmd, len);
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

static void fail_response(uint8_t **rbuf, uint32_t *rtotal, uint32_t *rlen)
{
    uint32_t rc = eng.family == VTPM_FAMILY_20 ? VTPM_TPM2_RC_FAILURE : VTPM_TPM12_FAIL;

    if (*rtotal < VTPM_TPM_HDR_SIZE) {
        uint8_t *p = realloc(*rbuf, VTPM_TPM_HDR_SIZE);
        if (!p) {
            *rlen = 0;
            return;
        }
        *rbuf = p;
        *rtotal = VTPM_TPM_HDR_SIZE;
    }
    *rlen = (uint32_t)vtpm_tpm_error_response(*rbuf, eng.family, rc);
}

void vtpm_engine_process(const uint8_t *cmd, size_t len, uint8_t **rbuf, uint32_t *rtotal,
                         uint32_t *rlen)
{
    pthread_mutex_lock(&eng.lock);
    if (!eng.running) {
        fail_response(rbuf, rtotal, rlen);
        goto out;
    }
    *rlen = 0;
    /* libtpms allocates with its own allocator, which is malloc/realloc. */
    TPM_RESULT rc = TPMLIB_Process(rbuf, rlen, rtotal, (unsigned char *)cmd, (uint32_t)len);
    if (len >= VTPM_TPM_HDR_SIZE)
        eng.last_code = get_be32(cmd + 6);
    if (rc != TPM_SUCCESS || *rlen < VTPM_TPM_HDR_SIZE)
        fail_response(rbuf, rtotal, rlen);
out:
    pthread_mutex_unlock(&eng.lock);
}

uint32_t vtpm_engine_cancel(void)
{
    /* No lock: this must reach libtpms while the data thread is inside a
     * command. libtpms clears the flag when a command starts, so a cancel
     * that arrives between commands does not leak into the next one. */
    return TPMLIB_CancelCommand();
}

void vtpm_engine_set_locality(uint8_t locality)
{
    atomic_store(&eng.locality, locality);
}

uint8_t vtpm_engine_locality(void)
{
    return atomic_load(&eng.locality);
}

uint32_t vtpm_engine_established(bool *set)
{
    TPM_BOOL bit = FALSE;

    pthread_mutex_lock(&eng.lock);
    uint32_t rc = TPM_IO_TpmEstablished_Get(&bit);
    pthread_mutex_unlock(&eng.lock);
    *set = bit;
    return rc;
}

uint32_t vtpm_engine_reset_established(uint8_t locality)
{
    pthread_mutex_lock(&eng.lock);
    uint8_t saved = atomic_exchange(&eng.locality, locality);
    uint32_t rc = TPM_IO_TpmEstablished_Reset();
    atomic_store(&eng.locality, saved);
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_hash_start(void)
{
    pthread_mutex_lock(&eng.lock);
    uint32_t rc = TPM_IO_Hash_Start();
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_hash_data(const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&eng.lock);
    uint32_t rc = TPM_IO_Hash_Data(data, (uint32_t)len);
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_hash_end(void)
{
    pthread_mutex_lock(&eng.lock);
    uint32_t rc = TPM_IO_Hash_End();
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

static uint32_t store_volatile_locked(void)
{
    unsigned char *buf = NULL;
    uint32_t len = 0;
    uint32_t rc = TPMLIB_VolatileAll_Store(&buf, &len);

    if (rc == TPM_SUCCESS &&
        vtpm_store_save(eng.store, VTPM_BLOB_VOLATILE, buf, len, eng.err, sizeof(eng.err)) < 0) {
        vtpm_log(VTPM_LOG_ERROR, "%s", eng.err);
        rc = TPM_FAIL;
    }
    free(buf);
    return rc;
}

uint32_t vtpm_engine_store_volatile(void)
{
    pthread_mutex_lock(&eng.lock);
    uint32_t rc = eng.running ? store_volatile_locked() : TPM_BAD_ORDINAL;
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_get_blob(enum vtpm_blob_type type, uint8_t **data, size_t *len, char *err,
                              size_t errlen)
{
    uint32_t rc = TPM_SUCCESS;

    *data = NULL;
    *len = 0;
    pthread_mutex_lock(&eng.lock);
    if (type == VTPM_BLOB_VOLATILE && eng.running) {
        /* The running TPM's volatile state, made now; nothing stays on disk. */
        unsigned char *buf = NULL;
        uint32_t n = 0;
        rc = TPMLIB_VolatileAll_Store(&buf, &n);
        if (rc == TPM_SUCCESS) {
            *data = buf;
            *len = n;
        }
        goto out;
    }
    int r = vtpm_store_load(eng.store, type, data, len, err, errlen);
    if (r == -ENOENT) {
        rc = TPM_SUCCESS; /* an absent blob is sent as zero bytes, as swtpm does */
    } else if (r < 0) {
        rc = TPM_FAIL;
    }
out:
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_set_blob(enum vtpm_blob_type type, const uint8_t *data, size_t len,
                              char *err, size_t errlen)
{
    uint32_t rc = TPM_SUCCESS;

    pthread_mutex_lock(&eng.lock);
    if (eng.running) {
        rc = TPM_BAD_ORDINAL;
        snprintf(err, errlen, "state blobs can only be set while the TPM is stopped");
    } else if (vtpm_store_save(eng.store, type, data, len, err, errlen) < 0) {
        rc = TPM_FAIL;
    }
    pthread_mutex_unlock(&eng.lock);
    return rc;
}

uint32_t vtpm_engine_buffer_size(uint32_t wanted, uint32_t *min, uint32_t *max)
{
    pthread_mutex_lock(&eng.lock);
    uint32_t size = TPMLIB_SetBufferSize(wanted, min, max);
    pthread_mutex_unlock(&eng.lock);
    return size;
}

char *vtpm_engine_info(uint64_t flags)
{
    pthread_mutex_lock(&eng.lock);
    char *info = TPMLIB_GetInfo((enum TPMLIB_InfoFlags)flags);
    pthread_mutex_unlock(&eng.lock);
    return info;
}

uint32_t vtpm_engine_libtpms_version(void)
{
    return TPMLIB_GetVersion();
}

struct vtpm_store *vtpm_engine_store(void)
{
    return eng.store;
}

void vtpm_engine_debug(int fd, int level, const char *prefix)
{
    TPMLIB_SetDebugFD(fd);
    TPMLIB_SetDebugLevel((unsigned int)level);
    if (prefix)
        TPMLIB_SetDebugPrefix(prefix);
}
