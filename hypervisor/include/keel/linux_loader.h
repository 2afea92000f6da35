/* SPDX-License-Identifier: MIT */
#ifndef KEEL_LINUX_LOADER_H
#define KEEL_LINUX_LOADER_H

#include <keel/e820.h>
#include <keel/linux_boot.h>

struct domain;

/* Guest-physical scratch area for boot_params, command line, GDT and
 * page tables: conventional memory every PC guest has. */
#define LINUX_BOOT_AREA	    0x80000ULL
#define LINUX_BOOT_AREA_END (LINUX_BOOT_AREA + 0x9000)

struct linux_boot {
	const uint8_t *image; /* the whole bzImage (its setup header) */
	const struct bzimage_info *bz;
	uint64_t kernel_gpa; /* where the protected-mode image was copied */
	uint64_t initrd_gpa, initrd_size;
	const char *cmdline;
	const struct e820_map *e820;
	uint64_t rsdp_gpa; /* 0: no ACPI */
};

/* Writes the boot data into d and points vCPU 0 at the 64-bit entry. */
int linux_boot_setup(struct domain *d, const struct linux_boot *lb);

#endif
