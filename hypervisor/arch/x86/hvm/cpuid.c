/* SPDX-License-Identifier: MIT */
/*
 * The CPUID a guest sees: the host's, with virtualization extensions,
 * 5-level paging and MONITOR/MWAIT hidden, the hypervisor bit set, x2APIC,
 * TSC-deadline and ARAT advertised (Keel emulates those), and the
 * hypervisor leaves of DESIGN.md §3: Keel's own at 0x40000000 and the KVM
 * paravirtual subset (kvmclock) at 0x40000100, which Linux's
 * kvm_cpuid_base() finds by scanning every 0x100.
 */
#include <keel/domain.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/x86.h>

#define KEEL_LEAF_BASE 0x40000000
#define KEEL_LEAF_TIMING 0x40000010
#define KVM_LEAF_BASE 0x40000100
#define KVM_LEAF_FEATURES 0x40000101
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE (1u << 24)

/* CPUID.1 */
#define ECX_MONITOR (1u << 3)
#define ECX_VMX (1u << 5)
#define ECX_SMX (1u << 6)
#define ECX_X2APIC (1u << 21)
#define ECX_TSC_DEADLINE (1u << 24)
#define ECX_OSXSAVE (1u << 27)
#define ECX_HYPERVISOR (1u << 31)
/* CPUID.7.0 */
#define ECX7_OSPKE (1u << 4)
#define ECX7_LA57 (1u << 16)
#define EBX7_INVPCID (1u << 10)
/* CPUID.6 */
#define EAX6_ARAT (1u << 2)
/* CPUID.80000001 */
#define ECX81_SVM (1u << 2)
#define ECX81_MWAITX (1u << 29)

#define X86_CR4_PKE (1UL << 22)

static void signature(uint32_t r[4], uint32_t max, const char sig[12])
{
	r[0] = max;
	memcpy(&r[1], sig, 4);
	memcpy(&r[2], sig + 4, 4);
	memcpy(&r[3], sig + 8, 4);
}

void hvm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct guest_state s;

	if ((leaf & 0xF0000000) == 0x40000000) {
		r[0] = r[1] = r[2] = r[3] = 0;
		switch (leaf) {
		case KEEL_LEAF_BASE:
			signature(r, KEEL_LEAF_TIMING, "KeelKeelKeel");
			break;
		case KEEL_LEAF_TIMING:
			r[0] = (uint32_t)tsc_khz();
			r[1] = (uint32_t)v->vlapic.bus_khz;
			break;
		case KVM_LEAF_BASE:
			signature(r, KVM_LEAF_FEATURES, "KVMKVMKVM\0\0\0");
			break;
		case KVM_LEAF_FEATURES:
			r[0] = KVM_FEATURE_CLOCKSOURCE2 |
			       KVM_FEATURE_CLOCKSOURCE_STABLE;
			break;
		}
		return;
	}
	cpuid_count(leaf, sub, r);
	hvm->get_state(v, &s);
	switch (leaf) {
	case 1:
		r[2] &= ~(ECX_MONITOR | ECX_VMX | ECX_SMX | ECX_OSXSAVE);
		r[2] |= ECX_HYPERVISOR | ECX_X2APIC | ECX_TSC_DEADLINE;
		if (s.cr4 & X86_CR4_OSXSAVE)
			r[2] |= ECX_OSXSAVE;
		/* Initial APIC ID and logical processor count. */
		r[1] = (r[1] & 0x0000FFFF) | (v->id << 24) |
		       (MIN(v->dom->nr_vcpus, 255u) << 16);
		break;
	case 5: /* MONITOR/MWAIT leaf: hidden */
		r[0] = r[1] = r[2] = r[3] = 0;
		break;
	case 6:
		r[0] |= EAX6_ARAT;
		break;
	case 7:
		if (sub == 0) {
			r[2] &= ~(ECX7_LA57 | ECX7_OSPKE);
			if (s.cr4 & X86_CR4_PKE)
				r[2] |= ECX7_OSPKE;
		}
		break;
	case 0xB:
	case 0x1F:
		r[3] = v->id; /* x2APIC ID of this vCPU */
		break;
	case 0x80000001:
		r[2] &= ~(ECX81_SVM | ECX81_MWAITX);
		break;
	case 0x8000000A: /* SVM features: none for guests */
		r[0] = r[1] = r[2] = r[3] = 0;
		break;
	}
}
