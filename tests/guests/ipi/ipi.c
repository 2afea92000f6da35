/* SPDX-License-Identifier: MIT */
/*
 * ipi: inter-processor interrupts between the guest's CPUs.
 *
 * The guest starts its APs (guest.h, "SMP"; a DomU without ACPI tables
 * takes cpus=N) and plays ping-pong between CPU 0 and CPU 1: CPU 0 sends
 * a fixed IPI to CPU 1, whose handler answers with a fixed IPI to CPU 0,
 * and CPU 0 waits (halted) for the answer before the next round. In turn:
 *
 *   1. xAPIC, physical destination (APIC ID), ROUND_TRIPS rounds;
 *   2. xAPIC, logical destination (flat model, one LDR bit per CPU);
 *   3. x2APIC, physical destination (32-bit APIC ID), after every CPU
 *      switched itself to x2APIC mode;
 *   4. x2APIC, logical destination (cluster and bit from each CPU's own
 *      read-only LDR, which must follow SDM vol. 3A §11.12.10.2);
 *   5. NMI IPIs to CPU 1, answered with a fixed IPI from its NMI handler.
 *
 * Every answer must reach CPU 0 before a one-shot LAPIC timer of
 * IPI_BOUND_MS, armed on CPU 0 with the ping, fires; each ping must arrive
 * once on CPU 1 and each pong once on CPU 0 with the round's sequence
 * number; no other CPU may see any of them, and no round may see its
 * IPI or its answer twice (the rounds where that happened are printed).
 * Each mode prints "ipi: <mode>: N round trips, avg X us, max Y us" (TSC
 * time). rounds=N on the command line sets the round trips of every
 * fixed-IPI mode.
 *
 * The bound is a race against CPU 0's own timer rather than TSC time:
 * an emulated machine on a busy host stalls (rounds of 1.4 s in TSC time
 * were seen with four emulated CPUs on two loaded host cores), and a stall
 * delays the timer too. A lost IPI or a lost wake-up of a halted vCPU
 * still loses the race. The answer's vectors outrank the timer's, so when
 * both are pending after a stall the answer is taken first.
 */
#include "guest.h"

const char test_name[] = "ipi";

/* Each mode pings and answers on its own pair of vectors, so an answer
 * that comes too late for one mode cannot pass for one of the next. */
#define PING_VECTOR(mode) (0xc0 + 2 * (mode))
#define PONG_VECTOR(mode) (0xc1 + 2 * (mode))
#define MODES		  5
#define COMMAND_VECTOR	  0x42
#define WATCHDOG_VECTOR	  0x30
#define SPURIOUS_VECTOR	  0xff

#define ROUND_TRIPS	 1000
#define MODE_ROUND_TRIPS 200
#define NMI_ROUND_TRIPS	 20
#define MAX_ROUND_TRIPS	 1000000
/* CPU 0's timer for one round (see above). A single emulated CPU can
 * still wait this long for a host CPU while the other runs. */
#define IPI_BOUND_MS 1000
/* After a round timed out: how much longer CPU 0 waits, sending nothing,
 * to tell a late answer from a lost one. */
#define LATE_WAIT_MS 4000
/* After the last round: time for duplicates to show up. */
#define SETTLE_MS 20
/* How long CPU 1 may take to carry out a command. */
#define COMMAND_TIMEOUT_MS 2000

#define PINGER	  0
#define RESPONDER 1

enum kind { PING, PONG, NMI, STALE, KINDS };
static const char *const kind_names[KINDS] = {"ping", "pong", "NMI",
					      "stale IPI"};
enum side { PINGED, ANSWERED, SIDES };
static const char *const side_names[SIDES] = {"IPI", "answer"};

/* What each CPU received in the current mode, counted by the handler on
 * that CPU; STALE: an IPI on the vectors of an earlier mode. */
static volatile unsigned int received[GUEST_MAX_CPUS][KINDS];
static volatile unsigned int current_mode;

/* The round in flight: CPU 0 writes round_seq before each ping, CPU 1
 * copies it into answer_seq before it answers, CPU 0's pong handler
 * records it. */
static volatile unsigned int round_seq, answer_seq, pong_seq;
/* When CPU 1 answered (its TSC; the TSCs of a guest's vCPUs agree). */
static volatile uint64_t answer_tsc;
/* Rounds in which CPU 1 took the IPI (PINGED) or CPU 0 the answer
 * (ANSWERED) a second time: how many, and the first few. */
#define DUPLICATES_KEPT 8
static volatile unsigned int last_round[SIDES];
static volatile unsigned int duplicates[SIDES];
static volatile unsigned int duplicate_round[SIDES][DUPLICATES_KEPT];
static volatile bool pong_arrived;
static volatile uint64_t pong_tsc;
static volatile bool watchdog_fired;
/* The watchdog's current arming, in TSC ticks. */
static volatile uint64_t watchdog_armed_tsc, watchdog_ticks;

/* How CPU 1 answers: destination and ICR of the pong. */
static volatile uint32_t pong_dest, pong_icr;

/* Commands CPU 0 gives the APs. */
enum command { CMD_NONE, CMD_X2APIC };
static volatile enum command command[GUEST_MAX_CPUS];
static volatile bool command_done[GUEST_MAX_CPUS];
static volatile bool command_ok[GUEST_MAX_CPUS];
/* Each CPU's logical destination, read from its own LDR. */
static volatile uint32_t logical_id[GUEST_MAX_CPUS];
/* An AP takes IPIs once its APIC is software-enabled: until then a fixed
 * IPI to it is discarded (SDM vol. 3A §11.4.7.2). */
static volatile bool ap_ready[GUEST_MAX_CPUS];
/* How long CPU 0 waits for the APs to enable their APICs. */
#define AP_READY_TIMEOUT_MS 2000

static uint32_t lapic_khz;
static unsigned int xapic_physical_rounds = ROUND_TRIPS;
static unsigned int mode_rounds = MODE_ROUND_TRIPS;

static void count(enum kind kind)
{
	unsigned int cpu = cpu_index();

	received[cpu][kind] = received[cpu][kind] + 1;
}

/* Called by the handler of a round's IPI (side PINGED, CPU 1) or answer
 * (ANSWERED, CPU 0) with the round it belongs to. */
static void note_round(enum side side, unsigned int round)
{
	if (round != last_round[side]) {
		last_round[side] = round;
		return;
	}
	unsigned int n = duplicates[side];
	if (n < DUPLICATES_KEPT)
		duplicate_round[side][n] = round;
	duplicates[side] = n + 1;
}

static void answer(void)
{
	answer_tsc = rdtsc();
	answer_seq = round_seq;
	apic_send_ipi(pong_dest, pong_icr);
}

static void ping_interrupt(uint8_t vector)
{
	bool current = vector == PING_VECTOR(current_mode);

	count(current ? PING : STALE);
	apic_eoi();
	if (current && cpu_index() == RESPONDER) {
		note_round(PINGED, round_seq);
		answer();
	}
}

static void pong_interrupt(uint8_t vector)
{
	if (vector != PONG_VECTOR(current_mode)) {
		count(STALE);
		apic_eoi();
		return;
	}
	count(PONG);
	if (cpu_index() == PINGER) {
		pong_tsc = rdtsc();
		pong_seq = answer_seq;
		note_round(ANSWERED, pong_seq);
		pong_arrived = true;
	}
	apic_eoi();
}

static void nmi_interrupt(uint8_t vector)
{
	(void)vector;
	count(NMI);
	if (cpu_index() == RESPONDER) {
		note_round(PINGED, round_seq);
		answer();
	}
}

static void command_interrupt(uint8_t vector)
{
	(void)vector;
	apic_eoi();
}

/* An expiry that was still pending when its round ended would fire early
 * into the next: only one at or after the current deadline counts. */
static void watchdog_interrupt(uint8_t vector)
{
	(void)vector;
	if (rdtsc() - watchdog_armed_tsc >= watchdog_ticks)
		watchdog_fired = true;
	apic_eoi();
}

static void spurious_interrupt(uint8_t vector)
{
	/* A spurious interrupt needs no EOI (SDM vol. 3A §11.9). */
	(void)vector;
}

/* Each CPU enables its APIC and, in xAPIC mode, takes logical bit `cpu`
 * in the flat model (SDM §11.6.2.2): 8 CPUs at most have one. */
static void apic_setup(unsigned int cpu)
{
	apic_software_enable(SPURIOUS_VECTOR);
	apic_write(APIC_DFR, APIC_DFR_FLAT);
	apic_write(APIC_LDR, cpu < 8 ? (1u << cpu) << 24 : 0);
	logical_id[cpu] = cpu < 8 ? 1u << cpu : 0;
}

static bool switch_to_x2apic(unsigned int cpu)
{
	if (exinfo_faulted(apic_enable_x2apic()))
		return false;
	logical_id[cpu] = apic_read(APIC_LDR);
	return true;
}

/* APs sleep until an IPI comes; commands arrive with COMMAND_VECTOR. */
static void ap_main(unsigned int cpu)
{
	apic_setup(cpu);
	__atomic_store_n(&ap_ready[cpu], true, __ATOMIC_RELEASE);
	for (;;) {
		enum command cmd = command[cpu];

		if (cmd != CMD_NONE) {
			command[cpu] = CMD_NONE;
			if (cmd == CMD_X2APIC)
				command_ok[cpu] = switch_to_x2apic(cpu);
			__atomic_store_n(&command_done[cpu], true,
					 __ATOMIC_RELEASE);
		}
		irq_wait();
	}
}

static bool run_command(unsigned int cpu, enum command cmd)
{
	uint64_t start = rdtsc();

	command_done[cpu] = false;
	command[cpu] = cmd;
	apic_send_ipi(cpu_apic_id(cpu), APIC_ICR_FIXED | COMMAND_VECTOR);
	while (!__atomic_load_n(&command_done[cpu], __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > us_to_tsc(COMMAND_TIMEOUT_MS * 1000))
			return false;
		cpu_relax();
	}
	return command_ok[cpu];
}

static void watchdog_arm(uint32_t ms)
{
	watchdog_fired = false;
	watchdog_ticks = us_to_tsc(ms * 1000ull);
	watchdog_armed_tsc = rdtsc();
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | WATCHDOG_VECTOR);
	apic_write(APIC_TIMER_INITIAL_COUNT, lapic_khz * ms);
}

static void watchdog_disarm(void)
{
	apic_write(APIC_TIMER_INITIAL_COUNT, 0);
}

/* Sleeps until the pong arrives or the watchdog fires. */
static bool wait_for_pong(void)
{
	while (!pong_arrived && !watchdog_fired)
		irq_wait();
	return pong_arrived;
}

/*
 * A round went unanswered: wait longer without sending anything and say
 * whether the answer was only late (and on which side) or lost.
 */
static void report_late_answer(const char *mode, unsigned int round,
			       uint64_t sent)
{
	watchdog_arm(LATE_WAIT_MS);
	bool answered = wait_for_pong();
	watchdog_disarm();
	if (answered) {
		printf("ipi: %s: round %u: answered late, with no other IPI "
		       "sent: cpu%u answered %lu us after the IPI, cpu%u got "
		       "the answer %lu us after it\n",
		       mode, round, RESPONDER, tsc_to_us(answer_tsc - sent),
		       PINGER, tsc_to_us(pong_tsc - sent));
	} else if (answer_seq == round) {
		printf("ipi: %s: round %u: cpu%u answered %lu us after the "
		       "IPI, but the answer has not reached cpu%u %u ms "
		       "later\n",
		       mode, round, RESPONDER, tsc_to_us(answer_tsc - sent),
		       PINGER, IPI_BOUND_MS + LATE_WAIT_MS);
	} else {
		printf("ipi: %s: round %u: cpu%u has not taken the IPI %u ms "
		       "after it was sent\n",
		       mode, round, RESPONDER, IPI_BOUND_MS + LATE_WAIT_MS);
	}
}

static void reset_counts(void)
{
	for (unsigned int cpu = 0; cpu < GUEST_MAX_CPUS; cpu++)
		for (unsigned int k = 0; k < KINDS; k++)
			received[cpu][k] = 0;
	for (unsigned int side = 0; side < SIDES; side++)
		last_round[side] = duplicates[side] = 0;
}

static void check_duplicates(const char *mode, enum side side)
{
	unsigned int n = duplicates[side];
	/* ": r1 r2 ..." with up to DUPLICATES_KEPT rounds of 7 digits. */
	char rounds[2 + 8 * DUPLICATES_KEPT + 4] = "";
	size_t len = 0;

	for (unsigned int i = 0; i < n && i < DUPLICATES_KEPT; i++)
		len += (size_t)snprintf(rounds + len, sizeof(rounds) - len,
					"%s %u", i ? "" : ":",
					duplicate_round[side][i]);
	if (n > DUPLICATES_KEPT)
		snprintf(rounds + len, sizeof(rounds) - len, " ...");
	check(n == 0, "%s: no round took its %s twice (%u did%s)", mode,
	      side_names[side], n, rounds);
}

/* Only `cpu` received `kind`, exactly `expected` times. */
static void check_counts(const char *mode, enum kind kind, unsigned int cpu,
			 unsigned int expected)
{
	unsigned int elsewhere = 0;

	for (unsigned int c = 0; c < cpu_count(); c++)
		if (c != cpu)
			elsewhere += received[c][kind];
	check(received[cpu][kind] == expected && elsewhere == 0,
	      "%s: cpu%u received %u %ss (expected %u), other CPUs %u", mode,
	      cpu, received[cpu][kind], kind_names[kind], expected, elsewhere);
}

/*
 * `rounds` round trips of mode number `index`: CPU 0 sends ping_icr (with
 * the mode's ping vector unless it is an NMI) to ping_dest; CPU 1 answers
 * with a fixed IPI on the mode's pong vector, destination mode `logical`,
 * to answer_dest.
 */
static void ping_pong(unsigned int index, const char *mode, uint32_t ping_dest,
		      uint32_t ping_icr, uint32_t answer_dest, bool logical,
		      unsigned int rounds)
{
	enum kind sent = ping_icr == APIC_ICR_NMI ? NMI : PING;
	uint64_t total = 0, worst = 0;
	unsigned int done = 0, wrong_seq = 0;

	if (sent == PING)
		ping_icr |= PING_VECTOR(index);
	pong_dest = answer_dest;
	pong_icr = APIC_ICR_FIXED | (logical ? APIC_ICR_LOGICAL : 0) |
		   PONG_VECTOR(index);
	reset_counts();
	current_mode = index;
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	for (unsigned int r = 1; r <= rounds; r++) {
		pong_arrived = false;
		round_seq = r;
		watchdog_arm(IPI_BOUND_MS);
		uint64_t start = rdtsc();
		apic_send_ipi(ping_dest, ping_icr);
		bool answered = wait_for_pong();
		watchdog_disarm();
		if (!answered) {
			printf("ipi: %s: round %u: no answer before the %u ms "
			       "timer fired\n",
			       mode, r, IPI_BOUND_MS);
			report_late_answer(mode, r, start);
			break;
		}
		if (pong_seq != r)
			wrong_seq++;
		uint64_t rtt = pong_tsc - start;
		total += rtt;
		if (rtt > worst)
			worst = rtt;
		done++;
	}
	/* Late duplicates would arrive now; interrupts stay open. */
	uint64_t settle = rdtsc();
	while (rdtsc() - settle < us_to_tsc(SETTLE_MS * 1000))
		irq_window();

	if (done)
		printf("ipi: %s: %u round trips, avg %lu us, max %lu us\n",
		       mode, done, tsc_to_us(total / done), tsc_to_us(worst));
	check(done == rounds,
	      "%s: %u of %u rounds answered before a %u ms timer", mode, done,
	      rounds, IPI_BOUND_MS);
	check(wrong_seq == 0, "%s: every answer is the round's own (%u not)",
	      mode, wrong_seq);
	check_counts(mode, sent, RESPONDER, done);
	check_counts(mode, PONG, PINGER, done);
	check_counts(mode, STALE, PINGER, 0);
	check_duplicates(mode, PINGED);
	check_duplicates(mode, ANSWERED);
}

static void xapic_tests(void)
{
	ping_pong(0, "xAPIC physical", cpu_apic_id(RESPONDER), APIC_ICR_FIXED,
		  cpu_apic_id(PINGER), false, xapic_physical_rounds);
	ping_pong(1, "xAPIC logical", logical_id[RESPONDER],
		  APIC_ICR_FIXED | APIC_ICR_LOGICAL, logical_id[PINGER], true,
		  mode_rounds);
	ping_pong(2, "NMI", cpu_apic_id(RESPONDER), APIC_ICR_NMI,
		  cpu_apic_id(PINGER), false, NMI_ROUND_TRIPS);
}

/* x2APIC logical ID: cluster ID[31:4] in bits 31:16, bit ID[3:0] below. */
static uint32_t expected_x2apic_ldr(uint32_t apic_id)
{
	return ((apic_id >> 4) << 16) | (1u << (apic_id & 0xf));
}

static void x2apic_tests(unsigned int online)
{
	if (!check(cpuid(1).ecx & (1u << 21), "CPUID shows x2APIC"))
		return;
	/* The APs first: CPU 0 still reaches them in xAPIC mode. */
	for (unsigned int cpu = 1; cpu < online; cpu++)
		if (!check(run_command(cpu, CMD_X2APIC),
			   "cpu%u switched to x2APIC mode", cpu))
			return;
	if (!check(switch_to_x2apic(PINGER), "cpu0 switched to x2APIC mode"))
		return;
	for (unsigned int cpu = 0; cpu < online; cpu++)
		check(logical_id[cpu] == expected_x2apic_ldr(cpu_apic_id(cpu)),
		      "cpu%u: x2APIC LDR 0x%x derives from APIC ID %u", cpu,
		      logical_id[cpu], cpu_apic_id(cpu));

	ping_pong(3, "x2APIC physical", cpu_apic_id(RESPONDER), APIC_ICR_FIXED,
		  cpu_apic_id(PINGER), false, mode_rounds);
	ping_pong(4, "x2APIC logical", logical_id[RESPONDER],
		  APIC_ICR_FIXED | APIC_ICR_LOGICAL, logical_id[PINGER], true,
		  mode_rounds);
}

void test_main(void)
{
	legacy_pic_mask_all();
	for (unsigned int mode = 0; mode < MODES; mode++) {
		irq_set_handler(PING_VECTOR(mode), ping_interrupt);
		irq_set_handler(PONG_VECTOR(mode), pong_interrupt);
	}
	irq_set_handler(COMMAND_VECTOR, command_interrupt);
	irq_set_handler(WATCHDOG_VECTOR, watchdog_interrupt);
	irq_set_handler(SPURIOUS_VECTOR, spurious_interrupt);
	nmi_set_handler(nmi_interrupt);

	uint64_t rounds;
	if (cmdline_u64("rounds", &rounds) && rounds > 0 &&
	    rounds <= MAX_ROUND_TRIPS)
		xapic_physical_rounds = mode_rounds = (unsigned int)rounds;
	lapic_khz = platform_lapic_khz();
	printf("ipi: TSC %u kHz, LAPIC timer %u kHz\n", platform_tsc_khz(),
	       lapic_khz);
	if (!platform_tsc_khz() || !lapic_khz ||
	    lapic_khz > UINT32_MAX / LATE_WAIT_MS)
		test_fail("TSC and LAPIC timer frequencies are unknown "
			  "(Keel's CPUID leaf 0x40000010, or tsc_khz= and "
			  "lapic_khz=)");
	if (cpu_count() < 2)
		test_fail("needs 2 CPUs, found %u (ACPI MADT or cpus=)",
			  cpu_count());

	apic_setup(PINGER);
	unsigned int online = smp_start_aps(ap_main);
	check(online == cpu_count(), "%u of %u CPUs came online", online,
	      cpu_count());
	if (online < 2)
		test_finish();
	uint64_t start = rdtsc();
	for (unsigned int cpu = 1; cpu < online; cpu++)
		while (!__atomic_load_n(&ap_ready[cpu], __ATOMIC_ACQUIRE) &&
		       rdtsc() - start < us_to_tsc(AP_READY_TIMEOUT_MS * 1000))
			cpu_relax();
	for (unsigned int cpu = 1; cpu < online; cpu++)
		if (!check(ap_ready[cpu], "cpu%u enabled its APIC", cpu))
			test_finish();

	xapic_tests();
	x2apic_tests(online);
	test_finish();
}
