/* SPDX-License-Identifier: MIT */
/* Wiring a domain's virtual interrupt controllers and serial port. */
#ifndef KEEL_VINTR_H
#define KEEL_VINTR_H

#include <keel/domain.h>

/* d's vIOAPIC and vUART, and the MMIO and port ranges of its devices in
 * d's handler table; -ENOSPC if they do not fit. */
int vintr_domain_init(struct domain *d);
/* v's vLAPIC (v->dom and v->id set), wired to its siblings and its
 * domain's vIOAPIC. */
void vintr_vcpu_init(struct vcpu *v);

#endif
