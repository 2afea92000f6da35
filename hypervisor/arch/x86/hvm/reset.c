/* SPDX-License-Identifier: MIT */
/*
 * Architectural reset states, for both backends: power-up (a new vCPU)
 * and INIT followed by a STARTUP IPI (an AP that Linux starts).
 */
#include <keel/domain.h>
#include <keel/hvm.h>
#include <keel/x86.h>

#define RESET_PAT 0x0007040600070406ULL

/* SDM vol. 3A §10.1.1 table 10-1; AMD APM vol. 2 §14.1.3. */
void hvm_reset_state(struct guest_state *s)
{
	const struct segment data = {
	    0, SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_DATA_RWA, 0xFFFF, 0};

	memset(s, 0, sizeof(*s));
	s->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	s->rflags = 2; /* bit 1 is always set */
	s->rip = 0xFFF0;
	s->pat = RESET_PAT;
	s->cs = (struct segment){0xF000,
				 SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_CODE_RXA,
				 0xFFFF, 0xFFFF0000};
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct segment){0, SEG_ATTR_P | SEG_TYPE_TSS_BUSY, 0xFFFF, 0};
	s->ldtr = (struct segment){0, SEG_ATTR_P | SEG_TYPE_LDT, 0xFFFF, 0};
	s->gdtr_limit = s->idtr_limit = 0xFFFF;
}

/* INIT keeps PAT and CR2; STARTUP enters at vector * 4 KiB (SDM vol. 3A
 * §8.4.4.1). */
void hvm_startup_state(struct vcpu *v, uint8_t vector)
{
	struct guest_state now, s;

	hvm->get_state(v, &now);
	hvm_reset_state(&s);
	s.pat = now.pat;
	s.cr2 = now.cr2;
	s.cs.sel = (uint16_t)(vector << 8);
	s.cs.base = (uint64_t)vector << 12;
	s.rip = 0;
	memset(v->gpr, 0, sizeof(v->gpr));
	hvm->set_state(v, &s);
}
