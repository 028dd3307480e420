/* SPDX-License-Identifier: BSD-3-Clause */
/* The backends by name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_priv.h"

static const struct bk_factory *const factories[] = {
    &bk_inproc,
    &bk_emulator,
    &bk_passthrough,
};

#define N_FACTORIES (sizeof(factories) / sizeof(factories[0]))

/* The public handle first, so that destroy finds the rest from it. */
struct bk_instance {
    struct vtpm_backend pub;
    const struct bk_factory *factory;
    char err[BK_ERR_LEN];
};

void vtpm_backend_options_init(struct vtpm_backend_options *o)
{
    memset(o, 0, sizeof(*o));
    o->fd = -1;
}

const char *const *vtpm_backend_names(void)
{
    static const char *names[N_FACTORIES + 1];

    for (size_t i = 0; i < N_FACTORIES; i++) {
        names[i] = factories[i]->name;
    }
    return names;
}

int vtpm_backend_create(const char *name, const struct vtpm_backend_options *o,
                        struct vtpm_backend **out, char *err, size_t errlen)
{
    const struct bk_factory *f = NULL;

    for (size_t i = 0; name && i < N_FACTORIES; i++) {
        if (strcmp(factories[i]->name, name) == 0) {
            f = factories[i];
        }
    }
    if (!f) {
        snprintf(err, errlen, "unknown TPM backend '%s': choose inproc, emulator or passthrough",
                 name ? name : "(null)");
        return -ENOENT;
    }
    struct bk_instance *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "%s backend: out of memory", f->name);
        return -ENOMEM;
    }
    int rc = f->create(o, b->err, &b->pub.priv);
    if (rc < 0) {
        snprintf(err, errlen, "%s backend: %s", f->name, b->err);
        free(b);
        return rc;
    }
    b->pub.ops = f->ops;
    b->factory = f;
    *out = &b->pub;
    return 0;
}

const char *vtpm_backend_last_error(const struct vtpm_backend *be)
{
    return ((const struct bk_instance *)be)->err;
}

void vtpm_backend_destroy(struct vtpm_backend *be)
{
    if (!be) {
        return;
    }
    struct bk_instance *b = (struct bk_instance *)be;
    b->factory->destroy(be->priv);
    free(b);
}
