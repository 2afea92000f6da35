/* SPDX-License-Identifier: MIT */
/*
 * The virtual I/O APIC (hypervisor/arch/x86/hvm/vioapic.c): MMIO accesses
 * of any offset, size and value from the guest, interleaved with line
 * changes from devices and level EOIs from the vLAPICs.
 *
 * Input: the IOAPIC ID, then operations (an opcode byte and operands).
 * Callbacks behave like a pass-through integrator: pin_eoi may drop the
 * line (vioapic_set_pin from inside the callback), and a delivered fixed
 * interrupt may be EOI'd at once (vioapic_eoi from inside deliver), with
 * the recursion bounded as the vLAPIC's ISR bounds it on a real vCPU.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vioapic.h>

FUZZ_SHIM_INIT()

static struct vioapic ioapic;
static bool eoi_deasserts, deliver_eois;
static unsigned depth, deliveries;

static void fake_deliver(void *ctx, uint32_t dest, bool logical, uint8_t vector,
			 uint8_t delivery_mode, bool level)
{
	(void)ctx;
	(void)logical;
	FUZZ_CHECK(dest <= 0xFF);
	/* Reserved modes are never delivered (vioapic.h). */
	FUZZ_CHECK(delivery_mode != 3 && delivery_mode != 6 &&
		   delivery_mode <= 7);
	deliveries++;
	if (deliver_eois && level && depth < 8) {
		depth++;
		vioapic_eoi(&ioapic, vector);
		depth--;
	}
}

static void fake_pin_eoi(void *ctx, unsigned pin)
{
	(void)ctx;
	FUZZ_CHECK(pin < VIOAPIC_NR_PINS);
	if (eoi_deasserts)
		vioapic_set_pin(&ioapic, pin, false);
}

static const struct vioapic_env env = {
    .deliver = fake_deliver,
    .pin_eoi = fake_pin_eoi,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[8] = {4, 4, 4, 4, 1, 2, 8, 0};
	struct fuzz_input fi = fuzz_input(data, size);
	uint8_t flags = fuzz_u8(&fi);
	unsigned ops = 0;

	eoi_deasserts = flags & 1;
	deliver_eois = flags & 2;
	depth = deliveries = 0;
	memset(&ioapic, 0xA5, sizeof(ioapic));
	vioapic_init(&ioapic, fuzz_u8(&fi), 0xFEC00000u, 0, &env, NULL);

	while (fi.left && ops++ < 256) {
		uint8_t op = fuzz_u8(&fi);
		uint64_t val = 0;
		uint32_t off;
		unsigned sz;
		int rc;

		switch (op % 6) {
		case 0: /* IOREGSEL, IOWIN, EOI and the rest of the page */
			off = fuzz_u8(&fi) & 1 ? fuzz_u16(&fi) & 0xFFF
					       : (fuzz_u8(&fi) & 7) << 4;
			sz = sizes[fuzz_u8(&fi) & 7];
			val = fuzz_u8(&fi) & 1 ? fuzz_u32(&fi) : fuzz_u64(&fi);
			rc = vioapic_mmio_write(&ioapic, off, sz, val);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			break;
		case 1:
			off = fuzz_u8(&fi) & 1 ? fuzz_u16(&fi) & 0xFFF
					       : (fuzz_u8(&fi) & 7) << 4;
			sz = sizes[fuzz_u8(&fi) & 7];
			rc = vioapic_mmio_read(&ioapic, off, sz, &val);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL);
			if (rc == 0)
				FUZZ_CHECK(val <= UINT32_MAX);
			break;
		case 2: /* a device's line; pins past 23 must be ignored */
		case 3:
			off = fuzz_u8(&fi) % 40;
			vioapic_set_pin(&ioapic, off, fuzz_u8(&fi) & 1);
			break;
		case 4: /* a vLAPIC EOIs a level vector */
			vioapic_eoi(&ioapic, fuzz_u8(&fi));
			break;
		case 5: /* the integrator's callback behaviour changes */
			flags = fuzz_u8(&fi);
			eoi_deasserts = flags & 1;
			deliver_eois = flags & 2;
			break;
		}
		FUZZ_CHECK(ioapic.id <= 0xF);
		FUZZ_CHECK((ioapic.asserted >> VIOAPIC_NR_PINS) == 0);
		for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
			uint64_t rte = ioapic.rte[pin];

			/* Reserved bits 55:17 stay clear; Remote IRR only
			 * on level pins. */
			FUZZ_CHECK((rte & 0x00FFFFFFFFFE0000ull) == 0);
			FUZZ_CHECK(!(rte & VIOAPIC_RTE_REMOTE_IRR) ||
				   (rte & VIOAPIC_RTE_LEVEL));
		}
	}
	return 0;
}
