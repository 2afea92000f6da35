/* SPDX-License-Identifier: MIT */
/*
 * Extents (hypervisor/common/mem_extent.c): the checks on memory Dom0
 * donates with KEEL_HC_MEMORY_MAP, and a domain's growing, sorted extent
 * list behind domain_owns_ram().
 *
 * The checks see the rest of Keel through struct mem_extent_env; here
 * Dom0's RAM is [DOM0_RAM_START, DOM0_RAM_END) minus Keel's image at
 * [KEEL_START, KEEL_END), translated to host addresses HPA_OFFSET higher
 * (Dom0 is identity-mapped in Keel, but the checks must use the
 * translation they are given); another domain owns [OTHER_HPA, + 2 MiB)
 * and the target domain already maps guest-physical [0, 2 MiB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/mem_extent.h>
#include <keel/mm.h>
#include "shim.h"

#define DOM0_RAM_START MiB(1)
#define DOM0_RAM_END   MiB(512)
#define KEEL_START     MiB(2)
#define KEEL_END       MiB(4)
#define HPA_OFFSET     GiB(64)
#define OTHER_HPA      (HPA_OFFSET + MiB(64))
#define TARGET_MAPPED  MiB(2)
#define FREE	       MiB(128) /* Dom0 RAM nobody has */

/* The heap mem_extent.c grows its lists with. */
void *xzalloc(size_t size)
{
	return calloc(1, size);
}

void xfree(void *p)
{
	free(p);
}

static int fake_dom0_ram(void *ctx, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
	(void)ctx;
	if (gpa < DOM0_RAM_START || len > DOM0_RAM_END - gpa ||
	    ranges_overlap(gpa, len, KEEL_START, KEEL_END - KEEL_START))
		return -EINVAL;
	*hpa = gpa + HPA_OFFSET;
	return 0;
}

static bool fake_hpa_in_use(void *ctx, uint64_t hpa, uint64_t len)
{
	(void)ctx;
	return ranges_overlap(hpa, len, OTHER_HPA, MiB(2));
}

static bool fake_gpa_in_use(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return ranges_overlap(gpa, len, 0, TARGET_MAPPED);
}

static const struct mem_extent_env env = {fake_dom0_ram, fake_hpa_in_use,
					  fake_gpa_in_use, NULL};

static int check1(uint64_t gpa, uint64_t dom0_gpa, uint64_t len)
{
	struct keel_mem_extent e = {gpa, dom0_gpa, len};
	struct dom_extent out;

	return mem_extents_check(&e, 1, &env, &out);
}

static void test_ranges_overlap(void **state)
{
	(void)state;
	assert_true(ranges_overlap(0, 2, 1, 2));
	assert_true(ranges_overlap(1, 2, 0, 2));
	assert_true(ranges_overlap(0, 10, 3, 1));
	assert_false(ranges_overlap(0, 2, 2, 2)); /* adjacent */
	assert_false(ranges_overlap(2, 2, 0, 2));
	assert_false(ranges_overlap(0, 0, 0, 10)); /* empty */
	/* Ends at 2^64 without wrapping to 0. */
	assert_true(ranges_overlap(UINT64_MAX - 4095, 4096, UINT64_MAX, 1));
	assert_false(ranges_overlap(UINT64_MAX - 4095, 4096, 0, 4096));
}

static void test_good_extents_translated(void **state)
{
	struct keel_mem_extent e[2] = {{MiB(2), FREE, MiB(2)},
				       {MiB(8), FREE + MiB(4), PAGE_SIZE}};
	struct dom_extent out[2];

	(void)state;
	assert_int_equal(mem_extents_check(e, 2, &env, out), 0);
	assert_int_equal(out[0].gpa, MiB(2));
	assert_int_equal(out[0].hpa, FREE + HPA_OFFSET);
	assert_int_equal(out[0].len, MiB(2));
	assert_int_equal(out[1].hpa, FREE + MiB(4) + HPA_OFFSET);
}

static void test_misaligned_and_empty(void **state)
{
	(void)state;
	assert_int_equal(check1(MiB(2) + 0x800, FREE, PAGE_SIZE), -EINVAL);
	assert_int_equal(check1(MiB(2), FREE + 8, PAGE_SIZE), -EINVAL);
	assert_int_equal(check1(MiB(2), FREE, 100), -EINVAL);
	assert_int_equal(check1(MiB(2), FREE, 0), -EINVAL);
}

static void test_overflow_and_gpa_limit(void **state)
{
	(void)state;
	assert_int_equal(check1(0xFFFFFFFFFFFFF000ULL, FREE, 2 * PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(check1(MiB(2), 0xFFFFFFFFFFFFF000ULL, 2 * PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(check1(KEEL_MAX_GPA, FREE, PAGE_SIZE), -EINVAL);
	assert_int_equal(check1(KEEL_MAX_GPA - PAGE_SIZE, FREE, 2 * PAGE_SIZE),
			 -EINVAL);
	/* The last page below the limit is fine. */
	assert_int_equal(check1(KEEL_MAX_GPA - PAGE_SIZE, FREE, PAGE_SIZE), 0);
}

static void test_not_dom0_ram(void **state)
{
	(void)state;
	assert_int_equal(check1(MiB(2), KEEL_START, PAGE_SIZE), -EINVAL);
	/* Starts in Dom0's RAM and runs into Keel's image. */
	assert_int_equal(check1(MiB(2), KEEL_START - PAGE_SIZE, 2 * PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(
	    check1(MiB(2), DOM0_RAM_END - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL);
	assert_int_equal(check1(MiB(2), 0, PAGE_SIZE), -EINVAL);
}

static void test_other_domain_and_mapped_gpa(void **state)
{
	(void)state;
	assert_int_equal(check1(MiB(2), OTHER_HPA - HPA_OFFSET, PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(
	    check1(MiB(2), OTHER_HPA - HPA_OFFSET - PAGE_SIZE, 2 * PAGE_SIZE),
	    -EINVAL);
	assert_int_equal(check1(0, FREE, PAGE_SIZE), -EINVAL);
	assert_int_equal(check1(TARGET_MAPPED - PAGE_SIZE, FREE, 2 * PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(check1(TARGET_MAPPED, FREE, PAGE_SIZE), 0);
}

static void test_overlap_within_call(void **state)
{
	struct keel_mem_extent same_dom0[2] = {
	    {MiB(2), FREE, MiB(1)},
	    {MiB(8), FREE + MiB(1) - PAGE_SIZE, PAGE_SIZE}};
	struct keel_mem_extent same_gpa[2] = {
	    {MiB(2), FREE, MiB(1)},
	    {MiB(3) - PAGE_SIZE, FREE + MiB(4), PAGE_SIZE}};
	struct keel_mem_extent apart[2] = {{MiB(2), FREE, MiB(1)},
					   {MiB(3), FREE + MiB(1), MiB(1)}};
	struct dom_extent out[2];

	(void)state;
	assert_int_equal(mem_extents_check(same_dom0, 2, &env, out), -EINVAL);
	assert_int_equal(mem_extents_check(same_gpa, 2, &env, out), -EINVAL);
	assert_int_equal(mem_extents_check(apart, 2, &env, out), 0);
}

static void test_count_limits(void **state)
{
	static struct keel_mem_extent e[KEEL_MAX_EXTENTS_PER_CALL + 1];
	static struct dom_extent out[KEEL_MAX_EXTENTS_PER_CALL + 1];

	(void)state;
	for (unsigned i = 0; i <= KEEL_MAX_EXTENTS_PER_CALL; i++)
		e[i] = (struct keel_mem_extent){
		    MiB(2) + i * PAGE_SIZE, FREE + i * PAGE_SIZE, PAGE_SIZE};
	assert_int_equal(mem_extents_check(e, 0, &env, out), -EINVAL);
	assert_int_equal(
	    mem_extents_check(e, KEEL_MAX_EXTENTS_PER_CALL + 1, &env, out),
	    -EINVAL);
	assert_int_equal(
	    mem_extents_check(e, KEEL_MAX_EXTENTS_PER_CALL, &env, out), 0);
	/* The last one bad: the whole call fails. */
	e[KEEL_MAX_EXTENTS_PER_CALL - 1].dom0_gpa = KEEL_START;
	assert_int_equal(
	    mem_extents_check(e, KEEL_MAX_EXTENTS_PER_CALL, &env, out),
	    -EINVAL);
}

static void test_extent_list(void **state)
{
	struct domain d = {0};

	(void)state;
	/* 100 extents added out of order, every other 64 KiB. */
	for (unsigned i = 0; i < 100; i++) {
		unsigned k = (i * 37) % 100;

		assert_int_equal(domain_add_extent(&d, k * KiB(64),
						   GiB(1) + k * KiB(128),
						   KiB(64)),
				 0);
	}
	assert_int_equal(d.nr_extents, 100);
	assert_int_equal(d.ram_bytes, 100 * KiB(64));
	for (unsigned i = 1; i < d.nr_extents; i++)
		assert_true(d.extents[i - 1].hpa < d.extents[i].hpa);
	for (unsigned k = 0; k < 100; k++) {
		uint64_t hpa = GiB(1) + k * KiB(128);

		assert_true(domain_owns_ram(&d, hpa, KiB(64)));
		assert_true(domain_owns_ram(&d, hpa + KiB(60), KiB(4)));
		assert_false(domain_owns_ram(&d, hpa + KiB(64), KiB(4)));
		assert_false(domain_owns_ram(&d, hpa + KiB(60), KiB(8)));
		assert_false(domain_owns_ram(&d, hpa - KiB(4), KiB(8)));
	}
	assert_false(domain_owns_ram(&d, 0, PAGE_SIZE));
	assert_false(domain_owns_ram(&d, UINT64_MAX - 10, 100));
	assert_true(domain_extents_overlap_hpa(&d, GiB(1) + KiB(32), GiB(1)));
	assert_false(domain_extents_overlap_hpa(&d, GiB(1) + KiB(64), KiB(64)));
	assert_true(domain_extents_overlap_gpa(&d, 99 * KiB(64), 1));
	assert_false(domain_extents_overlap_gpa(&d, 100 * KiB(64), MiB(1)));
	domain_remove_extent(&d, GiB(1) + 50 * KiB(128));
	assert_int_equal(d.nr_extents, 99);
	assert_false(domain_owns_ram(&d, GiB(1) + 50 * KiB(128), PAGE_SIZE));
	assert_true(domain_owns_ram(&d, GiB(1) + 51 * KiB(128), PAGE_SIZE));
	domain_extents_free(&d);
	assert_int_equal(d.nr_extents, 0);
	assert_int_equal(d.ram_bytes, 0);
	assert_false(domain_owns_ram(&d, GiB(1), PAGE_SIZE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges_overlap),
	    cmocka_unit_test(test_good_extents_translated),
	    cmocka_unit_test(test_misaligned_and_empty),
	    cmocka_unit_test(test_overflow_and_gpa_limit),
	    cmocka_unit_test(test_not_dom0_ram),
	    cmocka_unit_test(test_other_domain_and_mapped_gpa),
	    cmocka_unit_test(test_overlap_within_call),
	    cmocka_unit_test(test_count_limits),
	    cmocka_unit_test(test_extent_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
