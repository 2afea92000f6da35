/* SPDX-License-Identifier: MIT */
/*
 * KEEL_HC_TRACE: turning the trace rings (trace.c) on and off, and
 * telling Dom0 where they are. Rings are 2^n contiguous pages of Keel's
 * memory per online CPU, mapped read-only into Dom0 at their own address
 * while tracing is on.
 */
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/param.h>
#include <keel/percpu.h>
#include <keel/trace.h>
#include <keel/vcpu_loop.h>

static unsigned ring_order; /* log2 of pages per CPU; while tracing is on */
static bool busy;	    /* an enable or disable is in progress */

static uint64_t boot_pages;
integer_param("trace", boot_pages);

/*
 * Called with no lock held: the eviction takes interrupts while it waits
 * for the CPUs in Dom0, as one of them may wait for this CPU (a VMCS to
 * release).
 */
static void free_rings(struct domain *dom0)
{
	uint64_t size = PAGE_SIZE << ring_order;

	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!trace_rings[c])
			continue;
		spin_lock(&dom0->lock);
		p2m_unmap(dom0, virt_to_phys(trace_rings[c]), size);
		spin_unlock(&dom0->lock);
	}
	/* No CPU reads a ring through an old translation once it is reused. */
	vcpu_loop_evict_domain(dom0, true);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!trace_rings[c])
			continue;
		frames_free(virt_to_phys(trace_rings[c]), ring_order);
		trace_rings[c] = NULL;
	}
}

static int64_t enable(struct domain *dom0, uint64_t pages)
{
	uint64_t size = pages * PAGE_SIZE;

	if (trace_on)
		return -EBUSY;
	if (!pages || pages > KEEL_TRACE_MAX_PAGES || (pages & (pages - 1)))
		return -EINVAL;
	ring_order = (unsigned)__builtin_ctzll(pages);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		uint64_t pa;
		int rc;

		if (!percpu_area[c].online)
			continue;
		pa = frames_alloc(ring_order);
		if (!pa) {
			free_rings(dom0);
			return -ENOMEM;
		}
		trace_rings[c] = phys_to_virt(pa);
		memset(trace_rings[c], 0, size);
		trace_rings[c]->cpu = c;
		trace_rings[c]->nr_slots =
		    (uint32_t)((size - sizeof(struct keel_trace_ring)) /
			       sizeof(struct keel_trace_rec));
		spin_lock(&dom0->lock);
		rc = p2m_map(dom0, pa, pa, size, P2M_R, false);
		spin_unlock(&dom0->lock);
		if (rc) {
			frames_free(pa, ring_order);
			trace_rings[c] = NULL;
			free_rings(dom0);
			return rc;
		}
	}
	__atomic_store_n(&trace_on, true, __ATOMIC_RELEASE);
	printk("trace: on, %lu pages per CPU\n", pages);
	return 0;
}

static int64_t disable(struct domain *dom0)
{
	if (!trace_on)
		return -EINVAL;
	__atomic_store_n(&trace_on, false, __ATOMIC_RELEASE);
	/* A writer finishes within the loop pass that saw trace_on. */
	vcpu_loop_quiesce();
	free_rings(dom0);
	printk("trace: off\n");
	return 0;
}

static int64_t describe(struct vcpu *caller, uint64_t gpa, uint64_t size)
{
	struct keel_trace_desc desc;

	if (size < sizeof(desc))
		return -EINVAL;
	memset(&desc, 0, sizeof(desc));
	desc.tsc_khz = tsc_khz();
	if (trace_on) {
		desc.pages_per_cpu = 1u << ring_order;
		for (unsigned c = 0; c < MAX_CPUS; c++)
			if (trace_rings[c]) {
				desc.ring[c] = virt_to_phys(trace_rings[c]);
				desc.nr_cpus = c + 1;
			}
	}
	return guest_phys_write(caller->dom, gpa, &desc, sizeof(desc)) ? -EFAULT
								       : 0;
}

/* Only Dom0 gets here (the table says privileged): its rings are Dom0's. */
int64_t hc_trace(struct vcpu *caller, uint64_t op, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5)
{
	struct domain *dom0 = caller->dom;
	int64_t rc;

	(void)a4, (void)a5;
	if (op != KEEL_TRACE_OP_ENABLE && op != KEEL_TRACE_OP_DISABLE &&
	    op != KEEL_TRACE_OP_DESCRIBE)
		return -EINVAL;
	/* Not a spinning lock: disable waits for every CPU to pass through
	 * its loop, which a CPU spinning here would never do. Describe too,
	 * so it never reports rings being freed. */
	if (__atomic_exchange_n(&busy, true, __ATOMIC_ACQUIRE))
		return -EBUSY;
	rc = op == KEEL_TRACE_OP_ENABLE	   ? enable(dom0, a2)
	     : op == KEEL_TRACE_OP_DISABLE ? disable(dom0)
					   : describe(caller, a2, a3);
	__atomic_store_n(&busy, false, __ATOMIC_RELEASE);
	return rc;
}

void trace_boot(struct domain *dom0)
{
	if (boot_pages && enable(dom0, boot_pages))
		printk("trace=%lu refused (a power of two up to %u pages)\n",
		       boot_pages, KEEL_TRACE_MAX_PAGES);
}
