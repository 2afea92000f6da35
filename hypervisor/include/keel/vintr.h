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
/*
 * One more vIOAPIC for d at base_pa, its pin 0 being GSI gsi_base, wired
 * like d's own; the caller owns io and drives its pins under d's lock.
 * Level-triggered EOIs reach only d's own vIOAPIC, so io's pins must be
 * edge-triggered. -ENOSPC if the handler table is full.
 */
int vintr_add_ioapic(struct domain *d, struct vioapic *io, uint8_t id,
		     uint64_t base_pa, uint32_t gsi_base);
/* v's vLAPIC (v->dom and v->id set), wired to its siblings and its
 * domain's vIOAPIC. */
void vintr_vcpu_init(struct vcpu *v);

#endif
