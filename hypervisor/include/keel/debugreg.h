/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's debug registers that neither the VMCB nor the VMCS holds:
 * DR0-DR3 on both vendors, DR6 on VMX (SDM vol. 3A §18.2, APM vol. 2
 * §13.1). Keel itself never sets a breakpoint, so the hardware registers
 * belong to whichever vCPU last loaded them: a backend intercepts MOV DR
 * until a vCPU first touches them and from then on loads its values before
 * every entry and saves them after every exit, so no vCPU reads another's.
 */
#ifndef KEEL_DEBUGREG_H
#define KEEL_DEBUGREG_H

#include <keel/lib.h>

#define DR6_RESET 0xFFFF0FF0ULL /* reserved bits read as 1 */
#define DR6_TRAPS 0xFULL	/* B0-B3 */
#define DR6_BD	  (1ULL << 13)
#define DR6_BS	  (1ULL << 14)
#define DR7_RESET 0x400ULL

struct guest_drs {
	uint64_t dr[4];
	uint64_t dr6; /* only where the vendor does not hold it */
};

static inline void drs_load(const struct guest_drs *d, bool with_dr6)
{
	__asm__ volatile("mov %0, %%dr0" ::"r"(d->dr[0]));
	__asm__ volatile("mov %0, %%dr1" ::"r"(d->dr[1]));
	__asm__ volatile("mov %0, %%dr2" ::"r"(d->dr[2]));
	__asm__ volatile("mov %0, %%dr3" ::"r"(d->dr[3]));
	if (with_dr6)
		__asm__ volatile("mov %0, %%dr6" ::"r"(d->dr6));
}

static inline void drs_save(struct guest_drs *d, bool with_dr6)
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(d->dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(d->dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(d->dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(d->dr[3]));
	if (with_dr6)
		__asm__ volatile("mov %%dr6, %0" : "=r"(d->dr6));
}

#endif
