/* SPDX-License-Identifier: MIT */
/*
 * The physical local APIC (Intel SDM vol. 3A ch. 11). Keel uses x2APIC
 * when the CPU has it and xAPIC MMIO otherwise (QEMU TCG has no host
 * x2APIC). The timer uses TSC-deadline mode when present, else one-shot
 * mode with a count derived from the calibrated APIC timer frequency.
 */
#include <keel/irq.h>
#include <keel/io.h>
#include <keel/msr.h>
#include <keel/percpu.h>
#include <keel/traps.h>

#define APIC_BASE_EXTD	   (1ULL << 10)
#define APIC_BASE_EN	   (1ULL << 11)
#define XAPIC_DEFAULT_BASE 0xFEE00000ULL

#define APIC_ID		0x20
#define APIC_EOI	0xB0
#define APIC_SVR	0xF0
#define APIC_ESR	0x280
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_LINT0	0x350
#define APIC_LVT_LINT1	0x360
#define APIC_LVT_ERROR	0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR	0x390
#define APIC_TIMER_DIV	0x3E0

#define SVR_ENABLE	 (1u << 8)
#define LVT_MASKED	 (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_PENDING	 (1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_INIT	 (5u << 8)
#define ICR_STARTUP	 (6u << 8)
#define TIMER_DIV_1	 0xB

static bool use_x2apic;
static bool use_tsc_deadline;
static uint64_t apic_base = XAPIC_DEFAULT_BASE;
static uint64_t apic_timer_khz; /* one-shot count rate with divide-by-1 */

static uint32_t apic_read(uint32_t reg)
{
	if (use_x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio_read32(apic_base + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (use_x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio_write32(apic_base + reg, v);
}

bool lapic_x2apic(void)
{
	return use_x2apic;
}

uint32_t lapic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return use_x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static void lapic_error(struct cpu_regs *regs)
{
	(void)regs;
	apic_write(APIC_ESR, 0);
	printk("cpu%u: local APIC error ESR=%x\n", this_cpu()->cpu,
	       apic_read(APIC_ESR));
}

/* The timer only has to end a guest run or an idle HLT: the scheduler
 * loop looks at what is due. How late it came is kept for debug key 't'
 * and the vCPU loop's stall reports. */
static void lapic_timer_interrupt(struct cpu_regs *regs)
{
	struct percpu *p = this_cpu();
	uint64_t now = rdtsc();

	(void)regs;
	p->timer_late = p->timer_deadline && now > p->timer_deadline
			    ? now - p->timer_deadline
			    : 0;
	p->timer_late_max = MAX(p->timer_late_max, p->timer_late);
	p->timer_deadline = 0;
}

void lapic_init(void)
{
	uint32_t r[4];
	uint64_t base = rdmsr(MSR_APIC_BASE);

	cpuid_count(1, 0, r);
	use_x2apic = r[2] & (1u << 21);
	use_tsc_deadline = r[2] & (1u << 24);
	apic_base = base & 0xFFFFFF000ULL;
	base |= APIC_BASE_EN;
	if (use_x2apic)
		base |= APIC_BASE_EXTD;
	wrmsr(MSR_APIC_BASE, base);

	apic_write(APIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, 4u << 8); /* NMI delivery */
	apic_write(APIC_LVT_ERROR, ERROR_VECTOR);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_TIMER_DIV, TIMER_DIV_1);
	/*
	 * The mode is set once, stopped (initial count 0, or no deadline):
	 * each arm then writes only the count or the deadline, one APIC
	 * access instead of two (a round trip each when nested).
	 */
	apic_write(APIC_TIMER_INIT, 0);
	apic_write(APIC_LVT_TIMER,
		   (use_tsc_deadline ? LVT_TSC_DEADLINE : 0) | TIMER_VECTOR);
	irq_set_handler(ERROR_VECTOR, lapic_error);
	irq_set_handler(TIMER_VECTOR, lapic_timer_interrupt);
}

const char *lapic_timer_mode(void)
{
	return use_tsc_deadline ? "TSC-deadline" : "one-shot";
}

/* Count the APIC timer against the TSC for ~10 ms (TSC calibrated first). */
void lapic_timer_calibrate(void)
{
	uint64_t t0, t1;
	uint32_t c1;

	if (use_tsc_deadline)
		return;
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	apic_write(APIC_TIMER_DIV, TIMER_DIV_1);
	apic_write(APIC_TIMER_INIT, 0xFFFFFFFF);
	t0 = rdtsc();
	udelay(10000);
	c1 = apic_read(APIC_TIMER_CUR);
	t1 = rdtsc();
	apic_write(APIC_TIMER_INIT, 0);
	apic_timer_khz = (uint64_t)(0xFFFFFFFFu - c1) * tsc_khz() / (t1 - t0);
	if (!apic_timer_khz)
		panic("local APIC timer does not count");
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR); /* stopped: count 0 */
	printk("LAPIC timer: %lu kHz (one-shot mode, divide 1)\n",
	       apic_timer_khz);
}

/*
 * The timer only has to fire by `deadline`: one armed for no later and
 * not yet due already does, and firing early costs one exit. Not
 * re-arming it on every VM entry saves an APIC write per exit, a round
 * trip to the host hypervisor when Keel runs nested. One already due
 * whose interrupt has not been taken is armed again: normally its
 * interrupt is only pending (IF=0 here) and the second costs one exit,
 * but QEMU's multi-threaded TCG can hold a due LAPIC timer back until
 * something else wakes its main loop (docs/testing-notes.md).
 */
void lapic_timer_arm(uint64_t deadline)
{
	uint64_t now = rdtsc(), count, armed = this_cpu()->timer_deadline;

	if (armed && armed <= deadline && armed > now)
		return;
	this_cpu()->timer_deadline = deadline;
	if (use_tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, deadline);
		return;
	}
	count =
	    deadline > now ? (deadline - now) * apic_timer_khz / tsc_khz() : 1;
	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu;
	apic_write(APIC_TIMER_INIT, (uint32_t)count);
}

static void icr_wait(void)
{
	if (use_x2apic)
		return; /* x2APIC ICR writes complete synchronously */
	for (unsigned i = 0; i < 1000000; i++) {
		if (!(apic_read(APIC_ICR_LO) & ICR_PENDING))
			return;
		cpu_relax();
	}
}

static void icr_write(uint32_t apic_id, uint32_t lo)
{
	if (use_x2apic) {
		wrmsr(0x830, ((uint64_t)apic_id << 32) | lo);
		return;
	}
	apic_write(APIC_ICR_HI, apic_id << 24);
	apic_write(APIC_ICR_LO, lo);
	icr_wait();
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_write(apic_id, vector);
}

/* INIT-SIPI-SIPI, Intel SDM vol. 3A §8.4.4.1. */
void lapic_send_init_sipi(uint32_t apic_id, uint8_t sipi_page)
{
	icr_write(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		icr_write(apic_id, ICR_STARTUP | sipi_page);
		udelay(200);
	}
}
