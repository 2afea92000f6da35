/* SPDX-License-Identifier: MIT */
/*
 * kvmclock pages (hypervisor/arch/x86/hvm/pvclock.c): what a guest reads
 * after writing MSR_KVM_SYSTEM_TIME_NEW, and whether the scale Keel picks
 * turns TSC ticks into nanoseconds the way Linux's pvclock_scale_delta()
 * computes them:
 *
 *   ns = ((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32
 *
 * (a right shift when tsc_shift is negative). The page is written through
 * the real guest_mem.c and p2m.c; tsc_khz(), now_ns() and domain_crash()
 * are this file's; domain_owns_ram() comes from tests/unit/domain_ram.c
 * (common/domain.c needs the whole scheduler).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "npt_ops.h"
#include "shim.h"

#define GUEST_RAM	   MiB(16)
#define POOL_BASE	   GiB(1)
#define POOL_SIZE	   MiB(4)
#define PVCLOCK_TSC_STABLE 1u

/* Linux's struct pvclock_vcpu_time_info (arch/x86/include/asm/pvclock-abi.h).
 */
struct pvti {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

static unsigned crashes;
static char crash_reason[128];

void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	va_list ap;

	(void)d;
	(void)culprit;
	crashes++;
	va_start(ap, fmt);
	vsnprintf(crash_reason, sizeof(crash_reason), fmt, ap);
	va_end(ap);
}

static uint64_t fake_tsc_khz, fake_now_ns;

uint64_t tsc_khz(void)
{
	return fake_tsc_khz;
}

uint64_t now_ns(void)
{
	return fake_now_ns;
}

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom);
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	crashes = 0;
	vcpu.tsc_offset = 0;
	vcpu.kvmclock_msr = 0;
	fake_tsc_khz = 2500000;
	fake_now_ns = 123456789;
	return 0;
}

static struct pvti read_pvti(uint64_t gpa)
{
	struct pvti ti;

	memcpy(&ti, phys_to_virt(gpa), sizeof(ti));
	return ti;
}

/* Registers a page at gpa and returns what the guest then reads there. */
static struct pvti register_page(uint64_t gpa)
{
	memset(phys_to_virt(gpa), 0xEE, sizeof(struct pvti));
	vcpu.kvmclock_msr = gpa | 1;
	pvclock_update(&vcpu);
	assert_int_equal(crashes, 0);
	return read_pvti(gpa);
}

/* Linux's pvclock_scale_delta(). */
static uint64_t guest_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/*
 * For a TSC of khz kHz, the guest's nanoseconds over 1 ms, 1 s and
 * 10 minutes of ticks agree with ticks * 10^9 / Hz within 1 ppm (+1 ns
 * for the truncations).
 */
static void check_scale(uint64_t khz)
{
	const uint64_t hz = khz * 1000;
	const uint64_t spans_ms[] = {1, 1000, 600000};
	struct pvti ti;

	fake_tsc_khz = khz;
	ti = register_page(0x5000);
	assert_true(ti.tsc_to_system_mul != 0);
	assert_true(ti.tsc_shift >= -32 && ti.tsc_shift <= 32);
	for (unsigned i = 0; i < ARRAY_SIZE(spans_ms); i++) {
		uint64_t ticks = khz * spans_ms[i];
		uint64_t exact = spans_ms[i] * 1000000;
		uint64_t got =
		    guest_scale(ticks, ti.tsc_to_system_mul, ti.tsc_shift);
		uint64_t err = got > exact ? got - exact : exact - got;

		if (err > exact / 1000000 + 1)
			fail_msg("%lu Hz: %lu ticks -> %lu ns, want %lu "
				 "(mul %u shift %d)",
				 (unsigned long)hz, (unsigned long)ticks,
				 (unsigned long)got, (unsigned long)exact,
				 ti.tsc_to_system_mul, ti.tsc_shift);
	}
}

static void test_scale_1ghz(void **state)
{
	(void)state;
	check_scale(1000000);
}

static void test_scale_2_5ghz(void **state)
{
	(void)state;
	check_scale(2500000);
}

static void test_scale_3_4ghz(void **state)
{
	(void)state;
	check_scale(3400000);
}

static void test_scale_600mhz(void **state)
{
	(void)state;
	check_scale(600000);
}

static void test_scale_100mhz(void **state)
{
	(void)state;
	check_scale(100000);
}

/* Calibrated rates are not round; fast CPUs exceed 2^32 Hz. */
static void test_scale_odd_rates(void **state)
{
	const uint64_t rates[] = {2893204, 1999999, 1000001, 999999,
				  4294967, 5200000, 12345,   1};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(rates); i++)
		check_scale(rates[i]);
}

/* At exactly 1 GHz a tick is a nanosecond: no rounding at all. */
static void test_scale_1ghz_exact(void **state)
{
	struct pvti ti;

	(void)state;
	fake_tsc_khz = 1000000;
	ti = register_page(0x5000);
	for (uint64_t ticks = 1; ticks < (1ULL << 40); ticks = ticks * 3 + 1)
		assert_int_equal(
		    guest_scale(ticks, ti.tsc_to_system_mul, ti.tsc_shift),
		    ticks);
}

static void test_page_contents(void **state)
{
	const uint64_t offset = 0x100000000ULL;
	uint64_t before, after;
	struct pvti ti;

	(void)state;
	vcpu.tsc_offset = offset;
	fake_now_ns = 987654321012ULL;
	before = rdtsc();
	ti = register_page(0x7040);
	after = rdtsc();
	/* Even: a consistent copy (odd means an update in progress). */
	assert_int_equal(ti.version & 1, 0);
	assert_true(ti.version != 0);
	assert_int_equal(ti.system_time, 987654321012ULL);
	/* The guest's own TSC (host TSC + offset) at system_time. */
	assert_true(ti.tsc_timestamp >= before + offset);
	assert_true(ti.tsc_timestamp <= after + offset);
	assert_true(ti.flags & PVCLOCK_TSC_STABLE);
	assert_int_equal(ti.pad0, 0);
	assert_int_equal(ti.pad[0] | ti.pad[1], 0);
	/* Nothing beyond the 32-byte structure is touched. */
	assert_int_equal(*(uint8_t *)phys_to_virt(0x7040 + 32), 0);
}

/* A page that straddles a page boundary is written whole. */
static void test_page_across_boundary(void **state)
{
	struct pvti ti;

	(void)state;
	fake_now_ns = 42;
	ti = register_page(0x8FF0);
	assert_int_equal(ti.system_time, 42);
	assert_true(ti.tsc_to_system_mul != 0);
}

/* Bit 0 of the MSR is "enable": without it nothing is written. */
static void test_disabled(void **state)
{
	uint8_t *page = phys_to_virt(0x9000);

	(void)state;
	memset(page, 0xEE, 64);
	vcpu.kvmclock_msr = 0x9000;
	pvclock_update(&vcpu);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(page[i], 0xEE);
	assert_int_equal(crashes, 0);
}

/* A kvmclock address outside the guest's RAM ends the guest, not Keel. */
static void test_not_guest_ram(void **state)
{
	(void)state;
	vcpu.kvmclock_msr = GiB(2) | 1;
	pvclock_update(&vcpu);
	assert_int_equal(crashes, 1);
	assert_non_null(strstr(crash_reason, "kvmclock"));

	/* The last bytes of RAM: the structure would run past them. */
	crashes = 0;
	vcpu.kvmclock_msr = (GUEST_RAM - 16) | 1;
	pvclock_update(&vcpu);
	assert_int_equal(crashes, 1);
}

/*
 * The MSR holds a 64-bit address: one beyond the guest-physical address
 * width must not land on an alias in low RAM.
 */
static void test_address_beyond_48_bits(void **state)
{
	uint8_t *page = phys_to_virt(0xA000);

	(void)state;
	memset(page, 0xEE, 64);
	vcpu.kvmclock_msr = (1ULL << 48) | 0xA000 | 1;
	pvclock_update(&vcpu);
	assert_int_equal(page[0], 0xEE);
	assert_int_equal(crashes, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_scale_1ghz),		  T(test_scale_2_5ghz),
	    T(test_scale_3_4ghz),	  T(test_scale_600mhz),
	    T(test_scale_100mhz),	  T(test_scale_odd_rates),
	    T(test_scale_1ghz_exact),	  T(test_page_contents),
	    T(test_page_across_boundary), T(test_disabled),
	    T(test_not_guest_ram),	  T(test_address_beyond_48_bits),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
