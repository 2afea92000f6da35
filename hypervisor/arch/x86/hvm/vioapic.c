/* SPDX-License-Identifier: MIT */
/*
 * Virtual I/O APIC (Intel 82093AA datasheet, version 0x20 with the EOI
 * register as in the ICH/PCH IOAPICs).
 *
 * Level-triggered pins follow the Remote IRR protocol: a delivery sets
 * Remote IRR and nothing more is sent on that pin until the local APIC's
 * EOI clears it, so a line held asserted is delivered once per EOI rather
 * than in a storm. Edge pins send one message per rising edge while
 * unmasked and latch nothing while masked.
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vioapic.h>

/* Version register: version in 7:0, maximum redirection entry in 23:16. */
#define VERSION_VALUE (VIOAPIC_VERSION | (VIOAPIC_NR_PINS - 1) << 16)

#define ID_SHIFT 24
#define ID_MASK	 0xFu

/*
 * Guest-writable RTE bits: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask (low dword) and destination (63:56).
 * Delivery status and Remote IRR are read-only; 55:17 are reserved.
 */
#define RTE_WRITABLE_LOW  0x0001AFFFull
#define RTE_WRITABLE_HIGH 0xFF000000ull

/* Delivery modes 011 and 110 are reserved (datasheet §3.2.4). */
#define DM_RESERVED_3 3u
#define DM_RESERVED_6 6u

static bool pin_asserted(const struct vioapic *io, unsigned pin)
{
	return io->asserted & (1u << pin);
}

static void deliver(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];
	uint8_t mode = VIOAPIC_RTE_DELIVERY_MODE(rte);
	bool level = rte & VIOAPIC_RTE_LEVEL;

	if (mode == DM_RESERVED_3 || mode == DM_RESERVED_6)
		return;
	/* Set before sending: a callback re-entering this vioapic sees it. */
	if (level)
		io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	io->env->deliver(io->ctx, VIOAPIC_RTE_DEST(rte),
			 rte & VIOAPIC_RTE_LOGICAL, VIOAPIC_RTE_VECTOR(rte),
			 mode, level);
}

/* A level pin sends while asserted, unmasked and not awaiting an EOI. */
static void level_pin_check(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->rte[pin];

	if ((rte & VIOAPIC_RTE_LEVEL) && pin_asserted(io, pin) &&
	    !(rte & (VIOAPIC_RTE_MASKED | VIOAPIC_RTE_REMOTE_IRR)))
		deliver(io, pin);
}

void vioapic_init(struct vioapic *io, uint8_t id, uint64_t base_pa,
		  uint32_t gsi_base, const struct vioapic_env *env, void *ctx)
{
	io->env = env;
	io->ctx = ctx;
	io->base_pa = base_pa;
	io->gsi_base = gsi_base;
	io->id = id & ID_MASK;
	io->ioregsel = 0;
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		io->rte[pin] = VIOAPIC_RTE_MASKED;
	io->asserted = 0;
}

void vioapic_set_pin(struct vioapic *io, unsigned pin, bool asserted)
{
	bool was_asserted;

	if (pin >= VIOAPIC_NR_PINS)
		return;
	was_asserted = pin_asserted(io, pin);
	if (asserted)
		io->asserted |= 1u << pin;
	else
		io->asserted &= ~(1u << pin);

	if (io->rte[pin] & VIOAPIC_RTE_LEVEL)
		level_pin_check(io, pin);
	else if (asserted && !was_asserted &&
		 !(io->rte[pin] & VIOAPIC_RTE_MASKED))
		deliver(io, pin);
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		uint64_t rte = io->rte[pin];

		if (!(rte & VIOAPIC_RTE_REMOTE_IRR) ||
		    VIOAPIC_RTE_VECTOR(rte) != vector)
			continue;
		io->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		io->env->pin_eoi(io->ctx, pin);
		level_pin_check(io, pin);
	}
}

static uint32_t read_indirect(const struct vioapic *io)
{
	unsigned reg = io->ioregsel, pin;

	switch (reg) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB: /* arbitration ID: loaded from the ID */
		return (uint32_t)io->id << ID_SHIFT;
	case VIOAPIC_REG_VERSION:
		return VERSION_VALUE;
	}
	if (reg < VIOAPIC_REG_RTE0 ||
	    reg >= VIOAPIC_REG_RTE0 + 2 * VIOAPIC_NR_PINS)
		return 0;
	pin = (reg - VIOAPIC_REG_RTE0) / 2;
	return reg % 2 ? (uint32_t)(io->rte[pin] >> 32)
		       : (uint32_t)io->rte[pin];
}

static void write_rte_low(struct vioapic *io, unsigned pin, uint32_t val)
{
	uint64_t rte = io->rte[pin];

	rte = (rte & ~RTE_WRITABLE_LOW) | (val & RTE_WRITABLE_LOW);
	/*
	 * Remote IRR means nothing for an edge pin; clearing it on the switch
	 * to edge is also how version 0x11 IOAPIC drivers (Linux's fallback)
	 * retire a stuck level interrupt.
	 */
	if (!(rte & VIOAPIC_RTE_LEVEL))
		rte &= ~VIOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	/* An unmasked level line that is still asserted sends now. */
	level_pin_check(io, pin);
}

static void write_indirect(struct vioapic *io, uint32_t val)
{
	unsigned reg = io->ioregsel, pin;

	if (reg == VIOAPIC_REG_ID) {
		io->id = (val >> ID_SHIFT) & ID_MASK;
		return;
	}
	/* Version, arbitration and undefined registers ignore writes. */
	if (reg < VIOAPIC_REG_RTE0 ||
	    reg >= VIOAPIC_REG_RTE0 + 2 * VIOAPIC_NR_PINS)
		return;
	pin = (reg - VIOAPIC_REG_RTE0) / 2;
	if (reg % 2)
		io->rte[pin] = (io->rte[pin] & ~(RTE_WRITABLE_HIGH << 32)) |
			       ((uint64_t)(val & RTE_WRITABLE_HIGH) << 32);
	else
		write_rte_low(io, pin, val);
}

int vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size,
		      uint64_t *val)
{
	if (size != 4)
		return -EINVAL;
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		*val = io->ioregsel;
		return 0;
	case VIOAPIC_IOWIN:
		*val = read_indirect(io);
		return 0;
	}
	/* The EOI register is write-only. */
	return -EINVAL;
}

int vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size,
		       uint64_t val)
{
	if (size != 4)
		return -EINVAL;
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		/* Bits 31:8 are reserved. */
		io->ioregsel = (uint8_t)val;
		return 0;
	case VIOAPIC_IOWIN:
		write_indirect(io, (uint32_t)val);
		return 0;
	case VIOAPIC_EOI:
		vioapic_eoi(io, (uint8_t)val);
		return 0;
	}
	return -EINVAL;
}
