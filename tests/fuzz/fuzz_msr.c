/* SPDX-License-Identifier: MIT */
/*
 * The guest MSR policy (hypervisor/arch/x86/hvm/msr.c): RDMSR and WRMSR
 * of any index and value, in any order, from a vCPU whose virtual
 * platform the real hvm/vintr.c wires (so the APIC MSRs reach the real
 * vLAPIC), for Dom0 or a DomU, under a speculation-control policy and a
 * host whose MSR values come from the input. The physical MSRs are what
 * msr_host.c reaches: here host_msr_read() answers from the input's host
 * MSR table (an MSR it lacks faults) and host_msr_command() records the
 * barrier commands. kvmclock pages (pvclock.c, which reads the CMOS RTC)
 * are recorded; the wall-clock page goes through the real guest_mem.c and
 * p2m.c into the guest's RAM.
 *
 * Input: u8 flags (bit 0 Dom0; bits 1-5 the policy shows SPEC_CTRL,
 * IBPB, L1D flush, ARCH_CAPABILITIES, TSC_AUX; bit 6 paging on; bit 7
 * long mode), u64 SPEC_CTRL mask, u8 host MSR count (up to 8) and that
 * many (MSR, u64 value), then accesses: u8 op (bit 0 a write), MSR,
 * value. An MSR is a selector byte then an index into msr.c's and the
 * vLAPIC's MSRs or any 32-bit number.
 *
 * Checks, after each access: the result is 0 or -EINVAL and the refusal
 * counter moved with it; a refused write and any read leave the vCPU's
 * MSR state as it was; EFER holds only the bits a guest may set, with LMA
 * as the CPU set it and LME fixed while paging is on; PAT holds valid
 * memory types; SPEC_CTRL only the policy's bits; ARCH_CAPABILITIES only
 * host bits; a DomU never reads a host MSR Dom0 alone may see; barrier
 * commands reach the CPU only as the policy allows; the wall-clock page
 * is accepted exactly when it lies in the guest's RAM; a value written
 * to a stateful MSR reads back.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdbool.h>

#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/irq.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/msr.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/vintr.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

FUZZ_SHIM_INIT()

#define GUEST_RAM     KiB(256)
#define POOL_BASE     GiB(1)
#define POOL_SIZE     MiB(1)
#define MAX_HOST_MSRS 8
#define MAX_ACCESSES  64
#define EFER_ALLOWED  (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define WALLCLOCK_LEN 12 /* struct pvclock_wall_clock */

struct cpu_policy guest_cpu_policy;

static struct domain dom;
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom, .id = 0};
static struct {
	unsigned n;
	uint32_t msr[MAX_HOST_MSRS];
	uint64_t val[MAX_HOST_MSRS];
} host;
static unsigned crashes, pvclock_updates;

static bool is_mtrr(uint32_t msr)
{
	return (msr >= 0x200 && msr <= 0x21F) || msr == 0x250 || msr == 0x258 ||
	       msr == 0x259 || (msr >= 0x268 && msr <= 0x26F) ||
	       msr == MSR_MTRR_DEF_TYPE || msr == MSR_MTRR_CAP;
}

/* The host MSRs any domain may read through msr.c. */
static bool any_domain_may_read(uint32_t msr)
{
	return is_mtrr(msr) || msr == MSR_IA32_ARCH_CAPABILITIES ||
	       msr == MSR_IA32_PLATFORM_ID || msr == MSR_IA32_UCODE_REV;
}

int host_msr_read(uint32_t msr, uint64_t *val)
{
	FUZZ_CHECK(dom.privileged || any_domain_may_read(msr));
	for (unsigned i = 0; i < host.n; i++)
		if (host.msr[i] == msr) {
			*val = host.val[i];
			return 0;
		}
	*val = 0;
	return -EFAULT;
}

void host_msr_command(uint32_t msr, uint64_t val)
{
	FUZZ_CHECK(val == 1);
	FUZZ_CHECK((msr == MSR_IA32_PRED_CMD && guest_cpu_policy.ibpb) ||
		   (msr == MSR_IA32_FLUSH_CMD && guest_cpu_policy.flush_l1d));
}

/* kvmclock's page is pvclock.c's, which reads the CMOS RTC at first use. */
void pvclock_update(struct vcpu *v)
{
	FUZZ_CHECK(v == &vcpu);
	pvclock_updates++;
}

uint64_t pvclock_wallclock_sec(void)
{
	return 1764892800; /* 2025-12-05 */
}

/* The rest of what vintr.c calls is in vintr_env.c. */
void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	(void)d;
	(void)culprit;
	(void)fmt;
	crashes++;
}

static void setup_domain(void)
{
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	dom.nr_vcpus = 1;
	dom.vcpus[0] = &vcpu;
	FUZZ_CHECK(vintr_domain_init(&dom) == 0);
	spin_lock(&dom.lock); /* as the vCPU loop holds it around exits */
	FUZZ_CHECK(p2m_init(&dom) == 0);
	FUZZ_CHECK(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false) == 0);
}

/* Every MSR msr.c or the vLAPIC names, and the MTRRs. */
static const uint32_t known_msrs[] = {
    MSR_TSC,
    MSR_IA32_PLATFORM_ID,
    MSR_APIC_BASE,
    MSR_IA32_FEATURE_CONTROL,
    MSR_IA32_SPEC_CTRL,
    MSR_IA32_PRED_CMD,
    MSR_IA32_UCODE_REV,
    MSR_PLATFORM_INFO,
    MSR_MTRR_CAP,
    MSR_IA32_ARCH_CAPABILITIES,
    MSR_IA32_FLUSH_CMD,
    MSR_MCG_CAP,
    MSR_MCG_STATUS,
    MSR_MISC_ENABLE,
    MSR_IA32_PAT,
    MSR_MTRR_DEF_TYPE,
    MSR_TSC_DEADLINE,
    MSR_KVM_WALL_CLOCK_NEW,
    MSR_KVM_SYSTEM_TIME_NEW,
    MSR_EFER,
    MSR_TSC_AUX,
    MSR_AMD_SYSCFG,
    MSR_AMD_HWCR,
    MSR_AMD_NB_CFG,
    MSR_AMD_INT_PENDING,
    MSR_AMD_MMIO_CONF_BASE,
    MSR_VM_CR,
    MSR_AMD_TSEG_ADDR,
    MSR_AMD_TSEG_MASK,
    MSR_VM_HSAVE_PA,
    MSR_AMD_DC_CFG,
    MSR_AMD_DE_CFG,
    MSR_AMD_BU_CFG2,
    0x200, /* variable-range MTRR base 0 */
    0x250, /* fixed-range MTRRs */
    0x268,
    0x26F,
    0x0,
    0xFFFFFFFF,
};

static uint32_t pick_msr(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);

	switch (sel & 3) {
	case 0:
	case 1:
		return known_msrs[fuzz_u8(in) % ARRAY_SIZE(known_msrs)];
	case 2:
		return MSR_X2APIC_FIRST + fuzz_u8(in);
	default:
		return fuzz_u32(in);
	}
}

/* Values of the common shapes: small, 32-bit, anything. */
static uint64_t pick_value(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);

	switch (sel & 3) {
	case 0:
		return fuzz_u8(in);
	case 1:
		return fuzz_u16(in);
	case 2:
		return fuzz_u32(in);
	default:
		return fuzz_u64(in);
	}
}

/* The vCPU's MSR state outside the vLAPIC, compared around accesses. */
struct msr_state {
	uint64_t efer, pat, tsc_offset, kvmclock_msr, spec_ctrl;
	uint32_t tsc_aux;
};

static struct msr_state msr_state(void)
{
	return (struct msr_state){npt_vcpu_state.efer, npt_vcpu_state.pat,
				  vcpu.tsc_offset,     vcpu.kvmclock_msr,
				  vcpu.spec_ctrl,      vcpu.tsc_aux};
}

static bool same_state(const struct msr_state *a, const struct msr_state *b)
{
	return a->efer == b->efer && a->pat == b->pat &&
	       a->tsc_offset == b->tsc_offset &&
	       a->kvmclock_msr == b->kvmclock_msr &&
	       a->spec_ctrl == b->spec_ctrl && a->tsc_aux == b->tsc_aux;
}

static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (pat >> (8 * i)) & 0xFF;

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static uint64_t host_value(uint32_t msr)
{
	for (unsigned i = 0; i < host.n; i++)
		if (host.msr[i] == msr)
			return host.val[i];
	return 0;
}

static void check_invariants(uint64_t efer_at_start)
{
	const struct cpu_policy *p = &guest_cpu_policy;

	FUZZ_CHECK(!(npt_vcpu_state.efer & ~EFER_ALLOWED));
	FUZZ_CHECK((npt_vcpu_state.efer & EFER_LMA) ==
		   (efer_at_start & EFER_LMA));
	if (npt_vcpu_state.cr0 & X86_CR0_PG)
		FUZZ_CHECK((npt_vcpu_state.efer & EFER_LME) ==
			   (efer_at_start & EFER_LME));
	FUZZ_CHECK(pat_valid(npt_vcpu_state.pat));
	FUZZ_CHECK(!(vcpu.spec_ctrl & ~p->spec_ctrl_mask));
	FUZZ_CHECK(p->spec_ctrl || !vcpu.spec_ctrl);
	FUZZ_CHECK(p->tsc_aux || !vcpu.tsc_aux);
	FUZZ_CHECK(!crashes);
}

/* A successful write to an MSR with state reads back what was written. */
static void check_read_back(uint32_t msr, uint64_t written)
{
	uint64_t val = ~written;
	unsigned refusals = dom.msr_refusals;

	switch (msr) {
	case MSR_EFER:
		written =
		    (written & ~EFER_LMA) | (npt_vcpu_state.efer & EFER_LMA);
		break;
	case MSR_IA32_PAT:
	case MSR_IA32_SPEC_CTRL:
	case MSR_TSC_AUX:
	case MSR_KVM_SYSTEM_TIME_NEW:
		break;
	case MSR_TSC:
		FUZZ_CHECK(hvm_msr_read(&vcpu, msr, &val) == 0);
		/* The guest TSC ran on from the written value. */
		FUZZ_CHECK(val - written < (1ULL << 62));
		return;
	default:
		return;
	}
	FUZZ_CHECK(hvm_msr_read(&vcpu, msr, &val) == 0);
	FUZZ_CHECK(val == written);
	FUZZ_CHECK(dom.msr_refusals == refusals);
}

static void access(uint8_t op, uint32_t msr, uint64_t value,
		   uint64_t efer_at_start)
{
	struct msr_state before = msr_state(), after;
	unsigned refusals = dom.msr_refusals, updates = pvclock_updates;
	uint64_t val = value;
	bool write = op & 1;
	int rc;

	if (write)
		rc = hvm_msr_write(&vcpu, msr, value);
	else
		rc = hvm_msr_read(&vcpu, msr, &val);
	after = msr_state();
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK(dom.msr_refusals == refusals + (rc != 0));
	if (rc || !write)
		FUZZ_CHECK(same_state(&before, &after));
	check_invariants(efer_at_start);
	if (!write) {
		if (!rc && msr == MSR_IA32_ARCH_CAPABILITIES)
			FUZZ_CHECK(!(val & ~host_value(msr)));
		FUZZ_CHECK(pvclock_updates == updates);
		return;
	}
	if (msr == MSR_KVM_WALL_CLOCK_NEW)
		FUZZ_CHECK((rc == 0) == (value <= GUEST_RAM - WALLCLOCK_LEN));
	if (!rc)
		check_read_back(msr, value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_input fi = fuzz_input(data, size);
	uint8_t flags = fuzz_u8(&fi);
	struct cpu_policy *p = &guest_cpu_policy;

	if (!ready) {
		setup_domain();
		ready = true;
	}
	memset(p, 0, sizeof(*p));
	p->spec_ctrl = flags & 2;
	p->ibpb = flags & 4;
	p->flush_l1d = flags & 8;
	p->arch_caps = flags & 16;
	p->tsc_aux = flags & 32;
	p->spec_ctrl_mask = fuzz_u64(&fi);
	host.n = fuzz_u8(&fi) % (MAX_HOST_MSRS + 1);
	for (unsigned i = 0; i < host.n; i++) {
		host.msr[i] = pick_msr(&fi);
		host.val[i] = fuzz_u64(&fi);
	}

	dom.privileged = flags & 1;
	dom.msr_refusals = 0;
	memset(&npt_vcpu_state, 0, sizeof(npt_vcpu_state));
	npt_vcpu_state.pat = 0x0007040600070406ULL; /* the reset value */
	npt_vcpu_state.cr0 = X86_CR0_PE | X86_CR0_ET;
	if (flags & 64)
		npt_vcpu_state.cr0 |= X86_CR0_PG;
	if (flags & 128)
		npt_vcpu_state.efer = EFER_LME | EFER_LMA;
	vcpu.tsc_offset = vcpu.kvmclock_msr = vcpu.spec_ctrl = 0;
	vcpu.tsc_aux = 0;
	vintr_vcpu_init(&vcpu);
	crashes = pvclock_updates = 0;

	for (unsigned n = 0; n < MAX_ACCESSES && fi.left; n++) {
		uint8_t op = fuzz_u8(&fi);
		uint32_t msr = pick_msr(&fi);

		access(op, msr, pick_value(&fi), npt_vcpu_state.efer);
	}
	return 0;
}
