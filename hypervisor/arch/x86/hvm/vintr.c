/* SPDX-License-Identifier: MIT */
/*
 * The virtual platform of a domain: its vLAPICs, vIOAPIC and vUART, what
 * they are wired to (sibling vCPUs, physical GSIs, Keel's console) and
 * their entries in the domain's I/O handler table (hvm_io.h).
 */
#include <keel/console.h>
#include <keel/dom_console.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/irq.h>
#include <keel/sched.h>
#include <keel/vintr.h>

#define VIOAPIC_BASE  VINTR_VIOAPIC_BASE
#define VUART_BASE    VINTR_COM1_BASE
#define VUART_ISA_IRQ VINTR_COM1_IRQ
/* The vLAPIC timer runs at 1 GHz before division, as under KVM. */
#define VLAPIC_BUS_KHZ 1000000

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

	ASSERT_LOCKED(&d->lock);
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

	ASSERT_LOCKED(&d->lock);
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

	/* With a ring set up by Dom0 (`kl console`), Keel's console never
	 * sees the domain's output. */
	if (d->console.hpa) {
		dom_console_put(d, byte);
		return;
	}
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

	ASSERT_LOCKED(&d->lock);
	vioapic_set_pin(&d->vioapic, VUART_ISA_IRQ, level);
}

static const struct vuart_env vuart_env = {
    .tx = uart_tx,
    .irq = uart_irq,
};

/* The xAPIC page of the accessing vCPU; in x2APIC mode it is plain memory
 * (Intel SDM vol. 3A §10.12.2: the MMIO interface is disabled). */
static bool vlapic_claims(const struct hvm_io_handler *h, struct vcpu *v,
			  uint64_t addr)
{
	(void)h;
	return (addr & ~(PAGE_SIZE - 1)) == vlapic_base(&v->vlapic) &&
	       !vlapic_x2apic_mode(&v->vlapic);
}

static int vlapic_read(const struct hvm_io_handler *h, struct vcpu *v,
		       uint64_t addr, unsigned size, uint64_t *val)
{
	(void)h;
	return vlapic_mmio_read(&v->vlapic, addr - vlapic_base(&v->vlapic),
				size, val);
}

static int vlapic_write(const struct hvm_io_handler *h, struct vcpu *v,
			uint64_t addr, unsigned size, uint64_t val)
{
	(void)h;
	return vlapic_mmio_write(&v->vlapic, addr - vlapic_base(&v->vlapic),
				 size, val);
}

static const struct hvm_io_ops vlapic_io = {
    .claims = vlapic_claims,
    .read = vlapic_read,
    .write = vlapic_write,
};

static int vioapic_read(const struct hvm_io_handler *h, struct vcpu *v,
			uint64_t addr, unsigned size, uint64_t *val)
{
	(void)v;
	return vioapic_mmio_read(h->dev, addr - h->base, size, val);
}

static int vioapic_write(const struct hvm_io_handler *h, struct vcpu *v,
			 uint64_t addr, unsigned size, uint64_t val)
{
	(void)v;
	return vioapic_mmio_write(h->dev, addr - h->base, size, val);
}

static const struct hvm_io_ops vioapic_io = {
    .read = vioapic_read,
    .write = vioapic_write,
};

/* The 16550's registers are bytes: wider accesses are refused. */
static int vuart_read(const struct hvm_io_handler *h, struct vcpu *v,
		      uint64_t port, unsigned size, uint64_t *val)
{
	uint8_t b;
	int rc;

	if (size != 1)
		return -EINVAL;
	rc = vuart_io_read(h->dev, port - h->base, &b);
	*val = b;
	/* The guest may have made room in its receive FIFO. */
	console_input_resume(v->dom);
	dom_console_pull(v->dom);
	return rc;
}

static int vuart_write(const struct hvm_io_handler *h, struct vcpu *v,
		       uint64_t port, unsigned size, uint64_t val)
{
	int rc;

	if (size != 1)
		return -EINVAL;
	rc = vuart_io_write(h->dev, port - h->base, (uint8_t)val);
	console_input_resume(v->dom);
	dom_console_pull(v->dom);
	return rc;
}

static const struct hvm_io_ops vuart_io = {
    .read = vuart_read,
    .write = vuart_write,
};

int vintr_add_ioapic(struct domain *d, struct vioapic *io, uint8_t id,
		     uint64_t base_pa, uint32_t gsi_base)
{
	vioapic_init(io, id, base_pa, gsi_base, &vioapic_env, d);
	return hvm_io_register(d, HVM_IO_MMIO, base_pa, PAGE_SIZE, &vioapic_io,
			       io);
}

int vintr_domain_init(struct domain *d)
{
	vioapic_init(&d->vioapic, 0, VIOAPIC_BASE, 0, &vioapic_env, d);
	vuart_init(&d->vuart, &vuart_env, d);
	/* The vLAPIC first: a guest may move its page over the vIOAPIC's. */
	if (hvm_io_register(d, HVM_IO_MMIO, 0, 0, &vlapic_io, NULL) ||
	    hvm_io_register(d, HVM_IO_MMIO, VIOAPIC_BASE, PAGE_SIZE,
			    &vioapic_io, &d->vioapic) ||
	    hvm_io_register(d, HVM_IO_PORT, VUART_BASE, VUART_NR_PORTS,
			    &vuart_io, &d->vuart))
		return -ENOSPC;
	return 0;
}

void vintr_vcpu_init(struct vcpu *v)
{
	vlapic_init(&v->vlapic, v->id, v->id == 0, tsc_khz(), VLAPIC_BUS_KHZ,
		    &vlapic_env, v);
}
