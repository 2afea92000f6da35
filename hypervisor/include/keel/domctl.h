/* SPDX-License-Identifier: MIT */
/*
 * The domain-control hypercalls (common/domctl.c), for the table in
 * common/hypercall.c. Arguments in the order of public/keel.h; each
 * returns the value for the caller's RAX.
 */
#ifndef KEEL_DOMCTL_H
#define KEEL_DOMCTL_H

#include <keel/domain.h>

int64_t hc_domain_create(struct vcpu *caller, uint64_t gpa, uint64_t size,
			 uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_domain_destroy(struct vcpu *caller, uint64_t domid, uint64_t a2,
			  uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_domain_pause(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_domain_unpause(struct vcpu *caller, uint64_t domid, uint64_t a2,
			  uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_domain_start(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_domain_info(struct vcpu *caller, uint64_t first, uint64_t gpa,
		       uint64_t size, uint64_t a4, uint64_t a5);
int64_t hc_memory_map(struct vcpu *caller, uint64_t domid, uint64_t gpa,
		      uint64_t n, uint64_t a4, uint64_t a5);
int64_t hc_vcpu_boot_state(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
			   uint64_t gpa, uint64_t size, uint64_t a5);
int64_t hc_vcpu_affinity(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
			 uint64_t mask, uint64_t a4, uint64_t a5);
int64_t hc_vcpu_info(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
		     uint64_t gpa, uint64_t size, uint64_t a5);
int64_t hc_sched_set(struct vcpu *caller, uint64_t domid, uint64_t weight,
		     uint64_t cap, uint64_t a4, uint64_t a5);
int64_t hc_console_setup(struct vcpu *caller, uint64_t domid, uint64_t gpa,
			 uint64_t size, uint64_t a4, uint64_t a5);
int64_t hc_console_kick(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_dmesg(struct vcpu *caller, uint64_t gpa, uint64_t size,
		 uint64_t flags, uint64_t a4, uint64_t a5);

int64_t hc_ioreq_setup(struct vcpu *caller, uint64_t domid, uint64_t gpa,
		       uint64_t size, uint64_t a4, uint64_t a5);
int64_t hc_ioreq_range(struct vcpu *caller, uint64_t domid, uint64_t op,
		       uint64_t flags, uint64_t start, uint64_t len);
int64_t hc_ioreq_done(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
		      uint64_t a3, uint64_t a4, uint64_t a5);
int64_t hc_irq_line(struct vcpu *caller, uint64_t domid, uint64_t gsi,
		    uint64_t op, uint64_t a4, uint64_t a5);

#endif
