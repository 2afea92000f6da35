/* SPDX-License-Identifier: MIT */
/* Per-CPU data, CPU discovery and AP start-up (guest.h, "SMP"). */
#include "acpi.h"
#include "guest.h"

#define MSR_IA32_GS_BASE 0xc0000101

/* SIPI timing of Intel SDM vol. 3A §8.4.4.1 (MP initialization example). */
#define INIT_DELAY_US	    10000
#define SIPI_DELAY_US	    200
#define AP_START_TIMEOUT_US 2000000

/* The trampoline page: the lowest RAM page in [LOW, HIGH). Page 0 holds
 * the real-mode interrupt table and BIOS data area on a BIOS machine;
 * a STARTUP vector addresses pages below 1 MiB only (vector 0xa0-0xbf
 * would be the VGA hole, never RAM). */
#define TRAMPOLINE_LOW	0x1000
#define TRAMPOLINE_HIGH 0x100000
#define PAGE_SIZE	0x1000

extern const char ap_trampoline_start[], ap_trampoline_end[];
void trap_load(void);
void smp_init_boot_cpu(void);
void ap_start(void);

static struct cpu cpus[GUEST_MAX_CPUS];
static unsigned int nr_cpus;
static bool discovered;

/* CPU 0 runs on head.S's boot stack. */
static uint8_t ap_stacks[GUEST_MAX_CPUS - 1][AP_STACK_SIZE]
    __attribute__((aligned(16)));
/* Read by trampoline.S: the stack of the AP being started. */
uint64_t ap_boot_stack_top;
/* Read by ap_start(): the AP being started. */
static struct cpu *volatile starting_cpu;

static void set_this_cpu(struct cpu *c)
{
	c->self = c;
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)c);
}

/* Before anything else runs: this_cpu() works from here on. */
void smp_init_boot_cpu(void)
{
	cpus[0].index = 0;
	cpus[0].apic_id = cpuid(1).ebx >> 24; /* initial APIC ID */
	cpus[0].apic_mode = APIC_MODE_XAPIC;
	cpus[0].online = true;
	set_this_cpu(&cpus[0]);
	nr_cpus = 1;
}

static void discover(void)
{
	uint32_t ids[GUEST_MAX_CPUS];
	const char *rsdp_source = "";
	int listed = acpi_madt_apic_ids(ids, GUEST_MAX_CPUS, &rsdp_source);
	uint64_t n = 1;
	char source[64];

	if (listed > 0) {
		n = (uint64_t)listed;
		snprintf(source, sizeof(source), "the ACPI MADT (RSDP from %s)",
			 rsdp_source);
	} else if (cmdline_u64("cpus", &n) && n > 0) {
		for (unsigned int i = 0; i < n && i < GUEST_MAX_CPUS; i++)
			ids[i] = i;
		snprintf(source, sizeof(source),
			 "cpus= on the command line (no ACPI MADT)");
	} else {
		n = 1;
		ids[0] = cpus[0].apic_id;
		snprintf(source, sizeof(source), "no MADT and no cpus=");
	}
	if (n > GUEST_MAX_CPUS) {
		printf("%s: %lu CPUs listed, using the first %u\n", test_name,
		       n, GUEST_MAX_CPUS);
		n = GUEST_MAX_CPUS;
	}
	/* CPU 0 is the boot CPU; the others keep the table's order. */
	nr_cpus = 1;
	for (unsigned int i = 0; i < n && nr_cpus < GUEST_MAX_CPUS; i++) {
		if (ids[i] == cpus[0].apic_id)
			continue;
		cpus[nr_cpus].index = nr_cpus;
		cpus[nr_cpus].apic_id = ids[i];
		nr_cpus++;
	}
	printf("%s: %u CPU%s from %s; APIC IDs", test_name, nr_cpus,
	       nr_cpus == 1 ? "" : "s", source);
	for (unsigned int i = 0; i < nr_cpus; i++)
		printf(" %u", cpus[i].apic_id);
	printf("\n");
	discovered = true;
}

unsigned int cpu_count(void)
{
	if (!discovered)
		discover();
	return nr_cpus;
}

uint32_t cpu_apic_id(unsigned int cpu)
{
	return cpu < cpu_count() ? cpus[cpu].apic_id : UINT32_MAX;
}

bool cpu_online(unsigned int cpu)
{
	return cpu < cpu_count() &&
	       __atomic_load_n(&cpus[cpu].online, __ATOMIC_ACQUIRE);
}

/* Lowest page of [TRAMPOLINE_LOW, TRAMPOLINE_HIGH) that an e820 RAM entry
 * covers entirely, or 0. */
static uint64_t trampoline_page(void)
{
	uint64_t best = 0;
	unsigned int n = boot_params.e820_entries;

	if (n > E820_MAX_ENTRIES_ZEROPAGE)
		n = E820_MAX_ENTRIES_ZEROPAGE;
	for (unsigned int i = 0; i < n; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];
		if (e->type != E820_TYPE_RAM)
			continue;
		uint64_t page =
		    (e->addr + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		if (page < TRAMPOLINE_LOW)
			page = TRAMPOLINE_LOW;
		if (page + PAGE_SIZE <= e->addr + e->size &&
		    page + PAGE_SIZE <= TRAMPOLINE_HIGH &&
		    (!best || page < best))
			best = page;
	}
	return best;
}

/* C entry of an AP, from trampoline.S on its own stack. */
void ap_start(void)
{
	struct cpu *c = starting_cpu;

	set_this_cpu(c);
	trap_load();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	c->ap_main(c->index);
	halt_forever();
}

static bool start_ap(struct cpu *c, uint8_t sipi_vector)
{
	uint64_t start;

	c->apic_mode = APIC_MODE_XAPIC;
	ap_boot_stack_top = (uint64_t)(ap_stacks[c->index - 1] + AP_STACK_SIZE);
	starting_cpu = c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	apic_send_ipi(c->apic_id, APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT |
				      APIC_ICR_LEVEL_TRIGGER);
	delay_us(INIT_DELAY_US);
	for (unsigned int sipi = 0; sipi < 2 && !cpu_online(c->index); sipi++) {
		apic_send_ipi(c->apic_id, APIC_ICR_STARTUP | sipi_vector);
		delay_us(SIPI_DELAY_US);
	}
	start = rdtsc();
	while (!cpu_online(c->index) &&
	       rdtsc() - start < us_to_tsc(AP_START_TIMEOUT_US))
		cpu_relax();
	return cpu_online(c->index);
}

unsigned int smp_start_aps(ap_main_t ap_main)
{
	unsigned int online = 1, n = cpu_count();
	size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);
	uint64_t page;

	if (n == 1)
		return 1;
	if (!platform_tsc_khz())
		test_fail("starting APs needs the TSC frequency (Keel's CPUID "
			  "leaf 0x40000010 or tsc_khz=)");
	page = trampoline_page();
	if (!page)
		test_fail("no e820 RAM page below 1 MiB for the AP trampoline");
	memcpy((void *)page, ap_trampoline_start, size);
	printf("%s: AP trampoline at 0x%lx (STARTUP vector 0x%lx), %u bytes\n",
	       test_name, page, page >> 12, (unsigned int)size);

	for (unsigned int i = 1; i < n; i++) {
		struct cpu *c = &cpus[i];
		uint64_t start = rdtsc();

		c->ap_main = ap_main;
		if (!start_ap(c, (uint8_t)(page >> 12))) {
			printf("%s: cpu%u (APIC ID %u) did not come online "
			       "within %u ms; not starting the rest\n",
			       test_name, i, c->apic_id,
			       AP_START_TIMEOUT_US / 1000);
			break;
		}
		printf("%s: cpu%u (APIC ID %u) online after %lu us\n",
		       test_name, i, c->apic_id, tsc_to_us(rdtsc() - start));
		online++;
	}
	printf("%s: %u of %u CPUs online\n", test_name, online, n);
	return online;
}
