/* SPDX-License-Identifier: MIT */
/* Guest registers: the VMCS guest-state area <-> struct guest_state. */
#include <keel/domain.h>
#include <keel/guest_mem.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/x86.h>
#include "backend.h"

#define NR_PDPTES 4

/*
 * struct segment keeps SVM's packed attributes (descriptor bits 40-47 in
 * 0-7, bits 52-55 in 8-11); VMX access rights keep the upper nibble at
 * 12-15 and mark a segment that is not present (a null selector) with the
 * "unusable" bit 16 (§25.4.1).
 */
static uint32_t attr_to_ar(uint16_t attr)
{
	uint32_t ar =
	    (attr & VMX_AR_LOW_MASK) |
	    (((uint32_t)attr << VMX_AR_HIGH_SHIFT) & VMX_AR_HIGH_MASK);

	if (!(ar & VMX_AR_P))
		ar |= VMX_AR_UNUSABLE;
	return ar;
}

static uint16_t ar_to_attr(uint32_t ar)
{
	uint16_t attr = (ar & VMX_AR_LOW_MASK) |
			((ar & VMX_AR_HIGH_MASK) >> VMX_AR_HIGH_SHIFT);

	if (ar & VMX_AR_UNUSABLE)
		attr &= ~VMX_AR_P;
	return attr;
}

/* Guest interruptibility state (§25.4.2): the VMCS field and its copy. */
void set_intr_state(struct vmx_vcpu *x, uint32_t state)
{
	x->intr_state = state;
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, state);
}

static void seg_write(enum vmcs_seg seg, const struct segment *s)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, s->sel);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, s->limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * seg, attr_to_ar(s->attr));
	vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, s->base);
}

static void seg_read(enum vmcs_seg seg, struct segment *s)
{
	s->sel = vmread(VMCS_GUEST_ES_SELECTOR + 2 * seg);
	s->limit = vmread(VMCS_GUEST_ES_LIMIT + 2 * seg);
	s->attr = ar_to_attr(vmread(VMCS_GUEST_ES_AR + 2 * seg));
	s->base = vmread(VMCS_GUEST_ES_BASE + 2 * seg);
}

/* What the guest sees: shadowed bits from the read shadow (§25.6.6). */
static uint64_t guest_cr(enum vmcs_field cr, enum vmcs_field shadow,
			 uint64_t mask)
{
	return (vmread(cr) & ~mask) | (vmread(shadow) & mask);
}

void vmx_get_state(struct vcpu *v, struct guest_state *gs)
{
	struct vmx_vcpu *x = vmcs_load(v);

	gs->cr0 =
	    guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, vmx_caps.cr0_mask);
	gs->cr2 = x->cr2;
	gs->cr3 = vmread(VMCS_GUEST_CR3);
	gs->cr4 =
	    guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, vmx_caps.cr4_mask);
	gs->efer = vmread(VMCS_GUEST_IA32_EFER);
	gs->rflags = vmread(VMCS_GUEST_RFLAGS);
	gs->rip = vmread(VMCS_GUEST_RIP);
	gs->pat = vmread(VMCS_GUEST_IA32_PAT);
	seg_read(SEG_CS, &gs->cs);
	seg_read(SEG_SS, &gs->ss);
	seg_read(SEG_DS, &gs->ds);
	seg_read(SEG_ES, &gs->es);
	seg_read(SEG_FS, &gs->fs);
	seg_read(SEG_GS, &gs->gs);
	seg_read(SEG_TR, &gs->tr);
	seg_read(SEG_LDTR, &gs->ldtr);
	gs->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
	gs->gdtr_limit = vmread(VMCS_GUEST_GDTR_LIMIT);
	gs->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
	gs->idtr_limit = vmread(VMCS_GUEST_IDTR_LIMIT);
	/* The CPL is SS.DPL in the VMCS (§27.3.2). */
	gs->cpl = (vmread(VMCS_GUEST_ES_AR + 2 * SEG_SS) >> VMX_AR_DPL_SHIFT) &
		  VMX_AR_DPL_MASK;
}

static bool pae_paging(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * With EPT, VM entry takes the PAE PDPTEs from the VMCS, not from memory
 * (§27.3.2.4): load them as MOV CR3 would when PAE paging starts or CR3
 * changes. A CR3 outside guest RAM gives not-present PDPTEs.
 */
static void load_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t pdpte[NR_PDPTES];

	if (guest_phys_read(v->dom, cr3 & ~0x1FULL, pdpte, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	for (unsigned i = 0; i < NR_PDPTES; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

void vmx_set_state(struct vcpu *v, const struct guest_state *gs)
{
	struct vmx_vcpu *x = vmcs_load(v);
	uint64_t old_cr0 = vmread(VMCS_GUEST_CR0);
	uint64_t old_cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t old_efer = vmread(VMCS_GUEST_IA32_EFER);
	struct segment ss = gs->ss;
	uint32_t entry;

	if (pae_paging(gs->cr0, gs->cr4, gs->efer) &&
	    (!pae_paging(old_cr0, old_cr4, old_efer) ||
	     gs->cr3 != vmread(VMCS_GUEST_CR3)))
		load_pdptes(v, gs->cr3);

	vmwrite(VMCS_CR0_READ_SHADOW, gs->cr0);
	vmwrite(VMCS_GUEST_CR0, (gs->cr0 | vmx_caps.cr0_guest_set) &
				    vmx_caps.cr0_guest_allowed);
	vmwrite(VMCS_CR4_READ_SHADOW, gs->cr4);
	vmwrite(VMCS_GUEST_CR4, (gs->cr4 | vmx_caps.cr4_guest_set) &
				    vmx_caps.cr4_guest_allowed);
	x->cr2 = gs->cr2;
	vmwrite(VMCS_GUEST_CR3, gs->cr3);
	/* The IA-32e mode guest entry control must equal EFER.LMA (§26.3.1.1).
	 */
	vmwrite(VMCS_GUEST_IA32_EFER, gs->efer);
	entry = gs->efer & EFER_LMA ? x->entry | ENTRY_IA32E_MODE_GUEST
				    : x->entry & ~ENTRY_IA32E_MODE_GUEST;
	if (entry != x->entry) {
		x->entry = entry;
		vmwrite(VMCS_ENTRY_CONTROLS, entry);
	}
	vmwrite(VMCS_GUEST_RFLAGS, gs->rflags);
	x->rflags = gs->rflags;
	/* Moving RIP retires the instruction an STI or MOV SS shadow covered.
	 */
	if (gs->rip != vmread(VMCS_GUEST_RIP)) {
		if (x->intr_state & (INTR_BLOCK_STI | INTR_BLOCK_MOVSS))
			set_intr_state(x, x->intr_state & ~(INTR_BLOCK_STI |
							    INTR_BLOCK_MOVSS));
		vmwrite(VMCS_GUEST_RIP, gs->rip);
	}
	vmwrite(VMCS_GUEST_IA32_PAT, gs->pat);
	seg_write(SEG_CS, &gs->cs);
	/* VMX has no CPL field: it is SS.DPL. */
	ss.attr = (ss.attr & ~(VMX_AR_DPL_MASK << VMX_AR_DPL_SHIFT)) |
		  ((gs->cpl & VMX_AR_DPL_MASK) << VMX_AR_DPL_SHIFT);
	seg_write(SEG_SS, &ss);
	seg_write(SEG_DS, &gs->ds);
	seg_write(SEG_ES, &gs->es);
	seg_write(SEG_FS, &gs->fs);
	seg_write(SEG_GS, &gs->gs);
	seg_write(SEG_TR, &gs->tr);
	seg_write(SEG_LDTR, &gs->ldtr);
	vmwrite(VMCS_GUEST_GDTR_BASE, gs->gdtr_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, gs->gdtr_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, gs->idtr_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, gs->idtr_limit);
}
