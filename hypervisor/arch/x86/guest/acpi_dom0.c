/* SPDX-License-Identifier: MIT */
/*
 * Dom0's ACPI root tables (keel/acpi.h, acpi_build_dom0()).
 *
 * Dom0 sees the firmware's tables where they are (its memory map is the
 * identity map), but through a new RSDP and XSDT: the MADT is replaced by
 * one describing Dom0's vCPUs and the emulated IOAPICs (which sit at the
 * physical IOAPICs' addresses), and the IOMMU tables are hidden because the
 * IOMMU belongs to the hypervisor.
 *
 * With a notification line (keel/notify.h), the MADT also lists its IOAPIC
 * and an SSDT declares the KEEL0001 device keel.ko binds to.
 *
 * Layout of the buffer: RSDP at 0, XSDT at 40 (8-byte aligned), MADT and
 * then the SSDT each at the next 16-byte boundary.
 */
#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>

#define XSDT_OFFSET ALIGN_UP(sizeof(struct acpi_rsdp), 8)

/* Largest APIC ID a (non-x2)APIC entry may carry; 0xff means broadcast. */
#define MAX_XAPIC_ID 254

static const char creator_id[4] = {'K', 'E', 'E', 'L'};

/* Tables Dom0 must not see. */
static bool hidden_from_dom0(const struct acpi_sdt_header *t)
{
	static const char hidden[][4] = {
	    {'A', 'P', 'I', 'C'}, /* replaced by Dom0's own MADT */
	    {'D', 'M', 'A', 'R'}, /* Intel VT-d */
	    {'I', 'V', 'R', 'S'}, /* AMD-Vi */
	    {'V', 'I', 'O', 'T'}, /* virtual IOMMUs */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(hidden); i++)
		if (memcmp(t->signature, hidden[i], 4) == 0)
			return true;
	return false;
}

/* Firmware MADT subtables passed to Dom0 unchanged. */
static bool madt_entry_passed(uint8_t type)
{
	return type == ACPI_MADT_IOAPIC || type == ACPI_MADT_OVERRIDE ||
	       type == ACPI_MADT_NMI_SOURCE || type == ACPI_MADT_LAPIC_NMI ||
	       type == ACPI_MADT_LAPIC_OVERRIDE || type == ACPI_MADT_X2APIC_NMI;
}

static void fill_header(struct acpi_sdt_header *h, const char sig[4],
			uint32_t length, uint8_t revision,
			const struct acpi_sdt_header *oem)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, oem->oem_id, sizeof(h->oem_id));
	memcpy(h->oem_table_id, oem->oem_table_id, sizeof(h->oem_table_id));
	h->oem_revision = oem->oem_revision;
	memcpy(&h->creator_id, creator_id, 4);
	h->creator_revision = 1;
}

/*
 * The SSDT's definition block, hand-assembled (ACPI 6.5 §20.2, §6.4.3.6):
 *
 *   Scope (\_SB) {
 *     Device (KEEL) {
 *       Name (_HID, "KEEL0001")
 *       Name (_UID, Zero)
 *       Name (_CRS, ResourceTemplate () {
 *         Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { gsi }
 *       })
 *     }
 *   }
 *
 * Every package is short enough for one-byte PkgLengths; the GSI is the
 * only variable part, at SSDT_GSI_OFFSET.
 */
static const uint8_t ssdt_aml[] = {
    0x10, 0x36, '\\', '_',  'S', 'B',  '_', /* Scope (\_SB_) */
    0x5B, 0x82, 0x2E, 'K',  'E', 'E',  'L', /* Device (KEEL) */
    0x08, '_',	'H',  'I',  'D', 0x0D, 'K',  'E',  'E',
    'L',  '0',	'0',  '0',  '1', 0x00, /* Name (_HID, "...") */
    0x08, '_',	'U',  'I',  'D', 0x00, /* Name (_UID, Zero) */
    0x08, '_',	'C',  'R',  'S', 0x11, 0x0E, 0x0A, 0x0B, /* Buffer (11) */
    0x89, 0x06, 0x00,	    /* Extended Interrupt Descriptor, 6 bytes */
    0x03,		    /* consumer, edge, active high, exclusive */
    0x01,		    /* one interrupt */
    0x00, 0x00, 0x00, 0x00, /* its GSI */
    0x79, 0x00,		    /* End Tag */
};
#define SSDT_GSI_OFFSET (sizeof(struct acpi_sdt_header) + sizeof(ssdt_aml) - 6)
#define SSDT_LEN	(sizeof(struct acpi_sdt_header) + sizeof(ssdt_aml))

static void build_ssdt(uint8_t *p, uint32_t gsi,
		       const struct acpi_sdt_header *oem)
{
	struct acpi_sdt_header *h = (void *)p;

	fill_header(h, "SSDT", SSDT_LEN, 2, oem);
	memcpy(h->oem_table_id, "KEELNTFY", sizeof(h->oem_table_id));
	memcpy(p + sizeof(*h), ssdt_aml, sizeof(ssdt_aml));
	memcpy(p + SSDT_GSI_OFFSET, &gsi, sizeof(gsi));
	h->checksum = -acpi_checksum(h, SSDT_LEN);
}

static uint32_t vcpu_entry_len(uint32_t apic_id)
{
	return apic_id > MAX_XAPIC_ID ? sizeof(struct acpi_madt_x2apic)
				      : sizeof(struct acpi_madt_lapic);
}

int acpi_build_dom0(void *buf, size_t buf_size, uint64_t buf_gpa,
		    uint32_t nr_vcpus, const struct acpi_notify_line *notify,
		    uint64_t *rsdp_gpa_out)
{
	const struct acpi_sdt_header *fw_madt, *t;
	const struct acpi_rsdp *fw_rsdp;
	struct acpi_sdt_header *xsdt;
	struct acpi_madt *madt;
	struct acpi_rsdp *rsdp;
	uint64_t madt_off, madt_len, ssdt_off, xsdt_len, total, pa;
	uint32_t nr_entries = 1, n = 0; /* the new MADT */
	uint8_t *out = buf, *p;

	if (!acpi_rsdp_pa())
		return -ENOENT;
	if (nr_vcpus == 0 || nr_vcpus > ACPI_DOM0_MAX_VCPUS ||
	    !IS_ALIGNED(buf_gpa, 16) ||
	    (notify && notify->ioapic_pa > UINT32_MAX))
		return -EINVAL;
	fw_madt = acpi_find_table("APIC", 0);
	if (!fw_madt)
		return -ENOENT;
	if (acpi_madt_validate(fw_madt) != 0)
		return -EINVAL;

	/* Sizes first, then one bounds check for the whole buffer. */
	for (unsigned i = 0; acpi_table_entry(i, &pa, &t) != -ENOENT; i++)
		if (t && !hidden_from_dom0(t))
			nr_entries++;
	if (notify)
		nr_entries++; /* the SSDT */
	xsdt_len = sizeof(*xsdt) + (uint64_t)nr_entries * sizeof(uint64_t);
	madt_off = ALIGN_UP(XSDT_OFFSET + xsdt_len, 16);
	madt_len = sizeof(*madt);
	for (uint32_t v = 0; v < nr_vcpus; v++)
		madt_len += vcpu_entry_len(v);
	for (uint32_t off = sizeof(*madt); off < fw_madt->length;) {
		const struct acpi_madt_entry *e =
		    (const void *)((const uint8_t *)fw_madt + off);

		if (madt_entry_passed(e->type))
			madt_len += e->length;
		off += e->length;
	}
	if (notify)
		madt_len += sizeof(struct acpi_madt_ioapic);
	ssdt_off = ALIGN_UP(madt_off + madt_len, 16);
	total = notify ? ssdt_off + SSDT_LEN : madt_off + madt_len;
	if (total > buf_size || total > INT32_MAX)
		return -ENOSPC;
	memset(buf, 0, total);

	/*
	 * XSDT: surviving firmware tables, then the new MADT and SSDT. The root
	 * table is not reachable here, so the OEM fields come from the
	 * firmware's MADT (the same OEM wrote both).
	 */
	xsdt = (void *)(out + XSDT_OFFSET);
	fill_header(xsdt, "XSDT", xsdt_len, 1, fw_madt);
	for (unsigned i = 0; acpi_table_entry(i, &pa, &t) != -ENOENT; i++) {
		if (!t || hidden_from_dom0(t))
			continue;
		memcpy((uint8_t *)(xsdt + 1) + n++ * sizeof(pa), &pa,
		       sizeof(pa));
	}
	pa = buf_gpa + madt_off;
	memcpy((uint8_t *)(xsdt + 1) + n++ * sizeof(pa), &pa, sizeof(pa));
	if (notify) {
		pa = buf_gpa + ssdt_off;
		memcpy((uint8_t *)(xsdt + 1) + n * sizeof(pa), &pa, sizeof(pa));
		build_ssdt(out + ssdt_off, notify->gsi, fw_madt);
	}

	/* MADT: Dom0's vCPUs, then the firmware's interrupt wiring. */
	madt = (void *)(out + madt_off);
	fill_header(&madt->hdr, "APIC", madt_len, fw_madt->revision, fw_madt);
	madt->lapic_address =
	    ((const struct acpi_madt *)fw_madt)->lapic_address;
	madt->flags = ((const struct acpi_madt *)fw_madt)->flags;
	p = (uint8_t *)(madt + 1);

	for (uint32_t v = 0; v < nr_vcpus; v++) {
		if (v > MAX_XAPIC_ID) {
			struct acpi_madt_x2apic *x = (void *)p;

			x->e.type = ACPI_MADT_X2APIC;
			x->e.length = sizeof(*x);
			x->x2apic_id = v;
			x->flags = ACPI_MADT_ENABLED;
			x->processor_uid = v;
		} else {
			struct acpi_madt_lapic *l = (void *)p;

			l->e.type = ACPI_MADT_LAPIC;
			l->e.length = sizeof(*l);
			l->processor_uid = v;
			l->apic_id = v;
			l->flags = ACPI_MADT_ENABLED;
		}
		p += vcpu_entry_len(v);
	}
	for (uint32_t off = sizeof(struct acpi_madt); off < fw_madt->length;) {
		const struct acpi_madt_entry *e =
		    (const void *)((const uint8_t *)fw_madt + off);

		if (madt_entry_passed(e->type)) {
			memcpy(p, e, e->length);
			p += e->length;
		}
		off += e->length;
	}
	if (notify) {
		struct acpi_madt_ioapic *io = (void *)p;

		io->e.type = ACPI_MADT_IOAPIC;
		io->e.length = sizeof(*io);
		io->id = notify->ioapic_id;
		io->address = (uint32_t)notify->ioapic_pa;
		io->gsi_base = notify->gsi;
	}
	madt->hdr.checksum = -acpi_checksum(madt, madt_len);
	xsdt->checksum = -acpi_checksum(xsdt, xsdt_len);

	/* RSDP revision 2 with only an XSDT. */
	fw_rsdp = phys_to_virt(acpi_rsdp_pa());
	rsdp = buf;
	memcpy(rsdp->signature, ACPI_RSDP_SIGNATURE, 8);
	memcpy(rsdp->oem_id, fw_rsdp->oem_id, sizeof(rsdp->oem_id));
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = buf_gpa + XSDT_OFFSET;
	rsdp->checksum = -acpi_checksum(rsdp, ACPI_RSDP_V1_LEN);
	rsdp->extended_checksum = -acpi_checksum(rsdp, sizeof(*rsdp));

	*rsdp_gpa_out = buf_gpa;
	return (int)total;
}
