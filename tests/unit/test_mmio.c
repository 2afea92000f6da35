/* SPDX-License-Identifier: MIT */
/*
 * MMIO emulation at a nested page fault (hypervisor/arch/x86/hvm/mmio.c):
 * the instruction is fetched from guest memory (guest_mem.c through the
 * real p2m), decoded (decode.c) and run against the vLAPIC (vlapic.c). The
 * guest runs 32-bit code without paging; domain_crash, hvm_inject_gp and
 * the memmap queries are this file's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/lib.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

#define GUEST_RAM KiB(256)
#define POOL_BASE GiB(1)
#define POOL_SIZE MiB(1)
#define CODE	  0x1000u
#define REG_TPR	  0x080u

static struct domain dom;
static struct vcpu vcpu = {.dom = &dom};
static struct guest_state state;
static uint8_t *ram;
static unsigned crashes, gps;

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
	(void)pa;
	return false;
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
}

static uint64_t now_tsc(void *ctx)
{
	(void)ctx;
	return 1000000;
}

static void send_ipi(void *ctx, uint32_t dest, bool x2apic_dest,
		     uint32_t icr_low)
{
	(void)ctx;
	(void)dest;
	(void)x2apic_dest;
	(void)icr_low;
}

static void eoi_level(void *ctx, uint8_t vector)
{
	(void)ctx;
	(void)vector;
}

static void kick(void *ctx)
{
	(void)ctx;
}

static const struct vlapic_env env = {
    .now_tsc = now_tsc,
    .send_ipi = send_ipi,
    .eoi_level = eoi_level,
    .kick = kick,
};

static int group_setup(void **state_)
{
	static struct hvm_ops ops;

	(void)state_;
	ops = *hvm;
	ops.get_state = get_state;
	ops.set_state = set_state;
	hvm = &ops;
	ram = shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_ranges = 1;
	dom.ram[0] = (struct dom_mem_range){0, GUEST_RAM};
	dom.nr_vcpus = 1;
	dom.vcpus[0] = &vcpu;
	dom.vioapic_base = 0xFEC00000;
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	return 0;
}

static int group_teardown(void **state_)
{
	(void)state_;
	p2m_destroy(&dom);
	shim_unmap_all();
	return 0;
}

static int setup(void **state_)
{
	(void)state_;
	memset(ram, 0, GUEST_RAM);
	memset(&state, 0, sizeof(state));
	state.cr0 = X86_CR0_PE;
	state.cs.attr = SEG_ATTR_DB;
	state.rip = CODE;
	memset(vcpu.gpr, 0, sizeof(vcpu.gpr));
	crashes = gps = 0;
	vlapic_init(&vcpu.vlapic, 0, true, 2000000, 1000000, &env, NULL);
	return 0;
}

/* The guest runs `bytes` at CODE and faults on the vLAPIC page at off. */
static void run(const char *bytes, size_t n, uint32_t off, bool write)
{
	struct vm_exit e = {.reason = EXIT_NPF};

	memcpy(ram + CODE, bytes, n);
	e.npf.gpa = VLAPIC_DEFAULT_BASE + off;
	e.npf.write = write;
	hvm_npf(&vcpu, &e);
}

static void test_store_emulated(void **state_)
{
	uint64_t tpr;

	(void)state_;
	vcpu.gpr[GPR_RCX] = 0x20;
	run("\x89\x08", 2, REG_TPR, true); /* mov [eax],ecx */
	assert_int_equal(crashes + gps, 0);
	assert_int_equal(state.rip, CODE + 2);
	assert_int_equal(vlapic_mmio_read(&vcpu.vlapic, REG_TPR, 4, &tpr), 0);
	assert_int_equal(tpr, 0x20);
}

static void test_load_emulated(void **state_)
{
	(void)state_;
	vcpu.gpr[GPR_RCX] = 0xdeadbeefcafef00dULL;
	run("\x8b\x08", 2, 0x30, false); /* mov ecx,[eax]: version */
	assert_int_equal(crashes + gps, 0);
	assert_int_equal(state.rip, CODE + 2);
	assert_int_equal(vcpu.gpr[GPR_RCX], 0x00050014);
}

/*
 * A load the vLAPIC refuses (2 bytes) injects #GP and leaves RIP on the
 * instruction, as for any fault.
 */
static void test_refused_load_faults(void **state_)
{
	(void)state_;
	vcpu.gpr[GPR_RCX] = 0x1234;
	run("\x66\x8b\x08", 3, REG_TPR, false); /* mov cx,[eax] */
	assert_int_equal(gps, 1);
	assert_int_equal(crashes, 0);
	assert_int_equal(state.rip, CODE);
	assert_int_equal(vcpu.gpr[GPR_RCX], 0x1234);
}

/*
 * The same for a store: the #GP was injected but RIP moved past the
 * instruction, so the guest's handler saw the wrong faulting address and
 * returning from it skipped the store. Found by tests/fuzz/fuzz_mmio.c.
 */
static void test_refused_store_faults(void **state_)
{
	uint64_t tpr;

	(void)state_;
	vcpu.gpr[GPR_RCX] = 0x20;
	run("\x66\x89\x08", 3, REG_TPR, true); /* mov [eax],cx */
	assert_int_equal(gps, 1);
	assert_int_equal(crashes, 0);
	assert_int_equal(state.rip, CODE);
	assert_int_equal(vlapic_mmio_read(&vcpu.vlapic, REG_TPR, 4, &tpr), 0);
	assert_int_equal(tpr, 0);
}

static void test_undecodable_crashes_domain(void **state_)
{
	(void)state_;
	run("\x0f\x05", 2, REG_TPR, true); /* syscall */
	assert_int_equal(crashes, 1);
	assert_int_equal(gps, 0);
	assert_int_equal(state.rip, CODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_store_emulated, setup),
	    cmocka_unit_test_setup(test_load_emulated, setup),
	    cmocka_unit_test_setup(test_refused_load_faults, setup),
	    cmocka_unit_test_setup(test_refused_store_faults, setup),
	    cmocka_unit_test_setup(test_undecodable_crashes_domain, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
