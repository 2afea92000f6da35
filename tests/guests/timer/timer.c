/* SPDX-License-Identifier: MIT */
/*
 * timer: Keel's virtual LAPIC timer and paravirtual clock.
 *
 *   1. xAPIC one-shot timer through MMIO at 0xFEE00000 (exercises Keel's
 *      MMIO decoder), before x2APIC is enabled;
 *   2. x2APIC one-shot timer, counted at the CPUID 0x40000010 LAPIC
 *      frequency: fires, and not before the programmed time (measured with
 *      the TSC at the CPUID 0x40000010 TSC frequency);
 *   3. TSC-deadline mode: fires after the deadline, within a bound;
 *      writing 0 disarms it;
 *   4. periodic mode: fires again and again at no less than the period;
 *   5. kvmclock: the pvclock page converts TSC to ns consistently with
 *      the advertised TSC frequency, and the wall clock is plausible;
 *   6. with several CPUs (guest.h, "SMP"; a DomU without ACPI tables
 *      takes cpus=N): the APs are started, and every CPU, the boot CPU
 *      included, arms its own one-shot timer (APs: in xAPIC mode) and then
 *      its own TSC-deadline timer (in x2APIC mode) at the same time as the
 *      others; each interrupt must arrive on the CPU that armed the timer,
 *      once, no earlier than programmed and within the late bound.
 *
 * Every timer may fire up to LATE_BOUND_MS late, or late_ms= from the
 * command line: an emulated machine with several CPUs on a busy host
 * stalls its vCPUs for longer (up to 1.9 s with four emulated CPUs on two
 * loaded host cores), and the guest's TSC runs on meanwhile.
 *
 * Without Keel (no CPUID 0x40000010) the frequencies can be given as
 * tsc_khz= and lapic_khz= on the command line to exercise the guest on
 * other platforms; the missing leaf still fails the test.
 */
#include "apic.h"
#include "guest.h"
#include "pvclock.h"

const char test_name[] = "timer";

#define TIMER_VECTOR	    0xec
#define PERCPU_TIMER_VECTOR 0xed
#define WAKE_VECTOR	    0xee
#define SPURIOUS_VECTOR	    0xff

#define KEEL_CPUID_BASE	  0x40000000
#define KEEL_CPUID_TIMING 0x40000010

#define ONESHOT_MS     10
#define DEADLINE_MS    10
#define PERIOD_MS      10
#define PERIODIC_TICKS 5
/* How late an interrupt may be by default. Guest TSC time keeps running
 * while an emulator is slow to run the guest, so this is generous. */
#define LATE_BOUND_MS 100
/* How long to wait for an interrupt before declaring it lost; late_ms=
 * may not come close to it. */
#define LOST_BOUND_MS	     5000
#define MAX_LATE_BOUND_MS    (LOST_BOUND_MS / 2)
#define KVMCLOCK_INTERVAL_MS 20
/* Per-CPU timers: the programmed time. */
#define PERCPU_TIMER_MS 10
/* How long the boot CPU waits for every AP's results, and how often it
 * wakes to look. */
#define PERCPU_WAIT_MS 10000
#define WAKE_PERIOD_MS 5
/* 2020-01-01T00:00:00Z: a wall clock before this is not the real time. */
#define PLAUSIBLE_EPOCH_SECONDS 1577836800u

static uint32_t tsc_khz, lapic_khz;
static uint32_t late_bound_ms = LATE_BOUND_MS;
static volatile unsigned int timer_ticks;
static volatile uint64_t tick_tsc[PERIODIC_TICKS];

static struct pvclock_vcpu_time_info pvclock_page __attribute__((aligned(64)));
static struct pvclock_wall_clock wall_clock __attribute__((aligned(16)));

static void timer_interrupt(uint8_t vector)
{
	uint64_t now = rdtsc();

	(void)vector;
	if (timer_ticks < PERIODIC_TICKS)
		tick_tsc[timer_ticks] = now;
	timer_ticks = timer_ticks + 1;
	apic_eoi();
}

static void spurious_interrupt(uint8_t vector)
{
	/* A spurious interrupt needs no EOI (SDM vol. 3A §11.9). */
	(void)vector;
}

static uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * tsc_khz;
}

/* Opens interrupt windows until `ticks` timer interrupts have arrived or
 * `timeout_ms` of TSC time has passed since `start`. */
static bool wait_ticks(unsigned int ticks, uint64_t start, uint64_t timeout_ms)
{
	while (timer_ticks < ticks) {
		if (rdtsc() - start > ms_to_tsc(timeout_ms))
			return false;
		irq_window();
	}
	return true;
}

static void tsc_delay_ms(uint64_t ms)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < ms_to_tsc(ms))
		cpu_relax();
}

static void timer_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | TIMER_VECTOR);
	apic_write(APIC_TIMER_INITIAL_COUNT, 0);
}

static bool read_timing_leaf(void)
{
	struct cpuid_regs base = cpuid(KEEL_CPUID_BASE);
	bool keel =
	    base.eax >= KEEL_CPUID_TIMING && !memcmp(&base.ebx, "Keel", 4) &&
	    !memcmp(&base.ecx, "Keel", 4) && !memcmp(&base.edx, "Keel", 4);

	if (check(keel, "CPUID 0x40000000 is Keel's with leaf 0x40000010")) {
		struct cpuid_regs timing = cpuid(KEEL_CPUID_TIMING);
		tsc_khz = timing.eax;
		lapic_khz = timing.ebx;
	} else {
		uint64_t value;
		if (cmdline_u64("tsc_khz", &value))
			tsc_khz = (uint32_t)value;
		if (cmdline_u64("lapic_khz", &value))
			lapic_khz = (uint32_t)value;
	}
	printf("timer: TSC %u kHz, LAPIC timer %u kHz\n", tsc_khz, lapic_khz);
	/* Counts for up to 100 ms must fit the 32-bit initial count. */
	return check(tsc_khz != 0 && lapic_khz != 0 && lapic_khz < 40000000,
		     "TSC and LAPIC timer frequencies are known and usable");
}

/* Arms a one-shot timer for ONESHOT_MS and checks when it fires. */
static bool oneshot_test(const char *mode)
{
	uint32_t count = lapic_khz * ONESHOT_MS;

	timer_ticks = 0;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);
	uint64_t start = rdtsc();
	apic_write(APIC_TIMER_INITIAL_COUNT, count);
	uint32_t current = apic_read(APIC_TIMER_CURRENT_COUNT);
	/* 0 only if the whole period passed before the read (a stalled
	 * emulator). */
	bool expired = rdtsc() - start >= ms_to_tsc(ONESHOT_MS);
	check(current <= count && (current > 0 || expired),
	      "%s one-shot: current count 0x%x counts down from 0x%x", mode,
	      current, count);

	bool fired = wait_ticks(1, start, LOST_BOUND_MS);
	if (!check(fired, "%s one-shot: interrupt arrived", mode)) {
		timer_stop();
		return false;
	}
	uint64_t elapsed = tick_tsc[0] - start;
	uint64_t programmed = ms_to_tsc(ONESHOT_MS);
	printf("timer: %s one-shot: programmed %lu us, fired after %lu us\n",
	       mode, tsc_to_us(programmed), tsc_to_us(elapsed));
	bool ok = check(elapsed >= programmed,
			"%s one-shot: fired no earlier than programmed", mode);
	ok &= check(elapsed <= programmed + ms_to_tsc(late_bound_ms),
		    "%s one-shot: fired within %u ms of the programmed time",
		    mode, late_bound_ms);

	tsc_delay_ms(2 * ONESHOT_MS);
	irq_window();
	ok &= check(timer_ticks == 1, "%s one-shot: fired once (%u times)",
		    mode, timer_ticks);
	ok &= check(apic_read(APIC_TIMER_CURRENT_COUNT) == 0,
		    "%s one-shot: current count is 0 after expiry", mode);
	timer_stop();
	return ok;
}

static void xapic_test(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	printf("timer: IA32_APIC_BASE = 0x%lx\n", base);
	if (!check((base & APIC_BASE_EN) && !(base & APIC_BASE_EXTD) &&
		       (base & APIC_BASE_ADDR_MASK) == XAPIC_DEFAULT_BASE,
		   "APIC starts enabled in xAPIC mode at 0x%llx",
		   XAPIC_DEFAULT_BASE))
		return;
	apic_use_mode(APIC_MODE_XAPIC);
	uint32_t initial_id = cpuid(1).ebx >> 24;
	check(apic_id() == initial_id,
	      "xAPIC ID %u matches CPUID.1:EBX[31:24] %u", apic_id(),
	      initial_id);
	apic_software_enable(SPURIOUS_VECTOR);
	oneshot_test("xAPIC");
}

static bool x2apic_enable(void)
{
	if (!check(cpuid(1).ecx & (1u << 21), "CPUID shows x2APIC"))
		return false;
	uint32_t exinfo = apic_enable_x2apic();
	if (!check(!exinfo_faulted(exinfo),
		   "enabling x2APIC in IA32_APIC_BASE does not fault "
		   "(vector %u)",
		   exinfo_vector(exinfo)))
		return false;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	check((base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
		  (APIC_BASE_EN | APIC_BASE_EXTD),
	      "IA32_APIC_BASE reads back EN and EXTD (0x%lx)", base);

	uint32_t initial_id = cpuid(1).ebx >> 24;
	uint32_t version = apic_read(APIC_VERSION);
	printf("timer: x2APIC ID %u, version 0x%x\n", apic_id(), version);
	check(apic_id() == initial_id,
	      "x2APIC ID %u matches CPUID.1:EBX[31:24] %u", apic_id(),
	      initial_id);
	/* Integrated APICs report versions 0x10..0x15 (SDM §11.4.8). */
	check((version & 0xff) >= 0x10 && (version & 0xff) <= 0x15,
	      "x2APIC version register 0x%x is an integrated APIC's", version);
	apic_software_enable(SPURIOUS_VECTOR);
	return true;
}

static void tsc_deadline_test(void)
{
	if (!check(cpuid(1).ecx & (1u << 24), "CPUID shows TSC-deadline"))
		return;

	timer_ticks = 0;
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | TIMER_VECTOR);
	uint64_t deadline = rdtsc() + ms_to_tsc(DEADLINE_MS);
	uint32_t exinfo = wrmsr_safe(MSR_IA32_TSC_DEADLINE, deadline);
	if (!check(!exinfo_faulted(exinfo),
		   "TSC-deadline: writing IA32_TSC_DEADLINE does not fault")) {
		timer_stop();
		return;
	}
	/* Measured from now: the deadline itself lies in the future. */
	bool fired = wait_ticks(1, rdtsc(), DEADLINE_MS + LOST_BOUND_MS);
	if (check(fired, "TSC-deadline: interrupt arrived")) {
		int64_t late = (int64_t)(tick_tsc[0] - deadline);
		printf("timer: TSC-deadline: fired %ld us after the deadline\n",
		       late * 1000 / (int64_t)tsc_khz);
		check(late >= 0, "TSC-deadline: fired after the deadline");
		check(late <= (int64_t)ms_to_tsc(late_bound_ms),
		      "TSC-deadline: fired within %u ms of the deadline",
		      late_bound_ms);
	}

	/*
	 * Writing 0 disarms the timer (SDM vol. 3A §11.5.4.1). Only a disarm
	 * that lands before the deadline shows it: a vCPU stalled between the
	 * two writes (the host may stall it for longer than DEADLINE_MS) sees
	 * the timer expire first, rightly, and tries again.
	 */
	bool in_time = false;
	for (int attempt = 0; attempt < 5 && !in_time; attempt++) {
		timer_ticks = 0;
		uint64_t deadline = rdtsc() + ms_to_tsc(DEADLINE_MS);
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
		in_time = rdtsc() < deadline;
		if (!in_time)
			wait_ticks(1, rdtsc(), LOST_BOUND_MS);
	}
	if (check(in_time,
		  "TSC-deadline: a disarm landed before its deadline")) {
		wait_ticks(1, rdtsc(), 3 * DEADLINE_MS);
		check(timer_ticks == 0,
		      "TSC-deadline: writing 0 disarms the timer");
	}
	timer_stop();
}

static void periodic_test(void)
{
	uint32_t count = lapic_khz * PERIOD_MS;

	timer_ticks = 0;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | TIMER_VECTOR);
	uint64_t start = rdtsc();
	apic_write(APIC_TIMER_INITIAL_COUNT, count);
	/* HLT between ticks: each tick must wake the halted vCPU. */
	while (timer_ticks < PERIODIC_TICKS &&
	       rdtsc() - start < ms_to_tsc(LOST_BOUND_MS))
		irq_wait();
	timer_stop();

	if (!check(timer_ticks >= PERIODIC_TICKS,
		   "periodic: %u interrupts arrived (need %u)", timer_ticks,
		   PERIODIC_TICKS))
		return;
	uint64_t elapsed = tick_tsc[PERIODIC_TICKS - 1] - start;
	printf("timer: periodic: %u ticks of %u ms took %lu us\n",
	       PERIODIC_TICKS, PERIOD_MS, tsc_to_us(elapsed));
	check(elapsed >= PERIODIC_TICKS * ms_to_tsc(PERIOD_MS),
	      "periodic: ticks are no closer than the period");
}

static void kvmclock_test(void)
{
	struct pvclock_snapshot first, second;
	uint32_t exinfo =
	    wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW,
		       (uint64_t)&pvclock_page | KVM_SYSTEM_TIME_ENABLE);

	if (!check(!exinfo_faulted(exinfo),
		   "kvmclock: MSR_KVM_SYSTEM_TIME_NEW accepts the page")) {
		return;
	}
	if (!check(pvclock_snapshot(&pvclock_page, &first) == 0,
		   "kvmclock: the page has a stable even version"))
		goto out;
	printf("timer: kvmclock: version %u tsc_timestamp %lu system_time %lu "
	       "mul 0x%x shift %d flags 0x%x\n",
	       first.version, first.tsc_timestamp, first.system_time,
	       first.tsc_to_system_mul, first.tsc_shift, first.flags);
	if (!check(first.tsc_to_system_mul != 0,
		   "kvmclock: the hypervisor filled in the page"))
		goto out;

	/* One second of TSC ticks must scale to one second, to 0.1 %. */
	uint64_t one_second = pvclock_scale_delta(
	    (uint64_t)tsc_khz * 1000, first.tsc_to_system_mul, first.tsc_shift);
	check(one_second >= 999000000ull && one_second <= 1001000000ull,
	      "kvmclock: mul/shift turn %u kHz of TSC into %lu ns per second",
	      tsc_khz, one_second);

	uint64_t tsc1 = rdtsc();
	uint64_t ns1 = pvclock_ns_at(&first, tsc1);
	tsc_delay_ms(KVMCLOCK_INTERVAL_MS);
	if (!check(pvclock_snapshot(&pvclock_page, &second) == 0,
		   "kvmclock: the page is still stable"))
		goto out;
	uint64_t tsc2 = rdtsc();
	uint64_t ns2 = pvclock_ns_at(&second, tsc2);
	uint64_t expected = (tsc2 - tsc1) * 1000000 / tsc_khz;
	uint64_t tolerance = expected / 100 + 100000;
	printf("timer: kvmclock: %lu ns passed while the TSC says %lu ns\n",
	       ns2 - ns1, expected);
	check(ns2 > ns1, "kvmclock: system time advances");
	check(ns2 - ns1 + tolerance >= expected &&
		  ns2 - ns1 <= expected + tolerance,
	      "kvmclock: system time advances with the TSC (within 1%%)");

	exinfo = wrmsr_safe(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)&wall_clock);
	if (check(!exinfo_faulted(exinfo),
		  "kvmclock: MSR_KVM_WALL_CLOCK_NEW accepts the structure")) {
		printf(
		    "timer: kvmclock: wall clock version %u sec %u nsec %u\n",
		    wall_clock.version, wall_clock.sec, wall_clock.nsec);
		check(!(wall_clock.version & 1) &&
			  wall_clock.sec >= PLAUSIBLE_EPOCH_SECONDS &&
			  wall_clock.nsec < 1000000000u,
		      "kvmclock: wall clock is a plausible time of day");
	}
out:
	/* Stop the hypervisor writing into the guest. */
	wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, 0);
}

/* What one CPU measured of its own timers (percpu_timers()). */
struct percpu_result {
	bool oneshot_fired, deadline_fired, x2apic;
	uint64_t oneshot_elapsed;   /* TSC ticks from arming to interrupt */
	int64_t deadline_late;	    /* TSC ticks after the deadline */
	unsigned int oneshot_count; /* interrupts in twice the period */
	unsigned int deadline_count;
	volatile bool done;
};

static struct percpu_result percpu_results[GUEST_MAX_CPUS];
static volatile unsigned int percpu_ticks[GUEST_MAX_CPUS];
static volatile uint64_t percpu_tick_tsc[GUEST_MAX_CPUS];

/* Counts the interrupt on the CPU that takes it: a timer interrupt on the
 * wrong CPU shows up as a count that is not 1 on both. */
static void percpu_timer_interrupt(uint8_t vector)
{
	unsigned int cpu = cpu_index();
	uint64_t now = rdtsc();

	(void)vector;
	if (percpu_ticks[cpu] == 0)
		percpu_tick_tsc[cpu] = now;
	percpu_ticks[cpu] = percpu_ticks[cpu] + 1;
	apic_eoi();
}

/* Halts until this CPU's timer interrupt has arrived. A lost interrupt
 * leaves the CPU halted: the boot CPU then reports it missing. */
static void percpu_wait_tick(unsigned int cpu)
{
	while (percpu_ticks[cpu] == 0)
		irq_wait();
}

/* One-shot, then TSC-deadline, each counted for twice its period. */
static void percpu_timers(unsigned int cpu)
{
	struct percpu_result *r = &percpu_results[cpu];
	uint64_t programmed = ms_to_tsc(PERCPU_TIMER_MS), start, deadline;

	apic_software_enable(SPURIOUS_VECTOR);
	percpu_ticks[cpu] = 0;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER,
		   APIC_LVT_TIMER_ONESHOT | PERCPU_TIMER_VECTOR);
	start = rdtsc();
	apic_write(APIC_TIMER_INITIAL_COUNT, lapic_khz * PERCPU_TIMER_MS);
	percpu_wait_tick(cpu);
	r->oneshot_fired = true;
	r->oneshot_elapsed = percpu_tick_tsc[cpu] - start;
	tsc_delay_ms(2 * PERCPU_TIMER_MS);
	irq_window();
	r->oneshot_count = percpu_ticks[cpu];
	timer_stop();

	/* The APs are still in xAPIC mode: TSC-deadline goes through the
	 * x2APIC. */
	r->x2apic = apic_current_mode() == APIC_MODE_X2APIC ||
		    !exinfo_faulted(apic_enable_x2apic());
	if (r->x2apic) {
		percpu_ticks[cpu] = 0;
		apic_write(APIC_LVT_TIMER,
			   APIC_LVT_TIMER_TSC_DEADLINE | PERCPU_TIMER_VECTOR);
		deadline = rdtsc() + programmed;
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		percpu_wait_tick(cpu);
		r->deadline_fired = true;
		r->deadline_late = (int64_t)(percpu_tick_tsc[cpu] - deadline);
		tsc_delay_ms(2 * PERCPU_TIMER_MS);
		irq_window();
		r->deadline_count = percpu_ticks[cpu];
		timer_stop();
	}
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

static void ap_main(unsigned int cpu)
{
	percpu_timers(cpu);
}

static void wake_interrupt(uint8_t vector)
{
	(void)vector;
	apic_eoi();
}

static bool all_done(unsigned int cpus)
{
	for (unsigned int i = 0; i < cpus; i++)
		if (!__atomic_load_n(&percpu_results[i].done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* The boot CPU sleeps between periodic wake-ups, so on a shared physical
 * CPU it leaves the time to the APs. */
static void wait_for_aps(unsigned int cpus)
{
	uint64_t start = rdtsc();

	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | WAKE_VECTOR);
	apic_write(APIC_TIMER_INITIAL_COUNT, lapic_khz * WAKE_PERIOD_MS);
	while (!all_done(cpus) && rdtsc() - start < ms_to_tsc(PERCPU_WAIT_MS))
		irq_wait();
	timer_stop();
}

static void report_percpu(unsigned int cpu)
{
	const struct percpu_result *r = &percpu_results[cpu];
	uint64_t programmed = ms_to_tsc(PERCPU_TIMER_MS);

	if (!check(r->done, "cpu%u: timers finished within %u ms", cpu,
		   PERCPU_WAIT_MS)) {
		printf("timer: cpu%u: one-shot %s, TSC-deadline %s\n", cpu,
		       r->oneshot_fired ? "fired" : "never fired",
		       r->deadline_fired ? "fired" : "never fired");
		return;
	}
	printf("timer: cpu%u: one-shot programmed %lu us, fired after %lu us\n",
	       cpu, tsc_to_us(programmed), tsc_to_us(r->oneshot_elapsed));
	check(r->oneshot_elapsed >= programmed &&
		  r->oneshot_elapsed <= programmed + ms_to_tsc(late_bound_ms),
	      "cpu%u: one-shot fired on cpu%u, no earlier than programmed "
	      "and within %u ms of it",
	      cpu, cpu, late_bound_ms);
	check(r->oneshot_count == 1, "cpu%u: one-shot fired once (%u times)",
	      cpu, r->oneshot_count);
	if (!check(r->x2apic, "cpu%u: switched to x2APIC mode", cpu))
		return;
	printf("timer: cpu%u: TSC-deadline fired %ld us after the deadline\n",
	       cpu, r->deadline_late * 1000 / (int64_t)tsc_khz);
	check(r->deadline_late >= 0 &&
		  r->deadline_late <= (int64_t)ms_to_tsc(late_bound_ms),
	      "cpu%u: TSC-deadline fired on cpu%u, after the deadline and "
	      "within %u ms of it",
	      cpu, cpu, late_bound_ms);
	check(r->deadline_count == 1,
	      "cpu%u: TSC-deadline fired once (%u times)", cpu,
	      r->deadline_count);
}

/* Every CPU's own timers at once (item 6 of the file comment). */
static void percpu_test(void)
{
	unsigned int cpus = cpu_count();

	if (cpus == 1)
		return;
	irq_set_handler(PERCPU_TIMER_VECTOR, percpu_timer_interrupt);
	irq_set_handler(WAKE_VECTOR, wake_interrupt);
	unsigned int online = smp_start_aps(ap_main);
	check(online == cpus, "%u of %u CPUs came online", online, cpus);
	percpu_timers(0);
	wait_for_aps(online);
	for (unsigned int cpu = 0; cpu < online; cpu++)
		report_percpu(cpu);
}

void test_main(void)
{
	legacy_pic_mask_all();
	irq_set_handler(TIMER_VECTOR, timer_interrupt);
	irq_set_handler(SPURIOUS_VECTOR, spurious_interrupt);
	if (!read_timing_leaf())
		test_finish();
	uint64_t late_ms;
	if (cmdline_u64("late_ms", &late_ms) && late_ms > 0 &&
	    late_ms <= MAX_LATE_BOUND_MS)
		late_bound_ms = (uint32_t)late_ms;
	printf("timer: timers may fire up to %u ms late\n", late_bound_ms);

	xapic_test();
	if (x2apic_enable()) {
		oneshot_test("x2APIC");
		tsc_deadline_test();
		periodic_test();
	}
	kvmclock_test();
	percpu_test();
	test_finish();
}
