/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TPM engine: libtpms behind a lock. libtpms holds one TPM per process,
 * so this module owns the process' only TPM; it is the only file that
 * includes libtpms headers.
 *
 * Threads: the data path calls vtpm_engine_process() directly on its own
 * thread (no hand-off per command); the control channel runs on another
 * thread and takes the same lock for everything that touches the TPM,
 * except vtpm_engine_cancel(), which must reach libtpms while a command
 * runs. Results are TPM 1.2-style return codes as the control channel
 * reports them (0 = success).
 */
#ifndef VTPM_ENGINE_ENGINE_H
#define VTPM_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/tpm.h"
#include "state/store.h"

/* Selects the TPM family and routes libtpms' NVRAM through `store`.
 * Returns 0, or -ENOTSUP when libtpms lacks the family. */
int vtpm_engine_setup(enum vtpm_family family, struct vtpm_store *store);

/* TPM_Init: (re)starts the TPM from its stored state. `init_flags` takes
 * VTPM_INIT_FLAG_DELETE_VOLATILE. On failure err names the cause. */
uint32_t vtpm_engine_start(uint32_t init_flags, char *err, size_t errlen);
/* Stops the TPM (after an automatic TPM2_Shutdown when auto_shutdown). */
void vtpm_engine_stop(bool auto_shutdown);
bool vtpm_engine_running(void);

/* Sends TPM_Startup(type) (a 1.2 TPM_STARTUP_TYPE); returns its response code. */
uint32_t vtpm_engine_startup(uint16_t type);

/*
 * Runs one command. The response goes to *rbuf (grown as needed; owned by
 * the caller, reused across calls). When the TPM is not running, the
 * response is the family's failure response, as swtpm answers.
 */
void vtpm_engine_process(const uint8_t *cmd, size_t len, uint8_t **rbuf, uint32_t *rtotal,
                         uint32_t *rlen);
/* Asks the running command to stop early (TPM_RC_CANCELED); returns libtpms'
 * answer (TPM 1.2 has no cancel and says TPM_FAIL, as swtpm reports). Lock-free. */
uint32_t vtpm_engine_cancel(void);

void vtpm_engine_set_locality(uint8_t locality);
uint8_t vtpm_engine_locality(void);

uint32_t vtpm_engine_established(bool *set);
uint32_t vtpm_engine_reset_established(uint8_t locality);
uint32_t vtpm_engine_hash_start(void);
uint32_t vtpm_engine_hash_data(const uint8_t *data, size_t len);
uint32_t vtpm_engine_hash_end(void);
uint32_t vtpm_engine_store_volatile(void);

/* State blobs as libtpms bytes (no swtpm header); *data is malloc'd. */
uint32_t vtpm_engine_get_blob(enum vtpm_blob_type type, uint8_t **data, size_t *len, char *err,
                              size_t errlen);
uint32_t vtpm_engine_set_blob(enum vtpm_blob_type type, const uint8_t *data, size_t len,
                              char *err, size_t errlen);

/* wanted 0 queries. Returns the size in use; min/max are libtpms' limits. */
uint32_t vtpm_engine_buffer_size(uint32_t wanted, uint32_t *min, uint32_t *max);
/* malloc'd JSON from libtpms, or NULL. */
char *vtpm_engine_info(uint64_t flags);
uint32_t vtpm_engine_libtpms_version(void);
/* The store, for LOCK_STORAGE and messages. */
struct vtpm_store *vtpm_engine_store(void);
/* Route libtpms' own debug output (swtpm: --log level >= 5). */
void vtpm_engine_debug(int fd, int level, const char *prefix);

#endif
