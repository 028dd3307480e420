/* SPDX-License-Identifier: BSD-3-Clause */
#include "server/config.h"

#include <stdlib.h>

static void chan_init(struct vtpmd_chan *ch)
{
    *ch = (struct vtpmd_chan){
        .type = VTPMD_CHAN_NONE,
        .fd = -1,
        .mode = -1,
        .uid = -1,
        .gid = -1,
    };
}

static void chan_free(struct vtpmd_chan *ch)
{
    free(ch->path);
    free(ch->bindaddr);
    free(ch->ifname);
    chan_init(ch);
}

void vtpmd_config_init(struct vtpmd_config *cfg)
{
    *cfg = (struct vtpmd_config){
        .family = VTPMD_TPM12, /* swtpm's default without --tpm2 */
        .state_mode = -1,
        .startup = VTPMD_STARTUP_NONE,
        .log_fd = -1,
        .pid_fd = -1,
    };
    chan_init(&cfg->server);
    chan_init(&cfg->ctrl);
}

void vtpmd_config_free(struct vtpmd_config *cfg)
{
    free(cfg->state_dir);
    chan_free(&cfg->server);
    chan_free(&cfg->ctrl);
    free(cfg->log_file);
    free(cfg->log_prefix);
    free(cfg->pid_file);
    free(cfg->runas);
    vtpmd_config_init(cfg);
}
