/* SPDX-License-Identifier: MIT */
/*
 * IDT and exception handling. An exception in Keel itself is a Keel bug:
 * dump state and panic. Interrupt vectors dispatch to registered handlers.
 */
#include <keel/traps.h>
#include <keel/percpu.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/x86.h>

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __packed;

static struct idt_entry idt[256] __aligned(16);
static irq_handler_t handlers[256];
extern char trap_stubs_start[];

static const char *const exc_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound",
    "#UD invalid opcode",
    "#NM no FPU",
    "#DF double fault",
    "coprocessor overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 FP",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD FP",
    "#VE virtualization",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV",
    "#VC",
    "#SX security",
    "reserved",
};

/* IST slots: 1 = NMI, 2 = #DF, 3 = #MC, so they run on known-good stacks. */
static uint8_t vector_ist(unsigned v)
{
	return v == 2 ? 1 : v == 8 ? 2 : v == 18 ? 3 : 0;
}

void traps_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = (uint64_t)(trap_stubs_start + 16 * v);

		idt[v] = (struct idt_entry){
		    .off_lo = off & 0xFFFF,
		    .sel = GDT_CS64,
		    .ist = vector_ist(v),
		    .type = 0x8E, /* present, DPL0, 64-bit interrupt gate */
		    .off_mid = (off >> 16) & 0xFFFF,
		    .off_hi = off >> 32,
		};
	}
}

void traps_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = {sizeof(idt) - 1, (uint64_t)idt};

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void irq_set_handler(uint8_t vector, irq_handler_t fn)
{
	handlers[vector] = fn;
}

void dump_regs(const struct cpu_regs *r)
{
	printk("RIP %04lx:%016lx RFLAGS %016lx\n", r->cs, r->rip, r->rflags);
	printk("RAX %016lx RBX %016lx RCX %016lx\n", r->rax, r->rbx, r->rcx);
	printk("RDX %016lx RSI %016lx RDI %016lx\n", r->rdx, r->rsi, r->rdi);
	printk("RBP %016lx RSP %016lx R8  %016lx\n", r->rbp, r->rsp, r->r8);
	printk("R9  %016lx R10 %016lx R11 %016lx\n", r->r9, r->r10, r->r11);
	printk("R12 %016lx R13 %016lx R14 %016lx\n", r->r12, r->r13, r->r14);
	printk("R15 %016lx CR2 %016lx CR3 %016lx\n", r->r15, read_cr2(),
	       read_cr3());
}

extern char _start[], _end[];

/* Frame-pointer walk; stops at anything outside Keel's image. */
void print_backtrace(uint64_t rbp)
{
	printk("Backtrace:\n");
	for (int depth = 0; depth < 16 && rbp; depth++) {
		uint64_t *frame = (uint64_t *)rbp;

		if (rbp < (uint64_t)_start || rbp + 16 > (uint64_t)_end ||
		    !IS_ALIGNED(rbp, 8))
			break;
		printk("  [<%016lx>]\n", frame[1]);
		rbp = frame[0];
	}
}

struct extable_entry {
	uint64_t insn, fixup;
};
extern const struct extable_entry __ex_table_start[], __ex_table_end[];

static bool apply_fixup(struct cpu_regs *regs)
{
	for (const struct extable_entry *e = __ex_table_start;
	     e < __ex_table_end; e++) {
		if (e->insn == regs->rip) {
			regs->rip = e->fixup;
			return true;
		}
	}
	return false;
}

void trap_dispatch(struct cpu_regs *regs)
{
	unsigned v = regs->vector;

	this_cpu()->irq_count[v]++;
	if (v >= 32) {
		if (handlers[v])
			handlers[v](regs);
		else
			printk("cpu%u: unexpected interrupt vector %u\n",
			       this_cpu()->cpu, v);
		if (v != SPURIOUS_VECTOR)
			lapic_eoi();
		return;
	}
	if (v == 2 && handlers[v]) {
		handlers[v](regs);
		return;
	}
	if (v == 13 && apply_fixup(regs))
		return;
	printk("*** Keel exception on cpu%u: %s (vector %u) error %lx\n",
	       this_cpu()->cpu, exc_names[v], v, regs->error_code);
	dump_regs(regs);
	print_backtrace(regs->rbp);
	panic("unhandled exception in the hypervisor");
}
