/* SPDX-License-Identifier: MIT */
#ifndef KEEL_GUEST_MEM_H
#define KEEL_GUEST_MEM_H

#include <keel/domain.h>

/* Translates a guest-virtual address with the vCPU's current paging mode. */
int guest_virt_to_phys(struct vcpu *v, const struct guest_state *s,
		       uint64_t gva, uint64_t *gpa);
/* Reads the instruction bytes at CS:RIP (up to len; returns bytes read). */
int guest_fetch_insn(struct vcpu *v, const struct guest_state *s,
		     uint8_t *buf, size_t len);

#endif
