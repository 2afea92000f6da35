/* SPDX-License-Identifier: MIT */
/*
 * hostile: attacker guests, one surface per case. `case=` names one case
 * or several separated by commas, run in that order in the same domain;
 * each prints what it attacks and then its own verdict line,
 *
 *     hostile: verdict <case>: PASS
 *     hostile: verdict <case>: FAIL <n> failed checks
 *
 * where PASS means it got the architectural answer everywhere, and the
 * run ends with the one result line of every test guest. Cases that Keel
 * must answer by stopping the domain come last. The runtime then halts
 * with interrupts off (CLI; HLT), so every run also leaves Keel a vCPU
 * that never yields an interrupt.
 */
#include "hostile.h"

const char test_name[] = "hostile";

/* The control: a plain CPU hog, which every attacker is measured
 * against. */
static void case_hog(void)
{
	spin_us(attack_seconds() * 1000000);
}

/* Interrupts off and HLT for ever: the vCPU must take no CPU time. */
static void case_clihlt(void)
{
	printf("hostile: verdict clihlt: PASS\n");
	halt_forever();
}

static const struct {
	const char *name;
	void (*run)(void);
	const char *surface;
} cases[] = {
    {"hog", case_hog, "none: a plain CPU hog, the control"},
    {"clihlt", case_clihlt, "a vCPU that never yields interrupts: CLI; HLT"},
    {"exceptions", case_exceptions,
     "#AC and #DB reflected, single step, data breakpoint, ICEBP"},
    {"triple", case_triple, "triple fault: the domain stops"},
    {"drwrite", case_drwrite, "debug registers: writes DR0-DR3 and DR6"},
    {"drread", case_drread, "debug registers: reads only its own"},
    {"auxwrite", case_auxwrite, "TSC_AUX: writes its own for ever"},
    {"auxread", case_auxread, "TSC_AUX: RDTSCP reads only its own"},
    {"nmi", case_nmi, "NMIs sent from inside the NMI handler"},
    {"nmistorm", case_nmistorm, "self-NMI storm"},
    {"ctlregs", case_ctlregs, "EFER/CR0/CR4/XCR0 invalid values"},
    {"virtinsns", case_virtinsns, "SVM and VMX instructions"},
    {"lock", case_lock, "LOCK prefixes: #UD, split locks"},
    {"timer-period", case_timer_period,
     "LAPIC timer: periodic count 1, divide by 1"},
    {"timer-divide", case_timer_divide,
     "LAPIC timer: every divide value, initial count extremes"},
    {"deadline-max", case_deadline_max, "TSC deadline 2^64-1 after TSC := 0"},
    {"deadline-past", case_deadline_past, "TSC deadline in the past"},
    {"hypercall", case_hypercall,
     "hypercalls at CPL0: every number, garbage arguments"},
    {"hypercall-user", case_hypercall_user, "hypercalls at CPL3"},
    {"msr", case_msr, "MSR sweep: reads and write-backs"},
    {"cpuid", case_cpuid, "CPUID sweep: leaves and subleaves"},
    {"ports", case_ports, "port I/O sweep: every port in and out"},
    {"initsipi", case_initsipi, "INIT/SIPI storms at itself and a sibling"},
    {"icr", case_icr, "ICR: every delivery mode and destination"},
    {"selfipi", case_selfipi, "self-IPI storms"},
    {"eoi", case_eoi, "EOI with nothing in service"},
    {"lapicregs", case_lapicregs, "garbage in every LAPIC register"},
    {"x2apic", case_x2apic, "x2APIC MSR fuzzing"},
    {"ioapic", case_ioapic,
     "vIOAPIC: out-of-range indices, garbage redirections"},
    {"prefixes", case_prefixes, "MMIO MOV with prefix combinations"},
    {"insn15", case_insn15, "a 15-byte MMIO MOV"},
    {"insn16", case_insn16, "a 16-byte instruction: #GP"},
    {"fetchcross", case_fetchcross, "an MMIO MOV across a page boundary"},
    {"fetchend", case_fetchend,
     "an instruction fetch across the end of RAM: the domain stops"},
    {"mmio-movs", case_mmio_movs, "MMIO by MOVS: the domain stops"},
    {"mmio-stos", case_mmio_stos, "MMIO by REP STOS: the domain stops"},
    {"mmio-unknown", case_mmio_unknown,
     "MMIO by an instruction the decoder does not know: the domain stops"},
    {"kvmclock-pagecross", case_kvmclock_pagecross,
     "kvmclock system time across a page end"},
    {"kvmclock-lowmem", case_kvmclock_lowmem,
     "kvmclock system time at Keel's host address"},
    {"kvmclock-tscwrite", case_kvmclock_tscwrite,
     "kvmclock system time across a TSC write"},
    {"wallclock", case_wallclock,
     "kvmclock wall clock across a page end, at MMIO, beyond RAM"},
    {"kvmclock-mmio", case_kvmclock_mmio,
     "kvmclock system time at MMIO: the domain stops"},
    {"kvmclock-beyond", case_kvmclock_beyond,
     "kvmclock system time beyond RAM: the domain stops"},
    {"kvmclock-ramend", case_kvmclock_ramend,
     "kvmclock system time across the end of RAM: the domain stops"},
    {"mmiodrain", case_mmiodrain,
     "Dom0: device memory in every 2 MiB: Dom0 stops at its quota"},
};

bool cpu_is_amd(void)
{
	return cpuid(0).ebx == 0x68747541; /* "Auth" */
}

uint64_t attack_seconds(void)
{
	uint64_t s = 4;

	cmdline_u64("seconds", &s);
	return s;
}

void spin_us(uint64_t us)
{
	uint64_t end = rdtsc() + us_to_tsc(us);

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

uint64_t ram_end(void)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < boot_params.e820_entries; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];

		if (e->type == E820_TYPE_RAM && e->addr + e->size > end)
			end = e->addr + e->size;
	}
	return end;
}

__noreturn void expect_stopped(const char *what)
{
	test_fail("%s: Keel let the domain run on", what);
}

/*
 * run_insn copies the instruction to code[] and calls it; a fault there
 * resumes at the fixup, which drops the call's return address. Its exinfo
 * (0 if nothing faulted) lands in insn_exinfo.
 */
static uint8_t code[64] __attribute__((aligned(64)));
uint64_t insn_exinfo;

__asm__(".globl call_code\n"
	"call_code:\n\t"
	"xor %edi, %edi\n\t"
	"call *%rsi\n\t"
	"jmp 2f\n"
	"3: add $8, %rsp\n"
	"2: mov %rdi, insn_exinfo(%rip)\n\tret\n\t"
	".pushsection .extable, \"a\"\n\t.balign 8\n\t"
	".quad code, 3b\n\t.popsection\n");

uint32_t run_insn(const uint8_t *bytes, size_t len, uint64_t *rax)
{
	memset(code, 0xC3, sizeof(code));
	memcpy(code, bytes, len);
	__asm__ volatile("" ::: "memory");
	__asm__ volatile("call call_code"
			 : "+a"(*rax)
			 : "S"((uint64_t)code)
			 : "rdi", "rcx", "rdx", "r8", "r9", "r10", "r11",
			   "memory", "cc");
	return (uint32_t)insn_exinfo;
}

#define WAKE_VECTOR 0x41

static volatile bool woke;

static void wake(uint8_t vector)
{
	(void)vector;
	woke = true;
	apic_eoi();
}

/*
 * Sleeps (HLT, the LAPIC timer's one-shot mode in 100 ms steps) so that
 * the neighbour's progress alone can be measured before the attack.
 */
static void idle_seconds(uint64_t seconds)
{
	uint32_t step = platform_lapic_khz() * 100;

	apic_software_enable(0xff);
	irq_set_handler(WAKE_VECTOR, wake);
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, WAKE_VECTOR | APIC_LVT_TIMER_ONESHOT);
	for (uint64_t i = 0; i < seconds * 10; i++) {
		woke = false;
		apic_write(APIC_TIMER_INITIAL_COUNT, step);
		while (!woke)
			__asm__ volatile("sti; hlt; cli");
	}
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

static void run_case(const char *name, size_t len)
{
	unsigned before = checks_failed(), failed;

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strlen(cases[i].name) != len ||
		    strncmp(cases[i].name, name, len))
			continue;
		printf("hostile: case %s: %s\n", cases[i].name,
		       cases[i].surface);
		cases[i].run();
		failed = checks_failed() - before;
		if (failed)
			printf("hostile: verdict %s: FAIL %u failed checks\n",
			       cases[i].name, failed);
		else
			printf("hostile: verdict %s: PASS\n", cases[i].name);
		return;
	}
	test_fail("unknown case '%.*s'", (int)len, name);
}

void test_main(void)
{
	const char *list;
	size_t len;
	uint64_t wait = 0;

	if (!cmdline_find("case", &list, &len))
		test_fail("no case= on the command line");
	if (cmdline_u64("wait", &wait) && wait) {
		if (!platform_lapic_khz())
			test_fail("wait= needs the LAPIC timer frequency");
		idle_seconds(wait);
	}
	while (len) {
		size_t n = 0;

		while (n < len && list[n] != ',')
			n++;
		run_case(list, n);
		list += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
	}
	test_finish();
}
