/* SPDX-License-Identifier: MIT */
/*
 * The virtual local APIC (hypervisor/arch/x86/hvm/vlapic.c) driven the way
 * a guest drives it: xAPIC MMIO and x2APIC/APIC-base/TSC-deadline MSR
 * accesses of any offset, size and value, with a guest TSC the guest can
 * set to anything (WRMSR IA32_TSC), interleaved with what the rest of Keel
 * does (interrupts arriving, injection, timer expiry, INIT).
 *
 * Input: the APIC ID and clock rates, then a list of operations, each an
 * opcode byte and its operands. Self-IPIs go back into the vLAPIC from the
 * send_ipi callback, as common/domain.c does for the sending vCPU.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vlapic.h>

FUZZ_SHIM_INIT()

static struct vlapic lapic;
static uint64_t guest_tsc;
static unsigned depth;

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return guest_tsc;
}

static void fake_send_ipi(void *ctx, uint32_t dest, bool x2apic_dest,
			  uint32_t icr_low)
{
	uint32_t mode = VLAPIC_ICR_DELIVERY_MODE(icr_low);
	uint32_t shorthand = VLAPIC_ICR_SHORTHAND(icr_low);
	bool to_self =
	    shorthand == VLAPIC_SHORTHAND_SELF ||
	    shorthand == VLAPIC_SHORTHAND_ALL ||
	    (shorthand == VLAPIC_SHORTHAND_NONE &&
	     vlapic_match_dest(&lapic, dest, icr_low & VLAPIC_ICR_LOGICAL,
			       x2apic_dest));

	(void)ctx;
	/* Reserved modes and INIT de-assert never get here (vlapic.h). */
	FUZZ_CHECK(mode != 3 && mode != 7);
	if (to_self && mode == VLAPIC_DM_FIXED && depth < 4) {
		depth++;
		vlapic_accept_irq(&lapic, VLAPIC_ICR_VECTOR(icr_low),
				  icr_low & VLAPIC_ICR_LEVEL_TRIGGER);
		depth--;
	}
}

static void fake_eoi_level(void *ctx, uint8_t vector)
{
	(void)ctx;
	FUZZ_CHECK(vector >= 16);
}

static void fake_kick(void *ctx)
{
	(void)ctx;
	/* What the scheduler does on a kick: look at the next deadline. */
	(void)vlapic_timer_deadline(&lapic);
}

static const struct vlapic_env env = {
    .now_tsc = fake_now,
    .send_ipi = fake_send_ipi,
    .eoi_level = fake_eoi_level,
    .kick = fake_kick,
};

/* MSRs worth hitting: the APIC's own, a few below and above them. */
static uint32_t pick_msr(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);

	switch (sel & 3) {
	case 0:
		return VLAPIC_MSR_APIC_BASE;
	case 1:
		return VLAPIC_MSR_TSC_DEADLINE;
	case 2:
		return VLAPIC_MSR_X2APIC_FIRST + fuzz_u8(in);
	default:
		return fuzz_u32(in);
	}
}

static unsigned pick_size(struct fuzz_input *in)
{
	static const unsigned sizes[8] = {4, 4, 4, 4, 1, 2, 8, 3};

	return sizes[fuzz_u8(in) & 7];
}

/* Values with the common shapes: small, 32-bit, anything. */
static uint64_t pick_value(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);

	switch (sel & 3) {
	case 0:
		return fuzz_u8(in);
	case 1:
		return fuzz_u16(in);
	case 2:
		return fuzz_u32(in);
	default:
		return fuzz_u64(in);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input fi = fuzz_input(data, size);
	uint32_t id = fuzz_u8(&fi) & 1 ? fuzz_u32(&fi) : fuzz_u8(&fi);
	bool bsp = fuzz_u8(&fi) & 1;
	/* Rates vlapic_init accepts: non-zero, below 2^32. */
	uint64_t tsc_khz = fuzz_u32(&fi) % 10000000u + 1;
	uint64_t bus_khz = fuzz_u32(&fi) % 2000000u + 1;
	unsigned ops = 0;

	guest_tsc = fuzz_u64(&fi);
	depth = 0;
	memset(&lapic, 0xA5, sizeof(lapic));
	vlapic_init(&lapic, id, bsp, tsc_khz, bus_khz, &env, NULL);

	while (fi.left && ops++ < 256) {
		uint8_t op = fuzz_u8(&fi);
		uint64_t val = 0;
		uint32_t off;
		unsigned sz;
		int rc, v;

		switch (op % 12) {
		case 0: /* xAPIC MMIO write */
			off = fuzz_u16(&fi) & 0x1FFF;
			sz = pick_size(&fi);
			rc =
			    vlapic_mmio_write(&lapic, off, sz, pick_value(&fi));
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			break;
		case 1: /* xAPIC MMIO read */
			off = fuzz_u16(&fi) & 0x1FFF;
			sz = pick_size(&fi);
			rc = vlapic_mmio_read(&lapic, off, sz, &val);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			if (rc == 0 && sz < 8)
				FUZZ_CHECK(val < BIT(sz * 8));
			break;
		case 2: /* WRMSR */
		case 3:
			off = pick_msr(&fi);
			rc = vlapic_msr_write(&lapic, off, pick_value(&fi));
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			if (!vlapic_msr_is_ours(off))
				FUZZ_CHECK(rc == -EINVAL);
			break;
		case 4: /* RDMSR */
			off = pick_msr(&fi);
			rc = vlapic_msr_read(&lapic, off, &val);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			break;
		case 5: /* time passes */
			guest_tsc += fuzz_u32(&fi);
			break;
		case 6: /* WRMSR IA32_TSC: the guest's clock jumps anywhere */
			guest_tsc = fuzz_u64(&fi);
			break;
		case 7: /* an interrupt arrives (vIOAPIC, another vCPU) */
			v = fuzz_u8(&fi);
			vlapic_accept_irq(&lapic, (uint8_t)v, fuzz_u8(&fi) & 1);
			break;
		case 8: /* the vCPU enters the guest: inject what is due */
			v = vlapic_pending_irq(&lapic);
			FUZZ_CHECK(v == -1 || (v >= 16 && v <= 255));
			if (v >= 0)
				vlapic_irq_injected(&lapic, (uint8_t)v);
			break;
		case 9: /* the scheduler's timer for this vCPU fires */
			val = vlapic_timer_deadline(&lapic);
			/* Either exactly at the deadline, or whenever. */
			if ((fuzz_u8(&fi) & 1) && val && guest_tsc < val)
				guest_tsc = val;
			vlapic_timer_expire(&lapic, guest_tsc);
			break;
		case 10: /* INIT */
			vlapic_reset(&lapic);
			break;
		case 11: /* an IPI or IOAPIC message looks for its target */
			off = fuzz_u32(&fi);
			v = fuzz_u8(&fi);
			(void)vlapic_match_dest(&lapic, off, v & 1, v & 2);
			break;
		}
		/* The register file stays inside its architectural shape. */
		FUZZ_CHECK(lapic.tpr <= 0xFF);
		FUZZ_CHECK((lapic.svr & ~0x3FFu) == 0);
		FUZZ_CHECK((lapic.irr[0] & 0xFFFF) == 0);
		FUZZ_CHECK((lapic.isr[0] & 0xFFFF) == 0);
	}
	return 0;
}
