/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 entry: GRUB leaves us in 32-bit protected mode, paging off,
 * EAX = magic, EBX = physical address of the boot information.
 * We build an identity map of the first 4 GiB with 2 MiB pages, enter long
 * mode and call start_keel(magic, mbi).
 */
#include <keel/x86.h>

#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_TAG_INFO_REQ 1
#define MB2_TAG_END 0
#define COM1 0x3F8

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Information request: cmdline(1), modules(3), mmap(6), ACPI old(14)/new(15). */
	.balign 8
	.short MB2_TAG_INFO_REQ, 0
	.long 4 * 8 + 8
	.long 1, 3, 6, 14
	.long 15, 0, 0, 0
	.balign 8
	.short MB2_TAG_END, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl start32
start32:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, %edi			/* keep magic and info for start_keel */
	movl %ebx, %esi

	/* Long mode present? CPUID 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %ebp			/* EDX bit 20: NX */

	/* PML4[0] -> PDPT, PDPT[0..3] -> PD0..3, each PD: 512 x 2 MiB. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4

	movl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	xorl %ecx, %ecx
1:	movl %eax, boot_pdpt(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b

	movl $(PTE_P | PTE_W | PTE_PS), %eax
	xorl %ecx, %ecx
2:	movl %eax, boot_pd(, %ecx, 8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $X86_CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3

	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $20, %ebp
	jnc 3f
	orl $EFER_NXE, %eax
3:	wrmsr

	movl %cr0, %eax
	orl $(X86_CR0_PG | X86_CR0_PE | X86_CR0_WP), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $GDT_CS64, $start64

no_long_mode:
	/* Say why on COM1 (115200 8n1) rather than triple-faulting. */
	movw $(COM1 + 3), %dx
	movb $0x80, %al
	outb %al, %dx
	movw $COM1, %dx
	movb $1, %al
	outb %al, %dx
	movw $(COM1 + 1), %dx
	xorb %al, %al
	outb %al, %dx
	movw $(COM1 + 3), %dx
	movb $3, %al
	outb %al, %dx
	movl $msg_no_lm, %esi
4:	lodsb
	testb %al, %al
	jz 6f
	movb %al, %bl
	movw $(COM1 + 5), %dx
5:	inb %dx, %al
	testb $0x20, %al
	jz 5b
	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 4b
6:	hlt
	jmp 6b

	.code64
start64:
	movl $GDT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	/* EDI = magic, ESI = mbi (zero-extended by the 32-bit moves above). */
	movl %edi, %edi
	movl %esi, %esi
	call start_keel
7:	cli
	hlt
	jmp 7b

	.section .rodata
msg_no_lm:
	.asciz "Keel: this CPU has no 64-bit long mode; Keel needs x86-64 with AMD-V (SVM+NPT) or Intel VT-x (VMX+EPT). Halted.\r\n"

	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00cf9a000000ffff	/* 0x18: 32-bit code */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.globl boot_stack_top
boot_stack:
	.skip 16384
boot_stack_top:
