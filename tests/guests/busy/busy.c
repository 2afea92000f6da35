/* SPDX-License-Identifier: MIT */
/*
 * busy: a CPU-bound guest for scheduler tests. It counts loop iterations
 * and, once per second of TSC time (the frequency from Keel's CPUID leaf
 * 0x40000010), prints "busy: t=<seconds> progress=<iterations>". Two such
 * guests sharing one CPU show the scheduler's split in their progress at
 * equal t. It passes after `seconds=` reports (default 30; 0: never
 * stops, for load that lasts as long as the test).
 */
#include "guest.h"

const char test_name[] = "busy";

#define KEEL_CPUID_TIMING 0x40000010
#define DEFAULT_SECONDS	  30

void test_main(void)
{
	uint64_t tsc_khz = cpuid(KEEL_CPUID_TIMING).eax, start, next;
	uint64_t progress = 0, seconds = DEFAULT_SECONDS;

	if (!tsc_khz)
		test_fail("no TSC frequency in CPUID 0x40000010");
	cmdline_u64("seconds", &seconds);
	start = rdtsc();
	next = start + tsc_khz * 1000;
	for (uint64_t t = 1; !seconds || t <= seconds;) {
		for (unsigned i = 0; i < 1000; i++)
			__asm__ volatile("" ::: "memory");
		progress++;
		if (rdtsc() >= next) {
			printf("busy: t=%lu progress=%lu\n", t, progress);
			next += tsc_khz * 1000;
			t++;
		}
	}
	test_pass();
}
