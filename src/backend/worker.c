/* SPDX-License-Identifier: BSD-3-Clause */
#include "backend/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct bk_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* a command queued, an exec finished, or quit */
    bk_exec_fn exec;
    void *ctx;
    void (*lock)(void *opaque);
    void (*unlock)(void *opaque);
    void *lock_opaque;
    bool quit;
    bool queued;      /* cmd holds a command the thread has not taken yet */
    bool running;     /* the thread is inside exec */
    uint64_t gen;     /* bumped by drop */
    uint64_t job_gen; /* the generation of the queued or running command */
    vtpm_done_fn done;
    void *arg;
    uint8_t locality;
    size_t len;
    size_t max_cmd;
    uint8_t *cmd; /* a copy: the device model may reuse its buffer after a drop */
};

static void run_one(struct bk_worker *w)
{
    const uint8_t *rsp = NULL;
    size_t rlen = 0;
    int rc = w->exec(w->ctx, w->cmd, w->len, w->locality, &rsp, &rlen);

    pthread_mutex_lock(&w->mu);
    w->running = false;
    uint64_t gen = w->job_gen;
    vtpm_done_fn done = w->done;
    void *arg = w->arg;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);

    /*
     * The embedder's lock first, then the generation check: a drop happens
     * under that lock, so a command still current here cannot be dropped
     * before its done() returns.
     */
    if (w->lock) {
        w->lock(w->lock_opaque);
    }
    pthread_mutex_lock(&w->mu);
    bool live = gen == w->gen && w->done == done && w->done != NULL;
    if (live) {
        w->done = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    if (live) {
        if (rc < 0) {
            done(arg, rc, NULL, 0);
        } else {
            done(arg, 0, rsp, rlen);
        }
    }
    if (w->unlock) {
        w->unlock(w->lock_opaque);
    }
}

static void *worker_main(void *opaque)
{
    struct bk_worker *w = opaque;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && !w->queued) {
            pthread_cond_wait(&w->cond, &w->mu);
        }
        if (w->quit) {
            break;
        }
        w->queued = false;
        w->running = true;
        pthread_mutex_unlock(&w->mu);
        run_one(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int bk_worker_start(struct bk_worker **out, bk_exec_fn exec, void *ctx, size_t max_cmd,
                    const struct vtpm_backend_options *o)
{
    struct bk_worker *w = calloc(1, sizeof(*w));

    if (!w || !(w->cmd = malloc(max_cmd))) {
        free(w);
        return -ENOMEM;
    }
    w->exec = exec;
    w->ctx = ctx;
    w->max_cmd = max_cmd;
    w->lock = o->lock;
    w->unlock = o->unlock;
    w->lock_opaque = o->lock_opaque;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        free(w->cmd);
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

int bk_worker_submit(struct bk_worker *w, const uint8_t *cmd, size_t len, uint8_t locality,
                     vtpm_done_fn done, void *arg)
{
    int rc = 0;

    if (len > w->max_cmd) {
        return -EMSGSIZE;
    }
    pthread_mutex_lock(&w->mu);
    if (w->quit) {
        rc = -ESHUTDOWN;
    } else if (w->done) {
        rc = -EBUSY; /* a live command is queued or running */
    } else {
        /* A dropped command may still be in exec, reading the slot. The
         * backends' reset quiesces the worker, so this wait is rare and short. */
        while (w->running) {
            pthread_cond_wait(&w->cond, &w->mu);
        }
        memcpy(w->cmd, cmd, len);
        w->len = len;
        w->locality = locality;
        w->done = done;
        w->arg = arg;
        w->job_gen = w->gen;
        w->queued = true;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

bool bk_worker_busy(struct bk_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool busy = w->done != NULL;
    pthread_mutex_unlock(&w->mu);
    return busy;
}

void bk_worker_drop(struct bk_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->gen++;
    w->done = NULL;
    w->queued = false;
    pthread_mutex_unlock(&w->mu);
}

void bk_worker_quiesce(struct bk_worker *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->running) {
        pthread_cond_wait(&w->cond, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
}

void bk_worker_stop(struct bk_worker *w)
{
    if (!w) {
        return;
    }
    bk_worker_drop(w);
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w->cmd);
    free(w);
}
