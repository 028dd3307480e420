/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every interface's driver (tis_driver.c, later crb_driver.c) shares:
 * traced register access, the clock, and the error record.
 */
#ifndef VTPM_DRIVER_PRIV_H
#define VTPM_DRIVER_PRIV_H

#include "vtpm/driver.h"

uint32_t drv_read(struct vtpm_driver *d, uint32_t offset, unsigned size);
void drv_write(struct vtpm_driver *d, uint32_t offset, uint32_t value, unsigned size);

uint64_t drv_now(struct vtpm_driver *d);
/* One polling interval (cfg.poll_us). */
void drv_pause(struct vtpm_driver *d);

/*
 * Records a failure: code, the register and its raw value, and a sentence
 * built from `fmt`. Returns `code` so callers can `return drv_fail(...)`.
 */
enum vtpm_driver_err drv_fail(struct vtpm_driver *d, enum vtpm_driver_err code, uint32_t offset,
                              uint32_t value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Clears the error record at the start of an operation. */
void drv_clear_error(struct vtpm_driver *d);
/* The end of every recovery: give the locality back, then take it and give it
 * back once more, which proves the interface answers. */
enum vtpm_driver_err drv_cycle_locality(struct vtpm_driver *d);

#endif
