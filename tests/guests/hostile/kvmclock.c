/* SPDX-License-Identifier: MIT */
/*
 * kvmclock's guest-physical addresses (Linux Documentation/virt/kvm/x86/
 * msr.rst): the system-time page across a page end and at the address
 * where Keel itself lives on the host must work as in any RAM; the wall
 * clock at MMIO or beyond RAM is refused with #GP; after the guest moves
 * its TSC, the time the page gives must go on from where it was (Keel
 * rewrites the page, as KVM does on a TSC write); a system-time page at
 * MMIO, beyond RAM or across the end of RAM, which Keel writes again at
 * every update, stops the domain.
 */
#include "hostile.h"
#include "pvclock.h"

#define LAPIC_GPA  0xFEE00000ULL
#define KEEL_HPA   0x200000ULL /* where Keel is loaded on the host */
#define BEYOND_RAM 0x40000000ULL
#define MSR_TSC	   0x10

static uint8_t pages[2 * 4096] __attribute__((aligned(4096)));

static void system_time_works(uint64_t gpa, const char *where)
{
	const volatile struct pvclock_vcpu_time_info *ti = (void *)gpa;
	struct pvclock_snapshot a, b;
	uint32_t ex =
	    wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, gpa | KVM_SYSTEM_TIME_ENABLE);

	if (!check(!exinfo_faulted(ex), "system time %s: accepted (%x)", where,
		   ex))
		return;
	check(!pvclock_snapshot(ti, &a) && a.tsc_to_system_mul,
	      "system time %s: Keel filled it in", where);
	delay_us(10000);
	/* A write of the MSR is an update, as at every vCPU entry. */
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, gpa | KVM_SYSTEM_TIME_ENABLE);
	check(!pvclock_snapshot(ti, &b) && b.system_time > a.system_time,
	      "system time %s: advances (%lu -> %lu ns)", where, a.system_time,
	      b.system_time);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
}

void case_kvmclock_pagecross(void)
{
	memset(pages, 0, sizeof(pages));
	system_time_works((uint64_t)pages + 4096 - 16, "across a page end");
}

void case_kvmclock_lowmem(void)
{
	uint64_t gpa = KEEL_HPA;
	volatile uint8_t *p;
	bool intact = true;

	cmdline_u64("keel", &gpa);
	if (!check(gpa + 4096 <= ram_end(), "%lx is the domain's RAM", gpa))
		return;
	p = (volatile uint8_t *)gpa;
	for (unsigned i = 0; i < 4096; i++)
		p[i] = 0xA5;
	system_time_works(gpa, "at Keel's host address");
	for (unsigned i = sizeof(struct pvclock_vcpu_time_info); i < 4096; i++)
		intact &= p[i] == 0xA5;
	check(intact, "only the 32 bytes of the page changed");
}

void case_kvmclock_tscwrite(void)
{
	const volatile struct pvclock_vcpu_time_info *ti = (void *)pages;
	struct pvclock_snapshot a, b;
	uint64_t before, after;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW,
	      (uint64_t)pages | KVM_SYSTEM_TIME_ENABLE);
	if (!check(!pvclock_snapshot(ti, &a), "system time: a stable page"))
		return;
	before = pvclock_ns_at(&a, rdtsc());
	wrmsr(MSR_TSC, 0);
	pvclock_snapshot(ti, &b);
	after = pvclock_ns_at(&b, rdtsc());
	check(after >= before && after - before < 1000000000ULL,
	      "system time %lu ns before TSC := 0, %lu ns after", before,
	      after);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
}

static void wallclock_refused(uint64_t gpa, const char *where)
{
	uint32_t ex = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, gpa);

	check(exinfo_faulted(ex) && exinfo_vector(ex) == X86_EXC_GP,
	      "wall clock %s (%lx): #GP (%x)", where, gpa, ex);
}

void case_wallclock(void)
{
	volatile struct pvclock_wall_clock *wc = (void *)(pages + 4096 - 4);
	uint32_t ex;

	memset(pages, 0, sizeof(pages));
	ex = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)wc);
	check(!exinfo_faulted(ex) && wc->sec > 1600000000 && !(wc->version & 1),
	      "wall clock across a page end: %u s since 1970 (%x)", wc->sec,
	      ex);
	wallclock_refused(LAPIC_GPA, "at the LAPIC's MMIO");
	wallclock_refused(BEYOND_RAM, "beyond RAM");
	wallclock_refused(ram_end() - 4, "across the end of RAM");
	check(apic_read(APIC_VERSION) != 0 && apic_read(APIC_VERSION) != ~0u,
	      "the LAPIC still answers");
}

static __noreturn void system_time_stops(uint64_t gpa, const char *where)
{
	printf("hostile: kvmclock: system time %s (%lx)\n", where, gpa);
	wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, gpa | KVM_SYSTEM_TIME_ENABLE);
	delay_us(100000);
	expect_stopped(where);
}

void case_kvmclock_mmio(void)
{
	system_time_stops(LAPIC_GPA, "at the LAPIC's MMIO");
}

void case_kvmclock_beyond(void)
{
	system_time_stops(BEYOND_RAM, "beyond RAM");
}

void case_kvmclock_ramend(void)
{
	system_time_stops(ram_end() - 16, "across the end of RAM");
}
