/* SPDX-License-Identifier: MIT */
/*
 * A guest's MMIO access from fault to result: hvm_npf()
 * (hypervisor/arch/x86/hvm/mmio.c) fetches the faulting instruction through
 * the guest's paging (guest_mem.c, p2m.c), decodes it (decode.c) and runs
 * it against the handler the domain's table (io.c) gives for the address:
 * the vLAPIC or vIOAPIC as the real hvm/vintr.c registers and wires them
 * (a level EOI at the vLAPIC reaches the vIOAPIC, whose messages reach the
 * vLAPIC). Everything the guest controls comes from the input; the rest of
 * Keel vintr.c calls (scheduler, console, physical GSIs) is stubbed here.
 *
 * Input: u8 setup flags (bit 0 privileged domain, bit 1 software-enable
 * the vLAPIC, bit 2 x2APIC mode, bits 4-5 CPU mode: 16-bit, 32-bit, long
 * mode with identity paging), then up to 8 exits, each: u16 RIP, 15
 * instruction bytes, 16 registers, u8 target (0: vLAPIC page, 1: vIOAPIC
 * page, 2: a page of device MMIO, 3: the guest's RAM, 4: the p2m's limit)
 * and u16 page offset.
 *
 * After each exit exactly one thing happened: the domain was crashed, #GP
 * was injected, RIP moved past the instruction (1-15 bytes), or (Dom0,
 * device MMIO) the page was mapped.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdbool.h>

#include <keel/decode.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/console.h>
#include <keel/hvm_exit.h>
#include <keel/irq.h>
#include <keel/lib.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/vintr.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

FUZZ_SHIM_INIT()

#define GUEST_RAM   KiB(256)
#define POOL_BASE   GiB(1)
#define POOL_SIZE   MiB(1)
#define IOAPIC_BASE 0xFEC00000ull
#define DEVICE_MMIO 0xC0000000ull
#define PT_PML4	    0x3C000ull /* identity map of the first 1 GiB */
#define PT_PDPT	    0x3D000ull
#define PT_PD	    0x3E000ull
#define MAX_EXITS   8

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom, .id = 0};
static struct guest_state state;
static uint8_t *ram;
static unsigned crashes, gps, set_states;

/* What mmio.c needs from the rest of Keel, as this platform has it. */
void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	(void)d;
	(void)culprit;
	(void)fmt;
	crashes++;
}

void hvm_inject_gp(struct vcpu *v)
{
	(void)v;
	gps++;
}

bool memmap_is_ram(uint64_t pa)
{
	return pa < GUEST_RAM;
}

bool memmap_is_private(uint64_t pa)
{
	return (pa & ~(PAGE_SIZE - 1)) == VLAPIC_DEFAULT_BASE;
}

bool memmap_is_firmware(uint64_t pa)
{
	(void)pa;
	return false;
}

static void get_state(struct vcpu *v, struct guest_state *s)
{
	(void)v;
	*s = state;
}

static void set_state(struct vcpu *v, const struct guest_state *s)
{
	(void)v;
	state = *s;
	set_states++;
}

static void setup_domain(void)
{
	static struct hvm_ops ops;

	ops = *hvm;
	ops.get_state = get_state;
	ops.set_state = set_state;
	hvm = &ops;
	ram = shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	dom.nr_vcpus = 1;
	dom.vcpus[0] = &vcpu;
	FUZZ_CHECK(vintr_domain_init(&dom) == 0);
	/* As the vCPU loop holds it around exits. */
	spin_lock(&dom.lock);
	FUZZ_CHECK(p2m_init(&dom) == 0);
	FUZZ_CHECK(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false) == 0);
}

static void set_mode(unsigned mode)
{
	uint64_t e;

	memset(&state, 0, sizeof(state));
	state.cr0 = X86_CR0_PE;
	if (mode == 0)
		state.cr0 = 0; /* real mode, 16-bit code */
	else if (mode == 1)
		state.cs.attr = SEG_ATTR_DB;
	else {
		state.cr0 |= X86_CR0_PG;
		state.cr4 = X86_CR4_PAE;
		state.efer = EFER_LME | EFER_LMA;
		state.cs.attr = SEG_ATTR_L;
		state.cr3 = PT_PML4;
		e = PT_PDPT | PTE_P | PTE_W;
		memcpy(ram + PT_PML4, &e, 8);
		e = PT_PD | PTE_P | PTE_W;
		memcpy(ram + PT_PDPT, &e, 8);
		for (uint64_t i = 0; i < 512; i++) {
			e = (i << 21) | PTE_P | PTE_W | PTE_PS;
			memcpy(ram + PT_PD + i * 8, &e, 8);
		}
	}
}

static uint64_t target_gpa(uint8_t target, uint16_t off)
{
	switch ((target & 0x7F) % 5) { /* bit 7: a write */
	case 0:
		return vlapic_base(&vcpu.vlapic) + (off & 0xFFF);
	case 1:
		return IOAPIC_BASE + (off & 0xFFF);
	case 2: /* 256 pages of it at most: bounded p2m growth */
		return DEVICE_MMIO + ((uint64_t)(off & 0xFF) << 12);
	case 3:
		return off % GUEST_RAM;
	default:
		return BIT(52) - PAGE_SIZE + (off & 0xFFF);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_input fi = fuzz_input(data, size);
	uint8_t flags = fuzz_u8(&fi);

	if (!ready) {
		setup_domain();
		ready = true;
	}
	memset(ram, 0, GUEST_RAM);
	set_mode((flags >> 4) % 3);
	dom.privileged = flags & 1;
	vintr_vcpu_init(&vcpu);
	vioapic_init(&dom.vioapic, 0, IOAPIC_BASE, 0, dom.vioapic.env, &dom);
	if (flags & 2)
		FUZZ_CHECK(vlapic_mmio_write(&vcpu.vlapic, 0xF0, 4, 0x1FF) ==
			   0);
	if (flags & 4)
		FUZZ_CHECK(vlapic_msr_write(&vcpu.vlapic, VLAPIC_MSR_APIC_BASE,
					    VLAPIC_DEFAULT_BASE | 0xD00) == 0);

	for (unsigned n = 0; n < MAX_EXITS && fi.left; n++) {
		struct vm_exit e = {.reason = EXIT_NPF};
		uint64_t rip = fuzz_u16(&fi) % (GUEST_RAM - INSN_MAX_LEN);
		uint64_t gpr_before[NR_GPRS], page, hpa;
		uint8_t target;
		uint16_t off;
		bool mapped;

		fuzz_bytes(&fi, ram + rip, INSN_MAX_LEN);
		fuzz_bytes(&fi, vcpu.gpr, sizeof(vcpu.gpr));
		memcpy(gpr_before, vcpu.gpr, sizeof(gpr_before));
		target = fuzz_u8(&fi);
		off = fuzz_u16(&fi);
		e.npf.gpa = target_gpa(target, off);
		e.npf.write = target & 0x80;
		page = e.npf.gpa & ~(PAGE_SIZE - 1);
		state.rip = rip;
		crashes = gps = set_states = 0;

		hvm_npf(&vcpu, &e);

		mapped = p2m_lookup(&dom, page, &hpa) == 0 && hpa == page &&
			 page >= DEVICE_MMIO;
		/*
		 * One outcome. An injected #GP is a fault: RIP must stay on
		 * the faulting instruction (SDM vol. 3A 6.5).
		 */
		FUZZ_CHECK(crashes + gps + set_states + mapped == 1);
		if (set_states) {
			/* Emulated: RIP past the instruction. */
			FUZZ_CHECK(state.rip > rip &&
				   state.rip - rip <= INSN_MAX_LEN);
			FUZZ_CHECK(!mapped && !crashes);
		} else {
			FUZZ_CHECK(state.rip == rip);
			/* Nothing but an emulated load writes registers. */
			FUZZ_CHECK(
			    !memcmp(gpr_before, vcpu.gpr, sizeof(gpr_before)));
		}
		if (mapped) {
			FUZZ_CHECK(dom.privileged);
			p2m_unmap(&dom, page, PAGE_SIZE);
		}
	}
	return 0;
}
