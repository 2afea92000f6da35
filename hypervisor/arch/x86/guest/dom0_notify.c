/* SPDX-License-Identifier: MIT */
/*
 * Keel's notification line to Dom0 (keel/notify.h). A second vIOAPIC,
 * rather than a spare pin of the first: Dom0's first vIOAPIC mirrors the
 * physical one pin for pin, and Linux learns where every GSI lives from
 * the MADT, so a line of Keel's own needs an IOAPIC of Keel's own. It sits
 * in the IOAPIC window (0xFEC00000-0xFECFFFFF), on the first page no
 * physical IOAPIC uses.
 */
#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/irq.h>
#include <keel/memmap.h>
#include <keel/notify.h>
#include <keel/vintr.h>

#define IOAPIC_WINDOW	  0xFEC00000ULL
#define IOAPIC_WINDOW_END 0xFED00000ULL
#define MAX_IOAPIC_ID	  15 /* 4-bit IDs */

static struct vioapic notify_ioapic;
static struct domain *notify_dom; /* set once, before Dom0 runs */
static uint64_t notify_edges;	  /* atomic */

static bool page_used(uint64_t pa)
{
	for (uint32_t i = 0; i < madt_info.nr_ioapics; i++)
		if ((madt_info.ioapic[i].pa & ~(PAGE_SIZE - 1)) == pa)
			return true;
	return memmap_is_ram(pa) || memmap_is_private(pa);
}

static bool id_used(unsigned id)
{
	for (uint32_t i = 0; i < madt_info.nr_ioapics; i++)
		if (madt_info.ioapic[i].id == id)
			return true;
	return false;
}

int dom0_notify_init(struct domain *dom0, struct acpi_notify_line *out)
{
	uint64_t pa = IOAPIC_WINDOW;
	unsigned id = 0;
	int rc;

	while (pa < IOAPIC_WINDOW_END && page_used(pa))
		pa += PAGE_SIZE;
	while (id <= MAX_IOAPIC_ID && id_used(id))
		id++;
	if (pa >= IOAPIC_WINDOW_END || id > MAX_IOAPIC_ID)
		return -ENOSPC;
	/* Above every GSI of the machine and of Dom0's first vIOAPIC. */
	out->gsi = MAX(ioapic_nr_gsis(), VIOAPIC_NR_PINS);
	out->ioapic_pa = pa;
	out->ioapic_id = (uint8_t)id;
	rc = vintr_add_ioapic(dom0, &notify_ioapic, out->ioapic_id, pa,
			      out->gsi);
	if (rc)
		return rc;
	notify_dom = dom0;
	return 0;
}

void dom0_notify(void)
{
	struct domain *d = notify_dom;
	uint64_t flags;

	if (!d)
		return;
	__atomic_add_fetch(&notify_edges, 1, __ATOMIC_RELAXED);
	flags = spin_lock_irqsave(&d->lock);
	vioapic_set_pin(&notify_ioapic, 0, true);
	vioapic_set_pin(&notify_ioapic, 0, false);
	spin_unlock_irqrestore(&d->lock, flags);
}

uint64_t dom0_notify_count(void)
{
	return __atomic_load_n(&notify_edges, __ATOMIC_RELAXED);
}
