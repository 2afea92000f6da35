/* SPDX-License-Identifier: MIT */
/*
 * DomU ACPI tables (toolstack/acpi_domu.c): checksums of every table and
 * field offsets read at the byte offsets ACPI 6.5 chapter 5.2 gives, not
 * through the structs the builder writes with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <kl/acpi_domu.h>

#define BASE	     0x9F000ULL /* not page aligned: only 16 bytes are required */
#define BASE_ALIGNED 0x000E0000ULL

static uint8_t buf[128 * 1024];
static struct kl_acpi_virtio win[3];
static struct kl_acpi_domu p;
static struct kl_acpi_layout l;

static int setup(void **state)
{
	(void)state;
	memset(buf, 0xCC, sizeof(buf));
	for (unsigned i = 0; i < 3; i++) {
		win[i].base = 0xD0000000ULL + i * 0x1000;
		win[i].size = 0x1000;
		win[i].gsi = 10 + i;
		win[i].edge = false;
	}
	p = (struct kl_acpi_domu){
	    .nr_vcpus = 4,
	    .max_vcpus = 4,
	    .ioapic_id = 1,
	    .ioapic_addr = KL_ACPI_IOAPIC_ADDR,
	    .ioapic_gsi_base = 0,
	    .ioapic_pins = 24,
	    .reset_port = 0xCF9,
	    .reset_value = 0x06,
	    .sleep_control_port = 0x404,
	    .sleep_status_port = 0x405,
	    .com1 = true,
	    .power_button = true,
	    .power_button_gsi = 9,
	    .virtio = win,
	    .nr_virtio = 3,
	};
	return 0;
}

static uint8_t u8(size_t off)
{
	return buf[off];
}

static uint16_t u16(size_t off)
{
	return (uint16_t)(buf[off] | buf[off + 1] << 8);
}

static uint32_t u32(size_t off)
{
	return (uint32_t)u16(off) | (uint32_t)u16(off + 2) << 16;
}

static uint64_t u64(size_t off)
{
	return (uint64_t)u32(off) | (uint64_t)u32(off + 4) << 32;
}

static uint8_t sum(size_t off, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + buf[off + i]);
	return s;
}

/* The table whose XSDT entry holds gpa, as a buffer offset. */
static size_t at(uint64_t gpa, uint64_t base)
{
	assert_true(gpa >= base && gpa - base < sizeof(buf));
	return (size_t)(gpa - base);
}

static void build(uint64_t base)
{
	int rc = kl_acpi_domu_build(&p, buf, sizeof(buf), base, &l);

	if (rc)
		fail_msg("kl_acpi_domu_build: %d", rc);
}

static void test_rsdp_xsdt(void **state)
{
	size_t xsdt;

	(void)state;
	build(BASE_ALIGNED);
	assert_int_equal(l.rsdp_gpa, BASE_ALIGNED);
	/* 5.2.5.3: signature, checksum over 20 bytes, revision 2, length
	 * 36, XSDT at 24, extended checksum over the whole 36 bytes. */
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(sum(0, 20), 0);
	assert_int_equal(u8(15), 2);
	assert_int_equal(u32(20), 36);
	assert_int_equal(sum(0, 36), 0);
	assert_memory_equal(buf + 9, "KEEL  ", 6);
	xsdt = at(u64(24), BASE_ALIGNED);
	assert_int_equal(xsdt % 16, 0);
	/* 5.2.8: header then 64-bit entries: FADT and MADT. */
	assert_memory_equal(buf + xsdt, "XSDT", 4);
	assert_int_equal(u32(xsdt + 4), 36 + 16);
	assert_int_equal(sum(xsdt, u32(xsdt + 4)), 0);
	assert_memory_equal(buf + at(u64(xsdt + 36), BASE_ALIGNED), "FACP", 4);
	assert_memory_equal(buf + at(u64(xsdt + 44), BASE_ALIGNED), "APIC", 4);
	assert_true(l.size > l.dsdt);
	assert_int_equal(l.size, l.dsdt + u32(l.dsdt + 4));
	/* Nothing past the tables was written. */
	assert_int_equal(buf[l.size], 0xCC);
}

static void test_fadt_fields(void **state)
{
	size_t f;

	(void)state;
	build(BASE_ALIGNED);
	f = l.fadt;
	assert_memory_equal(buf + f, "FACP", 4);
	assert_int_equal(u32(f + 4), 276); /* revision 6 length */
	assert_int_equal(u8(f + 8), 6);
	assert_int_equal(sum(f, 276), 0);
	assert_int_equal(u32(f + 36), 0); /* FIRMWARE_CTRL: no FACS */
	assert_int_equal(u32(f + 40), BASE_ALIGNED + l.dsdt);
	assert_int_equal(u16(f + 46), 0);		     /* SCI_INT */
	assert_int_equal(u32(f + 76), 0);		     /* PM_TMR_BLK */
	assert_int_equal(u16(f + 109), (1 << 2) | (1 << 5)); /* no VGA, RTC */
	/* Flags: HW_REDUCED_ACPI (20), RESET_REG_SUP (10). */
	assert_true(u32(f + 112) & (1u << 20));
	assert_true(u32(f + 112) & (1u << 10));
	/* RESET_REG: GAS in system I/O, 8 bits, byte access. */
	assert_int_equal(u8(f + 116), 1);
	assert_int_equal(u8(f + 117), 8);
	assert_int_equal(u8(f + 118), 0);
	assert_int_equal(u8(f + 119), 1);
	assert_int_equal(u64(f + 120), 0xCF9);
	assert_int_equal(u8(f + 128), 0x06);
	assert_int_equal(u8(f + 131), 5); /* FADT minor version */
	assert_int_equal(u64(f + 140), BASE_ALIGNED + l.dsdt); /* X_DSDT */
	assert_int_equal(u64(f + 148 + 4), 0); /* X_PM1a_EVT_BLK address */
	/* SLEEP_CONTROL_REG at 244, SLEEP_STATUS_REG at 256. */
	assert_int_equal(u8(f + 244), 1);
	assert_int_equal(u8(f + 245), 8);
	assert_int_equal(u64(f + 248), 0x404);
	assert_int_equal(u8(f + 256), 1);
	assert_int_equal(u8(f + 257), 8);
	assert_int_equal(u64(f + 260), 0x405);
	assert_memory_equal(buf + f + 268, "KeelKeel", 8);
}

static void test_madt_entries(void **state)
{
	size_t m, off, end;
	unsigned cpus = 0, ioapics = 0;

	(void)state;
	p.nr_vcpus = 2;
	p.max_vcpus = 3;
	build(BASE_ALIGNED);
	m = l.madt;
	assert_memory_equal(buf + m, "APIC", 4);
	assert_int_equal(u8(m + 8), 5);
	end = m + u32(m + 4);
	assert_int_equal(sum(m, u32(m + 4)), 0);
	assert_int_equal(u32(m + 36), 0xFEE00000);
	assert_int_equal(u32(m + 40), 0); /* no PCAT_COMPAT */
	for (off = m + 44; off < end; off += u8(off + 1)) {
		assert_true(u8(off + 1) >= 2);
		if (u8(off) == 0) { /* 5.2.12.2 */
			assert_int_equal(u8(off + 1), 8);
			assert_int_equal(u8(off + 2), cpus); /* UID */
			assert_int_equal(u8(off + 3), cpus); /* APIC ID */
			assert_int_equal(u32(off + 4), cpus < 2 ? 1 : 2);
			cpus++;
		} else if (u8(off) == 1) { /* 5.2.12.3 */
			assert_int_equal(u8(off + 1), 12);
			assert_int_equal(u8(off + 2), 1);
			assert_int_equal(u32(off + 4), 0xFEC00000);
			assert_int_equal(u32(off + 8), 0);
			ioapics++;
		} else {
			fail_msg("unexpected MADT entry type %u", u8(off));
		}
	}
	assert_int_equal(off, end);
	assert_int_equal(cpus, 3);
	assert_int_equal(ioapics, 1);
}

static void test_madt_x2apic_beyond_254(void **state)
{
	size_t m, off, end;
	unsigned xapic = 0, x2apic = 0;

	(void)state;
	p.nr_vcpus = p.max_vcpus = KL_ACPI_MAX_VCPUS;
	build(BASE_ALIGNED);
	m = l.madt;
	end = m + u32(m + 4);
	assert_int_equal(u32(m + 4), 44 + 255 * 8 + (4096 - 255) * 16 + 12);
	assert_int_equal(sum(m, u32(m + 4)), 0);
	for (off = m + 44; off < end; off += u8(off + 1)) {
		if (u8(off) == 0) {
			assert_int_equal(u8(off + 3), xapic);
			xapic++;
		} else if (u8(off) == 9) { /* 5.2.12.12 */
			assert_int_equal(u8(off + 1), 16);
			assert_int_equal(u32(off + 4), 255 + x2apic);
			assert_int_equal(u32(off + 8), 1);
			assert_int_equal(u32(off + 12), 255 + x2apic);
			x2apic++;
		}
	}
	assert_int_equal(xapic, 255);
	assert_int_equal(x2apic, 4096 - 255);
	/* Every other table still sums to zero. */
	assert_int_equal(sum(l.fadt, u32(l.fadt + 4)), 0);
	assert_int_equal(sum(l.dsdt, u32(l.dsdt + 4)), 0);
	assert_int_equal(sum(l.xsdt, u32(l.xsdt + 4)), 0);
}

static bool contains(size_t off, size_t len, const void *needle, size_t n)
{
	for (size_t i = off; i + n <= off + len; i++)
		if (!memcmp(buf + i, needle, n))
			return true;
	return false;
}

static void test_dsdt_content(void **state)
{
	size_t d, len;
	/* Name (\_S5_, Package (4) { 5, 5, Zero, Zero }) */
	static const uint8_t s5[] = {0x08, '\\', '_',  'S',  '5',
				     '_',  0x12, 0x08, 0x04, 0x0A,
				     0x05, 0x0A, 0x05, 0x00, 0x00};
	/* Memory32Fixed (ReadWrite, 0xD0001000, 0x1000) then
	 * Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {11} */
	static const uint8_t vr01[] = {
	    0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xD0, 0x00, 0x10, 0x00,
	    0x00, 0x89, 0x06, 0x00, 0x01, 0x01, 0x0B, 0x00, 0x00, 0x00, 0x79};

	(void)state;
	build(BASE);
	d = l.dsdt;
	len = u32(d + 4);
	assert_memory_equal(buf + d, "DSDT", 4);
	assert_int_equal(u8(d + 8), 2);
	assert_int_equal(sum(d, len), 0);
	assert_memory_equal(buf + d + 36, s5, sizeof(s5));
	assert_true(contains(d, len, "\x0DLNRO0005", 10));
	assert_true(contains(d, len, "\x5B\x82", 2));
	assert_true(contains(d, len, "VR02", 4));
	assert_false(contains(d, len, "VR03", 4));
	assert_true(contains(d, len, vr01, sizeof(vr01)));
	assert_true(contains(d, len, "COM1", 4));
	/* The power button, and its GED's interrupt: Extended Interrupt,
	 * consumer and edge, one GSI (9). */
	assert_true(contains(d, len, "PWRB", 4));
	assert_true(contains(d, len, "GED0", 4));
	assert_true(contains(d, len,
			     "\x0D"
			     "ACPI0013",
			     10));
	assert_true(
	    contains(d, len, "\x89\x06\x00\x03\x01\x09\x00\x00\x00", 9));
	assert_true(contains(d, len, "\x14", 1) && contains(d, len, "_EVT", 4));
	/* Without COM1, button and windows, only \_S5_ and an empty \_SB_
	 * remain. */
	p.com1 = false;
	p.power_button = false;
	p.nr_virtio = 0;
	build(BASE);
	assert_int_equal(u32(l.dsdt + 4), 36 + sizeof(s5) + 7);
}

static void test_bad_parameters(void **state)
{
	static uint8_t small[512];

	(void)state;
#define EXPECT_RC(rc, stmt)                                                    \
	do {                                                                   \
		setup(NULL);                                                   \
		stmt;                                                          \
		assert_int_equal(                                              \
		    kl_acpi_domu_build(&p, buf, sizeof(buf), BASE, &l), rc);   \
	} while (0)
	EXPECT_RC(0, (void)0);
	EXPECT_RC(-EINVAL, p.nr_vcpus = 0);
	EXPECT_RC(-EINVAL, p.max_vcpus = 3);
	EXPECT_RC(-EINVAL, p.max_vcpus = KL_ACPI_MAX_VCPUS + 1);
	EXPECT_RC(-EINVAL, p.reset_port = 0);
	EXPECT_RC(-EINVAL, p.sleep_status_port = 0);
	EXPECT_RC(-EINVAL, p.ioapic_pins = 0);
	EXPECT_RC(-EINVAL, win[1].gsi = 24); /* past the IOAPIC */
	EXPECT_RC(-EINVAL, win[1].gsi = 4);  /* COM1's */
	EXPECT_RC(0, (p.com1 = false, win[1].gsi = 4));
	EXPECT_RC(-EINVAL, win[2].gsi = win[0].gsi); /* shared */
	EXPECT_RC(-EINVAL, p.power_button_gsi = win[1].gsi);
	EXPECT_RC(-EINVAL, p.power_button_gsi = 4);
	EXPECT_RC(-EINVAL, p.power_button_gsi = 24);
	EXPECT_RC(0, (p.power_button = false, p.power_button_gsi = 4));
	EXPECT_RC(-EINVAL, win[1].base = win[0].base + 0x800);
	EXPECT_RC(0, win[0].base = 0xFFFFF000ULL); /* ends at 4 GiB */
	EXPECT_RC(-EINVAL, win[0].base = 0xFFFFF800ULL);
	EXPECT_RC(-EINVAL, win[0].base = 0xFEC00000ULL);
	EXPECT_RC(-EINVAL, win[0].size = 0x100);
	EXPECT_RC(-EINVAL, p.nr_virtio = KL_ACPI_MAX_VIRTIO + 1);
	setup(NULL);
	assert_int_equal(kl_acpi_domu_build(&p, buf, sizeof(buf), BASE + 8, &l),
			 -EINVAL);
	assert_int_equal(kl_acpi_domu_build(&p, small, sizeof(small), BASE, &l),
			 -ENOSPC);
	/* Room for all but the DSDT's last byte. */
	build(BASE);
	{
		size_t need = l.size;

		assert_int_equal(
		    kl_acpi_domu_build(&p, buf, need - 1, BASE, &l), -ENOSPC);
		assert_int_equal(kl_acpi_domu_build(&p, buf, need, BASE, &l),
				 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_rsdp_xsdt, setup),
	    cmocka_unit_test_setup(test_fadt_fields, setup),
	    cmocka_unit_test_setup(test_madt_entries, setup),
	    cmocka_unit_test_setup(test_madt_x2apic_beyond_254, setup),
	    cmocka_unit_test_setup(test_dsdt_content, setup),
	    cmocka_unit_test_setup(test_bad_parameters, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
