/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker thread every backend runs its commands on, and the bookkeeping
 * that makes the ops-table contract hold across threads: one command at a
 * time, done() exactly once under the embedder's lock, and after a drop (the
 * backend's reset) no done() of an earlier command.
 *
 * A command moves QUEUED -> RUNNING (the exec function talks to the TPM,
 * no lock held) -> done() under the embedder's lock. Dropping bumps the
 * generation: a queued command is discarded at once, a running one finishes
 * its exec and is then thrown away instead of being reported.
 */
#ifndef VTPM_BACKEND_WORKER_H
#define VTPM_BACKEND_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtpm/backends.h"

/*
 * Runs one command against the TPM on the worker thread. Returns 0 and sets
 * *rsp / *rlen (a buffer owned by the backend, valid until the next exec) or
 * a negative errno-style code.
 */
typedef int (*bk_exec_fn)(void *ctx, const uint8_t *cmd, size_t len, uint8_t locality,
                          const uint8_t **rsp, size_t *rlen);

struct bk_worker;

/* Starts the thread. `max_cmd` bounds the commands submit accepts. */
int bk_worker_start(struct bk_worker **out, bk_exec_fn exec, void *ctx, size_t max_cmd,
                    const struct vtpm_backend_options *o);

/* Queues a command: 0, -EBUSY while another live command is queued or
 * running, -EMSGSIZE beyond max_cmd, -ESHUTDOWN after stop. */
int bk_worker_submit(struct bk_worker *w, const uint8_t *cmd, size_t len, uint8_t locality,
                     vtpm_done_fn done, void *arg);

/* True while a live (not dropped) command is queued or running. */
bool bk_worker_busy(struct bk_worker *w);

/* Forgets the current command: its done() will never be called. */
void bk_worker_drop(struct bk_worker *w);

/* Waits until no exec is in progress (a dropped one included). */
void bk_worker_quiesce(struct bk_worker *w);

/* Drops the current command, waits for the thread and frees it; NULL is fine.
 * The backend cancels a running exec first so that this does not wait long. */
void bk_worker_stop(struct bk_worker *w);

#endif
