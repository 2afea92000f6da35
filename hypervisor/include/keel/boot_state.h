/* SPDX-License-Identifier: MIT */
/*
 * The boot state Dom0 gives a DomU vCPU (KEEL_HC_VCPU_BOOT_STATE), checked
 * and turned into the vCPU's state. Pure, for the host unit tests.
 */
#ifndef KEEL_BOOT_STATE_H
#define KEEL_BOOT_STATE_H

#include <keel/hvm.h>
#include <public/keel.h>

/*
 * The CR4 bits a vCPU may have, from its CPUID leaves 1 (ECX, EDX) and 7
 * (EBX, ECX) as the guest sees them.
 */
uint64_t boot_state_cr4_allowed(uint32_t ecx1, uint32_t edx1, uint32_t ebx7,
				uint32_t ecx7);
/*
 * Checks b as public/keel.h says; on success fills s (other fields of s,
 * such as PAT, are left as they are) and the general registers. -EINVAL.
 */
int boot_state_apply(const struct keel_vcpu_boot_state *b, uint64_t cr4_allowed,
		     struct guest_state *s, uint64_t gpr[NR_GPRS]);

#endif
