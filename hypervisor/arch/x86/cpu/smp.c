/* SPDX-License-Identifier: MIT */
/* Cross-CPU control. */
#include <keel/fpu.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/vcpu_loop.h>
#include <keel/traps.h>
#include <keel/x86.h>

/* A kick only has to make the CPU leave the guest or HLT. */
static void ipi_kick(struct cpu_regs *regs)
{
	(void)regs;
}

static void ipi_stop(struct cpu_regs *regs)
{
	(void)regs;
	this_cpu()->online = false;
	for (;;)
		__asm__ volatile("cli; hlt");
}

void smp_init_ipis(void)
{
	irq_set_handler(IPI_KICK_VECTOR, ipi_kick);
	irq_set_handler(IPI_PANIC_VECTOR, ipi_stop);
}

/* Halts every other online CPU (panic path): they take IPI_PANIC_VECTOR. */
void smp_stop_others(void)
{
	unsigned me = this_cpu()->cpu;

	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (i != me && percpu_area[i].online)
			lapic_send_ipi(percpu_area[i].apic_id,
				       IPI_PANIC_VECTOR);
}

/*
 * Bringing up the application processors (Intel SDM vol. 3A §8.4.4).
 * The trampoline page is borrowed from conventional memory before Dom0
 * exists; its old contents are put back afterwards.
 */
#define TRAMPOLINE_PA	    0x8000ULL
#define AP_START_TIMEOUT_US 500000

extern char trampoline_start[], trampoline_end[], ap_entry64[];
extern char trampoline_jmp32_off[], trampoline_32_off[], trampoline_jmp64_off[];
extern char trampoline_gdt_off[], trampoline_gdtptr_off[];
extern char trampoline_cr3[], trampoline_stack[], trampoline_efer[];

static volatile bool ap_started;

static void patch32(uint8_t *blob, uintptr_t off, uint32_t v)
{
	memcpy(blob + off, &v, 4);
}

static void patch64(uint8_t *blob, uintptr_t off, uint64_t v)
{
	memcpy(blob + off, &v, 8);
}

/* Runs on each AP once it reaches long mode. */
void ap_main(void)
{
	unsigned cpu = nr_cpus_online;
	uint32_t apic_id;

	percpu_init(cpu, 0);
	traps_load();
	fpu_init_cpu();
	lapic_init();
	apic_id = lapic_id();
	this_cpu()->apic_id = apic_id;
	if (hvm->cpu_enable()) {
		printk("cpu%u: cannot enable virtualization; parked\n", cpu);
		ap_started = true;
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	this_cpu()->online = true;
	__atomic_store_n(&ap_started, true, __ATOMIC_RELEASE);
	vcpu_loop();
}

unsigned smp_boot_aps(unsigned max_cpus)
{
	size_t len = trampoline_end - trampoline_start;
	uint8_t *blob = phys_to_virt(TRAMPOLINE_PA);
	uint8_t saved[PAGE_SIZE];

	if (len > PAGE_SIZE)
		panic("AP trampoline larger than a page");
	memcpy(saved, blob, PAGE_SIZE);
	memcpy(blob, trampoline_start, len);
	patch32(blob, (uintptr_t)trampoline_jmp32_off,
		(uint32_t)(TRAMPOLINE_PA + (uintptr_t)trampoline_32_off));
	patch32(blob, (uintptr_t)trampoline_jmp64_off,
		(uint32_t)(uintptr_t)ap_entry64);
	patch32(blob, (uintptr_t)trampoline_gdtptr_off + 2,
		(uint32_t)(TRAMPOLINE_PA + (uintptr_t)trampoline_gdt_off));
	patch64(blob, trampoline_cr3 - trampoline_start, read_cr3());
	patch64(blob, trampoline_efer - trampoline_start,
		rdmsr(MSR_EFER) & ~EFER_SVME);

	for (uint32_t i = 0; i < madt_info.nr_cpus; i++) {
		uint32_t apic_id = madt_info.apic_ids[i];
		uint64_t stack;

		if (apic_id == this_cpu()->apic_id)
			continue;
		if (nr_cpus_online == MAX_CPUS) {
			printk("more than %u CPUs: the rest stay offline\n",
			       MAX_CPUS);
			break;
		}
		if (nr_cpus_online >= max_cpus)
			break;
		stack = frames_alloc(2); /* STACK_SIZE */
		if (!stack)
			panic("no memory for an AP stack");
		patch64(blob, trampoline_stack - trampoline_start,
			stack + STACK_SIZE);
		ap_started = false;
		lapic_send_init_sipi(apic_id, TRAMPOLINE_PA >> PAGE_SHIFT);
		for (unsigned us = 0; us < AP_START_TIMEOUT_US; us += 100) {
			if (__atomic_load_n(&ap_started, __ATOMIC_ACQUIRE))
				break;
			udelay(100);
		}
		if (!ap_started) {
			printk("CPU with APIC ID %u did not start\n", apic_id);
			frames_free(stack, 2);
			continue;
		}
		/* Started but parked (no virtualization): not ours to use. */
		if (!percpu_area[nr_cpus_online].online)
			continue;
		nr_cpus_online++;
	}
	memcpy(blob, saved, PAGE_SIZE);
	printk("SMP: %u of %u CPUs online%s\n", nr_cpus_online,
	       madt_info.nr_cpus,
	       nr_cpus_online < madt_info.nr_cpus ? " (maxcpus= starts more)"
						  : "");
	return nr_cpus_online;
}
