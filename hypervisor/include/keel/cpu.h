/* SPDX-License-Identifier: MIT */
/* What the physical CPU offers, probed once at boot. */
#ifndef KEEL_CPU_H
#define KEEL_CPU_H

#include <keel/lib.h>

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_AMD, CPU_VENDOR_INTEL };

struct cpu_info {
	enum cpu_vendor vendor;
	char vendor_str[13];
	char brand[49];
	uint32_t family, model, stepping;
	uint32_t max_leaf, max_ext_leaf;
	uint32_t phys_addr_bits;
	bool nx, pdpe1gb, x2apic, tsc_deadline, invariant_tsc, xsave;
	bool svm, vmx;
	/* CPUID 0x8000000A EDX (AMD APM vol. 3, CPUID Fn8000_000A). */
	uint32_t svm_features, svm_nasid;
};

extern struct cpu_info boot_cpu;

void cpu_probe(void);
void cpu_print(void);

#endif
