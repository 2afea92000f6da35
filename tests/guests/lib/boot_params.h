/* SPDX-License-Identifier: MIT */
/*
 * The parts of Linux's boot_params ("zero page") the test guests read.
 * Offsets: Documentation/arch/x86/zero-page.rst and boot.rst.
 */
#ifndef GUEST_BOOT_PARAMS_H
#define GUEST_BOOT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#define E820_MAX_ENTRIES_ZEROPAGE 128
#define E820_TYPE_RAM		  1

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct boot_params {
	uint8_t unused_0a[0x070];
	uint64_t acpi_rsdp_addr; /* 0x070 */
	uint8_t unused_0b[0x0c8 - 0x078];
	uint32_t ext_cmd_line_ptr; /* 0x0c8: bits 63:32 of cmd_line_ptr */
	uint8_t unused_1[0x1e8 - 0x0cc];
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t unused_2[0x1f1 - 0x1e9];
	struct setup_header hdr; /* 0x1f1 */
	uint8_t unused_3[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct boot_e820_entry
	    e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t unused_4[0x1000 - 0xcd0];
} __attribute__((packed));

_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070,
	       "acpi_rsdp_addr offset");
_Static_assert(offsetof(struct boot_params, hdr.cmd_line_ptr) == 0x228,
	       "setup_header layout");
_Static_assert(offsetof(struct boot_params, hdr.kernel_info_offset) == 0x268,
	       "setup_header layout");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0,
	       "e820 table offset");
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params size");

#endif
