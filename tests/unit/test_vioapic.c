/* SPDX-License-Identifier: MIT */
/* Virtual I/O APIC (hypervisor/arch/x86/hvm/vioapic.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vioapic.h>
#include "shim.h"

#define BASE 0xFEC00000u

static struct vioapic ioapic;

static unsigned deliveries;
static struct {
	uint32_t dest;
	bool logical;
	uint8_t vector;
	uint8_t mode;
	bool level;
} last;
static unsigned pin_eois;
static unsigned last_eoi_pin;
/* When set, pin_eoi drops the line first, like a pass-through integrator. */
static bool eoi_deasserts;

static void fake_deliver(void *ctx, uint32_t dest, bool logical, uint8_t vector,
			 uint8_t delivery_mode, bool level)
{
	(void)ctx;
	deliveries++;
	last.dest = dest;
	last.logical = logical;
	last.vector = vector;
	last.mode = delivery_mode;
	last.level = level;
}

static void fake_pin_eoi(void *ctx, unsigned pin)
{
	(void)ctx;
	pin_eois++;
	last_eoi_pin = pin;
	if (eoi_deasserts)
		vioapic_set_pin(&ioapic, pin, false);
}

static const struct vioapic_env env = {
    .deliver = fake_deliver,
    .pin_eoi = fake_pin_eoi,
};

static int setup(void **state)
{
	(void)state;
	deliveries = pin_eois = 0;
	last_eoi_pin = ~0u;
	eoi_deasserts = false;
	memset(&last, 0, sizeof(last));
	memset(&ioapic, 0xA5, sizeof(ioapic));
	vioapic_init(&ioapic, 2, BASE, 0, &env, NULL);
	return 0;
}

static uint32_t ind_rd(uint32_t reg)
{
	uint64_t v = 0xDEAD;

	assert_int_equal(vioapic_mmio_write(&ioapic, VIOAPIC_IOREGSEL, 4, reg),
			 0);
	assert_int_equal(vioapic_mmio_read(&ioapic, VIOAPIC_IOWIN, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void ind_wr(uint32_t reg, uint32_t v)
{
	assert_int_equal(vioapic_mmio_write(&ioapic, VIOAPIC_IOREGSEL, 4, reg),
			 0);
	assert_int_equal(vioapic_mmio_write(&ioapic, VIOAPIC_IOWIN, 4, v), 0);
}

static void program(unsigned pin, uint32_t low, uint8_t dest)
{
	ind_wr(VIOAPIC_REG_RTE0 + 2 * pin + 1, (uint32_t)dest << 24);
	ind_wr(VIOAPIC_REG_RTE0 + 2 * pin, low);
}

static uint32_t rte_low(unsigned pin)
{
	return ind_rd(VIOAPIC_REG_RTE0 + 2 * pin);
}

#define EDGE  0x0000u
#define LEVEL 0x8000u
#define MASK  0x10000u
#define RIRR  0x4000u

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(ioapic.base_pa, BASE);
	assert_int_equal(ind_rd(VIOAPIC_REG_ID), 2u << 24);
	assert_int_equal(ind_rd(VIOAPIC_REG_VERSION), 0x00170020u);
	assert_int_equal(ind_rd(VIOAPIC_REG_ARB), 2u << 24);
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		assert_int_equal(rte_low(pin), MASK);
		assert_int_equal(ind_rd(VIOAPIC_REG_RTE0 + 2 * pin + 1), 0);
	}
	/* Masked at reset: nothing is delivered. */
	vioapic_set_pin(&ioapic, 3, true);
	assert_int_equal(deliveries, 0);
}

static void test_programming(void **state)
{
	uint64_t v;

	(void)state;
	/* Lowest priority, logical, active low, level, vector 0x31. */
	program(5, 0x0000A931 | MASK, 0x0F);
	assert_int_equal(rte_low(5), 0x0001A931);
	assert_int_equal(ind_rd(VIOAPIC_REG_RTE0 + 11), 0x0F000000);
	assert_int_equal(ioapic.rte[5], 0x0F0000000001A931ull);
	/* Reserved and read-only bits are not writable. */
	ind_wr(VIOAPIC_REG_RTE0 + 10, 0xFFFFFFFF);
	assert_int_equal(rte_low(5), 0x0001AFFF);
	ind_wr(VIOAPIC_REG_RTE0 + 11, 0xFFFFFFFF);
	assert_int_equal(ind_rd(VIOAPIC_REG_RTE0 + 11), 0xFF000000);
	/* IOREGSEL keeps bits 7:0 only. */
	assert_int_equal(
	    vioapic_mmio_write(&ioapic, VIOAPIC_IOREGSEL, 4, 0x1234), 0);
	assert_int_equal(vioapic_mmio_read(&ioapic, VIOAPIC_IOREGSEL, 4, &v),
			 0);
	assert_int_equal(v, 0x34);
	/* ID: bits 27:24 writable; version and arbitration are read-only. */
	ind_wr(VIOAPIC_REG_ID, 0xFFFFFFFF);
	assert_int_equal(ind_rd(VIOAPIC_REG_ID), 0x0F000000);
	assert_int_equal(ind_rd(VIOAPIC_REG_ARB), 0x0F000000);
	ind_wr(VIOAPIC_REG_VERSION, 0);
	assert_int_equal(ind_rd(VIOAPIC_REG_VERSION), 0x00170020u);
	/* Nothing above was unmasked, so nothing was sent. */
	assert_int_equal(deliveries, 0);
}

static void test_edge(void **state)
{
	(void)state;
	program(1, EDGE | 0x41, 2);
	assert_int_equal(deliveries, 0);
	vioapic_set_pin(&ioapic, 1, true);
	assert_int_equal(deliveries, 1);
	assert_int_equal(last.dest, 2);
	assert_false(last.logical);
	assert_int_equal(last.vector, 0x41);
	assert_int_equal(last.mode, 0);
	assert_false(last.level);
	/* No edge, no message; edge pins never set Remote IRR. */
	vioapic_set_pin(&ioapic, 1, true);
	assert_int_equal(deliveries, 1);
	assert_int_equal(rte_low(1), 0x41);
	vioapic_set_pin(&ioapic, 1, false);
	assert_int_equal(deliveries, 1);
	vioapic_set_pin(&ioapic, 1, true);
	assert_int_equal(deliveries, 2);
}

static void test_masked_edge_latches_nothing(void **state)
{
	(void)state;
	program(1, EDGE | MASK | 0x41, 2);
	vioapic_set_pin(&ioapic, 1, true);
	program(1, EDGE | 0x41, 2);
	assert_int_equal(deliveries, 0);
	vioapic_set_pin(&ioapic, 1, false);
	vioapic_set_pin(&ioapic, 1, true);
	assert_int_equal(deliveries, 1);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	program(9, LEVEL | 0x800 | 0x59, 0x03);
	vioapic_set_pin(&ioapic, 9, true);
	assert_int_equal(deliveries, 1);
	assert_true(last.level);
	assert_true(last.logical);
	assert_int_equal(last.dest, 0x03);
	assert_int_equal(rte_low(9) & RIRR, RIRR);
	/* Held high: no storm until the EOI. */
	for (int i = 0; i < 5; i++)
		vioapic_set_pin(&ioapic, 9, true);
	program(9, LEVEL | 0x800 | 0x59, 0x03);
	assert_int_equal(deliveries, 1);
	/* EOI of another vector does nothing. */
	vioapic_eoi(&ioapic, 0x58);
	assert_int_equal(pin_eois, 0);
	assert_int_equal(rte_low(9) & RIRR, RIRR);
	/* EOI while still asserted: pin_eoi, then sent again. */
	vioapic_eoi(&ioapic, 0x59);
	assert_int_equal(pin_eois, 1);
	assert_int_equal(last_eoi_pin, 9);
	assert_int_equal(deliveries, 2);
	assert_int_equal(rte_low(9) & RIRR, RIRR);
	/* Line dropped, then EOI: nothing more until it rises again. */
	vioapic_set_pin(&ioapic, 9, false);
	vioapic_eoi(&ioapic, 0x59);
	assert_int_equal(pin_eois, 2);
	assert_int_equal(deliveries, 2);
	assert_int_equal(rte_low(9) & RIRR, 0);
	vioapic_set_pin(&ioapic, 9, true);
	assert_int_equal(deliveries, 3);
	/* A second EOI with Remote IRR already clear is not forwarded. */
	vioapic_set_pin(&ioapic, 9, false);
	vioapic_eoi(&ioapic, 0x59);
	vioapic_eoi(&ioapic, 0x59);
	assert_int_equal(pin_eois, 3);
	assert_int_equal(deliveries, 3);
}

static void test_level_pass_through_eoi(void **state)
{
	(void)state;
	eoi_deasserts = true;
	program(16, LEVEL | 0x2000 | 0x70, 0);
	vioapic_set_pin(&ioapic, 16, true);
	assert_int_equal(deliveries, 1);
	/* pin_eoi lowers the line re-entrantly: no re-delivery. */
	vioapic_eoi(&ioapic, 0x70);
	assert_int_equal(pin_eois, 1);
	assert_int_equal(deliveries, 1);
	/* The physical line fires again: a new delivery. */
	vioapic_set_pin(&ioapic, 16, true);
	assert_int_equal(deliveries, 2);
}

static void test_level_masked_redelivers_on_unmask(void **state)
{
	(void)state;
	program(4, LEVEL | MASK | 0x44, 0);
	vioapic_set_pin(&ioapic, 4, true);
	assert_int_equal(deliveries, 0);
	program(4, LEVEL | 0x44, 0);
	assert_int_equal(deliveries, 1);
	assert_int_equal(rte_low(4) & RIRR, RIRR);
	/* Masking does not clear Remote IRR; the EOI does. */
	program(4, LEVEL | MASK | 0x44, 0);
	vioapic_eoi(&ioapic, 0x44);
	assert_int_equal(rte_low(4) & RIRR, 0);
	assert_int_equal(deliveries, 1);
	/* Deasserted while masked: unmasking sends nothing. */
	vioapic_set_pin(&ioapic, 4, false);
	program(4, LEVEL | 0x44, 0);
	assert_int_equal(deliveries, 1);
}

static void test_eoi_register(void **state)
{
	uint64_t v;

	(void)state;
	program(2, LEVEL | 0x62, 1);
	program(3, LEVEL | 0x62, 1);
	vioapic_set_pin(&ioapic, 2, true);
	vioapic_set_pin(&ioapic, 3, true);
	assert_int_equal(deliveries, 2);
	vioapic_set_pin(&ioapic, 2, false);
	vioapic_set_pin(&ioapic, 3, false);
	/* Every pin with the vector is retired; bits 31:8 are ignored. */
	assert_int_equal(vioapic_mmio_write(&ioapic, VIOAPIC_EOI, 4, 0x162), 0);
	assert_int_equal(pin_eois, 2);
	assert_int_equal(rte_low(2) & RIRR, 0);
	assert_int_equal(rte_low(3) & RIRR, 0);
	/* The EOI register is write-only. */
	assert_int_equal(vioapic_mmio_read(&ioapic, VIOAPIC_EOI, 4, &v),
			 -EINVAL);
}

static void test_switch_to_edge_clears_remote_irr(void **state)
{
	(void)state;
	/* Linux's EOI for IOAPICs without the EOI register. */
	program(7, LEVEL | 0x47, 0);
	vioapic_set_pin(&ioapic, 7, true);
	assert_int_equal(rte_low(7) & RIRR, RIRR);
	program(7, EDGE | MASK | 0x47, 0);
	assert_int_equal(rte_low(7) & RIRR, 0);
	program(7, LEVEL | 0x47, 0);
	/* Still asserted, so the line is delivered again. */
	assert_int_equal(deliveries, 2);
	assert_int_equal(pin_eois, 0);
}

static void test_reserved_delivery_mode(void **state)
{
	(void)state;
	program(6, EDGE | 0x300 | 0x46, 0);
	vioapic_set_pin(&ioapic, 6, true);
	program(8, LEVEL | 0x600 | 0x48, 0);
	vioapic_set_pin(&ioapic, 8, true);
	assert_int_equal(deliveries, 0);
	assert_int_equal(rte_low(8) & RIRR, 0);
	/* NMI passes its mode through. */
	program(10, EDGE | 0x400, 0);
	vioapic_set_pin(&ioapic, 10, true);
	assert_int_equal(deliveries, 1);
	assert_int_equal(last.mode, 4);
}

static void test_out_of_range(void **state)
{
	uint64_t v;

	(void)state;
	/* Pins beyond 23 do not exist. */
	vioapic_set_pin(&ioapic, VIOAPIC_NR_PINS, true);
	vioapic_set_pin(&ioapic, 1000, true);
	assert_int_equal(ioapic.asserted, 0);
	assert_int_equal(deliveries, 0);
	/* The last RTE is 0x3F; 0x40 and up, and 0x03-0x0F, are undefined. */
	ind_wr(0x3F, 0xAB000000);
	assert_int_equal(ind_rd(0x3F), 0xAB000000);
	for (uint32_t reg = 0x40; reg <= 0xFF; reg++) {
		ind_wr(reg, 0xFFFFFFFF);
		assert_int_equal(ind_rd(reg), 0);
	}
	for (uint32_t reg = 0x03; reg < 0x10; reg++) {
		ind_wr(reg, 0xFFFFFFFF);
		assert_int_equal(ind_rd(reg), 0);
	}
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS - 1; pin++)
		assert_int_equal(ioapic.rte[pin], VIOAPIC_RTE_MASKED);
	/* Bad offsets and sizes. */
	assert_int_equal(vioapic_mmio_read(&ioapic, 0x20, 4, &v), -EINVAL);
	assert_int_equal(vioapic_mmio_read(&ioapic, 0x04, 4, &v), -EINVAL);
	assert_int_equal(vioapic_mmio_read(&ioapic, 0x10, 1, &v), -EINVAL);
	assert_int_equal(vioapic_mmio_read(&ioapic, 0x10, 8, &v), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&ioapic, 0x00, 2, 0), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&ioapic, 0x30, 4, 0), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&ioapic, 0xFFC, 4, 0), -EINVAL);
	assert_int_equal(vioapic_mmio_write(&ioapic, 0x1000, 4, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_reset_state, setup),
	    cmocka_unit_test_setup(test_programming, setup),
	    cmocka_unit_test_setup(test_edge, setup),
	    cmocka_unit_test_setup(test_masked_edge_latches_nothing, setup),
	    cmocka_unit_test_setup(test_level_remote_irr, setup),
	    cmocka_unit_test_setup(test_level_pass_through_eoi, setup),
	    cmocka_unit_test_setup(test_level_masked_redelivers_on_unmask,
				   setup),
	    cmocka_unit_test_setup(test_eoi_register, setup),
	    cmocka_unit_test_setup(test_switch_to_edge_clears_remote_irr,
				   setup),
	    cmocka_unit_test_setup(test_reserved_delivery_mode, setup),
	    cmocka_unit_test_setup(test_out_of_range, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
