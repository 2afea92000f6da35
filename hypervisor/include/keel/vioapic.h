/* SPDX-License-Identifier: MIT */
/*
 * Virtual I/O APIC: an 82093AA-style IOAPIC, version 0x20 (with the EOI
 * register), 24 pins, reached through IOREGSEL/IOWIN in its MMIO page. The
 * object knows nothing of domains or vLAPICs: interrupt messages and level
 * EOIs go out through struct vioapic_env.
 *
 * Pin state given to vioapic_set_pin is the logical assertion of the
 * interrupt request; the polarity bit is stored and read back for the guest
 * (and for programming the physical pin) but does not invert it.
 *
 * Locking: none inside; the integrator serialises calls on one vioapic.
 * Callbacks run synchronously after the state change that caused them, so
 * they may call back into the same vioapic (pin_eoi may call
 * vioapic_set_pin, for example) if the integrator's lock allows it.
 */
#ifndef KEEL_VIOAPIC_H
#define KEEL_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VIOAPIC_NR_PINS	  24u
#define VIOAPIC_VERSION	  0x20u
#define VIOAPIC_MMIO_SIZE 0x1000u /* the page the integrator traps */

/* MMIO registers (82093AA datasheet §3.0; EOI register from version 0x20). */
#define VIOAPIC_IOREGSEL 0x00u
#define VIOAPIC_IOWIN	 0x10u
#define VIOAPIC_EOI	 0x40u

/* Indirect registers selected by IOREGSEL (datasheet §3.2). */
#define VIOAPIC_REG_ID	    0x00u
#define VIOAPIC_REG_VERSION 0x01u
#define VIOAPIC_REG_ARB	    0x02u
#define VIOAPIC_REG_RTE0    0x10u /* pin n: low dword 0x10+2n, high 0x11+2n */

/* Redirection table entry (datasheet §3.2.4). */
#define VIOAPIC_RTE_VECTOR(rte)	       ((uint8_t)((rte)&0xFF))
#define VIOAPIC_RTE_DELIVERY_MODE(rte) ((uint8_t)(((rte) >> 8) & 7))
#define VIOAPIC_RTE_LOGICAL	       (1ull << 11)
#define VIOAPIC_RTE_DELIVERY_STATUS    (1ull << 12)
#define VIOAPIC_RTE_ACTIVE_LOW	       (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR	       (1ull << 14)
#define VIOAPIC_RTE_LEVEL	       (1ull << 15)
#define VIOAPIC_RTE_MASKED	       (1ull << 16)
#define VIOAPIC_RTE_DEST(rte)	       ((uint32_t)((rte) >> 56))

struct vioapic_env {
	/*
	 * An interrupt message for the vLAPIC(s): dest is the 8-bit RTE
	 * destination (physical APIC ID or logical mask, 0xFF broadcast),
	 * delivery_mode the RTE's (fixed, lowest priority, SMI, NMI, INIT,
	 * ExtINT; reserved modes are never delivered), level its trigger
	 * mode, which the vLAPIC records in its TMR.
	 */
	void (*deliver)(void *ctx, uint32_t dest, bool logical, uint8_t vector,
			uint8_t delivery_mode, bool level);
	/*
	 * A level-triggered pin's interrupt was EOI'd and its Remote IRR
	 * cleared. A pass-through integrator calls vioapic_set_pin(pin, false)
	 * here and unmasks the physical pin (it raises the line again if still
	 * asserted); a still-asserted virtual line is re-delivered on return.
	 */
	void (*pin_eoi)(void *ctx, unsigned pin);
};

struct vioapic {
	/* Set by vioapic_init, constant afterwards. */
	const struct vioapic_env *env;
	void *ctx;
	uint64_t base_pa;  /* guest-physical base of the MMIO page */
	uint32_t gsi_base; /* GSI of pin 0 */

	/* Guest-visible state, guarded by the integrator's lock. */
	uint8_t id;	  /* 4-bit IOAPIC ID */
	uint8_t ioregsel; /* selected indirect register */
	uint64_t rte[VIOAPIC_NR_PINS];
	uint32_t asserted; /* bit n: pin n's line is asserted */
};

/* Reset state: ID as given, every pin masked, edge, active high. */
void vioapic_init(struct vioapic *io, uint8_t id, uint64_t base_pa,
		  uint32_t gsi_base, const struct vioapic_env *env, void *ctx);

/*
 * An access at offset (0..VIOAPIC_MMIO_SIZE-1) from base_pa. Only aligned
 * 32-bit accesses to IOREGSEL, IOWIN and (writes) EOI are valid; others
 * return -EINVAL. Through IOWIN, undefined indirect registers read 0 and
 * ignore writes, as hardware does.
 */
int vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size,
		      uint64_t *val);
int vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size,
		       uint64_t val);

/*
 * The line on pin (0-based, not the GSI) is now asserted or not. Edge pins
 * deliver on a rising edge while unmasked; masked edge pins latch nothing.
 * Level pins deliver while asserted, unmasked and Remote IRR is clear. Pins
 * beyond VIOAPIC_NR_PINS are ignored.
 */
void vioapic_set_pin(struct vioapic *io, unsigned pin, bool asserted);

/*
 * A vLAPIC EOI'd a level-triggered vector (or the guest wrote the EOI
 * register): clear Remote IRR on every level pin with this vector, tell
 * the integrator, and re-deliver any such pin still asserted and unmasked.
 */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

#endif
