/* SPDX-License-Identifier: MIT */
/*
 * The CPUID a guest sees: the whitelist policy of cpu_policy.c, built once
 * at boot from the host's CPUID and the backend's limits, answered per
 * vCPU (APIC ID, topology, OSXSAVE/OSPKE, XSAVE sizes), and the hypervisor
 * leaves of the README's "Interrupts and time" design: Keel's own at
 * 0x40000000 and the KVM paravirtual subset (kvmclock) at 0x40000100,
 * which Linux's kvm_cpuid_base() finds by scanning every 0x100.
 */
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/fpu.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/x86.h>

#define KEEL_LEAF_BASE		       0x40000000
#define KEEL_LEAF_TIMING	       0x40000010
#define KVM_LEAF_BASE		       0x40000100
#define KVM_LEAF_FEATURES	       0x40000101
#define KVM_FEATURE_CLOCKSOURCE2       (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE (1u << 24)

struct cpu_policy guest_cpu_policy;

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *ctx)
{
	(void)ctx;
	cpuid_count(leaf, sub, r);
}

void guest_cpu_policy_init(unsigned backend_limits)
{
	const struct cpu_policy *p = &guest_cpu_policy;

	cpu_policy_build(&guest_cpu_policy, host_cpuid, NULL, backend_limits);
	printk("guest CPUID: max leaves %x/%x, xcr0 mask %lx,%s%s%s%s%s\n",
	       p->max_basic, p->max_ext, p->xcr0_mask,
	       p->spec_ctrl ? " spec-ctrl" : "", p->ibpb ? " ibpb" : "",
	       p->flush_l1d ? " l1d-flush" : "",
	       p->arch_caps ? " arch-capabilities" : "",
	       p->tsc_aux ? " tsc-aux" : "");
}

static void signature(uint32_t r[4], uint32_t max, const char sig[12])
{
	r[0] = max;
	memcpy(&r[1], sig, 4);
	memcpy(&r[2], sig + 4, 4);
	memcpy(&r[3], sig + 8, 4);
}

static void hypervisor_leaf(struct vcpu *v, uint32_t leaf, uint32_t r[4])
{
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
		r[0] =
		    KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE;
		break;
	}
}

void hvm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct cpuid_vcpu_view view = {.apic_id = v->id,
				       .nr_vcpus = v->dom->nr_vcpus};
	struct guest_state s;

	if ((leaf & 0xF0000000) == 0x40000000) {
		hypervisor_leaf(v, leaf, r);
		return;
	}
	/* Only the leaves that depend on them read CR4 and XCR0. */
	if (leaf == 1 || leaf == 7) {
		hvm->get_state(v, &s);
		view.cr4 = s.cr4;
	}
	if (leaf == 0xD)
		view.xcr0 = fpu_guest_xcr0(v);
	cpu_policy_cpuid(&guest_cpu_policy, &view, leaf, sub, r);
}
