/* SPDX-License-Identifier: MIT */
/*
 * svm_vmrun(vmcb_pa, gpr, host_vmcb_pa, host_rsp)
 *
 * *host_rsp gets Keel's RSP at the VMRUN, which returns to svm_vmrun_exit:
 * together with CR3 they are the host state that svm.c checks the guest's
 * save area against after the run (svm_lost_guest_state()).
 *
 * GIF stays clear from before VMLOAD of the guest's hidden state until the
 * host's is back (FS/GS/TR/syscall MSRs are not restored by #VMEXIT, APM
 * vol. 2 §15.5.2), so no host interrupt handler ever runs with guest GS.
 * Interrupts are enabled (host IF=1) across VMRUN so a physical interrupt
 * exits the guest; the CLI before STGI keeps it pending after the exit,
 * so the host takes it where the vCPU loop opens an interrupt window
 * (take_interrupts() in hvm/vcpu_loop.c), not right after STGI.
 */
#define GPR(n) (8 * (n))

	.text
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* host VMCB */
	pushq %rsi			/* gpr array */
	pushq %rdi			/* guest VMCB */
	movq %rsp, (%rcx)

	clgi
	movq %rdx, %rax
	vmsave %rax
	movq (%rsp), %rax
	vmload %rax
	sti

	movq GPR(1)(%rsi), %rcx
	movq GPR(2)(%rsi), %rdx
	movq GPR(3)(%rsi), %rbx
	movq GPR(5)(%rsi), %rbp
	movq GPR(7)(%rsi), %rdi
	movq GPR(8)(%rsi), %r8
	movq GPR(9)(%rsi), %r9
	movq GPR(10)(%rsi), %r10
	movq GPR(11)(%rsi), %r11
	movq GPR(12)(%rsi), %r12
	movq GPR(13)(%rsi), %r13
	movq GPR(14)(%rsi), %r14
	movq GPR(15)(%rsi), %r15
	movq GPR(6)(%rsi), %rsi

	vmrun %rax
	.globl svm_vmrun_exit
svm_vmrun_exit:

	/* RAX = guest VMCB again (VMRUN restores host RAX). */
	pushq %rsi
	movq 16(%rsp), %rsi		/* gpr array */
	movq %rcx, GPR(1)(%rsi)
	movq %rdx, GPR(2)(%rsi)
	movq %rbx, GPR(3)(%rsi)
	movq %rbp, GPR(5)(%rsi)
	movq %rdi, GPR(7)(%rsi)
	movq %r8, GPR(8)(%rsi)
	movq %r9, GPR(9)(%rsi)
	movq %r10, GPR(10)(%rsi)
	movq %r11, GPR(11)(%rsi)
	movq %r12, GPR(12)(%rsi)
	movq %r13, GPR(13)(%rsi)
	movq %r14, GPR(14)(%rsi)
	movq %r15, GPR(15)(%rsi)
	popq %rcx
	movq %rcx, GPR(6)(%rsi)

	cli
	vmsave %rax
	movq 16(%rsp), %rax		/* host VMCB */
	vmload %rax
	stgi

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
