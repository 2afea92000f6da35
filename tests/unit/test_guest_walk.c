/* SPDX-License-Identifier: MIT */
/*
 * Guest page-table walks and instruction fetch
 * (hypervisor/arch/x86/hvm/guest_mem.c) through a real p2m
 * (hypervisor/mm/p2m.c over hypervisor/mm/buddy.c). The guest's tables are
 * built by hand in its RAM in every paging mode of Intel SDM vol. 3A
 * chapter 4: 32-bit (§4.3), PAE (§4.4), 4- and 5-level (§4.5).
 *
 * The guest's RAM is identity-mapped (guest-physical == host-physical) over
 * shim memory. domain_owns_ram() comes from tests/unit/domain_ram.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

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

#define CR4_PSE	 (1UL << 4)
#define CR4_LA57 (1UL << 12)

#define GUEST_RAM MiB(32)
/* Guest-physical pages the p2m maps to host memory the domain lacks. */
#define FOREIGN_GPA MiB(32)
#define FOREIGN_HPA GiB(3)
#define POOL_BASE   GiB(1)
#define POOL_SIZE   MiB(8)

/* Where each test builds its page tables, a page at a time. */
#define TABLES_START 0x10000
#define TABLES_END   0x100000

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};
static struct guest_state gs;
static uint64_t next_table;

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	assert_int_equal(
	    p2m_map(&dom, FOREIGN_GPA, FOREIGN_HPA, MiB(2), P2M_RWX, true), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom);
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(phys_to_virt(TABLES_START), 0, TABLES_END - TABLES_START);
	next_table = TABLES_START;
	memset(&gs, 0, sizeof(gs));
	return 0;
}

static uint64_t new_table(void)
{
	uint64_t pa = next_table;

	next_table += PAGE_SIZE;
	assert_true(next_table <= TABLES_END);
	return pa;
}

static uint64_t *pte64(uint64_t table, unsigned index)
{
	return (uint64_t *)phys_to_virt(table) + index;
}

/*
 * Maps gva to gpa in a 4- or 5-level tree rooted at root with a leaf at
 * `leaf_level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB); `extra` goes into the leaf.
 */
static void map_long(uint64_t root, int levels, uint64_t gva, uint64_t gpa,
		     int leaf_level, uint64_t extra)
{
	uint64_t table = root;

	for (int l = levels - 1; l > leaf_level; l--) {
		uint64_t *e = pte64(table, (gva >> (12 + 9 * l)) & 511);

		if (!(*e & PTE_P))
			*e = new_table() | PTE_P | PTE_W | PTE_U;
		table = *e & PTE_ADDR_MASK;
	}
	*pte64(table, (gva >> (12 + 9 * leaf_level)) & 511) =
	    gpa | PTE_P | PTE_W | extra | (leaf_level ? PTE_PS : 0);
}

/* The entry for gva at `level` of a 4-level tree that reaches it. */
static uint64_t *slot_long(uint64_t root, uint64_t gva, int level)
{
	uint64_t table = root;

	for (int l = 3; l > level; l--)
		table =
		    *pte64(table, (gva >> (12 + 9 * l)) & 511) & PTE_ADDR_MASK;
	return pte64(table, (gva >> (12 + 9 * level)) & 511);
}

static void long_mode(uint64_t cr3, bool la57)
{
	gs.cr0 = X86_CR0_PE | X86_CR0_PG;
	gs.cr4 = X86_CR4_PAE | (la57 ? CR4_LA57 : 0);
	gs.efer = EFER_LME | EFER_LMA;
	gs.cr3 = cr3;
	gs.cs.attr = SEG_ATTR_L;
}

static void expect_translation(uint64_t gva, uint64_t want)
{
	uint64_t gpa = 0xBAD;
	int rc = guest_virt_to_phys(&vcpu, &gs, gva, &gpa);

	if (rc)
		fail_msg("gva %#lx: error %d, want gpa %#lx",
			 (unsigned long)gva, rc, (unsigned long)want);
	if (gpa != want)
		fail_msg("gva %#lx -> gpa %#lx, want %#lx", (unsigned long)gva,
			 (unsigned long)gpa, (unsigned long)want);
}

static void expect_fault(uint64_t gva)
{
	uint64_t gpa = 0;
	int rc = guest_virt_to_phys(&vcpu, &gs, gva, &gpa);

	if (rc != -EFAULT)
		fail_msg("gva %#lx: rc %d gpa %#lx, want -EFAULT",
			 (unsigned long)gva, rc, (unsigned long)gpa);
}

static void test_paging_off(void **state)
{
	(void)state;
	gs.cr0 = X86_CR0_PE;
	gs.cr3 = 0xDEAD000; /* not used without CR0.PG */
	expect_translation(0, 0);
	expect_translation(0x12345678, 0x12345678);
	expect_translation(0xFFFFFFFF, 0xFFFFFFFF);
}

static void test_long_mode_4k(void **state)
{
	uint64_t root = new_table();
	const uint64_t gva = 0xFFFF800000201000ULL;

	(void)state;
	long_mode(root, false);
	map_long(root, 4, gva, 0x300000, 0, 0);
	map_long(root, 4, gva + PAGE_SIZE, 0x7000, 0, PTE_NX | PTE_G);
	expect_translation(gva, 0x300000);
	expect_translation(gva + 0xFFF, 0x300FFF);
	/* NX and global bits are not address bits. */
	expect_translation(gva + PAGE_SIZE + 0x10, 0x7010);
	expect_fault(gva + 2 * PAGE_SIZE);
	expect_fault(gva - PAGE_SIZE);
	expect_fault(0);
}

static void test_long_mode_2m(void **state)
{
	uint64_t root = new_table();

	(void)state;
	long_mode(root, false);
	map_long(root, 4, 0x40000000, 0x600000, 1, 0);
	/* Bit 12 of a 2 MiB leaf is PAT, not an address bit (§4.5.4). */
	map_long(root, 4, 0x40200000, 0xA00000, 1, 1ULL << 12);
	expect_translation(0x40000000, 0x600000);
	expect_translation(0x401FFFFF, 0x7FFFFF);
	expect_translation(0x40201234, 0xA01234);
	expect_translation(0x40345678, 0xB45678);
	expect_fault(0x40400000);
}

static void test_long_mode_1g(void **state)
{
	uint64_t root = new_table();

	(void)state;
	long_mode(root, false);
	map_long(root, 4, 0x7FC0000000ULL, 0x80000000, 2, PTE_NX);
	expect_translation(0x7FC0000000ULL, 0x80000000);
	expect_translation(0x7FC0000000ULL + 0x3FFFFFFF, 0xBFFFFFFF);
	expect_translation(0x7FD2345678ULL, 0x92345678);
	expect_fault(0x7F80000000ULL);
}

/* A missing entry at any of the four levels. */
static void test_long_mode_not_present(void **state)
{
	uint64_t root = new_table();
	const uint64_t gva = 0x0000123456789000ULL;

	(void)state;
	long_mode(root, false);
	map_long(root, 4, gva, 0x5000, 0, 0);
	expect_translation(gva, 0x5000);
	for (int l = 0; l < 4; l++) {
		uint64_t *e = slot_long(root, gva, l);

		*e &= ~PTE_P;
		expect_fault(gva);
		*e |= PTE_P;
		expect_translation(gva, 0x5000);
	}
}

/* CR3's low bits (PWT, PCD, a PCID) do not move the root table. */
static void test_long_mode_cr3_flags(void **state)
{
	uint64_t root = new_table();

	(void)state;
	long_mode(root | 0x18, false);
	map_long(root, 4, 0x1000, 0x2000, 0, 0);
	expect_translation(0x1234, 0x2234);
}

static void test_five_level(void **state)
{
	uint64_t root = new_table();
	const uint64_t gva = 0xFF5A000000403000ULL;

	(void)state;
	long_mode(root, true);
	map_long(root, 5, gva, 0x900000, 0, 0);
	map_long(root, 5, 0x0100000000200000ULL, 0xC00000, 1, 0);
	expect_translation(gva + 0x55, 0x900055);
	expect_translation(0x0100000000212345ULL, 0xC12345);
	/* Differs from gva only in the level-5 index. */
	expect_fault(gva ^ (1ULL << 50));
}

/*
 * PAE (§4.4): CR3 holds a 32-byte aligned table of four PDPTEs; then a
 * page directory and page tables of 8-byte entries.
 */
static void test_pae(void **state)
{
	uint64_t pdpt = new_table() + 0x20, pd = new_table(), pt = new_table();

	(void)state;
	gs.cr0 = X86_CR0_PE | X86_CR0_PG;
	gs.cr4 = X86_CR4_PAE;
	gs.cr3 = pdpt;
	*pte64(pdpt, 3) = pd | PTE_P;
	/* 0xC0000000: a 2 MiB page. */
	*pte64(pd, 0) = 0xE00000 | PTE_P | PTE_W | PTE_PS;
	/* 0xC0200000: a page table. */
	*pte64(pd, 1) = pt | PTE_P | PTE_W;
	*pte64(pt, 5) = 0x345000 | PTE_P | PTE_NX;
	expect_translation(0xC0000000, 0xE00000);
	expect_translation(0xC01ABCDE, 0xFABCDE);
	expect_translation(0xC0205FED, 0x345FED);
	expect_fault(0xC0206000);
	expect_fault(0xC0400000);
	/* PDPTEs 0-2 are not present. */
	expect_fault(0x00000000);
	expect_fault(0x40205000);
	expect_fault(0x80205000);
	/* Only the low 32 bits of the address exist. */
	expect_translation(0x1C0205000ULL, 0x345000);
}

static uint32_t *pte32(uint64_t table, unsigned index)
{
	return (uint32_t *)phys_to_virt(table) + index;
}

static void legacy_mode(uint64_t cr3, bool pse)
{
	gs.cr0 = X86_CR0_PE | X86_CR0_PG;
	gs.cr4 = pse ? CR4_PSE : 0;
	gs.cr3 = cr3;
}

static void test_32bit_4k(void **state)
{
	uint64_t pd = new_table(), pt = new_table();

	(void)state;
	legacy_mode(pd, false);
	/* 0xC0123000: PD index 0x300, PT index 0x123. */
	*pte32(pd, 0x300) = (uint32_t)pt | PTE_P | PTE_W;
	*pte32(pt, 0x123) = 0x456000 | PTE_P;
	expect_translation(0xC0123ABC, 0x456ABC);
	expect_fault(0xC0124000);
	expect_fault(0xC0400000);
	/* Bits above 31 of the address are not part of it. */
	expect_translation(0xABC0123ABCULL, 0x456ABC);
}

/* CR4.PSE = 0: a PDE's bit 7 is ignored, it still points to a table. */
static void test_32bit_ps_without_pse(void **state)
{
	uint64_t pd = new_table(), pt = new_table();

	(void)state;
	legacy_mode(pd, false);
	*pte32(pd, 1) = (uint32_t)pt | PTE_P | PTE_W | PTE_PS;
	*pte32(pt, 2) = 0x777000 | PTE_P;
	expect_translation(0x402345, 0x777345);
}

static void test_32bit_4m_pages(void **state)
{
	uint64_t pd = new_table();

	(void)state;
	legacy_mode(pd, true);
	*pte32(pd, 2) = 0xC00000 | PTE_P | PTE_W | PTE_PS;
	/* Bit 12 of a 4 MiB PDE is PAT. */
	*pte32(pd, 3) = 0x1000000 | PTE_P | PTE_PS | (1u << 12);
	expect_translation(0x800000, 0xC00000);
	expect_translation(0xBFFFFF, 0xFFFFFF);
	expect_translation(0xC12345, 0x1012345);
	expect_fault(0x1000000);
}

/*
 * PSE-36 (§4.3, Table 4-4): with CPUID.1:EDX.PSE-36, which Keel passes
 * through to guests, bits 20:13 of a 4 MiB PDE are physical-address bits
 * 39:32.
 */
static void test_32bit_pse36(void **state)
{
	uint64_t pd = new_table();

	(void)state;
	legacy_mode(pd, true);
	*pte32(pd, 1) = 0xC00000 | (0x3u << 13) | PTE_P | PTE_W | PTE_PS;
	expect_translation(0x412345, 0x300C12345ULL);
}

/* A guest that points CR3 or a table at memory it does not own. */
static void test_tables_outside_guest_ram(void **state)
{
	uint64_t root = new_table();

	(void)state;
	long_mode(FOREIGN_GPA, false);
	expect_fault(0x1000);
	long_mode(GiB(2), false); /* not in the p2m at all */
	expect_fault(0x1000);

	long_mode(root, false);
	*pte64(root, 0) = FOREIGN_GPA | PTE_P | PTE_W;
	expect_fault(0x1000);
}

static uint8_t *guest_bytes(uint64_t gpa)
{
	return phys_to_virt(gpa);
}

/*
 * An instruction that starts 3 bytes before a page boundary, with the two
 * pages far apart in guest-physical memory.
 */
static void test_fetch_across_pages(void **state)
{
	static const uint8_t insn[15] = {0x48, 0x8B, 0x84, 0x88, 0x78,
					 0x56, 0x34, 0x12, 0x90, 0x90,
					 0x90, 0x90, 0x90, 0x90, 0xCC};
	uint64_t root = new_table();
	const uint64_t gva = 0xFFFFFFFF81000000ULL;
	uint8_t buf[15];

	(void)state;
	long_mode(root, false);
	map_long(root, 4, gva, 0x401000, 0, 0);
	map_long(root, 4, gva + PAGE_SIZE, 0x205000, 0, 0);
	memcpy(guest_bytes(0x401FFD), insn, 3);
	memcpy(guest_bytes(0x205000), insn + 3, 12);
	gs.rip = gva + PAGE_SIZE - 3;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_fetch_insn(&vcpu, &gs, buf, sizeof(buf)), 15);
	assert_memory_equal(buf, insn, sizeof(insn));

	/* The second page is gone: the bytes before the boundary. */
	*slot_long(root, gva + PAGE_SIZE, 0) = 0;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(guest_fetch_insn(&vcpu, &gs, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, insn, 3);

	/* Nothing at RIP: a fault. */
	gs.rip = gva + PAGE_SIZE;
	assert_int_equal(guest_fetch_insn(&vcpu, &gs, buf, sizeof(buf)),
			 -EFAULT);
}

/* 32-bit code: CS.base + EIP, within 4 GiB, through physical memory. */
static void test_fetch_protected_mode_no_paging(void **state)
{
	uint8_t buf[6];

	(void)state;
	gs.cr0 = X86_CR0_PE;
	gs.cs.base = 0x200000;
	gs.cs.attr = SEG_ATTR_DB;
	gs.rip = 0xFFD;
	memcpy(guest_bytes(0x200FFD), "\x89\x05\x00\x00\xE0\xFE", 6);
	assert_int_equal(guest_fetch_insn(&vcpu, &gs, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "\x89\x05\x00\x00\xE0\xFE", 6);
}

/* Compatibility mode (EFER.LMA, CS.L = 0) addresses wrap at 4 GiB. */
static void test_fetch_compat_mode_truncates(void **state)
{
	uint64_t root = new_table();
	uint8_t buf[4];

	(void)state;
	long_mode(root, false);
	gs.cs.attr = SEG_ATTR_DB;
	gs.cs.base = 0;
	gs.rip = 0x100000800ULL;
	map_long(root, 4, 0x0, 0x300000, 0, 0);
	map_long(root, 4, 0x100000000ULL, 0x301000, 0, 0);
	memcpy(guest_bytes(0x300800), "\x0F\x01\xD9\x90", 4);
	memcpy(guest_bytes(0x301800), "\xCC\xCC\xCC\xCC", 4);
	assert_int_equal(guest_fetch_insn(&vcpu, &gs, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "\x0F\x01\xD9\x90", 4);
}

static void test_phys_read_write(void **state)
{
	uint8_t out[64], in[64];

	(void)state;
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	/* Across a page boundary. */
	assert_int_equal(guest_phys_write(&dom, 0x500FE0, out, sizeof(out)), 0);
	assert_memory_equal(guest_bytes(0x500FE0), out, sizeof(out));
	assert_int_equal(guest_phys_read(&dom, 0x500FE0, in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(out));
	/* Memory that is not the domain's, or not mapped at all. */
	assert_int_equal(guest_phys_read(&dom, FOREIGN_GPA, in, 8), -EFAULT);
	assert_int_equal(guest_phys_write(&dom, FOREIGN_GPA + 0x100, out, 8),
			 -EFAULT);
	assert_int_equal(guest_phys_read(&dom, GiB(2), in, 8), -EFAULT);
	assert_int_equal(guest_phys_read(&dom, GUEST_RAM - 4, in, 8), -EFAULT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_paging_off),
	    T(test_long_mode_4k),
	    T(test_long_mode_2m),
	    T(test_long_mode_1g),
	    T(test_long_mode_not_present),
	    T(test_long_mode_cr3_flags),
	    T(test_five_level),
	    T(test_pae),
	    T(test_32bit_4k),
	    T(test_32bit_ps_without_pse),
	    T(test_32bit_4m_pages),
	    T(test_32bit_pse36),
	    T(test_tables_outside_guest_ram),
	    T(test_fetch_across_pages),
	    T(test_fetch_protected_mode_no_paging),
	    T(test_fetch_compat_mode_truncates),
	    T(test_phys_read_write),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
