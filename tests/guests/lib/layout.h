/* SPDX-License-Identifier: MIT */
/*
 * Memory layout of a test guest image, shared by head.S, link.ld.S and the
 * C runtime (plain #defines only: the assembler and the linker read it).
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* Setup sectors after the boot sector: the header fits in the first. */
#define SETUP_SECTS	1
#define SETUP_AREA_SIZE ((SETUP_SECTS + 1) * 512)

/* pref_address and link address of the protected-mode image (16 MiB). */
#define PREF_ADDRESS 0x1000000

/* Command line buffer, including the terminating NUL (Linux's x86
 * COMMAND_LINE_SIZE). */
#define COMMAND_LINE_SIZE 2048

#define BOOT_STACK_SIZE 0x4000

/* Selectors of the guest's GDT (head.S); 0x10/0x18 match the boot
 * protocol's __BOOT_CS/__BOOT_DS. */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA   0x18

/* Application processors: how many the runtime can start, and the stack
 * each one runs on. */
#define GUEST_MAX_CPUS 16
#define AP_STACK_SIZE  0x4000

#endif
