/* SPDX-License-Identifier: MIT */
/*
 * The hypercall table (hypervisor/common/hypercall.c) as a guest reaches
 * it: registers in a vCPU, buffers in the caller's RAM behind a real p2m
 * (hypervisor/mm/p2m.c over buddy.c, guest_mem.c's checked copy).
 *
 * KEEL_HC_PLATFORM_INFO must fill a struct keel_platform_info in the
 * caller's RAM and refuse a buffer that is too small (-EINVAL), one that
 * is not the caller's RAM (-EFAULT: unmapped, mapped to memory the domain
 * does not own, or running past the end of its RAM) and an unprivileged
 * caller (-EPERM), writing nothing in each case.
 *
 * What hypercall.c reads from the rest of Keel (CPU count, domain list,
 * scheduler, TSC rate, host memory map) is defined here with known values;
 * domain_owns_ram() is a copy of common/domain.c's few lines (keep them in
 * step, as test_guest_walk.c does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <public/keel.h>
#include "shim.h"

#define GUEST_RAM MiB(16)
/* Guest-physical pages the p2m maps to host memory the domain lacks. */
#define FOREIGN_GPA MiB(32)
#define FOREIGN_HPA GiB(3)
#define POOL_BASE   GiB(1)
#define POOL_SIZE   MiB(8)
#define BUF_GPA	    0x200000

/* What hypercall.c reads from the rest of Keel. */
unsigned nr_cpus_online = 3;
struct domain *domains[MAX_DOMAINS];
struct e820_map host_e820;
static const char *sched_name = "credit";
static struct sched_policy test_policy;
const struct sched_policy *sched = &test_policy;

uint64_t tsc_khz(void)
{
	return 2994321;
}

/* As in hypervisor/common/domain.c. */
bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < d->nr_ranges; i++)
		if (pa >= d->ram[i].start && pa + len <= d->ram[i].end &&
		    pa + len >= pa)
			return true;
	return false;
}

static struct domain dom0 = {.id = 0, .privileged = true};
static struct domain domu = {.id = 5, .privileged = false};
static struct vcpu v0 = {.dom = &dom0};
static struct vcpu vu = {.dom = &domu};

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	/* Dom0's RAM, identity-mapped, and a window onto foreign memory. */
	dom0.nr_ranges = 1;
	dom0.ram[0] = (struct dom_mem_range){0, GUEST_RAM};
	assert_int_equal(p2m_init(&dom0), 0);
	assert_int_equal(p2m_map(&dom0, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	assert_int_equal(
	    p2m_map(&dom0, FOREIGN_GPA, FOREIGN_HPA, MiB(2), P2M_RWX, true), 0);
	/* The DomU sees the same RAM (so only the privilege check stops it). */
	domu.nr_ranges = 1;
	domu.ram[0] = dom0.ram[0];
	domu.p2m_root = dom0.p2m_root;
	e820_add(&host_e820, 0, 0x9F000, E820_RAM);
	e820_add(&host_e820, MiB(1), GiB(2) - MiB(1), E820_RAM);
	e820_add(&host_e820, GiB(4), GiB(1), E820_RAM);
	e820_add(&host_e820, 0xFEC00000, 0x1000, E820_RESERVED);
	domains[0] = &dom0;
	domains[5] = &domu;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom0);
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(phys_to_virt(BUF_GPA), 0xA5, PAGE_SIZE * 2);
	memset(phys_to_virt(GUEST_RAM - PAGE_SIZE), 0xA5, PAGE_SIZE);
	test_policy.name = sched_name;
	return 0;
}

static int64_t call(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2)
{
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RAX] = nr;
	v->gpr[GPR_RDI] = a1;
	v->gpr[GPR_RSI] = a2;
	return (int64_t)hypercall_dispatch(v);
}

static bool untouched(uint64_t gpa, size_t len)
{
	const uint8_t *p = phys_to_virt(gpa);

	for (size_t i = 0; i < len; i++)
		if (p[i] != 0xA5)
			return false;
	return true;
}

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_VERSION, 0, 0), KEEL_VERSION_CODE);
	assert_int_equal(call(&vu, KEEL_HC_VERSION, 0, 0), KEEL_VERSION_CODE);
}

static void test_unknown_number(void **state)
{
	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_BASE + 0xFFFF, 0, 0), -ENOSYS);
	assert_int_equal(call(&v0, 0, 0, 0), -ENOSYS);
}

static void test_platform_info(void **state)
{
	struct keel_platform_info *info = phys_to_virt(BUF_GPA);
	uint64_t free_bytes = frames_free_pages() * PAGE_SIZE;

	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, BUF_GPA, PAGE_SIZE),
			 0);
	assert_int_equal(info->size, sizeof(*info));
	assert_int_equal(info->version, KEEL_VERSION_CODE);
	assert_int_equal(info->nr_cpus, 3);
	assert_int_equal(info->nr_domains, 2);
	assert_int_equal(info->tsc_khz, 2994321);
	assert_int_equal(info->total_ram, 0x9F000 + GiB(2) - MiB(1) + GiB(1));
	assert_true(free_bytes > 0);
	assert_int_equal(info->free_ram, free_bytes);
	assert_string_equal(info->sched_name, "credit");
	/* Unused name bytes are zero: nothing of Keel's stack leaks out. */
	for (size_t i = strlen("credit"); i < KEEL_SCHED_NAME_LEN; i++)
		assert_int_equal(info->sched_name[i], 0);
	/* A bigger buffer gets the structure only. */
	assert_true(
	    untouched(BUF_GPA + sizeof(*info), PAGE_SIZE - sizeof(*info)));
}

static void test_platform_info_exact_size_at_end_of_ram(void **state)
{
	uint64_t gpa = GUEST_RAM - sizeof(struct keel_platform_info);
	struct keel_platform_info *info = phys_to_virt(gpa);

	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, gpa, sizeof(*info)),
			 0);
	assert_int_equal(info->size, sizeof(*info));
}

static void test_platform_info_long_sched_name(void **state)
{
	struct keel_platform_info *info = phys_to_virt(BUF_GPA);

	(void)state;
	test_policy.name = "a-scheduler-name-longer-than-the-field";
	assert_int_equal(
	    call(&v0, KEEL_HC_PLATFORM_INFO, BUF_GPA, sizeof(*info)), 0);
	assert_int_equal(strnlen(info->sched_name, KEEL_SCHED_NAME_LEN),
			 KEEL_SCHED_NAME_LEN - 1);
	assert_memory_equal(info->sched_name, "a-scheduler-nam",
			    KEEL_SCHED_NAME_LEN);
}

static void test_platform_info_too_small(void **state)
{
	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, BUF_GPA,
			      sizeof(struct keel_platform_info) - 1),
			 -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, BUF_GPA, 0), -EINVAL);
	assert_true(untouched(BUF_GPA, PAGE_SIZE));
}

static void test_platform_info_not_callers_ram(void **state)
{
	size_t size = sizeof(struct keel_platform_info);

	(void)state;
	/* Not mapped at all. */
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, GiB(1), size),
			 -EFAULT);
	assert_int_equal(
	    call(&v0, KEEL_HC_PLATFORM_INFO, 0xFFFFFFFFFFFFF000ULL, size),
	    -EFAULT);
	/* Mapped, but to memory the domain does not own. */
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, FOREIGN_GPA, size),
			 -EFAULT);
	/* Starts in its RAM and runs past the end of it. */
	assert_int_equal(call(&v0, KEEL_HC_PLATFORM_INFO, GUEST_RAM - 8, size),
			 -EFAULT);
	assert_true(untouched(GUEST_RAM - PAGE_SIZE, PAGE_SIZE));
}

static void test_platform_info_unprivileged(void **state)
{
	(void)state;
	assert_int_equal(call(&vu, KEEL_HC_PLATFORM_INFO, BUF_GPA, PAGE_SIZE),
			 -EPERM);
	assert_true(untouched(BUF_GPA, PAGE_SIZE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_version, setup),
	    cmocka_unit_test_setup(test_unknown_number, setup),
	    cmocka_unit_test_setup(test_platform_info, setup),
	    cmocka_unit_test_setup(test_platform_info_exact_size_at_end_of_ram,
				   setup),
	    cmocka_unit_test_setup(test_platform_info_long_sched_name, setup),
	    cmocka_unit_test_setup(test_platform_info_too_small, setup),
	    cmocka_unit_test_setup(test_platform_info_not_callers_ram, setup),
	    cmocka_unit_test_setup(test_platform_info_unprivileged, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
