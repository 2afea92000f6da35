/* SPDX-License-Identifier: MIT */
/*
 * Trace rings (common/trace.c, ABI in public/keel.h): one fixed-size
 * record per event in the ring of the CPU that handled it. Off, every
 * hook costs one load of a read-mostly flag and a branch predicted not
 * taken.
 */
#ifndef KEEL_TRACE_H
#define KEEL_TRACE_H

#include <keel/domain.h>
#include <public/keel.h>

struct vm_exit;

/* Written only by KEEL_HC_TRACE (trace_ctl.c), which waits for every
 * CPU to see it. */
extern bool trace_on;
/* Each CPU's ring while trace_on; written only by its CPU (trace.c). */
extern struct keel_trace_ring *trace_rings[];

void trace_write_exit(const struct vcpu *v, const struct vm_exit *e,
		      uint64_t exited, uint64_t done);
void trace_write(uint16_t domid, uint16_t vcpu, uint8_t kind, uint8_t reason,
		 uint64_t qual);

/* An exit handled from TSC `exited` to `done` (the two reads the loop
 * already takes). */
static inline void trace_exit(const struct vcpu *v, const struct vm_exit *e,
			      uint64_t exited, uint64_t done)
{
	if (__builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_ACQUIRE), 0))
		trace_write_exit(v, e, exited, done);
}

static inline void trace_vcpu(const struct vcpu *v, uint8_t kind,
			      uint8_t reason, uint64_t qual)
{
	if (__builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_ACQUIRE), 0))
		trace_write((uint16_t)v->dom->id, (uint16_t)v->id, kind, reason,
			    qual);
}

static inline void trace_domain(const struct domain *d, uint8_t reason,
				uint64_t qual)
{
	if (__builtin_expect(__atomic_load_n(&trace_on, __ATOMIC_ACQUIRE), 0))
		trace_write((uint16_t)d->id, 0, KEEL_TRACE_DOMAIN, reason,
			    qual);
}

int64_t hc_trace(struct vcpu *caller, uint64_t op, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5);
/* Enables tracing at boot when Keel's command line says trace=PAGES. */
void trace_boot(struct domain *dom0);

#endif
