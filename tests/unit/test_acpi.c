/* SPDX-License-Identifier: MIT */
/*
 * ACPI parsing and Dom0 table rebuilding (hypervisor/drivers/acpi.c,
 * arch/x86/guest/acpi_dom0.c) over a fake firmware table set in "physical
 * memory".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <public/keel.h>
#include "shim.h"

/* Where QEMU's SeaBIOS puts its tables, and where Dom0's copy goes. */
#define FW_BASE	  0x7ffe0000ULL
#define FW_SIZE	  0x10000ULL
#define DOM0_BASE 0x7ff00000ULL
#define DOM0_SIZE 0x10000ULL

static uint8_t *fw, *dom0_buf;
static uint64_t fw_used;

/* The fake firmware set, by physical address. */
static uint64_t rsdp_pa, xsdt_pa, rsdt_pa, facp_pa, apic_pa, dmar_pa, hpet_pa,
    ivrs_pa, ssdt1_pa, ssdt2_pa;

static uint8_t sum8(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

static void *at(uint64_t pa)
{
	return phys_to_virt(pa);
}

static uint64_t fw_alloc(size_t len)
{
	uint64_t pa = FW_BASE + ALIGN_UP(fw_used, 16);

	fw_used = ALIGN_UP(fw_used, 16) + len;
	assert_true(fw_used <= FW_SIZE);
	return pa;
}

static void seal(uint64_t pa)
{
	struct acpi_sdt_header *h = at(pa);

	h->checksum = 0;
	h->checksum = -sum8(h, h->length);
}

static uint64_t new_table(const char *sig, uint32_t len)
{
	uint64_t pa = fw_alloc(len);
	struct acpi_sdt_header *h = at(pa);

	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = 1;
	memcpy(h->oem_id, "BOCHS ", 6);
	memcpy(h->oem_table_id, "BXPC    ", 8);
	h->oem_revision = 1;
	memcpy(&h->creator_id, "BXPC", 4);
	h->creator_revision = 1;
	return pa;
}

static uint8_t *madt_add(uint8_t *p, uint8_t type, uint8_t len)
{
	p[0] = type;
	p[1] = len;
	return p;
}

static uint64_t build_madt(void)
{
	uint64_t pa = new_table("APIC", 1024);
	struct acpi_madt *m = at(pa);
	uint8_t *p = (uint8_t *)(m + 1);
	struct acpi_madt_lapic *l;
	struct acpi_madt_x2apic *x;
	struct acpi_madt_ioapic *io;
	struct acpi_madt_override *o;
	struct acpi_madt_nmi_source *ns;
	struct acpi_madt_lapic_nmi *ln;
	struct acpi_madt_x2apic_nmi *xn;

	m->hdr.revision = 5;
	m->lapic_address = 0xfee00000;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	for (int i = 0; i < 3; i++) {
		l = (void *)madt_add(p, ACPI_MADT_LAPIC, sizeof(*l));
		l->processor_uid = i;
		l->apic_id = i;
		l->flags = i == 2 ? 0 : ACPI_MADT_ENABLED; /* 2: not present */
		p += sizeof(*l);
	}
	x = (void *)madt_add(p, ACPI_MADT_X2APIC, sizeof(*x));
	x->x2apic_id = 300;
	x->flags = ACPI_MADT_ENABLED;
	x->processor_uid = 3;
	p += sizeof(*x);
	x = (void *)madt_add(p, ACPI_MADT_X2APIC, sizeof(*x));
	x->x2apic_id = 1; /* the same CPU as LAPIC 1 */
	x->flags = ACPI_MADT_ENABLED;
	x->processor_uid = 1;
	p += sizeof(*x);
	for (int i = 0; i < 2; i++) {
		io = (void *)madt_add(p, ACPI_MADT_IOAPIC, sizeof(*io));
		io->id = i;
		io->address = 0xfec00000 + i * 0x1000;
		io->gsi_base = i * 24;
		p += sizeof(*io);
	}
	o = (void *)madt_add(p, ACPI_MADT_OVERRIDE, sizeof(*o));
	o->source_irq = 0;
	o->gsi = 2;
	p += sizeof(*o);
	o = (void *)madt_add(p, ACPI_MADT_OVERRIDE, sizeof(*o));
	o->source_irq = 9;
	o->gsi = 9;
	o->flags = 0xd; /* active high, level */
	p += sizeof(*o);
	ns = (void *)madt_add(p, ACPI_MADT_NMI_SOURCE, sizeof(*ns));
	ns->gsi = 30;
	p += sizeof(*ns);
	ln = (void *)madt_add(p, ACPI_MADT_LAPIC_NMI, sizeof(*ln));
	ln->processor_uid = 0xff;
	ln->flags = 5;
	ln->lint = 1;
	p += sizeof(*ln);
	xn = (void *)madt_add(p, ACPI_MADT_X2APIC_NMI, sizeof(*xn));
	xn->processor_uid = 0xffffffff;
	xn->lint = 1;
	p += sizeof(*xn);
	/* A type Keel does not know (GIC CPU interface) is skipped. */
	madt_add(p, 0xb, 80);
	p += 80;
	m->hdr.length = p - (uint8_t *)m;
	seal(pa);
	return pa;
}

static void build_firmware(void)
{
	struct acpi_fadt *fadt;
	struct acpi_hpet *hpet;
	struct acpi_rsdp *rsdp;
	uint64_t tables[8];
	unsigned n = 0;

	fw_used = 0;
	memset(fw, 0, FW_SIZE);
	rsdp_pa = fw_alloc(sizeof(struct acpi_rsdp));

	facp_pa = new_table("FACP", sizeof(struct acpi_fadt));
	fadt = at(facp_pa);
	fadt->hdr.revision = 6;
	fadt->sci_int = 9;
	fadt->pm_tmr_blk = 0x608;
	fadt->pm_tmr_len = 4;
	fadt->flags = ACPI_FADT_TMR_VAL_EXT;
	fadt->x_pm_tmr_blk =
	    (struct acpi_gas){ACPI_GAS_SYSTEM_IO, 32, 0, 3, 0x608};
	seal(facp_pa);
	tables[n++] = facp_pa;
	apic_pa = build_madt();
	tables[n++] = apic_pa;
	dmar_pa = new_table("DMAR", 48);
	seal(dmar_pa);
	tables[n++] = dmar_pa;
	hpet_pa = new_table("HPET", sizeof(struct acpi_hpet));
	hpet = at(hpet_pa);
	hpet->base_address =
	    (struct acpi_gas){ACPI_GAS_SYSTEM_MEMORY, 64, 0, 0, 0xfed00000};
	seal(hpet_pa);
	tables[n++] = hpet_pa;
	ivrs_pa = new_table("IVRS", 48);
	seal(ivrs_pa);
	tables[n++] = ivrs_pa;
	ssdt1_pa = new_table("SSDT", 40);
	seal(ssdt1_pa);
	tables[n++] = ssdt1_pa;
	ssdt2_pa = new_table("SSDT", 44);
	seal(ssdt2_pa);
	tables[n++] = ssdt2_pa;

	xsdt_pa = new_table("XSDT", 36 + 8 * n);
	memcpy((uint8_t *)at(xsdt_pa) + 36, tables, 8 * n);
	seal(xsdt_pa);
	rsdt_pa = new_table("RSDT", 36 + 4 * n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t pa32 = tables[i];

		memcpy((uint8_t *)at(rsdt_pa) + 36 + 4 * i, &pa32, 4);
	}
	seal(rsdt_pa);

	rsdp = at(rsdp_pa);
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "BOCHS ", 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = rsdt_pa;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_pa;
	rsdp->checksum = -sum8(rsdp, 20);
	rsdp->extended_checksum = -sum8(rsdp, sizeof(*rsdp));
}

static void reseal_rsdp(void)
{
	struct acpi_rsdp *rsdp = at(rsdp_pa);

	rsdp->checksum = 0;
	rsdp->extended_checksum = 0;
	rsdp->checksum = -sum8(rsdp, 20);
	rsdp->extended_checksum = -sum8(rsdp, sizeof(*rsdp));
}

static int setup_group(void **state)
{
	(void)state;
	fw = shim_map_phys(FW_BASE, FW_SIZE);
	dom0_buf = shim_map_phys(DOM0_BASE, DOM0_SIZE);
	return 0;
}

static int teardown_group(void **state)
{
	(void)state;
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	build_firmware();
	return 0;
}

static uint64_t pa_of(const void *p)
{
	return virt_to_phys(p);
}

static void test_layouts(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct acpi_madt_lapic), 8);
	assert_int_equal(sizeof(struct acpi_madt_ioapic), 12);
	assert_int_equal(sizeof(struct acpi_madt_override), 10);
	assert_int_equal(sizeof(struct acpi_madt_nmi_source), 8);
	assert_int_equal(sizeof(struct acpi_madt_lapic_nmi), 6);
	assert_int_equal(sizeof(struct acpi_madt_lapic_override), 12);
	assert_int_equal(sizeof(struct acpi_madt_x2apic), 16);
	assert_int_equal(sizeof(struct acpi_madt_x2apic_nmi), 12);
	assert_int_equal(sizeof(struct acpi_gas), 12);
	assert_int_equal(offsetof(struct acpi_rsdp, xsdt_address), 24);
	assert_int_equal(offsetof(struct acpi_fadt, x_dsdt), 140);
	assert_int_equal(offsetof(struct acpi_hpet, base_address), 40);
}

static void test_finds_tables_through_xsdt(void **state)
{
	(void)state;
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_rsdp_pa(), rsdp_pa);
	assert_int_equal(acpi_nr_tables(), 7);
	assert_int_equal(pa_of(acpi_find_table("FACP", 0)), facp_pa);
	assert_int_equal(pa_of(acpi_find_table("APIC", 0)), apic_pa);
	assert_int_equal(pa_of(acpi_find_table("SSDT", 0)), ssdt1_pa);
	assert_int_equal(pa_of(acpi_find_table("SSDT", 1)), ssdt2_pa);
	assert_null(acpi_find_table("SSDT", 2));
	assert_null(acpi_find_table("MCFG", 0));
}

static void test_rsdp_v1_uses_rsdt(void **state)
{
	struct acpi_rsdp *rsdp = at(rsdp_pa);

	(void)state;
	rsdp->revision = 0;
	rsdp->xsdt_address = 0xdeadbeef000; /* not looked at in ACPI 1.0 */
	reseal_rsdp();
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_nr_tables(), 7);
	assert_int_equal(pa_of(acpi_find_table("HPET", 0)), hpet_pa);
}

static void test_broken_xsdt_falls_back_to_rsdt(void **state)
{
	struct acpi_sdt_header *xsdt = at(xsdt_pa);

	(void)state;
	xsdt->checksum ^= 1;
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(pa_of(acpi_find_table("FACP", 0)), facp_pa);
	/* Without the RSDT either, there is nothing to go on. */
	((struct acpi_sdt_header *)at(rsdt_pa))->length = 20;
	assert_int_equal(acpi_init(rsdp_pa), -EINVAL);
	assert_int_equal(acpi_rsdp_pa(), 0);
	assert_null(acpi_find_table("FACP", 0));
}

static void test_broken_rsdp_rejected(void **state)
{
	struct acpi_rsdp *rsdp = at(rsdp_pa);

	(void)state;
	assert_int_equal(acpi_init(0), -EINVAL);
	rsdp->checksum ^= 1;
	assert_int_equal(acpi_init(rsdp_pa), -EINVAL);
	reseal_rsdp();
	assert_int_equal(acpi_init(rsdp_pa), 0);
	rsdp->extended_checksum ^= 1;
	assert_int_equal(acpi_init(rsdp_pa), -EINVAL);
	rsdp->length = 8; /* shorter than the structure */
	reseal_rsdp();
	assert_int_equal(acpi_init(rsdp_pa), -EINVAL);
	rsdp->length = sizeof(*rsdp);
	rsdp->signature[0] = 'X';
	reseal_rsdp();
	assert_int_equal(acpi_init(rsdp_pa), -EINVAL);
}

/*
 * Keel parses a 36-byte copy of the RSDP (the multiboot2 tag's; see
 * arch/x86/boot/setup.c), so a length field above 36 must not make the
 * extended checksum read past it: like ACPICA, the checksum covers the 36
 * bytes of the ACPI 2.0 structure. The copy sits at the very end of its
 * window here, so AddressSanitizer reports any read beyond it. Found by
 * tests/fuzz/fuzz_acpi.c.
 */
static void test_rsdp_length_beyond_copy(void **state)
{
	const uint64_t copy_page = 0x9f000;
	struct acpi_rsdp *copy;

	(void)state;
	copy = (void *)((uint8_t *)shim_map_phys(copy_page, PAGE_SIZE) +
			PAGE_SIZE - sizeof(*copy));
	memcpy(copy, at(rsdp_pa), sizeof(*copy));
	copy->length = 100;
	copy->checksum = 0;
	copy->extended_checksum = 0;
	copy->checksum = -sum8(copy, 20);
	copy->extended_checksum = -sum8(copy, sizeof(*copy));
	assert_int_equal(acpi_init(pa_of(copy)), 0);
	assert_int_equal(pa_of(acpi_find_table("FACP", 0)), facp_pa);
}

static void test_broken_tables_skipped(void **state)
{
	struct acpi_sdt_header *facp = at(facp_pa), *hpet = at(hpet_pa);
	struct acpi_sdt_header *ssdt = at(ssdt1_pa);
	struct acpi_pm_timer tmr;
	const struct acpi_sdt_header *t;
	uint64_t pa;

	(void)state;
	facp->checksum ^= 0x55;
	hpet->length = 8;	   /* shorter than a header */
	ssdt->length = 0xffffffff; /* absurd: never read that far */
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_null(acpi_find_table("FACP", 0));
	assert_null(acpi_find_table("HPET", 0));
	assert_int_equal(pa_of(acpi_find_table("SSDT", 0)), ssdt2_pa);
	assert_int_equal(acpi_pm_timer(&tmr), -ENOENT);
	assert_int_equal(tmr.port, 0);
	assert_int_equal(acpi_table_entry(0, &pa, &t), -EINVAL);
	assert_int_equal(pa, facp_pa);
	assert_int_equal(acpi_table_entry(1, &pa, &t), 0);
	assert_ptr_equal(t, at(apic_pa));
	assert_int_equal(acpi_table_entry(7, &pa, &t), -ENOENT);
}

static void test_parse_madt(void **state)
{
	static struct acpi_madt_info info;

	(void)state;
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_parse_madt(&info), 0);
	/* LAPIC 2 is disabled, x2APIC 1 repeats LAPIC 1. */
	assert_int_equal(info.nr_cpus, 3);
	assert_int_equal(info.apic_ids[0], 0);
	assert_int_equal(info.apic_ids[1], 1);
	assert_int_equal(info.apic_ids[2], 300);
	assert_int_equal(info.lapic_pa, 0xfee00000);
	assert_int_equal(info.nr_ioapics, 2);
	assert_int_equal(info.ioapic[1].id, 1);
	assert_int_equal(info.ioapic[1].pa, 0xfec01000);
	assert_int_equal(info.ioapic[1].gsi_base, 24);
	assert_int_equal(info.nr_overrides, 2);
	assert_int_equal(info.overrides[0].bus_irq, 0);
	assert_int_equal(info.overrides[0].gsi, 2);
	assert_int_equal(info.overrides[1].bus_irq, 9);
	assert_int_equal(info.overrides[1].flags, 0xd);
}

static void test_madt_lapic_address_override(void **state)
{
	static struct acpi_madt_info info;
	struct acpi_madt *m = at(apic_pa);
	struct acpi_madt_lapic_override *lo;

	(void)state;
	/* Turn the trailing unknown subtable into an override + padding. */
	lo = (void *)((uint8_t *)m + m->hdr.length - 80);
	lo->e.type = ACPI_MADT_LAPIC_OVERRIDE;
	lo->e.length = 80;
	lo->address = 0x1fee00000ULL;
	seal(apic_pa);
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_parse_madt(&info), 0);
	assert_int_equal(info.lapic_pa, 0x1fee00000ULL);
}

static void test_malformed_madt_rejected(void **state)
{
	static struct acpi_madt_info info;
	struct acpi_madt *m = at(apic_pa);
	uint8_t *first = (uint8_t *)(m + 1);
	uint32_t len = m->hdr.length;

	(void)state;
	first[1] = 0; /* zero-length subtable: would loop forever */
	seal(apic_pa);
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_parse_madt(&info), -EINVAL);

	first[1] = 6; /* LAPIC shorter than its structure */
	seal(apic_pa);
	assert_int_equal(acpi_parse_madt(&info), -EINVAL);

	first[1] = 8;
	m->hdr.length = len - 40; /* cuts the unknown subtable */
	seal(apic_pa);
	assert_int_equal(acpi_parse_madt(&info), -EINVAL);

	m->hdr.length = 40; /* shorter than the fixed part */
	seal(apic_pa);
	assert_int_equal(acpi_parse_madt(&info), -EINVAL);
	assert_int_equal(acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 2,
					 NULL, &(uint64_t){0}),
			 -EINVAL);

	m->hdr.checksum ^= 1; /* a bad checksum hides the table */
	assert_int_equal(acpi_parse_madt(&info), -ENOENT);
}

static void test_pm_timer(void **state)
{
	struct acpi_fadt *fadt = at(facp_pa);
	struct acpi_pm_timer tmr;

	(void)state;
	fadt->x_pm_tmr_blk.address = 0xb008;
	seal(facp_pa);
	assert_int_equal(acpi_init(rsdp_pa), 0);
	/* The X_ field wins over the 32-bit one. */
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0xb008);
	assert_true(tmr.ext32);

	fadt->x_pm_tmr_blk.address = 0;
	fadt->flags = 0;
	seal(facp_pa);
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0x608);
	assert_false(tmr.ext32);

	/* An ACPI 1.0 FADT has no X_ fields. */
	fadt->x_pm_tmr_blk.address = 0xb008;
	fadt->hdr.length = ACPI_FADT_V1_LEN;
	seal(facp_pa);
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0x608);

	/* A timer in memory space is not usable with port I/O. */
	fadt->hdr.length = sizeof(*fadt);
	fadt->x_pm_tmr_blk.space_id = ACPI_GAS_SYSTEM_MEMORY;
	seal(facp_pa);
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0);

	/* PM_TMR_LEN must be 4. */
	fadt->x_pm_tmr_blk.address = 0;
	fadt->pm_tmr_len = 0;
	seal(facp_pa);
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0);

	/* Hardware-reduced ACPI has no PM timer at all. */
	fadt->pm_tmr_len = 4;
	fadt->flags = ACPI_FADT_HW_REDUCED_ACPI;
	seal(facp_pa);
	assert_int_equal(acpi_pm_timer(&tmr), 0);
	assert_int_equal(tmr.port, 0);
}

static void test_hpet(void **state)
{
	struct acpi_hpet *hpet = at(hpet_pa);
	uint64_t pa;

	(void)state;
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(acpi_hpet(&pa), 0);
	assert_int_equal(pa, 0xfed00000);
	hpet->base_address.space_id = ACPI_GAS_SYSTEM_IO;
	seal(hpet_pa);
	assert_int_equal(acpi_hpet(&pa), -EINVAL);
	hpet->hdr.signature[0] = 'X';
	seal(hpet_pa);
	assert_int_equal(acpi_hpet(&pa), -ENOENT);
}

/* Every subtable of the MADT t of the given type, in order. */
static unsigned count_madt(const struct acpi_sdt_header *t, uint8_t type)
{
	const uint8_t *b = (const uint8_t *)t;
	unsigned n = 0;

	for (uint32_t off = sizeof(struct acpi_madt); off < t->length;
	     off += b[off + 1])
		n += b[off] == type;
	return n;
}

static int build(uint32_t nr_vcpus, uint64_t *rsdp_gpa)
{
	assert_int_equal(acpi_init(rsdp_pa), 0);
	return acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, nr_vcpus, NULL,
			       rsdp_gpa);
}

static void test_dom0_tables(void **state)
{
	static struct acpi_madt_info info;
	const struct acpi_sdt_header *madt;
	const struct acpi_madt *fw_madt = at(apic_pa);
	uint64_t rsdp_gpa = 0, pa;
	const struct acpi_sdt_header *t;
	const struct acpi_rsdp *rsdp;
	int used;

	(void)state;
	used = build(4, &rsdp_gpa);
	assert_true(used > 0 && (uint64_t)used <= DOM0_SIZE);
	assert_int_equal(rsdp_gpa, DOM0_BASE);

	/* The rebuilt set passes the same parser. */
	assert_int_equal(acpi_init(rsdp_gpa), 0);
	rsdp = at(rsdp_gpa);
	assert_int_equal(rsdp->revision, 2);
	assert_int_equal(rsdp->rsdt_address, 0);
	assert_int_equal(sum8(rsdp, 20), 0);
	assert_int_equal(sum8(rsdp, 36), 0);
	assert_memory_equal(rsdp->oem_id, "BOCHS ", 6);
	assert_true(rsdp->xsdt_address >= DOM0_BASE &&
		    rsdp->xsdt_address < DOM0_BASE + (uint64_t)used);

	/* IOMMU tables gone, the rest the very same firmware tables. */
	assert_null(acpi_find_table("DMAR", 0));
	assert_null(acpi_find_table("IVRS", 0));
	assert_int_equal(acpi_nr_tables(), 5);
	assert_int_equal(pa_of(acpi_find_table("FACP", 0)), facp_pa);
	assert_int_equal(pa_of(acpi_find_table("HPET", 0)), hpet_pa);
	assert_int_equal(pa_of(acpi_find_table("SSDT", 0)), ssdt1_pa);
	assert_int_equal(pa_of(acpi_find_table("SSDT", 1)), ssdt2_pa);
	for (unsigned i = 0; i < acpi_nr_tables(); i++)
		assert_int_equal(acpi_table_entry(i, &pa, &t), 0);

	/* One new MADT inside the buffer, with Dom0's vCPUs. */
	madt = acpi_find_table("APIC", 0);
	assert_non_null(madt);
	assert_null(acpi_find_table("APIC", 1));
	assert_true(pa_of(madt) > DOM0_BASE &&
		    pa_of(madt) + madt->length <= DOM0_BASE + (uint64_t)used);
	assert_int_equal(sum8(madt, madt->length), 0);
	assert_memory_equal(madt->oem_id, "BOCHS ", 6);
	assert_int_equal(madt->revision, fw_madt->hdr.revision);
	assert_int_equal(((const struct acpi_madt *)madt)->flags,
			 ACPI_MADT_PCAT_COMPAT);
	assert_int_equal(acpi_parse_madt(&info), 0);
	assert_int_equal(info.nr_cpus, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(info.apic_ids[i], i);
	assert_int_equal(count_madt(madt, ACPI_MADT_LAPIC), 4);
	assert_int_equal(count_madt(madt, ACPI_MADT_X2APIC), 0);

	/* The firmware's interrupt wiring, unchanged. */
	assert_int_equal(info.lapic_pa, 0xfee00000);
	assert_int_equal(info.nr_ioapics, 2);
	assert_int_equal(info.ioapic[0].pa, 0xfec00000);
	assert_int_equal(info.ioapic[1].pa, 0xfec01000);
	assert_int_equal(info.ioapic[1].gsi_base, 24);
	assert_int_equal(info.nr_overrides, 2);
	assert_int_equal(info.overrides[0].gsi, 2);
	assert_int_equal(info.overrides[1].flags, 0xd);
	assert_int_equal(count_madt(madt, ACPI_MADT_NMI_SOURCE), 1);
	assert_int_equal(count_madt(madt, ACPI_MADT_LAPIC_NMI), 1);
	assert_int_equal(count_madt(madt, ACPI_MADT_X2APIC_NMI), 1);
	assert_int_equal(count_madt(madt, 0xb), 0);
	assert_int_equal(madt->length, sizeof(struct acpi_madt) + 4 * 8 +
					   2 * 12 + 2 * 10 + 8 + 6 + 12);
}

static void test_dom0_x2apic_ids(void **state)
{
	const struct acpi_sdt_header *madt;
	const uint8_t *b;
	uint64_t rsdp_gpa;
	uint32_t next_id = 0;

	(void)state;
	assert_true(build(300, &rsdp_gpa) > 0);
	assert_int_equal(acpi_init(rsdp_gpa), 0);
	madt = acpi_find_table("APIC", 0);
	assert_non_null(madt);
	assert_int_equal(count_madt(madt, ACPI_MADT_LAPIC), 255);
	assert_int_equal(count_madt(madt, ACPI_MADT_X2APIC), 45);
	/* IDs 0..299 in order, the xAPIC form up to 254. */
	b = (const uint8_t *)madt;
	for (uint32_t off = sizeof(struct acpi_madt); off < madt->length;
	     off += b[off + 1]) {
		const struct acpi_madt_lapic *l = (const void *)(b + off);
		const struct acpi_madt_x2apic *x = (const void *)(b + off);

		if (b[off] == ACPI_MADT_LAPIC) {
			assert_int_equal(l->apic_id, next_id);
			assert_int_equal(l->processor_uid, next_id);
			assert_int_equal(l->flags, ACPI_MADT_ENABLED);
			assert_true(next_id <= 254);
			next_id++;
		} else if (b[off] == ACPI_MADT_X2APIC) {
			assert_int_equal(x->x2apic_id, next_id);
			assert_int_equal(x->processor_uid, next_id);
			assert_int_equal(x->flags, ACPI_MADT_ENABLED);
			assert_true(next_id > 254);
			next_id++;
		}
	}
	assert_int_equal(next_id, 300);
}

/* A PkgLength of one byte (AML 20.2.4) at b[off]: the bytes it covers. */
static unsigned pkg_len(const uint8_t *b, unsigned off)
{
	assert_int_equal(b[off] >> 6, 0);
	return b[off];
}

static void test_dom0_notify_line(void **state)
{
	const struct acpi_notify_line line = {0xfec02000, 48, 2};
	static struct acpi_madt_info info;
	const struct acpi_sdt_header *ssdt;
	uint64_t rsdp_gpa = 0, pa;
	const uint8_t *aml;
	uint32_t gsi;
	unsigned len;
	int used;

	(void)state;
	assert_int_equal(acpi_init(rsdp_pa), 0);
	used = acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 2, &line,
			       &rsdp_gpa);
	assert_true(used > 0);
	assert_int_equal(acpi_init(rsdp_gpa), 0);

	/* The MADT ends with the line's IOAPIC. */
	assert_int_equal(acpi_parse_madt(&info), 0);
	assert_int_equal(info.nr_ioapics, 3);
	assert_int_equal(info.ioapic[2].id, 2);
	assert_int_equal(info.ioapic[2].pa, 0xfec02000);
	assert_int_equal(info.ioapic[2].gsi_base, 48);

	/* A third SSDT, ours, inside the buffer and last in the XSDT. */
	assert_int_equal(acpi_nr_tables(), 6);
	assert_int_equal(pa_of(acpi_find_table("SSDT", 0)), ssdt1_pa);
	ssdt = acpi_find_table("SSDT", 2);
	assert_non_null(ssdt);
	assert_int_equal(
	    acpi_table_entry(5, &pa, &(const struct acpi_sdt_header *){0}), 0);
	assert_int_equal(pa, pa_of(ssdt));
	assert_true(pa_of(ssdt) > DOM0_BASE &&
		    pa_of(ssdt) + ssdt->length <= DOM0_BASE + (uint64_t)used);
	assert_int_equal(pa_of(ssdt) % 16, 0);
	assert_int_equal(sum8(ssdt, ssdt->length), 0);
	assert_int_equal(ssdt->revision, 2);
	assert_memory_equal(ssdt->oem_id, "BOCHS ", 6);
	assert_memory_equal(ssdt->oem_table_id, "KEELNTFY", 8);

	/* The AML: each package's length reaches exactly to the end. */
	aml = (const uint8_t *)(ssdt + 1);
	len = ssdt->length - sizeof(*ssdt);
	assert_int_equal(aml[0], 0x10); /* ScopeOp */
	assert_int_equal(1 + pkg_len(aml, 1), len);
	assert_memory_equal(aml + 2, "\\_SB_", 5);
	assert_memory_equal(aml + 7, "\x5b\x82", 2); /* DeviceOp */
	assert_int_equal(9 + pkg_len(aml, 9), len);
	assert_memory_equal(aml + 10, "KEEL", 4);
	assert_memory_equal(aml + 14, "\x08_HID\x0d" KEEL_ACPI_HID, 14);
	assert_int_equal(aml[28], 0);
	assert_memory_equal(aml + 29, "\x08_UID\x00", 6);
	assert_memory_equal(aml + 35, "\x08_CRS\x11", 6);
	assert_int_equal(41 + pkg_len(aml, 41), len);
	assert_memory_equal(aml + 42, "\x0a\x0b", 2); /* 11 bytes */
	/* Extended Interrupt: consumer, edge, high, exclusive; one GSI. */
	assert_memory_equal(aml + 44, "\x89\x06\x00\x03\x01", 5);
	memcpy(&gsi, aml + 49, 4);
	assert_int_equal(gsi, 48);
	assert_memory_equal(aml + 53, "\x79\x00", 2);
	assert_int_equal(len, 55);

	/* The IOAPIC address field has 32 bits. */
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 2,
			    &(struct acpi_notify_line){1ULL << 32, 48, 2},
			    &rsdp_gpa),
	    -EINVAL);
	/* The SSDT needs room too. */
	assert_int_equal(acpi_build_dom0(dom0_buf, (size_t)used - 1, DOM0_BASE,
					 2, &line, &rsdp_gpa),
			 -ENOSPC);
}

static void test_dom0_build_errors(void **state)
{
	uint64_t gpa = 0;
	int used;

	(void)state;
	used = build(8, &gpa);
	assert_true(used > 0);
	assert_int_equal(acpi_init(rsdp_pa), 0);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, used - 1, DOM0_BASE, 8, NULL, &gpa),
	    -ENOSPC);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, used, DOM0_BASE, 8, NULL, &gpa), used);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 0, NULL, &gpa),
	    -EINVAL);
	assert_int_equal(acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE,
					 ACPI_DOM0_MAX_VCPUS + 1, NULL, &gpa),
			 -EINVAL);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE + 8, 8, NULL, &gpa),
	    -EINVAL);
	/* Without a MADT there are no IOAPICs to describe. */
	((struct acpi_sdt_header *)at(apic_pa))->signature[0] = 'X';
	seal(apic_pa);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 8, NULL, &gpa),
	    -ENOENT);
	/* Without acpi_init() there is nothing to rebuild. */
	assert_int_equal(acpi_init(0), -EINVAL);
	assert_int_equal(
	    acpi_build_dom0(dom0_buf, DOM0_SIZE, DOM0_BASE, 8, NULL, &gpa),
	    -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
	    T(test_layouts),
	    T(test_finds_tables_through_xsdt),
	    T(test_rsdp_v1_uses_rsdt),
	    T(test_broken_xsdt_falls_back_to_rsdt),
	    T(test_broken_rsdp_rejected),
	    T(test_rsdp_length_beyond_copy),
	    T(test_broken_tables_skipped),
	    T(test_parse_madt),
	    T(test_madt_lapic_address_override),
	    T(test_malformed_madt_rejected),
	    T(test_pm_timer),
	    T(test_hpet),
	    T(test_dom0_tables),
	    T(test_dom0_x2apic_ids),
	    T(test_dom0_notify_line),
	    T(test_dom0_build_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
