/* SPDX-License-Identifier: MIT */
/* Vendor-neutral handling of guest exits (arch/x86/hvm). */
#ifndef KEEL_HVM_EXIT_H
#define KEEL_HVM_EXIT_H

#include <keel/domain.h>

/* Handles one exit; the vCPU may be stopped or blocked afterwards. */
void hvm_handle_exit(struct vcpu *v, struct vm_exit *e);
/* Injects the highest pending interrupt or asks for a window. */
void hvm_deliver_events(struct vcpu *v);

void hvm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4]);
/* 0 or -EINVAL (the caller injects #GP). */
int hvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int hvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* Around each guest entry: the vCPU's own values of MSRs the hardware
 * does not switch (IA32_SPEC_CTRL). */
void hvm_msrs_guest_enter(struct vcpu *v);
void hvm_msrs_guest_exit(struct vcpu *v);
/* The physical MSRs msr.c reaches (msr_host.c): a host value (0 or
 * -EFAULT when the CPU lacks the MSR), and a write-only command MSR. */
int host_msr_read(uint32_t msr, uint64_t *val);
void host_msr_command(uint32_t msr, uint64_t val);
/* Port I/O to emulated devices; 0, HVM_IO_DEFERRED (an I/O request: *val
 * comes later), or a negative error (-ENODEV when nothing claims it). */
int hvm_io(struct vcpu *v, uint16_t port, unsigned size, bool in,
	   uint32_t *val);
/* NPT/EPT faults: emulate MMIO, map passthrough MMIO, or crash. */
void hvm_npf(struct vcpu *v, struct vm_exit *e);
/* Advances RIP past the exiting instruction (decoding it if needed). */
int hvm_skip_insn(struct vcpu *v, const struct vm_exit *e);
void hvm_inject_gp(struct vcpu *v);
void hvm_inject_ud(struct vcpu *v);

/* kvmclock (pvclock) pages. */
void pvclock_update(struct vcpu *v);
uint64_t pvclock_wallclock_sec(void);

#endif
