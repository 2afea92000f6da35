/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-x probing (Intel SDM vol. 3C §24.6, appendix A). Keel needs VMX
 * with EPT and unrestricted guest; this reports exactly what is missing.
 */
#include <keel/hvm.h>
#include <keel/cpu.h>
#include <keel/io.h>

#define MSR_IA32_FEATURE_CONTROL 0x3A
#define FEATURE_CONTROL_LOCKED (1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define PROCBASED_SECONDARY (1u << 31)
#define SECONDARY_EPT (1u << 1)
#define SECONDARY_UNRESTRICTED (1u << 7)

const struct hvm_ops *vmx_probe(void)
{
	uint64_t fc, procbased, secondary = 0;

	if (!boot_cpu.vmx) {
		printk("Intel CPU without VMX (CPUID.1:ECX.VMX[bit 5] = 0): "
		       "enable VT-x in the firmware, or on a KVM host use "
		       "'--cpu host-passthrough' with kvm_intel nested=1\n");
		return NULL;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCKED) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		printk("VMX is disabled by the firmware (IA32_FEATURE_CONTROL "
		       "locked without VMX outside SMX)\n");
		return NULL;
	}
	procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	if ((procbased >> 32) & PROCBASED_SECONDARY)
		secondary = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
	if (!(secondary & SECONDARY_EPT))
		printk("VMX lacks EPT (extended page tables): Keel needs it\n");
	if (!(secondary & SECONDARY_UNRESTRICTED))
		printk("VMX lacks unrestricted guest: Keel needs it to start "
		       "guest CPUs in real mode\n");
	printk("VMX with%s EPT, with%s unrestricted guest: the VMX backend is "
	       "not part of this build yet; Keel currently runs on AMD SVM\n",
	       secondary & SECONDARY_EPT ? "" : "out",
	       secondary & SECONDARY_UNRESTRICTED ? "" : "out");
	return NULL;
}
