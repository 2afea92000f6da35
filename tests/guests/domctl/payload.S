/* SPDX-License-Identifier: MIT */
/*
 * The DomU the domctl guest builds: position-independent 64-bit code that
 * Dom0 copies to the DomU's guest-physical PAYLOAD_GPA (payload.h) and
 * starts there in long mode. RDI selects what it does (DOMU_*), RSI is 1
 * on AMD (VMMCALL) and 0 on Intel (VMCALL). Results go to its own memory,
 * which Dom0 reads through the pages it donated.
 */
#include "payload.h"

#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_DATA_READY	0x01
#define SLEEP_S5	((5 << 2) | (1 << 5))	/* SLP_TYP 5, SLP_EN */
#define SLEEP_PORT	0x600
#define RESET_PORT	0x602
#define LAPIC_ICR_LOW	0xfee00300
#define LAPIC_ICR_HIGH	0xfee00310

	.text
	.code64
	.globl	domu_payload_start, domu_payload_end
	.globl	domu_trampoline_start, domu_trampoline_end
domu_payload_start:
	cmpq	$DOMU_HELLO, %rdi
	je	hello
	cmpq	$DOMU_COUNT, %rdi
	je	count
	cmpq	$DOMU_TRIPLE, %rdi
	je	triple
	cmpq	$DOMU_OUTSIDE, %rdi
	je	outside
	cmpq	$DOMU_RESET, %rdi
	je	reset
	cmpq	$DOMU_IO, %rdi
	je	unclaimed_io
	cmpq	$DOMU_ECHO, %rdi
	je	echo
	cmpq	$DOMU_AP, %rdi
	je	start_ap
	cmpq	$DOMU_HYPERCALL, %rdi
	je	hypercall
	cmpq	$DOMU_ESCAPE, %rdi
	je	escape
	jmp	poweroff

/* Prints the NUL-ended string at %rbx on COM1. */
puts:
	movw	$COM1, %dx
1:	movb	(%rbx), %al
	testb	%al, %al
	jz	2f
	outb	%al, %dx
	incq	%rbx
	jmp	1b
2:	ret

hello:
	leaq	hello_msg(%rip), %rbx
	call	puts
	jmp	poweroff

/* A line that would clear the operator's screen and forge one of Keel's. */
escape:
	leaq	escape_msg(%rip), %rbx
	call	puts
	jmp	poweroff

count:
	incq	DOMU_COUNTER_GPA
	jmp	count

triple:
	lidt	empty_idt(%rip)
	int3
	jmp	poweroff

outside:
	movq	$DOMU_OUTSIDE_GPA, %rax
	movq	(%rax), %rax
	movq	%rax, DOMU_RESULT_GPA
	jmp	poweroff

reset:
	movw	$RESET_PORT, %dx
	movb	$1, %al
	outb	%al, %dx
	hlt
	jmp	reset

/* An unclaimed port and an unclaimed MMIO address: all-ones, writes dropped. */
unclaimed_io:
	movw	$DOMU_UNCLAIMED_PORT, %dx
	movl	$0x12345678, %eax
	outl	%eax, %dx
	xorl	%eax, %eax
	inl	%dx, %eax
	movq	%rax, DOMU_RESULT_GPA
	movq	$DOMU_UNCLAIMED_MMIO, %rbx
	movl	$0x12345678, (%rbx)
	movl	(%rbx), %eax
	movq	%rax, DOMU_RESULT_GPA + 8
	jmp	poweroff

/* Reads a line from COM1 and writes it back after "echo: ". */
echo:
	leaq	echo_msg(%rip), %rbx
	call	puts
1:	movw	$COM1_LSR, %dx
	inb	%dx, %al
	testb	$LSR_DATA_READY, %al
	jz	1b
	movw	$COM1, %dx
	inb	%dx, %al
	outb	%al, %dx
	cmpb	$'\n', %al
	jne	1b
	jmp	poweroff

/* INIT and STARTUP to APIC ID 1 (Intel SDM vol. 3A §8.4.4.1, xAPIC MMIO);
 * the AP stores DOMU_AP_MAGIC in real mode. */
start_ap:
	movq	$LAPIC_ICR_HIGH, %rbx
	movq	$LAPIC_ICR_LOW, %rcx
	movl	$(1 << 24), (%rbx)
	movl	$0x4500, (%rcx)
	movl	$(1 << 24), (%rbx)
	movl	$(0x4600 | (DOMU_TRAMPOLINE_GPA >> 12)), (%rcx)
	movq	$200000000, %rcx
1:	cmpw	$DOMU_AP_MAGIC, DOMU_AP_FLAG_GPA
	je	2f
	pause
	loop	1b
2:	movzwq	DOMU_AP_FLAG_GPA, %rax
	movq	%rax, DOMU_RESULT_GPA
	jmp	poweroff

/* A privileged hypercall and the open one, from a DomU. */
hypercall:
	movq	%rsi, %r12
	movq	$KEEL_HC_DOMAIN_CREATE_NR, %rax
	xorl	%edi, %edi
	xorl	%esi, %esi
	call	do_hypercall
	movq	%rax, DOMU_RESULT_GPA
	movq	$KEEL_HC_VERSION_NR, %rax
	call	do_hypercall
	movq	%rax, DOMU_RESULT_GPA + 8
	jmp	poweroff
do_hypercall:
	testq	%r12, %r12
	jz	1f
	vmmcall
	ret
1:	vmcall
	ret

poweroff:
	movw	$SLEEP_PORT, %dx
	movb	$SLEEP_S5, %al
	outb	%al, %dx
	/* Not reached: Keel stops the domain at the write. */
	movq	$0xdead, DOMU_RESULT_GPA + 16
1:	hlt
	jmp	1b

	.balign	8
empty_idt:
	.word	0
	.quad	0
hello_msg:
	.asciz	"domu: hello from the DomU\n"
echo_msg:
	.asciz	"echo: "
escape_msg:
	.asciz	"\033[2J\r(keel) forged\n"
domu_payload_end:

/* The AP's first instructions, copied to DOMU_TRAMPOLINE_GPA: DS is 0
 * after INIT. */
	.code16
domu_trampoline_start:
	movw	$DOMU_AP_MAGIC, DOMU_AP_FLAG_GPA
1:	hlt
	jmp	1b
domu_trampoline_end:
	.code64
