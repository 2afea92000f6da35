/* SPDX-License-Identifier: MIT */
/*
 * fpu: a vCPU's x87, SSE and AVX registers, MXCSR, FCW and XCR0 survive
 * the hypervisor's switches between vCPUs and its moves of a vCPU between
 * physical CPUs.
 *
 * Every vCPU repeats rounds: it fills its registers with values of its own
 * (seed, CPU and round number), spins with them live long enough to be
 * descheduled now and then, stores them with XSAVE, wipes them, reloads
 * them with XRSTOR (what Linux does for a signal frame), spins again, and
 * reads them back. In the middle of each round it also naps: HLT until
 * its LAPIC timer fires, so that its CPU may go idle or run another vCPU
 * and the vCPU may wake on another CPU with its state in flight.
 * XGETBV(0) must still be the XCR0 the guest chose, the
 * saved XSTATE_BV must lie within it, XRSTOR must not fault, and every
 * value must come back. A spin in which the TSC jumped by more than 1 ms
 * counts as a time the vCPU was off its CPU with its state live; at least
 * one such round is required, so a run that was never switched out cannot
 * pass.
 *
 * Parameters: seconds= (default 10) of rounds; seed= (default 1) so that
 * several fpu guests differ; xcr0= (default: x87, SSE and AVX where the
 * CPU has them); nap_us= (default 2000; 0: no naps); cpus= for a DomU's
 * vCPU count.
 * Prints "fpu: cpuN: xcr0 0xX, R rounds, P preempted" per vCPU.
 */
#include "guest.h"

const char test_name[] = "fpu";

#define XCR0_X87	 (1ULL << 0)
#define XCR0_SSE	 (1ULL << 1)
#define XCR0_AVX	 (1ULL << 2)
#define CR0_MP		 (1ULL << 1)
#define CR0_EM		 (1ULL << 2)
#define CR0_TS		 (1ULL << 3)
#define CR0_NE		 (1ULL << 5)
#define CR4_OSFXSR	 (1ULL << 9)
#define CR4_OSXMMEXCPT	 (1ULL << 10)
#define CR4_OSXSAVE	 (1ULL << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define XSAVE_AREA_SIZE	 4096
#define XSAVE_HEADER	 512
#define SPIN_US		 3000
#define SWITCH_GAP_US	 1000
#define NAP_VECTOR	 0x40
#define SPURIOUS_VECTOR	 0xff

struct fpregs {
	uint8_t vec[16][32]; /* YMM0-15 (XMM: the low 16 bytes) */
	uint64_t st[8];	     /* x87 stack, as integers, st[7] on top */
	uint32_t mxcsr;
	uint16_t fcw;
};

struct cpu_result {
	uint64_t rounds, preempted;
	volatile bool napped, done;
};

static uint64_t xcr0, seed = 1, seconds = 10, nap_us = 2000, tsc_khz;
static uint32_t lapic_khz;
static bool avx;
static struct cpu_result results[GUEST_MAX_CPUS];
static uint8_t xsave_areas[GUEST_MAX_CPUS][XSAVE_AREA_SIZE]
    __attribute__((aligned(64)));

static uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* Every CPU enables the FPU for itself: CR0 and CR4 are per CPU. */
static void enable_fpu(void)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT |
		  (xcr0 ? CR4_OSXSAVE : 0));
	if (xcr0)
		__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)xcr0),
				 "d"((uint32_t)(xcr0 >> 32)));
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void fill(struct fpregs *r, uint64_t tag)
{
	for (unsigned i = 0; i < 16; i++)
		for (unsigned j = 0; j < 4; j++)
			((uint64_t *)r->vec[i])[j] = mix(tag * 64 + i * 4 + j);
	/* Integers below 2^52 load and store exactly whatever the rounding. */
	for (unsigned k = 0; k < 8; k++)
		r->st[k] = mix(tag * 8 + k + 1000) >> 12;
	/* Rounding control and flush-to-zero vary; exceptions stay masked. */
	r->mxcsr = 0x1F80u | (uint32_t)(tag & 3) << 13 |
		   (uint32_t)(tag >> 2 & 1) << 15;
	/* Rounding and precision control vary; exceptions stay masked. */
	r->fcw = (uint16_t)(0x3Fu | (tag >> 3 & 3) << 8 | (tag >> 5 & 3) << 10);
}

static void load(const struct fpregs *r)
{
	__asm__ volatile("fninit\n\tfldcw %0\n\tldmxcsr %1"
			 :
			 : "m"(r->fcw), "m"(r->mxcsr));
	for (unsigned k = 0; k < 8; k++)
		__asm__ volatile("fildq %0" ::"m"(r->st[k]));
	if (avx)
		__asm__ volatile(
		    "vmovdqu 0(%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\t"
		    "vmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3\n\t"
		    "vmovdqu 128(%0), %%ymm4\n\tvmovdqu 160(%0), %%ymm5\n\t"
		    "vmovdqu 192(%0), %%ymm6\n\tvmovdqu 224(%0), %%ymm7\n\t"
		    "vmovdqu 256(%0), %%ymm8\n\tvmovdqu 288(%0), %%ymm9\n\t"
		    "vmovdqu 320(%0), %%ymm10\n\tvmovdqu 352(%0), %%ymm11\n\t"
		    "vmovdqu 384(%0), %%ymm12\n\tvmovdqu 416(%0), %%ymm13\n\t"
		    "vmovdqu 448(%0), %%ymm14\n\tvmovdqu 480(%0), %%ymm15" ::
			"r"(r->vec)
		    : "memory");
	else
		__asm__ volatile(
		    "movdqu 0(%0), %%xmm0\n\tmovdqu 32(%0), %%xmm1\n\t"
		    "movdqu 64(%0), %%xmm2\n\tmovdqu 96(%0), %%xmm3\n\t"
		    "movdqu 128(%0), %%xmm4\n\tmovdqu 160(%0), %%xmm5\n\t"
		    "movdqu 192(%0), %%xmm6\n\tmovdqu 224(%0), %%xmm7\n\t"
		    "movdqu 256(%0), %%xmm8\n\tmovdqu 288(%0), %%xmm9\n\t"
		    "movdqu 320(%0), %%xmm10\n\tmovdqu 352(%0), %%xmm11\n\t"
		    "movdqu 384(%0), %%xmm12\n\tmovdqu 416(%0), %%xmm13\n\t"
		    "movdqu 448(%0), %%xmm14\n\tmovdqu 480(%0), %%xmm15" ::"r"(
			r->vec)
		    : "memory");
}

static void store(struct fpregs *r)
{
	if (avx)
		__asm__ volatile(
		    "vmovdqu %%ymm0, 0(%0)\n\tvmovdqu %%ymm1, 32(%0)\n\t"
		    "vmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)\n\t"
		    "vmovdqu %%ymm4, 128(%0)\n\tvmovdqu %%ymm5, 160(%0)\n\t"
		    "vmovdqu %%ymm6, 192(%0)\n\tvmovdqu %%ymm7, 224(%0)\n\t"
		    "vmovdqu %%ymm8, 256(%0)\n\tvmovdqu %%ymm9, 288(%0)\n\t"
		    "vmovdqu %%ymm10, 320(%0)\n\tvmovdqu %%ymm11, 352(%0)\n\t"
		    "vmovdqu %%ymm12, 384(%0)\n\tvmovdqu %%ymm13, 416(%0)\n\t"
		    "vmovdqu %%ymm14, 448(%0)\n\tvmovdqu %%ymm15, 480(%0)" ::
			"r"(r->vec)
		    : "memory");
	else
		__asm__ volatile(
		    "movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 32(%0)\n\t"
		    "movdqu %%xmm2, 64(%0)\n\tmovdqu %%xmm3, 96(%0)\n\t"
		    "movdqu %%xmm4, 128(%0)\n\tmovdqu %%xmm5, 160(%0)\n\t"
		    "movdqu %%xmm6, 192(%0)\n\tmovdqu %%xmm7, 224(%0)\n\t"
		    "movdqu %%xmm8, 256(%0)\n\tmovdqu %%xmm9, 288(%0)\n\t"
		    "movdqu %%xmm10, 320(%0)\n\tmovdqu %%xmm11, 352(%0)\n\t"
		    "movdqu %%xmm12, 384(%0)\n\tmovdqu %%xmm13, 416(%0)\n\t"
		    "movdqu %%xmm14, 448(%0)\n\tmovdqu %%xmm15, 480(%0)" ::"r"(
			r->vec)
		    : "memory");
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1"
			 : "=m"(r->mxcsr), "=m"(r->fcw));
	for (unsigned k = 8; k-- > 0;)
		__asm__ volatile("fistpq %0" : "=m"(r->st[k]));
}

/* Wipes the vector registers, so that only XRSTOR can bring them back. */
static void wipe(void)
{
	if (avx) {
		__asm__ volatile("vzeroall");
		return;
	}
	__asm__ volatile(
	    "pxor %xmm0, %xmm0\n\tpxor %xmm1, %xmm1\n\tpxor %xmm2, %xmm2\n\t"
	    "pxor %xmm3, %xmm3\n\tpxor %xmm4, %xmm4\n\tpxor %xmm5, %xmm5\n\t"
	    "pxor %xmm6, %xmm6\n\tpxor %xmm7, %xmm7\n\tpxor %xmm8, %xmm8\n\t"
	    "pxor %xmm9, %xmm9\n\tpxor %xmm10, %xmm10\n\tpxor %xmm11, "
	    "%xmm11\n\t"
	    "pxor %xmm12, %xmm12\n\tpxor %xmm13, %xmm13\n\t"
	    "pxor %xmm14, %xmm14\n\tpxor %xmm15, %xmm15");
}

/* Spins with the registers live; true if the vCPU was off its CPU. */
static bool spin(void)
{
	uint64_t start = rdtsc(), last = start, gap = 0, now;

	do {
		now = rdtsc();
		if (now - last > gap)
			gap = now - last;
		last = now;
	} while (now - start < SPIN_US * tsc_khz / 1000);
	return gap > SWITCH_GAP_US * tsc_khz / 1000;
}

static void nap_interrupt(uint8_t vector)
{
	(void)vector;
	results[cpu_index()].napped = true;
	apic_eoi();
}

static void spurious_interrupt(uint8_t vector)
{
	(void)vector; /* no EOI for a spurious interrupt */
}

static void nap(unsigned cpu)
{
	if (!nap_us)
		return;
	results[cpu].napped = false;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | NAP_VECTOR);
	apic_write(APIC_TIMER_INITIAL_COUNT,
		   (uint32_t)(lapic_khz * nap_us / 1000));
	while (!results[cpu].napped)
		irq_wait();
}

static void compare(unsigned cpu, uint64_t round, const struct fpregs *want,
		    const struct fpregs *got)
{
	const unsigned vec_bytes = avx ? 32 : 16;

	for (unsigned i = 0; i < 16; i++)
		for (unsigned j = 0; j < vec_bytes / 8; j++) {
			uint64_t w = ((const uint64_t *)want->vec[i])[j];
			uint64_t g = ((const uint64_t *)got->vec[i])[j];

			if (w != g)
				test_fail("cpu%u round %lu: %smm%u qword %u is "
					  "0x%lx, not 0x%lx",
					  cpu, round, avx ? "y" : "x", i, j, g,
					  w);
		}
	for (unsigned k = 0; k < 8; k++)
		if (want->st[k] != got->st[k])
			test_fail("cpu%u round %lu: x87 st(%u) is %lu, not %lu",
				  cpu, round, 7 - k, got->st[k], want->st[k]);
	if (want->mxcsr != (got->mxcsr & ~0x3Fu))
		test_fail("cpu%u round %lu: MXCSR is 0x%x, not 0x%x", cpu,
			  round, got->mxcsr, want->mxcsr);
	if (want->fcw != (got->fcw & 0xF3F))
		test_fail("cpu%u round %lu: FCW is 0x%x, not 0x%x", cpu, round,
			  got->fcw, want->fcw);
}

/* XSAVE, wipe, XRSTOR: the registers must come back unchanged. */
static void save_wipe_restore(unsigned cpu, uint64_t round)
{
	uint8_t *area = xsave_areas[cpu];
	uint64_t bv, exinfo = 0, now = xgetbv0();

	if (now != xcr0)
		test_fail("cpu%u round %lu: XCR0 is 0x%lx, not 0x%lx", cpu,
			  round, now, xcr0);
	/* Linux clears the header before an XSAVE to a signal frame. */
	memset(area + XSAVE_HEADER, 0, 64);
	__asm__ volatile("xsave64 %0"
			 : "+m"(*(uint8_t(*)[XSAVE_AREA_SIZE])area)
			 : "a"(~0u), "d"(~0u));
	bv = *(uint64_t *)(area + XSAVE_HEADER);
	if (bv & ~xcr0)
		test_fail("cpu%u round %lu: XSAVE wrote XSTATE_BV 0x%lx "
			  "outside XCR0 0x%lx",
			  cpu, round, bv, xcr0);
	wipe();
	__asm__ volatile("1: xrstor64 %1\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "m"(*(uint8_t(*)[XSAVE_AREA_SIZE])area), "a"(~0u),
			   "d"(~0u)
			 : "memory");
	if (exinfo)
		test_fail("cpu%u round %lu: XRSTOR of its own XSAVE faulted "
			  "(vector %u, XSTATE_BV 0x%lx, XCR0 0x%lx)",
			  cpu, round, exinfo_vector((uint32_t)exinfo), bv,
			  xgetbv0());
}

static void rounds(unsigned cpu)
{
	struct cpu_result *res = &results[cpu];
	uint64_t end = rdtsc() + seconds * 1000 * tsc_khz;
	struct fpregs want, got;

	while (rdtsc() < end) {
		uint64_t tag = seed << 40 | (uint64_t)cpu << 32 | res->rounds;
		bool off;

		fill(&want, tag);
		load(&want);
		off = spin();
		nap(cpu);
		if (xcr0)
			save_wipe_restore(cpu, res->rounds);
		off |= spin();
		store(&got);
		compare(cpu, res->rounds, &want, &got);
		res->rounds++;
		res->preempted += off;
	}
	__atomic_store_n(&res->done, true, __ATOMIC_RELEASE);
}

static void ap_main(unsigned int cpu)
{
	apic_software_enable(SPURIOUS_VECTOR);
	enable_fpu();
	rounds(cpu);
}

static void choose_xcr0(void)
{
	uint64_t supported, wanted;
	struct cpuid_regs r;

	if (!(cpuid(1).ecx & CPUID1_ECX_XSAVE)) {
		printf("fpu: no XSAVE: x87 and SSE only\n");
		return;
	}
	r = cpuid_count(0xD, 0);
	supported = (uint64_t)r.edx << 32 | r.eax;
	wanted = supported & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
	cmdline_u64("xcr0", &wanted);
	if ((wanted & ~supported) || !(wanted & XCR0_X87) ||
	    !(wanted & XCR0_SSE))
		test_fail("xcr0=0x%lx: the CPU supports 0x%lx, and x87 and "
			  "SSE are needed",
			  wanted, supported);
	xcr0 = wanted;
	avx = xcr0 & XCR0_AVX;
}

void test_main(void)
{
	unsigned int online = 1;

	tsc_khz = platform_tsc_khz();
	if (!tsc_khz)
		test_fail("no TSC frequency");
	cmdline_u64("seconds", &seconds);
	cmdline_u64("seed", &seed);
	cmdline_u64("nap_us", &nap_us);
	lapic_khz = platform_lapic_khz();
	if (nap_us && !lapic_khz)
		test_fail("no LAPIC timer frequency for naps");
	legacy_pic_mask_all();
	irq_set_handler(NAP_VECTOR, nap_interrupt);
	irq_set_handler(SPURIOUS_VECTOR, spurious_interrupt);
	apic_software_enable(SPURIOUS_VECTOR);
	choose_xcr0();
	enable_fpu();
	if (xcr0 && cpuid_count(0xD, 0).ebx > XSAVE_AREA_SIZE)
		test_fail("XSAVE area of %u bytes", cpuid_count(0xD, 0).ebx);
	if (cpu_count() > 1)
		online = smp_start_aps(ap_main);
	rounds(0);
	for (unsigned int cpu = 1; cpu < online; cpu++)
		while (!__atomic_load_n(&results[cpu].done, __ATOMIC_ACQUIRE))
			cpu_relax();
	for (unsigned int cpu = 0; cpu < online; cpu++) {
		printf("fpu: cpu%u: xcr0 0x%lx, %lu rounds, %lu preempted\n",
		       cpu, xcr0, results[cpu].rounds, results[cpu].preempted);
		check(results[cpu].preempted > 0,
		      "cpu%u was preempted with its registers live", cpu);
	}
	check(online == cpu_count(), "%u of %u CPUs online", online,
	      cpu_count());
	test_finish();
}
