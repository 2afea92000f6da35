/* SPDX-License-Identifier: MIT */
/*
 * The CPU a guest sees: a whitelist built once from the host's CPUID, in
 * the spirit of Xen's cpu-policy and KVM's supported CPUID. Every leaf and
 * bit a guest reads is one Keel knows and either emulates or passes on on
 * purpose; everything else reads as zero. Pure logic: the host's CPUID
 * comes through a callback, so host unit tests feed it real CPU dumps.
 */
#ifndef KEEL_CPU_POLICY_H
#define KEEL_CPU_POLICY_H

#include <keel/lib.h>

#define CPU_POLICY_MAX_BASIC	 0x16u /* up to the TSC/frequency leaves */
#define CPU_POLICY_MAX_EXT	 0x80000008u /* no SEV, TOPOEXT or later leaves */
#define CPU_POLICY_NR_EXT	 (CPU_POLICY_MAX_EXT - 0x80000000u + 1)
#define CPU_POLICY_CACHE_LEAVES	 8  /* leaf 4 subleaves kept */
#define CPU_POLICY_XSTATE_LEAVES 64 /* leaf 0xD subleaves */

/* XCR0 state components (Intel SDM vol. 1 §13.1). */
#define XSTATE_X87	 (1ULL << 0)
#define XSTATE_SSE	 (1ULL << 1)
#define XSTATE_YMM	 (1ULL << 2)
#define XSTATE_BNDREGS	 (1ULL << 3)
#define XSTATE_BNDCSR	 (1ULL << 4)
#define XSTATE_OPMASK	 (1ULL << 5)
#define XSTATE_ZMM_HI256 (1ULL << 6)
#define XSTATE_HI16_ZMM	 (1ULL << 7)
#define XSTATE_PKRU	 (1ULL << 9)
#define XSTATE_AVX512	 (XSTATE_OPMASK | XSTATE_ZMM_HI256 | XSTATE_HI16_ZMM)
/* What Keel's XSAVE switching (fpu.c) may give guests: no MPX (gone from
 * Linux), no AMX (needs XFD), no supervisor states (no XSS). */
#define XSTATE_GUEST_ALLOWED                                                   \
	(XSTATE_X87 | XSTATE_SSE | XSTATE_YMM | XSTATE_AVX512 | XSTATE_PKRU)

/* Backend limits: instructions the vCPU backend cannot let guests run. */
#define CPU_POLICY_NO_RDTSCP  (1u << 0) /* RDTSCP and RDPID would #UD */
#define CPU_POLICY_NO_INVPCID (1u << 1) /* INVPCID would #UD */

enum cpu_policy_vendor { CPU_POLICY_OTHER, CPU_POLICY_AMD, CPU_POLICY_INTEL };

typedef void (*cpuid_raw_fn)(uint32_t leaf, uint32_t sub, uint32_t r[4],
			     void *ctx);

struct cpu_policy {
	enum cpu_policy_vendor vendor;
	uint32_t max_basic, max_ext;
	uint32_t basic[CPU_POLICY_MAX_BASIC + 1][4];  /* subleaf 0 */
	uint32_t cache[CPU_POLICY_CACHE_LEAVES][4];   /* leaf 4 (Intel) */
	uint32_t xstate[CPU_POLICY_XSTATE_LEAVES][4]; /* leaf 0xD */
	uint32_t ext[CPU_POLICY_NR_EXT][4];
	uint64_t xcr0_mask; /* the XCR0 bits a guest may set */
	/* Speculation controls shown, with their MSRs (msr.c). */
	bool spec_ctrl, ibpb, flush_l1d, arch_caps;
	uint64_t spec_ctrl_mask; /* IA32_SPEC_CTRL bits a guest may set */
	bool tsc_aux;		 /* RDTSCP or RDPID shown: TSC_AUX exists */
};

/* What of a vCPU the answer depends on. */
struct cpuid_vcpu_view {
	uint32_t apic_id, nr_vcpus;
	uint64_t cr4, xcr0;
};

void cpu_policy_build(struct cpu_policy *p, cpuid_raw_fn raw, void *ctx,
		      unsigned backend_limits);
/* The answer to CPUID(leaf, sub) outside the hypervisor range. */
void cpu_policy_cpuid(const struct cpu_policy *p,
		      const struct cpuid_vcpu_view *v, uint32_t leaf,
		      uint32_t sub, uint32_t r[4]);
/* XSETBV's rules (SDM vol. 1 §13.3) on top of the policy's mask. */
bool cpu_policy_xcr0_valid(const struct cpu_policy *p, uint64_t xcr0);
/* Standard-format XSAVE area size for the components in xcr0. */
uint32_t cpu_policy_xsave_size(const struct cpu_policy *p, uint64_t xcr0);

/* The policy in force, built at boot (cpuid.c). */
extern struct cpu_policy guest_cpu_policy;
void guest_cpu_policy_init(unsigned backend_limits);

#endif
