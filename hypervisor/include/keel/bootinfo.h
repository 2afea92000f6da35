/* SPDX-License-Identifier: MIT */
/* What the boot loader told us (multiboot2), in Keel's own terms. */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/lib.h>

#define BOOT_MAX_MODULES 16
#define BOOT_MAX_MMAP	 128
#define BOOT_CMDLINE_MAX 1024

struct boot_module {
	uint64_t start, end; /* physical [start, end) */
	char cmdline[BOOT_CMDLINE_MAX];
};

struct boot_mem_region {
	uint64_t addr, len;
	uint32_t type; /* multiboot2 types match e820: 1 RAM, 2 reserved, ... */
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	unsigned nr_modules;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nr_mmap;
	struct boot_mem_region mmap[BOOT_MAX_MMAP];
	uint8_t
	    rsdp[36]; /* a copy: under UEFI the firmware's may be anywhere */
	bool has_rsdp;
	bool efi; /* GRUB reported an EFI system table */
};

/* Parses the multiboot2 information at mbi; -EINVAL on malformed input. */
int mb2_parse(const void *mbi, struct boot_info *bi);

extern struct boot_info boot_info;

#endif
