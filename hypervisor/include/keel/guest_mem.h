/* SPDX-License-Identifier: MIT */
#ifndef KEEL_GUEST_MEM_H
#define KEEL_GUEST_MEM_H

#include <keel/decode.h>
#include <keel/domain.h>
#include <keel/x86.h>

/* Translates a guest-virtual address with the vCPU's current paging mode. */
int guest_virt_to_phys(struct vcpu *v, const struct guest_state *s,
		       uint64_t gva, uint64_t *gpa);
/* Reads the instruction bytes at CS:RIP (up to len; returns bytes read). */
int guest_fetch_insn(struct vcpu *v, const struct guest_state *s, uint8_t *buf,
		     size_t len);
/* How the CPU decodes the guest's code: 64-bit, or CS.D's 32/16-bit. */
static inline enum insn_cpu_mode guest_insn_mode(const struct guest_state *s)
{
	if ((s->efer & EFER_LMA) && (s->cs.attr & SEG_ATTR_L))
		return INSN_MODE_64;
	return (s->cs.attr & SEG_ATTR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

#endif
