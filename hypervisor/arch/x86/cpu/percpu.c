/* SPDX-License-Identifier: MIT */
/* Per-CPU GDT, TSS and GS base. */
#include <keel/percpu.h>
#include <keel/io.h>
#include <keel/x86.h>

struct percpu percpu_area[MAX_CPUS];
unsigned nr_cpus_online;
static uint8_t ist_stacks[MAX_CPUS][3][IST_STACK_SIZE] __aligned(16);

void percpu_init(unsigned cpu, uint32_t apic_id)
{
	struct percpu *p = &percpu_area[cpu];
	uint64_t tss = (uint64_t)&p->tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr = {sizeof(p->gdt) - 1, (uint64_t)p->gdt};

	p->self = p;
	p->cpu = cpu;
	p->apic_id = apic_id;
	p->gdt[0] = 0;
	p->gdt[GDT_CS64 / 8] = 0x00af9a000000ffffULL;
	p->gdt[GDT_DS / 8] = 0x00cf92000000ffffULL;
	p->gdt[GDT_CS32 / 8] = 0x00cf9a000000ffffULL;
	/* 16-byte TSS descriptor, type 9 (available 64-bit TSS). */
	p->gdt[GDT_TSS / 8] = (sizeof(struct tss) - 1) |
			      ((tss & 0xFFFFFF) << 16) | (0x89ULL << 40) |
			      (((tss >> 24) & 0xFF) << 56);
	p->gdt[GDT_TSS / 8 + 1] = tss >> 32;
	for (int i = 0; i < 3; i++)
		p->tss.ist[i] = (uint64_t)&ist_stacks[cpu][i][IST_STACK_SIZE];
	p->tss.iomap_base = sizeof(struct tss);

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(GDT_CS64), "r"(GDT_DS), "r"(GDT_TSS)
			 : "rax", "memory");
	wrmsr(MSR_GS_BASE, (uint64_t)p);
}
