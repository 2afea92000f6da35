/* SPDX-License-Identifier: MIT */
/*
 * Start-up path of an application processor (AP).
 *
 * A STARTUP IPI with vector V starts the AP in real mode at V * 4 KiB,
 * CS = V << 8, IP = 0 (Intel SDM vol. 3A §8.4.4.1, §9.1.4). smp.c copies
 * ap_trampoline_start..ap_trampoline_end to such a page below 1 MiB. The
 * 16-bit code there only loads the guest's GDT and enters 32-bit protected
 * mode; the rest runs in the image at its link address, which a flat
 * 32-bit code segment reaches: long mode the way head.S's startup_32 enters
 * it (SDM vol. 3A §9.8.5), the boot CPU's page tables, then the stack that
 * smp.c put in ap_boot_stack_top and the C entry ap_start().
 *
 * The BSP starts one AP at a time, so one ap_boot_stack_top serves all.
 */

#include "layout.h"

#define X86_CR0_PE   0x00000001
#define X86_CR0_NW   0x20000000
#define X86_CR0_CD   0x40000000
#define X86_CR0_PG   0x80000000
#define X86_CR4_PAE  0x00000020
#define MSR_EFER     0xc0000080
#define EFER_LME     0x00000100

	.text
	.code16
	.balign	16
	.globl	ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	cld
	/* Everything below is addressed relative to the page: DS = CS. */
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	ap_trampoline_gdt_desc - ap_trampoline_start
	/* INIT leaves caching disabled (CR0.CD and NW set, SDM Table 9-1):
	 * turn it on with protection. */
	movl	%cr0, %eax
	andl	$~(X86_CR0_CD | X86_CR0_NW), %eax
	orl	$X86_CR0_PE, %eax
	movl	%eax, %cr0
	/* A 32-bit far jump (operand-size prefix) to the image. */
	ljmpl	$SEL_CODE32, $ap_startup_32

	/* LGDT with a 32-bit operand size reads a 16-bit limit and a 32-bit
	 * linear base (SDM vol. 2A, LGDT). */
	.balign	8
ap_trampoline_gdt_desc:
	.word	boot_gdt_limit
	.long	boot_gdt
ap_trampoline_end:

	.code32
ap_startup_32:
	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%cr4, %eax
	orl	$X86_CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$X86_CR0_PG, %eax
	movl	%eax, %cr0
	ljmp	$SEL_CODE64, $ap_startup_64

	.code64
ap_startup_64:
	movq	ap_boot_stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	call	ap_start
1:	cli
	hlt
	jmp	1b
