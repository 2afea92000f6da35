/* SPDX-License-Identifier: MIT */
#ifndef KEEL_DOM0_H
#define KEEL_DOM0_H

#include <keel/bootinfo.h>
#include <keel/domain.h>

/* Builds Dom0 from the boot modules; panics with a reason if it cannot. */
struct domain *dom0_build(const struct boot_info *bi, unsigned nr_vcpus);

#endif
