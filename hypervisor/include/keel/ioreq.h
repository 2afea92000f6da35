/* SPDX-License-Identifier: MIT */
/*
 * I/O requests (public/keel.h, KEEL_HC_IOREQ_*): DomU accesses to the
 * ranges Dom0 registered go to Dom0's device model through the domain's
 * ioreq page. The requesting vCPU waits, blocked, until Dom0 completes the
 * request; doorbell writes only leave a bit behind. Everything but
 * ioreq_notify_dom0() runs with the domain's lock held.
 */
#ifndef KEEL_IOREQ_H
#define KEEL_IOREQ_H

#include <keel/decode.h>
#include <keel/ioreq_range.h>

struct vcpu;
struct domain;

/* Keel's own record of a vCPU's request: the page is Dom0's to rewrite. */
struct vcpu_ioreq {
	bool waiting;	       /* posted; the vCPU is blocked on it */
	bool load;	       /* a read: the answer goes to a register */
	bool pio;	       /* IN: into RAX; else an MMIO load as `insn` */
	uint8_t size;	       /* of the access, bytes */
	struct mmio_insn insn; /* the MMIO load to finish */
	bool notify;	       /* Dom0 to notify once the lock is dropped */
};

struct dom_ioreq {
	uint64_t hpa; /* of the struct keel_ioreq_page; 0: none */
	struct ioreq_range ranges[KEEL_IOREQ_MAX_RANGES];
};

/* The two handlers (ports, MMIO) that claim d's ranges, in d's table. */
int ioreq_register_handlers(struct domain *d);
/* Starts using the page at host-physical hpa (checked by the caller). */
void ioreq_attach(struct domain *d, uint64_t hpa);
/*
 * Dom0 says it served v's request: 0, -EINVAL if v has none, -EBUSY if
 * the slot is not DONE. For a read, the answer goes to its register; v
 * runs again (if its domain does).
 */
int ioreq_complete(struct vcpu *v);
/* An MMIO load of v was deferred: what to finish it with (mmio.c). */
void ioreq_defer_load(struct vcpu *v, const struct mmio_insn *in);
/* The request is forgotten (INIT while v waited): it never completes. */
void ioreq_cancel(struct vcpu *v);
/* After v's exit, without any lock: raises Dom0's notification if v's
 * exit asked for it. */
void ioreq_notify_dom0(struct vcpu *v);

#endif
