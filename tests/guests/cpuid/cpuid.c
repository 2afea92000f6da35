/* SPDX-License-Identifier: MIT */
/*
 * cpuid: the CPUID and MSR view Keel gives its guests (hvm/cpuid.c, msr.c):
 * hypervisor present, x2APIC/TSC-deadline/ARAT shown, VMX/SVM/MONITOR/LA57
 * hidden, Keel's leaves at 0x40000000 and the KVM-compatible pair at
 * 0x40000100, #GP on an MSR nothing implements, and the BSP flag in
 * IA32_APIC_BASE.
 */
#include "apic.h"
#include "guest.h"

const char test_name[] = "cpuid";

#define KEEL_CPUID_BASE	    0x40000000
#define KEEL_CPUID_MAX_LEAF 0x40000010
#define KEEL_CPUID_TIMING   0x40000010
#define KVM_CPUID_SIGNATURE 0x40000100
#define KVM_CPUID_FEATURES  0x40000101

/* KVM_CPUID_FEATURES bits (Linux Documentation/virt/kvm/x86/cpuid.rst). */
#define KVM_FEATURE_CLOCKSOURCE2	   (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)

/* An MSR no x86 CPU or hypervisor implements (AMD's 0xC001xxxx range has
 * nothing there). */
#define MSR_UNIMPLEMENTED 0xc0010999

static bool has_bit(uint32_t reg, unsigned int bit)
{
	return (reg >> bit) & 1;
}

/* Compares the 12-byte signature in EBX:ECX:EDX. */
static bool signature_is(const struct cpuid_regs *r, const char sig[12])
{
	char got[13];

	memcpy(got + 0, &r->ebx, 4);
	memcpy(got + 4, &r->ecx, 4);
	memcpy(got + 8, &r->edx, 4);
	got[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (got[i] < 0x20 || got[i] > 0x7e)
			got[i] = '.';
	printf("cpuid: signature at this leaf: \"%s\"\n", got);
	return memcmp(&r->ebx, sig + 0, 4) == 0 &&
	       memcmp(&r->ecx, sig + 4, 4) == 0 &&
	       memcmp(&r->edx, sig + 8, 4) == 0;
}

static void check_standard_leaves(void)
{
	struct cpuid_regs leaf1 = cpuid(1);

	printf("cpuid: leaf 1 ecx=0x%08x edx=0x%08x\n", leaf1.ecx, leaf1.edx);
	check(has_bit(leaf1.ecx, 31), "CPUID.1:ECX[31] hypervisor is set");
	check(has_bit(leaf1.ecx, 21), "CPUID.1:ECX[21] x2APIC is set");
	check(has_bit(leaf1.ecx, 24), "CPUID.1:ECX[24] TSC-deadline is set");
	check(!has_bit(leaf1.ecx, 5), "CPUID.1:ECX[5] VMX is clear");
	check(!has_bit(leaf1.ecx, 3), "CPUID.1:ECX[3] MONITOR is clear");

	uint32_t max_std = cpuid(0).eax;
	check(max_std >= 7, "CPUID.0:EAX max basic leaf 0x%x >= 7", max_std);
	if (max_std >= 6) {
		struct cpuid_regs leaf6 = cpuid(6);
		check(has_bit(leaf6.eax, 2),
		      "CPUID.6:EAX[2] ARAT is set "
		      "(eax=0x%08x)",
		      leaf6.eax);
	}
	if (max_std >= 7) {
		struct cpuid_regs leaf7 = cpuid_count(7, 0);
		check(!has_bit(leaf7.ecx, 16),
		      "CPUID.7.0:ECX[16] LA57 is clear (ecx=0x%08x)",
		      leaf7.ecx);
	}

	uint32_t max_ext = cpuid(0x80000000).eax;
	if (check(max_ext >= 0x80000001,
		  "CPUID.80000000h:EAX max extended leaf 0x%x", max_ext)) {
		struct cpuid_regs ext1 = cpuid(0x80000001);
		check(!has_bit(ext1.ecx, 2),
		      "CPUID.80000001h:ECX[2] SVM is clear (ecx=0x%08x)",
		      ext1.ecx);
	}
}

static void check_hypervisor_leaves(void)
{
	struct cpuid_regs base = cpuid(KEEL_CPUID_BASE);

	printf("cpuid: leaf 0x40000000 eax=0x%08x\n", base.eax);
	check(signature_is(&base, "KeelKeelKeel"),
	      "CPUID.40000000h signature is KeelKeelKeel");
	check(base.eax == KEEL_CPUID_MAX_LEAF,
	      "CPUID.40000000h:EAX = 0x%08x, expected 0x%08x", base.eax,
	      KEEL_CPUID_MAX_LEAF);

	struct cpuid_regs timing = cpuid(KEEL_CPUID_TIMING);
	printf("cpuid: leaf 0x40000010 tsc %u kHz, lapic timer %u kHz\n",
	       timing.eax, timing.ebx);
	check(timing.eax != 0, "CPUID.40000010h:EAX TSC frequency is nonzero");
	check(timing.ebx != 0,
	      "CPUID.40000010h:EBX LAPIC timer frequency is nonzero");

	struct cpuid_regs kvm = cpuid(KVM_CPUID_SIGNATURE);
	printf("cpuid: leaf 0x40000100 eax=0x%08x\n", kvm.eax);
	check(signature_is(&kvm, "KVMKVMKVM\0\0\0"),
	      "CPUID.40000100h signature is KVMKVMKVM\\0\\0\\0");
	check(kvm.eax >= KVM_CPUID_FEATURES,
	      "CPUID.40000100h:EAX = 0x%08x >= 0x%08x", kvm.eax,
	      KVM_CPUID_FEATURES);

	uint32_t features = cpuid(KVM_CPUID_FEATURES).eax;
	uint32_t expected =
	    KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	check(features == expected,
	      "CPUID.40000101h:EAX = 0x%08x, expected exactly 0x%08x "
	      "(CLOCKSOURCE2, CLOCKSOURCE_STABLE)",
	      features, expected);
}

static void check_msrs(void)
{
	uint64_t value;
	uint32_t exinfo = rdmsr_safe(MSR_UNIMPLEMENTED, &value);

	if (exinfo_faulted(exinfo))
		check(exinfo_vector(exinfo) == X86_EXC_GP &&
			  exinfo_error_code(exinfo) == 0,
		      "RDMSR 0x%x raised vector %u error code 0x%x, "
		      "expected #GP(0)",
		      MSR_UNIMPLEMENTED, exinfo_vector(exinfo),
		      exinfo_error_code(exinfo));
	else
		check(false, "RDMSR 0x%x returned 0x%lx instead of #GP",
		      MSR_UNIMPLEMENTED, value);

	exinfo = rdmsr_safe(MSR_IA32_APIC_BASE, &value);
	if (!check(!exinfo_faulted(exinfo), "RDMSR IA32_APIC_BASE succeeds"))
		return;
	printf("cpuid: IA32_APIC_BASE = 0x%lx\n", value);
	check(value & APIC_BASE_BSP, "IA32_APIC_BASE[8] BSP is set on vCPU 0");
}

void test_main(void)
{
	check_standard_leaves();
	check_hypervisor_leaves();
	check_msrs();
	test_finish();
}
