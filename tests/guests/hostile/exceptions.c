/* SPDX-License-Identifier: MIT */
/*
 * #DB and #AC, which Keel intercepts so that no guest can make the CPU
 * deliver them in a loop (CVE-2015-5307, CVE-2015-8104): each must still
 * reach the guest exactly as the architecture says. ICEBP (F1) is a trap
 * to #DB, not #UD (SDM vol. 2, INT1).
 */
#include "hostile.h"

#define DR6_B0	  (1ULL << 0)
#define DR6_BS	  (1ULL << 14)
#define CR0_AM	  (1ULL << 18)
#define RFLAGS_AC (1ULL << 18)

static volatile uint64_t watched;
/* dr6=0: the CPU does not write DR6 before a #DB intercept (Bochs's SVM) */
static uint64_t dr6_checked = 1;
static volatile uint32_t user_exinfo;

static uint64_t read_dr6(void)
{
	uint64_t v;

	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void write_dr6(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

/* At CPL3 with CR0.AM and RFLAGS.AC: a misaligned load raises #AC(0). */
static void user_misaligned_load(void)
{
	uint64_t exinfo = 0;
	static uint8_t buf[16] __attribute__((aligned(16)));

	__asm__ volatile(
	    "pushfq; orq %2, (%%rsp); popfq\n\t"
	    "1: movl (%1), %%eax\n2:\n\t"
	    "pushfq; andq %3, (%%rsp); popfq\n\t" EXTABLE_ENTRY(1b, 2b)
	    : "+D"(exinfo)
	    : "r"(buf + 1), "i"(RFLAGS_AC), "i"(~RFLAGS_AC)
	    : "rax", "memory", "cc");
	user_exinfo = (uint32_t)exinfo;
	__asm__ volatile("int %0" ::"i"(USER_EXIT_VECTOR));
	__builtin_unreachable();
}

static void alignment_check(void)
{
	uint64_t cr0;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0 | CR0_AM));
	user_exinfo = 0;
	run_user(user_misaligned_load);
	__asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
	check(exinfo_faulted(user_exinfo) &&
		  exinfo_vector(user_exinfo) == X86_EXC_AC &&
		  exinfo_error_code(user_exinfo) == 0,
	      "misaligned load at CPL3 with AC: #AC(0) (exinfo %x)",
	      user_exinfo);
}

static void single_step(void)
{
	uint64_t exinfo = 0;

	write_dr6(0xFFFF0FF0);
	/* POPF sets TF: the trap follows the next instruction. */
	__asm__ volatile("pushfq; orq %1, (%%rsp); popfq\n\t"
			 "nop\n1:\n\tnop\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "i"(X86_EFLAGS_TF)
			 : "memory", "cc");
	check(exinfo_faulted((uint32_t)exinfo) &&
		  exinfo_vector((uint32_t)exinfo) == X86_EXC_DB,
	      "single step: #DB after the next instruction (exinfo %lx)",
	      exinfo);
	check(!dr6_checked || (read_dr6() & DR6_BS),
	      "single step: DR6.BS set (DR6 %lx)", read_dr6());
}

static void data_breakpoint(void)
{
	uint64_t exinfo = 0;
	/* L0, R/W0 = 01 (writes), LEN0 = 11 (8 bytes): SDM vol. 3B §18.2.4 */
	uint64_t dr7 = 0x1 | (1ULL << 16) | (3ULL << 18) | 0x400;

	write_dr6(0xFFFF0FF0);
	__asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)&watched));
	__asm__ volatile("mov %0, %%dr7" ::"r"(dr7));
	__asm__ volatile("1: movq $1, %1\n2:\n\t" EXTABLE_ENTRY(2b, 2b)
			 : "+D"(exinfo), "=m"(watched)
			 :
			 : "memory");
	__asm__ volatile("mov %0, %%dr7" ::"r"(0x400ULL));
	check(exinfo_faulted((uint32_t)exinfo) &&
		  exinfo_vector((uint32_t)exinfo) == X86_EXC_DB,
	      "data breakpoint: #DB after the write (exinfo %lx)", exinfo);
	check(!dr6_checked || (read_dr6() & DR6_B0),
	      "data breakpoint: DR6.B0 set (DR6 %lx)", read_dr6());
}

static void icebp(void)
{
	uint64_t exinfo = 0;
	uint64_t dr6;

	write_dr6(0xFFFF0FF0);
	/* A #UD would be at 1b, which has no fixup: the test fails there. */
	__asm__ volatile("1: .byte 0xf1\n2:\n\t" EXTABLE_ENTRY(2b, 2b)
			 : "+D"(exinfo)
			 :
			 : "memory");
	dr6 = read_dr6();
	check(exinfo_faulted((uint32_t)exinfo) &&
		  exinfo_vector((uint32_t)exinfo) == X86_EXC_DB,
	      "ICEBP: #DB with RIP after it (exinfo %lx)", exinfo);
	check((dr6 & (DR6_BS | 0xF)) == 0,
	      "ICEBP: no B0-B3 or BS in DR6 (DR6 %lx)", dr6);
}

static void breakpoint(void)
{
	uint64_t exinfo = 0;

	__asm__ volatile("int3\n2:\n\t" EXTABLE_ENTRY(2b, 2b)
			 : "+D"(exinfo)
			 :
			 : "memory");
	check(exinfo_vector((uint32_t)exinfo) == X86_EXC_BP,
	      "INT3: #BP (exinfo %lx)", exinfo);
}

void case_exceptions(void)
{
	uint64_t icebp_on = 1, ac_on = 1;

	cmdline_u64("dr6", &dr6_checked);
	user_mode_init();
	single_step();
	data_breakpoint();
	/* QEMU 7.2 compiles ICEBP out (#UD before any intercept): icebp=0. */
	cmdline_u64("icebp", &icebp_on);
	if (icebp_on)
		icebp();
	else
		printf("hostile: exceptions: ICEBP not tried (icebp=0)\n");
	breakpoint();
	/* QEMU's TCG never checks alignment: ac=0 there. */
	cmdline_u64("ac", &ac_on);
	if (ac_on)
		alignment_check();
	else
		printf("hostile: exceptions: #AC not tried (ac=0)\n");
	/* A burst: every single step is an exit and a reflection now. */
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t exinfo = 0;

		__asm__ volatile("pushfq; orq %1, (%%rsp); popfq\n\t"
				 "nop\n1:\n\t" EXTABLE_ENTRY(1b, 1b)
				 : "+D"(exinfo)
				 : "i"(X86_EFLAGS_TF)
				 : "memory", "cc");
		if (exinfo_vector((uint32_t)exinfo) != X86_EXC_DB) {
			check(false, "single-step burst: #DB at round %u", i);
			break;
		}
	}
	printf("hostile: exceptions: 20000 single-step #DBs taken\n");
}

/* With an IDT limit of 0, INT3 cannot be delivered, nor the #GP and #DF
 * that follow: a triple fault, after which Keel stops the domain. */
void case_triple(void)
{
	idt_load_empty();
	__asm__ volatile("int3");
	expect_stopped("triple fault");
}
