/* SPDX-License-Identifier: MIT */
/*
 * busy: a CPU-bound guest for scheduler tests. It counts loop iterations
 * and, once per second of TSC time (the frequency from Keel's CPUID leaf
 * 0x40000010), prints "busy: t=<seconds> progress=<iterations>". Two such
 * guests sharing one CPU show the scheduler's split in their progress at
 * equal t. It never finishes: the harness stops it.
 */
#include "guest.h"

const char test_name[] = "busy";

#define KEEL_CPUID_TIMING 0x40000010
#define REPORTS 30

void test_main(void)
{
	uint64_t tsc_khz = cpuid(KEEL_CPUID_TIMING).eax, start, next;
	uint64_t progress = 0;

	if (!tsc_khz)
		test_fail("no TSC frequency in CPUID 0x40000010");
	start = rdtsc();
	next = start + tsc_khz * 1000;
	for (unsigned t = 1; t <= REPORTS;) {
		for (unsigned i = 0; i < 1000; i++)
			__asm__ volatile("" ::: "memory");
		progress++;
		if (rdtsc() >= next) {
			printf("busy: t=%u progress=%lu\n", t, progress);
			next += tsc_khz * 1000;
			t++;
		}
	}
	test_pass();
}
