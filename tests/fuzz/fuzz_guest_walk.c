/* SPDX-License-Identifier: MIT */
/*
 * Guest page-table walks and instruction fetch
 * (hypervisor/arch/x86/hvm/guest_mem.c) through a real p2m: on VMX, and on
 * SVM without decode assists, Keel walks the guest's own page tables to
 * fetch the instruction it emulates, so CR0/CR3/CR4/EFER, CS and RIP and
 * every table entry are the guest's.
 *
 * Input: u8 paging mode (bit 0 CR0.PG, 1 CR4.PAE, 2 CR4.PSE, 3 EFER.LMA,
 * 4 CR4.LA57, 5 CS.L), u64 CR3, u64 CS base, u64 RIP, u8 fetch length,
 * u8 count of table writes, each (u8 page, u16 slot, u8 kind, value):
 * kind bit 0 makes the value a pointer to one of the guest's pages with
 * the given low flags, else it is any u64. Then addresses to translate.
 *
 * The guest owns 256 KiB at guest-physical 0; 64 KiB above that are
 * mapped by the p2m to memory the domain does not own (an access there
 * must fail, not reach it).
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/guest_mem.h>
#include <keel/hvm.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

FUZZ_SHIM_INIT()

#define GUEST_PAGES 64
#define GUEST_RAM   (GUEST_PAGES * PAGE_SIZE)
#define FOREIGN_GPA GUEST_RAM
#define FOREIGN_HPA GiB(3)
#define POOL_BASE   GiB(1)
#define POOL_SIZE   MiB(1)
#define CR4_PSE	    (1UL << 4)
#define CR4_LA57    (1UL << 12)

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};
static uint8_t *ram;

static void setup_domain(void)
{
	ram = shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	FUZZ_CHECK(p2m_init(&dom) == 0);
	FUZZ_CHECK(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false) == 0);
	FUZZ_CHECK(p2m_map(&dom, FOREIGN_GPA, FOREIGN_HPA, KiB(64), P2M_RWX,
			   false) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_input fi = fuzz_input(data, size);
	uint8_t mode = fuzz_u8(&fi), writes;
	struct guest_state s;
	size_t len;
	uint8_t *buf;
	int rc;

	if (!ready) {
		setup_domain();
		ready = true;
	}
	memset(ram, 0, GUEST_RAM);
	memset(&s, 0, sizeof(s));
	s.cr0 = X86_CR0_PE | (mode & 1 ? X86_CR0_PG : 0);
	s.cr4 = (mode & 2 ? X86_CR4_PAE : 0) | (mode & 4 ? CR4_PSE : 0) |
		(mode & 16 ? CR4_LA57 : 0);
	s.efer = mode & 8 ? EFER_LMA | EFER_LME : 0;
	s.cs.attr = mode & 32 ? SEG_ATTR_L : SEG_ATTR_DB;
	s.cr3 = fuzz_u64(&fi);
	s.cs.base = fuzz_u64(&fi);
	s.rip = fuzz_u64(&fi);
	len = fuzz_u8(&fi) % 32 + 1;

	writes = fuzz_u8(&fi);
	for (unsigned i = 0; i < writes; i++) {
		unsigned page = fuzz_u8(&fi) % GUEST_PAGES;
		unsigned slot = fuzz_u16(&fi) % 512;
		uint8_t kind = fuzz_u8(&fi);
		uint64_t v;

		if (kind & 1)
			v = (uint64_t)(fuzz_u8(&fi) % (GUEST_PAGES + 8))
				<< PAGE_SHIFT |
			    fuzz_u8(&fi);
		else
			v = fuzz_u64(&fi);
		/* 32-bit paging reads 4-byte entries: half the slots. */
		if (kind & 2)
			memcpy(ram + page * PAGE_SIZE + (slot % 1024) * 4, &v,
			       4);
		else
			memcpy(ram + page * PAGE_SIZE + slot * 8, &v, 8);
	}

	buf = malloc(len);
	FUZZ_CHECK(buf);
	rc = guest_fetch_insn(&vcpu, &s, buf, len);
	FUZZ_CHECK(rc == -EFAULT || (rc >= 1 && (size_t)rc <= len));
	free(buf);

	while (fi.left) {
		uint64_t gva = fuzz_u64(&fi), gpa = 0;

		rc = guest_virt_to_phys(&vcpu, &s, gva, &gpa);
		FUZZ_CHECK(rc == 0 || rc == -EFAULT);
		if (rc == 0) {
			/* Every page size keeps the offset in a 4 KiB page. */
			FUZZ_CHECK((gpa & 0xFFF) == (gva & 0xFFF));
			if (!(s.cr0 & X86_CR0_PG))
				FUZZ_CHECK(gpa == gva);
			else
				FUZZ_CHECK(gpa <= PTE_ADDR_MASK + 0xFFF);
		}
	}
	return 0;
}
