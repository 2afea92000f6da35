/* SPDX-License-Identifier: MIT */
/*
 * Forwarding physical interrupt lines to Dom0: GSI n of
 * the machine is pin n of Dom0's virtual IOAPIC. Edge lines are passed on
 * as a pulse. A level line is masked at the physical IOAPIC when it
 * fires and unmasked when Dom0 EOIs it, so a device that keeps its line
 * asserted cannot storm Keel while Dom0 is busy.
 */
#include <keel/domain.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/traps.h>

/* MPS INTI flags in MADT overrides (ACPI 6.x §5.2.12.5). */
#define INTI_POLARITY_MASK 3
#define INTI_ACTIVE_LOW	   3
#define INTI_TRIGGER_MASK  (3 << 2)
#define INTI_LEVEL	   (3 << 2)

struct acpi_madt_info madt_info;
static struct domain *gsi_owner;
static bool gsi_level[MAX_GSIS];
static uint64_t gsi_count[MAX_GSIS];

/* ISA IRQs are edge/active-high and PCI lines level/active-low unless the
 * MADT overrides them. */
static void gsi_mode(uint32_t gsi, bool *level, bool *active_low)
{
	*level = gsi >= 16;
	*active_low = gsi >= 16;
	for (uint32_t i = 0; i < madt_info.nr_overrides; i++) {
		uint16_t f = madt_info.overrides[i].flags;

		if (madt_info.overrides[i].gsi != gsi)
			continue;
		if ((f & INTI_TRIGGER_MASK) != 0)
			*level = (f & INTI_TRIGGER_MASK) == INTI_LEVEL;
		if ((f & INTI_POLARITY_MASK) != 0)
			*active_low =
			    (f & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW;
	}
}

static void gsi_interrupt(struct cpu_regs *regs)
{
	unsigned gsi = regs->vector - GSI_VECTOR_BASE;
	struct vioapic *io = &gsi_owner->vioapic;

	gsi_count[gsi]++;
	spin_lock(&gsi_owner->lock);
	if (gsi_level[gsi]) {
		ioapic_mask(gsi, true);
		vioapic_set_pin(io, gsi, true);
	} else {
		vioapic_set_pin(io, gsi, true);
		vioapic_set_pin(io, gsi, false);
	}
	spin_unlock(&gsi_owner->lock);
}

/* Called from the vIOAPIC's EOI path, with the owner's lock held. */
void gsi_guest_eoi(unsigned gsi)
{
	if (gsi >= MAX_GSIS || !gsi_level[gsi] || !gsi_owner)
		return;
	ASSERT_LOCKED(&gsi_owner->lock);
	vioapic_set_pin(&gsi_owner->vioapic, gsi, false);
	ioapic_mask(gsi, false);
}

void gsi_route_to_dom0(struct domain *dom0, uint32_t skip_gsi)
{
	uint32_t n = MIN(ioapic_nr_gsis(), (uint32_t)MAX_GSIS);
	uint32_t dest = percpu_area[0].apic_id;

	gsi_owner = dom0;
	for (uint32_t gsi = 0; gsi < n; gsi++) {
		bool level, low;

		if (gsi == skip_gsi)
			continue;
		gsi_mode(gsi, &level, &low);
		gsi_level[gsi] = level;
		irq_set_handler(GSI_VECTOR_BASE + gsi, gsi_interrupt);
		if (ioapic_route(gsi, GSI_VECTOR_BASE + gsi, level, low,
				 dest) == 0)
			ioapic_mask(gsi, false);
	}
	printk("interrupts: %u GSIs routed to d%u's virtual IOAPIC "
	       "(GSI %u kept by Keel)\n",
	       n, dom0->id, skip_gsi);
}

uint64_t gsi_interrupt_count(unsigned gsi)
{
	return gsi < MAX_GSIS ? gsi_count[gsi] : 0;
}
