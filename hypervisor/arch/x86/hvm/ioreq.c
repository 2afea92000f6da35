/* SPDX-License-Identifier: MIT */
/*
 * I/O requests (keel/ioreq.h): the handlers that turn a DomU's access to
 * a registered range into a request in its vCPU's slot of the ioreq page,
 * and the completion Dom0 asks for.
 *
 * The vCPU's instruction is retired when the request is posted (RIP moves
 * on, on the CPU that handles the exit, where the vendor state is
 * loaded); a read's value is written to the register later, by whichever
 * CPU handles Dom0's IOREQ_DONE. That is safe because the vCPU does not
 * run in between: it is blocked and `waiting` keeps interrupts from
 * waking it (vcpu_wake()), and its registers live in struct vcpu while it
 * is off the CPU.
 *
 * The page is Dom0's and may change under Keel at any time: Keel only
 * writes a slot's fields, reads `state` and `data` once each, and keeps
 * what it needs to finish the access in struct vcpu_ioreq.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/ioreq.h>
#include <keel/mm.h>
#include <keel/notify.h>
#include <keel/sched.h>
#include <keel/vintr.h>

/* Every vCPU has its slot; IRQ_LINE's forbidden pin is COM1's. */
_Static_assert(MAX_VCPUS <= KEEL_MAX_VCPUS, "a slot per vCPU");
_Static_assert(KEEL_DOMU_COM1_GSI == VINTR_COM1_IRQ, "COM1's pin");

static struct keel_ioreq_page *page_of(struct domain *d)
{
	return phys_to_virt(d->ioreq.hpa);
}

void ioreq_attach(struct domain *d, uint64_t hpa)
{
	struct keel_ioreq_page *p;

	ASSERT_LOCKED(&d->lock);
	d->ioreq.hpa = hpa;
	p = page_of(d);
	for (unsigned i = 0; i < KEEL_MAX_VCPUS; i++)
		__atomic_store_n(&p->slot[i].state, KEEL_IOREQ_FREE,
				 __ATOMIC_RELEASE);
	for (unsigned i = 0; i < KEEL_IOREQ_MAX_RANGES; i++)
		__atomic_store_n(&p->doorbell[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->doorbell_pending, 0, __ATOMIC_RELEASE);
}

static bool claims(const struct hvm_io_handler *h, struct vcpu *v,
		   uint64_t addr)
{
	struct domain *d = v->dom;

	return d->ioreq.hpa &&
	       ioreq_range_find(d->ioreq.ranges, KEEL_IOREQ_MAX_RANGES,
				h->space == HVM_IO_PORT, addr) >= 0;
}

/* The range `claims` found for addr (the lock is held throughout). */
static int range_of(const struct hvm_io_handler *h, struct vcpu *v,
		    uint64_t addr)
{
	return ioreq_range_find(v->dom->ioreq.ranges, KEEL_IOREQ_MAX_RANGES,
				h->space == HVM_IO_PORT, addr);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Fills v's slot, publishes it and blocks v until IOREQ_DONE. */
static int post(const struct hvm_io_handler *h, struct vcpu *v, int range,
		uint64_t addr, unsigned size, bool write, uint64_t val)
{
	struct keel_ioreq *s = &page_of(v->dom)->slot[v->id];
	bool pio = h->space == HVM_IO_PORT;

	__atomic_store_n(&s->addr, addr, __ATOMIC_RELAXED);
	/* OUT passes all of EAX: only the port's width is written. */
	__atomic_store_n(&s->data, write ? val & size_mask(size) : 0,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->size, (uint8_t)size, __ATOMIC_RELAXED);
	__atomic_store_n(&s->type,
			 pio ? KEEL_IOREQ_TYPE_PIO : KEEL_IOREQ_TYPE_MMIO,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->dir, write ? KEEL_IOREQ_WRITE : KEEL_IOREQ_READ,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->range, (uint8_t)range, __ATOMIC_RELAXED);
	/* The fields before the state that hands them over. */
	__atomic_store_n(&s->state, KEEL_IOREQ_PENDING, __ATOMIC_RELEASE);
	__atomic_store_n(&v->ioreqs, v->ioreqs + 1, __ATOMIC_RELAXED);
	v->ioreq = (struct vcpu_ioreq){
	    .waiting = true, .load = !write, .pio = pio, .size = (uint8_t)size};
	__atomic_store_n(&v->ioreq.notify, true, __ATOMIC_RELEASE);
	v->state = VCPU_BLOCKED;
	vcpu_sleep(v);
	return HVM_IO_DEFERRED;
}

static int ioreq_read(const struct hvm_io_handler *h, struct vcpu *v,
		      uint64_t addr, unsigned size, uint64_t *val)
{
	int r = range_of(h, v, addr);

	/* A doorbell has nothing to read. */
	if (r < 0 || (v->dom->ioreq.ranges[r].flags & KEEL_IOREQ_F_DOORBELL)) {
		*val = ~0ULL;
		return 0;
	}
	return post(h, v, r, addr, size, false, 0);
}

static int ioreq_write(const struct hvm_io_handler *h, struct vcpu *v,
		       uint64_t addr, unsigned size, uint64_t val)
{
	struct keel_ioreq_page *p = page_of(v->dom);
	int r = range_of(h, v, addr);

	if (r < 0)
		return 0;
	if (!(v->dom->ioreq.ranges[r].flags & KEEL_IOREQ_F_DOORBELL))
		return post(h, v, r, addr, size, true, val);
	__atomic_fetch_or(&p->doorbell[r], 1ULL << (val % 64),
			  __ATOMIC_RELEASE);
	__atomic_fetch_or(&p->doorbell_pending, 1ULL << r, __ATOMIC_RELEASE);
	__atomic_store_n(&v->ioreq.notify, true, __ATOMIC_RELEASE);
	return 0;
}

static const struct hvm_io_ops ioreq_io = {
    .claims = claims,
    .read = ioreq_read,
    .write = ioreq_write,
};

int ioreq_register_handlers(struct domain *d)
{
	if (hvm_io_register(d, HVM_IO_PORT, 0, 0, &ioreq_io, NULL) ||
	    hvm_io_register(d, HVM_IO_MMIO, 0, 0, &ioreq_io, NULL))
		return -ENOSPC;
	return 0;
}

void ioreq_defer_load(struct vcpu *v, const struct mmio_insn *in)
{
	v->ioreq.insn = *in;
}

void ioreq_cancel(struct vcpu *v)
{
	v->ioreq.waiting = false;
}

int ioreq_complete(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct keel_ioreq *s;
	uint64_t data, mask;

	ASSERT_LOCKED(&d->lock);
	if (!d->ioreq.hpa || !v->ioreq.waiting)
		return -EINVAL;
	s = &page_of(d)->slot[v->id];
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != KEEL_IOREQ_DONE)
		return -EBUSY;
	data = __atomic_load_n(&s->data, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, KEEL_IOREQ_FREE, __ATOMIC_RELEASE);
	v->ioreq.waiting = false;
	mask = size_mask(v->ioreq.size);
	if (v->ioreq.load && v->ioreq.pio) {
		/* IN: a 32-bit destination zero-extends, narrower merge. */
		if (v->ioreq.size == 4)
			v->gpr[GPR_RAX] = (uint32_t)data;
		else
			v->gpr[GPR_RAX] =
			    (v->gpr[GPR_RAX] & ~mask) | (data & mask);
	} else if (v->ioreq.load) {
		insn_mmio_load_result(&v->ioreq.insn, v->gpr, data & mask);
	}
	/* Blocked on the request unless the domain stopped it meanwhile. */
	if (v->state == VCPU_BLOCKED)
		vcpu_wake(v);
	return 0;
}

void ioreq_notify_dom0(struct vcpu *v)
{
	/* Another CPU may post v's next request meanwhile: take the flag. */
	if (__atomic_exchange_n(&v->ioreq.notify, false, __ATOMIC_ACQ_REL))
		dom0_notify();
}
