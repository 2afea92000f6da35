/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical maps (hypervisor/mm/p2m.c) over the real buddy allocator,
 * with an hvm_ops table that encodes entries the way AMD NPT does (the host
 * page-table format, AMD APM vol. 2 §15.25.5), like arch/x86/svm/svm.c.
 *
 * Host-physical addresses given to p2m_map() are never dereferenced, so
 * the tests map "guest RAM" anywhere; only the p2m's own tables live in
 * shim memory, handed out by the buddy allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

#define POOL_BASE GiB(1)
#define POOL_SIZE MiB(64)

/* Host addresses the tests map guest memory to: 1 GiB aligned. */
#define HPA GiB(64)

static struct domain dom;
static uint64_t pool_free_pages;

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	pool_free_pages = frames_free_pages();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&dom, 0, sizeof(dom));
	assert_int_equal(frames_free_pages(), pool_free_pages);
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(dom.p2m_pages, 1);
	npt_flushes = 0;
	npt_evictions = 0;
	return 0;
}

/* Destroying the p2m gives back every page it took. */
static int teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom);
	assert_int_equal(dom.p2m_root, 0);
	assert_int_equal(dom.p2m_pages, 0);
	assert_int_equal(frames_free_pages(), pool_free_pages);
	return 0;
}

/* The entry that maps gpa at `level` (0: 4 KiB, 1: 2 MiB), or 0. */
static uint64_t entry_at(uint64_t gpa, int level)
{
	uint64_t *t = phys_to_virt(dom.p2m_root);

	for (int l = 3; l > level; l--) {
		uint64_t e = t[(gpa >> (12 + 9 * l)) & 511];

		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		t = phys_to_virt(e & PTE_ADDR_MASK);
	}
	return t[(gpa >> (12 + 9 * level)) & 511];
}

static void expect_maps(uint64_t gpa, uint64_t hpa)
{
	uint64_t got = 0;

	if (p2m_lookup(&dom, gpa, &got) != 0)
		fail_msg("gpa %#lx is not mapped (want hpa %#lx)",
			 (unsigned long)gpa, (unsigned long)hpa);
	if (got != hpa)
		fail_msg("gpa %#lx maps to %#lx, want %#lx", (unsigned long)gpa,
			 (unsigned long)got, (unsigned long)hpa);
}

static void expect_unmapped(uint64_t gpa)
{
	uint64_t got = 0;

	if (p2m_lookup(&dom, gpa, &got) != -EFAULT)
		fail_msg("gpa %#lx maps to %#lx, want unmapped",
			 (unsigned long)gpa, (unsigned long)got);
}

static void test_empty(void **state)
{
	(void)state;
	expect_unmapped(0);
	expect_unmapped(GiB(1) + 0x123);
	expect_unmapped(GiB(255));
}

/* 2 MiB-aligned guest and host addresses get 2 MiB leaves. */
static void test_large_leaves(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, MiB(2), HPA, MiB(8), P2M_RWX, false), 0);
	assert_true(npt_flushes >= 1);
	/* Nothing was mapped there before: no TLB can hold a stale entry. */
	assert_int_equal(npt_evictions, 0);
	/* Root, one PDPT, one PD: no 4 KiB tables at all. */
	assert_int_equal(dom.p2m_pages, 3);
	for (uint64_t off = 0; off < MiB(8); off += MiB(2)) {
		uint64_t e = entry_at(MiB(2) + off, 1);

		assert_true(e & PTE_PS);
		assert_int_equal(e & PTE_ADDR_MASK, HPA + off);
		assert_true(e & PTE_W);
		assert_false(e & PTE_NX);
	}
	expect_maps(MiB(2), HPA);
	expect_maps(MiB(2) + 0x1234, HPA + 0x1234);
	expect_maps(MiB(10) - 1, HPA + MiB(8) - 1);
	expect_maps(MiB(5) + 0xabc, HPA + MiB(3) + 0xabc);
	expect_unmapped(MiB(2) - 1);
	expect_unmapped(MiB(10));
}

/* A host address aligned only to 4 KiB forces 4 KiB leaves. */
static void test_unaligned_uses_4k(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, MiB(4), HPA + PAGE_SIZE, MiB(4),
				 P2M_R | P2M_W, false),
			 0);
	/* Root, PDPT, PD and two page tables. */
	assert_int_equal(dom.p2m_pages, 5);
	for (uint64_t off = 0; off < MiB(4); off += PAGE_SIZE) {
		uint64_t e = entry_at(MiB(4) + off, 0);

		assert_int_equal(e & PTE_ADDR_MASK, HPA + PAGE_SIZE + off);
		assert_true(e & PTE_NX);
	}
	assert_false(entry_at(MiB(4), 1) & PTE_PS);
	expect_maps(MiB(4) + 0x7ff, HPA + PAGE_SIZE + 0x7ff);
	expect_maps(MiB(8) - 1, HPA + PAGE_SIZE + MiB(4) - 1);
	expect_unmapped(MiB(8));
}

/* 1 MiB of 4 KiB pages, then 2 MiB pages, then 1 MiB of 4 KiB pages. */
static void test_mixed_range(void **state)
{
	(void)state;
	assert_int_equal(
	    p2m_map(&dom, MiB(1), HPA + MiB(1), MiB(6), P2M_RWX, false), 0);
	assert_false(entry_at(MiB(1), 1) & PTE_PS);
	assert_int_equal(entry_at(MiB(1), 0) & PTE_ADDR_MASK, HPA + MiB(1));
	assert_true(entry_at(MiB(2), 1) & PTE_PS);
	assert_true(entry_at(MiB(4), 1) & PTE_PS);
	assert_false(entry_at(MiB(6), 1) & PTE_PS);
	assert_int_equal(entry_at(MiB(6), 0) & PTE_ADDR_MASK, HPA + MiB(6));
	/* Root, PDPT, PD, and page tables for [0, 2M) and [6M, 8M). */
	assert_int_equal(dom.p2m_pages, 5);
	for (uint64_t gpa = MiB(1); gpa < MiB(7); gpa += 0x3F000)
		expect_maps(gpa + 0x10, HPA + gpa + 0x10);
	expect_maps(MiB(7) - 1, HPA + MiB(7) - 1);
	expect_unmapped(MiB(1) - 1);
	expect_unmapped(MiB(7));
	expect_unmapped(0);
}

static void test_uncached(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, GiB(3) + MiB(2), GiB(3) + MiB(2),
				 MiB(2) + PAGE_SIZE, P2M_R | P2M_W, true),
			 0);
	assert_true(entry_at(GiB(3) + MiB(2), 1) & PTE_PCD);
	assert_true(entry_at(GiB(3) + MiB(4), 0) & PTE_PCD);
	assert_true(entry_at(GiB(3) + MiB(4), 0) & PTE_PWT);
	expect_maps(GiB(3) + MiB(4) + 8, GiB(3) + MiB(4) + 8);
}

/*
 * Mapping one 4 KiB page inside a 2 MiB leaf splits the leaf: the other
 * 511 pages keep their translation and their rights.
 */
static void test_split_preserves_neighbours(void **state)
{
	const uint64_t gpa = MiB(6), other = GiB(70) + 0x5000;
	uint64_t large;

	(void)state;
	assert_int_equal(p2m_map(&dom, gpa, HPA, MiB(2), P2M_R | P2M_X, false),
			 0);
	large = entry_at(gpa, 1);
	assert_true(large & PTE_PS);
	assert_int_equal(dom.p2m_pages, 3);
	npt_flushes = 0;

	assert_int_equal(
	    p2m_map(&dom, gpa + 0x3000, other, PAGE_SIZE, P2M_RWX, false), 0);
	assert_true(npt_flushes >= 1);
	/* A page that had a translation got a new one: shoot it down. */
	assert_int_equal(npt_evictions, 1);
	assert_int_equal(dom.p2m_pages, 4);
	assert_false(entry_at(gpa, 1) & PTE_PS);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t g = gpa + i * PAGE_SIZE, e = entry_at(g, 0);

		if (i == 3) {
			expect_maps(g + 0x10, other + 0x10);
			assert_true(e & PTE_W);
			continue;
		}
		expect_maps(g + 0x10, HPA + i * PAGE_SIZE + 0x10);
		/* Same rights and attributes, minus the size bit. */
		assert_int_equal(e & ~PTE_ADDR_MASK,
				 large & ~(PTE_ADDR_MASK | PTE_PS));
	}
}

/* A 2 MiB leaf replaces a table of 4 KiB leaves and frees that table. */
static void test_large_replaces_table(void **state)
{
	(void)state;
	assert_int_equal(
	    p2m_map(&dom, MiB(2), HPA + PAGE_SIZE, MiB(2), P2M_RWX, false), 0);
	assert_int_equal(dom.p2m_pages, 4);
	assert_int_equal(p2m_map(&dom, MiB(2), HPA, MiB(2), P2M_RWX, false), 0);
	assert_int_equal(dom.p2m_pages, 3);
	assert_int_equal(frames_free_pages(), pool_free_pages - 3);
	assert_true(entry_at(MiB(2), 1) & PTE_PS);
	expect_maps(MiB(3), HPA + MiB(1));
}

/* Mapping the same range again takes no more tables. */
static void test_remap_same_range(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p2m_map(&dom, 0, HPA, MiB(3), P2M_RWX, false),
				 0);
		assert_int_equal(dom.p2m_pages, 4);
	}
	expect_maps(MiB(2) + 5, HPA + MiB(2) + 5);
}

static void test_unmap(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, 0, HPA, MiB(8), P2M_RWX, false), 0);
	npt_flushes = 0;
	/* One 4 KiB page out of a 2 MiB leaf. */
	p2m_unmap(&dom, MiB(2) + 0x5000, PAGE_SIZE);
	assert_true(npt_flushes >= 1);
	/* Evicting is the caller's, once it holds no lock. */
	assert_int_equal(npt_evictions, 0);
	expect_unmapped(MiB(2) + 0x5000);
	expect_unmapped(MiB(2) + 0x5FFF);
	expect_maps(MiB(2) + 0x4FFF, HPA + MiB(2) + 0x4FFF);
	expect_maps(MiB(2) + 0x6000, HPA + MiB(2) + 0x6000);
	/* A whole 2 MiB region and a bit of the next one. */
	p2m_unmap(&dom, MiB(4), MiB(2) + PAGE_SIZE);
	expect_unmapped(MiB(4));
	expect_unmapped(MiB(6) - 1);
	expect_unmapped(MiB(6) + 0xFFF);
	expect_maps(MiB(6) + PAGE_SIZE, HPA + MiB(6) + PAGE_SIZE);
	expect_maps(MiB(4) - 1, HPA + MiB(4) - 1);
}

static void test_misaligned_arguments(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, 0x800, HPA, PAGE_SIZE, P2M_RWX, false),
			 -EINVAL);
	assert_int_equal(p2m_map(&dom, 0, HPA + 8, PAGE_SIZE, P2M_RWX, false),
			 -EINVAL);
	assert_int_equal(p2m_map(&dom, 0, HPA, 100, P2M_RWX, false), -EINVAL);
	assert_int_equal(dom.p2m_pages, 1);
	expect_unmapped(0);
}

/* Mappings spread over the 4-level tree, then one destroy (teardown). */
static void test_destroy_frees_everything(void **state)
{
	(void)state;
	assert_int_equal(
	    p2m_map(&dom, 0, HPA, MiB(16) + PAGE_SIZE, P2M_RWX, false), 0);
	assert_int_equal(
	    p2m_map(&dom, GiB(4) + PAGE_SIZE, HPA, MiB(1), P2M_RWX, false), 0);
	assert_int_equal(p2m_map(&dom, GiB(600), HPA, MiB(2), P2M_RWX, false),
			 0);
	assert_int_equal(
	    p2m_map(&dom, (1ULL << 47) - MiB(2), HPA, MiB(2), P2M_R, false), 0);
	p2m_unmap(&dom, 0x3000, PAGE_SIZE);
	/* Every table is counted, and only tables are taken from the pool. */
	assert_int_equal(frames_free_pages(), pool_free_pages - dom.p2m_pages);
	expect_maps((1ULL << 47) - 1, HPA + MiB(2) - 1);
	expect_maps(GiB(600) + 77, HPA + 77);
}

static void **hoard;
static size_t nr_hoard;

/* Takes every free page, so the next table allocation fails. */
static void exhaust_memory(void)
{
	uint64_t pa;

	hoard = calloc(pool_free_pages + 1, sizeof(*hoard));
	assert_non_null(hoard);
	nr_hoard = 0;
	while ((pa = frames_alloc(0)))
		hoard[nr_hoard++] = phys_to_virt(pa);
}

static void release_memory(void)
{
	while (nr_hoard)
		page_free(hoard[--nr_hoard]);
	free(hoard);
}

static void test_map_out_of_memory(void **state)
{
	(void)state;
	exhaust_memory();
	assert_int_equal(p2m_map(&dom, 0, HPA, PAGE_SIZE, P2M_RWX, false),
			 -ENOMEM);
	assert_int_equal(dom.p2m_pages, 1);
	release_memory();
	assert_int_equal(p2m_map(&dom, 0, HPA, PAGE_SIZE, P2M_RWX, false), 0);
}

/*
 * Unmapping takes a page away from the guest; it must not need memory to
 * do it, and a range that was never mapped needs no tables at all.
 */
static void test_unmap_unmapped_allocates_nothing(void **state)
{
	(void)state;
	p2m_unmap(&dom, GiB(2), MiB(4));
	assert_int_equal(dom.p2m_pages, 1);
}

/*
 * With no free page, unmapping 4 KiB out of a 2 MiB leaf must still take
 * that page away (for example, by clearing the whole leaf and reporting
 * it), never leave it mapped without a word.
 */
static void test_unmap_inside_large_without_memory(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, MiB(2), HPA, MiB(2), P2M_RWX, false), 0);
	exhaust_memory();
	p2m_unmap(&dom, MiB(2) + 0x7000, PAGE_SIZE);
	release_memory();
	expect_unmapped(MiB(2) + 0x7000);
}

/*
 * A 4-level tree translates 48-bit guest-physical addresses; bits above
 * must not wrap around to low memory.
 */
static void test_gpa_beyond_48_bits(void **state)
{
	(void)state;
	assert_int_equal(p2m_map(&dom, MiB(2), HPA, MiB(2), P2M_RWX, false), 0);
	expect_unmapped((1ULL << 48) + MiB(2));
	expect_unmapped((1ULL << 51) + MiB(2) + 0x10);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_empty),
	    T(test_large_leaves),
	    T(test_unaligned_uses_4k),
	    T(test_mixed_range),
	    T(test_uncached),
	    T(test_split_preserves_neighbours),
	    T(test_large_replaces_table),
	    T(test_remap_same_range),
	    T(test_unmap),
	    T(test_misaligned_arguments),
	    T(test_destroy_frees_everything),
	    T(test_map_out_of_memory),
	    T(test_unmap_unmapped_allocates_nothing),
	    T(test_unmap_inside_large_without_memory),
	    T(test_gpa_beyond_48_bits),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
