/* SPDX-License-Identifier: MIT */
/*
 * The DomU the ioreq guest builds (position-independent 64-bit code that
 * Dom0 copies to DOMU_PAYLOAD_GPA). RDI selects what it does (payload.h).
 * Its loads put their values in RESULT for Dom0 to check after the
 * power-off; loads into registers preset to all-ones show how each width
 * merges or extends.
 */
#include "payload.h"

#define SLEEP_S5	((5 << 2) | (1 << 5))	/* SLP_TYP 5, SLP_EN */
#define SLEEP_PORT	0x600
#define VIOAPIC		0xfec00000
#define LAPIC_SVR	0xfee000f0
#define LAPIC_EOI	0xfee000b0
#define R(n)		(DOMU_RESULT_GPA + 8 * (n))
#define MARK(code)	movq $code, DOMU_MARK_OFFSET(%rbx)

	.text
	.code64
	.globl	ioreq_payload_start, ioreq_payload_end
ioreq_payload_start:
	cmpq	$DOMU_BENCH, %rdi
	je	bench
	movl	$DOMU_MMIO_BASE, %ebx
	cmpq	$DOMU_WAIT, %rdi
	je	wait_one

	/* An interrupt gate for DOMU_IRQ_VECTOR: the handler below. */
	leaq	irq_handler(%rip), %rax
	movl	%eax, %ecx
	andl	$0xffff, %ecx
	movq	%rax, %rdx
	shrq	$16, %rdx
	andl	$0xffff, %edx
	shlq	$48, %rdx
	orq	%rdx, %rcx
	movabsq	$0x00008e0000000000 | (DOMU_SEL_CODE << 16), %rdx
	orq	%rdx, %rcx
	movq	%rcx, DOMU_IDT_GPA + 16 * DOMU_IRQ_VECTOR
	movq	%rax, %rdx
	shrq	$32, %rdx
	movq	%rdx, DOMU_IDT_GPA + 16 * DOMU_IRQ_VECTOR + 8
	lidt	idt_desc(%rip)
	/* vLAPIC on; vIOAPIC pin: edge, fixed, to APIC ID 0, unmasked. */
	movl	$LAPIC_SVR, %ecx
	movl	$0x1ff, (%rcx)
	movl	$VIOAPIC, %ecx
	movl	$(0x10 + 2 * DOMU_IRQ_GSI), (%rcx)
	movl	$DOMU_IRQ_VECTOR, 0x10(%rcx)
	movl	$(0x11 + 2 * DOMU_IRQ_GSI), (%rcx)
	movl	$0, 0x10(%rcx)

	/* MMIO writes of every width. */
	movb	$0x11, 0x10(%rbx)
	movw	$0x2233, 0x20(%rbx)
	movl	$0x44556677, 0x30(%rbx)
	movabsq	$0x8899aabbccddeeff, %rcx
	movq	%rcx, 0x38(%rbx)
	/* MMIO reads of every width, and a movzx. */
	movq	$-1, %rax
	movb	0x10(%rbx), %al
	movq	%rax, R(0)
	movq	$-1, %rax
	movw	0x20(%rbx), %ax
	movq	%rax, R(1)
	movq	$-1, %rax
	movl	0x30(%rbx), %eax
	movq	%rax, R(2)
	movq	$-1, %r9
	movq	0x38(%rbx), %r9
	movq	%r9, R(3)
	movq	$-1, %rcx
	movzwq	0x22(%rbx), %rcx
	movq	%rcx, R(4)
	/* Ports. */
	movw	$DOMU_PORT_BASE, %dx
	movb	$0x5a, %al
	outb	%al, %dx
	addw	$2, %dx
	movw	$0x6b7c, %ax
	outw	%ax, %dx
	addw	$2, %dx
	movl	$0x8d9eafb0, %eax
	outl	%eax, %dx
	movw	$DOMU_PORT_BASE, %dx
	movq	$-1, %rax
	inb	%dx, %al
	movq	%rax, R(5)
	addw	$2, %dx
	movq	$-1, %rax
	inw	%dx, %ax
	movq	%rax, R(6)
	addw	$2, %dx
	movq	$-1, %rax
	inl	%dx, %eax
	movq	%rax, R(7)
	/* Doorbells: they do not wait; a read gives all-ones. */
	movl	$DOMU_DOORBELL, %ecx
	movl	$3, (%rcx)
	movl	$5, (%rcx)
	xorl	%eax, %eax
	movl	(%rcx), %eax
	movq	%rax, R(8)
	MARK(DOMU_MARK_DOORBELLS)
	/* What nobody claims: all-ones. */
	movl	$DOMU_UNCLAIMED_MMIO, %ecx
	xorl	%eax, %eax
	movq	(%rcx), %rax
	movq	%rax, R(9)
	movw	$DOMU_UNCLAIMED_PORT, %dx
	xorl	%eax, %eax
	inl	%dx, %eax
	movq	%rax, R(10)
	/* The interrupt Dom0 pulses while this write waits. */
	MARK(DOMU_MARK_IRQ)
1:	cli
	cmpq	$0, DOMU_IRQ_COUNT
	jne	2f
	sti
	hlt
	jmp	1b
2:	movq	DOMU_IRQ_COUNT, %rax
	movq	%rax, R(11)
	/* The port range is gone now: all-ones. */
	MARK(DOMU_MARK_REMOVED)
	movw	$DOMU_PORT_BASE, %dx
	xorl	%eax, %eax
	inl	%dx, %eax
	movq	%rax, R(12)
	jmp	poweroff

wait_one:
	movq	0x40(%rbx), %rax
	movq	%rax, R(0)
	jmp	poweroff

	/* RDTSC around each read; LFENCE keeps the read between them. */
#define TIMED_READS(reg)			\
	movl	$DOMU_BENCH_READS, %esi;	\
1:	lfence;					\
	rdtsc;					\
	shlq	$32, %rdx;			\
	orq	%rdx, %rax;			\
	movq	%rax, %r8;			\
	movl	reg, %ecx;			\
	lfence;					\
	rdtsc;					\
	shlq	$32, %rdx;			\
	orq	%rdx, %rax;			\
	subq	%r8, %rax;			\
	movq	%rax, (%rdi);			\
	addq	$8, %rdi;			\
	decl	%esi;				\
	jnz	1b

bench:
	movl	$0x40000010, %eax
	xorl	%ecx, %ecx
	cpuid
	movq	%rax, R(0)
	movl	$DOMU_MMIO_BASE, %ebx
	movl	$DOMU_BENCH_GPA, %edi
	TIMED_READS(DOMU_BENCH_REG(%rbx))
	movl	$VIOAPIC, %r9d
	movl	$1, (%r9)
	TIMED_READS(0x10(%r9))
	jmp	poweroff

irq_handler:
	pushq	%rax
	incq	DOMU_IRQ_COUNT
	movl	$LAPIC_EOI, %eax
	movl	$0, (%rax)
	popq	%rax
	iretq

poweroff:
	movw	$SLEEP_PORT, %dx
	movb	$SLEEP_S5, %al
	outb	%al, %dx
1:	hlt
	jmp	1b

	.balign	8
idt_desc:
	.word	16 * (DOMU_IRQ_VECTOR + 1) - 1
	.quad	DOMU_IDT_GPA
ioreq_payload_end:

	.section .note.GNU-stack,"",@progbits
