/* SPDX-License-Identifier: MIT */
/* Vendor selection: the only place that asks which CPU vendor this is. */
#include <keel/hvm.h>
#include <keel/cpu.h>
#include <keel/cpu_policy.h>
#include <keel/errno.h>

const struct hvm_ops *hvm;

const char *const exit_reason_names[EXIT_NR] = {
    [EXIT_NONE] = "none",
    [EXIT_EXTINT] = "extint",
    [EXIT_NMI] = "nmi",
    [EXIT_INTR_WINDOW] = "intr-window",
    [EXIT_CPUID] = "cpuid",
    [EXIT_MSR_READ] = "rdmsr",
    [EXIT_MSR_WRITE] = "wrmsr",
    [EXIT_IO] = "io",
    [EXIT_NPF] = "npf",
    [EXIT_HLT] = "hlt",
    [EXIT_HYPERCALL] = "hypercall",
    [EXIT_SHUTDOWN] = "shutdown",
    [EXIT_EXCEPTION] = "exception",
    [EXIT_INIT] = "init",
    [EXIT_DEADLINE] = "deadline",
    [EXIT_XSETBV] = "xsetbv",
    [EXIT_PAUSE] = "pause",
    [EXIT_VIRT_INSN] = "virt-insn",
    [EXIT_ICEBP] = "icebp",
    [EXIT_INVALID] = "invalid",
    [EXIT_UNKNOWN] = "unknown",
};

const struct hvm_ops *svm_probe(void);
const struct hvm_ops *vmx_probe(void);

int hvm_init(void)
{
	switch (boot_cpu.vendor) {
	case CPU_VENDOR_AMD:
		hvm = svm_probe();
		break;
	case CPU_VENDOR_INTEL:
		hvm = vmx_probe();
		break;
	default:
		printk("CPU vendor '%s' has neither AMD-V nor Intel VT-x\n",
		       boot_cpu.vendor_str);
	}
	if (!hvm)
		return -ENODEV;
	printk("virtualization: %s\n", hvm->name);
	guest_cpu_policy_init(hvm->guest_limits());
	return hvm->cpu_enable();
}
