/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What each backend file gives the name table in registry.c: its ops, a
 * constructor and a destructor. Adding a backend touches its own file and
 * that table.
 */
#ifndef VTPM_BACKEND_PRIV_H
#define VTPM_BACKEND_PRIV_H

#include <stddef.h>

#include "vtpm/backends.h"

/* Room for the sentence describing a backend's last failure. */
#define BK_ERR_LEN 512u

struct bk_factory {
    const char *name;
    const struct vtpm_backend_ops *ops;
    /* `err` (BK_ERR_LEN bytes) lives as long as the backend: the backend
     * writes every later failure's sentence there too. */
    int (*create)(const struct vtpm_backend_options *o, char *err, void **priv);
    void (*destroy)(void *priv);
};

extern const struct bk_factory bk_inproc;
extern const struct bk_factory bk_emulator;
extern const struct bk_factory bk_passthrough;

#endif
