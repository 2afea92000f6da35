/* SPDX-License-Identifier: MIT */
/*
 * A DomU's ACPI tables. Layouts are ACPI 6.5 chapter 5.2 as declared in
 * the hypervisor's keel/acpi.h (the same structs Keel parses and builds
 * Dom0's tables with); the DSDT comes from the AML emitter.
 *
 * The platform is hardware-reduced (ACPI 6.5 section 4.1): no PM timer, no
 * fixed-feature registers, no SCI, no FACS. Power-off and reset go through
 * the FADT's SLEEP_CONTROL_REG and RESET_REG on I/O ports Keel emulates,
 * which Linux uses for reduced hardware (acpi_hw_extended_sleep(), and
 * reboot=acpi, its first x86 choice when RESET_REG_SUP is set).
 */
#include <errno.h>
#include <string.h>

#include <keel/acpi.h>
#include <kl/acpi_domu.h>
#include <kl/aml.h>

#define OEM_ID		 "KEEL  "
#define OEM_TABLE_ID	 "KEELDOMU"
#define OEM_REVISION	 1
#define CREATOR_ID	 "KEEL"
#define CREATOR_REVISION 1

#define TABLE_ALIGN 16

/* 5.2.9 FADT: revision 6, minor 5 is ACPI 6.5 (table 5.9). */
#define FADT_REVISION	    6
#define FADT_MINOR_REVISION 5
/* 5.2.9 table 5.10 "Fixed ACPI Description Table Fixed Feature Flags". */
#define FADT_WBINVD	   BIT(0)
#define FADT_PWR_BUTTON	   BIT(4) /* set: no fixed-feature power button */
#define FADT_SLP_BUTTON	   BIT(5)
#define FADT_RESET_REG_SUP BIT(10)
/* 5.2.9.3 table 5.11 "IA-PC Boot Architecture Flags": no VGA and no CMOS
 * RTC to probe (time comes from kvmclock); the 8042 bit stays clear, which
 * tells Linux there is no keyboard controller. */
#define FADT_IAPC_NO_VGA       BIT(2)
#define FADT_IAPC_NO_CMOS_RTC  BIT(5)
#define FADT_HYPERVISOR_VENDOR "KeelKeel"

/* 5.2.12 MADT revision 5 brought the Online Capable flag (ACPI 6.3). */
#define MADT_REVISION	     5
#define XSDT_REVISION	     1
#define DSDT_REVISION	     2 /* 64-bit AML integers */
#define RSDP_REVISION	     2
#define ACPI_MADT_X2APIC_LEN 16
#define ACPI_MADT_LAPIC_LEN  8
#define ACPI_MADT_IOAPIC_LEN 12
/* The last xAPIC ID; 0xFF is the broadcast ID (5.2.12.12). */
#define MAX_XAPIC_ID 254

#define COM1_PORT	0x3F8
#define COM1_PORTS	8
#define COM1_IRQ	4
#define VIRTIO_MMIO_HID "LNRO0005"
/* virtio 1.x 4.2.2: the registers end at 0x100, device config follows. */
#define VIRTIO_MMIO_MIN_SIZE 0x200
#define APIC_PAGE	     0x1000

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP revision 2 is 36 bytes");

static uint8_t table_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)(0x100 - sum);
}

static void fill_header(struct acpi_sdt_header *h, const char sig[4],
			uint32_t len, uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = OEM_REVISION;
	memcpy(&h->creator_id, CREATOR_ID, 4);
	h->creator_revision = CREATOR_REVISION;
	h->checksum = 0;
	h->checksum = table_checksum(h, len);
}

static struct acpi_gas io_byte_register(uint16_t port)
{
	struct acpi_gas g = {
	    .space_id = ACPI_GAS_SYSTEM_IO,
	    .bit_width = 8,
	    .bit_offset = 0,
	    .access_size = 1, /* 5.2.3.2: byte access */
	    .address = port,
	};

	return g;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_params(const struct kl_acpi_domu *p)
{
	if (p->nr_vcpus == 0 || p->max_vcpus < p->nr_vcpus ||
	    p->max_vcpus > KL_ACPI_MAX_VCPUS)
		return -EINVAL;
	/* An IOAPIC has at most 240 redirection entries usable as GSIs. */
	if (p->ioapic_pins == 0 || p->ioapic_pins > 240 || !p->ioapic_addr ||
	    p->ioapic_addr % APIC_PAGE)
		return -EINVAL;
	/* A zero address in a GAS means the register is absent (5.2.3.2). */
	if (!p->reset_port || !p->sleep_control_port || !p->sleep_status_port)
		return -EINVAL;
	if (p->nr_virtio > KL_ACPI_MAX_VIRTIO || (p->nr_virtio && !p->virtio))
		return -EINVAL;
	for (size_t i = 0; i < p->nr_virtio; i++) {
		const struct kl_acpi_virtio *v = &p->virtio[i];

		if (v->size < VIRTIO_MMIO_MIN_SIZE || v->base % 4 ||
		    v->base + v->size > (1ULL << 32))
			return -EINVAL;
		if (v->gsi < p->ioapic_gsi_base ||
		    v->gsi - p->ioapic_gsi_base >= p->ioapic_pins)
			return -EINVAL;
		/* An ISA IRQ maps to the same GSI; COM1 owns GSI 4. */
		if (p->com1 && v->gsi == COM1_IRQ)
			return -EINVAL;
		if (ranges_overlap(v->base, v->size, p->ioapic_addr,
				   APIC_PAGE) ||
		    ranges_overlap(v->base, v->size, KL_ACPI_LAPIC_ADDR,
				   APIC_PAGE))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (p->virtio[j].gsi == v->gsi ||
			    ranges_overlap(v->base, v->size, p->virtio[j].base,
					   p->virtio[j].size))
				return -EINVAL;
	}
	if (p->com1 && (COM1_IRQ < p->ioapic_gsi_base ||
			COM1_IRQ - p->ioapic_gsi_base >= p->ioapic_pins))
		return -EINVAL;
	if (p->power_button) {
		uint32_t g = p->power_button_gsi;

		if (g < p->ioapic_gsi_base ||
		    g - p->ioapic_gsi_base >= p->ioapic_pins ||
		    (p->com1 && g == COM1_IRQ))
			return -EINVAL;
		for (size_t i = 0; i < p->nr_virtio; i++)
			if (p->virtio[i].gsi == g)
				return -EINVAL;
	}
	return 0;
}

/*
 * A power button on hardware-reduced ACPI (6.5 section 4.8.2.2.1.2): a
 * PNP0C0C device that a Generic Event Device (5.6.9) notifies when its
 * interrupt fires. Linux's GED driver (drivers/acpi/evged.c) runs _EVT
 * for an interrupt above 255 or without an _Exx method, and the button
 * driver turns the notification into KEY_POWER for the guest's init.
 */
static void emit_power_button(struct aml *a, uint32_t gsi)
{
	aml_device_begin(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_end(a);

	aml_device_begin(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_ext_irq(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, gsi);
	aml_end(a);
	aml_method_begin(a, "_EVT", 1);
	aml_notify(a, "\\_SB.PWRB", 0x80); /* 0x80: the button was pressed */
	aml_end(a);
	aml_end(a);
}

static void emit_com1(struct aml *a)
{
	aml_device_begin(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_io(a, COM1_PORT, COM1_PORT, 1, COM1_PORTS);
	aml_res_irq_noflags(a, COM1_IRQ);
	aml_end(a);
	aml_end(a);
}

/* Linux's virtio_mmio binds LNRO0005 devices and takes the first memory
 * and interrupt resources of _CRS (drivers/virtio/virtio_mmio.c). */
static void emit_virtio(struct aml *a, const struct kl_acpi_virtio *v,
			unsigned index)
{
	static const char hex[] = "0123456789ABCDEF";
	char name[5] = {'V', 'R', hex[index >> 4 & 0xF], hex[index & 0xF], 0};

	aml_device_begin(a, name);
	aml_name(a, "_HID");
	aml_string(a, VIRTIO_MMIO_HID);
	aml_name(a, "_UID");
	aml_integer(a, index);
	aml_name(a, "_CRS");
	aml_restemplate_begin(a);
	aml_res_memory32_fixed(a, true, (uint32_t)v->base, v->size);
	aml_res_ext_irq(a, AML_IRQ_CONSUMER | (v->edge ? AML_IRQ_EDGE : 0),
			v->gsi);
	aml_end(a);
	aml_end(a);
}

static long build_dsdt(const struct kl_acpi_domu *p, uint8_t *buf, size_t size)
{
	struct aml a;

	if (size < sizeof(struct acpi_sdt_header))
		return -ENOSPC;
	aml_init(&a, buf + sizeof(struct acpi_sdt_header),
		 size - sizeof(struct acpi_sdt_header));
	/* 7.4.2 \_S5: SLP_TYPa, SLP_TYPb, two reserved. */
	aml_name(&a, "\\_S5_");
	aml_package_begin(&a, 4);
	aml_integer(&a, KL_ACPI_S5_SLP_TYP);
	aml_integer(&a, KL_ACPI_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);
	aml_scope_begin(&a, "\\_SB_");
	if (p->com1)
		emit_com1(&a);
	for (size_t i = 0; i < p->nr_virtio; i++)
		emit_virtio(&a, &p->virtio[i], (unsigned)i);
	if (p->power_button)
		emit_power_button(&a, p->power_button_gsi);
	aml_end(&a);
	return aml_finish(&a);
}

static size_t madt_size(const struct kl_acpi_domu *p)
{
	size_t n = sizeof(struct acpi_madt) + ACPI_MADT_IOAPIC_LEN;

	for (uint32_t i = 0; i < p->max_vcpus; i++)
		n += i > MAX_XAPIC_ID ? ACPI_MADT_X2APIC_LEN
				      : ACPI_MADT_LAPIC_LEN;
	return n;
}

/*
 * 5.2.12: one entry per possible vCPU, APIC ID and processor UID equal to
 * its index; xAPIC entries up to ID 254, x2APIC entries beyond. No
 * PCAT_COMPAT: a DomU has no 8259 pair to mask.
 */
static void build_madt(const struct kl_acpi_domu *p, uint8_t *buf)
{
	struct acpi_madt *madt = (struct acpi_madt *)buf;
	struct acpi_madt_ioapic io;
	size_t off = sizeof(*madt);

	madt->lapic_address = KL_ACPI_LAPIC_ADDR;
	madt->flags = 0;
	for (uint32_t i = 0; i < p->max_vcpus; i++) {
		uint32_t flags = i < p->nr_vcpus ? ACPI_MADT_ENABLED
						 : ACPI_MADT_ONLINE_CAPABLE;

		if (i <= MAX_XAPIC_ID) {
			struct acpi_madt_lapic l = {
			    .e = {ACPI_MADT_LAPIC, ACPI_MADT_LAPIC_LEN},
			    .processor_uid = (uint8_t)i,
			    .apic_id = (uint8_t)i,
			    .flags = flags,
			};

			memcpy(buf + off, &l, sizeof(l));
			off += sizeof(l);
		} else {
			struct acpi_madt_x2apic x = {
			    .e = {ACPI_MADT_X2APIC, ACPI_MADT_X2APIC_LEN},
			    .x2apic_id = i,
			    .flags = flags,
			    .processor_uid = i,
			};

			memcpy(buf + off, &x, sizeof(x));
			off += sizeof(x);
		}
	}
	memset(&io, 0, sizeof(io));
	io.e.type = ACPI_MADT_IOAPIC;
	io.e.length = ACPI_MADT_IOAPIC_LEN;
	io.id = p->ioapic_id;
	io.address = p->ioapic_addr;
	io.gsi_base = p->ioapic_gsi_base;
	memcpy(buf + off, &io, sizeof(io));
	off += sizeof(io);
	fill_header(&madt->hdr, "APIC", (uint32_t)off, MADT_REVISION);
}

static void build_fadt(const struct kl_acpi_domu *p, uint8_t *buf,
		       uint64_t dsdt_gpa)
{
	struct acpi_fadt *f = (struct acpi_fadt *)buf;

	/* 5.2.9: DSDT is the 32-bit field, X_DSDT the 64-bit one; OSPMs
	 * take X_DSDT when set, and the two must agree if both are. */
	if (dsdt_gpa < (1ULL << 32))
		f->dsdt = (uint32_t)dsdt_gpa;
	f->x_dsdt = dsdt_gpa;
	f->flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_RESET_REG_SUP | ACPI_FADT_HW_REDUCED_ACPI;
	f->iapc_boot_arch = FADT_IAPC_NO_VGA | FADT_IAPC_NO_CMOS_RTC;
	f->reset_reg = io_byte_register(p->reset_port);
	f->reset_value = p->reset_value;
	f->minor_version = FADT_MINOR_REVISION;
	f->sleep_control_reg = io_byte_register(p->sleep_control_port);
	f->sleep_status_reg = io_byte_register(p->sleep_status_port);
	memcpy(&f->hypervisor_vendor_id, FADT_HYPERVISOR_VENDOR, 8);
	fill_header(&f->hdr, "FACP", sizeof(*f), FADT_REVISION);
}

static size_t align_up(size_t v)
{
	return (v + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

int kl_acpi_domu_build(const struct kl_acpi_domu *p, void *buf, size_t size,
		       uint64_t base_gpa, struct kl_acpi_layout *layout)
{
	uint8_t *b = buf;
	struct acpi_rsdp *rsdp;
	struct acpi_sdt_header *xsdt;
	uint64_t entries[2];
	size_t off, madt_len;
	long dsdt_len;
	int rc;

	memset(layout, 0, sizeof(*layout));
	rc = check_params(p);
	if (rc)
		return rc;
	if (base_gpa % TABLE_ALIGN || base_gpa + size < base_gpa)
		return -EINVAL;
	layout->rsdp = 0;
	layout->xsdt = align_up(sizeof(*rsdp));
	layout->fadt = align_up(layout->xsdt + sizeof(*xsdt) + sizeof(entries));
	layout->madt = align_up(layout->fadt + sizeof(struct acpi_fadt));
	madt_len = madt_size(p);
	layout->dsdt = align_up(layout->madt + madt_len);
	if (layout->dsdt >= size)
		return -ENOSPC;
	memset(b, 0, layout->dsdt);
	dsdt_len = build_dsdt(p, b + layout->dsdt, size - layout->dsdt);
	if (dsdt_len < 0)
		return (int)dsdt_len;
	off = layout->dsdt + sizeof(struct acpi_sdt_header) + (size_t)dsdt_len;
	memset(b + layout->dsdt, 0, sizeof(struct acpi_sdt_header));
	fill_header((struct acpi_sdt_header *)(b + layout->dsdt), "DSDT",
		    (uint32_t)(off - layout->dsdt), DSDT_REVISION);

	build_madt(p, b + layout->madt);
	build_fadt(p, b + layout->fadt, base_gpa + layout->dsdt);

	/* 5.2.8 XSDT: 64-bit pointers to every table but the DSDT, which
	 * the FADT points to. */
	xsdt = (struct acpi_sdt_header *)(b + layout->xsdt);
	entries[0] = base_gpa + layout->fadt;
	entries[1] = base_gpa + layout->madt;
	memcpy(xsdt + 1, entries, sizeof(entries));
	fill_header(xsdt, "XSDT", sizeof(*xsdt) + sizeof(entries),
		    XSDT_REVISION);

	/* 5.2.5.3 RSDP: no RSDT (rsdt_address 0), as a 64-bit-only
	 * platform may; checksum over the first 20 bytes, extended checksum
	 * over all 36. */
	rsdp = (struct acpi_rsdp *)b;
	memcpy(rsdp->signature, ACPI_RSDP_SIGNATURE, 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = RSDP_REVISION;
	rsdp->rsdt_address = 0;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = base_gpa + layout->xsdt;
	rsdp->checksum = table_checksum(rsdp, ACPI_RSDP_V1_LEN);
	rsdp->extended_checksum = table_checksum(rsdp, sizeof(*rsdp));

	layout->rsdp_gpa = base_gpa;
	layout->size = off;
	return 0;
}
