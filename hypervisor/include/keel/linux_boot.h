/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol (Linux Documentation/arch/x86/boot.rst and
 * zero-page.rst): the bzImage setup header and the boot_params "zero page"
 * offsets Keel fills in to start a kernel through its 64-bit entry.
 */
#ifndef KEEL_LINUX_BOOT_H
#define KEEL_LINUX_BOOT_H

#include <keel/lib.h>

#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE  0x0C4
#define BP_EXT_CMD_LINE_PTR  0x0C8
#define BP_E820_ENTRIES	     0x1E8
#define BP_SETUP_SECTS	     0x1F1
#define BP_SYSSIZE	     0x1F4
#define BP_BOOT_FLAG	     0x1FE
#define BP_JUMP		     0x200
#define BP_HEADER	     0x202
#define BP_VERSION	     0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS	     0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE	     0x21C
#define BP_CMD_LINE_PTR	     0x228
#define BP_INITRD_ADDR_MAX   0x22C
#define BP_KERNEL_ALIGNMENT  0x230
#define BP_RELOCATABLE	     0x234
#define BP_XLOADFLAGS	     0x236
#define BP_CMDLINE_SIZE	     0x238
#define BP_PREF_ADDRESS	     0x258
#define BP_INIT_SIZE	     0x260
#define BP_E820_TABLE	     0x2D0
#define BP_SIZE		     4096

#define BOOT_FLAG_MAGIC		   0xAA55
#define HDRS_MAGIC		   0x53726448 /* "HdrS" */
#define XLF_KERNEL_64		   (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)
#define LOADER_TYPE_UNDEFINED	   0xFF
#define ENTRY_64_OFFSET		   0x200

struct bzimage_info {
	uint16_t version;
	uint32_t setup_size;	/* bytes before the protected-mode image */
	const uint8_t *payload; /* the protected-mode image */
	uint64_t payload_size;
	uint64_t pref_address;
	uint32_t alignment;
	uint32_t init_size; /* memory the kernel needs from its load address */
	uint32_t cmdline_max;
	uint32_t initrd_addr_max;
	bool relocatable;
	bool initrd_above_4g;
};

/*
 * Validates a bzImage for the 64-bit boot protocol (version >= 2.12,
 * XLF_KERNEL_64): 0, -ENOEXEC if it is not one, -EINVAL if malformed.
 */
int bzimage_parse(const uint8_t *img, uint64_t len, struct bzimage_info *bz);

/* Copies the setup header into a zeroed boot_params page. */
void bzimage_setup_boot_params(const uint8_t *img, uint8_t *bp);

#endif
