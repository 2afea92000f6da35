/* SPDX-License-Identifier: MIT */
/*
 * The hypercall table (hypervisor/common/hypercall.c) and the domain
 * control calls (common/domctl.c) as a guest reaches them: registers in a
 * vCPU, buffers in the caller's RAM behind a real p2m (hypervisor/mm/p2m.c
 * over buddy.c, guest_mem.c's checked copy), extents checked by
 * mem_extent.c, boot states by boot_state.c, console rings by
 * dom_console.c over vuart.c.
 *
 * KEEL_HC_PLATFORM_INFO must fill a struct keel_platform_info in the
 * caller's RAM and refuse a buffer that is too small (-EINVAL), one that
 * is not the caller's RAM (-EFAULT: unmapped, mapped to memory the domain
 * does not own, or running past the end of its RAM) and an unprivileged
 * caller (-EPERM), writing nothing in each case. The domain calls must
 * refuse every malformed argument public/keel.h names, and follow the
 * domain state machine.
 *
 * What the calls read from the rest of Keel (CPU count, scheduler, TSC
 * rate, host memory map, log ring) is defined here with known values;
 * domain creation and destruction are reduced to the domain structure,
 * its vCPUs and its p2m (domain.c needs the whole virtual platform), and
 * count what they did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/console.h>
#include <keel/domain.h>
#include <keel/domu_platform.h>
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/hypercall.h>
#include <keel/lib.h>
#include <keel/mem_extent.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/vcpu_loop.h>
#include <keel/x86.h>
#include <public/keel.h>
#include "npt_ops.h"
#include "shim.h"

#define GUEST_RAM MiB(16)
/* Guest-physical pages the p2m maps to host memory the domain lacks. */
#define FOREIGN_GPA MiB(32)
#define FOREIGN_HPA GiB(3)
#define POOL_BASE   GiB(1)
#define POOL_SIZE   MiB(8)
#define BUF_GPA	    0x200000
/* Dom0 RAM the domain tests donate from, and a ring's place. */
#define DONOR_GPA MiB(4)
#define RING_GPA  MiB(12)

/* What hypercall.c and domctl.c read from the rest of Keel. */
unsigned nr_cpus_online = 3;
struct domain *domains[MAX_DOMAINS];
spinlock_t domlist_lock = SPINLOCK_INIT;
struct e820_map host_e820;
static const char *sched_name = "credit";
static struct sched_policy test_policy;
const struct sched_policy *sched = &test_policy;
static unsigned inserted, removed, destroyed;
static const char log_text[] = "(keel) one\n(keel) two\n(keel) three\n";
static bool log_cleared;

uint64_t tsc_khz(void)
{
	return 2994321;
}

bool memmap_is_ram(uint64_t pa)
{
	return e820_range_is(&host_e820, pa, PAGE_SIZE, E820_RAM);
}

/* Only the two leaves domctl.c reads: a vCPU with PAE, PGE, FXSR, SSE
 * and XSAVE, no SMEP/SMAP/PKU. */
void hvm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)v, (void)sub;
	memset(r, 0, 4 * sizeof(r[0]));
	if (leaf == 1) {
		r[2] = CPUID_1_ECX_XSAVE;
		r[3] = CPUID_1_EDX_PAE | CPUID_1_EDX_PGE | CPUID_1_EDX_FXSR |
		       CPUID_1_EDX_SSE;
	}
}

void vcpu_loop_wait_step(void)
{
}

void vcpu_sleep(struct vcpu *v)
{
	(void)v;
}

int domu_platform_init(struct domain *d)
{
	(void)d;
	return 0;
}

size_t console_ring_read_lines(char *buf, size_t size, bool clear)
{
	size_t n = log_cleared ? 0 : MIN(size, strlen(log_text));

	memcpy(buf, log_text + strlen(log_text) - n, n);
	log_cleared |= clear;
	return n;
}

/* domain.c's creation without the virtual platform. */
struct domain *domain_create(unsigned id, const char *name, bool privileged,
			     unsigned nr_vcpus)
{
	struct domain *d = xzalloc(sizeof(*d));

	assert_non_null(d);
	d->id = id;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->privileged = privileged;
	d->state = DOM_BUILDING;
	assert_int_equal(p2m_init(d), 0);
	for (unsigned i = 0; i < nr_vcpus; i++) {
		d->vcpus[i] = xzalloc(sizeof(struct vcpu));
		assert_non_null(d->vcpus[i]);
		d->vcpus[i]->dom = d;
		d->vcpus[i]->id = i;
		d->vcpus[i]->pcpu = -1;
		d->nr_vcpus++;
	}
	domains[id] = d;
	return d;
}

void domain_destroy(struct domain *d)
{
	assert_true(d->dying);
	assert_false(spin_is_locked(&domlist_lock)); /* it waits for CPUs */
	for (unsigned i = 0; i < d->nr_extents; i++)
		p2m_unmap(d, d->extents[i].gpa, d->extents[i].len);
	domains[d->id] = NULL;
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		xfree(d->vcpus[i]);
	p2m_destroy(d);
	domain_extents_free(d);
	xfree(d);
	destroyed++;
}

static int t_insert(struct vcpu *v)
{
	v->pcpu = 0;
	inserted++;
	return 0;
}

static int t_remove(struct vcpu *v)
{
	v->pcpu = -1;
	removed++;
	return 0;
}

static void t_wake_sleep(struct vcpu *v)
{
	(void)v;
}

static int t_set_params(struct domain *d, unsigned weight, unsigned cap)
{
	(void)d, (void)weight, (void)cap;
	return 0;
}

static int t_get_params(const struct domain *d, unsigned *weight, unsigned *cap)
{
	(void)d;
	*weight = 512;
	*cap = 50;
	return 0;
}

static int t_set_affinity(struct vcpu *v, uint64_t mask)
{
	(void)v, (void)mask;
	return 0;
}

static uint64_t t_get_affinity(const struct vcpu *v)
{
	(void)v;
	return 2;
}

static struct domain dom0 = {.id = 0, .privileged = true};
static struct domain domu = {.id = 5, .privileged = false};
static struct vcpu v0 = {.dom = &dom0};
static struct vcpu vu = {.dom = &domu};
/* Dom0's RAM (identity) and the unprivileged domain's (the same). */
static struct dom_extent dom0_ram_extent = {0, 0, GUEST_RAM};

static int group_setup(void **state)
{
	(void)state;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	/* Dom0's RAM, identity-mapped, and a window onto foreign memory. */
	dom0.nr_extents = 1;
	dom0.extents = &dom0_ram_extent;
	assert_int_equal(p2m_init(&dom0), 0);
	assert_int_equal(p2m_map(&dom0, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	assert_int_equal(
	    p2m_map(&dom0, FOREIGN_GPA, FOREIGN_HPA, MiB(2), P2M_RWX, true), 0);
	/* The DomU sees the same RAM (so only the privilege check stops it). */
	domu.nr_extents = 1;
	domu.extents = &dom0_ram_extent;
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
	test_policy = (struct sched_policy){.name = sched_name,
					    .vcpu_insert = t_insert,
					    .vcpu_remove = t_remove,
					    .vcpu_wake = t_wake_sleep,
					    .vcpu_sleep = t_wake_sleep,
					    .set_params = t_set_params,
					    .get_params = t_get_params,
					    .set_affinity = t_set_affinity,
					    .get_affinity = t_get_affinity};
	return 0;
}

static int64_t call4(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2,
		     uint64_t a3, uint64_t a4)
{
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RAX] = nr;
	v->gpr[GPR_RDI] = a1;
	v->gpr[GPR_RSI] = a2;
	v->gpr[GPR_RDX] = a3;
	v->gpr[GPR_R10] = a4;
	return (int64_t)hypercall_dispatch(v);
}

static int64_t call(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2)
{
	return call4(v, nr, a1, a2, 0, 0);
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
