/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Durable storage of the TPM state blobs in a directory laid out as swtpm's
 * `--tpmstate dir=DIR`: DIR/tpm2-00.permall, tpm2-00.volatilestate,
 * tpm2-00.savestate (TPM 1.2: tpm-00.*), each in the state-file form of
 * blob.h, and DIR/.lock, which the owning process holds an fcntl write lock
 * on. swtpm takes the same lock, so a vtpmd and an swtpm never share a
 * directory.
 *
 * POSIX record locks belong to the process: one store per directory per
 * process (closing any other descriptor of DIR/.lock would drop the lock).
 *
 * Functions returning int give 0 or a negative errno; where they take
 * err/errlen they also write one line naming the cause and the fix.
 */
#ifndef VTPM_STATE_STORE_H
#define VTPM_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Same numbers as PTM_BLOB_TYPE_* of the control channel. */
enum vtpm_blob_type {
    VTPM_BLOB_PERMANENT = 1,
    VTPM_BLOB_VOLATILE = 2,
    VTPM_BLOB_SAVESTATE = 3,
};

#define VTPM_STORE_DEFAULT_MODE 0640
/* No TPM state comes near this; a larger file is not ours. */
#define VTPM_STORE_MAX_FILE (16u * 1024 * 1024)

struct vtpm_store;

/*
 * Opens an existing directory and locks DIR/.lock. family: 1 = TPM 1.2
 * (tpm-00.*), 2 = TPM 2.0 (tpm2-00.*). mode: the state files' permission
 * bits, -1 for 0640. -EBUSY if another process holds the lock.
 */
int vtpm_store_open_dir(struct vtpm_store **out, const char *dir, int family, int mode, char *err,
                        size_t errlen);

/*
 * Reads a blob: *data is malloc'd libtpms bytes (non-NULL on success, even
 * for 0 bytes). -ENOENT if the file does not exist, -EBADMSG if it is damaged
 * or in a format vtpmd cannot read, -ENOKEY if it is encrypted, -ELOOP if it
 * is a symbolic link, -EFBIG if larger than VTPM_STORE_MAX_FILE.
 */
int vtpm_store_load(struct vtpm_store *s, enum vtpm_blob_type t, uint8_t **data, size_t *len,
                    char *err, size_t errlen);

/*
 * Replaces a blob atomically and durably: after a crash the file holds the
 * old or the new content, and once this returns 0 the new content survives
 * a power loss. -ELOOP if the file name is a symbolic link.
 */
int vtpm_store_save(struct vtpm_store *s, enum vtpm_blob_type t, const uint8_t *data, size_t len,
                    char *err, size_t errlen);

/* Durably removes a blob; an absent one is not an error. */
int vtpm_store_delete(struct vtpm_store *s, enum vtpm_blob_type t);

/* True if a directory entry (of any kind) exists under the blob's name. */
bool vtpm_store_exists(struct vtpm_store *s, enum vtpm_blob_type t);

/* Full path of the blob's file, for messages; NULL for an unknown type. */
const char *vtpm_store_path(struct vtpm_store *s, enum vtpm_blob_type t);

/*
 * Release DIR/.lock so that another process may take over the directory
 * (swtpm 0.8 migration on shared storage), and take it back. Unlock of an
 * unlocked store and relock of a locked one do nothing.
 */
int vtpm_store_unlock(struct vtpm_store *s);
int vtpm_store_relock(struct vtpm_store *s, char *err, size_t errlen);

/* Releases the lock and frees the store; NULL is fine. */
/* Writes the newest permanent state into its swtpm-format file (it may be
 * held in the journal until then) and removes the journal. Close does this too. */
int vtpm_store_sync(struct vtpm_store *s);

void vtpm_store_close(struct vtpm_store *s);

#endif
