/* SPDX-License-Identifier: MIT */
/*
 * Link script of a test guest (preprocessed with cpp for layout.h).
 *
 * The setup area sits at file offset 0; the protected-mode image is linked
 * at PREF_ADDRESS and stored right after the setup area (LMA ==
 * SETUP_AREA_SIZE), so `objcopy -O binary` yields the bzImage-format file.
 */
#include "layout.h"

/* Every section's LMA is its file offset: left to itself, ld would align
 * the LMA of a page-aligned section too and open a gap in the file. */
#define FILE_OFFSET(section) (ADDR(section) - PREF_ADDRESS + SETUP_AREA_SIZE)

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(startup_64)

SECTIONS
{
	.setup 0 : AT(0) {
		KEEP(*(.setup))
	}

	. = PREF_ADDRESS;
	_start = .;
	.text : AT(FILE_OFFSET(.text)) {
		KEEP(*(.head.text))
		*(.text .text.*)
	}
	.rodata : AT(FILE_OFFSET(.rodata)) {
		*(.rodata .rodata.*)
	}
	.extable : AT(FILE_OFFSET(.extable)) {
		__start_extable = .;
		KEEP(*(.extable))
		__stop_extable = .;
	}
	.data : AT(FILE_OFFSET(.data)) {
		*(.data .data.*)
	}
	_edata = .;
	.bss (NOLOAD) : {
		__bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	_end = .;

	/DISCARD/ : {
		*(.comment)
		*(.note*)
		*(.eh_frame*)
	}

	/* Values the setup header and head.S need as plain numbers. */
	guest_file_image_size = _edata - _start;
	guest_syssize = (guest_file_image_size + 15) / 16;
	guest_init_size = _end - _start;
	guest_bss_size = __bss_end - __bss_start;
	guest_kernel_info_offset = kernel_info - _start;
}

ASSERT(SIZEOF(.setup) == SETUP_AREA_SIZE, "setup area has the wrong size")
ASSERT(startup_64 == startup_32 + 0x200, "64-bit entry must be at load + 0x200")
