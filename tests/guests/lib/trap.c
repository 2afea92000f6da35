/* SPDX-License-Identifier: MIT */
/* IDT, exception fixups and interrupt dispatch for test guests. */
#include "guest.h"

/* Saved by trap.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct extable_entry {
	uint64_t fault_rip;
	uint64_t fixup_rip;
};

/* 64-bit interrupt gate (Intel SDM vol. 3A §6.14.1, figure 6-8). */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct descriptor_table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define GATE_PRESENT_INTERRUPT 0x8e /* P=1, DPL=0, type 0xE */
#define RFLAGS_IF	       (1u << 9)
#define TRAP_STUB_SIZE	       16
#define FIRST_INTERRUPT_VECTOR 32

void trap_init(void);
void trap_load(void);
void trap_dispatch(struct trap_frame *frame);

extern const char trap_stubs_start[];
extern const struct extable_entry __start_extable[], __stop_extable[];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[256];
static irq_handler_t nmi_handler;
/* Maskable interrupts that arrived in code running with IF=0: on a real
 * CPU, none. */
volatile uint64_t irq_if_clear_count;

static const char *const exception_names[FIRST_INTERRUPT_VECTOR] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void trap_init(void)
{
	for (unsigned int v = 0; v < ARRAY_SIZE(idt); v++) {
		uint64_t handler =
		    (uint64_t)(trap_stubs_start + v * TRAP_STUB_SIZE);
		idt[v] = (struct idt_gate){
		    .offset_low = (uint16_t)handler,
		    .selector = SEL_CODE64,
		    .type_attr = GATE_PRESENT_INTERRUPT,
		    .offset_mid = (uint16_t)(handler >> 16),
		    .offset_high = (uint32_t)(handler >> 32),
		};
	}
	trap_load();
}

/* Every CPU loads the one IDT. */
void trap_load(void)
{
	struct descriptor_table_register idtr = {sizeof(idt) - 1,
						 (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

/* 8259A data ports: writing there sets the interrupt mask (OCW1). */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA	0xa1

void legacy_pic_mask_all(void)
{
	uint32_t exinfo = outb_safe(PIC_MASTER_DATA, 0xff);

	if (exinfo_faulted(exinfo)) {
		printf("%s: no legacy PIC: OUT to port 0x%x faults (vector "
		       "%u)\n",
		       test_name, PIC_MASTER_DATA, exinfo_vector(exinfo));
		return;
	}
	outb(PIC_SLAVE_DATA, 0xff);
}

void idt_load_empty(void)
{
	struct descriptor_table_register idtr = {0, 0};

	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void irq_set_handler(uint8_t vector, irq_handler_t handler)
{
	irq_handlers[vector] = handler;
}

void nmi_set_handler(irq_handler_t handler)
{
	nmi_handler = handler;
}

static const struct extable_entry *extable_find(uint64_t rip)
{
	for (const struct extable_entry *e = __start_extable;
	     e < __stop_extable; e++)
		if (e->fault_rip == rip)
			return e;
	return NULL;
}

void trap_dispatch(struct trap_frame *frame)
{
	if (frame->vector >= FIRST_INTERRUPT_VECTOR) {
		irq_handler_t handler = irq_handlers[frame->vector];
		if (!handler)
			test_fail("unexpected interrupt, vector 0x%lx at rip "
				  "0x%lx on cpu%u",
				  frame->vector, frame->rip, cpu_index());
		if (!(frame->rflags & RFLAGS_IF))
			irq_if_clear_count++;
		handler((uint8_t)frame->vector);
		return;
	}
	if (frame->vector == X86_EXC_NMI && nmi_handler) {
		nmi_handler(X86_EXC_NMI);
		return;
	}

	const struct extable_entry *fixup = extable_find(frame->rip);
	if (fixup) {
		/* A single-step #DB resumes without stepping on. */
		frame->rflags &= ~X86_EFLAGS_TF;
		frame->rip = fixup->fixup_rip;
		frame->rdi = EXINFO_VALID | (uint32_t)(frame->vector << 16) |
			     (uint32_t)(frame->error_code & 0xffff);
		return;
	}

	printf("%s: cpu%u: exception %s error code 0x%lx at rip 0x%lx rsp "
	       "0x%lx cr2 0x%lx\n",
	       test_name, cpu_index(), exception_names[frame->vector],
	       frame->error_code, frame->rip, frame->rsp, read_cr2());
	test_fail("unexpected exception %s at rip 0x%lx on cpu%u",
		  exception_names[frame->vector], frame->rip, cpu_index());
}
