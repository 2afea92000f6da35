/* SPDX-License-Identifier: MIT */
/*
 * Application processor start-up. The BSP copies this blob to a page
 * below 1 MiB and sends INIT-SIPI-SIPI (Intel SDM vol. 3A §8.4.4): the AP
 * starts here in real mode at CS:IP = page:0, switches to protected mode,
 * then to long mode on Keel's boot page tables, and jumps to ap_entry64
 * in Keel's image with the stack the BSP left in trampoline_stack.
 */
#include <keel/x86.h>

#define TRAMP_OFF(sym) ((sym) - trampoline_start)

	.section .rodata
	.code16
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl trampoline_cr3, trampoline_stack, trampoline_efer
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx		/* EBX = physical address of the blob */
	/* The GDT pointer's base is patched with the blob's physical address. */
	lgdtl TRAMP_OFF(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $X86_CR0_PE, %eax
	movl %eax, %cr0
	/* Far jump into 32-bit code: offset patched by the BSP. */
	.byte 0x66, 0xEA
tramp_jmp32_off:
	.long 0
	.word 0x08

	.code32
tramp_32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	/* EBX = the blob's physical address, from the GDT pointer. */
	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl TRAMP_OFF(trampoline_cr3)(%ebx), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	movl TRAMP_OFF(trampoline_efer)(%ebx), %eax
	xorl %edx, %edx
	wrmsr
	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_WP), %eax
	movl %eax, %cr0
	ljmpl *TRAMP_OFF(tramp_jmp64)(%ebx)

	.balign 8
tramp_jmp64:
	.long 0		/* patched: ap_entry64 */
	.word 0x18	/* 64-bit code selector of the blob's GDT */
	.balign 8
trampoline_cr3:
	.quad 0
trampoline_stack:
	.quad 0
trampoline_efer:
	.quad 0
	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdt_ptr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long 0		/* patched: physical address of tramp_gdt */
trampoline_end:

	.globl trampoline_jmp32_off, trampoline_32_off, trampoline_jmp64_off
	.globl trampoline_gdt_off, trampoline_gdtptr_off
	.set trampoline_jmp32_off, tramp_jmp32_off - trampoline_start
	.set trampoline_32_off, tramp_32 - trampoline_start
	.set trampoline_jmp64_off, tramp_jmp64 - trampoline_start
	.set trampoline_gdt_off, tramp_gdt - trampoline_start
	.set trampoline_gdtptr_off, tramp_gdt_ptr - trampoline_start

	.text
	.code64
	.globl ap_entry64
ap_entry64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	/* The blob's physical address is still in RBX. */
	movq TRAMP_OFF(trampoline_stack)(%rbx), %rsp
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
