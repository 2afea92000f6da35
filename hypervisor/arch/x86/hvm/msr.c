/* SPDX-License-Identifier: MIT */
/*
 * Guest MSR policy. State that belongs to the virtual platform (APIC,
 * TSC deadline, EFER, PAT, kvmclock) is emulated. Dom0 may read a short
 * list of host identification MSRs Linux relies on; its writes to MSRs
 * the CPU has are dropped (physical MSRs are Keel's). Anything else is a
 * #GP, as for an MSR the CPU does not implement.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/x86.h>

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_MTRR_CAP 0xFE
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17A
#define MSR_MISC_ENABLE 0x1A0
#define MISC_ENABLE_FAST_STRING (1u << 0)
#define MISC_ENABLE_BTS_UNAVAIL (1u << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1u << 12)
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2FF
#define MSR_KVM_WALL_CLOCK_NEW 0x4B564D00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4B564D01
#define MSR_VM_CR 0xC0010114
#define MSR_VM_HSAVE_PA 0xC0010117
#define VM_CR_LOCK (1u << 3)
#define VM_CR_SVMDIS (1u << 4)

/* Host MSRs Dom0 may read: identification and errata state. */
static const uint32_t dom0_readable[] = {
	0x17,	    /* IA32_PLATFORM_ID */
	0x8B,	    /* IA32_BIOS_SIGN_ID / AMD patch level */
	0xCE,	    /* MSR_PLATFORM_INFO */
	0x10A,	    /* IA32_ARCH_CAPABILITIES */
	0xC0010010, /* AMD SYSCFG */
	0xC0010015, /* AMD HWCR */
	0xC0011029, /* AMD DE_CFG */
};

static bool dom0_may_read(uint32_t msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dom0_readable); i++)
		if (dom0_readable[i] == msr)
			return true;
	return false;
}

static bool is_mtrr(uint32_t msr)
{
	return (msr >= 0x200 && msr <= 0x21F) || msr == 0x250 ||
	       msr == 0x258 || msr == 0x259 || (msr >= 0x268 && msr <= 0x26F) ||
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
	struct pvclock_wall_clock wc = { 2, (uint32_t)pvclock_wallclock_sec(), 0 };

	return guest_phys_write(v->dom, gpa, &wc, sizeof(wc));
}

int hvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct guest_state s;

	if (vlapic_msr_is_ours(msr))
		return vlapic_msr_read(&v->vlapic, msr, val);
	switch (msr) {
	case MSR_EFER:
		hvm->get_state(v, &s);
		*val = s.efer;
		return 0;
	case MSR_PAT:
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
	case MSR_VM_HSAVE_PA:
		return -EINVAL;
	case MSR_MCG_CAP:
	case MSR_MCG_STATUS:
		*val = 0; /* no machine-check banks: Keel owns #MC */
		return 0;
	case MSR_MISC_ENABLE:
		/* As KVM: fast strings, no branch trace or PEBS. */
		*val = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL |
		       MISC_ENABLE_PEBS_UNAVAIL;
		return 0;
	}
	if (is_mtrr(msr) || msr == MSR_MTRR_CAP ||
	    (v->dom->privileged && dom0_may_read(msr)))
		return rdmsr_safe(msr, val) ? -EINVAL : 0;
	return -EINVAL;
}

int hvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct guest_state s;

	if (vlapic_msr_is_ours(msr))
		return vlapic_msr_write(&v->vlapic, msr, val);
	switch (msr) {
	case MSR_EFER: {
		uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

		if (val & ~allowed)
			return -EINVAL;
		hvm->get_state(v, &s);
		/* LMA is read-only: the CPU sets it when paging turns on. */
		s.efer = (val & ~EFER_LMA) | (s.efer & EFER_LMA);
		hvm->set_state(v, &s);
		return 0;
	}
	case MSR_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		hvm->get_state(v, &s);
		s.pat = val;
		hvm->set_state(v, &s);
		return 0;
	case MSR_TSC:
		v->tsc_offset = val - rdtsc();
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
	}
	if (is_mtrr(msr) && v->dom->privileged)
		return 0; /* MTRRs are Keel's; Linux only rewrites what it read */
	if (v->dom->privileged && dom0_may_read(msr)) {
		uint64_t cur;

		/* Errata and feature bits are Keel's to set: drop the write. */
		if (rdmsr_safe(msr, &cur))
			return -EINVAL;
		if (cur != val)
			printk("d%u: write %lx to MSR %x ignored\n", v->dom->id,
			       val, msr);
		return 0;
	}
	return -EINVAL;
}
