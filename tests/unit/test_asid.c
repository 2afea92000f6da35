/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU TLB tag generations (hypervisor/arch/x86/hvm/asid.c): with 4
 * ASIDs (3 usable) and 10 vCPUs of 5 domains scheduled at random on 2
 * CPUs, no two vCPUs ever hold the same tag in one generation on one CPU,
 * and a tag is only ever reused after the flush that starts a generation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/asid.h>
#include "shim.h"

#define NR_CPUS	 2
#define NR_VCPUS 10
#define NR_ASIDS 4

static void test_first_entry_flushes(void **state)
{
	struct asid_pool p;
	struct asid_tag a = {0}, b = {0};

	(void)state;
	asid_pool_init(&p, NR_ASIDS);
	assert_true(asid_assign(&p, &a, 0)); /* nothing known: flush all */
	assert_int_equal(a.asid, 1);
	assert_false(asid_assign(&p, &b, 0));
	assert_int_equal(b.asid, 2);
	/* Kept while on the same CPU in the same generation. */
	assert_false(asid_assign(&p, &a, 0));
	assert_int_equal(a.asid, 1);
	/* Invalidated: a fresh tag, no flush. */
	asid_tag_invalidate(&a);
	assert_false(asid_assign(&p, &a, 0));
	assert_int_equal(a.asid, 3);
	/* Exhausted: a new generation, flushed, tags start again at 1. */
	asid_tag_invalidate(&b);
	assert_true(asid_assign(&p, &b, 0));
	assert_int_equal(b.asid, 1);
	assert_int_equal(b.generation, 2);
	/* a's tag is of the old generation: it gets a new one. */
	assert_false(asid_assign(&p, &a, 0));
	assert_int_equal(a.asid, 2);
}

/* What a CPU's TLB may hold: for each tag, the vCPU whose entries are
 * under it (-1: none since the last full flush). */
struct tlb {
	int owner[NR_ASIDS];
};

static void test_random_schedule(void **state)
{
	struct asid_pool pools[NR_CPUS];
	struct asid_tag tags[NR_VCPUS];
	struct tlb tlbs[NR_CPUS];
	unsigned flushes = 0, moves = 0;

	(void)state;
	srand(1);
	memset(tags, 0, sizeof(tags));
	for (int c = 0; c < NR_CPUS; c++) {
		asid_pool_init(&pools[c], NR_ASIDS);
		for (int i = 0; i < NR_ASIDS; i++)
			tlbs[c].owner[i] = -1;
	}
	for (int step = 0; step < 100000; step++) {
		int v = rand() % NR_VCPUS, c = rand() % NR_CPUS;
		int old_cpu = tags[v].cpu;

		if (rand() % 50 == 0)
			asid_tag_invalidate(&tags[v]); /* a p2m change */
		if (asid_assign(&pools[c], &tags[v], c)) {
			flushes++;
			for (int i = 0; i < NR_ASIDS; i++)
				tlbs[c].owner[i] = -1;
		}
		moves += old_cpu != c;
		assert_in_range(tags[v].asid, 1, NR_ASIDS - 1);
		/* The tag's entries on this CPU are v's own or none: a vCPU
		 * (of this domain or another) never sees another's. */
		if (tlbs[c].owner[tags[v].asid] != -1 &&
		    tlbs[c].owner[tags[v].asid] != v)
			fail_msg("step %d: vCPU %d (d%d) got ASID %u on cpu%d, "
				 "which holds vCPU %d's (d%d) entries",
				 step, v, v / 2, tags[v].asid, c,
				 tlbs[c].owner[tags[v].asid],
				 tlbs[c].owner[tags[v].asid] / 2);
		tlbs[c].owner[tags[v].asid] = v;
		/* No other vCPU holds the same tag of this generation here. */
		for (int w = 0; w < NR_VCPUS; w++)
			if (w != v && tags[w].cpu == c &&
			    tags[w].generation == tags[v].generation &&
			    tags[w].asid == tags[v].asid)
				fail_msg("step %d: vCPUs %d and %d share ASID "
					 "%u of generation %lu on cpu%d",
					 step, v, w, tags[v].asid,
					 (unsigned long)tags[v].generation, c);
	}
	assert_true(flushes > 1000 && moves > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_entry_flushes),
	    cmocka_unit_test(test_random_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
