/* SPDX-License-Identifier: MIT */
/*
 * e820: the boot_params a loader hands to a Dom0 kernel (Linux boot
 * protocol, 64-bit entry): an e820 map with RAM, hypervisor memory (given
 * as addr=0x... on the command line) kept out of the RAM ranges, a readable
 * command line, and the guest's own image inside RAM. Entered through the
 * 64-bit entry it also checks the entry state the protocol promises and
 * Keel's choice of load address (pref_address for a non-relocatable
 * kernel).
 */
#include "guest.h"

const char test_name[] = "e820";

#define BOOT_CS 0x10
#define BOOT_DS 0x18

static const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case 1:
		return "RAM";
	case 2:
		return "reserved";
	case 3:
		return "ACPI";
	case 4:
		return "NVS";
	case 5:
		return "unusable";
	default:
		return "other";
	}
}

/* True if [start, end) lies within the union of the RAM entries. */
static bool range_is_ram(uint64_t start, uint64_t end)
{
	unsigned int count = boot_params.e820_entries;
	bool advanced = true;

	/* Entries may come in any order: sweep until no entry extends the
	 * covered prefix. */
	while (start < end && advanced) {
		advanced = false;
		for (unsigned int i = 0; i < count; i++) {
			const struct boot_e820_entry *e =
			    &boot_params.e820_table[i];
			if (e->type != E820_TYPE_RAM)
				continue;
			if (e->addr <= start && start < e->addr + e->size) {
				start = e->addr + e->size;
				advanced = true;
			}
		}
	}
	return start >= end;
}

static void check_e820_table(uint64_t hv_addr)
{
	unsigned int count = boot_params.e820_entries;
	uint64_t ram_bytes = 0;
	bool entries_sane = true;
	bool hv_in_ram = false;

	printf("e820: %u entries\n", count);
	if (!check(count > 0 && count <= E820_MAX_ENTRIES_ZEROPAGE,
		   "e820_entries = %u is in 1..%u", count,
		   E820_MAX_ENTRIES_ZEROPAGE))
		return;

	for (unsigned int i = 0; i < count; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];
		printf("e820:   [0x%016lx-0x%016lx] %s (%u)\n", e->addr,
		       e->addr + e->size - 1, e820_type_name(e->type), e->type);
		if (e->size == 0 || e->addr + e->size < e->addr)
			entries_sane = false;
		if (e->type != E820_TYPE_RAM)
			continue;
		ram_bytes += e->size;
		if (e->addr <= hv_addr && hv_addr < e->addr + e->size)
			hv_in_ram = true;
	}
	check(entries_sane, "every entry has a nonzero size and no overflow");
	check(ram_bytes >= 16ull << 20, "RAM entries total %lu MiB",
	      ram_bytes >> 20);
	check(!hv_in_ram,
	      "hypervisor memory at 0x%lx is not inside a RAM entry", hv_addr);

	uint64_t start = (uint64_t)_start, end = (uint64_t)_end;
	check(range_is_ram(start, end),
	      "the guest's image [0x%lx-0x%lx) is RAM", start, end);
}

static void check_entry_state(void)
{
	printf("e820: entry cs=0x%x ds=0x%x rflags=0x%lx\n", boot_entry_cs,
	       boot_entry_ds, boot_entry_flags);
	check(boot_entry_cs == BOOT_CS,
	      "entered with CS = 0x%x (expected 0x%x)", boot_entry_cs, BOOT_CS);
	check(boot_entry_ds == BOOT_DS,
	      "entered with DS = 0x%x (expected 0x%x)", boot_entry_ds, BOOT_DS);
	check(!(boot_entry_flags & X86_EFLAGS_IF),
	      "entered with interrupts disabled");
	if (boot_entry_mode == 64)
		check(boot_load_address == boot_params.hdr.pref_address &&
			  boot_load_address == PREF_ADDRESS,
		      "64-bit entry: image loaded at pref_address 0x%x (got "
		      "0x%lx)",
		      PREF_ADDRESS, boot_load_address);
}

void test_main(void)
{
	uint64_t hv_addr;

	check_entry_state();

	uint64_t cmd = boot_params.hdr.cmd_line_ptr |
		       ((uint64_t)boot_params.ext_cmd_line_ptr << 32);
	check(cmd != 0, "cmd_line_ptr is set (0x%lx)", cmd);
	if (!check(cmdline_u64("addr", &hv_addr),
		   "command line \"%s\" carries addr=<hypervisor address>",
		   cmdline()))
		test_finish();

	check_e820_table(hv_addr);
	test_finish();
}
