/* SPDX-License-Identifier: MIT */
/*
 * A DomU vCPU's 64-bit boot state from the toolstack. Everything in it is
 * untrusted: a value the CPU would refuse at VM entry, or one that would
 * give the guest a feature Keel hides from it, is refused here instead.
 * Segments are Keel's own flat ones (as linux_loader.c builds for Dom0);
 * only their selectors come from the caller.
 */
#include <keel/boot_state.h>
#include <keel/errno.h>
#include <keel/x86.h>

/* CR0 bits that exist (SDM vol. 3A §2.5); the rest must be zero. */
#define CR0_DEFINED                                                            \
	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET |      \
	 X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD |      \
	 X86_CR0_PG)
#define CR0_REQUIRED (X86_CR0_PE | X86_CR0_PG | X86_CR0_ET)
#define EFER_ALLOWED (EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE)
/* CR3 without PCIDE: PWT and PCD below the table address (§4.5). */
#define CR3_FLAGS  (PTE_PWT | PTE_PCD)
#define SEL_RPL_TI 7u
/* 48-bit addresses: guests are never shown LA57. */
#define VA_BITS 48

/* Flat 64-bit code and flat data, as SVM packs their attributes. */
#define ATTR_CODE64                                                            \
	(SEG_TYPE_CODE_RXA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | (1u << 11))
#define ATTR_DATA                                                              \
	(SEG_TYPE_DATA_RWA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | (1u << 11))
#define ATTR_TSS  (SEG_TYPE_TSS_BUSY | SEG_ATTR_P)
#define ATTR_LDTR (SEG_TYPE_LDT | SEG_ATTR_P)

static bool canonical(uint64_t va)
{
	int64_t s = (int64_t)(va << (64 - VA_BITS)) >> (64 - VA_BITS);

	return (uint64_t)s == va;
}

uint64_t boot_state_cr4_allowed(uint32_t ecx1, uint32_t edx1, uint32_t ebx7,
				uint32_t ecx7)
{
	uint64_t m = X86_CR4_TSD | X86_CR4_PCE;

	if (edx1 & CPUID_1_EDX_VME)
		m |= X86_CR4_VME | X86_CR4_PVI;
	if (edx1 & CPUID_1_EDX_DE)
		m |= X86_CR4_DE;
	if (edx1 & CPUID_1_EDX_PSE)
		m |= X86_CR4_PSE;
	if (edx1 & CPUID_1_EDX_PAE)
		m |= X86_CR4_PAE;
	if (edx1 & CPUID_1_EDX_MCE)
		m |= X86_CR4_MCE;
	if (edx1 & CPUID_1_EDX_PGE)
		m |= X86_CR4_PGE;
	if (edx1 & CPUID_1_EDX_FXSR)
		m |= X86_CR4_OSFXSR;
	if (edx1 & CPUID_1_EDX_SSE)
		m |= X86_CR4_OSXMMEXCPT;
	if (ecx1 & CPUID_1_ECX_PCID)
		m |= X86_CR4_PCIDE;
	if (ecx1 & CPUID_1_ECX_XSAVE)
		m |= X86_CR4_OSXSAVE;
	if (ebx7 & CPUID_7_EBX_FSGSBASE)
		m |= X86_CR4_FSGSBASE;
	if (ebx7 & CPUID_7_EBX_SMEP)
		m |= X86_CR4_SMEP;
	if (ebx7 & CPUID_7_EBX_SMAP)
		m |= X86_CR4_SMAP;
	if (ecx7 & CPUID_7_ECX_UMIP)
		m |= X86_CR4_UMIP;
	if (ecx7 & CPUID_7_ECX_PKU)
		m |= X86_CR4_PKE;
	return m;
}

/* A GDT selector of ring 0 that is not null and lies inside the GDT. */
static bool selector_ok(uint16_t sel, uint64_t gdt_limit)
{
	return (sel & SEL_RPL_TI) == 0 && sel != 0 &&
	       (uint64_t)sel + 7 <= gdt_limit;
}

int boot_state_apply(const struct keel_vcpu_boot_state *b, uint64_t cr4_allowed,
		     struct guest_state *s, uint64_t gpr[NR_GPRS])
{
	uint64_t cr3_low = b->cr4 & X86_CR4_PCIDE ? PAGE_SIZE - 1 : CR3_FLAGS;

	if (b->mode != KEEL_VCPU_BOOT_LONG64)
		return -EINVAL;
	if ((b->cr0 & CR0_REQUIRED) != CR0_REQUIRED ||
	    (b->cr0 & ~CR0_DEFINED) || (b->cr0 & (X86_CR0_CD | X86_CR0_NW)))
		return -EINVAL;
	if (!(b->cr4 & X86_CR4_PAE) || (b->cr4 & ~cr4_allowed))
		return -EINVAL;
	if ((b->efer & (EFER_LME | EFER_LMA)) != (EFER_LME | EFER_LMA) ||
	    (b->efer & ~EFER_ALLOWED))
		return -EINVAL;
	if ((b->cr3 & (PAGE_SIZE - 1) & ~cr3_low) || b->cr3 >= KEEL_MAX_GPA)
		return -EINVAL;
	if (!canonical(b->rip) || !canonical(b->rsp) ||
	    !canonical(b->gdt_base) || b->gdt_limit > 0xFFFF)
		return -EINVAL;
	if (!selector_ok(b->cs, b->gdt_limit) ||
	    !selector_ok(b->ds, b->gdt_limit))
		return -EINVAL;
	if ((b->rflags & ~(X86_RFLAGS_DEFINED | X86_RFLAGS_FIXED1)) ||
	    (b->rflags & X86_RFLAGS_VM))
		return -EINVAL;

	s->cr0 = b->cr0;
	s->cr3 = b->cr3;
	s->cr4 = b->cr4;
	s->efer = b->efer;
	s->cr2 = 0;
	s->rflags = b->rflags | X86_RFLAGS_FIXED1;
	s->rip = b->rip;
	s->cs = (struct segment){b->cs, ATTR_CODE64, 0xFFFFFFFF, 0};
	s->ds = (struct segment){b->ds, ATTR_DATA, 0xFFFFFFFF, 0};
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->tr = (struct segment){0, ATTR_TSS, 0x67, 0};
	s->ldtr = (struct segment){0, ATTR_LDTR, 0, 0};
	s->gdtr_base = b->gdt_base;
	s->gdtr_limit = (uint32_t)b->gdt_limit;
	s->idtr_base = 0;
	s->idtr_limit = 0;
	s->cpl = 0;

	gpr[GPR_RAX] = b->rax;
	gpr[GPR_RBX] = b->rbx;
	gpr[GPR_RCX] = b->rcx;
	gpr[GPR_RDX] = b->rdx;
	gpr[GPR_RSI] = b->rsi;
	gpr[GPR_RDI] = b->rdi;
	gpr[GPR_RBP] = b->rbp;
	gpr[GPR_RSP] = b->rsp;
	gpr[GPR_R8] = b->r8;
	gpr[GPR_R9] = b->r9;
	gpr[GPR_R10] = b->r10;
	gpr[GPR_R11] = b->r11;
	gpr[GPR_R12] = b->r12;
	gpr[GPR_R13] = b->r13;
	gpr[GPR_R14] = b->r14;
	gpr[GPR_R15] = b->r15;
	return 0;
}
