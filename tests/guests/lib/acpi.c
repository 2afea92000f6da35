/* SPDX-License-Identifier: MIT */
/* Finding the MADT's processors (acpi.h). */
#include "acpi.h"
#include "guest.h"

/* RSDP (ACPI 6.5 §5.2.5.3): the revision 0 part is 20 bytes. */
#define RSDP_V1_LENGTH	  20
#define RSDP_REVISION	  15
#define RSDP_RSDT_ADDRESS 16
#define RSDP_LENGTH	  20
#define RSDP_XSDT_ADDRESS 24
#define SDT_HEADER_LENGTH 36
#define MADT_ENTRIES	  44 /* header + local APIC address + flags */
#define MADT_LOCAL_APIC	  0
#define MADT_LOCAL_X2APIC 9
#define MADT_CPU_ENABLED  1u
/* Where an OS searches for the RSDP on a BIOS machine (§5.2.5.1): the
 * first KiB of the EBDA, whose segment is at 0x40e, and 0xe0000-0xfffff. */
#define BDA_EBDA_SEGMENT 0x40e
#define BIOS_ROM_START	 0xe0000
#define BIOS_ROM_END	 0x100000
/* The identity map built by head.S ends here. */
#define IDENTITY_MAP_END 0x100000000ULL

static uint8_t sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return s;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool rsdp_valid(const uint8_t *p)
{
	if (memcmp(p, "RSD PTR ", 8) || sum(p, RSDP_V1_LENGTH))
		return false;
	if (p[RSDP_REVISION] < 2)
		return true;
	uint32_t length = get32(p + RSDP_LENGTH);
	return length >= RSDP_XSDT_ADDRESS + 8 && length < 0x1000 &&
	       !sum(p, length);
}

static const uint8_t *rsdp_scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + RSDP_V1_LENGTH <= end; a += 16)
		if (rsdp_valid((const uint8_t *)a))
			return (const uint8_t *)a;
	return NULL;
}

static const uint8_t *find_rsdp(const char **source)
{
	uint64_t addr = boot_params.acpi_rsdp_addr;

	if (addr && addr < IDENTITY_MAP_END - 0x1000 &&
	    rsdp_valid((const uint8_t *)addr)) {
		*source = "boot_params.acpi_rsdp_addr";
		return (const uint8_t *)addr;
	}
	uint16_t segment;
	memcpy(&segment, (const void *)BDA_EBDA_SEGMENT, sizeof(segment));
	uint64_t ebda = (uint64_t)segment << 4;
	const uint8_t *rsdp = NULL;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		rsdp = rsdp_scan(ebda, ebda + 1024);
	if (!rsdp)
		rsdp = rsdp_scan(BIOS_ROM_START, BIOS_ROM_END);
	*source = "the BIOS area";
	return rsdp;
}

/* A table inside the identity map whose length and checksum hold. */
static const uint8_t *table_at(uint64_t addr)
{
	if (!addr || addr > IDENTITY_MAP_END - SDT_HEADER_LENGTH)
		return NULL;
	const uint8_t *t = (const uint8_t *)addr;
	uint32_t length = get32(t + 4);
	if (length < SDT_HEADER_LENGTH || addr + length > IDENTITY_MAP_END ||
	    sum(t, length))
		return NULL;
	return t;
}

static const uint8_t *find_madt(const uint8_t *rsdp)
{
	bool xsdt = rsdp[RSDP_REVISION] >= 2 && get64(rsdp + RSDP_XSDT_ADDRESS);
	const uint8_t *root = table_at(xsdt ? get64(rsdp + RSDP_XSDT_ADDRESS)
					    : get32(rsdp + RSDP_RSDT_ADDRESS));
	unsigned int entry_size = xsdt ? 8 : 4;

	if (!root || memcmp(root, xsdt ? "XSDT" : "RSDT", 4))
		return NULL;
	uint32_t length = get32(root + 4);
	for (uint32_t off = SDT_HEADER_LENGTH; off + entry_size <= length;
	     off += entry_size) {
		uint64_t addr = xsdt ? get64(root + off) : get32(root + off);
		const uint8_t *t = table_at(addr);
		if (t && !memcmp(t, "APIC", 4) && get32(t + 4) >= MADT_ENTRIES)
			return t;
	}
	return NULL;
}

int acpi_madt_apic_ids(uint32_t *ids, unsigned int max,
		       const char **rsdp_source)
{
	const uint8_t *rsdp = find_rsdp(rsdp_source);
	const uint8_t *madt = rsdp ? find_madt(rsdp) : NULL;
	unsigned int count = 0;

	if (!madt)
		return -1;
	uint32_t length = get32(madt + 4);
	for (uint32_t off = MADT_ENTRIES; off + 2 <= length;) {
		const uint8_t *e = madt + off;
		uint8_t type = e[0], len = e[1];
		if (len < 2 || off + len > length)
			break;
		uint32_t id = 0, flags = 0;
		bool cpu = false;
		if (type == MADT_LOCAL_APIC && len >= 8) {
			id = e[3];
			flags = get32(e + 4);
			cpu = true;
		} else if (type == MADT_LOCAL_X2APIC && len >= 16) {
			id = get32(e + 4);
			flags = get32(e + 8);
			cpu = true;
		}
		if (cpu && (flags & MADT_CPU_ENABLED)) {
			if (count < max)
				ids[count] = id;
			count++;
		}
		off += len;
	}
	return (int)count;
}
