/* SPDX-License-Identifier: MIT */
/*
 * Keel's MMIO decoder (hypervisor/arch/x86/hvm/decode.c) from a guest:
 * loads from the LAPIC's version register under every combination of
 * the prefixes that leave a MOV a MOV (with 0x66 a 16-bit load: #GP),
 * a 15-byte MOV (the longest legal instruction), a 16-byte one (#GP from
 * the CPU, SDM vol. 2 §2.3.11), an MMIO MOV whose bytes cross a page
 * boundary, and the ones Keel cannot emulate and must answer by stopping
 * the domain: an instruction fetch across the end of RAM, MOVS, REP STOS
 * and an ADD to MMIO.
 */
#include "hostile.h"

#define LAPIC_GPA    0xFEE00000ULL
#define VERSION_OFF  0x30
#define MOV_EAX_DISP 0x8B, 0x80, 0x30, 0, 0, 0 /* mov eax, [rax + 0x30] */

static uint32_t version(void)
{
	return apic_read(APIC_VERSION);
}

void case_prefixes(void)
{
	/* Segment overrides (ignored in 64-bit mode), operand and address
	 * size, REP/REPNE (ignored by MOV), and a REX without W, R or B. */
	static const uint8_t prefixes[] = {0x2E, 0x36, 0x3E, 0x26,
					   0x66, 0x67, 0xF2, 0xF3};
	uint32_t expect = version();
	unsigned combos = 0, bad = 0;

	for (unsigned mask = 0; mask < 1u << ARRAY_SIZE(prefixes); mask++)
		for (unsigned rex = 0; rex < 3; rex++) {
			uint8_t insn[16];
			size_t n = 0;
			uint64_t rax = LAPIC_GPA + VERSION_OFF, want;
			uint32_t ex;
			bool ok;

			for (unsigned i = 0; i < ARRAY_SIZE(prefixes); i++)
				if (mask & (1u << i))
					insn[n++] = prefixes[i];
			if (rex)
				insn[n++] = rex == 1 ? 0x40 : 0x42;
			insn[n++] = 0x8B;
			insn[n++] = 0x00;
			/* 0x66 makes it a 16-bit load, which Keel's vLAPIC
			 * refuses with #GP (sub-dword APIC accesses are
			 * model-specific, SDM vol. 3A §11.4.1): RAX stays. */
			want = mask & 0x10 ? rax : expect;
			ex = run_insn(insn, n, &rax);
			ok = mask & 0x10 ? exinfo_faulted(ex) &&
					       exinfo_vector(ex) == X86_EXC_GP
					 : !ex;
			combos++;
			if (!ok || rax != want) {
				if (!bad++)
					printf("hostile: prefixes: mask %x rex "
					       "%u: exinfo %x rax %lx, want "
					       "%lx\n",
					       mask, rex, ex, rax, want);
			}
		}
	check(!bad,
	      "%u of %u prefix combinations load the version register "
	      "or (0x66) take #GP",
	      combos - bad, combos);
}

static uint32_t long_mov(unsigned prefixes, uint64_t *rax)
{
	static const uint8_t mov[] = {MOV_EAX_DISP};
	uint8_t insn[24];

	memset(insn, 0x3E, prefixes);
	memcpy(insn + prefixes, mov, sizeof(mov));
	return run_insn(insn, prefixes + sizeof(mov), rax);
}

void case_insn15(void)
{
	uint64_t rax = LAPIC_GPA;
	uint32_t ex = long_mov(9, &rax);

	check(!ex && rax == version(),
	      "a 15-byte MOV from the LAPIC (exinfo %x, %lx)", ex, rax);
}

void case_insn16(void)
{
	uint64_t rax = LAPIC_GPA;
	uint32_t ex = long_mov(10, &rax);

	check(exinfo_faulted(ex) && exinfo_vector(ex) == X86_EXC_GP,
	      "a 16-byte MOV from the LAPIC: #GP (exinfo %x)", ex);
}

static void call_at(void *insn, uint64_t *rax)
{
	__asm__ volatile("call *%1"
			 : "+a"(*rax)
			 : "r"(insn)
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
			   "memory", "cc");
}

void case_fetchcross(void)
{
	static const uint8_t mov[] = {0x3E, 0x3E, MOV_EAX_DISP, 0xC3};
	static uint8_t pages[2 * 4096] __attribute__((aligned(4096)));

	for (unsigned split = 1; split < sizeof(mov) - 1; split++) {
		uint8_t *at = pages + 4096 - split;
		uint64_t rax = LAPIC_GPA;

		memcpy(at, mov, sizeof(mov));
		__asm__ volatile("" ::: "memory");
		call_at(at, &rax);
		check(rax == version(),
		      "an MMIO MOV with %u of its bytes on the first page "
		      "(%lx)",
		      split, rax);
	}
}

void case_fetchend(void)
{
	static const uint8_t mov[] = {MOV_EAX_DISP, 0xC3};
	uint8_t *at = (uint8_t *)ram_end() - 3;
	uint64_t rax = LAPIC_GPA;

	printf("hostile: fetchend: an MMIO MOV at %p, 3 bytes before the end "
	       "of RAM\n",
	       (void *)at);
	memcpy(at, mov, 3);
	call_at(at, &rax);
	expect_stopped("a fetch across the end of RAM");
}

void case_mmio_movs(void)
{
	static uint32_t buf[4];

	__asm__ volatile("movsl"
			 : "+S"((uint64_t){LAPIC_GPA + VERSION_OFF}),
			   "+D"((uint64_t){(uint64_t)buf})
			 :
			 : "memory");
	expect_stopped("MOVS from the LAPIC");
}

void case_mmio_stos(void)
{
	__asm__ volatile("rep stosl"
			 : "+D"((uint64_t){LAPIC_GPA + 0x80}),
			   "+c"((uint64_t){4})
			 : "a"(0)
			 : "memory");
	expect_stopped("REP STOS to the LAPIC");
}

void case_mmio_unknown(void)
{
	__asm__ volatile("addl $0, (%0)" ::"r"(LAPIC_GPA + 0x80) : "memory");
	expect_stopped("ADD to the LAPIC's TPR");
}
