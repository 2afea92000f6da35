/* SPDX-License-Identifier: MIT */
/*
 * A DomU's memory map and Linux boot data:
 * the e820 map and the boot_params "zero page" of the 64-bit boot protocol
 * (Linux Documentation/arch/x86/boot.rst), computed in Dom0 user space
 * with the hypervisor's own e820 and bzImage code. The caller copies the
 * kernel, initramfs, command line and zero page to the planned addresses.
 */
#ifndef KL_DOMU_BOOT_H
#define KL_DOMU_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include <keel/e820.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>

/* Conventional memory ends where a PC's EBDA would start; the rest of the
 * first MiB is a hole, as on the machines Linux expects. */
#define KL_DOMU_LOW_RAM_END    0x9F000ULL
#define KL_DOMU_HIGH_RAM_START 0x100000ULL
/* RAM below 4 GiB stops here; above is room for virtio-mmio windows and
 * the APICs, and the rest of RAM continues at 4 GiB. */
#define KL_DOMU_MMIO_HOLE_START 0xC0000000ULL
#define KL_DOMU_4G		0x100000000ULL

/* The zero page and command line live where Keel's own loader puts them
 * (keel/linux_loader.h's boot area, below KL_DOMU_LOW_RAM_END). */
#define KL_DOMU_BOOT_PARAMS_GPA LINUX_BOOT_AREA
#define KL_DOMU_CMDLINE_GPA	(LINUX_BOOT_AREA + 0x1000)
#define KL_DOMU_CMDLINE_MAX	4095 /* one page with its NUL */

/*
 * RAM for ram_bytes of guest memory mapped from guest-physical 0: below
 * KL_DOMU_LOW_RAM_END, from 1 MiB to KL_DOMU_MMIO_HOLE_START, and the rest
 * from 4 GiB (the bytes behind the holes are not given back). Then
 * [acpi_gpa, acpi_gpa + acpi_size) becomes ACPI reclaimable memory (none
 * if acpi_size is 0). 0, or -EINVAL for less than 2 MiB of RAM, RAM that
 * is not page-sized, or an ACPI range that is not page aligned or ends up
 * partly outside the guest's memory.
 */
int kl_domu_e820(struct e820_map *m, uint64_t ram_bytes, uint64_t acpi_gpa,
		 uint64_t acpi_size);

struct kl_domu_boot_in {
	const uint8_t *kernel; /* the whole bzImage */
	uint64_t kernel_len;
	uint64_t initrd_len; /* 0: no initramfs */
	const char *cmdline;
	const struct e820_map *e820; /* from kl_domu_e820() */
	uint64_t rsdp_gpa;	     /* 0: no ACPI */
};

struct kl_domu_boot_plan {
	struct bzimage_info bz;
	uint64_t kernel_gpa;  /* copy bz.payload (bz.payload_size bytes) here */
	uint64_t initrd_gpa;  /* copy the initramfs here (if any) */
	uint64_t cmdline_gpa; /* copy cmdline with its NUL here */
	uint64_t boot_params_gpa;
	uint64_t entry_gpa; /* 64-bit entry: RIP, with RSI = boot_params_gpa */
	uint8_t boot_params[BP_SIZE];
};

/*
 * Places the kernel (at its preferred address, or the lowest aligned RAM
 * that holds init_size bytes if it is relocatable) and the initramfs (as
 * high as initrd_addr_max and low RAM allow, above the kernel) and fills
 * the zero page. 0, -ENOEXEC for something that is not a 64-bit-capable
 * bzImage, -EINVAL for a malformed one, -E2BIG for a command line longer
 * than the kernel takes, -ENOSPC if kernel or initramfs do not fit.
 */
int kl_domu_boot_plan(const struct kl_domu_boot_in *in,
		      struct kl_domu_boot_plan *out);

#endif
