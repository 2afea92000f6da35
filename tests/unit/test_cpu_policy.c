/* SPDX-License-Identifier: MIT */
/*
 * The guest CPUID policy (hypervisor/arch/x86/hvm/cpu_policy.c) applied to
 * CPUID dumps of real CPUs (tests/unit/data/cpuid/). The whitelist below
 * is written out again from the manuals, independently of the policy's
 * own tables: every bit a guest can see must be in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/cpu_policy.h>
#include "shim.h"

#define DUMP_DIR    "tests/unit/data/cpuid/"
#define MAX_ENTRIES 256

struct dump {
	const char *file;
	unsigned n;
	struct {
		uint32_t leaf, sub, r[4];
	} e[MAX_ENTRIES];
};

static const char *const dump_files[] = {
    "epyc-7763-milan.txt",	    "epyc-7742-rome.txt",
    "ryzen9-5950x-vermeer.txt",	    "xeon-gold-6330-icelake.txt",
    "core-i5-1135g7-tigerlake.txt",
};

static void load_dump(struct dump *d, const char *file)
{
	char path[256], line[256];
	FILE *f;
	uint32_t prev_leaf = ~0u, next_sub = 0;

	memset(d, 0, sizeof(*d));
	d->file = file;
	snprintf(path, sizeof(path), DUMP_DIR "%s", file);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		uint32_t leaf, r[4], sub;
		const char *sl;

		if (sscanf(line, "CPUID %x: %x-%x-%x-%x", &leaf, &r[0], &r[1],
			   &r[2], &r[3]) != 5)
			continue;
		next_sub = leaf == prev_leaf ? next_sub + 1 : 0;
		prev_leaf = leaf;
		sl = strstr(line, "[SL ");
		sub = sl ? (uint32_t)strtoul(sl + 4, NULL, 16) : next_sub;
		assert_true(d->n < MAX_ENTRIES);
		d->e[d->n].leaf = leaf;
		d->e[d->n].sub = sub;
		memcpy(d->e[d->n].r, r, sizeof(r));
		d->n++;
	}
	fclose(f);
	assert_true(d->n > 20);
}

static void dump_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *ctx)
{
	const struct dump *d = ctx;

	memset(r, 0, 16);
	for (unsigned i = 0; i < d->n; i++)
		if (d->e[i].leaf == leaf && d->e[i].sub == sub) {
			memcpy(r, d->e[i].r, 16);
			return;
		}
}

static uint32_t raw_reg(const struct dump *d, uint32_t leaf, uint32_t sub,
			int reg)
{
	uint32_t r[4];

	dump_cpuid(leaf, sub, r, (void *)d);
	return r[reg];
}

#define B(n) (1u << (n))
#define ALL  0xFFFFFFFFu
enum { EAX, EBX, ECX, EDX };

/*
 * What a guest may see, leaf by leaf: any bit outside these masks is a
 * policy error. Leaves not listed must read as zero.
 */
struct allowed {
	uint32_t leaf;
	bool indexed; /* by subleaf (ECX); else ECX is ignored */
	uint32_t reg[4];
};

static const struct allowed allowed[] = {
    {0, false, {ALL, ALL, ALL, ALL}}, /* max leaf, vendor */
    {1,
     false,
     {ALL, ALL,
      /* SSE3 PCLMUL SSSE3 FMA CX16 PCID SSE4.1 SSE4.2 x2APIC MOVBE
       * POPCNT TSC-deadline AES XSAVE OSXSAVE AVX F16C RDRAND hyp. */
      B(0) | B(1) | B(9) | B(12) | B(13) | B(17) | B(19) | B(20) | B(21) |
	  B(22) | B(23) | B(24) | B(25) | B(26) | B(27) | B(28) | B(29) |
	  B(30) | B(31),
      /* no PSN(18) DS(21) ACPI(22) TM(29) IA64(30) PBE(31) */
      ALL & ~(B(10) | B(18) | B(20) | B(21) | B(22) | B(29) | B(30) | B(31))}},
    {2, false, {ALL, ALL, ALL, ALL}}, /* cache descriptors */
    {4, true, {ALL, ALL, ALL, ALL}},  /* deterministic caches */
    {6, false, {B(2), 0, 0, 0}},      /* ARAT only */
    {7,
     true,
     {0,
      /* no TSC_ADJUST(1) SGX(2) HLE(4) RTM(11) PQM(12) MPX(14)
       * PQE(15) PT(25) */
      ALL &
	  ~(B(1) | B(2) | B(4) | B(11) | B(12) | B(14) | B(15) | B(22) | B(25)),
      /* no WAITPKG(5) CET_SS(7) TME(13) LA57(16) MAWAU(17-21)
       * KL(23) BUS_LOCK(24) ENQCMD(29) SGX_LC(30) PKS(31) */
      ALL & ~(B(5) | B(7) | B(13) | B(15) | B(16) | B(17) | B(18) | B(19) |
	      B(20) | B(21) | B(23) | B(24) | B(26) | B(29) | B(30) | B(31)),
      /* no UINTR(5) HYBRID(15) TSXLDTRK(16) PCONFIG(18) CET_IBT(20)
       * AMX(22,24,25) CORE_CAPABILITIES(30) */
      ALL & ~(B(0) | B(1) | B(5) | B(6) | B(7) | B(9) | B(11) | B(12) | B(13) |
	      B(15) | B(16) | B(17) | B(18) | B(19) | B(20) | B(21) | B(22) |
	      B(24) | B(25) | B(30))}},
    {0xB, true, {ALL, ALL, ALL, ALL}},	 /* Keel's topology */
    {0xD, true, {ALL, ALL, ALL, ALL}},	 /* checked on its own */
    {0x15, false, {ALL, ALL, ALL, ALL}}, /* TSC/crystal ratio */
    {0x16, false, {ALL, ALL, ALL, ALL}}, /* frequencies */
    {0x80000000, false, {ALL, ALL, ALL, ALL}},
    {0x80000001,
     false,
     {ALL, ALL,
      /* LAHF LZCNT SSE4A MisAlignSse 3DNowPrefetch XOP FMA4 TBM */
      B(0) | B(5) | B(6) | B(7) | B(8) | B(11) | B(16) | B(21),
      /* no FFXSR(25) */
      ALL & ~(B(10) | B(18) | B(19) | B(21) | B(25) | B(28))}},
    {0x80000002, false, {ALL, ALL, ALL, ALL}},
    {0x80000003, false, {ALL, ALL, ALL, ALL}},
    {0x80000004, false, {ALL, ALL, ALL, ALL}},
    {0x80000005, false, {ALL, ALL, ALL, ALL}},
    {0x80000006, false, {ALL, ALL, ALL, ALL}},
    {0x80000007, false, {0, 0, 0, B(8)}}, /* invariant TSC */
    {0x80000008,
     false,
     {0xFFFF,
      B(0) | B(2) | B(9) | B(12) | B(14) | B(15) | B(16) | B(17) | B(18) |
	  B(19) | B(24) | B(26) | B(29) | B(30),
      0xF0FF, 0}},
};

static const struct allowed *find_allowed(uint32_t leaf, uint32_t sub)
{
	/* Leaf 7 has subleaf 0 only: its EAX (the last subleaf) is 0. */
	if (leaf == 7 && sub)
		return NULL;
	for (unsigned i = 0; i < ARRAY_SIZE(allowed); i++)
		if (allowed[i].leaf == leaf)
			return &allowed[i];
	return NULL;
}

static struct dump dumps[ARRAY_SIZE(dump_files)];
static struct cpu_policy policies[ARRAY_SIZE(dump_files)];

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++) {
		load_dump(&dumps[i], dump_files[i]);
		cpu_policy_build(&policies[i], dump_cpuid, &dumps[i], 0);
	}
	return 0;
}

static const struct cpu_policy *policy_of(const char *file,
					  const struct dump **d)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++)
		if (!strcmp(dump_files[i], file)) {
			if (d)
				*d = &dumps[i];
			return &policies[i];
		}
	fail_msg("no dump %s", file);
	return NULL;
}

static struct cpuid_vcpu_view view_all(const struct cpu_policy *p)
{
	return (struct cpuid_vcpu_view){.apic_id = 3,
					.nr_vcpus = 4,
					.cr4 = (1u << 18) | (1u << 22),
					.xcr0 = p->xcr0_mask};
}

static void query(const struct cpu_policy *p, uint32_t leaf, uint32_t sub,
		  uint32_t r[4])
{
	struct cpuid_vcpu_view v = view_all(p);

	cpu_policy_cpuid(p, &v, leaf, sub, r);
}

/* Every leaf 0..0x40 and 0x80000000..0x80000040, subleaves 0..63. */
static void test_only_whitelisted_bits(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++) {
		const struct cpu_policy *p = &policies[i];

		for (unsigned range = 0; range < 2; range++) {
			uint32_t base = range ? 0x80000000u : 0;

			for (uint32_t leaf = base; leaf <= base + 0x40; leaf++)
				for (uint32_t sub = 0; sub < 64; sub++) {
					const struct allowed *a =
					    find_allowed(leaf, sub);
					uint32_t r[4], r0[4];

					query(p, leaf, sub, r);
					query(p, leaf, 0, r0);
					if (a && !a->indexed &&
					    memcmp(r, r0, sizeof(r)))
						fail_msg("%s: leaf %x depends "
							 "on ECX",
							 dump_files[i], leaf);
					for (int g = 0; g < 4; g++) {
						uint32_t ok = a ? a->reg[g] : 0;

						if (r[g] & ~ok)
							fail_msg(
							    "%s: leaf %x.%u "
							    "reg %d = %08x "
							    "shows %08x",
							    dump_files[i], leaf,
							    sub, g, r[g],
							    r[g] & ~ok);
					}
				}
		}
	}
}

static const uint32_t hidden_leaves[] = {
    0x8000001F, 0x8000000A, 0x8000001E, 0x8000001D, 0x14, 0x12, 0xA, 5, 0x1F};

static void test_clamped_leaves(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++) {
		const struct cpu_policy *p = &policies[i];
		uint32_t r[4];

		query(p, 0, 0, r);
		assert_true(r[0] <= CPU_POLICY_MAX_BASIC && r[0] >= 0xB);
		query(p, 0x80000000, 0, r);
		assert_true(r[0] <= CPU_POLICY_MAX_EXT);
		/* SME/SEV, the SVM leaf, TOPOEXT's leaves, PT, SGX, PMU,
		 * MONITOR: zero. */
		for (unsigned j = 0; j < ARRAY_SIZE(hidden_leaves); j++) {
			query(p, hidden_leaves[j], 0, r);
			assert_true(!r[0] && !r[1] && !r[2] && !r[3]);
		}
	}
}

/* What the host has and a guest must not see. */
static void test_hidden_features(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++) {
		const struct cpu_policy *p = &policies[i];
		uint32_t r[4];

		query(p, 1, 0, r);
		assert_false(r[ECX] & B(5)); /* VMX */
		assert_false(r[ECX] & B(3)); /* MONITOR */
		assert_true(r[ECX] & B(31)); /* hypervisor */
		assert_true(r[ECX] & B(21)); /* x2APIC */
		assert_true(r[ECX] & B(24)); /* TSC-deadline */
		query(p, 7, 0, r);
		assert_false(r[ECX] & B(16)); /* LA57 */
		query(p, 0x80000001, 0, r);
		assert_false(r[ECX] & B(2));  /* SVM */
		assert_false(r[ECX] & B(22)); /* TOPOEXT */
		query(p, 0x80000008, 0, r);
		assert_true(((r[EAX] >> 8) & 0xFF) <= 48);
	}
}

/* The SEV leaf is there on the AMD server parts and gone for guests. */
static void test_sev_hidden_on_epyc(void **state)
{
	const struct dump *d;
	const struct cpu_policy *p = policy_of("epyc-7763-milan.txt", &d);
	uint32_t r[4];

	(void)state;
	assert_true(raw_reg(d, 0x8000001F, 0, EAX) & B(1)); /* host has SEV */
	assert_true(raw_reg(d, 0x80000000, 0, EAX) >= 0x8000001F);
	query(p, 0x80000000, 0, r);
	assert_int_equal(r[EAX], 0x80000008);
	query(p, 0x8000001F, 0, r);
	assert_int_equal(r[EAX], 0);
}

/* AVX-512 comes with its three XSAVE components or not at all. */
static void test_avx512_follows_xstate(void **state)
{
	const struct dump *d;
	const struct cpu_policy *p =
	    policy_of("core-i5-1135g7-tigerlake.txt", &d);
	struct dump cut;
	struct cpu_policy q;
	uint32_t r[4];

	(void)state;
	query(p, 7, 0, r);
	assert_true(r[EBX] & B(16)); /* AVX512F shown: the host saves it */
	assert_int_equal(p->xcr0_mask & XSTATE_AVX512, XSTATE_AVX512);
	/* PT (8) and the CET states (11, 12) are never guest XCR0 bits. */
	assert_int_equal(p->xcr0_mask & ~XSTATE_GUEST_ALLOWED, 0);

	/* The same CPU with component 7 (Hi16_ZMM) missing from 0xD. */
	cut = *d;
	for (unsigned i = 0; i < cut.n; i++)
		if (cut.e[i].leaf == 0xD && cut.e[i].sub == 0)
			cut.e[i].r[EAX] &= ~(1u << 7);
	cpu_policy_build(&q, dump_cpuid, &cut, 0);
	assert_int_equal(q.xcr0_mask & XSTATE_AVX512, 0);
	query(&q, 7, 0, r);
	assert_int_equal(r[EBX] & (B(16) | B(17) | B(21) | B(26) | B(27) |
				   B(28) | B(30) | B(31)),
			 0);
	assert_int_equal(r[ECX] & (B(1) | B(6) | B(11) | B(12) | B(14)), 0);
	assert_int_equal(r[EDX] & (B(2) | B(3) | B(8) | B(23)), 0);
	assert_true(r[EBX] & B(5)); /* AVX2 stays */

	/* Without YMM: no AVX, AVX2, FMA, F16C, VAES, VPCLMULQDQ. */
	for (unsigned i = 0; i < cut.n; i++)
		if (cut.e[i].leaf == 0xD && cut.e[i].sub == 0)
			cut.e[i].r[EAX] &= ~(1u << 2);
	cpu_policy_build(&q, dump_cpuid, &cut, 0);
	query(&q, 1, 0, r);
	assert_int_equal(r[ECX] & (B(28) | B(12) | B(29)), 0);
	query(&q, 7, 0, r);
	assert_int_equal(r[EBX] & B(5), 0);
	assert_int_equal(r[ECX] & (B(9) | B(10)), 0);
}

/* Ice Lake's dump claims PKRU in XCR0 but gives it no size: no PKU. */
static void test_pku_needs_pkru_state(void **state)
{
	const struct dump *d;
	const struct cpu_policy *p =
	    policy_of("xeon-gold-6330-icelake.txt", &d);
	uint32_t r[4];

	(void)state;
	assert_true(raw_reg(d, 7, 0, ECX) & B(3));
	assert_true(raw_reg(d, 0xD, 0, EAX) & B(9));
	assert_int_equal(p->xcr0_mask & XSTATE_PKRU, 0);
	query(p, 7, 0, r);
	assert_int_equal(r[ECX] & (B(3) | B(4)), 0);

	p = policy_of("epyc-7763-milan.txt", NULL);
	assert_true(p->xcr0_mask & XSTATE_PKRU);
	query(p, 7, 0, r);
	assert_true(r[ECX] & B(3));
	assert_true(r[ECX] & B(4)); /* OSPKE: the view has CR4.PKE */
}

static void test_xsave_sizes(void **state)
{
	const struct cpu_policy *p = policy_of("epyc-7763-milan.txt", NULL);
	struct cpuid_vcpu_view v = view_all(p);
	uint32_t r[4];

	(void)state;
	assert_int_equal(p->xcr0_mask,
			 XSTATE_X87 | XSTATE_SSE | XSTATE_YMM | XSTATE_PKRU);
	v.xcr0 = XSTATE_X87 | XSTATE_SSE;
	cpu_policy_cpuid(p, &v, 0xD, 0, r);
	assert_int_equal(r[EAX], 0x207);
	assert_int_equal(r[EBX], 576);
	assert_int_equal(r[ECX], 0x988); /* what the host says for all */
	v.xcr0 |= XSTATE_YMM;
	cpu_policy_cpuid(p, &v, 0xD, 0, r);
	assert_int_equal(r[EBX], 0x340);
	cpu_policy_cpuid(p, &v, 0xD, 1, r);
	assert_int_equal(r[EAX], 0x7); /* XSAVEOPT XSAVEC XGETBV1, no XSAVES */
	assert_int_equal(r[EBX], 576 + 256);
	cpu_policy_cpuid(p, &v, 0xD, 2, r);
	assert_int_equal(r[EAX], 256);
	assert_int_equal(r[EBX], 576);
	/* Components a guest cannot enable read as zero. */
	cpu_policy_cpuid(p, &v, 0xD, 11, r);
	assert_true(!r[0] && !r[1] && !r[2] && !r[3]);

	p = policy_of("xeon-gold-6330-icelake.txt", NULL);
	v = view_all(p);
	cpu_policy_cpuid(p, &v, 0xD, 0, r);
	assert_int_equal(r[EAX], 0xE7);
	assert_int_equal(r[EBX], 0xA80); /* Hi16_ZMM ends at 0x680 + 0x400 */
	assert_int_equal(r[ECX], 0xA80);
}

static void test_xcr0_rules(void **state)
{
	const struct cpu_policy *p =
	    policy_of("core-i5-1135g7-tigerlake.txt", NULL);
	const uint64_t x87 = XSTATE_X87, sse = XSTATE_SSE, ymm = XSTATE_YMM;

	(void)state;
	assert_true(cpu_policy_xcr0_valid(p, x87));
	assert_true(cpu_policy_xcr0_valid(p, x87 | sse | ymm));
	assert_true(cpu_policy_xcr0_valid(p, x87 | sse | ymm | XSTATE_AVX512));
	assert_true(cpu_policy_xcr0_valid(p, x87 | sse | XSTATE_PKRU));
	assert_false(cpu_policy_xcr0_valid(p, 0));
	assert_false(cpu_policy_xcr0_valid(p, sse));	   /* no x87 */
	assert_false(cpu_policy_xcr0_valid(p, x87 | ymm)); /* AVX, no SSE */
	assert_false(cpu_policy_xcr0_valid(p, x87 | sse | XSTATE_AVX512));
	assert_false(cpu_policy_xcr0_valid(p, x87 | sse | ymm | XSTATE_OPMASK));
	assert_false(
	    cpu_policy_xcr0_valid(p, x87 | sse | (1ULL << 8))); /* PT */
	assert_false(cpu_policy_xcr0_valid(p, x87 | XSTATE_BNDREGS));
	assert_false(cpu_policy_xcr0_valid(p, x87 | (1ULL << 17))); /* AMX */
	assert_false(cpu_policy_xcr0_valid(p, x87 | (1ULL << 63)));

	p = policy_of("epyc-7763-milan.txt", NULL);
	assert_false(cpu_policy_xcr0_valid(p, x87 | sse | ymm | XSTATE_AVX512));
}

/* One package, one thread per core, a core per vCPU. */
static void test_topology(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(dump_files); i++) {
		const struct cpu_policy *p = &policies[i];
		struct cpuid_vcpu_view v = view_all(p);
		uint32_t r[4];

		for (uint32_t n = 1; n <= 9; n++) {
			unsigned shift = n <= 1	  ? 0
					 : n <= 2 ? 1
					 : n <= 4 ? 2
					 : n <= 8 ? 3
						  : 4;

			v.nr_vcpus = n;
			v.apic_id = n - 1;
			cpu_policy_cpuid(p, &v, 1, 0, r);
			assert_int_equal(r[EBX] >> 24, n - 1);
			assert_int_equal((r[EBX] >> 16) & 0xFF, 1u << shift);
			assert_int_equal(!!(r[EDX] & B(28)), n > 1);
			assert_true(r[EDX] & B(9)); /* APIC */
			cpu_policy_cpuid(p, &v, 0xB, 0, r);
			assert_int_equal(r[EAX], 0);
			assert_int_equal(r[EBX], 1);
			assert_int_equal(r[ECX], 0x100);
			assert_int_equal(r[EDX], n - 1);
			cpu_policy_cpuid(p, &v, 0xB, 1, r);
			assert_int_equal(r[EAX], shift);
			assert_int_equal(r[EBX], n);
			assert_int_equal(r[ECX], 0x201);
			cpu_policy_cpuid(p, &v, 0xB, 2, r);
			assert_int_equal(r[EBX], 0);
			assert_int_equal(r[ECX], 2);
			cpu_policy_cpuid(p, &v, 0x80000008, 0, r);
			if (p->vendor == CPU_POLICY_AMD)
				assert_int_equal(r[ECX],
						 (n - 1) | (shift << 12));
			else
				assert_int_equal(r[ECX], 0);
			cpu_policy_cpuid(p, &v, 4, 3, r);
			if (r[EAX] & 0x1F)
				assert_int_equal(r[EAX] >> 26,
						 (1u << shift) - 1);
		}
	}
}

static void test_speculation_controls(void **state)
{
	const struct cpu_policy *p;

	(void)state;
	p = policy_of("core-i5-1135g7-tigerlake.txt", NULL);
	assert_true(p->spec_ctrl && p->ibpb && p->flush_l1d && p->arch_caps);
	assert_int_equal(p->spec_ctrl_mask, 7); /* IBRS STIBP SSBD */
	p = policy_of("epyc-7763-milan.txt", NULL);
	assert_true(p->spec_ctrl && p->ibpb);
	assert_false(p->flush_l1d || p->arch_caps);
	assert_int_equal(p->spec_ctrl_mask, 7);
	assert_true(p->tsc_aux);
}

/* A backend that cannot pass RDTSCP/RDPID or INVPCID hides them. */
static void test_backend_limits(void **state)
{
	const struct dump *d;
	struct cpu_policy q;
	uint32_t r[4];

	(void)state;
	policy_of("core-i5-1135g7-tigerlake.txt", &d);
	assert_true(raw_reg(d, 7, 0, EBX) & B(10));
	cpu_policy_build(&q, dump_cpuid, (void *)d,
			 CPU_POLICY_NO_RDTSCP | CPU_POLICY_NO_INVPCID);
	query(&q, 0x80000001, 0, r);
	assert_int_equal(r[EDX] & B(27), 0);
	query(&q, 7, 0, r);
	assert_int_equal(r[ECX] & B(22), 0);
	assert_int_equal(r[EBX] & B(10), 0);
	assert_false(q.tsc_aux);
	cpu_policy_build(&q, dump_cpuid, (void *)d, 0);
	query(&q, 7, 0, r);
	assert_true(r[EBX] & B(10));
	assert_true(q.tsc_aux);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_whitelisted_bits),
	    cmocka_unit_test(test_clamped_leaves),
	    cmocka_unit_test(test_hidden_features),
	    cmocka_unit_test(test_sev_hidden_on_epyc),
	    cmocka_unit_test(test_avx512_follows_xstate),
	    cmocka_unit_test(test_pku_needs_pkru_state),
	    cmocka_unit_test(test_xsave_sizes),
	    cmocka_unit_test(test_xcr0_rules),
	    cmocka_unit_test(test_topology),
	    cmocka_unit_test(test_speculation_controls),
	    cmocka_unit_test(test_backend_limits),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
