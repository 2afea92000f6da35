/* SPDX-License-Identifier: MIT */
/* The host's physical memory map and who owns which part of it. */
#ifndef KEEL_MEMMAP_H
#define KEEL_MEMMAP_H

#include <keel/bootinfo.h>
#include <keel/e820.h>

extern struct e820_map host_e820; /* firmware's map, sanitized */
extern struct e820_map dom0_e820; /* what Dom0 is told */

/*
 * Builds both maps: Dom0 gets RAM from the bottom up to dom0_mem, minus
 * Keel's image; every other RAM page goes to the frame allocator.
 */
void memmap_init(const struct boot_info *bi);
bool memmap_is_ram(uint64_t pa);      /* RAM in the firmware map */
bool memmap_is_firmware(uint64_t pa); /* ACPI/NVS: cacheable, not RAM */
/* Keel-only MMIO: physical LAPIC, IOAPICs (never mapped into Dom0). */
bool memmap_is_private(uint64_t pa);
void memmap_add_private(uint64_t pa, uint64_t size);

#endif
