/* SPDX-License-Identifier: MIT */
/*
 * Domains: creation, destruction, and stopping a domain that misbehaves
 * or asks to stop without disturbing anything else. Their emulated
 * devices are wired in arch/x86/hvm/vintr.c.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/mem_extent.h>
#include <keel/mm.h>
#include <keel/notify.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <keel/vcpu_loop.h>
#include <keel/vintr.h>

struct domain *domains[MAX_DOMAINS];
spinlock_t domlist_lock = SPINLOCK_INIT;

void domlist_acquire(void)
{
	uint16_t me =
	    __atomic_fetch_add(&domlist_lock.next, 1, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&domlist_lock.owner, __ATOMIC_ACQUIRE) != me)
		vcpu_loop_wait_step();
}

void domlist_release(void)
{
	spin_unlock(&domlist_lock);
}

static void vcpu_free(struct vcpu *v)
{
	hvm->vcpu_destroy(v);
	fpu_vcpu_destroy(v);
	xfree(v);
}

static struct vcpu *vcpu_create(struct domain *d, unsigned id)
{
	struct vcpu *v = xzalloc(sizeof(*v));

	if (!v)
		return NULL;
	v->dom = d;
	v->id = id;
	v->state = id == 0 ? VCPU_RUNNABLE : VCPU_DOWN;
	v->pcpu = -1;
	vintr_vcpu_init(v);
	if (fpu_vcpu_init(v) || hvm->vcpu_create(v)) {
		vcpu_free(v);
		return NULL;
	}
	return v;
}

/* What a domain holds besides its vCPUs; d is not running. */
static void domain_free(struct domain *d)
{
	for (unsigned i = 0; d->extents_from_keel && i < d->nr_extents; i++) {
		uint64_t pa = d->extents[i].hpa, end = pa + d->extents[i].len;

		/* In the largest aligned blocks, as boot_domains.c took it. */
		while (pa < end) {
			unsigned order = 0;

			while (order < MAX_ORDER &&
			       IS_ALIGNED(pa, PAGE_SIZE << (order + 1)) &&
			       (PAGE_SIZE << (order + 1)) <= end - pa)
				order++;
			frames_free(pa, order);
			pa += PAGE_SIZE << order;
		}
	}
	p2m_destroy(d);
	domain_extents_free(d);
	xfree(d);
}

struct domain *domain_create(unsigned id, const char *name, bool privileged,
			     unsigned nr_vcpus)
{
	struct domain *d;

	if (id >= MAX_DOMAINS || domains[id] || !nr_vcpus ||
	    nr_vcpus > MAX_VCPUS)
		return NULL;
	d = xzalloc(sizeof(*d));
	if (!d)
		return NULL;
	d->id = id;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->privileged = privileged;
	d->state = DOM_BUILDING;
	if (vintr_domain_init(d) || p2m_init(d)) {
		domain_free(d);
		return NULL;
	}
	for (unsigned i = 0; i < nr_vcpus; i++) {
		d->vcpus[i] = vcpu_create(d, i);
		if (!d->vcpus[i]) {
			while (d->nr_vcpus)
				vcpu_free(d->vcpus[--d->nr_vcpus]);
			domain_free(d);
			return NULL;
		}
		d->nr_vcpus++;
	}
	__atomic_store_n(&domains[id], d, __ATOMIC_RELEASE);
	trace_domain(d, KEEL_TRACE_DOM_CREATE, 0);
	return d;
}

void domain_stop_vcpus(struct domain *d)
{
	ASSERT_LOCKED(&d->lock);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		d->vcpus[i]->state = VCPU_STOPPED;
		vcpu_sleep(d->vcpus[i]);
	}
}

void domain_shutdown(struct domain *d, uint32_t reason)
{
	ASSERT_LOCKED(&d->lock);
	if (d->state != DOM_RUNNING && d->state != DOM_PAUSED)
		return;
	d->state = DOM_SHUTDOWN;
	d->shutdown_reason = reason;
	trace_domain(d, KEEL_TRACE_DOM_SHUTDOWN, reason);
	domain_stop_vcpus(d);
	printk("d%u '%s': shut down (%s)\n", d->id, d->name,
	       reason == KEEL_SHUTDOWN_REBOOT ? "reboot" : "poweroff");
	if (!d->privileged)
		dom0_notify(); /* its toolstack acts on on_poweroff/reboot */
}

/*
 * Order matters: nobody may run d (stopped, evicted, off the run queues)
 * before its nested page tables go, and no CPU may hold a pointer into d
 * (quiesced) before it is freed. Every wait below runs with no lock held:
 * the CPUs waited for may need any lock (d's, Dom0's, the scheduler's) to
 * get to the point waited for. ASIDs and VPIDs need no freeing: they come
 * from per-CPU generations, and a tag is never handed to another vCPU
 * without a flush (keel/asid.h), so the dead vCPUs' TLB entries are
 * unreachable.
 */
void domain_destroy(struct domain *d)
{
	unsigned id = d->id;

	if (id == DOM0_ID)
		panic("domain_destroy: Dom0");
	trace_domain(d, KEEL_TRACE_DOM_DESTROY, 0);
	spin_lock(&d->lock);
	domain_stop_vcpus(d);
	spin_unlock(&d->lock);
	/* No CPU enters d again; kick out those inside and wait. */
	hvm->p2m_flush(d);
	vcpu_loop_evict_domain(d, true);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpus[i];

		/* -EBUSY until its CPU has scheduled something else. */
		while (sched->vcpu_remove(v) == -EBUSY)
			vcpu_loop_wait_step();
		while (__atomic_load_n(&v->fpu_live, __ATOMIC_ACQUIRE))
			vcpu_loop_wait_step();
	}
	/* Unmapped before the tables go: the eviction above left no CPU in
	 * d, and none enters it again. */
	for (unsigned i = 0; i < d->nr_extents; i++)
		p2m_unmap(d, d->extents[i].gpa, d->extents[i].len);
	domlist_acquire();
	__atomic_store_n(&domains[id], NULL, __ATOMIC_RELEASE);
	domlist_release();
	vcpu_loop_quiesce();
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		vcpu_free(d->vcpus[i]);
	domain_free(d);
}

void vcpu_dump_registers(struct vcpu *v)
{
	struct guest_state s;

	hvm->get_state(v, &s);
	printk("d%u v%u: RIP %04x:%016lx RFLAGS %lx CPL %u\n", v->dom->id,
	       v->id, s.cs.sel, s.rip, s.rflags, s.cpl);
	printk("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n",
	       v->gpr[GPR_RAX], v->gpr[GPR_RBX], v->gpr[GPR_RCX],
	       v->gpr[GPR_RDX]);
	printk("  RSI %016lx RDI %016lx RBP %016lx RSP %016lx\n",
	       v->gpr[GPR_RSI], v->gpr[GPR_RDI], v->gpr[GPR_RBP],
	       v->gpr[GPR_RSP]);
	printk("  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n",
	       v->gpr[GPR_R8], v->gpr[GPR_R9], v->gpr[GPR_R10],
	       v->gpr[GPR_R11]);
	printk("  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n",
	       v->gpr[GPR_R12], v->gpr[GPR_R13], v->gpr[GPR_R14],
	       v->gpr[GPR_R15]);
	printk("  CR0 %lx CR2 %lx CR3 %lx CR4 %lx EFER %lx\n", s.cr0, s.cr2,
	       s.cr3, s.cr4, s.efer);
}

void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	va_list ap;

	if (d->state == DOM_CRASHED)
		return;
	va_start(ap, fmt);
	vsnprintf(d->crash_reason, sizeof(d->crash_reason), fmt, ap);
	va_end(ap);
	d->state = DOM_CRASHED;
	trace_domain(d, KEEL_TRACE_DOM_CRASH, 0);
	printk("d%u: domain crashed: %s\n", d->id, d->crash_reason);
	if (culprit)
		vcpu_dump_registers(culprit);
	domain_stop_vcpus(d);
	printk("d%u (%s) stopped; Keel keeps running (Ctrl-A x3 for the "
	       "debug console)\n",
	       d->id, d->name);
	if (!d->privileged)
		dom0_notify(); /* its toolstack acts on on_crash */
}
