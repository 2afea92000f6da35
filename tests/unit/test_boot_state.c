/* SPDX-License-Identifier: MIT */
/*
 * A DomU vCPU's boot state (hypervisor/arch/x86/hvm/boot_state.c): every
 * refusal public/keel.h names for KEEL_HC_VCPU_BOOT_STATE, the flat
 * segments Keel builds itself (the same attributes linux_loader.c gives
 * Dom0), and the CR4 bits a vCPU may have from the CPUID it sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/boot_state.h>
#include <keel/errno.h>
#include <keel/x86.h>
#include "shim.h"

#define CR0_GOOD (X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG)
/* What a vCPU with PAE, PGE, FXSR and SSE may set. */
static uint64_t allowed;

static struct keel_vcpu_boot_state good(void)
{
	return (struct keel_vcpu_boot_state){
	    .mode = KEEL_VCPU_BOOT_LONG64,
	    .cs = 0x10,
	    .ds = 0x18,
	    .gdt_base = 0x5000,
	    .gdt_limit = 4 * 8 - 1,
	    .cr0 = CR0_GOOD,
	    .cr3 = 0x9000,
	    .cr4 = X86_CR4_PAE,
	    .efer = EFER_LME | EFER_LMA,
	    .rip = 0xFFFFFFFF81000000ULL,
	    .rsp = 0x80000,
	    .rflags = 0,
	    .rsi = 0x7000,
	    .r15 = 15,
	};
}

static int apply(const struct keel_vcpu_boot_state *b)
{
	struct guest_state s = {.pat = 0x0007040600070406ULL};
	uint64_t gpr[NR_GPRS] = {0};

	return boot_state_apply(b, allowed, &s, gpr);
}

static int setup(void **state)
{
	(void)state;
	allowed = boot_state_cr4_allowed(0,
					 CPUID_1_EDX_PAE | CPUID_1_EDX_PGE |
					     CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE,
					 0, 0);
	return 0;
}

static void test_good_state(void **state)
{
	struct keel_vcpu_boot_state b = good();
	struct guest_state s = {.pat = 0x0007040600070406ULL};
	uint64_t gpr[NR_GPRS] = {0};

	(void)state;
	b.cr4 |= X86_CR4_PGE | X86_CR4_OSFXSR;
	b.efer |= EFER_NXE | EFER_SCE;
	assert_int_equal(boot_state_apply(&b, allowed, &s, gpr), 0);
	assert_int_equal(s.cr0, CR0_GOOD);
	assert_int_equal(s.cr3, 0x9000);
	assert_int_equal(s.efer, EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE);
	assert_int_equal(s.rip, 0xFFFFFFFF81000000ULL);
	assert_int_equal(s.rflags, 2); /* bit 1 always reads as 1 */
	/* Keel's flat segments, as linux_loader.c builds Dom0's. */
	assert_int_equal(s.cs.sel, 0x10);
	assert_int_equal(s.cs.attr, 0xA9B);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.ds.attr, 0xC93);
	assert_int_equal(s.ss.sel, 0x18);
	assert_int_equal(s.gs.attr, 0xC93);
	assert_int_equal(s.tr.attr, 0x8B);
	assert_int_equal(s.gdtr_base, 0x5000);
	assert_int_equal(s.gdtr_limit, 31);
	assert_int_equal(s.idtr_limit, 0);
	assert_int_equal(s.cpl, 0);
	assert_int_equal(s.pat, 0x0007040600070406ULL); /* left alone */
	assert_int_equal(gpr[GPR_RSP], 0x80000);
	assert_int_equal(gpr[GPR_RSI], 0x7000);
	assert_int_equal(gpr[GPR_R15], 15);
}

static void test_mode(void **state)
{
	struct keel_vcpu_boot_state b = good();

	(void)state;
	b.mode = 0;
	assert_int_equal(apply(&b), -EINVAL);
	b.mode = 2;
	assert_int_equal(apply(&b), -EINVAL);
}

static void test_cr0(void **state)
{
	static const uint64_t bad[] = {
	    CR0_GOOD & ~X86_CR0_PG, CR0_GOOD & ~X86_CR0_PE,
	    CR0_GOOD & ~X86_CR0_ET, CR0_GOOD | X86_CR0_CD,
	    CR0_GOOD | X86_CR0_NW,  CR0_GOOD | (1ULL << 6),
	    CR0_GOOD | (1ULL << 32)};
	struct keel_vcpu_boot_state b = good();

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.cr0 = bad[i];
		assert_int_equal(apply(&b), -EINVAL);
	}
	b.cr0 = CR0_GOOD | X86_CR0_WP | X86_CR0_MP | X86_CR0_AM;
	assert_int_equal(apply(&b), 0);
}

static void test_cr4(void **state)
{
	struct keel_vcpu_boot_state b = good();

	(void)state;
	b.cr4 = 0;
	assert_int_equal(apply(&b), -EINVAL);
	b.cr4 = X86_CR4_PAE | (1ULL << 13); /* VMXE: never for guests */
	assert_int_equal(apply(&b), -EINVAL);
	b.cr4 = X86_CR4_PAE | (1ULL << 12); /* LA57: hidden */
	assert_int_equal(apply(&b), -EINVAL);
	b.cr4 = X86_CR4_PAE | X86_CR4_SMEP; /* not in this vCPU's CPUID */
	assert_int_equal(apply(&b), -EINVAL);
	b.cr4 = X86_CR4_PAE | X86_CR4_OSXSAVE;
	assert_int_equal(apply(&b), -EINVAL);
	b.cr4 = X86_CR4_PAE | (1ULL << 40);
	assert_int_equal(apply(&b), -EINVAL);
}

static void test_cr4_allowed_follows_cpuid(void **state)
{
	uint64_t all = boot_state_cr4_allowed(
	    CPUID_1_ECX_PCID | CPUID_1_ECX_XSAVE,
	    CPUID_1_EDX_VME | CPUID_1_EDX_DE | CPUID_1_EDX_PSE |
		CPUID_1_EDX_PAE | CPUID_1_EDX_MCE | CPUID_1_EDX_PGE |
		CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE,
	    CPUID_7_EBX_FSGSBASE | CPUID_7_EBX_SMEP | CPUID_7_EBX_SMAP,
	    CPUID_7_ECX_UMIP | CPUID_7_ECX_PKU);

	(void)state;
	assert_int_equal(boot_state_cr4_allowed(0, 0, 0, 0),
			 X86_CR4_TSD | X86_CR4_PCE);
	assert_true(all & X86_CR4_SMEP);
	assert_true(all & X86_CR4_PKE);
	assert_true(all & X86_CR4_PCIDE);
	assert_false(all & (1ULL << 12)); /* LA57 */
	assert_false(all & (1ULL << 13)); /* VMXE */
	assert_false(all & (1ULL << 14)); /* SMXE */
	assert_false(all & (1ULL << 23)); /* CET */
	assert_false(allowed & X86_CR4_SMEP);
}

static void test_efer(void **state)
{
	static const uint64_t bad[] = {EFER_LME, EFER_LMA, 0,
				       EFER_LME | EFER_LMA | EFER_SVME,
				       EFER_LME | EFER_LMA | (1ULL << 13)};
	struct keel_vcpu_boot_state b = good();

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b.efer = bad[i];
		assert_int_equal(apply(&b), -EINVAL);
	}
}

static void test_cr3(void **state)
{
	struct keel_vcpu_boot_state b = good();

	(void)state;
	b.cr3 = 0x9000 | PTE_PWT | PTE_PCD;
	assert_int_equal(apply(&b), 0);
	b.cr3 = 0x9001; /* a PCID without CR4.PCIDE */
	assert_int_equal(apply(&b), -EINVAL);
	b.cr3 = KEEL_MAX_GPA;
	assert_int_equal(apply(&b), -EINVAL);
}

static void test_canonical(void **state)
{
	struct keel_vcpu_boot_state b = good();

	(void)state;
	b.rip = 0x0000800000000000ULL;
	assert_int_equal(apply(&b), -EINVAL);
	b = good();
	b.rip = 0xFFFF7FFFFFFFFFFFULL;
	assert_int_equal(apply(&b), -EINVAL);
	b = good();
	b.rsp = 0x8000000000000000ULL;
	assert_int_equal(apply(&b), -EINVAL);
	b = good();
	b.gdt_base = 1ULL << 47;
	assert_int_equal(apply(&b), -EINVAL);
	b = good();
	b.rip = 0x00007FFFFFFFF000ULL;
	assert_int_equal(apply(&b), 0);
}

static void test_selectors(void **state)
{
	static const uint16_t bad[] = {0, 1, 0x13, 0x14, 0x20, 0xFFF8};
	struct keel_vcpu_boot_state b = good();

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = good();
		b.cs = bad[i];
		assert_int_equal(apply(&b), -EINVAL);
		b = good();
		b.ds = bad[i];
		assert_int_equal(apply(&b), -EINVAL);
	}
	b = good();
	b.gdt_limit = 0x10000;
	assert_int_equal(apply(&b), -EINVAL);
	b.gdt_limit = 0x17; /* DS 0x18 would be past the end */
	assert_int_equal(apply(&b), -EINVAL);
}

static void test_rflags(void **state)
{
	struct keel_vcpu_boot_state b = good();

	(void)state;
	b.rflags = X86_RFLAGS_VM | 2;
	assert_int_equal(apply(&b), -EINVAL);
	b.rflags = 1ULL << 3; /* reserved */
	assert_int_equal(apply(&b), -EINVAL);
	b.rflags = 1ULL << 22;
	assert_int_equal(apply(&b), -EINVAL);
	b.rflags = X86_RFLAGS_IF | 2;
	assert_int_equal(apply(&b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_good_state, setup),
	    cmocka_unit_test_setup(test_mode, setup),
	    cmocka_unit_test_setup(test_cr0, setup),
	    cmocka_unit_test_setup(test_cr4, setup),
	    cmocka_unit_test_setup(test_cr4_allowed_follows_cpuid, setup),
	    cmocka_unit_test_setup(test_efer, setup),
	    cmocka_unit_test_setup(test_cr3, setup),
	    cmocka_unit_test_setup(test_canonical, setup),
	    cmocka_unit_test_setup(test_selectors, setup),
	    cmocka_unit_test_setup(test_rflags, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
