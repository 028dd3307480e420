/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PAPR vTPM CRQ device (vtpm/spapr.h).
 *
 * Where this model differs from QEMU's tpm-spapr, on purpose:
 *  - the command is read from guest memory as its header says (10 bytes,
 *    then paramSize), not as a whole 4 KiB buffer, so a command near the
 *    end of the RTCE window is not refused for bytes it does not have;
 *  - a failed copy-in answers the copy-in error and does not run whatever
 *    happened to be in the buffer;
 *  - a backend failure answers a TPM error response of the family (as the
 *    TIS and CRB models do), never silence.
 */
#include "vtpm/spapr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_priv.h"
#include "proto/tpm.h"
#include "util/buf.h"

#define SPAPR_STATE_MAGIC 0x76535052u /* "vSPR" */
#define SAVED_INITIALIZED 0x01u

struct vtpm_spapr {
    struct vtpm_spapr_config cfg;
    struct vtpm_backend *be;
    enum vtpm_spapr_state state;
    bool init_seen;   /* INIT_CRQ received */
    bool initialized; /* INIT_CRQ_COMPLETE received after it */
    uint32_t ioba;    /* the guest buffer of the outstanding command */
    uint16_t buffer_size;
    uint8_t buffer[VTPM_SPAPR_BUFFER_SIZE];
};

static void send_msg(struct vtpm_spapr *s, uint8_t valid, uint8_t msg, uint16_t len, uint32_t data)
{
    uint8_t m[VTPM_SPAPR_CRQ_SIZE] = {valid, msg};

    put_be16(m + 2, len);
    put_be32(m + 4, data);
    /* A full guest queue loses the message, as on real hardware; the guest's timeout handles it. */
    (void)s->cfg.send_crq(s->cfg.opaque, m);
}

static void send_error(struct vtpm_spapr *s, uint32_t code)
{
    send_msg(s, VTPM_SPAPR_VALID_COMMAND, VTPM_SPAPR_MSG_ERROR, 0, code);
}

static enum vtpm_family family(const struct vtpm_spapr *s)
{
    return s->cfg.version == VTPM_TPM_VERSION_2_0 ? VTPM_FAMILY_20 : VTPM_FAMILY_12;
}

static void respond(struct vtpm_spapr *s, const uint8_t *rsp, size_t len)
{
    s->state = VTPM_SPAPR_IDLE;
    if (s->cfg.dma_write(s->cfg.opaque, s->ioba, rsp, len) < 0) {
        send_error(s, VTPM_SPAPR_ERR_COPY_OUT_FAILED);
        return;
    }
    send_msg(s, VTPM_SPAPR_VALID_COMMAND, VTPM_SPAPR_MSG_TPM_COMMAND | VTPM_SPAPR_MSG_RESPONSE,
             (uint16_t)len, s->ioba);
}

static void respond_failure(struct vtpm_spapr *s)
{
    uint8_t rsp[VTPM_TPM_HDR_SIZE];
    uint32_t rc = s->cfg.version == VTPM_TPM_VERSION_2_0 ? VTPM_TPM2_RC_FAILURE : VTPM_TPM12_FAIL;
    size_t n = vtpm_tpm_error_response(rsp, family(s), rc);

    respond(s, rsp, n);
}

void vtpm_spapr_command_done(void *spapr, int status, const uint8_t *rsp, size_t len)
{
    struct vtpm_spapr *s = spapr;

    if (s->state != VTPM_SPAPR_EXECUTION)
        return; /* a late answer to a command dropped by reset */
    if (status < 0 || !rsp || len < VTPM_TPM_HDR_SIZE || len > s->buffer_size ||
        get_be32(rsp + 2) != len) {
        respond_failure(s);
        return;
    }
    respond(s, rsp, len);
}

/* Copies the command in as its header sizes it; 0, or -EIO when the window does not map it. */
static int copy_in(struct vtpm_spapr *s, size_t *len)
{
    if (s->cfg.dma_read(s->cfg.opaque, s->ioba, s->buffer, VTPM_TPM_HDR_SIZE) < 0)
        return -EIO;
    uint32_t size = get_be32(s->buffer + 2);
    /*
     * A size the TPM cannot take is still delivered as a header: the TPM
     * answers it with its own size error, as every model here lets it.
     */
    *len = size >= VTPM_TPM_HDR_SIZE && size <= s->buffer_size ? size : VTPM_TPM_HDR_SIZE;
    if (*len > VTPM_TPM_HDR_SIZE &&
        s->cfg.dma_read(s->cfg.opaque, s->ioba + VTPM_TPM_HDR_SIZE, s->buffer + VTPM_TPM_HDR_SIZE,
                        *len - VTPM_TPM_HDR_SIZE) < 0)
        return -EIO;
    return 0;
}

static int tpm_command(struct vtpm_spapr *s, uint32_t ioba)
{
    size_t len;

    if (s->state == VTPM_SPAPR_EXECUTION)
        return VTPM_SPAPR_H_BUSY;
    s->ioba = ioba;
    if (copy_in(s, &len) < 0) {
        send_error(s, VTPM_SPAPR_ERR_COPY_IN_FAILED);
        return VTPM_SPAPR_H_SUCCESS;
    }
    s->state = VTPM_SPAPR_EXECUTION; /* before deliver: a backend may complete inside it */
    int rc = vtpm_backend_deliver(s->be, s->buffer, len, 0, vtpm_spapr_command_done, s);
    if (rc < 0)
        vtpm_spapr_command_done(s, rc, NULL, 0);
    return VTPM_SPAPR_H_SUCCESS;
}

static void init_msg(struct vtpm_spapr *s, uint8_t msg)
{
    if (msg == VTPM_SPAPR_INIT_CRQ) {
        s->init_seen = true;
        s->initialized = false;
    } else if (msg == VTPM_SPAPR_INIT_CRQ_COMPLETE) {
        s->initialized = s->init_seen;
    } else {
        return; /* not an init message: no answer, as on PowerVM */
    }
    send_msg(s, VTPM_SPAPR_VALID_INIT, msg, 0, 0);
}

int vtpm_spapr_crq(struct vtpm_spapr *s, const uint8_t msg[VTPM_SPAPR_CRQ_SIZE])
{
    if (!msg)
        return VTPM_SPAPR_H_PARAMETER;
    uint8_t valid = msg[0], type = msg[1];

    if (valid == VTPM_SPAPR_VALID_INIT) {
        init_msg(s, type);
        return VTPM_SPAPR_H_SUCCESS;
    }
    if (valid != VTPM_SPAPR_VALID_COMMAND)
        return VTPM_SPAPR_H_SUCCESS; /* not for the vTPM: ignored */
    switch (type) {
    case VTPM_SPAPR_MSG_TPM_COMMAND:
        return tpm_command(s, get_be32(msg + 4));
    case VTPM_SPAPR_MSG_GET_VERSION:
        send_msg(s, VTPM_SPAPR_VALID_COMMAND, type | VTPM_SPAPR_MSG_RESPONSE, 0,
                 s->cfg.version == VTPM_TPM_VERSION_2_0 ? 2u : 1u);
        break;
    case VTPM_SPAPR_MSG_GET_RTCE_BUFFER_SIZE:
        send_msg(s, VTPM_SPAPR_VALID_COMMAND, type | VTPM_SPAPR_MSG_RESPONSE, s->buffer_size, 0);
        break;
    case VTPM_SPAPR_MSG_PREPARE_TO_SUSPEND:
        send_msg(s, VTPM_SPAPR_VALID_COMMAND, type | VTPM_SPAPR_MSG_RESPONSE, 0, 0);
        break;
    default:
        break; /* unknown request: no answer (the Linux driver times out and reports it) */
    }
    return VTPM_SPAPR_H_SUCCESS;
}

static uint16_t buffer_size_of(struct vtpm_backend *be)
{
    size_t n = vtpm_backend_buffer_size(be);
    return (uint16_t)(n == 0 || n > VTPM_SPAPR_BUFFER_SIZE ? VTPM_SPAPR_BUFFER_SIZE : n);
}

int vtpm_spapr_reset(struct vtpm_spapr *s)
{
    s->state = VTPM_SPAPR_IDLE;
    s->init_seen = false;
    s->initialized = false;
    s->ioba = 0;
    s->buffer_size = buffer_size_of(s->be);
    memset(s->buffer, 0, sizeof(s->buffer));
    return vtpm_backend_reset(s->be);
}

int vtpm_spapr_create(const struct vtpm_spapr_config *cfg, struct vtpm_backend *be,
                      struct vtpm_spapr **out)
{
    if (!cfg || !be || !be->ops || !be->ops->deliver || !out || !cfg->dma_read || !cfg->dma_write ||
        !cfg->send_crq ||
        (cfg->version != VTPM_TPM_VERSION_1_2 && cfg->version != VTPM_TPM_VERSION_2_0))
        return -EINVAL;
    struct vtpm_spapr *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->be = be;
    s->buffer_size = buffer_size_of(be);
    *out = s;
    return 0;
}

void vtpm_spapr_destroy(struct vtpm_spapr *s)
{
    free(s);
}

enum vtpm_spapr_state vtpm_spapr_state(const struct vtpm_spapr *s)
{
    return s->state;
}

bool vtpm_spapr_initialized(const struct vtpm_spapr *s)
{
    return s->initialized;
}

const char *vtpm_spapr_dt_compatible(enum vtpm_tpm_version version)
{
    return version == VTPM_TPM_VERSION_2_0 ? "IBM,vtpm20" : "IBM,vtpm";
}

long vtpm_spapr_save(const struct vtpm_spapr *s, uint8_t *buf, size_t cap)
{
    struct vtpm_writer w;

    if (s->state == VTPM_SPAPR_EXECUTION)
        return -EBUSY;
    vtpm_writer_init(&w, buf, cap);
    vtpm_dev_state_write_header(&w, SPAPR_STATE_MAGIC, VTPM_SPAPR_STATE_VERSION);
    vtpm_write_u8(&w, (uint8_t)(s->initialized ? SAVED_INITIALIZED : 0));
    vtpm_write_be16(&w, s->buffer_size);
    return w.err ? -ENOSPC : (long)w.pos;
}

int vtpm_spapr_restore(struct vtpm_spapr *s, const uint8_t *buf, size_t len)
{
    struct vtpm_reader r;

    vtpm_reader_init(&r, buf, len);
    int rc = vtpm_dev_state_read_header(&r, SPAPR_STATE_MAGIC, VTPM_SPAPR_STATE_VERSION);
    if (rc < 0)
        return rc;
    uint8_t flags = vtpm_read_u8(&r);
    uint16_t size = vtpm_read_be16(&r);
    if (r.err || r.pos != len || (flags & ~SAVED_INITIALIZED) || size < VTPM_TPM_HDR_SIZE ||
        size > VTPM_SPAPR_BUFFER_SIZE)
        return -EINVAL;
    s->state = VTPM_SPAPR_IDLE;
    s->initialized = (flags & SAVED_INITIALIZED) != 0;
    s->init_seen = s->initialized;
    s->buffer_size = size;
    return 0;
}
