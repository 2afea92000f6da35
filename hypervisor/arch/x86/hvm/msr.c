/* SPDX-License-Identifier: MIT */
/*
 * Guest MSR policy. State that belongs to the virtual platform (APIC,
 * TSC deadline, EFER, PAT, kvmclock) is emulated; the per-vCPU
 * speculation control and TSC_AUX are the vCPU's own; the identification
 * MSRs Linux reads with plain RDMSR answer for every domain; what CPUID
 * hides (cpu_policy.c) is absent here too. Dom0 may also read a short
 * list of host MSRs. Anything else is a #GP, as for an MSR the CPU does
 * not implement. The physical MSRs are reached only through msr_host.c,
 * so this file is the guest-facing policy alone.
 */
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/msr.h>
#include <keel/x86.h>

#define MISC_ENABLE_FAST_STRING	 (1u << 0)
#define MISC_ENABLE_BTS_UNAVAIL	 (1u << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1u << 12)
#define PRED_CMD_IBPB		 (1u << 0)
#define FLUSH_CMD_L1D		 (1u << 0)

/*
 * IA32_ARCH_CAPABILITIES bits a guest may see: "not affected" statements
 * and properties of the mitigations it can use. Not TSX_CTRL or
 * FB_CLEAR_CTRL (their MSRs are not emulated), nor SKIP_L1DFL_VMENTRY
 * (guests get no VMX).
 */
static const uint64_t arch_caps_allowed =
    (1ULL << 0) /* RDCL_NO */ | (1ULL << 1) /* IBRS_ALL */ |
    (1ULL << 2) /* RSBA */ | (1ULL << 4) /* SSB_NO */ |
    (1ULL << 5) /* MDS_NO */ | (1ULL << 6) /* PSCHANGE_MC_NO */ |
    (1ULL << 8) /* TAA_NO */ | (1ULL << 13) /* SBDR_SSDP_NO */ |
    (1ULL << 14) /* FBSDP_NO */ | (1ULL << 15) /* PSDP_NO */ |
    (1ULL << 17) /* FB_CLEAR */ | (1ULL << 19) /* RRSBA */ |
    (1ULL << 20) /* BHI_NO */ | (1ULL << 24) /* PBRSB_NO */ |
    (1ULL << 26) /* GDS_NO */ | (1ULL << 27) /* RFDS_NO */;

/* Host MSRs Dom0 may read: platform and errata state. */
static const uint32_t dom0_readable[] = {
    MSR_PLATFORM_INFO,
    MSR_AMD_SYSCFG,
    MSR_AMD_MMIO_CONF_BASE, /* Dom0 owns PCI configuration space */
    MSR_AMD_DE_CFG,
};

/*
 * AMD platform configuration that Linux reads and writes with plain
 * RDMSR/WRMSR (HWCR in early_init_amd, SYSCFG in the MTRR code, NB_CFG's
 * extended CF8 bit in arch/x86/pci/amd_bus.c, the C1E interrupt-pending
 * message in the E400 idle code): a domain reads 0 (Dom0 the host's
 * value of those in dom0_readable) and its writes are dropped, as under
 * KVM (kvm_get_msr_common). The physical MSRs are Keel's.
 */
static const uint32_t amd_config_zero[] = {
    MSR_AMD_SYSCFG,	 MSR_AMD_HWCR,		 MSR_AMD_NB_CFG,
    MSR_AMD_INT_PENDING, MSR_AMD_MMIO_CONF_BASE, MSR_AMD_TSEG_ADDR,
    MSR_AMD_TSEG_MASK,	 MSR_AMD_DC_CFG,	 MSR_AMD_BU_CFG2,
};

/* KVM's answer for the microcode revision when the CPU gives none. */
#define UCODE_REV_DEFAULT 0x100000000ULL

static bool in_list(const uint32_t *list, unsigned n, uint32_t msr)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == msr)
			return true;
	return false;
}

static bool dom0_may_read(uint32_t msr)
{
	return in_list(dom0_readable, ARRAY_SIZE(dom0_readable), msr);
}

static bool is_amd_config_zero(uint32_t msr)
{
	return in_list(amd_config_zero, ARRAY_SIZE(amd_config_zero), msr);
}

static bool is_mtrr(uint32_t msr)
{
	return (msr >= 0x200 && msr <= 0x21F) || msr == 0x250 || msr == 0x258 ||
	       msr == 0x259 || (msr >= 0x268 && msr <= 0x26F) ||
	       msr == MSR_MTRR_DEF_TYPE;
}

/* PAT entries must each be a valid memory type (SDM vol. 3A §11.12.2). */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (pat >> (8 * i)) & 0xFF;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

struct pvclock_wall_clock {
	uint32_t version, sec, nsec;
} __packed;

static int write_wallclock(struct vcpu *v, uint64_t gpa)
{
	struct pvclock_wall_clock wc = {2, (uint32_t)pvclock_wallclock_sec(),
					0};

	return guest_phys_write(v->dom, gpa, &wc, sizeof(wc));
}

/* The MSRs behind CPUID's speculation-control and RDTSCP bits. */
static int policy_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct cpu_policy *p = &guest_cpu_policy;

	switch (msr) {
	case MSR_IA32_SPEC_CTRL:
		if (!p->spec_ctrl)
			return -EINVAL;
		*val = v->spec_ctrl;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!p->arch_caps || host_msr_read(msr, val))
			return -EINVAL;
		*val &= arch_caps_allowed;
		return 0;
	case MSR_TSC_AUX:
		if (!p->tsc_aux)
			return -EINVAL;
		*val = v->tsc_aux;
		return 0;
	}
	return -ENOENT;
}

static int policy_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct cpu_policy *p = &guest_cpu_policy;

	switch (msr) {
	case MSR_IA32_SPEC_CTRL:
		if (!p->spec_ctrl || (val & ~p->spec_ctrl_mask))
			return -EINVAL;
		v->spec_ctrl = val;
		return 0;
	case MSR_IA32_PRED_CMD:
		/* The barrier is for the guest's own processes: the CPU does
		 * it, Keel only checks the command. */
		if (!p->ibpb || (val & ~(uint64_t)PRED_CMD_IBPB))
			return -EINVAL;
		if (val)
			host_msr_command(MSR_IA32_PRED_CMD, val);
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (!p->flush_l1d || (val & ~(uint64_t)FLUSH_CMD_L1D))
			return -EINVAL;
		if (val)
			host_msr_command(MSR_IA32_FLUSH_CMD, val);
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		return -EINVAL; /* read-only */
	case MSR_TSC_AUX:
		if (!p->tsc_aux || (val >> 32))
			return -EINVAL;
		v->tsc_aux = (uint32_t)val; /* the backend loads it */
		return 0;
	}
	return -ENOENT;
}

static int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct guest_state s;
	int rc;

	if (vlapic_msr_is_ours(msr))
		return vlapic_msr_read(&v->vlapic, msr, val);
	rc = policy_msr_read(v, msr, val);
	if (rc != -ENOENT)
		return rc;
	switch (msr) {
	case MSR_EFER:
		hvm->get_state(v, &s);
		*val = s.efer;
		return 0;
	case MSR_IA32_PAT:
		hvm->get_state(v, &s);
		*val = s.pat;
		return 0;
	case MSR_TSC:
		*val = rdtsc() + v->tsc_offset;
		return 0;
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = v->kvmclock_msr;
		return 0;
	case MSR_KVM_WALL_CLOCK_NEW:
		*val = 0;
		return 0;
	case MSR_VM_CR:
		/* Tell guests SVM is disabled and locked. */
		*val = VM_CR_LOCK | VM_CR_SVMDIS;
		return 0;
	case MSR_MCG_CAP:
	case MSR_MCG_STATUS:
		*val = 0; /* no machine-check banks: Keel owns #MC */
		return 0;
	case MSR_MISC_ENABLE:
		/* As KVM: fast strings, no branch trace or PEBS. */
		*val = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL |
		       MISC_ENABLE_PEBS_UNAVAIL;
		return 0;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_UCODE_REV:
		/* Identification Linux reads with a plain RDMSR at boot
		 * (early_init_intel, init_amd): the host's. */
		if (host_msr_read(msr, val))
			*val =
			    msr == MSR_IA32_UCODE_REV ? UCODE_REV_DEFAULT : 0;
		return 0;
	}
	if (is_mtrr(msr) || msr == MSR_MTRR_CAP ||
	    (v->dom->privileged && dom0_may_read(msr)))
		if (!host_msr_read(msr, val))
			return 0;
	if (is_amd_config_zero(msr)) {
		*val = 0;
		return 0;
	}
	return -EINVAL;
}

static int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct guest_state s;
	int rc;

	if (vlapic_msr_is_ours(msr))
		return vlapic_msr_write(&v->vlapic, msr, val);
	rc = policy_msr_write(v, msr, val);
	if (rc != -ENOENT)
		return rc;
	switch (msr) {
	case MSR_EFER: {
		uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

		if (val & ~allowed)
			return -EINVAL;
		hvm->get_state(v, &s);
		/* LME may change only while paging is off (SDM vol. 3A
		 * §10.8.5, APM vol. 2 §14.6.1): #GP otherwise. */
		if ((s.cr0 & X86_CR0_PG) && ((val ^ s.efer) & EFER_LME))
			return -EINVAL;
		/* LMA is read-only: the CPU sets it when paging turns on. */
		s.efer = (val & ~EFER_LMA) | (s.efer & EFER_LMA);
		hvm->set_state(v, &s);
		return 0;
	}
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		hvm->get_state(v, &s);
		s.pat = val;
		hvm->set_state(v, &s);
		return 0;
	case MSR_TSC:
		v->tsc_offset = val - rdtsc();
		/* The kvmclock page holds a guest TSC: it moved with it. */
		pvclock_update(v);
		return 0;
	case MSR_KVM_SYSTEM_TIME_NEW:
		v->kvmclock_msr = val;
		pvclock_update(v);
		return 0;
	case MSR_KVM_WALL_CLOCK_NEW:
		return write_wallclock(v, val) ? -EINVAL : 0;
	case MSR_VM_CR:
	case MSR_VM_HSAVE_PA:
		return -EINVAL;
	case MSR_MCG_STATUS:
		return 0;
	case MSR_MISC_ENABLE:
		return 0; /* the guest cannot change the host's */
	case MSR_IA32_UCODE_REV:
		/* Intel's way to read the revision: write 0, CPUID, read
		 * (SDM vol. 3A §10.11.7). Nothing to do. */
		return 0;
	}
	if (is_amd_config_zero(msr))
		return 0;
	if (is_mtrr(msr) && v->dom->privileged)
		return 0; /* MTRRs are Keel's; Linux only rewrites what it read
			   */
	if (v->dom->privileged && dom0_may_read(msr)) {
		uint64_t cur;

		/* Errata and feature bits are Keel's to set: drop the write. */
		if (host_msr_read(msr, &cur))
			return -EINVAL;
		if (cur != val)
			printk("d%u: write %lx to MSR %x ignored\n", v->dom->id,
			       val, msr);
		return 0;
	}
	return -EINVAL;
}

/* The first refusals of each domain are logged: a guest that stops on a
 * #GP from an MSR shows why in Keel's log. */
#define MSR_REFUSALS_LOGGED 16

static void log_refusal(struct vcpu *v, const char *op, uint32_t msr)
{
	if (v->dom->msr_refusals++ < MSR_REFUSALS_LOGGED)
		printk("d%u v%u: %s of MSR %x: #GP\n", v->dom->id, v->id, op,
		       msr);
}

int hvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int rc = msr_read(v, msr, val);

	if (rc)
		log_refusal(v, "read", msr);
	return rc;
}

int hvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int rc = msr_write(v, msr, val);

	if (rc)
		log_refusal(v, "write", msr);
	return rc;
}
