/* SPDX-License-Identifier: MIT */
/*
 * The console ring a domain's COM1 talks through once Dom0 set one up.
 * Dom0 can rewrite the ring at any time, so Keel keeps its own copies of
 * the indices it owns (out_prod, in_cons) and only ever writes those to
 * the ring; the ones it reads (in_prod) are masked before use and their
 * distance from Keel's copy is clamped, whatever Dom0 wrote.
 */
#include <keel/dom_console.h>
#include <keel/mm.h>
#include <keel/notify.h>

static struct keel_console_ring *ring_of(struct domain *d)
{
	return phys_to_virt(d->console.hpa);
}

/* After an index moved: tell Dom0 if it asked (keel.h's `notify`). */
static void notify_if_asked(struct keel_console_ring *r, uint32_t bit)
{
	/* The index store before the look at the bit (Dom0: the reverse). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&r->notify, __ATOMIC_RELAXED) & bit))
		return;
	if (__atomic_fetch_and(&r->notify, ~bit, __ATOMIC_SEQ_CST) & bit)
		dom0_notify();
}

void dom_console_attach(struct domain *d, uint64_t hpa, uint32_t size)
{
	struct keel_console_ring *r;

	ASSERT_LOCKED(&d->lock);
	d->console.hpa = hpa;
	d->console.out_size = KEEL_CONSOLE_OUT_SIZE(size);
	d->console.out_prod = 0;
	d->console.in_cons = 0;
	r = ring_of(d);
	__atomic_store_n(&r->out_prod, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->in_cons, 0, __ATOMIC_RELEASE);
}

void dom_console_put(struct domain *d, uint8_t byte)
{
	struct keel_console_ring *r = ring_of(d);
	volatile char *out = (volatile char *)r + KEEL_CONSOLE_OUT_OFFSET;
	uint32_t prod = d->console.out_prod;

	ASSERT_LOCKED(&d->lock);
	out[prod & (d->console.out_size - 1)] = (char)byte;
	d->console.out_prod = prod + 1;
	/* The byte before the index that publishes it. */
	__atomic_store_n(&r->out_prod, prod + 1, __ATOMIC_RELEASE);
	notify_if_asked(r, KEEL_CONSOLE_NOTIFY_OUT);
}

void dom_console_pull(struct domain *d)
{
	struct keel_console_ring *r;
	uint32_t prod, avail;

	ASSERT_LOCKED(&d->lock);
	if (!d->console.hpa)
		return;
	r = ring_of(d);
	prod = __atomic_load_n(&r->in_prod, __ATOMIC_ACQUIRE);
	avail = MIN(prod - d->console.in_cons, (uint32_t)KEEL_CONSOLE_IN_SIZE);
	while (avail && vuart_rx_space(&d->vuart)) {
		uint32_t i = d->console.in_cons & (KEEL_CONSOLE_IN_SIZE - 1);

		vuart_rx_push(&d->vuart, (uint8_t)((volatile char *)r->in)[i]);
		d->console.in_cons++;
		avail--;
	}
	if (__atomic_load_n(&r->in_cons, __ATOMIC_RELAXED) ==
	    d->console.in_cons)
		return;
	__atomic_store_n(&r->in_cons, d->console.in_cons, __ATOMIC_RELEASE);
	notify_if_asked(r, KEEL_CONSOLE_NOTIFY_IN);
}
