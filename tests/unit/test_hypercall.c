/* SPDX-License-Identifier: MIT */
/*
 * The hypercall table (hypervisor/common/hypercall.c) and the domain
 * control calls (common/domctl.c) and the trace control call
 * (common/trace_ctl.c) as a guest reaches them: registers in a
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
#include <keel/dom_console.h>
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
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>
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

/* As domain.c's, on one CPU. */
void domlist_acquire(void)
{
	assert_false(spin_is_locked(&domlist_lock));
	spin_lock(&domlist_lock);
}

void domlist_release(void)
{
	spin_unlock(&domlist_lock);
}
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

/* Keel's notification interrupt to Dom0: counted. */
static unsigned notifications;

void dom0_notify(void)
{
	notifications++;
}

uint64_t now_ns(void)
{
	return 1000;
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

/* CPUs 0 and 2 are online (a hole at 1); trace_ctl.c waits for them. */
struct percpu percpu_area[MAX_CPUS] = {[0].online = true, [2].online = true};
static unsigned quiesced;

void vcpu_loop_quiesce(void)
{
	quiesced++;
}

void vcpu_sleep(struct vcpu *v)
{
	(void)v;
}

void vcpu_wake(struct vcpu *v)
{
	if (v->state == VCPU_BLOCKED && !v->ioreq.waiting)
		v->state = VCPU_RUNNABLE;
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

static unsigned woken;

static void t_wake_sleep(struct vcpu *v)
{
	(void)v;
	woken++;
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
	/* The DomU sees the same memory (so only the privilege check stops
	 * it) but owns none: it would be another domain's for the donation
	 * checks. */
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
	destroyed = 0;
	notifications = 0;
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

/* Domain control. */
#define EXT_GPA	 (BUF_GPA + PAGE_SIZE)
#define BOOT_GPA (BUF_GPA + 2 * PAGE_SIZE)

static int64_t create_dom(const char *name, uint32_t vcpus)
{
	struct keel_domain_create *c = phys_to_virt(BUF_GPA);

	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, strnlen(name, sizeof(c->name)));
	c->nr_vcpus = vcpus;
	return call(&v0, KEEL_HC_DOMAIN_CREATE, BUF_GPA, sizeof(*c));
}

static int64_t map_one(int64_t dom, uint64_t gpa, uint64_t dom0_gpa,
		       uint64_t len)
{
	struct keel_mem_extent *e = phys_to_virt(EXT_GPA);

	*e = (struct keel_mem_extent){gpa, dom0_gpa, len};
	return call4(&v0, KEEL_HC_MEMORY_MAP, (uint64_t)dom, EXT_GPA, 1, 0);
}

static struct keel_vcpu_boot_state *boot_arg(void)
{
	struct keel_vcpu_boot_state *b = phys_to_virt(BOOT_GPA);

	*b = (struct keel_vcpu_boot_state){.mode = KEEL_VCPU_BOOT_LONG64,
					   .cs = 8,
					   .ds = 16,
					   .gdt_base = 0x6000,
					   .gdt_limit = 23,
					   .cr0 = X86_CR0_PE | X86_CR0_ET |
						  X86_CR0_PG,
					   .cr3 = 0x1000,
					   .cr4 = X86_CR4_PAE,
					   .efer = EFER_LME | EFER_LMA,
					   .rip = 0x10000,
					   .rdi = 77};
	return b;
}

static int64_t set_boot(int64_t dom, uint64_t vcpu)
{
	return call4(&v0, KEEL_HC_VCPU_BOOT_STATE, (uint64_t)dom, vcpu,
		     BOOT_GPA, sizeof(struct keel_vcpu_boot_state));
}

static void destroy_all(void)
{
	for (unsigned id = 1; id < MAX_DOMAINS; id++)
		if (domains[id] && domains[id] != &domu)
			assert_int_equal(
			    call(&v0, KEEL_HC_DOMAIN_DESTROY, id, 0), 0);
}

static void test_domctl_unprivileged(void **state)
{
	(void)state;
	for (uint64_t nr = KEEL_HC_DOMAIN_CREATE; nr <= KEEL_HC_IRQ_LINE; nr++)
		assert_int_equal(call(&vu, nr, BUF_GPA, PAGE_SIZE), -EPERM);
	assert_true(untouched(BUF_GPA, PAGE_SIZE));
}

static void test_create_checks(void **state)
{
	static const char *const bad[] = {"", "a b", "a/b", "\x1b[2J",
					  "\xc3\xa9"};
	struct keel_domain_create *c = phys_to_virt(BUF_GPA);
	int64_t a, b;

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(create_dom(bad[i], 1), -EINVAL);
	assert_int_equal(create_dom("v", 0), -EINVAL);
	assert_int_equal(create_dom("v", KEEL_MAX_VCPUS + 1), -EINVAL);
	memset(c->name, 'n', sizeof(c->name)); /* no NUL */
	c->nr_vcpus = 1;
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_CREATE, BUF_GPA, sizeof(*c)),
			 -EINVAL);
	memset(c, 0, sizeof(*c));
	memcpy(c->name, "flags", 6);
	c->nr_vcpus = 1;
	c->flags = 1;
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_CREATE, BUF_GPA, sizeof(*c)),
			 -EINVAL);
	c->flags = 0;
	assert_int_equal(
	    call(&v0, KEEL_HC_DOMAIN_CREATE, BUF_GPA, sizeof(*c) - 1), -EINVAL);
	assert_int_equal(
	    call(&v0, KEEL_HC_DOMAIN_CREATE, FOREIGN_GPA, sizeof(*c)), -EFAULT);
	assert_int_equal(destroyed, 0);
	/* Ids from the lowest free one, 5 being taken; names unique. */
	a = create_dom("web.1_a-Z", 2);
	assert_int_equal(a, 1);
	assert_int_equal(create_dom("web.1_a-Z", 1), -EEXIST);
	b = create_dom("db", 1);
	assert_int_equal(b, 2);
	assert_int_equal(domains[a]->nr_vcpus, 2);
	assert_true(domains[a]->toolstack_built);
	assert_int_equal(domains[a]->vcpus[0]->state, VCPU_DOWN);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_DESTROY, a, 0), 0);
	assert_int_equal(destroyed, 1);
	assert_null(domains[a]);
	assert_int_equal(create_dom("again", 1), 1);
	destroy_all();
}

static void test_destroy_checks(void **state)
{
	(void)state;
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_DESTROY, 0, 0), -EPERM);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_DESTROY, 9, 0), -ESRCH);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_DESTROY, MAX_DOMAINS, 0),
			 -ESRCH);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_DESTROY, ~0ULL, 0), -ESRCH);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, 0, 0), -EPERM);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, 0, 0), -EPERM);
	assert_non_null(domains[0]);
	assert_int_equal(destroyed, 0);
}

static void test_info_walk(void **state)
{
	struct keel_domain_info *info = phys_to_virt(BUF_GPA);
	int64_t a = create_dom("walk", 3);

	(void)state;
	dom0.state = DOM_RUNNING;
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, 0, BUF_GPA, sizeof(*info), 0), 0);
	assert_int_equal(info->flags, KEEL_DOMFLAG_PRIVILEGED);
	assert_int_equal(info->state, KEEL_DOMSTATE_RUNNING);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, 1, BUF_GPA, sizeof(*info), 0), a);
	assert_string_equal(info->name, "walk");
	assert_int_equal(info->state, KEEL_DOMSTATE_BUILDING);
	assert_int_equal(info->nr_vcpus, 3);
	assert_int_equal(info->nr_vcpus_up, 0);
	assert_int_equal(info->crash_reason[0], 0);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, a + 1, BUF_GPA, sizeof(*info), 0),
	    5);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, 6, BUF_GPA, sizeof(*info), 0),
	    -ESRCH);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, 0, BUF_GPA, sizeof(*info) - 1, 0),
	    -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, 0, GUEST_RAM - 8, sizeof(*info), 0),
	    -EFAULT);
	destroy_all();
}

static void test_memory_map_checks(void **state)
{
	struct keel_mem_extent *e = phys_to_virt(EXT_GPA);
	int64_t a = create_dom("a", 1), b = create_dom("b", 1);

	(void)state;
	assert_int_equal(map_one(a, 0, MiB(8), MiB(2)), 0);
	assert_int_equal(domains[a]->ram_bytes, MiB(2));
	assert_true(domain_owns_ram(domains[a], MiB(8), MiB(2)));
	/* Another domain's, overlapping, unmapped, foreign, not RAM. */
	assert_int_equal(map_one(b, 0, MiB(9), PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(a, MiB(2), MiB(8), PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(a, PAGE_SIZE, MiB(11), PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(b, 0, GiB(1), PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(b, 0, FOREIGN_GPA, PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(b, 0, 0xA0000, PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(b, 0, MiB(15), MiB(2)), -EINVAL);
	assert_int_equal(map_one(b, 0, MiB(12), 0x800), -EINVAL);
	assert_int_equal(map_one(b, KEEL_MAX_GPA, MiB(12), PAGE_SIZE), -EINVAL);
	assert_int_equal(map_one(0, 0, MiB(12), PAGE_SIZE), -EPERM);
	assert_int_equal(map_one(40, 0, MiB(12), PAGE_SIZE), -ESRCH);
	assert_int_equal(call4(&v0, KEEL_HC_MEMORY_MAP, b, EXT_GPA, 0, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_MEMORY_MAP, b, EXT_GPA,
			       KEEL_MAX_EXTENTS_PER_CALL + 1, 0),
			 -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_MEMORY_MAP, b, GUEST_RAM - 24, 2, 0), -EFAULT);
	/* All or nothing: a good extent with a bad one maps neither. */
	e[0] = (struct keel_mem_extent){0, MiB(12), PAGE_SIZE};
	e[1] = (struct keel_mem_extent){MiB(1), MiB(8), PAGE_SIZE};
	assert_int_equal(call4(&v0, KEEL_HC_MEMORY_MAP, b, EXT_GPA, 2, 0),
			 -EINVAL);
	assert_int_equal(domains[b]->nr_extents, 0);
	e[1] = (struct keel_mem_extent){MiB(1), MiB(13), PAGE_SIZE};
	assert_int_equal(call4(&v0, KEEL_HC_MEMORY_MAP, b, EXT_GPA, 2, 0), 0);
	assert_int_equal(domains[b]->nr_extents, 2);
	{
		uint64_t hpa;

		assert_int_equal(p2m_lookup(domains[b], MiB(1), &hpa), 0);
		assert_int_equal(hpa, MiB(13));
	}
	destroy_all();
}

static void test_start_state_machine(void **state)
{
	struct keel_domain_info *info = phys_to_virt(BUF_GPA);
	int64_t d = create_dom("sm", 2);

	(void)state;
	inserted = removed = 0;
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, d, 0), -EINVAL);
	assert_int_equal(map_one(d, 0, MiB(8), MiB(2)), 0);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), -EINVAL);
	boot_arg()->cr0 |= X86_CR0_CD;
	assert_int_equal(set_boot(d, 0), -EINVAL);
	assert_false(domains[d]->vcpus[0]->boot_state_set);
	boot_arg();
	assert_int_equal(set_boot(d, 1), -EINVAL);
	assert_int_equal(set_boot(0, 0), -EPERM);
	assert_int_equal(call4(&v0, KEEL_HC_VCPU_BOOT_STATE, d, 0, BOOT_GPA,
			       sizeof(struct keel_vcpu_boot_state) - 1),
			 -EINVAL);
	assert_int_equal(set_boot(d, 0), 0);
	assert_int_equal(npt_vcpu_state.rip, 0x10000);
	assert_int_equal(npt_vcpu_state.cs.attr, 0xA9B);
	assert_int_equal(domains[d]->vcpus[0]->gpr[GPR_RDI], 77);
	assert_int_equal(call4(&v0, KEEL_HC_SCHED_SET, d, 0, 0, 0), -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_SCHED_SET, d, 65536, 0, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_SCHED_SET, d, 100, 301, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_SCHED_SET, d, 100, 300, 0), 0);
	assert_int_equal(call4(&v0, KEEL_HC_VCPU_AFFINITY, d, 0, 8, 0),
			 -EINVAL); /* CPU 3 of 3 */
	assert_int_equal(call4(&v0, KEEL_HC_VCPU_AFFINITY, d, 2, 1, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_VCPU_AFFINITY, d, 1, 6, 0), 0);
	assert_int_equal(domains[d]->vcpus[1]->affinity, 6);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), 0);
	assert_int_equal(inserted, 2);
	assert_int_equal(domains[d]->state, DOM_RUNNING);
	assert_int_equal(domains[d]->vcpus[0]->state, VCPU_RUNNABLE);
	assert_int_equal(domains[d]->vcpus[1]->state, VCPU_DOWN);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), -EBUSY);
	assert_int_equal(set_boot(d, 0), -EBUSY);
	assert_int_equal(map_one(d, MiB(2), MiB(12), PAGE_SIZE), -EBUSY);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DOMAIN_INFO, d, BUF_GPA, sizeof(*info), 0), d);
	assert_int_equal(info->nr_vcpus_up, 1);
	assert_int_equal(info->weight, 512); /* from the policy now */
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, d, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_PAUSED);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_RUNNING);
	destroy_all();
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), -ESRCH);
}

/* `kl create -p`: paused before the start, nothing is woken until the
 * unpause. */
static void test_start_paused(void **state)
{
	int64_t d = create_dom("early", 1);

	(void)state;
	assert_int_equal(map_one(d, 0, MiB(8), MiB(2)), 0);
	boot_arg();
	assert_int_equal(set_boot(d, 0), 0);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_BUILDING);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, d, 0), -EINVAL);
	woken = 0;
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_PAUSED);
	assert_int_equal(domains[d]->vcpus[0]->state, VCPU_RUNNABLE);
	assert_int_equal(woken, 0);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_START, d, 0), -EBUSY);
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_UNPAUSE, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_RUNNING);
	assert_int_equal(woken, 1);
	/* A later pause is an ordinary one. */
	assert_int_equal(call(&v0, KEEL_HC_DOMAIN_PAUSE, d, 0), 0);
	assert_int_equal(domains[d]->state, DOM_PAUSED);
	destroy_all();
}

static void test_console_ring(void **state)
{
	struct keel_console_ring *r = phys_to_virt(MiB(4));
	int64_t d = create_dom("con", 1);

	(void)state;
	assert_int_equal(map_one(d, 0, MiB(8), MiB(2)), 0);
	assert_int_equal(call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(4), 3000, 0),
			 -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(4), KiB(2), 0), -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(4), KiB(128), 0), -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(4) + 64, KiB(4), 0),
	    -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(8), KiB(4), 0),
	    -EINVAL); /* in the DomU's memory */
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, GUEST_RAM - KiB(4), KiB(8), 0),
	    -EFAULT);
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, 0, MiB(4), KiB(8), 0), -EPERM);
	assert_int_equal(call(&v0, KEEL_HC_CONSOLE_KICK, d, 0), -EINVAL);
	memset(r, 0xEE, KiB(8));
	assert_int_equal(
	    call4(&v0, KEEL_HC_CONSOLE_SETUP, d, MiB(4), KiB(8), 0), 0);
	assert_int_equal(r->out_prod, 0);
	assert_int_equal(r->in_cons, 0);
	/* The ring is no DomU's memory, nor another domain's ring. */
	assert_int_equal(map_one(d, MiB(2), MiB(4) + KiB(4), PAGE_SIZE),
			 -EINVAL);
	{
		int64_t e = create_dom("con2", 1);

		assert_int_equal(
		    call4(&v0, KEEL_HC_CONSOLE_SETUP, e, MiB(4), KiB(4), 0),
		    -EINVAL);
		assert_int_equal(call4(&v0, KEEL_HC_CONSOLE_SETUP, e,
				       MiB(4) + KiB(8), KiB(4), 0),
				 0);
	}
	/* Output wraps in a 4 KiB `out` and never waits for Dom0. */
	spin_lock(&domains[d]->lock);
	for (unsigned i = 0; i < 5000; i++)
		dom_console_put(domains[d], (uint8_t)('a' + i % 26));
	spin_unlock(&domains[d]->lock);
	assert_int_equal(r->out_prod, 5000);
	assert_int_equal(((char *)r)[KEEL_CONSOLE_OUT_OFFSET + 4999 % 4096],
			 'a' + 4999 % 26);
	/* Not asked (0xEE has bit 0 clear), Keel said nothing. */
	assert_int_equal(notifications, 0);
	assert_int_equal(r->notify, 0xEEEEEEEE);
	/* Asked, Keel says it once and clears only that bit. */
	r->notify = KEEL_CONSOLE_NOTIFY_OUT | 0x100;
	spin_lock(&domains[d]->lock);
	dom_console_put(domains[d], 'z');
	dom_console_put(domains[d], 'z');
	spin_unlock(&domains[d]->lock);
	assert_int_equal(notifications, 1);
	assert_int_equal(r->notify, 0x100);
	/* Input: the receiver (FIFO off) takes one byte at a time, whatever
	 * in_prod claims. */
	memcpy(r->in, "hi", 2);
	r->in_prod = 0x7FFFFFFF;
	r->notify = KEEL_CONSOLE_NOTIFY_IN;
	assert_int_equal(call(&v0, KEEL_HC_CONSOLE_KICK, d, 0), 0);
	assert_int_equal(r->in_cons, 1);
	assert_int_equal(domains[d]->vuart.rx_count, 1);
	assert_int_equal(notifications, 2);
	/* No room in the receiver: in_cons stays, nobody is told. */
	r->notify = KEEL_CONSOLE_NOTIFY_IN;
	assert_int_equal(call(&v0, KEEL_HC_CONSOLE_KICK, d, 0), 0);
	assert_int_equal(r->in_cons, 1);
	assert_int_equal(notifications, 2);
	destroy_all();
}

static void test_dmesg(void **state)
{
	char *buf = phys_to_virt(BUF_GPA);

	(void)state;
	log_cleared = false;
	assert_int_equal(call4(&v0, KEEL_HC_DMESG, BUF_GPA, PAGE_SIZE, 2, 0),
			 -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_DMESG, GUEST_RAM - 16, PAGE_SIZE, 0, 0),
	    -EFAULT);
	assert_false(log_cleared);
	assert_int_equal(call4(&v0, KEEL_HC_DMESG, BUF_GPA, 0, 0, 0), 0);
	assert_int_equal(call4(&v0, KEEL_HC_DMESG, BUF_GPA, PAGE_SIZE, 0, 0),
			 strlen(log_text));
	assert_memory_equal(buf, log_text, strlen(log_text));
	assert_int_equal(
	    call4(&v0, KEEL_HC_DMESG, BUF_GPA, PAGE_SIZE, KEEL_DMESG_CLEAR, 0),
	    strlen(log_text));
	assert_int_equal(call4(&v0, KEEL_HC_DMESG, BUF_GPA, PAGE_SIZE, 0, 0),
			 0);
}

static int64_t call5(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2,
		     uint64_t a3, uint64_t a4, uint64_t a5)
{
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RAX] = nr;
	v->gpr[GPR_RDI] = a1;
	v->gpr[GPR_RSI] = a2;
	v->gpr[GPR_RDX] = a3;
	v->gpr[GPR_R10] = a4;
	v->gpr[GPR_R8] = a5;
	return (int64_t)hypercall_dispatch(v);
}

static int64_t ioreq_add(int64_t d, uint64_t flags, uint64_t start,
			 uint64_t len)
{
	return call5(&v0, KEEL_HC_IOREQ_RANGE, (uint64_t)d,
		     KEEL_IOREQ_RANGE_ADD, flags, start, len);
}

/* The DomU's vIOAPIC, as vintr.c wires it, with its messages counted. */
static unsigned irq_messages;

static void count_message(void *ctx, uint32_t dest, bool logical,
			  uint8_t vector, uint8_t delivery_mode, bool level)
{
	(void)ctx, (void)dest, (void)logical, (void)delivery_mode, (void)level;
	assert_int_equal(vector, 0x40);
	irq_messages++;
}

static const struct vioapic_env count_env = {.deliver = count_message};

/*
 * The I/O-request calls as Dom0 makes them: the page (size, alignment,
 * whose memory, once, while building), ranges (validity, overlap with
 * ranges and RAM both ways), DONE without a request, IRQ_LINE's pins and
 * ops, and domains they do not apply to (Dom0, Keel's own, unknown).
 */
static void test_ioreq_calls(void **state)
{
	int64_t d = create_dom("dm", 2);
	struct keel_ioreq_page *p = phys_to_virt(MiB(4));
	struct domain *dd;
	const uint64_t mmio = 0xD0000000ULL;

	(void)state;
	assert_true(d > 0);
	dd = domains[d];
	assert_int_equal(map_one(d, 0, MiB(8), MiB(2)), 0);
	memset(p, 0xA5, PAGE_SIZE);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, 0, MiB(4), 4096, 0),
			 -EPERM);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, 5, MiB(4), 4096, 0),
			 -EPERM); /* Keel's own domain */
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, 40, MiB(4), 4096, 0),
			 -ESRCH);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(4), 8192, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(4), 0, 0),
			 -EINVAL);
	assert_int_equal(
	    call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(4) + 64, 4096, 0), -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(8), 4096, 0),
			 -EINVAL); /* the DomU's own memory */
	assert_int_equal(
	    call4(&v0, KEEL_HC_IOREQ_SETUP, d, FOREIGN_GPA, 4096, 0), -EFAULT);
	assert_int_equal(ioreq_add(d, 0, mmio, 0x1000), -EINVAL); /* no page */
	assert_true(untouched(MiB(4), PAGE_SIZE));
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(4), 4096, 0),
			 0);
	assert_int_equal(p->slot[1].state, KEEL_IOREQ_FREE);
	assert_int_equal(p->doorbell_pending, 0);
	assert_int_equal(call4(&v0, KEEL_HC_IOREQ_SETUP, d, MiB(6), 4096, 0),
			 -EBUSY);
	assert_int_equal(map_one(d, MiB(2), MiB(4), PAGE_SIZE),
			 -EINVAL); /* the page as RAM */

	assert_int_equal(ioreq_add(d, 0, mmio, 0x1000), 0);
	assert_int_equal(ioreq_add(d, 0, mmio + 0xFFF, 1), -EEXIST);
	assert_int_equal(ioreq_add(d, KEEL_IOREQ_F_PIO, 0x3F8, 1), -EINVAL);
	assert_int_equal(ioreq_add(d, 4, mmio + 0x2000, 4), -EINVAL);
	assert_int_equal(ioreq_add(d, 1ULL << 32, mmio + 0x2000, 4), -EINVAL);
	assert_int_equal(ioreq_add(0, 0, mmio + 0x2000, 4), -EPERM);
	assert_int_equal(
	    call5(&v0, KEEL_HC_IOREQ_RANGE, d, 0, 0, mmio + 0x2000, 4),
	    -EINVAL);
	assert_int_equal(map_one(d, 0xE0000000ULL, MiB(10), PAGE_SIZE), 0);
	assert_int_equal(ioreq_add(d, 0, 0xE0000000ULL, 4), -EINVAL);
	assert_int_equal(map_one(d, mmio, MiB(10) + PAGE_SIZE, PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(call5(&v0, KEEL_HC_IOREQ_RANGE, d,
			       KEEL_IOREQ_RANGE_REMOVE, 0, mmio, 4),
			 -ENOENT);
	assert_int_equal(call5(&v0, KEEL_HC_IOREQ_RANGE, d,
			       KEEL_IOREQ_RANGE_REMOVE, 0, mmio, 0x1000),
			 0);
	assert_int_equal(ioreq_add(d, 0, mmio + 0xFFF, 1), 0);

	assert_int_equal(call(&v0, KEEL_HC_IOREQ_DONE, d, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_IOREQ_DONE, d, 2), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_IOREQ_DONE, 0, 0), -EPERM);
	assert_int_equal(call(&v0, KEEL_HC_IOREQ_DONE, 40, 0), -ESRCH);

	vioapic_init(&dd->vioapic, 0, 0xFEC00000ULL, 0, &count_env, dd);
	dd->vioapic.rte[5] = 0x40; /* edge, fixed, unmasked */
	irq_messages = 0;
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 4, KEEL_IRQ_PULSE, 0),
			 -EPERM);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 24, KEEL_IRQ_PULSE, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, 0, 0), -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, 4, 0), -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, 0, 5, KEEL_IRQ_PULSE, 0),
			 -EPERM);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, 5, 5, KEEL_IRQ_PULSE, 0),
			 -EPERM);
	assert_int_equal(irq_messages, 0);
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, KEEL_IRQ_ASSERT, 0),
			 0);
	assert_true(dd->vioapic.asserted & (1u << 5));
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, KEEL_IRQ_ASSERT, 0),
			 0);
	assert_int_equal(irq_messages, 1); /* one edge */
	assert_int_equal(
	    call4(&v0, KEEL_HC_IRQ_LINE, d, 5, KEEL_IRQ_DEASSERT, 0), 0);
	assert_false(dd->vioapic.asserted & (1u << 5));
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, KEEL_IRQ_PULSE, 0),
			 0);
	assert_false(dd->vioapic.asserted & (1u << 5));
	assert_int_equal(irq_messages, 2);
	destroy_all();
	assert_int_equal(call4(&v0, KEEL_HC_IRQ_LINE, d, 5, KEEL_IRQ_PULSE, 0),
			 -ESRCH);
}

/*
 * KEEL_HC_TRACE: sizes checked, one enable at a time, rings for the
 * online CPUs only, mapped read-only into Dom0 at their own address while
 * on, gone from Dom0's p2m after disable, which first waits for every
 * CPU. Nobody but Dom0 may call it.
 */
static void test_trace(void **state)
{
	struct keel_trace_desc *desc = phys_to_virt(BUF_GPA);
	uint64_t free_pages = frames_free_pages(), hpa, rings[3];

	(void)state;
	assert_int_equal(call(&vu, KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE, 1),
			 -EPERM);
	assert_int_equal(call(&v0, KEEL_HC_TRACE, 0, 0), -EINVAL);
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0),
			 -EINVAL);
	for (uint64_t bad = 0; bad < 6; bad++) {
		uint64_t pages = bad == 0   ? 0
				 : bad == 1 ? 3
				 : bad == 2 ? KEEL_TRACE_MAX_PAGES * 2
				 : bad == 3 ? UINT64_MAX
				 : bad == 4 ? 1ULL << 40
					    : 6;

		assert_int_equal(
		    call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE, pages),
		    -EINVAL);
	}
	assert_false(trace_on);
	assert_int_equal(call4(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DESCRIBE,
			       BUF_GPA, sizeof(*desc), 0),
			 0);
	assert_int_equal(desc->pages_per_cpu, 0);
	assert_int_equal(desc->tsc_khz, tsc_khz());

	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE, 2), 0);
	assert_true(trace_on);
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE, 2),
			 -EBUSY);
	assert_int_equal(free_pages - frames_free_pages() >= 4, true);
	memset(desc, 0xA5, sizeof(*desc));
	assert_int_equal(call4(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DESCRIBE,
			       BUF_GPA, sizeof(*desc) - 1, 0),
			 -EINVAL);
	assert_int_equal(call4(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DESCRIBE,
			       GUEST_RAM - 8, sizeof(*desc), 0),
			 -EFAULT);
	assert_int_equal(call4(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DESCRIBE,
			       BUF_GPA, sizeof(*desc), 0),
			 0);
	assert_int_equal(desc->pages_per_cpu, 2);
	assert_int_equal(desc->nr_cpus, 3);
	assert_int_equal(desc->ring[1], 0);
	for (unsigned c = 0; c < 3; c += 2) {
		const struct keel_trace_ring *r = phys_to_virt(desc->ring[c]);

		rings[c] = desc->ring[c];
		assert_int_equal(rings[c] % (2 * PAGE_SIZE), 0);
		assert_int_equal(r->head, 0);
		assert_int_equal(r->cpu, c);
		assert_int_equal(r->nr_slots, (2 * PAGE_SIZE - 64) / 32);
		for (uint64_t off = 0; off < 2 * PAGE_SIZE; off += PAGE_SIZE) {
			assert_int_equal(
			    p2m_lookup(&dom0, rings[c] + off, &hpa), 0);
			assert_int_equal(hpa, rings[c] + off);
		}
	}
	assert_int_equal(call(&vu, KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0),
			 -EPERM);
	quiesced = 0;
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0), 0);
	assert_false(trace_on);
	assert_int_equal(quiesced, 1);
	for (unsigned c = 0; c < 3; c += 2)
		assert_int_equal(p2m_lookup(&dom0, rings[c], &hpa), -EFAULT);
	assert_int_equal(frames_free_pages() <= free_pages, true);
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0),
			 -EINVAL);
	/* On again, at the largest size. */
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE,
			      KEEL_TRACE_MAX_PAGES),
			 0);
	assert_int_equal(call(&v0, KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0), 0);
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
	    cmocka_unit_test_setup(test_domctl_unprivileged, setup),
	    cmocka_unit_test_setup(test_create_checks, setup),
	    cmocka_unit_test_setup(test_destroy_checks, setup),
	    cmocka_unit_test_setup(test_info_walk, setup),
	    cmocka_unit_test_setup(test_memory_map_checks, setup),
	    cmocka_unit_test_setup(test_start_state_machine, setup),
	    cmocka_unit_test_setup(test_start_paused, setup),
	    cmocka_unit_test_setup(test_console_ring, setup),
	    cmocka_unit_test_setup(test_dmesg, setup),
	    cmocka_unit_test_setup(test_ioreq_calls, setup),
	    cmocka_unit_test_setup(test_trace, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
