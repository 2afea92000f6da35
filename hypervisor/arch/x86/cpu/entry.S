/* SPDX-License-Identifier: MIT */
/* Exception and interrupt entry stubs: build struct cpu_regs, call trap_dispatch. */

/* Vectors where the CPU pushes an error code (Intel SDM vol. 3A table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.altmacro
	.macro stub v
	.balign 16
stub_\v:
	.if !HAS_ERR(\v)
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
	.endm

	.balign 16
	.globl trap_stubs_start
trap_stubs_start:
	.set i, 0
	.rept 256
	stub %i
	.set i, i + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq
