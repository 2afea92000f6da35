/* SPDX-License-Identifier: MIT */
/* Hypervisor heap (hypervisor/mm/heap.c) over the buddy allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/lib.h>
#include <keel/mm.h>
#include "shim.h"

#define HEAP_BASE GiB(8)
#define HEAP_SIZE MiB(64)

static int setup_group(void **state)
{
	(void)state;
	shim_map_phys(HEAP_BASE, HEAP_SIZE);
	frames_add_range(HEAP_BASE, HEAP_BASE + HEAP_SIZE);
	return 0;
}

static int teardown_group(void **state)
{
	(void)state;
	shim_unmap_all();
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool in_heap(const void *p, size_t size)
{
	uint64_t pa = virt_to_phys(p);

	return pa >= HEAP_BASE && pa + size <= HEAP_BASE + HEAP_SIZE;
}

static void test_sizes_aligned_zeroed(void **state)
{
	static const size_t sizes[] = {0,    1,	   15,	  16,	  17,	31,
				       64,   100,  255,	  512,	  1000, 1024,
				       1025, 2048, 4000,  4080,	  4081, 4096,
				       8192, 9000, 65536, 1000000};
	void *p[ARRAY_SIZE(sizes)];
	uint64_t free0 = frames_free_pages();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = MAX(sizes[i], 1);

		p[i] = xzalloc(sizes[i]);
		assert_non_null(p[i]);
		assert_true(IS_ALIGNED((uintptr_t)p[i], 16));
		assert_true(in_heap(p[i], n));
		assert_true(all_zero(p[i], n));
		memset(p[i], (int)i + 1, n);
	}
	/* No allocation overlapped another: every pattern is intact. */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = MAX(sizes[i], 1);

		for (size_t j = 0; j < n; j++)
			assert_int_equal(((uint8_t *)p[i])[j], i + 1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		xfree(p[i]);
	xfree(NULL);
	/* Empty slabs and large blocks went back to the frame allocator. */
	assert_int_equal(frames_free_pages(), free0);
}

static void test_reused_memory_is_zeroed(void **state)
{
	uint8_t *a, *b;

	(void)state;
	a = xzalloc(200);
	b = xzalloc(200); /* keeps the slab alive across the free */
	memset(a, 0xff, 200);
	xfree(a);
	a = xzalloc(256);
	assert_true(all_zero(a, 256));
	xfree(a);
	xfree(b);

	a = xzalloc(5000);
	memset(a, 0xff, 5000);
	xfree(a);
	a = xzalloc(5000);
	assert_true(all_zero(a, 5000));
	xfree(a);
}

static void test_many_small_objects_share_pages(void **state)
{
	static void *p[1000];
	uint64_t free0 = frames_free_pages();

	(void)state;
	for (int i = 0; i < 1000; i++) {
		p[i] = xzalloc(16);
		assert_non_null(p[i]);
	}
	/* 252 sixteen-byte objects fit a page: 1000 need 4 pages. */
	assert_int_equal(free0 - frames_free_pages(), 4);
	for (int i = 0; i < 1000; i++)
		xfree(p[i]);
	assert_int_equal(frames_free_pages(), free0);
}

static void test_bad_frees_panic(void **state)
{
	uint8_t *small = xzalloc(64), *big = xzalloc(10000);
	void *page = page_alloc();

	(void)state;
	shim_expect_panic(xfree(small + 16)); /* inside an object */
	shim_expect_panic(xfree(big + 16));
	shim_expect_panic(xfree(page)); /* not from the heap */
	xfree(small + 0);
	xfree(big);
	page_free(page);
	/*
	 * small's slab held nothing else and went back to the frame
	 * allocator; keep one object alive in a fresh slab to see a double
	 * free caught by the slab itself.
	 */
	small = xzalloc(64);
	big = xzalloc(64);
	xfree(small);
	shim_expect_panic(xfree(small));
	assert_non_null(strstr(shim_last_panic, "double free"));
	xfree(big);
}

static void test_too_large_fails(void **state)
{
	uint64_t free0 = frames_free_pages();

	(void)state;
	assert_null(xzalloc(SIZE_MAX));
	assert_null(xzalloc(GiB(1)));	       /* above MAX_ORDER with header */
	assert_null(xzalloc(HEAP_SIZE - 100)); /* more than there is */
	assert_int_equal(frames_free_pages(), free0);
}

static void test_random_against_patterns(void **state)
{
	enum { SLOTS = 512 };
	static uint8_t *p[SLOTS];
	static size_t len[SLOTS];
	uint64_t free0 = frames_free_pages();

	(void)state;
	srand(7);
	for (int step = 0; step < 20000; step++) {
		int k = rand() % SLOTS;

		if (p[k]) {
			for (size_t j = 0; j < len[k]; j++)
				assert_int_equal(p[k][j], (uint8_t)(k ^ j));
			xfree(p[k]);
			p[k] = NULL;
		} else {
			len[k] = (size_t)(rand() % 4 ? rand() % 600
						     : rand() % 20000);
			p[k] = xzalloc(len[k]);
			assert_non_null(p[k]);
			assert_true(IS_ALIGNED((uintptr_t)p[k], 16));
			assert_true(all_zero(p[k], len[k]));
			for (size_t j = 0; j < len[k]; j++)
				p[k][j] = (uint8_t)(k ^ j);
		}
	}
	for (int k = 0; k < SLOTS; k++)
		xfree(p[k]);
	assert_int_equal(frames_free_pages(), free0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes_aligned_zeroed),
	    cmocka_unit_test(test_reused_memory_is_zeroed),
	    cmocka_unit_test(test_many_small_objects_share_pages),
	    cmocka_unit_test(test_bad_frees_panic),
	    cmocka_unit_test(test_too_large_fails),
	    cmocka_unit_test(test_random_against_patterns),
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
