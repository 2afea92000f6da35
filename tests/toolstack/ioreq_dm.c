/* SPDX-License-Identifier: MIT */
/*
 * kl-ioreq-dm: the ioreq guest's DomU served from Dom0 Linux through
 * keel.ko and libkeel, as the device model will be: the DomU's RAM is a
 * memfd, the ioreq page is keel.ko's (IOREQ_SETUP, mmap of the per-domain
 * fd), and the model sleeps in poll() until Keel's notification interrupt
 * (KEEL0001) says a request is PENDING. Each request must be the one
 * tests/guests/ioreq/script.h names, and RESULT must hold what it says
 * after the power-off; poll() must say POLLHUP once the domain is gone.
 * Prints "kl-ioreq-dm: PASS ..." or "kl-ioreq-dm: FAIL <why>" and exits
 * 0 or 1 (tests/system/test_kl_ioreq.py runs it in Dom0).
 *
 * kl-ioreq-dm --bench: the DomU instead times DOMU_BENCH_READS reads of a
 * register this model answers and as many of the vIOAPIC's (Keel's own)
 * with RDTSC; the model prints the median and p99 of each in microseconds
 * (make bench, tests/bench/bench.py).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kl/libkeel.h>

#include "../guests/ioreq/script.h"

#define RAM_SIZE     0x200000ULL
#define WAIT_MS	     20000
#define PTE_RW	     0x3ULL
#define PTE_UC	     0x18ULL /* PCD | PWT */
#define PTE_PS	     0x80ULL
#define GDT_CODE64   0x00AF9A000000FFFFULL
#define GDT_DATA     0x00CF92000000FFFFULL
#define CR0_PE_ET_PG 0x80000011ULL
#define CR0_NE	     (1ULL << 5)
#define CR4_PAE	     (1ULL << 5)
#define EFER_LME_LMA 0x500ULL

extern const char ioreq_payload_start[], ioreq_payload_end[];

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("kl-ioreq-dm: FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* As tests/guests/ioreq/ioreq.c lays the DomU out. */
static void write_image(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + DOMU_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + DOMU_PDPT_GPA);
	uint64_t *pd0 = (uint64_t *)(ram + DOMU_PD0_GPA);
	uint64_t *pd3 = (uint64_t *)(ram + DOMU_PD3_GPA);
	uint64_t *gdt = (uint64_t *)(ram + DOMU_GDT_GPA);
	static const uint64_t mmio[] = {DOMU_UNCLAIMED_MMIO, DOMU_MMIO_BASE,
					0xFEC00000ULL, 0xFEE00000ULL};

	pml4[0] = DOMU_PDPT_GPA | PTE_RW;
	pdpt[0] = DOMU_PD0_GPA | PTE_RW;
	pdpt[3] = DOMU_PD3_GPA | PTE_RW;
	pd0[0] = PTE_RW | PTE_PS;
	for (unsigned i = 0; i < sizeof(mmio) / sizeof(mmio[0]); i++)
		pd3[(mmio[i] >> 21) & 511] =
		    (mmio[i] & ~(RAM_SIZE - 1)) | PTE_RW | PTE_UC | PTE_PS;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
	memcpy(ram + DOMU_PAYLOAD_GPA, ioreq_payload_start,
	       (size_t)(ioreq_payload_end - ioreq_payload_start));
}

static bool pending(struct keel_ioreq_page *p)
{
	return __atomic_load_n(&p->slot[0].state, __ATOMIC_ACQUIRE) ==
	       KEEL_IOREQ_PENDING;
}

/* Sleeps in poll() until vCPU 0's slot is PENDING; counts the sleeps. */
static void wait_request(int dfd, struct keel_ioreq_page *p, unsigned i,
			 unsigned *sleeps)
{
	struct pollfd pfd = {.fd = dfd, .events = POLLIN};
	uint64_t deadline = now_us() + WAIT_MS * 1000ULL;

	while (!pending(p)) {
		int n = poll(&pfd, 1, WAIT_MS);

		if (n < 0 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		if (n > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			fail("request %u: poll says %#x", i, pfd.revents);
		if (n > 0)
			(*sleeps)++;
		if (now_us() > deadline)
			fail("request %u: no wake-up in %d ms", i, WAIT_MS);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints the median and p99 of n TSC deltas at ram + off, in us. */
static void bench_print(const char *what, uint8_t *ram, uint64_t off,
			unsigned n, uint64_t khz)
{
	static uint64_t v[DOMU_BENCH_READS];

	memcpy(v, ram + off, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), cmp_u64);
	printf("kl-ioreq-dm: bench %s: median %.1f us p99 %.1f us "
	       "(%u reads, min %.1f max %.1f)\n",
	       what, v[n / 2] * 1000.0 / khz,
	       v[(n * 99 + 99) / 100 - 1] * 1000.0 / khz, n,
	       v[0] * 1000.0 / khz, v[n - 1] * 1000.0 / khz);
}

int main(int argc, char **argv)
{
	struct keel_vcpu_boot_state boot = {0};
	struct keel_ioreq_page *p;
	struct keel_domain_info info;
	struct pollfd pfd;
	int fd, dfd, mfd, ids[3], rc;
	unsigned sleeps = 0, reads = 0;
	uint32_t domid;
	uint64_t t0, bits;
	uint8_t *ram;
	bool bench = argc > 1 && !strcmp(argv[1], "--bench");

	setvbuf(stdout, NULL, _IONBF, 0);
	fd = keel_open();
	if (fd < 0)
		fail("open %s: %s", KEEL_DEVICE, strerror(-fd));
	dfd = keel_create(fd, "ioreq-dm", 1, &domid);
	if (dfd < 0)
		fail("create: %s", strerror(-dfd));
	mfd = memfd_create("ioreq-dm", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, RAM_SIZE))
		fail("memfd: %s", strerror(errno));
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (ram == MAP_FAILED)
		fail("mmap RAM: %s", strerror(errno));
	memset(ram, 0, RAM_SIZE); /* prefaults it */
	write_image(ram);
	rc = keel_map_ram(dfd, ram, 0, RAM_SIZE);
	if (rc)
		fail("map RAM: %s", strerror(-rc));
	boot.mode = KEEL_VCPU_BOOT_LONG64;
	boot.cs = DOMU_SEL_CODE;
	boot.ds = DOMU_SEL_DATA;
	boot.gdt_base = DOMU_GDT_GPA;
	boot.gdt_limit = 23;
	boot.cr0 = CR0_PE_ET_PG | CR0_NE;
	boot.cr3 = DOMU_PML4_GPA;
	boot.cr4 = CR4_PAE;
	boot.efer = EFER_LME_LMA;
	boot.rip = DOMU_PAYLOAD_GPA;
	boot.rsp = DOMU_STACK_TOP;
	boot.rflags = 2;
	boot.rdi = bench ? DOMU_BENCH : DOMU_SEQUENCE;
	rc = keel_vcpu_boot(dfd, 0, &boot);
	if (rc)
		fail("boot state: %s", strerror(-rc));
	rc = keel_ioreq_map(dfd, &p);
	if (rc != -ENXIO)
		fail("mmap before IOREQ_SETUP: %d, not -ENXIO", rc);
	rc = keel_ioreq_setup(dfd);
	if (rc)
		fail("IOREQ_SETUP: %s", strerror(-rc));
	if (keel_ioreq_setup(dfd) != -EBUSY)
		fail("a second IOREQ_SETUP is not EBUSY");
	rc = keel_ioreq_map(dfd, &p);
	if (rc)
		fail("mmap of the ioreq page: %s", strerror(-rc));
	ids[0] = keel_ioreq_range_add(dfd, 0, DOMU_MMIO_BASE, DOMU_MMIO_LEN);
	ids[1] =
	    keel_ioreq_range_add(dfd, KEEL_IOREQ_F_DOORBELL, DOMU_DOORBELL, 4);
	ids[2] = keel_ioreq_range_add(dfd, KEEL_IOREQ_F_PIO, DOMU_PORT_BASE,
				      DOMU_PORT_LEN);
	if (ids[0] < 0 || ids[1] < 0 || ids[2] < 0)
		fail("ranges: %d %d %d", ids[0], ids[1], ids[2]);
	if (keel_ioreq_range_add(dfd, KEEL_IOREQ_F_PIO, 0x3F8, 1) != -EINVAL ||
	    keel_irq_line(dfd, KEEL_DOMU_COM1_GSI, KEEL_IRQ_PULSE) != -EPERM ||
	    keel_ioreq_done(dfd, 0) != -EINVAL ||
	    keel_ioreq_done(dfd, 1) != -EINVAL)
		fail(
		    "a bad range, COM1's pin or DONE without a request passed");
	rc = keel_start(dfd);
	if (rc)
		fail("start: %s", strerror(-rc));
	t0 = now_us();
	for (unsigned i = 0; bench && i < DOMU_BENCH_READS; i++) {
		struct keel_ioreq *s = &p->slot[0];

		wait_request(dfd, p, i, &sleeps);
		if (s->type != MMIO_ || s->dir != RD_ || s->size != 4 ||
		    s->addr != DOMU_MMIO_BASE + DOMU_BENCH_REG)
			fail(
			    "bench request %u: type %u dir %u size %u at %#llx",
			    i, s->type, s->dir, s->size,
			    (unsigned long long)s->addr);
		s->data = IOREQ_ANSWER;
		__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
		rc = keel_ioreq_done(dfd, 0);
		if (rc)
			fail("DONE for request %u: %s", i, strerror(-rc));
	}
	for (unsigned i = 0; !bench && i < IOREQ_SCRIPT_LEN; i++) {
		const struct ioreq_expect *e = &ioreq_script[i];
		struct keel_ioreq *s = &p->slot[0];

		wait_request(dfd, p, i, &sleeps);
		if (s->type != e->type || s->dir != e->dir ||
		    s->size != e->size || s->addr != e->addr ||
		    s->range != ids[e->type == PIO_ ? 2 : 0] ||
		    (e->dir == WR_ && s->data != e->data))
			fail("request %u: type %u dir %u size %u at %#llx data "
			     "%#llx range %u",
			     i, s->type, s->dir, s->size,
			     (unsigned long long)s->addr,
			     (unsigned long long)s->data, s->range);
		if (e->dir == RD_)
			s->data = IOREQ_ANSWER + reads++;
		if (e->addr == IOREQ_MARK_ADDR &&
		    e->data == DOMU_MARK_DOORBELLS) {
			bits = __atomic_exchange_n(&p->doorbell[ids[1]], 0,
						   __ATOMIC_ACQ_REL);
			if (__atomic_exchange_n(&p->doorbell_pending, 0,
						__ATOMIC_ACQ_REL) !=
				1ULL << ids[1] ||
			    bits != ((1ULL << 3) | (1ULL << 5)))
				fail("doorbells: %#llx",
				     (unsigned long long)bits);
		} else if (e->addr == IOREQ_MARK_ADDR &&
			   e->data == DOMU_MARK_IRQ) {
			if (keel_irq_line(dfd, DOMU_IRQ_GSI, KEEL_IRQ_PULSE))
				fail("IRQ_LINE pulse refused");
		} else if (e->addr == IOREQ_MARK_ADDR) {
			if (keel_ioreq_range_remove(dfd, KEEL_IOREQ_F_PIO,
						    DOMU_PORT_BASE,
						    DOMU_PORT_LEN))
				fail("range remove refused");
		}
		__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
		rc = keel_ioreq_done(dfd, 0);
		if (rc)
			fail("DONE for request %u: %s", i, strerror(-rc));
	}
	printf("kl-ioreq-dm: %zu requests served in %llu us, %u poll "
	       "wake-ups\n",
	       bench ? (size_t)DOMU_BENCH_READS : IOREQ_SCRIPT_LEN,
	       (unsigned long long)(now_us() - t0), sleeps);
	for (int tries = 0;; tries++) {
		if (keel_domain_info(fd, domid, &info) != (int)domid)
			fail("the domain vanished");
		if (info.state == KEEL_DOMSTATE_SHUTDOWN)
			break;
		if (tries == 200)
			fail("no power-off (state %u)", info.state);
		usleep(50000);
	}
	if (bench) {
		uint64_t khz;

		memcpy(&khz, ram + DOMU_RESULT_GPA, sizeof(khz));
		if (!khz)
			fail("no TSC frequency in CPUID 0x40000010");
		printf("kl-ioreq-dm: bench: TSC %llu kHz\n",
		       (unsigned long long)khz);
		bench_print("dm", ram, DOMU_BENCH_GPA, DOMU_BENCH_READS, khz);
		bench_print("keel", ram, DOMU_BENCH_GPA + 8 * DOMU_BENCH_READS,
			    DOMU_BENCH_READS, khz);
		keel_domain_destroy(fd, domid);
		return 0;
	}
	for (unsigned i = 0; i < DOMU_NR_RESULTS; i++) {
		uint64_t got;

		memcpy(&got, ram + DOMU_RESULT_GPA + 8 * i, sizeof(got));
		if (got != ioreq_results[i].want)
			fail("%s: %#llx, not %#llx", ioreq_results[i].what,
			     (unsigned long long)got,
			     (unsigned long long)ioreq_results[i].want);
	}
	rc = keel_domain_destroy(fd, domid);
	pfd = (struct pollfd){.fd = dfd, .events = POLLIN};
	if (rc || poll(&pfd, 1, 1000) != 1 || !(pfd.revents & POLLHUP))
		fail("destroy %d, then poll %#x (not POLLHUP)", rc,
		     pfd.revents);
	/* The mapping outlives the domain; the page goes with it. */
	if (keel_ioreq_unmap(p))
		fail("munmap of the ioreq page");
	printf("kl-ioreq-dm: PASS (%zu requests, %u results)\n",
	       IOREQ_SCRIPT_LEN, DOMU_NR_RESULTS);
	return 0;
}
