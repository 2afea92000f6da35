/* SPDX-License-Identifier: MIT */
/*
 * ioreq: I/O requests end to end, from Dom0's side. Booted as Dom0, the
 * guest builds a DomU as domctl does and is its device model: it sets up
 * the domain's ioreq page (in its own RAM), registers an MMIO range, a
 * doorbell and a port range, and serves the DomU's requests by polling
 * the page (a freestanding Dom0 takes no notification interrupt). The
 * DomU (payload.S) writes and reads 1, 2, 4 and 8 bytes of MMIO and 1, 2
 * and 4 bytes of ports: every request must arrive as script.h
 * says, and every answer must reach its register with the width's
 * semantics. Doorbell writes must leave their bits without waiting,
 * unregistered MMIO and ports must read all-ones, a range removed must
 * read all-ones, and an interrupt pulsed through IRQ_LINE must be taken
 * once. Every refusal the ABI names is checked, and a DomU waiting on a
 * request must be pausable (an answer while paused waits for the unpause)
 * and destroyable (no hang; its request then completes nowhere).
 */
#include "guest.h"
#include "payload.h"
#include "script.h"

const char test_name[] = "ioreq";

#define PAGE	      4096ULL
#define SLOT_SIZE     0x200000ULL
#define NR_SLOTS      4
#define POOL_MIN_ADDR 0x4000000ULL /* 64 MiB: above the guest's image */
#define POLL_US	      100
#define WAIT_US	      10000000ULL
#define EPERM	      1
#define ENOENT	      2
#define ESRCH	      3
#define EFAULT	      14
#define EBUSY	      16
#define EEXIST	      17
#define EINVAL	      22
#define ENOSPC	      28
#define PTE_P	      0x1ULL
#define PTE_W	      0x2ULL
#define PTE_PWT	      0x8ULL
#define PTE_PCD	      0x10ULL
#define PTE_PS	      0x80ULL
#define GDT_CODE64    0x00AF9A000000FFFFULL
#define GDT_DATA      0x00CF92000000FFFFULL
#define CR0_PE	      (1ULL << 0)
#define CR0_ET	      (1ULL << 4)
#define CR0_NE	      (1ULL << 5)
#define CR0_PG	      (1ULL << 31)
#define CR4_PAE	      (1ULL << 5)
#define EFER_LME      (1ULL << 8)
#define EFER_LMA      (1ULL << 10)

extern const char ioreq_payload_start[], ioreq_payload_end[];

static bool amd;
static uint64_t pool;
static struct keel_domain_info info;
static struct keel_vcpu_info vcpu_info;
static struct keel_domain_create create_arg;
static struct keel_vcpu_boot_state boot_arg;
static struct keel_mem_extent extent;
static struct keel_ioreq_page pages[3] __attribute__((aligned(4096)));
static int mmio_id, doorbell_id, port_id;

static int64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
			 uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uint64_t ret;

	if (amd)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
				   "r"(r8)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
				   "r"(r8)
				 : "memory");
	return (int64_t)ret;
}

static uint64_t gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* Dom0's guest image is identity */
}

static uint64_t slot(unsigned int i)
{
	return pool + i * SLOT_SIZE;
}

static int64_t setup(int64_t dom, const void *page, uint64_t size)
{
	return hypercall(KEEL_HC_IOREQ_SETUP, (uint64_t)dom, gpa(page), size, 0,
			 0);
}

static int64_t range(int64_t dom, uint64_t op, uint64_t flags, uint64_t start,
		     uint64_t len)
{
	return hypercall(KEEL_HC_IOREQ_RANGE, (uint64_t)dom, op, flags, start,
			 len);
}

static int64_t add(int64_t dom, uint64_t flags, uint64_t start, uint64_t len)
{
	return range(dom, KEEL_IOREQ_RANGE_ADD, flags, start, len);
}

static int64_t done(int64_t dom, uint64_t vcpu)
{
	return hypercall(KEEL_HC_IOREQ_DONE, (uint64_t)dom, vcpu, 0, 0, 0);
}

static int64_t irq_line(int64_t dom, uint64_t gsi, uint64_t op)
{
	return hypercall(KEEL_HC_IRQ_LINE, (uint64_t)dom, gsi, op, 0, 0);
}

static int64_t create(const char *name)
{
	memset(&create_arg, 0, sizeof(create_arg));
	memcpy(create_arg.name, name, strlen(name) + 1);
	create_arg.nr_vcpus = 1;
	return hypercall(KEEL_HC_DOMAIN_CREATE, gpa(&create_arg),
			 sizeof(create_arg), 0, 0, 0);
}

static int64_t map1(int64_t dom, uint64_t guest, uint64_t dom0, uint64_t len)
{
	extent = (struct keel_mem_extent){guest, dom0, len};
	return hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)dom, gpa(&extent), 1, 0,
			 0);
}

/* Page tables (RAM, the MMIO hole's pages), GDT and payload. */
static void write_domu_image(uint64_t base)
{
	uint64_t *pml4 = (uint64_t *)(base + DOMU_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(base + DOMU_PDPT_GPA);
	uint64_t *pd0 = (uint64_t *)(base + DOMU_PD0_GPA);
	uint64_t *pd3 = (uint64_t *)(base + DOMU_PD3_GPA);
	uint64_t *gdt = (uint64_t *)(base + DOMU_GDT_GPA);
	static const uint64_t mmio[] = {DOMU_UNCLAIMED_MMIO, DOMU_MMIO_BASE,
					0xFEC00000ULL, 0xFEE00000ULL};
	uint64_t rw = PTE_P | PTE_W;

	memset((void *)base, 0, 0x20000);
	pml4[0] = DOMU_PDPT_GPA | rw;
	pdpt[0] = DOMU_PD0_GPA | rw;
	pdpt[3] = DOMU_PD3_GPA | rw;
	pd0[0] = 0 | rw | PTE_PS;
	for (unsigned int i = 0; i < ARRAY_SIZE(mmio); i++)
		pd3[(mmio[i] >> 21) & 511] = (mmio[i] & ~(SLOT_SIZE - 1)) | rw |
					     PTE_PCD | PTE_PWT | PTE_PS;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
	memcpy((void *)(base + DOMU_PAYLOAD_GPA), ioreq_payload_start,
	       (size_t)(ioreq_payload_end - ioreq_payload_start));
}

static int64_t set_boot(int64_t dom, uint64_t mode)
{
	memset(&boot_arg, 0, sizeof(boot_arg));
	boot_arg.mode = KEEL_VCPU_BOOT_LONG64;
	boot_arg.cs = DOMU_SEL_CODE;
	boot_arg.ds = DOMU_SEL_DATA;
	boot_arg.gdt_base = DOMU_GDT_GPA;
	boot_arg.gdt_limit = 3 * 8 - 1;
	boot_arg.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	boot_arg.cr3 = DOMU_PML4_GPA;
	boot_arg.cr4 = CR4_PAE;
	boot_arg.efer = EFER_LME | EFER_LMA;
	boot_arg.rip = DOMU_PAYLOAD_GPA;
	boot_arg.rsp = DOMU_STACK_TOP;
	boot_arg.rflags = 2;
	boot_arg.rdi = mode;
	return hypercall(KEEL_HC_VCPU_BOOT_STATE, (uint64_t)dom, 0,
			 gpa(&boot_arg), sizeof(boot_arg), 0);
}

/* A BUILDING DomU on pool slot s with the payload in mode `mode`. */
static int64_t build(const char *name, unsigned int s, uint64_t mode)
{
	int64_t dom = create(name), rc;

	if (!check(dom > 0, "create %s: domid %ld", name, dom))
		return dom;
	write_domu_image(slot(s));
	rc = map1(dom, 0, slot(s), SLOT_SIZE);
	if (!rc)
		rc = set_boot(dom, mode);
	check(rc == 0, "build %s: map, boot state: %ld", name, rc);
	return rc ? rc : dom;
}

static int64_t start(int64_t dom)
{
	return hypercall(KEEL_HC_DOMAIN_START, (uint64_t)dom, 0, 0, 0, 0);
}

static void destroy(int64_t dom)
{
	int64_t rc =
	    hypercall(KEEL_HC_DOMAIN_DESTROY, (uint64_t)dom, 0, 0, 0, 0);

	check(rc == 0, "destroy d%ld: %ld", dom, rc);
}

static int64_t get_info(int64_t dom)
{
	int64_t rc = hypercall(KEEL_HC_DOMAIN_INFO, (uint64_t)dom, gpa(&info),
			       sizeof(info), 0, 0);

	return rc == dom ? 0 : (rc < 0 ? rc : -ESRCH);
}

/* Waits for the domain to leave RUNNING; its state, or -1. */
static int wait_stopped(int64_t dom)
{
	for (uint64_t t = 0; t < WAIT_US; t += POLL_US) {
		if (get_info(dom))
			return -1;
		if (info.state != KEEL_DOMSTATE_RUNNING)
			return (int)info.state;
		delay_us(POLL_US);
	}
	return -1;
}

/* Waits for vCPU 0's slot of page p to be PENDING. */
static volatile struct keel_ioreq *wait_pending(struct keel_ioreq_page *p)
{
	volatile struct keel_ioreq *s = &p->slot[0];

	for (uint64_t t = 0; t < WAIT_US; t += POLL_US) {
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) ==
		    KEEL_IOREQ_PENDING)
			return s;
		delay_us(POLL_US);
	}
	return NULL;
}

static uint64_t domu_result(unsigned int s, unsigned int i)
{
	return *(volatile uint64_t *)(slot(s) + DOMU_RESULT_GPA + 8 * i);
}

static void test_setup_refusals(int64_t d, unsigned int s)
{
	check(setup(0, &pages[0], PAGE) == -EPERM, "setup for domain 0");
	check(setup(63, &pages[0], PAGE) == -ESRCH, "setup for no domain");
	check(setup(d, &pages[0], 2 * PAGE) == -EINVAL, "setup of 8 KiB");
	check(setup(d, &pages[0], 64) == -EINVAL, "setup of 64 bytes");
	check(setup(d, (const char *)&pages[0] + 64, PAGE) == -EINVAL,
	      "a misaligned page");
	check(setup(d, (const void *)slot(s), PAGE) == -EINVAL,
	      "a page of the DomU's memory");
	check(setup(d, (const void *)0xFFFFF000000ULL, PAGE) == -EFAULT,
	      "a page outside Dom0's RAM");
	check(add(d, 0, DOMU_MMIO_BASE, DOMU_MMIO_LEN) == -EINVAL,
	      "a range before the page");
	check(setup(d, &pages[0], PAGE) == 0, "the page");
	check(setup(d, &pages[1], PAGE) == -EBUSY, "a second page");
	check(map1(d, DOMU_RAM_SIZE, gpa(&pages[0]), PAGE) == -EINVAL,
	      "the ioreq page given to the DomU as RAM");
}

static void test_range_refusals(int64_t d, unsigned int s)
{
	static const struct {
		const char *what;
		uint64_t flags, start, len;
		int64_t rc;
	} bad[] = {
	    {"MMIO below the hole", 0, 0x1000, 0x1000, -EINVAL},
	    {"MMIO past the hole", 0, 0xFFFFF000ULL, 0x2000, -EINVAL},
	    {"MMIO of length 0", 0, DOMU_MMIO_BASE, 0, -EINVAL},
	    {"a wrapping range", 0, 0xFFFFFFFFFFFFF000ULL, 0x2000, -EINVAL},
	    {"the vIOAPIC page", 0, 0xFEC00F00ULL, 0x200, -EINVAL},
	    {"the xAPIC page", 0, 0xFEE00800ULL, 4, -EINVAL},
	    {"COM1", KEEL_IOREQ_F_PIO, 0x3FC, 1, -EINVAL},
	    {"the power ports", KEEL_IOREQ_F_PIO, 0x5FF, 2, -EINVAL},
	    {"ports past 0xFFFF", KEEL_IOREQ_F_PIO, 0xFFFF, 2, -EINVAL},
	    {"unknown flags", 4, DOMU_MMIO_BASE, 4, -EINVAL},
	    {"an overlap", 0, DOMU_MMIO_BASE + 0x800, 0x1000, -EEXIST},
	    {"a port overlap", KEEL_IOREQ_F_PIO, DOMU_PORT_BASE + 4, 1,
	     -EEXIST},
	};
	int64_t rc, ids[KEEL_IOREQ_MAX_RANGES];
	unsigned int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		rc = add(d, bad[i].flags, bad[i].start, bad[i].len);
		check(rc == bad[i].rc, "range refused: %s (%ld)", bad[i].what,
		      rc);
	}
	check(add(0, 0, 0xD8000000ULL, 4) == -EPERM, "a range for domain 0");
	check(add(63, 0, 0xD8000000ULL, 4) == -ESRCH, "a range for no domain");
	check(range(d, 3, 0, 0xD8000000ULL, 4) == -EINVAL, "an unknown op");
	check(range(d, KEEL_IOREQ_RANGE_REMOVE, 0, 0xD8000000ULL, 4) == -ENOENT,
	      "removing a range never added");
	check(range(d, KEEL_IOREQ_RANGE_REMOVE, 0, DOMU_MMIO_BASE, 4) ==
		  -ENOENT,
	      "removing part of a range");
	/* RAM in the hole and a range there exclude each other. */
	check(map1(d, 0xE0000000ULL, slot(s + 1), PAGE) == 0,
	      "a RAM page in the MMIO hole");
	check(add(d, 0, 0xE0000000ULL, 0x10) == -EINVAL, "a range over RAM");
	check(map1(d, DOMU_MMIO_BASE, slot(s + 1) + PAGE, PAGE) == -EINVAL,
	      "RAM over a range");
	/* The table holds KEEL_IOREQ_MAX_RANGES. */
	while ((rc = add(d, KEEL_IOREQ_F_PIO, 0x1000 + 16 * n, 16)) >= 0 &&
	       n < ARRAY_SIZE(ids))
		ids[n++] = rc;
	check(rc == -ENOSPC && n == KEEL_IOREQ_MAX_RANGES - 3,
	      "%u more ranges fit, then -ENOSPC (%ld)", n, rc);
	for (unsigned int i = 0; i < n; i++)
		check(range(d, KEEL_IOREQ_RANGE_REMOVE, KEEL_IOREQ_F_PIO,
			    0x1000 + 16 * i, 16) == 0,
		      "remove range %ld", ids[i]);
}

static void test_irq_refusals(int64_t d)
{
	check(irq_line(d, KEEL_DOMU_COM1_GSI, KEEL_IRQ_PULSE) == -EPERM,
	      "IRQ_LINE on COM1's pin");
	check(irq_line(d, 24, KEEL_IRQ_PULSE) == -EINVAL, "IRQ_LINE on pin 24");
	check(irq_line(d, DOMU_IRQ_GSI, 0) == -EINVAL, "IRQ_LINE op 0");
	check(irq_line(d, DOMU_IRQ_GSI, 4) == -EINVAL, "IRQ_LINE op 4");
	check(irq_line(0, DOMU_IRQ_GSI, KEEL_IRQ_PULSE) == -EPERM,
	      "IRQ_LINE for domain 0");
	check(irq_line(63, DOMU_IRQ_GSI, KEEL_IRQ_PULSE) == -ESRCH,
	      "IRQ_LINE for no domain");
	check(done(d, 0) == -EINVAL, "DONE without a request");
	check(done(d, 1) == -EINVAL, "DONE for a vCPU it lacks");
	check(done(0, 0) == -EPERM, "DONE for domain 0");
	check(done(63, 0) == -ESRCH, "DONE for no domain");
}

/* What Dom0 does at a marker, before it answers. */
static void at_mark(int64_t d, uint64_t mark)
{
	struct keel_ioreq_page *p = &pages[0];
	uint64_t bits, pending;

	if (mark == DOMU_MARK_DOORBELLS) {
		pending = __atomic_exchange_n(&p->doorbell_pending, 0,
					      __ATOMIC_ACQ_REL);
		bits = __atomic_exchange_n(&p->doorbell[doorbell_id], 0,
					   __ATOMIC_ACQ_REL);
		check(pending == 1ULL << doorbell_id &&
			  bits == ((1ULL << 3) | (1ULL << 5)),
		      "doorbells 3 and 5 rang in range %d (%lx, %lx)",
		      doorbell_id, pending, bits);
	} else if (mark == DOMU_MARK_IRQ) {
		volatile struct keel_ioreq *s = &p->slot[0];

		check(irq_line(d, DOMU_IRQ_GSI, KEEL_IRQ_PULSE) == 0,
		      "pulse of pin %u", DOMU_IRQ_GSI);
		/* The interrupt must not wake the vCPU from its request: it
		 * would run on and post the next one in this slot. */
		delay_us(50000);
		check(s->state == KEEL_IOREQ_PENDING &&
			  s->addr == IOREQ_MARK_ADDR &&
			  s->data == DOMU_MARK_IRQ,
		      "the interrupt leaves the vCPU waiting on its request");
	} else if (mark == DOMU_MARK_REMOVED) {
		check(range(d, KEEL_IOREQ_RANGE_REMOVE, KEEL_IOREQ_F_PIO,
			    DOMU_PORT_BASE, DOMU_PORT_LEN) == 0,
		      "the port range removed");
	}
}

/* Serves the script's requests in order; false at the first mismatch. */
static bool serve_script(int64_t d)
{
	unsigned int reads = 0;

	for (unsigned int i = 0; i < IOREQ_SCRIPT_LEN; i++) {
		const struct ioreq_expect *e = &ioreq_script[i];
		volatile struct keel_ioreq *s = wait_pending(&pages[0]);
		uint8_t want_range = e->type == PIO_ ? port_id : mmio_id;

		if (!check(s, "request %u arrives", i))
			return false;
		if (!check(s->type == e->type && s->dir == e->dir &&
			       s->size == e->size && s->addr == e->addr &&
			       s->range == want_range &&
			       (e->dir == RD_ || s->data == e->data),
			   "request %u: %s %s of %u at %lx (%lx, range %u)", i,
			   s->type == PIO_ ? "port" : "MMIO",
			   s->dir == WR_ ? "write" : "read", s->size, s->addr,
			   s->data, s->range))
			return false;
		if (i == 0)
			check(done(d, 0) == -EBUSY, "DONE before the slot is");
		if (e->dir == RD_)
			s->data = IOREQ_ANSWER + reads++;
		if (e->dir == WR_ && e->addr == IOREQ_MARK_ADDR)
			at_mark(d, e->data);
		__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
		if (!check(done(d, 0) == 0, "DONE for request %u", i))
			return false;
		/* The DomU posts no request after the last. */
		if (i + 1 == IOREQ_SCRIPT_LEN)
			check(done(d, 0) == -EINVAL, "a second DONE");
	}
	return true;
}

static void test_sequence(void)
{
	int64_t d = build("ioreq", 0, DOMU_SEQUENCE), rc;

	if (d <= 0)
		return;
	test_setup_refusals(d, 0);
	mmio_id = (int)add(d, 0, DOMU_MMIO_BASE, DOMU_MMIO_LEN);
	doorbell_id = (int)add(d, KEEL_IOREQ_F_DOORBELL, DOMU_DOORBELL, 4);
	port_id = (int)add(d, KEEL_IOREQ_F_PIO, DOMU_PORT_BASE, DOMU_PORT_LEN);
	check(mmio_id >= 0 && doorbell_id >= 0 && port_id >= 0 &&
		  mmio_id != doorbell_id && doorbell_id != port_id,
	      "three ranges: ids %d %d %d", mmio_id, doorbell_id, port_id);
	test_range_refusals(d, 0);
	test_irq_refusals(d);
	if (!check(start(d) == 0, "start"))
		return;
	check(setup(d, &pages[1], PAGE) == -EBUSY, "setup after the start");
	if (serve_script(d)) {
		check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
		      "the DomU powers off");
		for (unsigned int i = 0; i < DOMU_NR_RESULTS; i++)
			check(domu_result(0, i) == ioreq_results[i].want,
			      "%s: %lx (%lx)", ioreq_results[i].what,
			      domu_result(0, i), ioreq_results[i].want);
		/* kl top's counters: each request once, the pulse taken. */
		rc = hypercall(KEEL_HC_VCPU_INFO, (uint64_t)d, 0,
			       gpa(&vcpu_info), sizeof(vcpu_info), 0);
		check(rc == 0 && vcpu_info.ioreqs == IOREQ_SCRIPT_LEN &&
			  vcpu_info.irqs_injected >= 1,
		      "VCPU_INFO (%ld) counts %lu I/O requests (%u), %lu "
		      "interrupts",
		      (long)rc, (unsigned long)vcpu_info.ioreqs,
		      (unsigned int)IOREQ_SCRIPT_LEN,
		      (unsigned long)vcpu_info.irqs_injected);
	}
	destroy(d);
	check(done(d, 0) == -ESRCH, "DONE after the destroy");
}

/* A DomU blocked on a request: paused, answered, unpaused; destroyed. */
static void test_wait(void)
{
	int64_t p = build("paused", 2, DOMU_WAIT), x;
	volatile struct keel_ioreq *s;

	if (p > 0 && setup(p, &pages[1], PAGE) == 0 &&
	    add(p, 0, DOMU_MMIO_BASE, DOMU_MMIO_LEN) >= 0 && start(p) == 0 &&
	    check((s = wait_pending(&pages[1])), "paused: its read arrives")) {
		check(hypercall(KEEL_HC_DOMAIN_PAUSE, (uint64_t)p, 0, 0, 0,
				0) == 0,
		      "paused: pause while it waits");
		s->data = 0x1234567890ULL;
		__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
		check(done(p, 0) == 0, "paused: DONE while paused");
		delay_us(100000);
		check(domu_result(2, 0) == 0 && get_info(p) == 0 &&
			  info.state == KEEL_DOMSTATE_PAUSED,
		      "paused: it does not run on");
		check(hypercall(KEEL_HC_DOMAIN_UNPAUSE, (uint64_t)p, 0, 0, 0,
				0) == 0,
		      "paused: unpause");
		check(wait_stopped(p) == KEEL_DOMSTATE_SHUTDOWN &&
			  domu_result(2, 0) == 0x1234567890ULL,
		      "paused: then it finishes with the answer (%lx)",
		      domu_result(2, 0));
	}
	if (p > 0)
		destroy(p);
	x = build("dies", 3, DOMU_WAIT);
	if (x > 0 && setup(x, &pages[2], PAGE) == 0 &&
	    add(x, 0, DOMU_MMIO_BASE, DOMU_MMIO_LEN) >= 0 && start(x) == 0 &&
	    check(wait_pending(&pages[2]) != NULL, "dies: its read arrives")) {
		destroy(x);
		check(get_info(x) != 0, "dies: destroyed while it waited");
		check(done(x, 0) == -ESRCH, "dies: DONE finds no domain");
	} else if (x > 0) {
		destroy(x);
	}
}

static bool find_pool(void)
{
	unsigned int n = boot_params.e820_entries;

	for (unsigned int i = 0; i < n && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];
		uint64_t base =
		    e->addr > POOL_MIN_ADDR ? e->addr : POOL_MIN_ADDR;

		base = (base + SLOT_SIZE - 1) & ~(SLOT_SIZE - 1);
		if (e->type == E820_TYPE_RAM &&
		    base + NR_SLOTS * SLOT_SIZE <= e->addr + e->size) {
			pool = base;
			return true;
		}
	}
	return false;
}

void test_main(void)
{
	struct cpuid_regs v = cpuid(0);
	int64_t rc;

	amd = v.ebx == 0x68747541; /* "Auth" */
	if (!find_pool())
		test_fail("no %u MiB of RAM above 64 MiB in the e820 map",
			  (unsigned int)(NR_SLOTS * 2));
	rc = hypercall(KEEL_HC_VERSION, 0, 0, 0, 0, 0);
	if (rc != KEEL_VERSION_CODE)
		test_fail("not under Keel (version call: %ld)", rc);
	printf("ioreq: DomUs from 0x%lx, %s\n", pool,
	       amd ? "VMMCALL" : "VMCALL");
	test_sequence();
	test_wait();
	check(get_info(0) == 0 && info.state == KEEL_DOMSTATE_RUNNING,
	      "Dom0 runs on");
	test_finish();
}
