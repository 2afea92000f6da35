/* SPDX-License-Identifier: MIT */
/*
 * CPL3 for the hostile cases (#AC and hypercalls exist only there): a GDT
 * with user segments and a TSS whose RSP0 takes exceptions from CPL3, user
 * access to the identity map, and an IDT gate user code may call to come
 * back (SDM vol. 3A §6.12.1, §7.7).
 */
#include "hostile.h"

#define SEL_USER_DATA 0x23 /* GDT entry 4, RPL 3 */
#define SEL_USER_CODE 0x2B /* GDT entry 5, RPL 3 */
#define SEL_TSS	      0x30 /* GDT entries 6-7 */
#define PTE_USER      0x4ULL
#define PTE_P	      0x1ULL
#define PTE_LARGE     0x80ULL
#define PTE_ADDR      0x000ffffffffff000ULL
#define CR4_SMEP      (1ULL << 20)
#define CR4_SMAP      (1ULL << 21)
#define RFLAGS_IOPL3  (3u << 12)
#define RFLAGS_FIXED  (1u << 1)

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t gdt[8] __attribute__((aligned(16)));
static struct tss64 tss;
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
static uint8_t user_stack[16384] __attribute__((aligned(16)));
uint64_t user_saved_rsp; /* Keel-side RSP of run_user, for user_return */

void user_return(void) __attribute__((noreturn));

/* Saves the callee-saved registers, enters fn at CPL3; user_return comes
 * back here from the exit gate's handler. */
__asm__(".globl run_user_asm\n"
	"run_user_asm:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\t"
	"push %r14\n\tpush %r15\n\t"
	"mov %rsp, user_saved_rsp(%rip)\n\t"
	"pushq $0x23\n\tpushq %rsi\n\tpushq %rdx\n\tpushq $0x2B\n\t"
	"pushq %rdi\n\tiretq\n"
	".globl user_return\n"
	"user_return:\n\t"
	"mov user_saved_rsp(%rip), %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\t"
	"pop %rbp\n\tpop %rbx\n\tret\n");
void run_user_asm(void (*fn)(void), uint64_t rsp, uint64_t rflags);

static void user_exit(uint8_t vector)
{
	(void)vector;
	user_return();
}

static void make_user_accessible(void)
{
	uint64_t *pml4, *pdpt, *pd, cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & PTE_ADDR);
	for (unsigned i = 0; i < 512; i++) {
		if (!(pml4[i] & PTE_P))
			continue;
		pml4[i] |= PTE_USER;
		pdpt = (uint64_t *)(pml4[i] & PTE_ADDR);
		for (unsigned j = 0; j < 512; j++) {
			if (!(pdpt[j] & PTE_P))
				continue;
			pdpt[j] |= PTE_USER;
			if (pdpt[j] & PTE_LARGE)
				continue;
			pd = (uint64_t *)(pdpt[j] & PTE_ADDR);
			for (unsigned k = 0; k < 512; k++)
				if (pd[k] & PTE_P)
					pd[k] |= PTE_USER; /* 2 MiB pages */
		}
	}
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
}

void user_mode_init(void)
{
	struct dtr gdtr, idtr;
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1, cr4;
	uint8_t *gate;
	static bool done;

	if (done)
		return;
	done = true;
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	memcpy(gdt, (void *)gdtr.base, 4 * sizeof(uint64_t));
	gdt[4] = 0x00CFF2000000FFFFULL; /* data, DPL 3 */
	gdt[5] = 0x00AFFA000000FFFFULL; /* 64-bit code, DPL 3 */
	gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		 (0x89ULL << 40) | (((limit >> 16) & 0xF) << 48) |
		 (((base >> 24) & 0xFF) << 56); /* available 64-bit TSS */
	gdt[7] = base >> 32;
	tss.rsp[0] = (uint64_t)(kernel_stack + sizeof(kernel_stack));
	tss.iomap_base = sizeof(tss);
	gdtr = (struct dtr){sizeof(gdt) - 1, (uint64_t)gdt};
	__asm__ volatile("lgdt %0; ltr %w1" ::"m"(gdtr), "r"(SEL_TSS));

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 &= ~(CR4_SMEP | CR4_SMAP);
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
	make_user_accessible();

	/* The exit gate may be called from CPL3: DPL 3, interrupt gate. */
	__asm__ volatile("sidt %0" : "=m"(idtr));
	gate = (uint8_t *)idtr.base + USER_EXIT_VECTOR * 16;
	gate[5] = 0xEE;
	irq_set_handler(USER_EXIT_VECTOR, user_exit);
}

void run_user(void (*fn)(void))
{
	run_user_asm(fn, (uint64_t)(user_stack + sizeof(user_stack)) - 8,
		     RFLAGS_IOPL3 | RFLAGS_FIXED);
}
