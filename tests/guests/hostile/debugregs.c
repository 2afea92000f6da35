/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU registers must not leak between domains: drwrite fills DR0-DR3
 * and DR6 with its own values for ever; drread, on the same CPU, must
 * only ever read the reset values and then the values it wrote itself.
 * auxwrite and auxread do the same with TSC_AUX, which RDTSCP returns.
 */
#include "hostile.h"

#define DR6_RESET 0xFFFF0FF0ULL

static void read_drs(uint64_t d[5])
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(d[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(d[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(d[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(d[3]));
	__asm__ volatile("mov %%dr6, %0" : "=r"(d[4]));
}

static void write_drs(const uint64_t d[5])
{
	__asm__ volatile("mov %0, %%dr0" ::"r"(d[0]));
	__asm__ volatile("mov %0, %%dr1" ::"r"(d[1]));
	__asm__ volatile("mov %0, %%dr2" ::"r"(d[2]));
	__asm__ volatile("mov %0, %%dr3" ::"r"(d[3]));
	__asm__ volatile("mov %0, %%dr6" ::"r"(d[4]));
}

void case_drwrite(void)
{
	const uint64_t mine[5] = {0xdead0000, 0xdead1000, 0xdead2000,
				  0xdead3000, DR6_RESET | 0x400F};

	printf("hostile: drwrite: writing DR0-DR3 and DR6 for ever\n");
	for (;;)
		write_drs(mine);
}

static bool same(const uint64_t a[5], const uint64_t b[5])
{
	return !memcmp(a, b, 5 * sizeof(uint64_t));
}

void case_drread(void)
{
	const uint64_t reset[5] = {0, 0, 0, 0, DR6_RESET};
	const uint64_t mine[5] = {0x1000, 0x2000, 0x3000, 0x4000,
				  DR6_RESET | 0x4001};
	uint64_t d[5], end, reads = 0, bad = 0;

	/* Let the writer run first: its values are in the CPU by now. */
	delay_us(500000);
	read_drs(d);
	check(same(d, reset),
	      "before any write: DR0-3 %lx %lx %lx %lx, DR6 %lx (reset "
	      "values expected)",
	      d[0], d[1], d[2], d[3], d[4]);
	write_drs(mine);
	end = rdtsc() + us_to_tsc(attack_seconds() * 1000000);
	while (rdtsc() < end) {
		read_drs(d);
		reads++;
		if (!same(d, mine) && bad++ == 0)
			printf("hostile: drread: read DR0-3 %lx %lx %lx %lx, "
			       "DR6 %lx\n",
			       d[0], d[1], d[2], d[3], d[4]);
	}
	check(!bad, "%lu of %lu reads saw only its own DR0-3 and DR6",
	      reads - bad, reads);
}

#define MSR_TSC_AUX 0xC0000103

static uint32_t rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

void case_auxwrite(void)
{
	printf("hostile: auxwrite: writing TSC_AUX for ever\n");
	for (uint32_t i = 0;; i++)
		wrmsr(MSR_TSC_AUX, 0xBAD00000 | (i & 0xFFFF));
}

void case_auxread(void)
{
	uint64_t end, reads = 0, bad = 0;
	uint32_t aux;

	if (!check(cpuid(0x80000001).edx & (1u << 27), "CPUID shows RDTSCP"))
		return;
	delay_us(500000);
	aux = rdtscp_aux();
	check(aux == 0, "before any write: TSC_AUX %x (0 expected)", aux);
	wrmsr(MSR_TSC_AUX, 0x1234);
	end = rdtsc() + us_to_tsc(attack_seconds() * 1000000);
	while (rdtsc() < end) {
		aux = rdtscp_aux();
		reads++;
		if (aux != 0x1234 && bad++ == 0)
			printf("hostile: auxread: RDTSCP gave TSC_AUX %x\n",
			       aux);
	}
	check(!bad && rdmsr(MSR_TSC_AUX) == 0x1234,
	      "%lu of %lu RDTSCPs saw only its own TSC_AUX", reads - bad,
	      reads);
}
