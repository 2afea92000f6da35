/* SPDX-License-Identifier: MIT */
/*
 * Guest FPU/SSE/AVX state. Keel itself never touches these registers
 * (it is built with -mgeneral-regs-only), so a vCPU's state only has to be
 * saved when its CPU goes on to something else (see fpu.c).
 */
#ifndef KEEL_FPU_H
#define KEEL_FPU_H

#include <keel/lib.h>

struct vcpu;

/* Per CPU: enables FXSAVE/XSAVE in CR4 and sets XCR0 to x87 only. */
void fpu_init_cpu(void);
int fpu_vcpu_init(struct vcpu *v);
void fpu_vcpu_destroy(struct vcpu *v);
/* Makes this CPU's FPU hold v's state, before v runs on it. */
void fpu_switch_to(struct vcpu *v);
/* Saves v's state if it is live on this CPU: called as soon as the CPU
 * has decided not to run v next, before v can run anywhere else. */
void fpu_release(struct vcpu *v);
/* v's XCR0 as the guest last set it (read back while it is live here). */
uint64_t fpu_guest_xcr0(struct vcpu *v);
/* XSETBV from the guest: 0, or -EINVAL for a value the CPU rejects. */
int fpu_set_xcr0(struct vcpu *v, uint32_t index, uint64_t value);

#endif
