/* SPDX-License-Identifier: MIT */
/*
 * Physical IOAPICs (82093AA datasheet; ACPI MADT for where they are).
 * Keel programs every pin itself; Dom0 only ever sees a virtual IOAPIC.
 */
#include <keel/acpi.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/memmap.h>

#define IOREGSEL	   0x00
#define IOWIN		   0x10
#define IOAPIC_VER	   0x01
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define RTE_MASKED	   (1u << 16)
#define RTE_LEVEL	   (1u << 15)
#define RTE_ACTIVE_LOW	   (1u << 13)
#define MAX_IOAPICS	   8

static struct {
	uint64_t pa;
	uint32_t gsi_base, nr_pins;
} ioapics[MAX_IOAPICS];
static unsigned nr_ioapics;
static uint32_t nr_gsis;

static uint32_t ioapic_read(uint64_t pa, uint32_t reg)
{
	mmio_write32(pa + IOREGSEL, reg);
	return mmio_read32(pa + IOWIN);
}

static void ioapic_write(uint64_t pa, uint32_t reg, uint32_t v)
{
	mmio_write32(pa + IOREGSEL, reg);
	mmio_write32(pa + IOWIN, v);
}

static int find_pin(uint32_t gsi, uint64_t *pa, uint32_t *pin)
{
	for (unsigned i = 0; i < nr_ioapics; i++) {
		if (gsi >= ioapics[i].gsi_base &&
		    gsi < ioapics[i].gsi_base + ioapics[i].nr_pins) {
			*pa = ioapics[i].pa;
			*pin = gsi - ioapics[i].gsi_base;
			return 0;
		}
	}
	return -1;
}

void ioapic_init(void)
{
	struct acpi_madt_info *mi = &madt_info;

	for (uint32_t i = 0; i < mi->nr_ioapics && i < MAX_IOAPICS; i++) {
		uint64_t pa = mi->ioapic[i].pa;
		uint32_t pins =
		    ((ioapic_read(pa, IOAPIC_VER) >> 16) & 0xFF) + 1;

		ioapics[nr_ioapics].pa = pa;
		ioapics[nr_ioapics].gsi_base = mi->ioapic[i].gsi_base;
		ioapics[nr_ioapics].nr_pins = pins;
		nr_ioapics++;
		nr_gsis = MAX(nr_gsis, mi->ioapic[i].gsi_base + pins);
		memmap_add_private(pa, PAGE_SIZE);
		for (uint32_t p = 0; p < pins; p++) {
			ioapic_write(pa, IOAPIC_REDTBL(p) + 1, 0);
			ioapic_write(pa, IOAPIC_REDTBL(p), RTE_MASKED);
		}
		printk("IOAPIC %u at %lx: GSIs %u-%u\n", mi->ioapic[i].id, pa,
		       mi->ioapic[i].gsi_base,
		       mi->ioapic[i].gsi_base + pins - 1);
	}
}

uint32_t ioapic_nr_gsis(void)
{
	return nr_gsis;
}

int ioapic_route(uint32_t gsi, uint8_t vector, bool level, bool active_low,
		 uint32_t dest_apic)
{
	uint64_t pa;
	uint32_t pin;

	if (find_pin(gsi, &pa, &pin))
		return -1;
	ioapic_write(pa, IOAPIC_REDTBL(pin) + 1, dest_apic << 24);
	ioapic_write(pa, IOAPIC_REDTBL(pin),
		     vector | RTE_MASKED | (level ? RTE_LEVEL : 0) |
			 (active_low ? RTE_ACTIVE_LOW : 0));
	return 0;
}

void ioapic_mask(uint32_t gsi, bool masked)
{
	uint64_t pa;
	uint32_t pin, v;

	if (find_pin(gsi, &pa, &pin))
		return;
	v = ioapic_read(pa, IOAPIC_REDTBL(pin));
	v = masked ? v | RTE_MASKED : v & ~RTE_MASKED;
	ioapic_write(pa, IOAPIC_REDTBL(pin), v);
}
