/* SPDX-License-Identifier: MIT */
/* Wiring a domain's virtual interrupt controllers and serial port. */
#ifndef KEEL_VINTR_H
#define KEEL_VINTR_H

#include <keel/domain.h>

/* Where a domain's vIOAPIC page and COM1 sit (ISA IRQ 4: pin 4). */
#define VINTR_VIOAPIC_BASE 0xFEC00000ULL
#define VINTR_COM1_BASE	   0x3F8
#define VINTR_COM1_IRQ	   4

/* d's vIOAPIC and vUART, and the MMIO and port ranges of its devices in
 * d's handler table; -ENOSPC if they do not fit. */
int vintr_domain_init(struct domain *d);
/* v's vLAPIC (v->dom and v->id set), wired to its siblings and its
 * domain's vIOAPIC. */
void vintr_vcpu_init(struct vcpu *v);

#endif
