/* SPDX-License-Identifier: MIT */
/*
 * What the CPU's VMX offers (Intel SDM vol. 3D appendix A): the controls
 * Keel needs or avoids, EPT and VPID capabilities, the CR fixed bits.
 * Every missing feature is named before Keel refuses the CPU.
 */
#include <keel/cpu.h>
#include <keel/cpu_policy.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/traps.h>
#include <keel/x86.h>
#include "backend.h"

struct vmx_capabilities vmx_caps;

/* Without these controls the instructions #UD in a guest (§25.6.2). */
unsigned vmx_guest_limits(void)
{
	return (vmx_caps.proc2 & PROC2_ENABLE_RDTSCP ? 0
						     : CPU_POLICY_NO_RDTSCP) |
	       (vmx_caps.proc2 & PROC2_ENABLE_INVPCID ? 0
						      : CPU_POLICY_NO_INVPCID);
}

struct vmx_control {
	uint32_t bit;
	const char *name;
};

static const struct vmx_control pin_needed[] = {
    {PIN_EXT_INTR_EXITING, "external-interrupt exiting"},
    {PIN_NMI_EXITING, "NMI exiting"},
};

static const struct vmx_control proc_needed[] = {
    {PROC_INTR_WINDOW_EXITING, "interrupt-window exiting"},
    {PROC_USE_TSC_OFFSETTING, "TSC offsetting"},
    {PROC_HLT_EXITING, "HLT exiting"},
    {PROC_MWAIT_EXITING, "MWAIT exiting"},
    {PROC_USE_TPR_SHADOW, "TPR shadow"},
    {PROC_USE_IO_BITMAPS, "I/O bitmaps"},
    {PROC_USE_MSR_BITMAPS, "MSR bitmaps"},
    {PROC_MONITOR_EXITING, "MONITOR exiting"},
    {PROC_SECONDARY_CONTROLS, "secondary controls"},
};

static const struct vmx_control proc_unwanted[] = {
    {PROC_INVLPG_EXITING, "INVLPG exiting"},
    {PROC_RDTSC_EXITING, "RDTSC exiting"},
    {PROC_CR3_LOAD_EXITING, "CR3-load exiting"},
    {PROC_CR3_STORE_EXITING, "CR3-store exiting"},
    {PROC_CR8_LOAD_EXITING, "CR8-load exiting"},
    {PROC_CR8_STORE_EXITING, "CR8-store exiting"},
    {PROC_MOV_DR_EXITING, "MOV-DR exiting"},
    {PROC_UNCOND_IO_EXITING, "unconditional I/O exiting"},
};

static const struct vmx_control proc2_needed[] = {
    {PROC2_ENABLE_EPT, "EPT (extended page tables)"},
    {PROC2_UNRESTRICTED_GUEST,
     "unrestricted guest (guest CPUs start in real mode)"},
};

static const struct vmx_control exit_needed[] = {
    {EXIT_SAVE_DEBUG_CONTROLS, "save debug controls on exit"},
    {EXIT_HOST_ADDR_SPACE_SIZE, "64-bit host"},
    {EXIT_SAVE_IA32_PAT, "save PAT on exit"},
    {EXIT_LOAD_IA32_PAT, "load PAT on exit"},
    {EXIT_SAVE_IA32_EFER, "save EFER on exit"},
    {EXIT_LOAD_IA32_EFER, "load EFER on exit"},
};

static const struct vmx_control exit_unwanted[] = {
    {EXIT_ACK_INTR_ON_EXIT, "acknowledge interrupt on exit"},
};

static const struct vmx_control entry_needed[] = {
    {ENTRY_LOAD_DEBUG_CONTROLS, "load debug controls on entry"},
    {ENTRY_LOAD_IA32_PAT, "load PAT on entry"},
    {ENTRY_LOAD_IA32_EFER, "load EFER on entry"},
};

static const struct vmx_control entry_unwanted[] = {
    {ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest chosen per vCPU"},
};

/*
 * A control MSR gives the bits that must be 1 in its low half and the
 * bits that may be 1 in its high half (appendix A.3).
 */
static bool pick_controls(uint32_t msr, const struct vmx_control *needed,
			  unsigned nr_needed,
			  const struct vmx_control *unwanted,
			  unsigned nr_unwanted, uint32_t optional,
			  uint32_t *ctl)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = cap >> 32;
	bool ok = true;

	*ctl = must | (optional & may);
	for (unsigned i = 0; i < nr_needed; i++) {
		if (may & needed[i].bit) {
			*ctl |= needed[i].bit;
		} else {
			printk("VMX lacks %s: Keel needs it\n", needed[i].name);
			ok = false;
		}
	}
	for (unsigned i = 0; i < nr_unwanted; i++) {
		if (must & unwanted[i].bit) {
			printk("VMX cannot turn off %s\n", unwanted[i].name);
			ok = false;
		}
	}
	return ok;
}

static bool probe_ept(uint64_t cap)
{
	static const struct vmx_control ept_needed[] = {
	    {EPT_CAP_WALK_4, "4-level EPT"},
	    {EPT_CAP_MEMTYPE_WB, "write-back EPT tables"},
	    {EPT_CAP_2MB_PAGES, "2 MiB EPT pages"},
	    {EPT_CAP_INVEPT, "INVEPT"},
	};
	bool ok = true;

	for (unsigned i = 0; i < ARRAY_SIZE(ept_needed); i++) {
		if (!(cap & ept_needed[i].bit)) {
			printk("VMX lacks %s: Keel needs it\n",
			       ept_needed[i].name);
			ok = false;
		}
	}
	if (!(cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		printk("VMX lacks single- and all-context INVEPT\n");
		ok = false;
	}
	return ok;
}

const struct hvm_ops *vmx_probe(void)
{
	uint64_t basic, fc;
	uint32_t regs[4], proc2_optional;
	bool true_ctls, ok = true;

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
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	vmx_caps.revision = basic & VMX_BASIC_REVISION_MASK;
	if (basic & VMX_BASIC_32BIT_ADDR) {
		printk("VMX limits VMCS addresses to 32 bits: not supported\n");
		return NULL;
	}
	if (((basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK) !=
	    EPT_MEMTYPE_WB) {
		printk("VMX wants a VMCS memory type other than write-back\n");
		return NULL;
	}
	if (((basic >> VMX_BASIC_SIZE_SHIFT) & VMX_BASIC_SIZE_MASK) >
	    PAGE_SIZE) {
		printk("VMX regions larger than a page: not supported\n");
		return NULL;
	}
	true_ctls = basic & VMX_BASIC_TRUE_CTLS;

	ok &=
	    pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
				    : MSR_IA32_VMX_PINBASED_CTLS,
			  pin_needed, ARRAY_SIZE(pin_needed), NULL, 0,
			  PIN_VIRTUAL_NMIS | PIN_PREEMPT_TIMER, &vmx_caps.pin);
	ok &= pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
				      : MSR_IA32_VMX_PROCBASED_CTLS,
			    proc_needed, ARRAY_SIZE(proc_needed), proc_unwanted,
			    ARRAY_SIZE(proc_unwanted), 0, &vmx_caps.proc);
	ok &= pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
				      : MSR_IA32_VMX_EXIT_CTLS,
			    exit_needed, ARRAY_SIZE(exit_needed), exit_unwanted,
			    ARRAY_SIZE(exit_unwanted), 0, &vmx_caps.exit);
	ok &= pick_controls(
	    true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
	    entry_needed, ARRAY_SIZE(entry_needed), entry_unwanted,
	    ARRAY_SIZE(entry_unwanted), 0, &vmx_caps.entry);
	/*
	 * EPT and unrestricted guest are secondary controls, whose MSRs exist
	 * only if the primary ones offer them (§A.3.3); a CPU that lacks
	 * other controls too gets all its gaps reported.
	 */
	if (!(vmx_caps.proc & PROC_SECONDARY_CONTROLS))
		return NULL;

	/* Instructions guests are shown by CPUID must not #UD (§25.6.2). */
	proc2_optional =
	    PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES;
	/* Absent (#GP) on CPUs without EPT and VPID: then no capabilities. */
	if (rdmsr_safe(MSR_IA32_VMX_EPT_VPID_CAP, &vmx_caps.ept_vpid))
		vmx_caps.ept_vpid = 0;
	if ((vmx_caps.ept_vpid & VPID_CAP_INVVPID) &&
	    (vmx_caps.ept_vpid &
	     (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
		proc2_optional |= PROC2_ENABLE_VPID;
	ok &= pick_controls(MSR_IA32_VMX_PROCBASED_CTLS2, proc2_needed,
			    ARRAY_SIZE(proc2_needed), NULL, 0, proc2_optional,
			    &vmx_caps.proc2);
	ok &= probe_ept(vmx_caps.ept_vpid);
	if (!ok)
		return NULL;

	vmx_caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	vmx_caps.preempt_rate = vmx_caps.misc & VMX_MISC_PREEMPT_RATE_MASK;
	vmx_caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx_caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx_caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx_caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* Unrestricted guest lifts the PE and PG requirements (§26.3.1.1). */
	vmx_caps.cr0_guest_set =
	    vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	vmx_caps.cr0_guest_allowed = vmx_caps.cr0_fixed1;
	vmx_caps.cr0_mask =
	    vmx_caps.cr0_guest_set | ~vmx_caps.cr0_guest_allowed;
	vmx_caps.cr4_guest_set = vmx_caps.cr4_fixed0;
	vmx_caps.cr4_guest_allowed = vmx_caps.cr4_fixed1;
	vmx_caps.cr4_mask =
	    vmx_caps.cr4_guest_set | ~vmx_caps.cr4_guest_allowed | X86_CR4_VMXE;

	/* TSC_AUX exists only with RDTSCP (CPUID.80000001h:EDX[27]). */
	cpuid_count(0x80000001, 0, regs);
	vmx_caps.nr_switched_msrs =
	    vmx_switched_msr_count(regs[3] & (1u << 27));

	printk("VMX: VMCS revision %x; ept unrestricted-guest%s%s%s%s%s\n",
	       vmx_caps.revision,
	       vmx_caps.proc2 & PROC2_ENABLE_VPID ? " vpid" : "",
	       vmx_caps.pin & PIN_VIRTUAL_NMIS ? " vnmi" : "",
	       vmx_caps.pin & PIN_PREEMPT_TIMER
		   ? " preemption-timer"
		   : " (no preemption timer: the LAPIC timer ends runs)",
	       vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE
		   ? " invept-single"
		   : " (no single-context INVEPT: global flushes)",
	       true_ctls ? " true-controls" : "");
	irq_set_handler(IPI_VMCS_CLEAR_VECTOR, ipi_vmcs_clear);
	return &vmx_ops;
}
