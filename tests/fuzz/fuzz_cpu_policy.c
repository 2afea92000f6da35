/* SPDX-License-Identifier: MIT */
/*
 * The guest CPUID policy (hypervisor/arch/x86/hvm/cpu_policy.c): a policy
 * built from a fuzzed host CPUID dump, then guest CPUIDs of any leaf and
 * subleaf with any CR4, and XSETBV's check of any XCR0.
 *
 * Input: backend limits (u8), an entry count (u8, up to 64) and the host
 * dump's entries (leaf selector u8: bit 7 picks 0x8000_00xx, the low 6
 * bits the leaf; subleaf u8; EAX, EBX, ECX, EDX u32), then queries (kind
 * u8, leaf u32, subleaf u32, CR4 u64, XCR0 u64). The harness checks what
 * guests rely on: the leaf ranges stay in the policy's bounds, the
 * hypervisor bit is set, the same question gets the same answer, and an
 * XCR0 passes only within the guest mask with x87 state in it.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/cpu_policy.h>

FUZZ_SHIM_INIT()

#define MAX_DUMP 64

struct host_dump {
	unsigned n;
	struct {
		uint32_t leaf, sub, r[4];
	} e[MAX_DUMP];
};

static void dump_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4], void *ctx)
{
	const struct host_dump *d = ctx;

	memset(r, 0, 16);
	for (unsigned i = 0; i < d->n; i++)
		if (d->e[i].leaf == leaf && d->e[i].sub == sub) {
			memcpy(r, d->e[i].r, 16);
			return;
		}
}

static uint32_t query_leaf(uint8_t kind, uint32_t leaf)
{
	switch (kind % 4) {
	case 0:
		return leaf;
	case 1:
		return leaf % 0x20;
	case 2:
		return 0x80000000u + leaf % 0x20;
	default:
		return 0xD;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input fi = fuzz_input(data, size);
	static struct host_dump dump;
	static struct cpu_policy p;
	unsigned limits =
	    fuzz_u8(&fi) & (CPU_POLICY_NO_RDTSCP | CPU_POLICY_NO_INVPCID);
	unsigned queries = 0;

	dump.n = fuzz_u8(&fi) % (MAX_DUMP + 1);
	for (unsigned i = 0; i < dump.n; i++) {
		uint8_t sel = fuzz_u8(&fi);

		dump.e[i].leaf = (sel & 0x80 ? 0x80000000u : 0) | (sel & 0x3F);
		dump.e[i].sub = fuzz_u8(&fi);
		for (unsigned j = 0; j < 4; j++)
			dump.e[i].r[j] = fuzz_u32(&fi);
	}
	memset(&p, 0xA5, sizeof(p));
	cpu_policy_build(&p, dump_cpuid, &dump, limits);
	FUZZ_CHECK(p.max_basic <= CPU_POLICY_MAX_BASIC);
	FUZZ_CHECK(p.max_ext <= CPU_POLICY_MAX_EXT);
	FUZZ_CHECK(!(p.xcr0_mask & ~XSTATE_GUEST_ALLOWED));

	while (fi.left && queries++ < 256) {
		uint8_t kind = fuzz_u8(&fi);
		uint32_t leaf = query_leaf(kind, fuzz_u32(&fi));
		uint32_t sub = fuzz_u32(&fi), r[4], again[4];
		/* Keel's own part of the view; the guest's is CR4 and XCR0. */
		struct cpuid_vcpu_view v = {
		    .nr_vcpus = 1 + kind / 4 % 32,
		    .apic_id = kind / 4 % 32,
		    .cr4 = fuzz_u64(&fi),
		    .xcr0 = fuzz_u64(&fi),
		};

		if (kind & 0x80)
			sub %= CPU_POLICY_XSTATE_LEAVES + 2;
		cpu_policy_cpuid(&p, &v, leaf, sub, r);
		cpu_policy_cpuid(&p, &v, leaf, sub, again);
		FUZZ_CHECK(!memcmp(r, again, sizeof(r)));
		if (leaf == 0)
			FUZZ_CHECK(r[0] <= CPU_POLICY_MAX_BASIC);
		if (leaf == 0x80000000u)
			FUZZ_CHECK(r[0] <= CPU_POLICY_MAX_EXT);
		if (leaf == 1)
			FUZZ_CHECK(r[2] & (1u << 31));

		if (cpu_policy_xcr0_valid(&p, v.xcr0)) {
			FUZZ_CHECK(!(v.xcr0 & ~p.xcr0_mask));
			FUZZ_CHECK(v.xcr0 & XSTATE_X87);
			(void)cpu_policy_xsave_size(&p, v.xcr0);
		}
	}
	return 0;
}
