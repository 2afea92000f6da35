/* SPDX-License-Identifier: MIT */
/*
 * int vmx_enter(uint64_t *gpr, bool launched)
 *
 * Enters the guest of the current VMCS with VMLAUNCH (first entry) or
 * VMRESUME, the guest GPRs taken from gpr[] (RSP lives in the VMCS).
 * Returns 0 after a VM exit (gpr[] then holds the guest's registers),
 * 1 for VMfailInvalid and 2 for VMfailValid (SDM vol. 3C §31.2: CF or ZF
 * set after the instruction).
 *
 * A VM exit continues at vmx_exit_stub (the VMCS host RIP) with RSP = the
 * host RSP written here, where the gpr pointer sits on top of the stack.
 * The exit loads host RFLAGS as 0x2, so interrupts stay disabled until the
 * scheduler opens its window, as with SVM.
 */
#define GPR(n) (8 * (n))
#define VMCS_HOST_RSP 0x6C14

	.text
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* gpr array, for the exit stub */

	movl $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lfail

	testb %sil, %sil		/* MOVs below keep ZF */
	movq GPR(0)(%rdi), %rax
	movq GPR(1)(%rdi), %rcx
	movq GPR(2)(%rdi), %rdx
	movq GPR(3)(%rdi), %rbx
	movq GPR(5)(%rdi), %rbp
	movq GPR(6)(%rdi), %rsi
	movq GPR(8)(%rdi), %r8
	movq GPR(9)(%rdi), %r9
	movq GPR(10)(%rdi), %r10
	movq GPR(11)(%rdi), %r11
	movq GPR(12)(%rdi), %r12
	movq GPR(13)(%rdi), %r13
	movq GPR(14)(%rdi), %r14
	movq GPR(15)(%rdi), %r15
	movq GPR(7)(%rdi), %rdi
	jnz .Lresume
	vmlaunch
	jmp .Lfail
.Lresume:
	vmresume
.Lfail:
	/* Still on our stack; CF = VMfailInvalid, else ZF = VMfailValid. */
	movl $2, %eax
	jnc 1f
	movl $1, %eax
1:	popq %rdi
	jmp .Lreturn

	.globl vmx_exit_stub
vmx_exit_stub:
	pushq %rdi
	movq 8(%rsp), %rdi		/* gpr array */
	movq %rax, GPR(0)(%rdi)
	movq %rcx, GPR(1)(%rdi)
	movq %rdx, GPR(2)(%rdi)
	movq %rbx, GPR(3)(%rdi)
	movq %rbp, GPR(5)(%rdi)
	movq %rsi, GPR(6)(%rdi)
	movq %r8, GPR(8)(%rdi)
	movq %r9, GPR(9)(%rdi)
	movq %r10, GPR(10)(%rdi)
	movq %r11, GPR(11)(%rdi)
	movq %r12, GPR(12)(%rdi)
	movq %r13, GPR(13)(%rdi)
	movq %r14, GPR(14)(%rdi)
	movq %r15, GPR(15)(%rdi)
	popq %rax			/* guest RDI */
	movq %rax, GPR(7)(%rdi)
	popq %rdi
	xorl %eax, %eax
.Lreturn:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
