/* SPDX-License-Identifier: MIT */
/*
 * EPT entries (Intel SDM vol. 3C §29.3) and keeping the TLBs right: INVEPT
 * after p2m changes and moves between CPUs, VPIDs from per-CPU generations
 * (keel/asid.h).
 */
#include <keel/domain.h>
#include <keel/hvm.h>
#include <keel/percpu.h>
#include <keel/x86.h>
#include "backend.h"

/* Bumped by every p2m change (vmx_p2m_flush()); read at each VM entry. */
static uint64_t ept_generation = 1;

uint64_t eptp_of(struct domain *d)
{
	return d->p2m_root | EPT_MEMTYPE_WB |
	       ((EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT);
}

/*
 * Guest-physical and combined translations this CPU may hold for v's EPT
 * are stale when v last entered elsewhere (they date from an earlier stay
 * here) or when a p2m changed since; INVEPT drops them for every VPID
 * (§29.4.3.1).
 */
void flush_stale_ept(struct vcpu *v, struct vmx_vcpu *x)
{
	uint64_t gen = __atomic_load_n(&ept_generation, __ATOMIC_ACQUIRE);
	int cpu = (int)this_cpu()->cpu;

	if (x->entered_cpu == cpu && x->ept_generation == gen)
		return;
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, eptp_of(v->dom));
	else
		invept(INVEPT_ALL_CONTEXT, 0);
	x->entered_cpu = cpu;
	x->ept_generation = gen;
}

/*
 * VPIDs come from the entering CPU's pool (keel/asid.h), so two vCPUs
 * never share one on a CPU. A VPID new to v may hold another vCPU's
 * translations from an earlier generation: it is flushed before use
 * (§29.4.3.3), which also covers the pool's generation change.
 */
void assign_vpid(struct vmx_vcpu *x)
{
	struct vmx_cpu *c = &vmx_cpus[this_cpu()->cpu];
	struct asid_tag old = x->vpid;

	if (!(vmx_caps.proc2 & PROC2_ENABLE_VPID))
		return;
	asid_assign(&c->vpids, &x->vpid, (int)this_cpu()->cpu);
	if (x->vpid.generation == old.generation && x->vpid.cpu == old.cpu)
		return; /* kept */
	if (vmx_caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, (uint16_t)x->vpid.asid);
	else
		invvpid(INVVPID_ALL_CONTEXT, 0);
	vmwrite(VMCS_VPID, x->vpid.asid);
}

/* EPT leaf entries (Intel SDM vol. 3C §28.3.2): rights and memory type. */
uint64_t vmx_p2m_entry(uint64_t hpa, unsigned perms, bool large, bool uncached)
{
	uint64_t e = hpa & PTE_ADDR_MASK;
	uint64_t memtype = uncached ? EPT_MEMTYPE_UC : EPT_MEMTYPE_WB;

	if (perms & P2M_R)
		e |= EPT_R;
	if (perms & P2M_W)
		e |= EPT_R | EPT_W;
	if (perms & P2M_X) {
		e |= EPT_X;
		if (!(vmx_caps.ept_vpid & EPT_CAP_EXECUTE_ONLY))
			e |= EPT_R;
	}
	e |= memtype << EPT_MEMTYPE_SHIFT;
	if (large)
		e |= EPT_LARGE;
	return e;
}

/* Non-leaf entries: all rights, bits 3-7 clear (§28.3.2). */
uint64_t vmx_p2m_table_entry(uint64_t pa)
{
	return (pa & PTE_ADDR_MASK) | EPT_R | EPT_W | EPT_X;
}

bool vmx_p2m_present(uint64_t entry)
{
	return entry & (EPT_R | EPT_W | EPT_X);
}

bool vmx_p2m_is_large(uint64_t entry)
{
	return entry & EPT_LARGE;
}

/*
 * Every CPU may cache translations of d's EPT: each vCPU flushes on its
 * next VM entry (flush_stale_ept()), as the SVM backend does at VMRUN.
 */
void vmx_p2m_flush(struct domain *d)
{
	(void)d;
	__atomic_add_fetch(&ept_generation, 1, __ATOMIC_RELEASE);
}
