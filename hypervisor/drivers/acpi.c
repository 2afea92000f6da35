/* SPDX-License-Identifier: MIT */
/* ACPI table discovery and parsing (keel/acpi.h). */
#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_len) == 91, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(sizeof(struct acpi_hpet) == 56, "HPET layout");

/* Set by a successful acpi_init(); boot-time, read-only afterwards. */
static uint64_t rsdp_pa;
static const struct acpi_sdt_header *root;
static unsigned root_entry_size; /* 8 for the XSDT, 4 for the RSDT */
static unsigned root_nr_entries;

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* The table at pa if its length is sane and its checksum right. */
static const struct acpi_sdt_header *map_table(uint64_t pa, const char *sig)
{
	const struct acpi_sdt_header *h;

	if (!pa)
		return NULL;
	h = phys_to_virt(pa);
	if (h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE_LEN ||
	    pa + h->length < pa)
		return NULL;
	if (sig && memcmp(h->signature, sig, 4) != 0)
		return NULL;
	if (acpi_checksum(h, h->length) != 0)
		return NULL;
	return h;
}

static void print_table(uint64_t pa, const struct acpi_sdt_header *h)
{
	const char *s = h->signature, *o = h->oem_id;

	printk("ACPI: %c%c%c%c 0x%llx len %u OEM %c%c%c%c%c%c\n", s[0], s[1],
	       s[2], s[3], (unsigned long long)pa, h->length, o[0], o[1], o[2],
	       o[3], o[4], o[5]);
}

int acpi_init(uint64_t pa)
{
	const struct acpi_rsdp *rsdp;
	const struct acpi_sdt_header *r = NULL;

	rsdp_pa = 0;
	root = NULL;
	root_nr_entries = 0;
	if (!pa)
		return -EINVAL;
	rsdp = phys_to_virt(pa);
	if (memcmp(rsdp->signature, ACPI_RSDP_SIGNATURE, 8) != 0 ||
	    acpi_checksum(rsdp, ACPI_RSDP_V1_LEN) != 0) {
		printk("ACPI: no valid RSDP at 0x%llx\n",
		       (unsigned long long)pa);
		return -EINVAL;
	}
	if (rsdp->revision >= 2) {
		/*
		 * The extended checksum covers the 36-byte ACPI 2.0 structure,
		 * as in ACPICA, whatever the length field says: Keel holds a
		 * 36-byte copy of the RSDP (arch/x86/boot/setup.c).
		 */
		if (rsdp->length < sizeof(*rsdp) ||
		    acpi_checksum(rsdp, sizeof(*rsdp)) != 0) {
			printk("ACPI: RSDP extended checksum or length bad\n");
			return -EINVAL;
		}
		r = map_table(rsdp->xsdt_address, "XSDT");
		if (r)
			root_entry_size = 8;
		else if (rsdp->xsdt_address)
			printk("ACPI: XSDT at 0x%llx broken, trying RSDT\n",
			       (unsigned long long)rsdp->xsdt_address);
	}
	if (!r) {
		r = map_table(rsdp->rsdt_address, "RSDT");
		root_entry_size = 4;
	}
	if (!r) {
		printk("ACPI: no valid XSDT or RSDT\n");
		return -EINVAL;
	}
	root = r;
	root_nr_entries = (r->length - sizeof(*r)) / root_entry_size;
	rsdp_pa = pa;

	print_table(root_entry_size == 8 ? rsdp->xsdt_address
					 : rsdp->rsdt_address,
		    root);
	for (unsigned i = 0; i < root_nr_entries; i++) {
		const struct acpi_sdt_header *t;
		uint64_t tpa;

		if (acpi_table_entry(i, &tpa, &t) == 0)
			print_table(tpa, t);
		else
			printk("ACPI: table %u at 0x%llx broken, ignored\n", i,
			       (unsigned long long)tpa);
	}
	return 0;
}

uint64_t acpi_rsdp_pa(void)
{
	return rsdp_pa;
}

unsigned acpi_nr_tables(void)
{
	return root_nr_entries;
}

int acpi_table_entry(unsigned index, uint64_t *pa,
		     const struct acpi_sdt_header **table)
{
	const uint8_t *entry;
	uint32_t pa32;

	if (!root || index >= root_nr_entries)
		return -ENOENT;
	/* Entries follow the 36-byte header unaligned: copy them out. */
	entry = (const uint8_t *)(root + 1) + index * root_entry_size;
	if (root_entry_size == 8) {
		memcpy(pa, entry, 8);
	} else {
		memcpy(&pa32, entry, 4);
		*pa = pa32;
	}
	*table = map_table(*pa, NULL);
	return *table ? 0 : -EINVAL;
}

const struct acpi_sdt_header *acpi_find_table(const char sig[4],
					      unsigned instance)
{
	const struct acpi_sdt_header *t;
	uint64_t pa;

	for (unsigned i = 0; i < root_nr_entries; i++) {
		if (acpi_table_entry(i, &pa, &t) != 0 ||
		    memcmp(t->signature, sig, 4) != 0)
			continue;
		if (instance-- == 0)
			return t;
	}
	return NULL;
}

/* Smallest valid length of each MADT subtable type Keel looks at. */
static unsigned madt_entry_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:
		return sizeof(struct acpi_madt_lapic);
	case ACPI_MADT_IOAPIC:
		return sizeof(struct acpi_madt_ioapic);
	case ACPI_MADT_OVERRIDE:
		return sizeof(struct acpi_madt_override);
	case ACPI_MADT_NMI_SOURCE:
		return sizeof(struct acpi_madt_nmi_source);
	case ACPI_MADT_LAPIC_NMI:
		return sizeof(struct acpi_madt_lapic_nmi);
	case ACPI_MADT_LAPIC_OVERRIDE:
		return sizeof(struct acpi_madt_lapic_override);
	case ACPI_MADT_X2APIC:
		return sizeof(struct acpi_madt_x2apic);
	case ACPI_MADT_X2APIC_NMI:
		return sizeof(struct acpi_madt_x2apic_nmi);
	default:
		return sizeof(struct acpi_madt_entry);
	}
}

int acpi_madt_validate(const struct acpi_sdt_header *madt)
{
	const uint8_t *base = (const uint8_t *)madt;
	uint32_t off = sizeof(struct acpi_madt);

	if (madt->length < sizeof(struct acpi_madt))
		return -EINVAL;
	while (off < madt->length) {
		const struct acpi_madt_entry *e = (const void *)(base + off);

		if (madt->length - off < sizeof(*e) ||
		    e->length < madt_entry_min_len(e->type) ||
		    e->length > madt->length - off)
			return -EINVAL;
		off += e->length;
	}
	return 0;
}

static void add_cpu(struct acpi_madt_info *out, uint32_t apic_id)
{
	for (uint32_t i = 0; i < out->nr_cpus; i++)
		if (out->apic_ids[i] == apic_id)
			return; /* listed as both LAPIC and x2APIC */
	if (out->nr_cpus == ARRAY_SIZE(out->apic_ids)) {
		printk("ACPI: CPU with APIC ID %u ignored: too many CPUs\n",
		       apic_id);
		return;
	}
	out->apic_ids[out->nr_cpus++] = apic_id;
}

int acpi_parse_madt(struct acpi_madt_info *out)
{
	const struct acpi_sdt_header *h = acpi_find_table("APIC", 0);
	const struct acpi_madt *madt = (const void *)h;
	const uint8_t *base = (const uint8_t *)h;

	memset(out, 0, sizeof(*out));
	if (!h)
		return -ENOENT;
	if (acpi_madt_validate(h) != 0) {
		printk("ACPI: malformed MADT\n");
		return -EINVAL;
	}
	out->lapic_pa = madt->lapic_address;

	for (uint32_t off = sizeof(*madt); off < h->length;) {
		const struct acpi_madt_entry *e = (const void *)(base + off);
		const struct acpi_madt_lapic *lapic = (const void *)e;
		const struct acpi_madt_x2apic *x2apic = (const void *)e;
		const struct acpi_madt_ioapic *ioapic = (const void *)e;
		const struct acpi_madt_override *ovr = (const void *)e;
		const struct acpi_madt_lapic_override *lovr = (const void *)e;

		switch (e->type) {
		case ACPI_MADT_LAPIC:
			if (lapic->flags & ACPI_MADT_ENABLED)
				add_cpu(out, lapic->apic_id);
			break;
		case ACPI_MADT_X2APIC:
			if (x2apic->flags & ACPI_MADT_ENABLED)
				add_cpu(out, x2apic->x2apic_id);
			break;
		case ACPI_MADT_IOAPIC:
			if (out->nr_ioapics == ARRAY_SIZE(out->ioapic)) {
				printk("ACPI: IOAPIC %u ignored: too many\n",
				       ioapic->id);
				break;
			}
			out->ioapic[out->nr_ioapics].id = ioapic->id;
			out->ioapic[out->nr_ioapics].pa = ioapic->address;
			out->ioapic[out->nr_ioapics].gsi_base =
			    ioapic->gsi_base;
			out->nr_ioapics++;
			break;
		case ACPI_MADT_OVERRIDE:
			if (out->nr_overrides == ARRAY_SIZE(out->overrides)) {
				printk("ACPI: override of IRQ %u ignored: too "
				       "many\n",
				       ovr->source_irq);
				break;
			}
			out->overrides[out->nr_overrides].bus_irq =
			    ovr->source_irq;
			out->overrides[out->nr_overrides].gsi = ovr->gsi;
			out->overrides[out->nr_overrides].flags = ovr->flags;
			out->nr_overrides++;
			break;
		case ACPI_MADT_LAPIC_OVERRIDE:
			/* The 64-bit address supersedes the header's. */
			out->lapic_pa = lovr->address;
			break;
		}
		off += e->length;
	}
	return 0;
}

int acpi_pm_timer(struct acpi_pm_timer *out)
{
	const struct acpi_fadt *fadt = (const void *)acpi_find_table("FACP", 0);
	uint32_t len;

	out->port = 0;
	out->ext32 = false;
	if (!fadt)
		return -ENOENT;
	len = fadt->hdr.length;
	if (len < ACPI_FADT_V1_LEN || (fadt->flags & ACPI_FADT_HW_REDUCED_ACPI))
		return 0;
	/*
	 * X_PM_TMR_BLK, when present and non-zero, overrides PM_TMR_BLK
	 * (5.2.9). Keel reads the timer with port I/O only.
	 */
	if (len >= offsetof(struct acpi_fadt, x_pm_tmr_blk) +
		       sizeof(struct acpi_gas) &&
	    fadt->x_pm_tmr_blk.address) {
		if (fadt->x_pm_tmr_blk.space_id != ACPI_GAS_SYSTEM_IO ||
		    fadt->x_pm_tmr_blk.address > 0xfffc)
			return 0;
		out->port = fadt->x_pm_tmr_blk.address;
	} else if (fadt->pm_tmr_blk && fadt->pm_tmr_len == 4 &&
		   fadt->pm_tmr_blk <= 0xfffc) {
		out->port = fadt->pm_tmr_blk;
	} else {
		return 0;
	}
	out->ext32 = fadt->flags & ACPI_FADT_TMR_VAL_EXT;
	return 0;
}

int acpi_hpet(uint64_t *base_pa)
{
	const struct acpi_hpet *hpet = (const void *)acpi_find_table("HPET", 0);

	*base_pa = 0;
	if (!hpet)
		return -ENOENT;
	if (hpet->hdr.length < sizeof(*hpet) ||
	    hpet->base_address.space_id != ACPI_GAS_SYSTEM_MEMORY ||
	    !hpet->base_address.address)
		return -EINVAL;
	*base_pa = hpet->base_address.address;
	return 0;
}
