/* SPDX-License-Identifier: MIT */
/*
 * Reading guest memory: through the domain's p2m for guest-physical
 * addresses, and through the guest's own page tables (Intel SDM vol. 3A
 * §4.3-4.5) for guest-virtual ones. Used to fetch instruction bytes when
 * the hardware does not report them (no decode assists, EPT violations).
 */
#include <keel/errno.h>
#include <keel/guest_mem.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/x86.h>

static int guest_phys_access(struct domain *d, uint64_t gpa, void *buf,
			     size_t len, bool write)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t hpa,
		    chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));

		if (p2m_lookup(d, gpa, &hpa) || !domain_owns_ram(d, hpa, chunk))
			return -EFAULT;
		if (write)
			memcpy(phys_to_virt(hpa), p, chunk);
		else
			memcpy(p, phys_to_virt(hpa), chunk);
		gpa += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int guest_phys_read(struct domain *d, uint64_t gpa, void *buf, size_t len)
{
	return guest_phys_access(d, gpa, buf, len, false);
}

int guest_phys_write(struct domain *d, uint64_t gpa, const void *buf,
		     size_t len)
{
	return guest_phys_access(d, gpa, (void *)buf, len, true);
}

int guest_virt_to_phys(struct vcpu *v, const struct guest_state *s,
		       uint64_t gva, uint64_t *gpa)
{
	struct domain *d = v->dom;
	uint64_t table, entry;
	int levels;

	if (!(s->cr0 & X86_CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (s->efer & EFER_LMA) {
		levels = (s->cr4 & (1UL << 12)) ? 5 : 4; /* CR4.LA57 */
		table = s->cr3 & PTE_ADDR_MASK;
	} else if (s->cr4 & X86_CR4_PAE) {
		uint64_t pdpte;

		if (guest_phys_read(d,
				    (s->cr3 & ~0x1FULL) + ((gva >> 30) & 3) * 8,
				    &pdpte, 8) ||
		    !(pdpte & PTE_P))
			return -EFAULT;
		table = pdpte & PTE_ADDR_MASK;
		levels = 2;
	} else {
		/* 32-bit paging: 4-byte entries, 4 MiB pages with PSE. */
		uint32_t pde, pte;

		gva &= 0xFFFFFFFF;
		if (guest_phys_read(d, (s->cr3 & 0xFFFFF000) + (gva >> 22) * 4,
				    &pde, 4) ||
		    !(pde & PTE_P))
			return -EFAULT;
		if ((pde & PTE_PS) && (s->cr4 & (1UL << 4))) {
			/* PSE-36: PDE bits 20:13 are address bits 39:32. */
			*gpa = (pde & 0xFFC00000) |
			       ((uint64_t)((pde >> 13) & 0xFF) << 32) |
			       (gva & 0x3FFFFF);
			return 0;
		}
		if (guest_phys_read(
			d, (pde & 0xFFFFF000) + ((gva >> 12) & 0x3FF) * 4, &pte,
			4) ||
		    !(pte & PTE_P))
			return -EFAULT;
		*gpa = (pte & 0xFFFFF000) | (gva & 0xFFF);
		return 0;
	}
	for (int l = levels - 1; l >= 0; l--) {
		unsigned shift = PAGE_SHIFT + 9 * l;

		if (guest_phys_read(d, table + ((gva >> shift) & 511) * 8,
				    &entry, 8) ||
		    !(entry & PTE_P))
			return -EFAULT;
		if (l == 0 || ((entry & PTE_PS) && l <= 2)) {
			uint64_t mask = (1ULL << shift) - 1;

			*gpa = (entry & PTE_ADDR_MASK & ~mask) | (gva & mask);
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
	return -EFAULT;
}

int guest_fetch_insn(struct vcpu *v, const struct guest_state *s, uint8_t *buf,
		     size_t len)
{
	uint64_t gva = s->cs.base + s->rip, gpa;
	size_t got = 0;

	if (!(s->efer & EFER_LMA) || !(s->cs.attr & SEG_ATTR_L))
		gva &= 0xFFFFFFFF;
	while (got < len) {
		size_t chunk =
		    MIN(len - got, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));

		if (guest_virt_to_phys(v, s, gva, &gpa) ||
		    guest_phys_read(v->dom, gpa, buf + got, chunk))
			break;
		got += chunk;
		gva += chunk;
	}
	return got ? (int)got : -EFAULT;
}
