/* SPDX-License-Identifier: MIT */
/*
 * Sweeps of the surfaces every exit handler parses: MSR indices, CPUID
 * leaves, I/O ports and hypercall numbers. The architectural answer is a
 * value or #GP (MSRs, ports), a deterministic value (CPUID), a negative
 * errno (hypercalls from CPL0) or #UD (from CPL3); anything else, or no
 * answer, fails.
 */
#include "hostile.h"

#define KEEL_HC_BASE	0x4B450000ULL
#define KEEL_HC_VERSION KEEL_HC_BASE
#define MAX_ERRNO	4095
#define COM1_FIRST	0x3F8
#define COM1_LAST	0x3FF

/* Keel's own registers the runtime relies on are left alone: FS/GS bases
 * (per-CPU data), EFER, the x2APIC block (an ICR write-back would send an
 * IPI) and the kvmclock MSRs (a GPA). */
static bool msr_skipped(uint32_t msr)
{
	return (msr >= 0xC0000080 && msr <= 0xC0000084) ||
	       (msr >= 0xC0000100 && msr <= 0xC0000102) ||
	       (msr >= 0x800 && msr <= 0x8FF) || msr == 0x1B || msr == 0x10 ||
	       msr == 0x6E0 || (msr >= 0x174 && msr <= 0x176);
}

static void msr_range(uint32_t first, uint32_t last, uint64_t counts[3])
{
	for (uint32_t msr = first;; msr++) {
		uint64_t val;

		if (!msr_skipped(msr)) {
			if (exinfo_faulted(rdmsr_safe(msr, &val))) {
				counts[1]++;
				/* Write-only MSRs (PRED_CMD) may take it. */
				if (!exinfo_faulted(wrmsr_safe(msr, 0)))
					counts[2]++;
			} else {
				counts[0]++;
				wrmsr_safe(msr, val); /* its own value back */
			}
		}
		if (msr == last)
			break;
	}
}

void case_msr(void)
{
	static const uint32_t ranges[][2] = {
	    {0x0, 0x1FFF},
	    {0x40000000, 0x400000FF},
	    {0x4B564D00, 0x4B564DFF},
	    {0xC0000000, 0xC0001FFF},
	    {0xC0010000, 0xC0011FFF},
	};
	uint64_t counts[3] = {0};

	for (unsigned i = 0; i < ARRAY_SIZE(ranges); i++)
		msr_range(ranges[i][0], ranges[i][1], counts);
	/* One index every 2^20 through the rest of the 32-bit space. */
	for (uint64_t msr = 0x2000; msr <= 0xFFFFFFFF; msr += 0x100000)
		msr_range((uint32_t)msr, (uint32_t)msr, counts);
	printf("hostile: msr: %lu readable, %lu #GP on read, %lu of those "
	       "took a write of 0\n",
	       counts[0], counts[1], counts[2]);
	check(counts[0] > 0 && counts[1] > 0,
	      "the sweep completed with reads answered and refused");
}

void case_cpuid(void)
{
	static const uint32_t bases[] = {0x0, 0x40000000, 0x80000000,
					 0xC0000000, 0x8FFFFFFF};
	static const uint32_t sub_leaves[] = {0x4,  0x7,  0xB,	0xD,
					      0xF,  0x10, 0x12, 0x14,
					      0x17, 0x18, 0x1F, 0x8000001D};
	uint64_t leaves = 0, unstable = 0;

	for (unsigned b = 0; b < ARRAY_SIZE(bases); b++)
		for (uint32_t l = bases[b]; l < bases[b] + 0x200; l++) {
			struct cpuid_regs x = cpuid_count(l, 0);
			struct cpuid_regs y = cpuid_count(l, 0);

			leaves++;
			unstable += memcmp(&x, &y, sizeof(x)) != 0;
		}
	for (unsigned i = 0; i < ARRAY_SIZE(sub_leaves); i++)
		for (uint32_t s = 0; s < 0x100; s++) {
			struct cpuid_regs x = cpuid_count(sub_leaves[i], s);
			struct cpuid_regs y = cpuid_count(sub_leaves[i], s);

			leaves++;
			unstable += memcmp(&x, &y, sizeof(x)) != 0;
		}
	printf("hostile: cpuid: %lu leaves and subleaves\n", leaves);
	check(!unstable, "every leaf reads the same twice (%lu differ)",
	      unstable);
	check(!(cpuid(1).ecx & (1u << 5)) || !cpu_is_amd(),
	      "no VMX shown on AMD");
	check(!(cpuid(0x80000001).ecx & (1u << 2)), "no SVM shown");
}

static uint32_t inl_safe(uint16_t port, uint32_t *val)
{
	uint64_t exinfo = 0;
	uint32_t v = 0;

	__asm__ volatile("1: inl %w2, %0\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+a"(v), "+D"(exinfo)
			 : "Nd"(port));
	*val = v;
	return (uint32_t)exinfo;
}

static uint32_t inb_safe(uint16_t port)
{
	uint64_t exinfo = 0;
	uint8_t v = 0;

	__asm__ volatile("1: inb %w2, %0\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+a"(v), "+D"(exinfo)
			 : "Nd"(port));
	return (uint32_t)exinfo;
}

void case_ports(void)
{
	uint64_t answered = 0, gp = 0, other = 0;

	for (uint32_t port = 0; port <= 0xFFFF; port++) {
		uint32_t ex[3], val;

		if (port >= COM1_FIRST && port <= COM1_LAST)
			continue; /* its own console */
		ex[0] = inb_safe((uint16_t)port);
		ex[1] = outb_safe((uint16_t)port, 0xFF);
		ex[2] = (port & 3) ? 0 : inl_safe((uint16_t)port, &val);
		for (unsigned i = 0; i < 3; i++) {
			if (!exinfo_faulted(ex[i]))
				answered++;
			else if (exinfo_vector(ex[i]) == X86_EXC_GP)
				gp++;
			else
				other++;
		}
	}
	printf("hostile: ports: %lu accesses answered, %lu #GP\n", answered,
	       gp);
	check(!other, "every refused access is #GP (%lu others)", other);
}

static uint64_t hypercall(uint64_t nr, uint64_t junk)
{
	uint64_t ret;
	register uint64_t r10 __asm__("r10") = ~junk;
	register uint64_t r8 __asm__("r8") = junk << 7;

	if (cpu_is_amd())
		__asm__ volatile("vmmcall"
				 : "=a"(ret), "+r"(r10), "+r"(r8)
				 : "a"(nr), "D"(junk), "S"(junk * 3),
				   "d"(junk ^ 0x5555)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret), "+r"(r10), "+r"(r8)
				 : "a"(nr), "D"(junk), "S"(junk * 3),
				   "d"(junk ^ 0x5555)
				 : "memory");
	return ret;
}

static volatile uint32_t user_hc_exinfo;

static void user_hypercall(void)
{
	uint64_t exinfo = 0;

	if (cpu_is_amd())
		__asm__ volatile("1: vmmcall\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
				 : "+D"(exinfo)
				 : "a"(KEEL_HC_VERSION)
				 : "memory");
	else
		__asm__ volatile("1: vmcall\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
				 : "+D"(exinfo)
				 : "a"(KEEL_HC_VERSION)
				 : "memory");
	user_hc_exinfo = (uint32_t)exinfo;
	__asm__ volatile("int %0" ::"i"(USER_EXIT_VECTOR));
	__builtin_unreachable();
}

static bool is_errno(uint64_t r)
{
	return r >= (uint64_t)-MAX_ERRNO;
}

void case_hypercall(void)
{
	static const uint64_t junk[] = {0,
					1,
					0xFFF,
					0x1000,
					0x7FFFFFFFFFFF,
					0xFFFF800000000000,
					0xFEE00000,
					0x200000,
					~0ULL};
	uint64_t calls = 0, bad = 0, nr;

	for (unsigned j = 0; j < ARRAY_SIZE(junk); j++) {
		for (nr = 0; nr < 0x400; nr++, calls++)
			bad += !is_errno(hypercall(nr, junk[j]));
		for (nr = KEEL_HC_BASE + 1; nr < KEEL_HC_BASE + 0x100;
		     nr++, calls++)
			bad += !is_errno(hypercall(nr, junk[j]));
		for (unsigned s = 32; s < 64; s++, calls++)
			bad += !is_errno(
			    hypercall(KEEL_HC_BASE | (1ULL << s), junk[j]));
	}
	printf("hostile: hypercall: %lu calls at CPL0\n", calls);
	check(!bad, "every unknown or privileged number: an errno (%lu not)",
	      bad);
	check(!is_errno(hypercall(KEEL_HC_VERSION, ~0ULL)),
	      "the version hypercall still answers");
}

void case_hypercall_user(void)
{
	user_mode_init();
	run_user(user_hypercall);
	check(exinfo_faulted(user_hc_exinfo) &&
		  exinfo_vector(user_hc_exinfo) == X86_EXC_UD,
	      "hypercall at CPL3: #UD (exinfo %x)", user_hc_exinfo);
}
