/* SPDX-License-Identifier: MIT */
/*
 * Domains: creation, the wiring of their emulated devices, and stopping
 * a domain that misbehaves without disturbing anything else.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/traps.h>

#define VIOAPIC_BASE 0xFEC00000ULL
#define VUART_ISA_IRQ 4
/* The vLAPIC timer runs at 1 GHz before division, as under KVM. */
#define VLAPIC_BUS_KHZ 1000000

struct domain *domains[MAX_DOMAINS];

/* vLAPIC environment: time is the guest TSC, IPIs go to sibling vCPUs. */
static uint64_t vl_now_tsc(void *ctx)
{
	struct vcpu *v = ctx;

	return rdtsc() + v->tsc_offset;
}

static void deliver_to_vcpu(struct vcpu *t, uint32_t icr_low)
{
	uint8_t vector = VLAPIC_ICR_VECTOR(icr_low);

	switch (VLAPIC_ICR_DELIVERY_MODE(icr_low)) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		vlapic_accept_irq(&t->vlapic, vector,
				  icr_low & VLAPIC_ICR_LEVEL_TRIGGER);
		break;
	case VLAPIC_DM_NMI:
		t->nmi_pending = true;
		vcpu_wake(t);
		break;
	case VLAPIC_DM_INIT:
		vcpu_init_signal(t);
		break;
	case VLAPIC_DM_STARTUP:
		vcpu_startup_ipi(t, vector);
		break;
	}
}

static void vl_send_ipi(void *ctx, uint32_t dest, bool x2apic_dest,
			uint32_t icr_low)
{
	struct vcpu *src = ctx;
	struct domain *d = src->dom;
	unsigned sh = VLAPIC_ICR_SHORTHAND(icr_low);

	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = d->vcpus[i];
		bool hit;

		switch (sh) {
		case VLAPIC_SHORTHAND_SELF:
			hit = t == src;
			break;
		case VLAPIC_SHORTHAND_ALL:
			hit = true;
			break;
		case VLAPIC_SHORTHAND_ALL_BUT_SELF:
			hit = t != src;
			break;
		default:
			hit = vlapic_match_dest(&t->vlapic, dest,
						icr_low & VLAPIC_ICR_LOGICAL,
						x2apic_dest);
		}
		if (hit)
			deliver_to_vcpu(t, icr_low);
	}
}

static void vl_eoi_level(void *ctx, uint8_t vector)
{
	struct vcpu *v = ctx;

	vioapic_eoi(&v->dom->vioapic, vector);
}

static void vl_kick(void *ctx)
{
	vcpu_wake(ctx);
}

static const struct vlapic_env vlapic_env = {
	.now_tsc = vl_now_tsc,
	.send_ipi = vl_send_ipi,
	.eoi_level = vl_eoi_level,
	.kick = vl_kick,
};

/* vIOAPIC environment: messages to vLAPICs, EOIs back to physical pins. */
static void io_deliver(void *ctx, uint32_t dest, bool logical, uint8_t vector,
		       uint8_t delivery_mode, bool level)
{
	struct domain *d = ctx;
	bool lowest = delivery_mode == VLAPIC_DM_LOWEST;

	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = d->vcpus[i];

		if (!vlapic_match_dest(&t->vlapic, dest, logical, false))
			continue;
		if (delivery_mode == VLAPIC_DM_NMI) {
			t->nmi_pending = true;
			vcpu_wake(t);
		} else {
			vlapic_accept_irq(&t->vlapic, vector, level);
		}
		if (lowest)
			break; /* lowest priority: the first match takes it */
	}
}

static void io_pin_eoi(void *ctx, unsigned pin)
{
	struct domain *d = ctx;

	if (d->privileged)
		gsi_guest_eoi(pin);
}

static const struct vioapic_env vioapic_env = {
	.deliver = io_deliver,
	.pin_eoi = io_pin_eoi,
};

/* vUART environment: bytes to Keel's console, interrupt to ISA IRQ 4. */
static void uart_tx(void *ctx, uint8_t byte)
{
	struct domain *d = ctx;

	/*
	 * Dom0's console is interactive: every byte goes out at once. Other
	 * domains are line-buffered so concurrent output stays readable.
	 */
	if (d->privileged) {
		console_guest_putc(d->id, (char)byte);
		return;
	}
	if (byte != '\n' && byte != '\r')
		d->con_buf[d->con_len++] = (char)byte;
	if (byte == '\n' || d->con_len == sizeof(d->con_buf)) {
		console_guest_line(d->name, d->con_buf, d->con_len);
		d->con_len = 0;
	}
}

static void uart_irq(void *ctx, bool level)
{
	struct domain *d = ctx;

	vioapic_set_pin(&d->vioapic, VUART_ISA_IRQ, level);
}

static const struct vuart_env vuart_env = {
	.tx = uart_tx,
	.irq = uart_irq,
};

static struct vcpu *vcpu_create(struct domain *d, unsigned id)
{
	struct vcpu *v = xzalloc(sizeof(*v));

	if (!v)
		return NULL;
	v->dom = d;
	v->id = id;
	v->state = id == 0 ? VCPU_RUNNABLE : VCPU_DOWN;
	v->pcpu = -1;
	vlapic_init(&v->vlapic, id, id == 0, tsc_khz(), VLAPIC_BUS_KHZ,
		    &vlapic_env, v);
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
	d->vioapic_base = VIOAPIC_BASE;
	d->weight = 256;
	if (p2m_init(d)) {
		xfree(d);
		return NULL;
	}
	vioapic_init(&d->vioapic, 0, VIOAPIC_BASE, 0, &vioapic_env, d);
	vuart_init(&d->vuart, &vuart_env, d);
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

void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt,
		  ...)
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
	       "debug console)\n", d->id, d->name);
}
