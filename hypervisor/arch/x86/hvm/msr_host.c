/* SPDX-License-Identifier: MIT */
/*
 * The physical MSRs behind the guest MSR policy of msr.c: the host values
 * it passes on, the barrier commands it lets a guest issue, and the
 * vCPU's IA32_SPEC_CTRL switched around guest entry.
 */
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/msr.h>

int host_msr_read(uint32_t msr, uint64_t *val)
{
	return rdmsr_safe(msr, val);
}

void host_msr_command(uint32_t msr, uint64_t val)
{
	wrmsr(msr, val);
}

/*
 * Keel runs with IA32_SPEC_CTRL at 0 and the guest with its own value:
 * the MSR is always intercepted, so Keel knows what is loaded, and only
 * a guest that set a bit pays for the two WRMSRs.
 */
void hvm_msrs_guest_enter(struct vcpu *v)
{
	if (v->spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, v->spec_ctrl);
}

void hvm_msrs_guest_exit(struct vcpu *v)
{
	if (v->spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, 0);
}
