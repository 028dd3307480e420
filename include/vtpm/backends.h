/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backends libvtpm ships, chosen by name:
 *
 *   inproc       the engine (libtpms) in this process, on a state directory
 *   emulator     a swtpm-protocol daemon (vtpmd or swtpm) on a unix control
 *                socket; the data channel is a socketpair handed over with
 *                CMD_SET_DATAFD, as QEMU's tpm-emulator does
 *   passthrough  the host's TPM character device (/dev/tpm0, /dev/tpmrm0)
 *
 * Threads. Every backend runs commands on its own worker thread: deliver()
 * copies the command, queues it and returns at once, so a long command never
 * blocks the MMIO path. done() is called on that worker thread. The device
 * models are not thread-safe, so the embedder passes its device lock in the
 * options (lock/unlock); the worker holds it around every done() call. The
 * other ops (deliver, cancel, reset, established, ...) are called by the
 * embedder with that same lock held, as the device models do. reset() drops
 * a command still running (its done() never comes) and waits until the
 * worker has stopped talking to the TPM about it, without taking the lock,
 * so calling it under the lock is safe. Without lock/unlock, done() is
 * called with no lock at all: only for embedders that never touch the
 * device while a command runs.
 *
 * vtpm_backend_destroy() joins the worker: never call it with the device
 * lock held.
 */
#ifndef VTPM_BACKENDS_H
#define VTPM_BACKENDS_H

#include <stddef.h>
#include <stdint.h>

#include "vtpm/backend.h"

struct vtpm_backend_options {
    enum vtpm_tpm_version version; /* 0 means VTPM_TPM_VERSION_2_0 */
    /*
     * inproc: the TPM state directory (it must exist; swtpm's layout).
     * emulator: the daemon's control socket (--ctrl type=unixio,path=...).
     * passthrough: the TPM device, e.g. /dev/tpm0 (ignored when fd >= 0).
     */
    const char *path;
    /* passthrough: an open TPM device to use instead of opening `path`; the
     * backend owns it from then on (also on failure). -1 when unused. */
    int fd;
    /* passthrough: the sysfs file that cancels the running command; NULL
     * derives it from the device name (vtpm_passthrough_cancel_path). */
    const char *cancel_path;
    /* emulator: bound on every control-channel read; 0 means 10000 ms. */
    uint32_t ctrl_timeout_ms;
    /* emulator, passthrough: bound on one command's response; 0 means
     * 120000 ms (TPM 2.0 RSA key generation on a slow TPM). */
    uint32_t command_timeout_ms;
    /* The embedder's device lock, held by the worker around every done(). */
    void (*lock)(void *opaque);
    void (*unlock)(void *opaque);
    void *lock_opaque;
};

/* Fills `o` with the defaults: all zero, fd -1. */
void vtpm_backend_options_init(struct vtpm_backend_options *o);

/*
 * Creates the backend called `name`. On failure returns a negative errno
 * (-ENOENT for an unknown name) and writes one line into `err` that names
 * the cause and the fix. The TPM is not started: the device model's reset
 * (TPM_Init) does that at machine power-on.
 */
int vtpm_backend_create(const char *name, const struct vtpm_backend_options *o,
                        struct vtpm_backend **out, char *err, size_t errlen);

/* Stops the worker (a running command is cancelled and dropped), closes
 * everything the backend opened; NULL is fine. Not under the device lock. */
void vtpm_backend_destroy(struct vtpm_backend *be);

/*
 * One sentence on the last failure of an op of a backend made by
 * vtpm_backend_create (the ops return only a code): "" if none yet.
 */
const char *vtpm_backend_last_error(const struct vtpm_backend *be);

/* The names vtpm_backend_create accepts, NULL-terminated. */
const char *const *vtpm_backend_names(void);

/*
 * The sysfs cancel file of TPM device `dev`, as Linux lays it out:
 * /dev/tpm0 and /dev/tpmrm0 -> /sys/class/tpm/tpm0/device/cancel. Returns
 * 0, or -EINVAL when the name is not tpmN / tpmrmN, or -ENAMETOOLONG.
 */
int vtpm_passthrough_cancel_path(const char *dev, char *out, size_t cap);

#endif
