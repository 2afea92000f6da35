/* SPDX-License-Identifier: MIT */
/*
 * An hvm_ops table with the p2m entry operations, in the NPT format
 * arch/x86/svm/svm.c uses (the host page-table format, AMD APM vol. 2
 * §15.25.5), and one shared vCPU state, for tests that link
 * hypervisor/mm/p2m.c. Linking npt_ops.c
 * defines the hypervisor's `hvm` pointer.
 */
#ifndef TESTS_UNIT_NPT_OPS_H
#define TESTS_UNIT_NPT_OPS_H

#include <keel/hvm.h>

/* p2m_flush calls so far. */
extern unsigned npt_flushes;
/* TLB shootdowns p2m.c asked the vCPU loop for (vcpu_loop_evict_domain). */
extern unsigned npt_evictions;
/* What get_state returns and set_state writes (any vCPU). */
extern struct guest_state npt_vcpu_state;

#endif
