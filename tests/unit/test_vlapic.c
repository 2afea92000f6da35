/* SPDX-License-Identifier: MIT */
/* Virtual local APIC (hypervisor/arch/x86/hvm/vlapic.c) with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vlapic.h>
#include "shim.h"

/* 2 GHz TSC, 1 GHz APIC bus: one bus clock is two TSC ticks. */
#define TSC_KHZ 2000000u
#define BUS_KHZ 1000000u
#define T0	1000000u

#define REG_ID	    0x020
#define REG_VERSION 0x030
#define REG_TPR	    0x080
#define REG_PPR	    0x0A0
#define REG_EOI	    0x0B0
#define REG_LDR	    0x0D0
#define REG_DFR	    0x0E0
#define REG_SVR	    0x0F0
#define REG_ISR	    0x100
#define REG_TMR	    0x180
#define REG_IRR	    0x200
#define REG_ESR	    0x280
#define REG_ICR_LO  0x300
#define REG_ICR_HI  0x310
#define REG_LVTT    0x320
#define REG_LVTERR  0x370
#define REG_TMICT   0x380
#define REG_TMCCT   0x390
#define REG_TDCR    0x3E0

#define MSR(reg) (0x800u + ((reg) >> 4))

#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define LVT_TSC_DL   (2u << 17)
#define DIV_BY_1     0xBu

static uint64_t fake_tsc;
static unsigned kicks;
static unsigned ipis;
static struct {
	uint32_t dest;
	bool x2apic_dest;
	uint32_t icr_low;
} last_ipi;
static unsigned level_eois;
static uint8_t last_level_eoi;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return fake_tsc;
}

static void fake_send_ipi(void *ctx, uint32_t dest, bool x2apic_dest,
			  uint32_t icr_low)
{
	(void)ctx;
	ipis++;
	last_ipi.dest = dest;
	last_ipi.x2apic_dest = x2apic_dest;
	last_ipi.icr_low = icr_low;
}

static void fake_eoi_level(void *ctx, uint8_t vector)
{
	(void)ctx;
	level_eois++;
	last_level_eoi = vector;
}

static void fake_kick(void *ctx)
{
	(void)ctx;
	kicks++;
}

static const struct vlapic_env env = {
    .now_tsc = fake_now,
    .send_ipi = fake_send_ipi,
    .eoi_level = fake_eoi_level,
    .kick = fake_kick,
};

static struct vlapic lapic;

static int setup(void **state)
{
	(void)state;
	fake_tsc = T0;
	kicks = ipis = level_eois = 0;
	memset(&last_ipi, 0, sizeof(last_ipi));
	last_level_eoi = 0;
	memset(&lapic, 0xA5, sizeof(lapic));
	vlapic_init(&lapic, 3, true, TSC_KHZ, BUS_KHZ, &env, NULL);
	return 0;
}

static uint32_t rd(uint32_t reg)
{
	uint64_t v = 0xDEAD;

	assert_int_equal(vlapic_mmio_read(&lapic, reg, 4, &v), 0);
	assert_true(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void wr(uint32_t reg, uint32_t v)
{
	assert_int_equal(vlapic_mmio_write(&lapic, reg, 4, v), 0);
}

static uint64_t msr_rd(uint32_t msr)
{
	uint64_t v = 0xDEAD;

	assert_int_equal(vlapic_msr_read(&lapic, msr, &v), 0);
	return v;
}

static void msr_wr(uint32_t msr, uint64_t v)
{
	assert_int_equal(vlapic_msr_write(&lapic, msr, v), 0);
}

static void software_enable(void)
{
	wr(REG_SVR, 0x1FF);
}

static void to_x2apic(void)
{
	msr_wr(VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | BIT(11) | BIT(10));
	assert_true(vlapic_x2apic_mode(&lapic));
}

static bool irr_has(uint8_t v)
{
	return lapic.irr[v / 32] & (1u << (v % 32));
}

/* Takes and retires whatever is pending, so the IRR is empty again. */
static void drain(void)
{
	int v;

	while ((v = vlapic_pending_irq(&lapic)) >= 0) {
		vlapic_irq_injected(&lapic, (uint8_t)v);
		wr(REG_EOI, 0);
	}
}

static void test_power_up_state(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xFEE00900u);
	assert_int_equal(vlapic_base(&lapic), 0xFEE00000u);
	assert_false(vlapic_x2apic_mode(&lapic));
	assert_int_equal(rd(REG_ID), 3u << 24);
	assert_int_equal(rd(REG_VERSION), 0x00050014u);
	assert_int_equal(rd(REG_SVR), 0xFF);
	assert_int_equal(rd(REG_DFR), 0xFFFFFFFFu);
	assert_int_equal(rd(REG_TPR), 0);
	assert_int_equal(rd(REG_LDR), 0);
	for (uint32_t r = REG_LVTT; r <= REG_LVTERR; r += 0x10)
		assert_int_equal(rd(r), LVT_MASKED);
	/* x2APIC MSRs fault while in xAPIC mode. */
	assert_int_equal(vlapic_msr_read(&lapic, MSR(REG_ID), &v), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_TPR), 0), -EINVAL);

	vlapic_init(&lapic, 4, false, TSC_KHZ, BUS_KHZ, &env, NULL);
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xFEE00800u);
}

static void test_mmio_access_validation(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR + 4, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR, 2, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR, 8, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR, 3, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xFFE, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0x1000, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_write(&lapic, REG_TPR, 1, 0), -EINVAL);
	/* Undefined registers: APR, RRD, CMCI, SELF IPI (x2APIC only). */
	assert_int_equal(vlapic_mmio_read(&lapic, 0x090, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0x0C0, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0x2F0, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_write(&lapic, 0x3F0, 4, 0x40), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0x3F0, 4, &v), -EINVAL);
	assert_int_equal(vlapic_mmio_read(&lapic, 0x800, 4, &v), -EINVAL);
	/* Writes to read-only xAPIC registers are ignored. */
	wr(REG_VERSION, 0);
	wr(REG_ID, 0x07000000);
	wr(REG_IRR, 0xFFFFFFFF);
	wr(REG_TMCCT, 5);
	assert_int_equal(rd(REG_VERSION), 0x00050014u);
	assert_int_equal(rd(REG_ID), 3u << 24);
	assert_int_equal(rd(REG_IRR), 0);
	assert_int_equal(rd(REG_TMCCT), 0);
	/* EOI is write-only; an MMIO read sees 0. */
	assert_int_equal(rd(REG_EOI), 0);
}

static void test_xapic_reserved_bits_ignored(void **state)
{
	(void)state;
	wr(REG_TPR, 0xFFFFFFFF);
	assert_int_equal(rd(REG_TPR), 0xFF);
	wr(REG_LDR, 0x12345678);
	assert_int_equal(rd(REG_LDR), 0x12000000);
	wr(REG_DFR, 0);
	assert_int_equal(rd(REG_DFR), 0x0FFFFFFF);
	wr(REG_SVR, 0xFFFFFFFF);
	assert_int_equal(rd(REG_SVR), 0x3FF);
	wr(REG_TDCR, 0xFFFFFFFF);
	assert_int_equal(rd(REG_TDCR), 0xB);
	wr(REG_ICR_HI, 0xFFFFFFFF);
	assert_int_equal(rd(REG_ICR_HI), 0xFF000000u);
	/* Error LVT: vector and mask only; delivery status reads 0. */
	wr(REG_LVTERR, 0xFFFFFFFF);
	assert_int_equal(rd(REG_LVTERR), 0x000100FF);
	/* LINT0: + delivery mode, polarity, trigger; not remote IRR. */
	wr(0x350, 0xFFFFFFFF);
	assert_int_equal(rd(0x350), 0x0001A7FF);
}

static void test_software_disable_masks_lvt(void **state)
{
	(void)state;
	wr(REG_LVTT, 0x40);
	assert_int_equal(rd(REG_LVTT), LVT_MASKED | 0x40);
	vlapic_accept_irq(&lapic, 0x40, false);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	assert_int_equal(kicks, 0);

	software_enable();
	wr(REG_LVTT, 0x40);
	wr(REG_LVTERR, 0x41);
	assert_int_equal(rd(REG_LVTT), 0x40);
	vlapic_accept_irq(&lapic, 0x40, false);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x40);
	assert_int_equal(kicks, 1);

	/* Clearing SVR.8 masks every entry; pending interrupts stay. */
	wr(REG_SVR, 0xFF);
	assert_int_equal(rd(REG_LVTT), LVT_MASKED | 0x40);
	assert_int_equal(rd(REG_LVTERR), LVT_MASKED | 0x41);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x40);
}

static void test_priority_tpr_ppr(void **state)
{
	(void)state;
	software_enable();
	vlapic_accept_irq(&lapic, 0x31, false);
	vlapic_accept_irq(&lapic, 0x45, false);
	assert_int_equal(kicks, 2);
	assert_int_equal(rd(REG_IRR + 0x10), (1u << 0x11));
	assert_int_equal(rd(REG_IRR + 0x20), (1u << 0x05));
	assert_int_equal(vlapic_pending_irq(&lapic), 0x45);

	/* Delivery needs the vector's class above the PPR's class. */
	wr(REG_TPR, 0x50);
	assert_int_equal(rd(REG_PPR), 0x50);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	wr(REG_TPR, 0x4F);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	wr(REG_TPR, 0x3F);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x45);
	wr(REG_TPR, 0);

	vlapic_irq_injected(&lapic, 0x45);
	assert_int_equal(rd(REG_ISR + 0x20), 1u << 0x05);
	assert_int_equal(rd(REG_IRR + 0x20), 0);
	/* In service 0x45: PPR is its class; 0x31 must wait. */
	assert_int_equal(rd(REG_PPR), 0x40);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	/* TPR above the in-service class wins. */
	wr(REG_TPR, 0x62);
	assert_int_equal(rd(REG_PPR), 0x62);
	wr(REG_TPR, 0x12);
	assert_int_equal(rd(REG_PPR), 0x40);

	/* A higher class nests. */
	vlapic_accept_irq(&lapic, 0x51, false);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x51);
	vlapic_irq_injected(&lapic, 0x51);
	assert_int_equal(rd(REG_PPR), 0x50);

	/* EOI retires the highest in-service vector first. */
	wr(REG_EOI, 0);
	assert_int_equal(rd(REG_ISR + 0x20), 1u << 0x05);
	assert_int_equal(rd(REG_PPR), 0x40);
	wr(REG_EOI, 0);
	assert_int_equal(rd(REG_ISR + 0x20), 0);
	assert_int_equal(rd(REG_PPR), 0x12);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x31);
	/* EOI with nothing in service does nothing. */
	vlapic_irq_injected(&lapic, 0x31);
	wr(REG_EOI, 0);
	wr(REG_EOI, 0);
	assert_int_equal(rd(REG_PPR), 0x12);
	assert_int_equal(level_eois, 0);
}

/* An injected vector the CPU did not take is requested again, once. */
static void test_requeue_not_taken(void **state)
{
	(void)state;
	software_enable();
	vlapic_accept_irq(&lapic, 0x45, false);
	vlapic_irq_injected(&lapic, 0x45);
	/* The same vector again before the CPU took the first: one request,
	 * as in a real IRR. */
	vlapic_accept_irq(&lapic, 0x45, false);
	vlapic_irq_requeue(&lapic, 0x45);
	assert_int_equal(rd(REG_ISR + 0x20), 0);
	assert_int_equal(rd(REG_IRR + 0x20), 1u << 0x05);
	assert_int_equal(rd(REG_PPR), 0);
	assert_int_equal(vlapic_pending_irq(&lapic), 0x45);
	vlapic_irq_injected(&lapic, 0x45);
	wr(REG_EOI, 0);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
}

static void test_level_eoi_callback(void **state)
{
	(void)state;
	software_enable();
	vlapic_accept_irq(&lapic, 0x60, true);
	assert_int_equal(rd(REG_TMR + 0x30), 1u << 0);
	vlapic_irq_injected(&lapic, 0x60);
	wr(REG_EOI, 0);
	assert_int_equal(level_eois, 1);
	assert_int_equal(last_level_eoi, 0x60);

	/* Edge acceptance clears TMR; its EOI is not forwarded. */
	vlapic_accept_irq(&lapic, 0x60, false);
	assert_int_equal(rd(REG_TMR + 0x30), 0);
	vlapic_irq_injected(&lapic, 0x60);
	wr(REG_EOI, 0);
	assert_int_equal(level_eois, 1);
}

static void test_illegal_vectors_and_esr(void **state)
{
	(void)state;
	software_enable();
	vlapic_accept_irq(&lapic, 5, false);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	/* ESR shows errors only after a write latches them. */
	assert_int_equal(rd(REG_ESR), 0);
	wr(REG_ESR, 0);
	assert_int_equal(rd(REG_ESR), 0x40);
	wr(REG_ESR, 0);
	assert_int_equal(rd(REG_ESR), 0);

	/* An unmasked LVT error entry signals the error. */
	wr(REG_LVTERR, 0xFE);
	vlapic_accept_irq(&lapic, 15, true);
	assert_int_equal(vlapic_pending_irq(&lapic), 0xFE);
	assert_int_equal(rd(REG_TMR + 0x70), 0);

	/* Sending a fixed IPI with an illegal vector: not sent, logged. */
	wr(REG_ICR_LO, 0x00004005);
	assert_int_equal(ipis, 0);
	wr(REG_ESR, 0);
	assert_int_equal(rd(REG_ESR), 0x60);
}

static void test_xapic_icr(void **state)
{
	(void)state;
	software_enable();
	wr(REG_ICR_HI, 0x07123456);
	assert_int_equal(ipis, 0);
	/* Fixed, logical, vector 0xF0, shorthand none; bit 12 reads 0. */
	wr(REG_ICR_LO, 0xFFFF78F0);
	assert_int_equal(ipis, 1);
	assert_int_equal(last_ipi.dest, 7);
	assert_false(last_ipi.x2apic_dest);
	assert_int_equal(last_ipi.icr_low, 0x000C48F0);
	assert_int_equal(rd(REG_ICR_LO), 0x000C48F0);
	assert_int_equal(VLAPIC_ICR_SHORTHAND(last_ipi.icr_low),
			 VLAPIC_SHORTHAND_ALL_BUT_SELF);
	assert_true(last_ipi.icr_low & VLAPIC_ICR_LOGICAL);

	/* INIT assert, INIT de-assert (dropped), then SIPI: Linux's order. */
	wr(REG_ICR_HI, 0x01000000);
	wr(REG_ICR_LO, 0x0000C500);
	assert_int_equal(ipis, 2);
	assert_int_equal(VLAPIC_ICR_DELIVERY_MODE(last_ipi.icr_low),
			 VLAPIC_DM_INIT);
	wr(REG_ICR_LO, 0x00008500);
	assert_int_equal(ipis, 2);
	wr(REG_ICR_LO, 0x00000698);
	assert_int_equal(ipis, 3);
	assert_int_equal(last_ipi.dest, 1);
	assert_int_equal(VLAPIC_ICR_DELIVERY_MODE(last_ipi.icr_low),
			 VLAPIC_DM_STARTUP);
	assert_int_equal(VLAPIC_ICR_VECTOR(last_ipi.icr_low), 0x98);

	/* Reserved delivery modes 011 and 111 send nothing. */
	wr(REG_ICR_LO, 0x00000340);
	wr(REG_ICR_LO, 0x00000740);
	assert_int_equal(ipis, 3);
	/* NMI ignores the vector field, so vector 2 is fine. */
	wr(REG_ICR_LO, 0x00000402);
	assert_int_equal(ipis, 4);
}

static void test_x2apic_registers(void **state)
{
	uint64_t v;

	(void)state;
	vlapic_init(&lapic, 0x125, false, TSC_KHZ, BUS_KHZ, &env, NULL);
	wr(REG_TPR, 0x20);
	to_x2apic();
	/* State survives the xAPIC → x2APIC switch. */
	assert_int_equal(msr_rd(MSR(REG_TPR)), 0x20);
	assert_int_equal(msr_rd(MSR(REG_ID)), 0x125);
	assert_int_equal(msr_rd(MSR(REG_VERSION)), 0x00050014u);
	/* Logical ID: cluster 0x12, member bit 5. */
	assert_int_equal(msr_rd(MSR(REG_LDR)), 0x00120020u);
	msr_wr(MSR(REG_SVR), 0x1FF);
	assert_int_equal(msr_rd(MSR(REG_SVR)), 0x1FF);

	/* Read-only registers fault on write. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_ID), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_VERSION), 0),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_LDR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_PPR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_IRR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_TMCCT), 0), -EINVAL);
	/* Write-only registers fault on read. */
	assert_int_equal(vlapic_msr_read(&lapic, MSR(REG_EOI), &v), -EINVAL);
	assert_int_equal(vlapic_msr_read(&lapic, 0x83F, &v), -EINVAL);
	/* xAPIC-only and absent registers fault. */
	assert_int_equal(vlapic_msr_read(&lapic, MSR(REG_DFR), &v), -EINVAL);
	assert_int_equal(vlapic_msr_read(&lapic, MSR(REG_ICR_HI), &v), -EINVAL);
	assert_int_equal(vlapic_msr_read(&lapic, 0x809, &v), -EINVAL);
	assert_int_equal(vlapic_msr_read(&lapic, 0x82F, &v), -EINVAL);
	assert_int_equal(vlapic_msr_read(&lapic, 0x8FF, &v), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_DFR), 0), -EINVAL);

	/* Reserved bits are RsvdZ: setting one faults, state unchanged. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_TPR), 0x100),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_TPR), BIT(32)),
			 -EINVAL);
	assert_int_equal(msr_rd(MSR(REG_TPR)), 0x20);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_SVR), 0x11FF),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_EOI), 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_ESR), 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_TDCR), 0x4), -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_LVTERR), 0x200FF),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_LVTT), 0x60040),
			 -EINVAL);
	assert_int_equal(msr_rd(MSR(REG_LVTT)), LVT_MASKED);
	/* Read-only status bits are ignored, not faulted. */
	msr_wr(MSR(REG_LVTERR), 0x11041);
	assert_int_equal(msr_rd(MSR(REG_LVTERR)), 0x10041);

	/* SELF IPI: vector only, edge, to this APIC. */
	assert_int_equal(vlapic_msr_write(&lapic, 0x83F, 0x1F0), -EINVAL);
	msr_wr(0x83F, 0x41);
	assert_true(irr_has(0x41));
	assert_int_equal(vlapic_pending_irq(&lapic), 0x41);
	assert_int_equal(ipis, 0);

	/* The MMIO page is not decoded in x2APIC mode. */
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR, 4, &v), 0);
	assert_int_equal(v, 0xFFFFFFFFu);
	assert_int_equal(vlapic_mmio_read(&lapic, REG_TPR, 1, &v), 0);
	assert_int_equal(v, 0xFF);
	assert_int_equal(vlapic_mmio_write(&lapic, REG_TPR, 4, 0x90), 0);
	assert_int_equal(msr_rd(MSR(REG_TPR)), 0x20);
	assert_int_equal(vlapic_mmio_read(&lapic, 0xFFF, 2, &v), -EINVAL);
}

static void test_x2apic_icr(void **state)
{
	uint64_t v;

	(void)state;
	to_x2apic();
	msr_wr(MSR(REG_SVR), 0x1FF);
	msr_wr(MSR(REG_ICR_LO), 0x0000012300004031ull);
	assert_int_equal(ipis, 1);
	assert_int_equal(last_ipi.dest, 0x123);
	assert_true(last_ipi.x2apic_dest);
	assert_int_equal(last_ipi.icr_low, 0x4031);
	assert_int_equal(msr_rd(MSR(REG_ICR_LO)), 0x0000012300004031ull);

	/* Logical, all-but-self shorthand, level triggered. */
	msr_wr(MSR(REG_ICR_LO), 0xFFFFFFFF000CC8F0ull);
	assert_int_equal(last_ipi.dest, 0xFFFFFFFFu);
	assert_int_equal(last_ipi.icr_low, 0x000CC8F0);

	/* Reserved: bit 13, 17:16, 31:20. Bit 12 is ignored. */
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_ICR_LO), 0x2031),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_ICR_LO), 0x10031),
			 -EINVAL);
	assert_int_equal(vlapic_msr_write(&lapic, MSR(REG_ICR_LO), 0x100031),
			 -EINVAL);
	assert_int_equal(ipis, 2);
	msr_wr(MSR(REG_ICR_LO), 0x0000000900001031ull);
	assert_int_equal(ipis, 3);
	assert_int_equal(last_ipi.icr_low, 0x31);
	assert_int_equal(last_ipi.dest, 9);
	assert_int_equal(vlapic_msr_read(&lapic, MSR(REG_ICR_LO), &v), 0);
	assert_int_equal(v, 0x0000000900000031ull);
}

static void test_apic_base_transitions(void **state)
{
	const uint64_t base = VLAPIC_DEFAULT_BASE;
	const uint64_t en = BIT(11), extd = BIT(10), bsp = BIT(8);

	(void)state;
	/* Reserved bits 7:0, 9, 63:52; EXTD without EN. */
	assert_int_equal(
	    vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE, base | en | 1),
	    -EINVAL);
	assert_int_equal(
	    vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE, base | en | BIT(9)),
	    -EINVAL);
	assert_int_equal(
	    vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE, base | en | BIT(52)),
	    -EINVAL);
	assert_int_equal(
	    vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE, base | extd),
	    -EINVAL);
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), base | en | bsp);

	/* xAPIC → x2APIC; BSP is kept whatever the write says. */
	msr_wr(VLAPIC_MSR_APIC_BASE, base | en | extd);
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), base | en | extd | bsp);
	/* x2APIC → xAPIC is illegal. */
	assert_int_equal(
	    vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE, base | en | bsp),
	    -EINVAL);
	assert_true(vlapic_x2apic_mode(&lapic));

	/* x2APIC → disabled loses the state. */
	msr_wr(MSR(REG_TPR), 0x30);
	msr_wr(VLAPIC_MSR_APIC_BASE, base | bsp);
	assert_false(vlapic_enabled(&lapic));
	assert_false(vlapic_x2apic_mode(&lapic));
	assert_false(vlapic_match_dest(&lapic, 3, false, false));
	/* Disabled → x2APIC is illegal; via xAPIC it works. */
	assert_int_equal(vlapic_msr_write(&lapic, VLAPIC_MSR_APIC_BASE,
					  base | en | extd | bsp),
			 -EINVAL);
	msr_wr(VLAPIC_MSR_APIC_BASE, base | en | bsp);
	assert_int_equal(rd(REG_TPR), 0);
	assert_int_equal(rd(REG_SVR), 0xFF);
	msr_wr(VLAPIC_MSR_APIC_BASE, base | en | extd | bsp);
	assert_true(vlapic_x2apic_mode(&lapic));
	msr_wr(VLAPIC_MSR_APIC_BASE, base);
	/* Relocation, as seen by the MMIO trap. */
	msr_wr(VLAPIC_MSR_APIC_BASE, 0xFED00000u | en);
	assert_int_equal(vlapic_base(&lapic), 0xFED00000u);
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xFED00000u | en | bsp);
}

static void test_match_dest_xapic(void **state)
{
	(void)state;
	/* Physical. */
	assert_true(vlapic_match_dest(&lapic, 3, false, false));
	assert_false(vlapic_match_dest(&lapic, 4, false, false));
	assert_true(vlapic_match_dest(&lapic, 0xFF, false, false));
	assert_false(vlapic_match_dest(&lapic, 0x103, false, true));
	assert_true(vlapic_match_dest(&lapic, 0xFFFFFFFFu, false, true));

	/* Flat logical: LDR bit 2. */
	wr(REG_LDR, 0x04000000);
	assert_true(vlapic_match_dest(&lapic, 0x04, true, false));
	assert_true(vlapic_match_dest(&lapic, 0x06, true, false));
	assert_false(vlapic_match_dest(&lapic, 0x08, true, false));
	assert_true(vlapic_match_dest(&lapic, 0xFF, true, false));
	assert_false(vlapic_match_dest(&lapic, 0x04, false, false));

	/* Cluster logical: cluster 2, member bit 0. */
	wr(REG_DFR, 0x0FFFFFFF);
	wr(REG_LDR, 0x21000000);
	assert_true(vlapic_match_dest(&lapic, 0x21, true, false));
	assert_true(vlapic_match_dest(&lapic, 0x23, true, false));
	assert_false(vlapic_match_dest(&lapic, 0x22, true, false));
	assert_false(vlapic_match_dest(&lapic, 0x31, true, false));
	assert_true(vlapic_match_dest(&lapic, 0xFF, true, false));
}

static void test_match_dest_x2apic(void **state)
{
	(void)state;
	vlapic_init(&lapic, 0x25, false, TSC_KHZ, BUS_KHZ, &env, NULL);
	to_x2apic();
	assert_true(vlapic_match_dest(&lapic, 0x25, false, true));
	assert_false(vlapic_match_dest(&lapic, 0x125, false, true));
	assert_true(vlapic_match_dest(&lapic, 0xFFFFFFFFu, false, true));
	/* An IOAPIC's 8-bit destination: physical ID and 0xFF broadcast. */
	assert_true(vlapic_match_dest(&lapic, 0x25, false, false));
	assert_true(vlapic_match_dest(&lapic, 0xFF, false, false));
	/* Cluster 2, member bit 5. */
	assert_true(vlapic_match_dest(&lapic, 0x00020020, true, true));
	assert_true(vlapic_match_dest(&lapic, 0x00020030, true, true));
	assert_false(vlapic_match_dest(&lapic, 0x00020010, true, true));
	assert_false(vlapic_match_dest(&lapic, 0x00010020, true, true));
	assert_true(vlapic_match_dest(&lapic, 0xFFFFFFFFu, true, true));
}

static void start_timer(uint32_t lvt, uint32_t divide, uint32_t count)
{
	software_enable();
	wr(REG_TDCR, divide);
	wr(REG_LVTT, lvt);
	wr(REG_TMICT, count);
}

static void test_timer_one_shot(void **state)
{
	(void)state;
	start_timer(0x40, DIV_BY_1, 1000);
	assert_int_equal(rd(REG_TMICT), 1000);
	assert_int_equal(rd(REG_TMCCT), 1000);
	/* 1000 bus clocks at 1 GHz = 2000 ticks of a 2 GHz TSC. */
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 2000);
	fake_tsc = T0 + 1000;
	assert_int_equal(rd(REG_TMCCT), 500);
	fake_tsc = T0 + 1999;
	assert_int_equal(rd(REG_TMCCT), 1);
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_false(irr_has(0x40));
	fake_tsc = T0 + 2000;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x40));
	assert_int_equal(lapic.tmr[2], 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	fake_tsc = T0 + 5000;
	assert_int_equal(rd(REG_TMCCT), 0);
	/* A new initial count restarts it; 0 stops it. */
	wr(REG_TMICT, 10);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 5020);
	wr(REG_TMICT, 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	assert_int_equal(rd(REG_TMCCT), 0);
}

static void test_timer_divide_values(void **state)
{
	static const struct {
		uint32_t tdcr;
		uint64_t divisor;
	} table[] = {
	    {0x0, 2},  {0x1, 4},  {0x2, 8},   {0x3, 16},
	    {0x8, 32}, {0x9, 64}, {0xA, 128}, {0xB, 1},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		fake_tsc = T0 + i * 1000000;
		start_timer(0x40, table[i].tdcr, 1000);
		assert_int_equal(vlapic_timer_deadline(&lapic),
				 fake_tsc + 1000 * table[i].divisor * 2);
		fake_tsc += 2 * table[i].divisor * 250;
		assert_int_equal(rd(REG_TMCCT), 750);
	}
}

static void test_timer_divide_change_mid_count(void **state)
{
	(void)state;
	start_timer(0x40, DIV_BY_1, 1000);
	fake_tsc = T0 + 1000;
	wr(REG_TDCR, 0x0); /* divide by 2: the remaining 500 take 2000 ticks */
	assert_int_equal(rd(REG_TMCCT), 500);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 3000);
}

/* A period of 100000 counts at 1 GHz: 100 us, the shortest one allowed. */
static void test_timer_periodic(void **state)
{
	(void)state;
	start_timer(0x40 | LVT_PERIODIC, DIV_BY_1, 100000);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 200000);
	fake_tsc = T0 + 200000;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x40));
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 400000);
	drain();
	fake_tsc = T0 + 250000;
	assert_int_equal(rd(REG_TMCCT), 75000);

	/* Missed periods coalesce into one interrupt. */
	fake_tsc = T0 + 1050000;
	kicks = 0;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_int_equal(kicks, 1);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 1200000);
	fake_tsc = T0 + 1100000;
	assert_int_equal(rd(REG_TMCCT), 50000);
	drain();

	/* Masked: it keeps counting but asks for no wake-ups... */
	wr(REG_LVTT, 0x40 | LVT_PERIODIC | LVT_MASKED);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	fake_tsc = T0 + 1310000;
	assert_int_equal(rd(REG_TMCCT), 45000);
	/* ... and unmasking does not deliver what expired meanwhile. */
	wr(REG_LVTT, 0x40 | LVT_PERIODIC);
	assert_false(irr_has(0x40));
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 1400000);
	/* Periodic → one-shot: runs to zero and stops. */
	wr(REG_LVTT, 0x40);
	fake_tsc = T0 + 1400000;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x40));
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	fake_tsc = T0 + 1500000;
	assert_int_equal(rd(REG_TMCCT), 0);
}

/*
 * A period below 100 us is stretched to 100 us: count 1 with divide-by-1
 * asks for an interrupt every nanosecond, and would end every run on the
 * attacker's CPU that soon.
 */
static void test_timer_periodic_minimum(void **state)
{
	const uint64_t min_ticks = TSC_KHZ / 10; /* 100 us */

	(void)state;
	start_timer(0x40 | LVT_PERIODIC, DIV_BY_1, 1);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + min_ticks);
	fake_tsc = T0 + min_ticks;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x40));
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 2 * min_ticks);
	drain();
	/* One-shot mode keeps the count it was given. */
	start_timer(0x40, DIV_BY_1, 1);
	assert_int_equal(vlapic_timer_deadline(&lapic), fake_tsc + 2);
}

static uint64_t deadline_seen_by_kick;

static void kick_reads_deadline(void *ctx)
{
	(void)ctx;
	deadline_seen_by_kick = vlapic_timer_deadline(&lapic);
}

static void test_timer_long_running_periodic(void **state)
{
	static const struct vlapic_env reentrant_env = {
	    .now_tsc = fake_now,
	    .send_ipi = fake_send_ipi,
	    .eoi_level = fake_eoi_level,
	    .kick = kick_reads_deadline,
	};
	/* 3 GHz TSC, 25 MHz bus: 120 TSC ticks per bus clock. */
	const uint64_t start = 1ull << 62;
	const uint64_t period = 0xFFFFFFFFull * 120;

	(void)state;
	vlapic_init(&lapic, 0, true, 3000000, 25000, &reentrant_env, NULL);
	fake_tsc = start;
	start_timer(0x40 | LVT_PERIODIC, DIV_BY_1, 0xFFFFFFFF);
	assert_int_equal(vlapic_timer_deadline(&lapic), start + period);
	/* Two days of guest time later, still exact. */
	fake_tsc = start + 1000 * period + 120 * 7;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x40));
	/* The kick already saw the rearmed timer. */
	assert_int_equal(deadline_seen_by_kick, start + 1001 * period);
	assert_int_equal(rd(REG_TMCCT), 0xFFFFFFFF - 7);
}

static void test_timer_tsc_deadline(void **state)
{
	(void)state;
	software_enable();
	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 10);
	assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);

	wr(REG_LVTT, 0x50 | LVT_TSC_DL);
	/* The count-down registers are inert in this mode. */
	wr(REG_TMICT, 1000);
	assert_int_equal(rd(REG_TMICT), 0);
	assert_int_equal(rd(REG_TMCCT), 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);

	msr_wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 500);
	assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), T0 + 500);
	assert_int_equal(vlapic_timer_deadline(&lapic), T0 + 500);
	vlapic_timer_expire(&lapic, T0 + 499);
	assert_false(irr_has(0x50));
	fake_tsc = T0 + 500;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_true(irr_has(0x50));
	assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	drain();

	/* A deadline in the past fires at once. */
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, 1);
	assert_true(irr_has(0x50));
	drain();
	/* 0 disarms. */
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 900);
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	/* Leaving TSC-deadline mode disarms too. */
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 900);
	wr(REG_LVTT, 0x50);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	wr(REG_LVTT, 0x50 | LVT_TSC_DL);
	assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
	fake_tsc = T0 + 1000;
	vlapic_timer_expire(&lapic, fake_tsc);
	assert_false(irr_has(0x50));

	/* Masked: the deadline passes silently and the MSR clears. */
	wr(REG_LVTT, 0x50 | LVT_TSC_DL | LVT_MASKED);
	msr_wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 1100);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	fake_tsc = T0 + 1200;
	assert_int_equal(msr_rd(VLAPIC_MSR_TSC_DEADLINE), 0);
	wr(REG_LVTT, 0x50 | LVT_TSC_DL);
	assert_false(irr_has(0x50));
}

static void test_timer_reserved_mode(void **state)
{
	(void)state;
	software_enable();
	wr(REG_LVTT, 0x40 | LVT_PERIODIC);
	/* xAPIC: mode 11b is ignored, the rest of the write applies. */
	wr(REG_LVTT, 0x41 | (3u << 17));
	assert_int_equal(rd(REG_LVTT), 0x41 | LVT_PERIODIC);
	to_x2apic();
	assert_int_equal(
	    vlapic_msr_write(&lapic, MSR(REG_LVTT), 0x42 | (3u << 17)),
	    -EINVAL);
	assert_int_equal(msr_rd(MSR(REG_LVTT)), 0x41 | LVT_PERIODIC);
}

static void test_init_reset(void **state)
{
	(void)state;
	to_x2apic();
	msr_wr(MSR(REG_SVR), 0x1FF);
	msr_wr(MSR(REG_TPR), 0x30);
	msr_wr(MSR(REG_LVTT), 0x40);
	msr_wr(MSR(REG_TMICT), 100);
	vlapic_accept_irq(&lapic, 0x80, true);
	vlapic_reset(&lapic);
	assert_true(vlapic_x2apic_mode(&lapic));
	assert_int_equal(msr_rd(VLAPIC_MSR_APIC_BASE), 0xFEE00D00u);
	assert_int_equal(msr_rd(MSR(REG_ID)), 3);
	assert_int_equal(msr_rd(MSR(REG_LDR)), 0x8);
	assert_int_equal(msr_rd(MSR(REG_TPR)), 0);
	assert_int_equal(msr_rd(MSR(REG_SVR)), 0xFF);
	assert_int_equal(msr_rd(MSR(REG_LVTT)), LVT_MASKED);
	assert_int_equal(msr_rd(MSR(REG_TMICT)), 0);
	assert_int_equal(vlapic_timer_deadline(&lapic), 0);
	assert_int_equal(vlapic_pending_irq(&lapic), -1);
	assert_int_equal(msr_rd(MSR(REG_TMR) + 4), 0);
}

static void test_msr_is_ours(void **state)
{
	(void)state;
	assert_true(vlapic_msr_is_ours(0x1B));
	assert_true(vlapic_msr_is_ours(0x6E0));
	assert_true(vlapic_msr_is_ours(0x800));
	assert_true(vlapic_msr_is_ours(0x8FF));
	assert_false(vlapic_msr_is_ours(0x7FF));
	assert_false(vlapic_msr_is_ours(0x900));
	assert_false(vlapic_msr_is_ours(0x1C));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_power_up_state, setup),
	    cmocka_unit_test_setup(test_mmio_access_validation, setup),
	    cmocka_unit_test_setup(test_xapic_reserved_bits_ignored, setup),
	    cmocka_unit_test_setup(test_software_disable_masks_lvt, setup),
	    cmocka_unit_test_setup(test_priority_tpr_ppr, setup),
	    cmocka_unit_test_setup(test_requeue_not_taken, setup),
	    cmocka_unit_test_setup(test_level_eoi_callback, setup),
	    cmocka_unit_test_setup(test_illegal_vectors_and_esr, setup),
	    cmocka_unit_test_setup(test_xapic_icr, setup),
	    cmocka_unit_test_setup(test_x2apic_registers, setup),
	    cmocka_unit_test_setup(test_x2apic_icr, setup),
	    cmocka_unit_test_setup(test_apic_base_transitions, setup),
	    cmocka_unit_test_setup(test_match_dest_xapic, setup),
	    cmocka_unit_test_setup(test_match_dest_x2apic, setup),
	    cmocka_unit_test_setup(test_timer_one_shot, setup),
	    cmocka_unit_test_setup(test_timer_divide_values, setup),
	    cmocka_unit_test_setup(test_timer_divide_change_mid_count, setup),
	    cmocka_unit_test_setup(test_timer_periodic, setup),
	    cmocka_unit_test_setup(test_timer_periodic_minimum, setup),
	    cmocka_unit_test_setup(test_timer_long_running_periodic, setup),
	    cmocka_unit_test_setup(test_timer_tsc_deadline, setup),
	    cmocka_unit_test_setup(test_timer_reserved_mode, setup),
	    cmocka_unit_test_setup(test_init_reset, setup),
	    cmocka_unit_test_setup(test_msr_is_ours, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
