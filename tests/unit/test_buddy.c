/* SPDX-License-Identifier: MIT */
/* Buddy frame allocator (hypervisor/mm/buddy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include "shim.h"

/*
 * The allocator is global and has no way to forget a range, so every test
 * maps fresh "physical memory" above all earlier tests' and, when done,
 * allocates everything left (drain_all) so later tests start from an
 * allocator with no free pages. Windows stay mapped until the end because
 * retired zones keep their bookkeeping there.
 */
static uint64_t next_window = GiB(4);

static uint64_t new_window(uint64_t size)
{
	uint64_t pa = ALIGN_UP(next_window, GiB(1));

	shim_map_phys(pa, size);
	next_window = pa + size + GiB(1);
	return pa;
}

static void drain_all(void)
{
	for (int o = MAX_ORDER; o >= 0; o--)
		while (frames_alloc(o))
			;
	assert_int_equal(frames_free_pages(), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(frames_free_pages(), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	drain_all();
	return 0;
}

/* Pages the allocator keeps for itself out of a range of `pages` pages. */
static uint64_t expect_meta_pages(uint64_t pages)
{
	return pages / 4096 + 1;
}

static void test_add_range_trims_and_accounts(void **state)
{
	uint64_t base = new_window(MiB(16));
	uint64_t total0 = frames_total_pages();
	uint64_t pages = MiB(16) / PAGE_SIZE - 2, managed;
	uint64_t lo = UINT64_MAX, hi = 0, pa, n = 0;

	(void)state;
	frames_add_range(base + 0x123, base + MiB(16) - 5);
	managed = frames_total_pages() - total0;
	/* Both unaligned edge pages are dropped, bookkeeping is ~1/4096. */
	assert_true(managed < pages);
	assert_true(pages - managed >= expect_meta_pages(pages));
	assert_true(pages - managed <= expect_meta_pages(pages) + 1);
	assert_int_equal(frames_free_pages(), managed);

	while ((pa = frames_alloc(0))) {
		lo = MIN(lo, pa);
		hi = MAX(hi, pa);
		n++;
	}
	assert_int_equal(n, managed);
	assert_int_equal(lo, base + PAGE_SIZE);
	/* The bookkeeping sits at the top of the range. */
	assert_int_equal(hi, base + PAGE_SIZE + (managed - 1) * PAGE_SIZE);
}

static void test_tiny_and_empty_ranges_ignored(void **state)
{
	uint64_t base = new_window(MiB(1));
	uint64_t total0 = frames_total_pages();

	(void)state;
	frames_add_range(base + 10, base + 20);
	frames_add_range(base + PAGE_SIZE, base + PAGE_SIZE);
	frames_add_range(base + MiB(1), base);
	/* One page cannot hold both its bookkeeping and itself. */
	frames_add_range(base, base + PAGE_SIZE);
	frames_add_range(UINT64_MAX - 10, UINT64_MAX);
	assert_int_equal(frames_total_pages(), total0);
	assert_int_equal(frames_free_pages(), 0);
}

static void test_page_zero_never_managed(void **state)
{
	uint64_t pa, n = 0, total0 = frames_total_pages();

	(void)state;
	shim_map_phys(0, KiB(640));
	frames_add_range(0, KiB(640));
	while ((pa = frames_alloc(0))) {
		assert_true(pa >= PAGE_SIZE && pa < KiB(640));
		n++;
	}
	assert_int_equal(n, frames_total_pages() - total0);
	assert_int_equal(n, KiB(640) / PAGE_SIZE - 1 - 1);
}

static void test_overlapping_range_panics(void **state)
{
	uint64_t base = new_window(MiB(8));

	(void)state;
	frames_add_range(base, base + MiB(4));
	shim_expect_panic(frames_add_range(base + MiB(2), base + MiB(8)));
	/* The bookkeeping pages at the top belong to the first range too. */
	shim_expect_panic(
	    frames_add_range(base + MiB(4) - PAGE_SIZE, base + MiB(8)));
	frames_add_range(base + MiB(4), base + MiB(8));
}

static void test_high_addresses_first(void **state)
{
	uint64_t low = new_window(MiB(8));
	uint64_t high = new_window(MiB(8));
	uint64_t prev = UINT64_MAX, pa;

	(void)state;
	frames_add_range(high, high + MiB(8));
	frames_add_range(low, low + MiB(8));
	/* Fresh memory is handed out top-down, higher range first. */
	for (int i = 0; i < 300; i++) {
		pa = frames_alloc(0);
		assert_true(pa >= high && pa < high + MiB(8));
		assert_true(pa < prev);
		prev = pa;
	}
	/* The top 2 MiB lost pages to the bookkeeping: three whole blocks. */
	for (int i = 0; i < 3; i++) {
		pa = frames_alloc(9);
		assert_int_equal(pa, high + MiB(4) - i * MiB(2));
	}
	/* The high range has no 2 MiB block left: the next one is low. */
	pa = frames_alloc(9);
	assert_true(pa >= low && pa < low + MiB(8));
}

static void test_blocks_aligned_to_their_size(void **state)
{
	uint64_t base = new_window(MiB(64));

	(void)state;
	frames_add_range(base + PAGE_SIZE * 3, base + MiB(64));
	for (unsigned o = 0; o <= 12; o++) {
		uint64_t pa = frames_alloc(o);

		assert_true(pa != 0);
		assert_true(IS_ALIGNED(pa, PAGE_SIZE << o));
		assert_true(pa >= base &&
			    pa + (PAGE_SIZE << o) <= base + MiB(64));
	}
	assert_int_equal(frames_alloc(MAX_ORDER + 1), 0);
}

static void shuffle(uint64_t *v, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		uint64_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

static void test_coalesces_back_to_one_block(void **state)
{
	/* 1 GiB aligned block plus room above it for the bookkeeping. */
	uint64_t base = new_window(GiB(1) + MiB(2));
	static uint64_t pieces[512];
	uint64_t big, free0;

	(void)state;
	frames_add_range(base, base + GiB(1) + MiB(2));
	free0 = frames_free_pages();
	big = frames_alloc(MAX_ORDER);
	assert_int_equal(big, base);
	frames_free(big, MAX_ORDER);
	assert_int_equal(frames_free_pages(), free0);

	/* Drain the small blocks above the 1 GiB one first. */
	while (frames_alloc(0) >= base + GiB(1))
		;
	/* That loop took one page from the 1 GiB block: give it back. */
	frames_free(base + GiB(1) - PAGE_SIZE, 0);

	for (int i = 0; i < 512; i++) {
		pieces[i] = frames_alloc(9);
		assert_true(pieces[i] >= base && pieces[i] < base + GiB(1));
	}
	assert_int_equal(frames_alloc(9), 0);
	srand(1);
	shuffle(pieces, 512);
	for (int i = 0; i < 512; i++)
		frames_free(pieces[i], 9);
	/* Every piece merged with its buddy, up to the full 1 GiB block. */
	assert_int_equal(frames_alloc(MAX_ORDER), base);
}

static void test_free_in_smaller_pieces(void **state)
{
	uint64_t base = new_window(MiB(4));
	uint64_t pa, free0;

	(void)state;
	frames_add_range(base, base + MiB(4));
	free0 = frames_free_pages();
	pa = frames_alloc(3);
	assert_int_equal(frames_free_pages(), free0 - 8);
	frames_free(pa + 4 * PAGE_SIZE, 2);
	for (int i = 0; i < 4; i++)
		frames_free(pa + i * PAGE_SIZE, 0);
	assert_int_equal(frames_free_pages(), free0);
	/* The zone is whole again: its first 2 MiB is one block. */
	pa = frames_alloc(9);
	assert_int_equal(pa, base);
}

static void test_bad_frees_panic(void **state)
{
	uint64_t base = new_window(MiB(4));
	uint64_t pa, free0;

	(void)state;
	frames_add_range(base, base + MiB(4));
	pa = frames_alloc(1);
	free0 = frames_free_pages();
	shim_expect_panic(frames_free(pa + PAGE_SIZE, 1)); /* misaligned */
	shim_expect_panic(frames_free(pa, MAX_ORDER + 1));
	shim_expect_panic(frames_free(pa, 2));		  /* half is free */
	shim_expect_panic(frames_free(base - MiB(2), 0)); /* not managed */
	shim_expect_panic(frames_free(base + MiB(4) - PAGE_SIZE, 0)); /* meta */
	frames_free(pa, 1);
	assert_int_equal(frames_free_pages(), free0 + 2);
	shim_expect_panic(frames_free(pa, 1)); /* double free */
	shim_expect_panic(frames_free(pa + PAGE_SIZE, 0));
	assert_int_equal(frames_free_pages(), free0 + 2);
	assert_non_null(strstr(shim_last_panic, "not allocated"));
}

static void test_claim_splits_blocks(void **state)
{
	uint64_t base = new_window(MiB(8));
	uint64_t c0 = base + MiB(2) + 3 * PAGE_SIZE;
	uint64_t c1 = base + MiB(5) + 7 * PAGE_SIZE;
	uint64_t free0, pa, n = 0;

	(void)state;
	frames_add_range(base, base + MiB(8));
	free0 = frames_free_pages();
	assert_int_equal(frames_claim(c0, c1), 0);
	assert_int_equal(frames_free_pages(), free0 - (c1 - c0) / PAGE_SIZE);
	/* Claimed pages are not free any more: claiming again fails. */
	assert_int_equal(frames_claim(c0 + PAGE_SIZE, c0 + 2 * PAGE_SIZE),
			 -EBUSY);
	/* Every other page is still allocatable, none of the claimed ones. */
	while ((pa = frames_alloc(0))) {
		assert_true(pa < c0 || pa >= c1);
		n++;
	}
	assert_int_equal(n, free0 - (c1 - c0) / PAGE_SIZE);
}

static void test_claim_is_all_or_nothing(void **state)
{
	uint64_t base = new_window(MiB(8));
	uint64_t pa, free0;

	(void)state;
	frames_add_range(base, base + MiB(8));
	pa = frames_alloc(0);
	free0 = frames_free_pages();
	assert_int_equal(frames_claim(base, pa + PAGE_SIZE), -EBUSY);
	assert_int_equal(frames_claim(pa, pa + PAGE_SIZE), -EBUSY);
	assert_int_equal(frames_free_pages(), free0);
	assert_int_equal(frames_claim(base + 1, base + MiB(1)), -EINVAL);
	assert_int_equal(frames_claim(base, base + MiB(1) + 1), -EINVAL);
	assert_int_equal(frames_claim(base + MiB(1), base + MiB(1)), -EINVAL);
	/* Outside any range, or over the bookkeeping at the top. */
	assert_int_equal(frames_claim(base - MiB(1), base), -EBUSY);
	assert_int_equal(frames_claim(base + MiB(7), base + MiB(8)), -EBUSY);
	assert_int_equal(frames_free_pages(), free0);
	/* The whole range below the allocated page can be claimed. */
	assert_int_equal(frames_claim(base, pa), 0);
	assert_int_equal(frames_free_pages(), free0 - (pa - base) / PAGE_SIZE);
}

static void test_claimed_pages_can_be_freed(void **state)
{
	uint64_t base = new_window(MiB(4));
	uint64_t free0;

	(void)state;
	frames_add_range(base, base + MiB(4));
	free0 = frames_free_pages();
	assert_int_equal(frames_claim(base + PAGE_SIZE, base + MiB(1)), 0);
	for (uint64_t pa = base + PAGE_SIZE; pa < base + MiB(1);
	     pa += PAGE_SIZE)
		frames_free(pa, 0);
	assert_int_equal(frames_free_pages(), free0);
	assert_int_equal(frames_alloc(9), base);
}

static void test_exhaustion(void **state)
{
	uint64_t base = new_window(MiB(2));
	uint64_t n = 0, total0 = frames_total_pages();

	(void)state;
	frames_add_range(base, base + MiB(2));
	assert_int_equal(frames_alloc(9), 0); /* bookkeeping broke the block */
	while (frames_alloc(0))
		n++;
	assert_int_equal(n, frames_total_pages() - total0);
	assert_int_equal(frames_free_pages(), 0);
	assert_null(page_alloc());
	assert_int_equal(frames_alloc(0), 0);
}

static void test_terabyte_addresses(void **state)
{
	uint64_t base = GiB(1024) - GiB(1);
	uint64_t pa;

	(void)state;
	assert_true(next_window <= base);
	shim_map_phys(base, GiB(2));
	next_window = base + GiB(3);
	frames_add_range(base, base + GiB(2));
	assert_int_equal(frames_free_pages(),
			 GiB(2) / PAGE_SIZE -
			     expect_meta_pages(GiB(2) / PAGE_SIZE));
	/* Only the lower 1 GiB is a whole block: bookkeeping is at the top. */
	pa = frames_alloc(MAX_ORDER);
	assert_int_equal(pa, base);
	assert_int_equal(frames_alloc(MAX_ORDER), 0);
	pa = frames_alloc(0);
	assert_true(pa > GiB(1024) && pa < GiB(1025));
	frames_free(pa, 0);
	frames_free(base, MAX_ORDER);
	assert_int_equal(frames_alloc(MAX_ORDER), base);
}

static void test_page_alloc_zeroes(void **state)
{
	uint64_t base = new_window(MiB(2));
	uint8_t *p, *q;

	(void)state;
	frames_add_range(base, base + MiB(2));
	p = page_alloc();
	assert_non_null(p);
	memset(p, 0xa5, PAGE_SIZE);
	page_free(p);
	q = page_alloc();
	assert_ptr_equal(p, q); /* the page just freed comes back first */
	for (size_t i = 0; i < PAGE_SIZE; i++)
		assert_int_equal(q[i], 0);
	page_free(q);
	page_free(NULL);
	shim_expect_panic(page_free(q));
}

/*
 * Random allocations and frees checked against a per-page shadow: blocks
 * are aligned, inside the range, never overlap, the free count matches, and
 * an allocation fails only when no aligned run of free pages of that size
 * exists (which is what full coalescing guarantees).
 */
#define STRESS_PAGES 2048

struct stress_block {
	uint64_t pa;
	unsigned order;
};

static bool shadow_has_free_block(const bool *used, uint64_t managed,
				  uint64_t first_idx, unsigned order)
{
	uint64_t n = 1ULL << order;

	for (uint64_t i = ALIGN_UP(first_idx, n); i + n <= managed + first_idx;
	     i += n) {
		bool all_free = true;

		for (uint64_t j = i; j < i + n && all_free; j++)
			all_free = !used[j - first_idx];
		if (all_free)
			return true;
	}
	return false;
}

static void test_random_against_shadow(void **state)
{
	uint64_t base = new_window(STRESS_PAGES * PAGE_SIZE);
	static bool used[STRESS_PAGES];
	static struct stress_block live[STRESS_PAGES];
	uint64_t managed, nr_live = 0, shadow_free, first_idx;

	(void)state;
	frames_add_range(base, base + STRESS_PAGES * PAGE_SIZE);
	managed = frames_free_pages();
	shadow_free = managed;
	first_idx = base / PAGE_SIZE;
	srand(42);
	for (int step = 0; step < 40000; step++) {
		bool do_alloc = nr_live == 0 || rand() % 100 < 55;

		if (do_alloc) {
			unsigned order = (unsigned)(rand() % 7);
			uint64_t pa = frames_alloc(order), idx;

			if (!pa) {
				assert_false(shadow_has_free_block(
				    used, managed, first_idx, order));
				continue;
			}
			assert_true(IS_ALIGNED(pa, PAGE_SIZE << order));
			idx = pa / PAGE_SIZE - first_idx;
			assert_true(idx + (1ULL << order) <= managed);
			for (uint64_t j = 0; j < 1ULL << order; j++) {
				assert_false(used[idx + j]);
				used[idx + j] = true;
			}
			live[nr_live++] = (struct stress_block){pa, order};
			shadow_free -= 1ULL << order;
		} else {
			size_t k = (size_t)rand() % nr_live;
			struct stress_block b = live[k];
			uint64_t idx = b.pa / PAGE_SIZE - first_idx;

			live[k] = live[--nr_live];
			/* Now and then free in two halves. */
			if (b.order > 0 && rand() % 4 == 0) {
				uint64_t half = PAGE_SIZE << (b.order - 1);

				frames_free(b.pa + half, b.order - 1);
				frames_free(b.pa, b.order - 1);
			} else {
				frames_free(b.pa, b.order);
			}
			for (uint64_t j = 0; j < 1ULL << b.order; j++)
				used[idx + j] = false;
			shadow_free += 1ULL << b.order;
		}
		assert_int_equal(frames_free_pages(), shadow_free);
	}
	while (nr_live) {
		nr_live--;
		frames_free(live[nr_live].pa, live[nr_live].order);
	}
	assert_int_equal(frames_free_pages(), managed);
	/* Fully merged again: the first 4 MiB is one block. */
	assert_int_equal(frames_alloc(10), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_add_range_trims_and_accounts),
	    T(test_tiny_and_empty_ranges_ignored),
	    T(test_page_zero_never_managed),
	    T(test_overlapping_range_panics),
	    T(test_high_addresses_first),
	    T(test_blocks_aligned_to_their_size),
	    T(test_coalesces_back_to_one_block),
	    T(test_free_in_smaller_pieces),
	    T(test_bad_frees_panic),
	    T(test_claim_splits_blocks),
	    T(test_claim_is_all_or_nothing),
	    T(test_claimed_pages_can_be_freed),
	    T(test_exhaustion),
	    T(test_random_against_shadow),
	    T(test_page_alloc_zeroes),
	    T(test_terabyte_addresses),
#undef T
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	shim_unmap_all();
	return failed;
}
