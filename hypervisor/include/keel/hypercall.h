/* SPDX-License-Identifier: MIT */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <keel/domain.h>

/* Runs the hypercall in the vCPU's registers; returns the RAX result. */
uint64_t hypercall_dispatch(struct vcpu *v);

#endif
