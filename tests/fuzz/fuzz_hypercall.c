/* SPDX-License-Identifier: MIT */
/*
 * Dom0's (and a DomU's) hypercalls through the real table
 * (hypervisor/common/hypercall.c) and validators (common/domctl.c,
 * trace_ctl.c): any number, any registers, any contents of the argument
 * buffer in the caller's RAM. The domains are the real ones: domain.c
 * creates and destroys them with their virtual platform (vintr.c and the
 * devices it wires), vcpu.c wakes their vCPUs, the credit scheduler
 * (sched/credit.c, runq.c) queues them, mem_extent.c, p2m.c, buddy.c and
 * heap.c hold their memory, boot_state.c, dom_console.c, ioreq.c and
 * domu_platform.c take what Dom0 sets up. The harness runs as physical
 * CPU 0 (its GS base is that CPU's per-CPU area, as Keel's is) of three.
 *
 * What stays outside is hardware or Keel's boot: the vendor backend's
 * per-vCPU state (vcpu_create/destroy count here), the IPIs to other
 * CPUs (counted), the vCPU loop's waits (nothing runs: they return), the
 * log ring (a fixed text), the host memory map and clock (fixed here).
 * The guest CPUID policy is built from this machine's CPUID.
 *
 * Input: calls until the input ends (at most 32), each: u8 call (bits
 * 0-4: one of the 21 hypercalls, or 21-31 a raw 64-bit number that
 * follows; bit 5: a DomU makes it; bits 6-7 how many 128-byte blocks of
 * the input go to the argument buffer, 0-3), then five arguments, each a
 * shape byte and its value (a small number, a DomU's id (1-3), the
 * argument buffer plus an offset, a page of Dom0's RAM, an address near
 * the end of its RAM, any 16-, 32- or 64-bit number).
 *
 * Checks after each call: the result is a value or an errno; a DomU gets
 * -EPERM for every privileged call and changes nothing; Dom0 is never
 * destroyed or stopped; every domain in the table is whole (its id, its
 * vCPUs created and linked, a valid unique name, not dying); the pages a
 * DomU holds (memory, console ring, ioreq page) are Dom0's RAM, and no
 * two of them, of the same DomU or of two, overlap; the backend
 * holds exactly the live vCPUs. After the input every DomU is destroyed
 * through the hypercall and tracing turned off: the frame allocator and
 * the heap must be back where they started.
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdbool.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <keel/console.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/hypercall.h>
#include <keel/irq.h>
#include <keel/lib.h>
#include <keel/mem_extent.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/sched_policy.h>
#include <keel/trace.h>
#include <keel/vcpu_loop.h>
#include <keel/x86.h>
#include <public/keel.h>
#include "npt_ops.h"
#include "shim.h"

FUZZ_SHIM_INIT()

#define DOM0_RAM  MiB(16)
#define POOL_BASE GiB(1)
#define POOL_SIZE MiB(16)
#define BUF_GPA	  0x200000ull /* the argument buffer */
#define DONOR_GPA MiB(4)      /* Dom0 pages arguments point at */
#define MAX_CALLS 32
#define BUF_BLOCK 128 /* input bytes per argument-buffer block */
#define NR_CPUS	  3

static const uint64_t calls[] = {
    KEEL_HC_VERSION,	     KEEL_HC_PLATFORM_INFO, KEEL_HC_DOMAIN_CREATE,
    KEEL_HC_DOMAIN_DESTROY,  KEEL_HC_DOMAIN_PAUSE,  KEEL_HC_DOMAIN_UNPAUSE,
    KEEL_HC_DOMAIN_START,    KEEL_HC_DOMAIN_INFO,   KEEL_HC_MEMORY_MAP,
    KEEL_HC_VCPU_BOOT_STATE, KEEL_HC_VCPU_AFFINITY, KEEL_HC_VCPU_INFO,
    KEEL_HC_SCHED_SET,	     KEEL_HC_CONSOLE_SETUP, KEEL_HC_CONSOLE_KICK,
    KEEL_HC_DMESG,	     KEEL_HC_IOREQ_SETUP,   KEEL_HC_IOREQ_RANGE,
    KEEL_HC_IOREQ_DONE,	     KEEL_HC_IRQ_LINE,	    KEEL_HC_TRACE,
};

/* What the calls read from the rest of Keel: a machine of three CPUs. */
unsigned nr_cpus_online = NR_CPUS;
struct percpu percpu_area[MAX_CPUS];
struct e820_map host_e820;
const struct sched_policy *sched;
static struct dom_extent dom0_ram = {0, 0, DOM0_RAM};
static struct domain *dom0;
static unsigned backend_vcpus, ipis;

bool memmap_is_ram(uint64_t pa)
{
	return e820_range_is(&host_e820, pa, 1, E820_RAM);
}

uint64_t tsc_khz(void)
{
	return 2994321;
}

uint64_t now_ns(void)
{
	return 1000;
}

void dom0_notify(void)
{
}

/* Keel's log ring lives with its serial console (console.c). */
size_t console_ring_read_lines(char *buf, size_t size, bool clear)
{
	static const char text[] = "(keel) one\n(keel) two\n";
	size_t n = MIN(size, sizeof(text) - 1);

	(void)clear;
	memcpy(buf, text + sizeof(text) - 1 - n, n);
	return n;
}

void console_guest_putc(unsigned domid, char c)
{
	(void)domid, (void)c;
}

void console_guest_line(const char *name, const char *line, size_t len)
{
	(void)name, (void)line, (void)len;
}

void console_input_resume(struct domain *d)
{
	(void)d;
}

/* Nothing runs guests here: every wait for another CPU is over at once. */
void vcpu_loop_wait_step(void)
{
}

void vcpu_loop_quiesce(void)
{
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	(void)apic_id, (void)vector;
	ipis++;
}

void gsi_guest_eoi(unsigned gsi)
{
	(void)gsi;
}

static int backend_vcpu_create(struct vcpu *v)
{
	(void)v;
	backend_vcpus++;
	return 0;
}

static void backend_vcpu_destroy(struct vcpu *v)
{
	(void)v;
	FUZZ_CHECK(backend_vcpus > 0);
	backend_vcpus--;
}

static void backend_startup_ipi(struct vcpu *v, uint8_t vector)
{
	(void)v, (void)vector;
}

static void sched_kick(unsigned cpu)
{
	FUZZ_CHECK(cpu < NR_CPUS);
}

static void setup(void)
{
	static struct hvm_ops ops;
	const struct sched_config cfg = {
	    .nr_cpus = NR_CPUS,
	    .timeslice_ns = sched_credit.default_timeslice_ns,
	    .ratelimit_ns = sched_credit.default_ratelimit_ns,
	    .kick = sched_kick};

	/* this_cpu() reads %gs:0: the harness is CPU 0. */
	for (unsigned c = 0; c < NR_CPUS; c++) {
		percpu_area[c].self = &percpu_area[c];
		percpu_area[c].cpu = c;
		percpu_area[c].apic_id = c;
		percpu_area[c].online = true;
	}
	FUZZ_CHECK(syscall(SYS_arch_prctl, ARCH_SET_GS, &percpu_area[0]) == 0);
	ops = *hvm;
	ops.vcpu_create = backend_vcpu_create;
	ops.vcpu_destroy = backend_vcpu_destroy;
	ops.startup_ipi = backend_startup_ipi;
	hvm = &ops;
	sched = &sched_credit;
	guest_cpu_policy_init(0); /* from this machine's CPUID */
	FUZZ_CHECK(sched_credit.init(&cfg) == 0);

	shim_map_phys(0, DOM0_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	e820_add(&host_e820, 0, 0x9F000, E820_RAM);
	e820_add(&host_e820, MiB(1), DOM0_RAM - MiB(1), E820_RAM);
	e820_add(&host_e820, POOL_BASE, POOL_SIZE, E820_RAM);
	e820_add(&host_e820, 0xFEC00000, 0x1000, E820_RESERVED);

	/* Dom0 as boot_domains.c leaves it: identity-mapped RAM, running. */
	dom0 = domain_create(DOM0_ID, "Domain-0", true, 2);
	FUZZ_CHECK(dom0);
	dom0->nr_extents = 1;
	dom0->extents = &dom0_ram;
	FUZZ_CHECK(p2m_map(dom0, 0, 0, DOM0_RAM, P2M_RWX, false) == 0);
	dom0->state = DOM_RUNNING;
}

static struct domain *first_domu(void)
{
	for (unsigned i = 1; i < MAX_DOMAINS; i++)
		if (domains[i])
			return domains[i];
	return NULL;
}

static uint64_t pick_arg(struct fuzz_input *in)
{
	uint8_t shape = fuzz_u8(in);

	switch (shape % 9) {
	case 0:
		return fuzz_u8(in) % 8;
	case 1: /* DomUs get the lowest free ids */
		return 1 + fuzz_u8(in) % 3;
	case 2:
		return BUF_GPA + fuzz_u8(in);
	case 3: /* 1 MiB of Dom0's RAM, by pages */
		return DONOR_GPA + (uint64_t)fuzz_u8(in) * PAGE_SIZE;
	case 4:
		return DOM0_RAM - fuzz_u16(in);
	case 5:
		return fuzz_u16(in);
	case 6:
		return fuzz_u32(in);
	case 7:
		return fuzz_u64(in);
	default: /* the size of a structure or a ring */
		return fuzz_u8(in) % 2 ? KiB(4) << (fuzz_u8(in) % 5)
				       : (uint64_t)fuzz_u8(in) * 8;
	}
}

static bool name_valid(const char *name)
{
	size_t n = strnlen(name, DOMAIN_NAME_MAX);

	if (!n || n == DOMAIN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789._-",
			name[i]))
			return false;
	return true;
}

/* Dom0 pages a DomU holds: its memory, then its console ring and ioreq
 * page; n counts them. */
static struct dom_extent domu_page(const struct domain *d, unsigned i,
				   unsigned *n)
{
	struct dom_extent rings[2];
	unsigned r = 0;

	if (d->console.hpa)
		rings[r++] = (struct dom_extent){
		    0, d->console.hpa,
		    KEEL_CONSOLE_OUT_OFFSET + (uint64_t)d->console.out_size};
	if (d->ioreq.hpa)
		rings[r++] =
		    (struct dom_extent){0, d->ioreq.hpa, KEEL_IOREQ_PAGE_SIZE};
	*n = d->nr_extents + r;
	if (i < d->nr_extents)
		return d->extents[i];
	return i < *n ? rings[i - d->nr_extents] : (struct dom_extent){0};
}

/* A DomU's pages are Dom0's RAM and nobody else's, and its own once. */
static void check_pages(const struct domain *d)
{
	unsigned n, m;

	domu_page(d, 0, &n);
	for (unsigned i = 0; i < n; i++) {
		struct dom_extent a = domu_page(d, i, &n);

		FUZZ_CHECK(domain_owns_ram(dom0, a.hpa, a.len));
		for (unsigned j = i + 1; j < n; j++) {
			struct dom_extent b = domu_page(d, j, &n);

			FUZZ_CHECK(!ranges_overlap(a.hpa, a.len, b.hpa, b.len));
		}
		for (unsigned id = d->id + 1; id < MAX_DOMAINS; id++) {
			if (!domains[id])
				continue;
			domu_page(domains[id], 0, &m);
			for (unsigned j = 0; j < m; j++) {
				struct dom_extent b =
				    domu_page(domains[id], j, &m);

				FUZZ_CHECK(!ranges_overlap(a.hpa, a.len, b.hpa,
							   b.len));
			}
		}
	}
}

static void check_domains(void)
{
	unsigned vcpus = 0;

	FUZZ_CHECK(domains[DOM0_ID] == dom0);
	FUZZ_CHECK(dom0->state == DOM_RUNNING && !dom0->dying);
	for (unsigned i = 0; i < MAX_DOMAINS; i++) {
		struct domain *d = domains[i];

		if (!d)
			continue;
		FUZZ_CHECK(d->id == i && !d->dying);
		FUZZ_CHECK(d->nr_vcpus >= 1 && d->nr_vcpus <= MAX_VCPUS);
		FUZZ_CHECK(name_valid(d->name) || d == dom0);
		for (unsigned j = 0; j < d->nr_vcpus; j++)
			FUZZ_CHECK(d->vcpus[j] && d->vcpus[j]->dom == d &&
				   d->vcpus[j]->id == j);
		vcpus += d->nr_vcpus;
		for (unsigned j = i + 1; j < MAX_DOMAINS; j++)
			FUZZ_CHECK(!domains[j] ||
				   strcmp(domains[j]->name, d->name));
		if (d == dom0)
			continue;
		FUZZ_CHECK(!d->privileged);
		check_pages(d);
	}
	FUZZ_CHECK(vcpus == backend_vcpus);
}

static int64_t call(struct vcpu *v, uint64_t nr, const uint64_t a[5])
{
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RAX] = nr;
	v->gpr[GPR_RDI] = a[0];
	v->gpr[GPR_RSI] = a[1];
	v->gpr[GPR_RDX] = a[2];
	v->gpr[GPR_R10] = a[3];
	v->gpr[GPR_R8] = a[4];
	return (int64_t)hypercall_dispatch(v);
}

static bool is_errno(int64_t rc)
{
	return rc < 0 && rc >= -4095;
}

/* Every DomU destroyed and tracing off, as Dom0's toolstack would. */
static void tear_down(void)
{
	static const uint64_t trace_off[5] = {KEEL_TRACE_OP_DISABLE};

	for (unsigned i = 1; i < MAX_DOMAINS; i++)
		if (domains[i]) {
			uint64_t a[5] = {i};

			FUZZ_CHECK(call(dom0->vcpus[0], KEEL_HC_DOMAIN_DESTROY,
					a) == 0);
			FUZZ_CHECK(!domains[i]);
		}
	call(dom0->vcpus[0], KEEL_HC_TRACE, trace_off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint64_t free_pages, heap_bytes, dom0_p2m;
	struct fuzz_input fi = fuzz_input(data, size);

	if (!ready) {
		setup();
		free_pages = frames_free_pages();
		heap_bytes = heap_bytes_in_use();
		dom0_p2m = dom0->p2m_pages;
		ready = true;
	}
	/* What earlier inputs left where the arguments point. */
	memset(phys_to_virt(BUF_GPA), 0, PAGE_SIZE);
	memset(phys_to_virt(DONOR_GPA), 0, MiB(1));
	memset(phys_to_virt(DOM0_RAM - KiB(64)), 0, KiB(64));

	for (unsigned n = 0; n < MAX_CALLS && fi.left; n++) {
		uint8_t sel = fuzz_u8(&fi);
		uint64_t nr = sel % 32 < ARRAY_SIZE(calls) ? calls[sel % 32]
							   : fuzz_u64(&fi);
		struct domain *domu = sel & 32 ? first_domu() : NULL;
		struct vcpu *caller = domu ? domu->vcpus[0] : dom0->vcpus[0];
		uint64_t a[5], pages;
		unsigned nr_domains = 0;
		int64_t rc;

		fuzz_bytes(&fi, phys_to_virt(BUF_GPA), (sel >> 6) * BUF_BLOCK);
		for (unsigned i = 0; i < 5; i++)
			a[i] = pick_arg(&fi);
		for (unsigned i = 0; i < MAX_DOMAINS; i++)
			nr_domains += domains[i] != NULL;
		pages = frames_free_pages();

		rc = call(caller, nr, a);

		FUZZ_CHECK(rc >= 0 || is_errno(rc));
		if (domu && nr != KEEL_HC_VERSION) {
			FUZZ_CHECK(rc == -EPERM || rc == -ENOSYS);
			FUZZ_CHECK(frames_free_pages() == pages);
		}
		for (unsigned i = 0; i < MAX_DOMAINS; i++)
			nr_domains -= domains[i] != NULL;
		if (domu)
			FUZZ_CHECK(nr_domains == 0);
		check_domains();
	}

	tear_down();
	check_domains();
	FUZZ_CHECK(dom0->p2m_pages >= dom0_p2m);
	FUZZ_CHECK(frames_free_pages() + (dom0->p2m_pages - dom0_p2m) ==
		   free_pages);
	FUZZ_CHECK(heap_bytes_in_use() == heap_bytes);
	return 0;
}
