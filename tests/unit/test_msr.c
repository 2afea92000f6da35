/* SPDX-License-Identifier: MIT */
/*
 * The guest MSR policy (hypervisor/arch/x86/hvm/msr.c) with the physical
 * MSRs of msr_host.c given here: host_msr_read() answers from a table of
 * host values (an MSR not in it faults, as rdmsr_safe does) and
 * host_msr_command() records the barrier commands. The vCPU's control
 * state is npt_ops.c's; the wall-clock page goes through the real
 * guest_mem.c and p2m.c; kvmclock pages (pvclock.c, which reads the CMOS
 * RTC) are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/mm.h>
#include <keel/msr.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

#define GUEST_RAM MiB(1)
#define POOL_BASE GiB(1)
#define POOL_SIZE MiB(1)
#define PAT_RESET 0x0007040600070406ULL

struct cpu_policy guest_cpu_policy;

static struct domain dom;
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};
static const struct {
	uint32_t msr;
	uint64_t val;
} host_msrs[] = {
    {MSR_IA32_ARCH_CAPABILITIES, 0xFFFFFFFFFFFFFFFFULL},
    {MSR_PLATFORM_INFO, 0x80838F1012800ULL},
    {MSR_MTRR_CAP, 0x508},
};
static unsigned host_reads, commands, pvclock_updates;
static uint32_t command_msr;

int host_msr_read(uint32_t msr, uint64_t *val)
{
	host_reads++;
	for (size_t i = 0; i < ARRAY_SIZE(host_msrs); i++)
		if (host_msrs[i].msr == msr) {
			*val = host_msrs[i].val;
			return 0;
		}
	*val = 0;
	return -EFAULT;
}

void host_msr_command(uint32_t msr, uint64_t val)
{
	assert_int_equal(val, 1);
	command_msr = msr;
	commands++;
}

void pvclock_update(struct vcpu *v)
{
	(void)v;
	pvclock_updates++;
}

uint64_t pvclock_wallclock_sec(void)
{
	return 1764892800;
}

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom);
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&guest_cpu_policy, 0, sizeof(guest_cpu_policy));
	memset(&npt_vcpu_state, 0, sizeof(npt_vcpu_state));
	npt_vcpu_state.pat = PAT_RESET;
	dom.privileged = false;
	dom.msr_refusals = 0;
	vcpu.spec_ctrl = vcpu.tsc_aux = 0;
	host_reads = commands = pvclock_updates = 0;
	return 0;
}

/* Host MSRs Dom0 may read are neither read nor shown for a DomU. */
static void test_dom0_only_host_msr(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_PLATFORM_INFO, &val), -EINVAL);
	assert_int_equal(host_reads, 0);
	assert_int_equal(dom.msr_refusals, 1);
	dom.privileged = true;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_PLATFORM_INFO, &val), 0);
	assert_int_equal(val, 0x80838F1012800ULL);
	/* Its writes are dropped; the host value stays. */
	assert_int_equal(hvm_msr_write(&vcpu, MSR_PLATFORM_INFO, 0), 0);
}

/* Every domain reads the MTRRs; one the host lacks is a #GP. */
static void test_mtrr_read(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_MTRR_CAP, &val), 0);
	assert_int_equal(val, 0x508);
	assert_int_equal(hvm_msr_read(&vcpu, MSR_MTRR_DEF_TYPE, &val), -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_MTRR_DEF_TYPE, 0), -EINVAL);
}

/* The microcode revision KVM gives when the CPU has none to read. */
static void test_ucode_rev_default(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_IA32_UCODE_REV, &val), 0);
	assert_int_equal(val, 0x100000000ULL);
}

static void test_efer(void **state)
{
	uint64_t val = 0;

	(void)state;
	npt_vcpu_state.efer = EFER_LMA;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_EFER, EFER_LME | EFER_SCE),
			 0);
	/* LMA stays as the CPU set it. */
	assert_int_equal(hvm_msr_read(&vcpu, MSR_EFER, &val), 0);
	assert_int_equal(val, EFER_LME | EFER_LMA | EFER_SCE);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_EFER, EFER_LME | 0x1000),
			 -EINVAL);
	/* LME is fixed while paging is on. */
	npt_vcpu_state.cr0 = X86_CR0_PE | X86_CR0_PG;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_EFER, EFER_SCE), -EINVAL);
	assert_int_equal(npt_vcpu_state.efer, EFER_LME | EFER_LMA | EFER_SCE);
}

/* Types 2 and 3 and above 7 are reserved (SDM vol. 3A §11.12.2). */
static void test_pat(void **state)
{
	(void)state;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PAT, 0x0106), 0);
	assert_int_equal(npt_vcpu_state.pat, 0x0106);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PAT, 3ULL << 56),
			 -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PAT, 8), -EINVAL);
	assert_int_equal(npt_vcpu_state.pat, 0x0106);
}

/* Barrier commands reach the CPU only when the policy shows them. */
static void test_barrier_commands(void **state)
{
	(void)state;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PRED_CMD, 1), -EINVAL);
	guest_cpu_policy.ibpb = true;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PRED_CMD, 2), -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PRED_CMD, 0), 0);
	assert_int_equal(commands, 0);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_PRED_CMD, 1), 0);
	assert_int_equal(commands, 1);
	assert_int_equal(command_msr, MSR_IA32_PRED_CMD);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_FLUSH_CMD, 1), -EINVAL);
	assert_int_equal(commands, 1);
}

static void test_speculation_msrs(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_SPEC_CTRL, 1), -EINVAL);
	guest_cpu_policy.spec_ctrl = true;
	guest_cpu_policy.spec_ctrl_mask = 0x3;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_SPEC_CTRL, 4), -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_SPEC_CTRL, 3), 0);
	assert_int_equal(vcpu.spec_ctrl, 3);
	/* Only the "not affected" and mitigation bits of the host's. */
	guest_cpu_policy.arch_caps = true;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_IA32_ARCH_CAPABILITIES, &val),
			 0);
	assert_int_equal(val & (1ULL << 3), 0); /* SKIP_L1DFL_VMENTRY */
	assert_int_equal(val & (1ULL << 7), 0); /* TSX_CTRL */
	assert_true(val & (1ULL << 0));		/* RDCL_NO */
	assert_int_equal(hvm_msr_write(&vcpu, MSR_IA32_ARCH_CAPABILITIES, val),
			 -EINVAL);
}

static void test_tsc_aux(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(hvm_msr_read(&vcpu, MSR_TSC_AUX, &val), -EINVAL);
	guest_cpu_policy.tsc_aux = true;
	assert_int_equal(hvm_msr_write(&vcpu, MSR_TSC_AUX, 1ULL << 32),
			 -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_TSC_AUX, 7), 0);
	assert_int_equal(hvm_msr_read(&vcpu, MSR_TSC_AUX, &val), 0);
	assert_int_equal(val, 7);
}

/* The wall-clock structure (12 bytes) must lie in the guest's RAM. */
static void test_wallclock(void **state)
{
	uint32_t wc[3];

	(void)state;
	assert_int_equal(
	    hvm_msr_write(&vcpu, MSR_KVM_WALL_CLOCK_NEW, GUEST_RAM - 12), 0);
	memcpy(wc, phys_to_virt(GUEST_RAM - 12), sizeof(wc));
	assert_int_equal(wc[1], 1764892800);
	assert_int_equal(
	    hvm_msr_write(&vcpu, MSR_KVM_WALL_CLOCK_NEW, GUEST_RAM - 11),
	    -EINVAL);
	assert_int_equal(hvm_msr_write(&vcpu, MSR_KVM_WALL_CLOCK_NEW, ~0ULL),
			 -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_dom0_only_host_msr),
	    T(test_mtrr_read),
	    T(test_ucode_rev_default),
	    T(test_efer),
	    T(test_pat),
	    T(test_barrier_commands),
	    T(test_speculation_msrs),
	    T(test_tsc_aux),
	    T(test_wallclock),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
