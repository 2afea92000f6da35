/* SPDX-License-Identifier: MIT */
/*
 * Port and MMIO dispatch through a domain's handler table
 * (hypervisor/arch/x86/hvm/io.c, mmio.c, with the real MOV decoder). The
 * vendor side is a fake hvm_ops holding one guest state; the instruction
 * at RIP, guest memory, the p2m and domain_crash are stand-ins that record
 * what the dispatch asked of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/guest_mem.h>
#include <keel/hvm_exit.h>
#include <keel/hvm_io.h>
#include <keel/ioreq.h>
#include <keel/memmap.h>
#include <keel/p2m.h>
#include <keel/x86.h>
#include "shim.h"

#define DEV_MMIO  0xFEC00000ULL
#define DEV_PORT  0x3F8
#define GUEST_RIP 0x1000

static struct domain dom;
static struct vcpu vcpu = {.dom = &dom};
static struct guest_state gs;
static uint8_t insn[15];
static size_t insn_len;
static unsigned crashes, gp_injected, p2m_maps;
static uint64_t last_table = ~0ULL;

/* The fake vendor: one vCPU whose state lives in gs. */
static void fake_get_state(struct vcpu *v, struct guest_state *s)
{
	(void)v;
	*s = gs;
}

static void fake_set_state(struct vcpu *v, const struct guest_state *s)
{
	(void)v;
	gs = *s;
}

static const struct hvm_ops fake_ops = {
    .name = "fake",
    .get_state = fake_get_state,
    .set_state = fake_set_state,
};
const struct hvm_ops *hvm = &fake_ops;

int guest_fetch_insn(struct vcpu *v, const struct guest_state *s, uint8_t *buf,
		     size_t len)
{
	(void)v;
	assert_int_equal(s->rip, GUEST_RIP);
	len = len < insn_len ? len : insn_len;
	memcpy(buf, insn, len);
	return (int)len;
}

void hvm_inject_gp(struct vcpu *v)
{
	(void)v;
	gp_injected++;
}

void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	(void)d;
	(void)culprit;
	(void)fmt;
	crashes++;
}

/* Host RAM below 1 GiB; nothing private or firmware. */
bool memmap_is_ram(uint64_t pa)
{
	return pa < GiB(1);
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

/* vCPU state changes the I/O-request path makes (common/vcpu.c), and
 * its notifications to Dom0. */
static unsigned sleeps, wakes, notifies;

void dom0_notify(void)
{
	notifies++;
}

void vcpu_sleep(struct vcpu *v)
{
	(void)v;
	sleeps++;
}

void vcpu_wake(struct vcpu *v)
{
	if (v->state == VCPU_BLOCKED && !v->ioreq.waiting)
		v->state = VCPU_RUNNABLE;
	wakes++;
}

/* The pages mapped since setup, which p2m_lookup finds. */
static uint64_t mapped[2048];

int p2m_map(struct domain *d, uint64_t gpa, uint64_t hpa, uint64_t size,
	    unsigned perms, bool uncached)
{
	(void)hpa;
	(void)size;
	(void)perms;
	(void)uncached;
	assert_true(p2m_maps < ARRAY_SIZE(mapped));
	mapped[p2m_maps++] = gpa;
	/* A table for each 2 MiB, as the real p2m needs. */
	if (gpa / MiB(2) != last_table)
		d->p2m_pages++;
	last_table = gpa / MiB(2);
	return 0;
}

int p2m_lookup(struct domain *d, uint64_t gpa, uint64_t *hpa)
{
	(void)d;
	for (unsigned i = 0; i < p2m_maps; i++)
		if (mapped[i] == (gpa & ~(PAGE_SIZE - 1))) {
			*hpa = gpa;
			return 0;
		}
	return -EFAULT;
}

/* A device that records its last access and answers reads with `value`. */
struct fake_dev {
	unsigned reads, writes;
	uint64_t addr, value;
	unsigned size;
	int rc;
};

static struct fake_dev dev_a, dev_b;

static int dev_read(const struct hvm_io_handler *h, struct vcpu *v,
		    uint64_t addr, unsigned size, uint64_t *val)
{
	struct fake_dev *dev = h->dev;

	assert_ptr_equal(v, &vcpu);
	dev->reads++;
	dev->addr = addr;
	dev->size = size;
	*val = dev->value;
	return dev->rc;
}

static int dev_write(const struct hvm_io_handler *h, struct vcpu *v,
		     uint64_t addr, unsigned size, uint64_t val)
{
	struct fake_dev *dev = h->dev;

	assert_ptr_equal(v, &vcpu);
	dev->writes++;
	dev->addr = addr;
	dev->size = size;
	dev->value = val;
	return dev->rc;
}

static const struct hvm_io_ops dev_ops = {
    .read = dev_read,
    .write = dev_write,
};

/* A range that follows the vCPU, as the xAPIC page does: here RBP's page. */
static bool follows_rbp(const struct hvm_io_handler *h, struct vcpu *v,
			uint64_t addr)
{
	(void)h;
	return (addr & ~(PAGE_SIZE - 1)) == v->gpr[GPR_RBP];
}

static const struct hvm_io_ops moving_ops = {
    .claims = follows_rbp,
    .read = dev_read,
    .write = dev_write,
};

static int setup(void **state)
{
	(void)state;
	memset(&dom, 0, sizeof(dom));
	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.dom = &dom;
	spin_lock(&dom.lock); /* as the vCPU loop holds it around exits */
	memset(&dev_a, 0, sizeof(dev_a));
	memset(&dev_b, 0, sizeof(dev_b));
	memset(&gs, 0, sizeof(gs));
	gs.rip = GUEST_RIP;
	gs.efer = EFER_LMA;
	gs.cs.attr = SEG_ATTR_L;
	crashes = gp_injected = p2m_maps = sleeps = wakes = notifies = 0;
	last_table = ~0ULL;
	vcpu.state = VCPU_RUNNABLE;
	insn_len = 0;
	return 0;
}

static void set_insn(const uint8_t *bytes, size_t len)
{
	memcpy(insn, bytes, len);
	insn_len = len;
}

static void npf_at(uint64_t gpa)
{
	struct vm_exit e = {.reason = EXIT_NPF, .npf.gpa = gpa};

	hvm_npf(&vcpu, &e);
}

static void test_register_until_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < HVM_MAX_IO_HANDLERS; i++)
		assert_int_equal(hvm_io_register(&dom, HVM_IO_PORT, i * 8, 8,
						 &dev_ops, &dev_a),
				 0);
	assert_int_equal(
	    hvm_io_register(&dom, HVM_IO_PORT, 0x1000, 8, &dev_ops, &dev_a),
	    -ENOSPC);
	assert_int_equal(dom.nr_io_handlers, HVM_MAX_IO_HANDLERS);
}

static void test_port_dispatch(void **state)
{
	uint32_t val = 0xAA;

	(void)state;
	assert_int_equal(
	    hvm_io_register(&dom, HVM_IO_PORT, DEV_PORT, 8, &dev_ops, &dev_a),
	    0);
	assert_int_equal(
	    hvm_io_register(&dom, HVM_IO_PORT, 0x60, 1, &dev_ops, &dev_b), 0);
	/* An MMIO range at the same numbers is not a port range. */
	assert_int_equal(
	    hvm_io_register(&dom, HVM_IO_MMIO, 0x70, 8, &dev_ops, &dev_b), 0);

	assert_int_equal(hvm_io(&vcpu, DEV_PORT + 5, 1, false, &val), 0);
	assert_int_equal(dev_a.writes, 1);
	assert_int_equal(dev_a.addr, DEV_PORT + 5);
	assert_int_equal(dev_a.size, 1);
	assert_int_equal(dev_a.value, 0xAA);

	dev_b.value = 0x12345678;
	assert_int_equal(hvm_io(&vcpu, 0x60, 4, true, &val), 0);
	assert_int_equal(dev_b.reads, 1);
	assert_int_equal(val, 0x12345678);

	/* Unclaimed ports, the end of a range, an MMIO-only number. */
	assert_int_equal(hvm_io(&vcpu, DEV_PORT + 8, 1, true, &val), -ENODEV);
	assert_int_equal(hvm_io(&vcpu, DEV_PORT - 1, 1, true, &val), -ENODEV);
	assert_int_equal(hvm_io(&vcpu, 0x70, 1, true, &val), -ENODEV);
	assert_int_equal(dev_a.reads + dev_b.reads, 1);

	/* A handler's refusal reaches the caller, and no value does. */
	dev_a.rc = -EINVAL;
	val = 7;
	assert_int_equal(hvm_io(&vcpu, DEV_PORT, 2, true, &val), -EINVAL);
	assert_int_equal(val, 7);
}

static void test_mmio_load_and_store(void **state)
{
	static const uint8_t load[] = {0x8B, 0x03};  /* mov eax, [rbx] */
	static const uint8_t store[] = {0x89, 0x0B}; /* mov [rbx], ecx */

	(void)state;
	assert_int_equal(hvm_io_register(&dom, HVM_IO_MMIO, DEV_MMIO, PAGE_SIZE,
					 &dev_ops, &dev_a),
			 0);
	vcpu.gpr[GPR_RAX] = 0xFFFFFFFFFFFFFFFFULL;
	vcpu.gpr[GPR_RBX] = DEV_MMIO + 0x10;
	dev_a.value = 0x11;
	set_insn(load, sizeof(load));
	npf_at(DEV_MMIO + 0x10);
	assert_int_equal(dev_a.reads, 1);
	assert_int_equal(dev_a.addr, DEV_MMIO + 0x10);
	assert_int_equal(dev_a.size, 4);
	assert_int_equal(vcpu.gpr[GPR_RAX],
			 0x11); /* 32-bit loads zero-extend */
	assert_int_equal(gs.rip, GUEST_RIP + 2);

	gs.rip = GUEST_RIP;
	vcpu.gpr[GPR_RCX] = 0xCAFE;
	set_insn(store, sizeof(store));
	npf_at(DEV_MMIO + 0x40);
	assert_int_equal(dev_a.writes, 1);
	assert_int_equal(dev_a.addr, DEV_MMIO + 0x40);
	assert_int_equal(dev_a.value, 0xCAFE);
	assert_int_equal(gs.rip, GUEST_RIP + 2);
	assert_int_equal(crashes + gp_injected + p2m_maps, 0);
}

static void test_mmio_refused_access_gets_gp(void **state)
{
	static const uint8_t load[] = {0x8B, 0x03};

	(void)state;
	assert_int_equal(hvm_io_register(&dom, HVM_IO_MMIO, DEV_MMIO, PAGE_SIZE,
					 &dev_ops, &dev_a),
			 0);
	dev_a.rc = -EINVAL;
	vcpu.gpr[GPR_RAX] = 5;
	set_insn(load, sizeof(load));
	npf_at(DEV_MMIO);
	assert_int_equal(gp_injected, 1);
	assert_int_equal(vcpu.gpr[GPR_RAX], 5);
	assert_int_equal(gs.rip,
			 GUEST_RIP); /* the faulting insn is not retired */
}

static void test_mmio_refused_store_gets_gp(void **state)
{
	static const uint8_t store[] = {0x89, 0x0B}; /* mov [rbx], ecx */

	(void)state;
	assert_int_equal(hvm_io_register(&dom, HVM_IO_MMIO, DEV_MMIO, PAGE_SIZE,
					 &dev_ops, &dev_a),
			 0);
	dev_a.rc = -EINVAL;
	gs.rip = GUEST_RIP;
	set_insn(store, sizeof(store));
	npf_at(DEV_MMIO);
	assert_int_equal(gp_injected, 1);
	assert_int_equal(gs.rip, GUEST_RIP); /* #GP is a fault: not retired */
}

static void test_mmio_moving_range_first(void **state)
{
	static const uint8_t load[] = {0x8B, 0x03};

	(void)state;
	/* dev_a follows RBP's page and was registered first: it wins there. */
	assert_int_equal(
	    hvm_io_register(&dom, HVM_IO_MMIO, 0, 0, &moving_ops, &dev_a), 0);
	assert_int_equal(hvm_io_register(&dom, HVM_IO_MMIO, DEV_MMIO, PAGE_SIZE,
					 &dev_ops, &dev_b),
			 0);
	set_insn(load, sizeof(load));
	vcpu.gpr[GPR_RBP] = DEV_MMIO;
	npf_at(DEV_MMIO + 8);
	assert_int_equal(dev_a.reads, 1);
	assert_int_equal(dev_b.reads, 0);

	/* Moved away: the fixed range gets its page back. */
	gs.rip = GUEST_RIP;
	vcpu.gpr[GPR_RBP] = DEV_MMIO + 2 * PAGE_SIZE;
	npf_at(DEV_MMIO + 8);
	assert_int_equal(dev_a.reads, 1);
	assert_int_equal(dev_b.reads, 1);

	gs.rip = GUEST_RIP;
	npf_at(DEV_MMIO + 2 * PAGE_SIZE);
	assert_int_equal(dev_a.reads, 2);
}

static void test_mmio_undecodable_crashes(void **state)
{
	static const uint8_t not_a_mov[] = {0x0F, 0x0B}; /* ud2 */

	(void)state;
	assert_int_equal(hvm_io_register(&dom, HVM_IO_MMIO, DEV_MMIO, PAGE_SIZE,
					 &dev_ops, &dev_a),
			 0);
	set_insn(not_a_mov, sizeof(not_a_mov));
	npf_at(DEV_MMIO);
	assert_int_equal(crashes, 1);
	assert_int_equal(dev_a.reads + dev_a.writes, 0);
}

static void test_dispatch_needs_the_domain_lock(void **state)
{
	uint32_t val = 0;

	(void)state;
	spin_unlock(&dom.lock);
	shim_expect_panic(hvm_io(&vcpu, DEV_PORT, 1, true, &val));
	assert_string_equal(shim_last_panic,
			    "hvm_io_find: &d->lock is not held");
}

static void test_unclaimed_mmio(void **state)
{
	(void)state;
	/* Unprivileged: an access outside its memory stops the domain. */
	npf_at(GiB(2) + 0x123);
	assert_int_equal(crashes, 1);
	assert_int_equal(p2m_maps, 0);

	/* Dom0: device memory is mapped 1:1 on first touch; RAM is not. */
	dom.privileged = true;
	npf_at(GiB(2) + 0x123);
	assert_int_equal(p2m_maps, 1);
	assert_int_equal(mapped[0], GiB(2));
	npf_at(MiB(1));
	assert_int_equal(p2m_maps, 1);
	assert_int_equal(crashes, 2);
}

/*
 * Dom0's on-demand MMIO mappings: a page in a 2 MiB already mapped adds
 * no page-table page; once they added 1024, the next one stops Dom0
 * with nothing more mapped.
 */
static void test_dom0_mmio_quota(void **state)
{
	(void)state;
	dom.privileged = true;
	npf_at(GiB(4));
	npf_at(GiB(4) + PAGE_SIZE);
	assert_int_equal(dom.mmio_p2m_pages, 1);
	for (uint64_t i = 1; i < 1024; i++)
		npf_at(GiB(4) + i * MiB(2));
	assert_int_equal(crashes, 0);
	assert_int_equal(p2m_maps, 1025);
	assert_int_equal(dom.mmio_p2m_pages, 1024);
	npf_at(GiB(4) + 2 * PAGE_SIZE);
	assert_int_equal(crashes, 1);
	assert_int_equal(p2m_maps, 1025);
}

/*
 * Two Dom0 vCPUs that fault on one page at once: the second finds it
 * mapped by the first and retries the access, with nothing mapped again
 * (which would wait for every CPU in Dom0 with its lock held).
 */
static void test_dom0_mmio_raced(void **state)
{
	(void)state;
	dom.privileged = true;
	npf_at(GiB(4) + 0x10);
	npf_at(GiB(4) + 0x20);
	assert_int_equal(p2m_maps, 1);
	assert_int_equal(crashes, 0);
	assert_int_equal(gs.rip, GUEST_RIP);
}

/*
 * I/O requests (hvm/ioreq.c): an MMIO load and an IN to Dom0's ranges
 * retire at once (RIP moves on), post a request and block the vCPU, which
 * an interrupt does not wake; DONE puts the answer, masked to the width,
 * where the instruction wanted it. A doorbell write does not wait.
 */
#define IOREQ_PAGE_PA 0x5000000ULL
#define IOREQ_MMIO    0xD0000000ULL

static struct keel_ioreq_page *ioreq_setup(void)
{
	struct keel_ioreq_page *p = shim_map_phys(IOREQ_PAGE_PA, PAGE_SIZE);

	memset(p, 0xA5, PAGE_SIZE); /* what Dom0 left there: Keel resets */
	assert_int_equal(ioreq_register_handlers(&dom), 0);
	ioreq_attach(&dom, IOREQ_PAGE_PA);
	assert_int_equal(p->slot[0].state, KEEL_IOREQ_FREE);
	assert_int_equal(p->doorbell_pending, 0);
	assert_int_equal(ioreq_range_add(dom.ioreq.ranges,
					 KEEL_IOREQ_MAX_RANGES, 0, IOREQ_MMIO,
					 PAGE_SIZE),
			 0);
	assert_int_equal(ioreq_range_add(dom.ioreq.ranges,
					 KEEL_IOREQ_MAX_RANGES,
					 KEEL_IOREQ_F_PIO, 0x700, 8),
			 1);
	assert_int_equal(
	    ioreq_range_add(dom.ioreq.ranges, KEEL_IOREQ_MAX_RANGES,
			    KEEL_IOREQ_F_DOORBELL, IOREQ_MMIO + 0x1050, 4),
	    2);
	return p;
}

static void answer(struct keel_ioreq *s, uint64_t data)
{
	s->data = data;
	__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
}

static void test_ioreq_mmio_load(void **state)
{
	static const uint8_t load16[] = {0x66, 0x8B, 0x03}; /* mov ax,[rbx] */
	struct keel_ioreq_page *p = ioreq_setup();
	struct keel_ioreq *s = &p->slot[0];

	(void)state;
	assert_int_equal(ioreq_complete(&vcpu), -EINVAL); /* none pending */
	vcpu.gpr[GPR_RAX] = ~0ULL;
	vcpu.gpr[GPR_RBX] = IOREQ_MMIO + 0x20;
	set_insn(load16, sizeof(load16));
	npf_at(IOREQ_MMIO + 0x20);
	assert_int_equal(s->state, KEEL_IOREQ_PENDING);
	assert_int_equal(s->addr, IOREQ_MMIO + 0x20);
	assert_int_equal(s->size, 2);
	assert_int_equal(s->type, KEEL_IOREQ_TYPE_MMIO);
	assert_int_equal(s->dir, KEEL_IOREQ_READ);
	assert_int_equal(s->range, 0);
	assert_int_equal(gs.rip, GUEST_RIP + 3);
	assert_int_equal(vcpu.state, VCPU_BLOCKED);
	assert_int_equal(sleeps, 1);
	assert_int_equal(vcpu.gpr[GPR_RAX], ~0ULL); /* not yet */
	/* Once the exit let go of the lock, Dom0 hears of it, once. */
	assert_int_equal(notifies, 0);
	ioreq_notify_dom0(&vcpu);
	ioreq_notify_dom0(&vcpu);
	assert_int_equal(notifies, 1);
	vcpu_wake(&vcpu); /* an interrupt */
	assert_int_equal(vcpu.state, VCPU_BLOCKED);
	assert_int_equal(ioreq_complete(&vcpu), -EBUSY); /* not DONE */
	answer(s, 0x123456789ABCDEF0ULL);
	assert_int_equal(ioreq_complete(&vcpu), 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0xFFFFFFFFFFFFDEF0ULL);
	assert_int_equal(vcpu.state, VCPU_RUNNABLE);
	assert_int_equal(s->state, KEEL_IOREQ_FREE);
	assert_int_equal(ioreq_complete(&vcpu), -EINVAL); /* once only */
	assert_int_equal(crashes + gp_injected, 0);
	shim_unmap_all();
}

static void test_ioreq_port_and_doorbell(void **state)
{
	static const uint8_t store[] = {0x89, 0x0B}; /* mov [rbx], ecx */
	struct keel_ioreq_page *p = ioreq_setup();
	struct keel_ioreq *s = &p->slot[0];
	uint32_t val = 0xAABBCCDD;

	(void)state;
	/* OUT of a byte: only the low byte of EAX goes to Dom0. */
	assert_int_equal(hvm_io(&vcpu, 0x701, 1, false, &val), HVM_IO_DEFERRED);
	assert_int_equal(s->data, 0xDD);
	assert_int_equal(s->dir, KEEL_IOREQ_WRITE);
	assert_int_equal(s->type, KEEL_IOREQ_TYPE_PIO);
	assert_int_equal(s->range, 1);
	answer(s, 0);
	assert_int_equal(ioreq_complete(&vcpu), 0);
	/* IN of a word merges into RAX. */
	vcpu.gpr[GPR_RAX] = 0x1111111111111111ULL;
	assert_int_equal(hvm_io(&vcpu, 0x702, 2, true, &val), HVM_IO_DEFERRED);
	answer(s, 0xFFFFFFFFFFFF4242ULL);
	assert_int_equal(ioreq_complete(&vcpu), 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x1111111111114242ULL);
	/* A doorbell write leaves bit (value % 64) and runs on. */
	vcpu.gpr[GPR_RBX] = IOREQ_MMIO + 0x1050;
	vcpu.gpr[GPR_RCX] = 67;
	set_insn(store, sizeof(store));
	npf_at(IOREQ_MMIO + 0x1050);
	assert_int_equal(p->doorbell[2], 1ULL << 3);
	assert_int_equal(p->doorbell_pending, 1ULL << 2);
	ioreq_notify_dom0(&vcpu);
	assert_int_equal(notifies, 1); /* a flag, raised once when looked at */
	assert_int_equal(vcpu.state, VCPU_RUNNABLE);
	assert_int_equal(s->state, KEEL_IOREQ_FREE);
	assert_int_equal(gs.rip, GUEST_RIP + 2);
	/* A port Dom0 did not register: nothing claims it here. */
	assert_int_equal(hvm_io(&vcpu, 0x708, 1, true, &val), -ENODEV);
	shim_unmap_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_register_until_full, setup),
	    cmocka_unit_test_setup(test_port_dispatch, setup),
	    cmocka_unit_test_setup(test_mmio_load_and_store, setup),
	    cmocka_unit_test_setup(test_mmio_refused_access_gets_gp, setup),
	    cmocka_unit_test_setup(test_mmio_refused_store_gets_gp, setup),
	    cmocka_unit_test_setup(test_mmio_moving_range_first, setup),
	    cmocka_unit_test_setup(test_mmio_undecodable_crashes, setup),
	    cmocka_unit_test_setup(test_dispatch_needs_the_domain_lock, setup),
	    cmocka_unit_test_setup(test_unclaimed_mmio, setup),
	    cmocka_unit_test_setup(test_dom0_mmio_quota, setup),
	    cmocka_unit_test_setup(test_dom0_mmio_raced, setup),
	    cmocka_unit_test_setup(test_ioreq_mmio_load, setup),
	    cmocka_unit_test_setup(test_ioreq_port_and_doorbell, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
