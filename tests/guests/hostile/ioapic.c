/* SPDX-License-Identifier: MIT */
/*
 * The virtual IOAPIC (Intel 82093AA datasheet §3): IOREGSEL with every
 * index and garbage in its reserved bits, writes to indirect registers
 * that do not exist (ignored, read 0), every redirection entry with
 * illegal vectors and every delivery mode, the ID register, and
 * accesses off the three registers (#GP or ignored, never more).
 */
#include "hostile.h"

#define IOAPIC_BASE 0xFEC00000ULL
#define IOREGSEL    0x00
#define IOWIN	    0x10
#define REG_ID	    0x00
#define REG_VERSION 0x01
#define REG_RTE0    0x10
#define RTE_MASKED  (1u << 16)
#define RTE_WRITABLE                                                           \
	0x1AFFFu /* vector, mode, dest mode, polarity, trigger, mask */

static uint32_t mmio_write_safe(uint64_t off, uint32_t val)
{
	uint64_t exinfo = 0;

	__asm__ volatile("1: movl %1, (%2)\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "r"(val), "r"(IOAPIC_BASE + off)
			 : "memory");
	return (uint32_t)exinfo;
}

static uint32_t mmio_read_safe(uint64_t off, uint32_t *val)
{
	uint64_t exinfo = 0;
	uint32_t v = 0;

	__asm__ volatile("1: movl (%2), %0\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+r"(v), "+D"(exinfo)
			 : "r"(IOAPIC_BASE + off)
			 : "memory");
	*val = v;
	return (uint32_t)exinfo;
}

static uint32_t ioapic_read(uint32_t reg)
{
	uint32_t v;

	mmio_write_safe(IOREGSEL, reg);
	mmio_read_safe(IOWIN, &v);
	return v;
}

static void ioapic_write(uint32_t reg, uint32_t val)
{
	mmio_write_safe(IOREGSEL, reg);
	mmio_write_safe(IOWIN, val);
}

void case_ioapic(void)
{
	uint32_t version = ioapic_read(REG_VERSION), pins, bad = 0, v;
	uint64_t other = 0;

	pins = ((version >> 16) & 0xFF) + 1;
	printf("hostile: ioapic: version %x, %u pins\n", version, pins);
	check(pins >= 16 && pins <= 240, "a plausible pin count (%u)", pins);

	/* Garbage in IOREGSEL's reserved bits selects the low byte. */
	mmio_write_safe(IOREGSEL, 0xFFFFFF00 | REG_VERSION);
	mmio_read_safe(IOWIN, &v);
	check(v == version, "IOREGSEL's reserved bits ignored (%x)", v);

	/* The indices past the last redirection entry. */
	for (uint32_t reg = REG_RTE0 + 2 * pins; reg <= 0xFF; reg++) {
		ioapic_write(reg, 0xFFFFFFFF);
		bad += ioapic_read(reg) != 0;
	}
	for (uint32_t reg = 0x03; reg < REG_RTE0; reg++) {
		ioapic_write(reg, 0xFFFFFFFF);
		bad += ioapic_read(reg) != 0;
	}
	check(!bad, "undefined indices ignore writes and read 0 (%u not)", bad);
	ioapic_write(REG_VERSION, 0);
	check(ioapic_read(REG_VERSION) == version,
	      "the version register ignores writes");

	/* Every pin: illegal vectors, every delivery mode, garbage in the
	 * read-only bits, always masked so nothing is delivered. */
	bad = 0;
	for (uint32_t pin = 0; pin < pins; pin++) {
		for (uint32_t mode = 0; mode < 8; mode++) {
			uint32_t low = RTE_MASKED | mode << 8 | (pin & 0xF) |
				       0xFFFE0000u | (1u << 12) | (1u << 14);

			ioapic_write(REG_RTE0 + 2 * pin, low);
			ioapic_write(REG_RTE0 + 2 * pin + 1, 0xFFFFFFFF);
			v = ioapic_read(REG_RTE0 + 2 * pin);
			bad += (v & RTE_WRITABLE) != (low & RTE_WRITABLE) ||
			       (v & 0xFFFE0000u);
		}
		ioapic_write(REG_RTE0 + 2 * pin, RTE_MASKED);
		ioapic_write(REG_RTE0 + 2 * pin + 1, 0);
	}
	check(!bad,
	      "every redirection entry keeps its writable bits only (%u "
	      "not)",
	      bad);

	ioapic_write(REG_ID, 0xFFFFFFFF);
	v = ioapic_read(REG_ID);
	check(!(v & ~0x0F000000u), "the ID keeps bits 27:24 only (%x)", v);

	/* Off the registers: the EOI register is write-only; other
	 * offsets and sizes are #GP here or ignored. */
	for (uint64_t off = 0x04; off < 0x1000; off += 0x04) {
		uint32_t ex;

		if (off == IOWIN || off == 0x40)
			continue;
		ex = mmio_write_safe(off, 0xFFFFFFFF);
		if (exinfo_faulted(ex) && exinfo_vector(ex) != X86_EXC_GP)
			other++;
		ex = mmio_read_safe(off, &v);
		if (exinfo_faulted(ex) && exinfo_vector(ex) != X86_EXC_GP)
			other++;
	}
	check(!other, "other offsets: #GP or ignored (%lu others)", other);
	check(ioapic_read(REG_VERSION) == version,
	      "the IOAPIC still answers (version %x)",
	      ioapic_read(REG_VERSION));
}
