/* SPDX-License-Identifier: MIT */
/*
 * The fixed part of the platform of a domain the toolstack builds: the
 * ACPI sleep and reset registers named in its FADT, and the PC's answer
 * (all-ones, writes dropped) for ports and MMIO holes nothing claims.
 */
#ifndef KEEL_DOMU_PLATFORM_H
#define KEEL_DOMU_PLATFORM_H

#include <keel/domain.h>

/* Registers the handlers in d's table, after its other devices (which
 * win on overlap); -ENOSPC if they do not fit. */
int domu_platform_init(struct domain *d);

#endif
