/* SPDX-License-Identifier: MIT */
/*
 * keel.ko's pure arithmetic (dom0-rootfs/kmod/keel_ring.h, the file the
 * module compiles): pinned pages merged into KEEL_HC_MEMORY_MAP extents
 * in batches, the console ring's indices across 2^32 wrap-around and
 * when Keel laps a slow reader, and the domain name check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../dom0-rootfs/kmod/keel_ring.h"

#define PAGE 4096ULL

/* What keel.ko's MAP_RAM does with a page list: batches of at most max. */
struct batches {
	struct keel_mem_extent all[64];
	size_t nr_all, nr_calls, largest_call;
};

static void map_pages(const uint64_t *phys, size_t n, uint64_t gpa, size_t max,
		      struct batches *b)
{
	struct keel_mem_extent ext[8];
	size_t nr = 0;

	assert_true(max <= 8);
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i <= n; i++) {
		bool added =
		    i < n && keel_extent_add(ext, &nr, max, gpa + i * PAGE,
					     phys[i], PAGE);

		if (added)
			continue;
		/* Full batch, or the end: one hypercall's worth. */
		if (nr) {
			memcpy(b->all + b->nr_all, ext, nr * sizeof(*ext));
			b->nr_all += nr;
			b->nr_calls++;
			if (nr > b->largest_call)
				b->largest_call = nr;
		}
		nr = 0;
		if (i < n)
			assert_true(keel_extent_add(
			    ext, &nr, max, gpa + i * PAGE, phys[i], PAGE));
	}
}

static void test_extents_contiguous_run(void **state)
{
	uint64_t phys[512];
	struct batches b;

	(void)state;
	for (size_t i = 0; i < 512; i++) /* a 2 MiB huge page */
		phys[i] = 0x40000000ULL + i * PAGE;
	map_pages(phys, 512, 0, 4, &b);
	assert_int_equal(b.nr_all, 1);
	assert_int_equal(b.nr_calls, 1);
	assert_int_equal(b.all[0].gpa, 0);
	assert_int_equal(b.all[0].dom0_gpa, 0x40000000ULL);
	assert_int_equal(b.all[0].len, 512 * PAGE);
}

static void test_extents_breaks_and_batches(void **state)
{
	/* A run of 3 pages, then five single pages: a page just below its
	 * predecessor, or after a gap, starts a new extent. */
	static const uint64_t phys[] = {0x100000,
					0x101000,
					0x102000,
					0x200000,
					0x301000,
					0x300000,
					0x300000 + PAGE * 7,
					0x900000};
	struct batches b;

	(void)state;
	map_pages(phys, 8, 0x1000000, 2, &b);
	assert_int_equal(b.nr_all, 6);
	assert_int_equal(b.largest_call, 2);
	assert_int_equal(b.nr_calls, 3);
	assert_int_equal(b.all[0].gpa, 0x1000000);
	assert_int_equal(b.all[0].len, 3 * PAGE);
	assert_int_equal(b.all[1].gpa, 0x1003000);
	assert_int_equal(b.all[1].dom0_gpa, 0x200000);
	assert_int_equal(b.all[1].len, PAGE);
	assert_int_equal(b.all[2].dom0_gpa, 0x301000);
	assert_int_equal(b.all[3].dom0_gpa, 0x300000);
	/* Every page is covered once, in guest order, without gaps. */
	uint64_t next = 0x1000000, total = 0;

	for (size_t i = 0; i < b.nr_all; i++) {
		assert_int_equal(b.all[i].gpa, next);
		next += b.all[i].len;
		total += b.all[i].len;
	}
	assert_int_equal(total, 8 * PAGE);
}

static void test_extent_full_refuses(void **state)
{
	struct keel_mem_extent ext[1];
	size_t nr = 0;

	(void)state;
	assert_true(keel_extent_add(ext, &nr, 1, 0, 0x5000, PAGE));
	/* Continuing the last extent needs no new slot. */
	assert_true(keel_extent_add(ext, &nr, 1, PAGE, 0x6000, PAGE));
	assert_false(keel_extent_add(ext, &nr, 1, 2 * PAGE, 0x9000, PAGE));
	assert_int_equal(nr, 1);
	assert_int_equal(ext[0].len, 2 * PAGE);
}

static void test_ring_readable(void **state)
{
	struct keel_ring_span s;

	(void)state;
	s = keel_ring_readable(100, 40, 64);
	assert_int_equal(s.start, 40);
	assert_int_equal(s.len, 60);
	assert_int_equal(s.lost, 0);
	/* Exactly full is not an overrun. */
	s = keel_ring_readable(104, 40, 64);
	assert_int_equal(s.len, 64);
	assert_int_equal(s.lost, 0);
	/* Keel lapped the reader: the oldest bytes are gone. */
	s = keel_ring_readable(1000, 40, 64);
	assert_int_equal(s.start, 1000 - 64);
	assert_int_equal(s.len, 64);
	assert_int_equal(s.lost, 1000 - 40 - 64);
	/* Across the 2^32 wrap of the indices. */
	s = keel_ring_readable(10, 0xFFFFFFF0u, 64);
	assert_int_equal(s.start, 0xFFFFFFF0u);
	assert_int_equal(s.len, 26);
	assert_int_equal(s.lost, 0);
	s = keel_ring_readable(100, 0xFFFFFFF0u, 64);
	assert_int_equal(s.start, 36);
	assert_int_equal(s.lost, 116 - 64);
	/* Nothing new. */
	s = keel_ring_readable(7, 7, 64);
	assert_int_equal(s.len, 0);
}

static void test_ring_overwritten_during_copy(void **state)
{
	(void)state;
	/* Reader copied [40, 104) of a 64-byte ring; Keel still at 104. */
	assert_int_equal(keel_ring_overwritten(104, 40, 64, 64), 0);
	/* Keel wrote 10 more meanwhile: the first 10 copied are stale. */
	assert_int_equal(keel_ring_overwritten(114, 40, 64, 64), 10);
	/* So far ahead that all of it is stale. */
	assert_int_equal(keel_ring_overwritten(500, 40, 64, 64), 64);
	/* Wrapped indices. */
	assert_int_equal(keel_ring_overwritten(0x30, 0xFFFFFFF0u, 32, 64), 0);
	assert_int_equal(keel_ring_overwritten(0x38, 0xFFFFFFF0u, 32, 64), 8);
}

static void test_ring_contig_and_space(void **state)
{
	(void)state;
	assert_int_equal(keel_ring_contig(0, 10, 64), 10);
	assert_int_equal(keel_ring_contig(60, 10, 64), 4);
	assert_int_equal(keel_ring_contig(64 + 60, 10, 64), 4);
	assert_int_equal(keel_ring_contig(0xFFFFFFFEu, 10, 1024), 2);
	assert_int_equal(keel_ring_space(0, 0, 1024), 1024);
	assert_int_equal(keel_ring_space(1024, 0, 1024), 0);
	assert_int_equal(keel_ring_space(5, 0xFFFFFFFFu, 1024), 1018);
	/* Impossible: the reader ahead of the writer, or lapped. */
	assert_int_equal(keel_ring_space(0, 1, 1024), -1);
	assert_int_equal(keel_ring_space(2000, 0, 1024), -1);
}

static void test_domain_name(void **state)
{
	char full[KEEL_DOMAIN_NAME_LEN];

	(void)state;
	assert_true(keel_domain_name_valid("web-1.lab_A", 32));
	assert_false(keel_domain_name_valid("", 32));
	assert_false(keel_domain_name_valid("a b", 32));
	assert_false(keel_domain_name_valid("a/b", 32));
	assert_false(keel_domain_name_valid("caf\xc3\xa9", 32));
	/* The field must hold the NUL too. */
	memset(full, 'a', sizeof(full));
	assert_false(keel_domain_name_valid(full, sizeof(full)));
	full[sizeof(full) - 1] = '\0';
	assert_true(keel_domain_name_valid(full, sizeof(full)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extents_contiguous_run),
	    cmocka_unit_test(test_extents_breaks_and_batches),
	    cmocka_unit_test(test_extent_full_refuses),
	    cmocka_unit_test(test_ring_readable),
	    cmocka_unit_test(test_ring_overwritten_during_copy),
	    cmocka_unit_test(test_ring_contig_and_space),
	    cmocka_unit_test(test_domain_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
