/* SPDX-License-Identifier: MIT */
/*
 * Per-domain device handlers for guest port I/O and MMIO (after Xen's
 * hvm/intercept.c and FreeBSD's vmm_ioport.c). Each emulated device
 * registers the ranges it serves when its domain is built; the exit
 * handlers look an access up here and know no device. A range served by a
 * device model in Dom0 (an I/O request) is one more kind of handler.
 */
#ifndef KEEL_HVM_IO_H
#define KEEL_HVM_IO_H

#include <keel/lib.h>

struct vcpu;
struct domain;

enum hvm_io_space { HVM_IO_PORT, HVM_IO_MMIO };

struct hvm_io_handler;

/* Called with the domain's lock held, by the CPU handling v's exit. */
struct hvm_io_ops {
	/* Whether the access at addr is this handler's, for a range that
	 * moves per vCPU (the xAPIC page); NULL: [base, base + len). */
	bool (*claims)(const struct hvm_io_handler *h, struct vcpu *v,
		       uint64_t addr);
	/*
	 * 0, an error (negative: the guest then gets #GP), or
	 * HVM_IO_DEFERRED: the access went to Dom0 as an I/O request and
	 * the vCPU waits for it (ioreq.h); a read's value comes later.
	 */
	int (*read)(const struct hvm_io_handler *h, struct vcpu *v,
		    uint64_t addr, unsigned size, uint64_t *val);
	int (*write)(const struct hvm_io_handler *h, struct vcpu *v,
		     uint64_t addr, unsigned size, uint64_t val);
};

struct hvm_io_handler {
	enum hvm_io_space space;
	uint64_t base, len; /* ports or guest-physical bytes */
	const struct hvm_io_ops *ops;
	void *dev; /* the device's state, for ops */
};

#define HVM_MAX_IO_HANDLERS 10
#define HVM_IO_DEFERRED	    1

/* Adds a range to d's table while d is built (before it runs); -ENOSPC
 * when the table is full. Earlier registrations win on overlap. */
int hvm_io_register(struct domain *d, enum hvm_io_space space, uint64_t base,
		    uint64_t len, const struct hvm_io_ops *ops, void *dev);
/* The handler of v's domain for an access at addr, or NULL. */
const struct hvm_io_handler *
hvm_io_find(struct vcpu *v, enum hvm_io_space space, uint64_t addr);

#endif
