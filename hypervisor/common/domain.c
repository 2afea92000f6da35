/* SPDX-License-Identifier: MIT */
/*
 * Domains: creation, and stopping a domain that misbehaves without
 * disturbing anything else. Their emulated devices are wired in
 * arch/x86/hvm/vintr.c.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/vintr.h>

struct domain *domains[MAX_DOMAINS];

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
		hvm->vcpu_destroy(v);
		fpu_vcpu_destroy(v);
		xfree(v);
		return NULL;
	}
	return v;
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
	d->state = DOM_PAUSED;
	if (vintr_domain_init(d) || p2m_init(d)) {
		xfree(d);
		return NULL;
	}
	for (unsigned i = 0; i < nr_vcpus; i++) {
		d->vcpus[i] = vcpu_create(d, i);
		if (!d->vcpus[i])
			panic("out of memory creating d%u vCPU %u", id, i);
		d->nr_vcpus++;
	}
	domains[id] = d;
	return d;
}

bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < d->nr_ranges; i++)
		if (pa >= d->ram[i].start && pa + len <= d->ram[i].end &&
		    pa + len >= pa)
			return true;
	return false;
}

static void dump_vcpu(struct vcpu *v)
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
	printk("d%u: domain crashed: %s\n", d->id, d->crash_reason);
	if (culprit)
		dump_vcpu(culprit);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		d->vcpus[i]->state = VCPU_STOPPED;
		if (d->vcpus[i]->pcpu >= 0)
			vcpu_sleep(d->vcpus[i]);
	}
	printk("d%u (%s) stopped; Keel keeps running (Ctrl-A x3 for the "
	       "debug console)\n",
	       d->id, d->name);
}
