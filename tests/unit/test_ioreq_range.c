/* SPDX-License-Identifier: MIT */
/*
 * I/O-request ranges (hypervisor/common/ioreq_range.c): what Dom0 may
 * register for a DomU (public/keel.h, KEEL_HC_IOREQ_RANGE) and which
 * range an access reaches. Keel's own devices and everything outside the
 * DomU's MMIO hole or the port space are refused; ranges of one space
 * never overlap; the table is bounded; removal takes an exact match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/ioreq_range.h>
#include "shim.h"

#define MMIO KEEL_DOMU_MMIO_HOLE_START
#define PIO  KEEL_IOREQ_F_PIO
#define N    KEEL_IOREQ_MAX_RANGES

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(ioreq_range_valid(0, MMIO, PAGE_SIZE), 0);
	assert_int_equal(
	    ioreq_range_valid(KEEL_IOREQ_F_DOORBELL, 0xD0001050ULL, 4), 0);
	assert_int_equal(ioreq_range_valid(PIO, 0x700, 8), 0);
	assert_int_equal(ioreq_range_valid(PIO, 0xFFF0, 0x10), 0);
	/* The hole's last page, right up to 4 GiB. */
	assert_int_equal(
	    ioreq_range_valid(0, KEEL_DOMU_MMIO_HOLE_END - 0x1000, 0x1000), 0);
	assert_int_equal(ioreq_range_valid(0, 0xFEB00000ULL, 0x1000), 0);
}

static void test_invalid(void **state)
{
	static const struct {
		uint32_t flags;
		uint64_t start, len;
	} bad[] = {
	    {0, MMIO, 0},			 /* empty */
	    {0, MMIO - 1, 2},			 /* below the hole */
	    {0, KEEL_DOMU_MMIO_HOLE_END - 4, 8}, /* past it */
	    {0, 0x1000, 0x1000},		 /* RAM's place */
	    {0, ~0ULL - 0xFFF, 0x2000},		 /* wraps */
	    {0, 0xFEC00FFCULL, 8},		 /* vIOAPIC's last bytes */
	    {0, 0xFEBFFFFCULL, 8},		 /* its first ones */
	    {0, 0xFEE00000ULL, 1},		 /* xAPIC */
	    {4, MMIO, 4},			 /* unknown flag */
	    {1u << 31, MMIO, 4},		 /* unknown flag */
	    {PIO, 0x3F8, 1},			 /* COM1 */
	    {PIO, 0x3F0, 9},			 /* into COM1 */
	    {PIO, 0x3FF, 1},			 /* COM1's last */
	    {PIO, 0x600, 1},			 /* power ports */
	    {PIO, 0x602, 4},			 /* reset port */
	    {PIO, 0x603, 1},			 /* boot timer port */
	    {PIO, 0xFFFF, 2},			 /* past 0xFFFF */
	    {PIO, 0x10000, 1},			 /* beyond */
	    {PIO | KEEL_IOREQ_F_DOORBELL, 0, 0}, /* empty */
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    ioreq_range_valid(bad[i].flags, bad[i].start, bad[i].len),
		    -EINVAL);
	/* Ports 0x3F7 and 0x400 are not COM1's; MMIO at COM1's numbers
	 * would be (below the hole) refused for that reason alone. */
	assert_int_equal(ioreq_range_valid(PIO, 0x3F7, 1), 0);
	assert_int_equal(ioreq_range_valid(PIO, 0x400, 0x200), 0);
	assert_int_equal(ioreq_range_valid(PIO, 0x604, 1), 0);
}

static void test_add_overlap_and_full(void **state)
{
	struct ioreq_range t[N] = {0};

	(void)state;
	assert_int_equal(ioreq_range_add(t, N, 0, MMIO, 0x1000), 0);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x700, 8), 1);
	/* The same numbers in the other space do not overlap. */
	assert_int_equal(ioreq_range_add(t, N, PIO, 0, 8), 2);
	assert_int_equal(ioreq_range_add(t, N, 0, MMIO + 0xFFF, 1), -EEXIST);
	assert_int_equal(ioreq_range_add(t, N, 0, MMIO - 0x10, 0x11), -EEXIST);
	assert_int_equal(ioreq_range_add(t, N, KEEL_IOREQ_F_DOORBELL, MMIO, 4),
			 -EEXIST);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x707, 1), -EEXIST);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x708, 1), 3);
	assert_int_equal(ioreq_range_add(t, N, 0, MMIO + 0x1000, 4), 4);
	for (unsigned i = 5; i < N; i++)
		assert_int_equal(ioreq_range_add(t, N, PIO, 0x1000 + i, 1),
				 (int)i);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x2000, 1), -ENOSPC);
	/* A freed entry is reused, lowest first. */
	assert_int_equal(ioreq_range_remove(t, N, PIO, 0x708, 1), 0);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x2000, 1), 3);
}

static void test_remove_exact(void **state)
{
	struct ioreq_range t[N] = {0};

	(void)state;
	assert_int_equal(ioreq_range_add(t, N, KEEL_IOREQ_F_DOORBELL, MMIO, 8),
			 0);
	assert_int_equal(ioreq_range_remove(t, N, 0, MMIO, 8), -ENOENT);
	assert_int_equal(
	    ioreq_range_remove(t, N, KEEL_IOREQ_F_DOORBELL, MMIO, 4), -ENOENT);
	assert_int_equal(
	    ioreq_range_remove(t, N, KEEL_IOREQ_F_DOORBELL, MMIO + 4, 4),
	    -ENOENT);
	assert_int_equal(
	    ioreq_range_remove(t, N, KEEL_IOREQ_F_DOORBELL, MMIO, 8), 0);
	assert_int_equal(
	    ioreq_range_remove(t, N, KEEL_IOREQ_F_DOORBELL, MMIO, 8), -ENOENT);
	assert_int_equal(ioreq_range_find(t, N, false, MMIO), -1);
	/* A free entry (length 0) never matches, even at address 0. */
	assert_int_equal(ioreq_range_remove(t, N, 0, 0, 0), -ENOENT);
}

static void test_find(void **state)
{
	struct ioreq_range t[N] = {0};

	(void)state;
	assert_int_equal(ioreq_range_find(t, N, true, 0), -1);
	assert_int_equal(ioreq_range_add(t, N, 0, MMIO + 0x100, 0x100), 0);
	assert_int_equal(ioreq_range_add(t, N, PIO, 0x100, 0x100), 1);
	assert_int_equal(ioreq_range_find(t, N, false, MMIO + 0x100), 0);
	assert_int_equal(ioreq_range_find(t, N, false, MMIO + 0x1FF), 0);
	assert_int_equal(ioreq_range_find(t, N, false, MMIO + 0x200), -1);
	assert_int_equal(ioreq_range_find(t, N, false, MMIO + 0xFF), -1);
	assert_int_equal(ioreq_range_find(t, N, false, 0x100), -1);
	assert_int_equal(ioreq_range_find(t, N, true, 0x100), 1);
	assert_int_equal(ioreq_range_find(t, N, true, 0x1FF), 1);
	assert_int_equal(ioreq_range_find(t, N, true, 0x200), -1);
	assert_int_equal(ioreq_range_find(t, N, true, MMIO + 0x100), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_add_overlap_and_full),
	    cmocka_unit_test(test_remove_exact),
	    cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
