/* SPDX-License-Identifier: MIT */
/*
 * ACPI table parsing (hypervisor/drivers/acpi.c) and the rebuild of Dom0's
 * root tables (hypervisor/drivers/acpi_dom0.c) over a fuzzed firmware
 * table set.
 *
 * Input:
 *   u8   flags      bit 0: RSDP revision 2 (else the RSDP's own byte)
 *                   bit 1: keep the RSDP's signature as given
 *                   bit 2: keep every checksum as given
 *                   bit 3: no XSDT address; bit 4: no RSDT address
 *                   bit 5: leave the XSDT's checksum unset (broken)
 *   u16  nr_vcpus   for acpi_build_dom0 (0 and > 4096 included)
 *   u16  buffer     Dom0's table buffer: (buffer % 4096 + 1) * 16 bytes
 *   36 bytes        the RSDP
 *   u8 n, n x u8    root table entries: table index, or past the last
 *                   table: 0 or the root table itself
 *   u8 n, n x (u16 length, bytes)   the tables
 *
 * The harness places the RSDP where Keel keeps it (a 36-byte copy,
 * arch/x86/boot/setup.c) and builds the XSDT and RSDT from the entry list;
 * a table's length field is cut to the bytes given. Each object sits at
 * the very end of its own page-aligned test window, so AddressSanitizer
 * reports any read past it. Checksums are made valid unless flag bit 2 is
 * set, or the parser would reject nearly every input.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/acpi.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include "shim.h"

FUZZ_SHIM_INIT()

#define RSDP_WINDOW   0x000E0000ull
#define XSDT_WINDOW   0x00100000ull
#define RSDT_WINDOW   0x00200000ull
#define TABLE_WINDOWS 0x10000000ull /* table i at + i MiB */
#define DOM0_WINDOW   0x7F000000ull
#define MAX_TABLES    16
#define MAX_ENTRIES   32
#define FLAG_REV2     BIT(0)
#define FLAG_RAW_SIG  BIT(1)
#define FLAG_RAW_SUM  BIT(2)
#define FLAG_NO_XSDT  BIT(3)
#define FLAG_NO_RSDT  BIT(4)
#define FLAG_BAD_XSDT BIT(5)

/* Copies len bytes to the end of a new window at pa; returns the address. */
static uint64_t place(uint64_t pa, const void *bytes, size_t len)
{
	uint64_t size = ALIGN_UP((uint64_t)len, PAGE_SIZE);
	uint8_t *w = shim_map_phys(pa, size ? size : PAGE_SIZE);
	uint64_t at = pa + (size ? size : PAGE_SIZE) - len;

	memcpy(w + (at - pa), bytes, len);
	return at;
}

static void seal(void *table, size_t len, bool raw)
{
	struct acpi_sdt_header *h = table;

	if (raw || len < offsetof(struct acpi_sdt_header, checksum) + 1)
		return;
	h->checksum = 0;
	h->checksum = -acpi_checksum(h, MIN((size_t)h->length, len));
}

static uint64_t build_root(const char *sig, uint64_t pa, unsigned entry_size,
			   const uint64_t *entries, unsigned n, bool raw)
{
	uint8_t buf[sizeof(struct acpi_sdt_header) + 8 * MAX_ENTRIES] = {0};
	struct acpi_sdt_header *h = (void *)buf;
	size_t len = sizeof(*h) + entry_size * n;

	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)len;
	h->revision = 1;
	for (unsigned i = 0; i < n; i++)
		memcpy(buf + sizeof(*h) + i * entry_size, &entries[i],
		       entry_size);
	seal(h, len, raw);
	return place(pa, buf, len);
}

/* What the rebuilt tables must say, read back through the same parser. */
static void check_dom0_tables(uint64_t rsdp_gpa, uint32_t nr_vcpus,
			      const struct acpi_madt_info *fw)
{
	static struct acpi_madt_info info;
	const struct acpi_rsdp *rsdp = phys_to_virt(rsdp_gpa);

	FUZZ_CHECK(acpi_checksum(rsdp, ACPI_RSDP_V1_LEN) == 0);
	FUZZ_CHECK(acpi_checksum(rsdp, sizeof(*rsdp)) == 0);
	FUZZ_CHECK(acpi_init(rsdp_gpa) == 0);
	FUZZ_CHECK(acpi_find_table("DMAR", 0) == NULL);
	FUZZ_CHECK(acpi_find_table("IVRS", 0) == NULL);
	FUZZ_CHECK(acpi_find_table("VIOT", 0) == NULL);
	FUZZ_CHECK(acpi_find_table("APIC", 1) == NULL);
	FUZZ_CHECK(acpi_parse_madt(&info) == 0);
	FUZZ_CHECK(info.nr_cpus == MIN(nr_vcpus, 256u));
	for (uint32_t i = 0; i < info.nr_cpus; i++)
		FUZZ_CHECK(info.apic_ids[i] == i);
	FUZZ_CHECK(info.nr_ioapics == fw->nr_ioapics);
	FUZZ_CHECK(info.nr_overrides == fw->nr_overrides);
	FUZZ_CHECK(info.lapic_pa == fw->lapic_pa);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi_madt_info fw_info;
	struct fuzz_input fi = fuzz_input(data, size);
	uint8_t flags = fuzz_u8(&fi);
	uint32_t nr_vcpus = fuzz_u16(&fi);
	size_t buf_size = (fuzz_u16(&fi) % 4096u + 1) * 16;
	uint64_t entries[MAX_ENTRIES], tables[MAX_TABLES];
	uint64_t rsdp_pa, xsdt_pa, rsdt_pa, buf_gpa, out_rsdp = 0, hpet;
	unsigned nr_entries, nr_tables;
	uint8_t index[MAX_ENTRIES];
	struct acpi_pm_timer pmt;
	struct acpi_rsdp rsdp;
	uint8_t *buf;
	int rc, madt_rc;

	fuzz_bytes(&fi, &rsdp, sizeof(rsdp));
	nr_entries = fuzz_u8(&fi) % (MAX_ENTRIES + 1);
	fuzz_bytes(&fi, index, nr_entries);
	nr_tables = fuzz_u8(&fi) % (MAX_TABLES + 1);
	for (unsigned i = 0; i < nr_tables; i++) {
		size_t len = fuzz_u16(&fi);
		uint8_t *t;

		len = MAX(MIN(len, fi.left), sizeof(struct acpi_sdt_header));
		t = calloc(1, len);
		FUZZ_CHECK(t);
		fuzz_bytes(&fi, t, len);
		if (((struct acpi_sdt_header *)t)->length > len)
			((struct acpi_sdt_header *)t)->length = (uint32_t)len;
		seal(t, len, flags & FLAG_RAW_SUM);
		tables[i] = place(TABLE_WINDOWS + MiB(i), t, len);
		free(t);
	}

	/* Root tables: entries by index, the root itself, or 0. */
	xsdt_pa = XSDT_WINDOW + PAGE_SIZE -
		  (sizeof(struct acpi_sdt_header) + 8 * nr_entries);
	for (unsigned i = 0; i < nr_entries; i++) {
		unsigned k = index[i] % (nr_tables + 2);

		entries[i] = k < nr_tables    ? tables[k]
			     : k == nr_tables ? 0
					      : xsdt_pa;
	}
	FUZZ_CHECK(build_root("XSDT", XSDT_WINDOW, 8, entries, nr_entries,
			      flags & (FLAG_RAW_SUM | FLAG_BAD_XSDT)) ==
		   xsdt_pa);
	rsdt_pa = build_root("RSDT", RSDT_WINDOW, 4, entries, nr_entries,
			     flags & FLAG_RAW_SUM);

	if (!(flags & FLAG_RAW_SIG))
		memcpy(rsdp.signature, ACPI_RSDP_SIGNATURE, 8);
	if (flags & FLAG_REV2)
		rsdp.revision = 2;
	rsdp.xsdt_address = flags & FLAG_NO_XSDT ? 0 : xsdt_pa;
	rsdp.rsdt_address = flags & FLAG_NO_RSDT ? 0 : (uint32_t)rsdt_pa;
	if (!(flags & FLAG_RAW_SUM)) {
		rsdp.checksum = 0;
		rsdp.checksum = -acpi_checksum(&rsdp, ACPI_RSDP_V1_LEN);
		rsdp.extended_checksum = 0;
		rsdp.extended_checksum = -acpi_checksum(&rsdp, sizeof(rsdp));
	}
	rsdp_pa = place(RSDP_WINDOW, &rsdp, sizeof(rsdp));

	rc = acpi_init(rsdp_pa);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(acpi_rsdp_pa() == rsdp_pa);
		madt_rc = acpi_parse_madt(&fw_info);
		FUZZ_CHECK(madt_rc == 0 || madt_rc == -ENOENT ||
			   madt_rc == -EINVAL);
		if (madt_rc == 0) {
			FUZZ_CHECK(fw_info.nr_cpus <= 256);
			FUZZ_CHECK(fw_info.nr_ioapics <= 8);
			FUZZ_CHECK(fw_info.nr_overrides <= 16);
		}
		rc = acpi_pm_timer(&pmt);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT);
		FUZZ_CHECK(pmt.port <= 0xfffc);
		rc = acpi_hpet(&hpet);
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL);

		/* 16-byte aligned (buf_size is a multiple of 16), at the end.
		 */
		buf_gpa =
		    ALIGN_UP(DOM0_WINDOW + buf_size, PAGE_SIZE) - buf_size;
		buf = (uint8_t *)shim_map_phys(DOM0_WINDOW, buf_gpa + buf_size -
								DOM0_WINDOW) +
		      (buf_gpa - DOM0_WINDOW);
		rc = acpi_build_dom0(buf, buf_size, buf_gpa, nr_vcpus, NULL,
				     &out_rsdp);
		FUZZ_CHECK(rc == -ENOENT || rc == -EINVAL || rc == -ENOSPC ||
			   (rc > 0 && (size_t)rc <= buf_size));
		if (rc == -ENOENT)
			FUZZ_CHECK(madt_rc == -ENOENT);
		if (rc > 0) {
			FUZZ_CHECK(madt_rc == 0 && out_rsdp == buf_gpa);
			check_dom0_tables(out_rsdp, nr_vcpus, &fw_info);
		}
	}
	shim_unmap_all();
	return 0;
}
