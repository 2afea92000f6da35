/* SPDX-License-Identifier: MIT */
/*
 * The guest CPUID policy: the host's CPUID filtered through per-register
 * whitelists, then made self-consistent (a feature whose state Keel does
 * not switch, or whose instruction the backend cannot let through, is
 * never shown). Bit positions: Intel SDM vol. 2A, CPUID; AMD APM vol. 3,
 * appendix E. The topology is Keel's own: one package whose cores are the
 * domain's vCPUs, one thread each, x2APIC ID = vCPU number.
 */
#include <keel/cpu_policy.h>

#define B(n) (1u << (n))

/* Leaf 1 ECX; x2APIC, TSC-deadline and hypervisor are added (emulated). */
#define L1_ECX_SSE3	    B(0)
#define L1_ECX_PCLMULQDQ    B(1)
#define L1_ECX_SSSE3	    B(9)
#define L1_ECX_FMA	    B(12)
#define L1_ECX_CX16	    B(13)
#define L1_ECX_PCID	    B(17)
#define L1_ECX_SSE41	    B(19)
#define L1_ECX_SSE42	    B(20)
#define L1_ECX_X2APIC	    B(21)
#define L1_ECX_MOVBE	    B(22)
#define L1_ECX_POPCNT	    B(23)
#define L1_ECX_TSC_DEADLINE B(24)
#define L1_ECX_AES	    B(25)
#define L1_ECX_XSAVE	    B(26)
#define L1_ECX_OSXSAVE	    B(27)
#define L1_ECX_AVX	    B(28)
#define L1_ECX_F16C	    B(29)
#define L1_ECX_RDRAND	    B(30)
#define L1_ECX_HYPERVISOR   B(31)
static const uint32_t l1_ecx_allowed =
    L1_ECX_SSE3 | L1_ECX_PCLMULQDQ | L1_ECX_SSSE3 | L1_ECX_FMA | L1_ECX_CX16 |
    L1_ECX_PCID | L1_ECX_SSE41 | L1_ECX_SSE42 | L1_ECX_MOVBE | L1_ECX_POPCNT |
    L1_ECX_AES | L1_ECX_XSAVE | L1_ECX_AVX | L1_ECX_F16C | L1_ECX_RDRAND;

/* Leaf 1 EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA
 * CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2 SS. Not PSN, DS, ACPI (thermal
 * MSRs), TM, PBE. HTT follows the vCPU count. */
#define L1_EDX_APIC B(9)
#define L1_EDX_HTT  B(28)
static const uint32_t l1_edx_allowed = 0x0FFFu & ~B(10) /* reserved */;
static const uint32_t l1_edx_allowed_hi = B(12) | B(13) | B(14) | B(15) |
					  B(16) | B(17) | B(19) | B(23) |
					  B(24) | B(25) | B(26) | B(27);

#define L6_EAX_ARAT B(2)

/* Leaf 7.0 EBX */
#define L7_EBX_AVX2    B(5)
#define L7_EBX_INVPCID B(10)
#define L7_EBX_AVX512                                                          \
	(B(16) | B(17) | B(21) | B(26) | B(27) | B(28) | B(30) | B(31))
static const uint32_t l7_ebx_allowed =
    B(0) /* FSGSBASE */ | B(3) /* BMI1 */ | L7_EBX_AVX2 |
    B(6) /* FDP_EXCPTN_ONLY */ | B(7) /* SMEP */ | B(8) /* BMI2 */ |
    B(9) /* ERMS */ | L7_EBX_INVPCID | B(13) /* FPU CS/DS deprecated */ |
    B(18) /* RDSEED */ | B(19) /* ADX */ | B(20) /* SMAP */ |
    B(23) /* CLFLUSHOPT */ | B(24) /* CLWB */ | B(29) /* SHA */ | L7_EBX_AVX512;
/* Not: TSC_ADJUST, SGX, HLE/RTM (TSX), PQM/PQE, MPX, PT. */

/* Leaf 7.0 ECX */
#define L7_ECX_PKU	  B(3)
#define L7_ECX_OSPKE	  B(4)
#define L7_ECX_VAES	  B(9)
#define L7_ECX_VPCLMULQDQ B(10)
#define L7_ECX_RDPID	  B(22)
#define L7_ECX_AVX512	  (B(1) | B(6) | B(11) | B(12) | B(14))
static const uint32_t l7_ecx_allowed =
    B(0) /* PREFETCHWT1 */ | B(2) /* UMIP */ | L7_ECX_PKU | B(8) /* GFNI */ |
    L7_ECX_VAES | L7_ECX_VPCLMULQDQ | L7_ECX_RDPID | B(25) /* CLDEMOTE */ |
    B(27) /* MOVDIRI */ | B(28) /* MOVDIR64B */ | L7_ECX_AVX512;
/* Not: WAITPKG, CET, TME, LA57, MAWAU, BUS_LOCK_DETECT, ENQCMD, SGX_LC,
 * PKS. */

/* Leaf 7.0 EDX */
#define L7_EDX_AVX512	 (B(2) | B(3) | B(8) | B(23))
#define L7_EDX_IBRS_IBPB B(26)
#define L7_EDX_STIBP	 B(27)
#define L7_EDX_L1D_FLUSH B(28)
#define L7_EDX_ARCH_CAPS B(29)
#define L7_EDX_SSBD	 B(31)
static const uint32_t l7_edx_allowed =
    B(4) /* FSRM */ | B(10) /* MD_CLEAR */ | B(14) /* SERIALIZE */ |
    L7_EDX_AVX512 | L7_EDX_IBRS_IBPB | L7_EDX_STIBP | L7_EDX_L1D_FLUSH |
    L7_EDX_ARCH_CAPS | L7_EDX_SSBD;
/* Not: UINTR, HYBRID, TSXLDTRK, PCONFIG, CET_IBT, AMX, CORE_CAPABILITIES. */

/* Leaf 0xD.1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX=1. Not XSAVES (no
 * IA32_XSS) or XFD. */
#define LD1_EAX_XSAVEC B(1)
static const uint32_t ld1_eax_allowed = B(0) | LD1_EAX_XSAVEC | B(2);

/* 0x80000001 ECX: LAHF, LZCNT, SSE4A, MisAlignSse, 3DNowPrefetch, XOP,
 * FMA4, TBM. Not SVM, ExtApicSpace, AltMovCr8, OSVW, IBS, SKINIT, WDT,
 * LWP, TCE, NodeId, TOPOEXT, the performance-counter extensions,
 * MONITORX. */
#define E1_ECX_XOP  B(11)
#define E1_ECX_FMA4 B(16)
static const uint32_t e1_ecx_allowed =
    B(0) | B(5) | B(6) | B(7) | B(8) | E1_ECX_XOP | E1_ECX_FMA4 | B(21);
/* 0x80000001 EDX: leaf 1's duplicates on AMD, SYSCALL, NX, MmxExt,
 * Page1GB, RDTSCP, LM, 3DNow and 3DNowExt. Not FFXSR: EFER.FFXSR is not
 * a bit guests may set (msr.c). */
#define E1_EDX_RDTSCP B(27)
static const uint32_t e1_edx_allowed =
    0x3FFu | B(11) | B(12) | B(13) | B(14) | B(15) | B(16) | B(17) | B(20) |
    B(22) | B(23) | B(24) | B(26) | E1_EDX_RDTSCP | B(29) | B(30) | B(31);

#define E7_EDX_INVARIANT_TSC B(8)

/* 0x80000008 EBX (AMD): CLZERO, XSAVEERPTR, WBNOINVD and the speculation
 * controls and hints. Not IRPERF, RDPRU, MCOMMIT, PPIN, VIRT_SSBD. */
#define E8_EBX_IBPB	B(12)
#define E8_EBX_IBRS	B(14)
#define E8_EBX_STIBP	B(15)
#define E8_EBX_AMD_SSBD B(24)
static const uint32_t e8_ebx_allowed =
    B(0) | B(2) | B(9) | E8_EBX_IBPB | E8_EBX_IBRS | E8_EBX_STIBP | B(16) |
    B(17) | B(18) | B(19) | E8_EBX_AMD_SSBD | B(26) | B(29) | B(30);

/* IA32_SPEC_CTRL bits (Intel's speculative execution side channel
 * mitigations; AMD's IA32_SPEC_CTRL is the same MSR). */
#define SPEC_CTRL_IBRS	(1ULL << 0)
#define SPEC_CTRL_STIBP (1ULL << 1)
#define SPEC_CTRL_SSBD	(1ULL << 2)

#define XSTATE_LEGACY_SIZE 576 /* FXSAVE area + XSAVE header */

static uint32_t *ext(struct cpu_policy *p, uint32_t leaf)
{
	return p->ext[leaf - 0x80000000u];
}

static unsigned order(uint32_t n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

/* Drop the components a guest cannot have, keeping XCR0's dependencies:
 * a state the host does not describe, AVX-512 without all three of its
 * components or without AVX. */
static uint64_t xstate_mask(struct cpu_policy *p, uint64_t host)
{
	uint64_t mask = host & XSTATE_GUEST_ALLOWED;

	if (!(mask & XSTATE_X87) || !(mask & XSTATE_SSE))
		return 0;
	for (unsigned i = 2; i < CPU_POLICY_XSTATE_LEAVES; i++)
		if ((mask & (1ULL << i)) && p->xstate[i][0] == 0)
			mask &= ~(1ULL << i);
	if ((mask & XSTATE_AVX512) != XSTATE_AVX512 || !(mask & XSTATE_YMM))
		mask &= ~XSTATE_AVX512;
	return mask;
}

static void build_xstate(struct cpu_policy *p, cpuid_raw_fn raw, void *ctx)
{
	uint32_t r[4];
	uint64_t mask;

	raw(0xD, 0, r, ctx);
	mask = ((uint64_t)r[3] << 32) | r[0];
	for (unsigned i = 2; i < CPU_POLICY_XSTATE_LEAVES; i++)
		if (mask & (1ULL << i) & XSTATE_GUEST_ALLOWED)
			raw(0xD, i, p->xstate[i], ctx);
	mask = xstate_mask(p, mask);
	for (unsigned i = 2; i < CPU_POLICY_XSTATE_LEAVES; i++) {
		if (!(mask & (1ULL << i)))
			memset(p->xstate[i], 0, sizeof(p->xstate[i]));
		p->xstate[i][2] &= B(1); /* only "64-byte aligned" */
		p->xstate[i][3] = 0;
	}
	p->xcr0_mask = mask;
	p->xstate[0][0] = (uint32_t)mask;
	p->xstate[0][3] = (uint32_t)(mask >> 32);
	p->xstate[0][2] = cpu_policy_xsave_size(p, mask);
	raw(0xD, 1, r, ctx);
	p->xstate[1][0] = r[0] & ld1_eax_allowed;
}

/* Hide what depends on something hidden (Xen calls these deep deps). */
static void apply_dependencies(struct cpu_policy *p, unsigned limits)
{
	uint32_t *l1 = p->basic[1], *l7 = p->basic[7];
	uint32_t *e1 = ext(p, 0x80000001), *e8 = ext(p, 0x80000008);

	if (!(l1[2] & L1_ECX_XSAVE) || p->max_basic < 0xD) {
		l1[2] &= ~L1_ECX_XSAVE;
		memset(p->xstate, 0, sizeof(p->xstate));
		p->xcr0_mask = 0;
	}
	if (!(p->xcr0_mask & XSTATE_YMM)) {
		l1[2] &= ~(L1_ECX_AVX | L1_ECX_FMA | L1_ECX_F16C);
		l7[1] &= ~L7_EBX_AVX2;
		l7[2] &= ~(L7_ECX_VAES | L7_ECX_VPCLMULQDQ);
		e1[2] &= ~(E1_ECX_XOP | E1_ECX_FMA4);
	}
	if (!(p->xcr0_mask & XSTATE_AVX512)) {
		l7[1] &= ~L7_EBX_AVX512;
		l7[2] &= ~L7_ECX_AVX512;
		l7[3] &= ~L7_EDX_AVX512;
	}
	if (!(p->xcr0_mask & XSTATE_PKRU))
		l7[2] &= ~L7_ECX_PKU;
	if (limits & CPU_POLICY_NO_RDTSCP) {
		e1[3] &= ~E1_EDX_RDTSCP;
		l7[2] &= ~L7_ECX_RDPID;
	}
	if (limits & CPU_POLICY_NO_INVPCID)
		l7[1] &= ~L7_EBX_INVPCID;
	if (!(l1[2] & L1_ECX_PCID))
		l7[1] &= ~L7_EBX_INVPCID;

	/* The MSRs behind the speculation controls (msr.c). */
	p->spec_ctrl_mask = 0;
	if ((l7[3] & L7_EDX_IBRS_IBPB) || (e8[1] & E8_EBX_IBRS))
		p->spec_ctrl_mask |= SPEC_CTRL_IBRS;
	if ((l7[3] & L7_EDX_STIBP) || (e8[1] & E8_EBX_STIBP))
		p->spec_ctrl_mask |= SPEC_CTRL_STIBP;
	if ((l7[3] & L7_EDX_SSBD) || (e8[1] & E8_EBX_AMD_SSBD))
		p->spec_ctrl_mask |= SPEC_CTRL_SSBD;
	p->spec_ctrl = p->spec_ctrl_mask != 0;
	p->ibpb = (l7[3] & L7_EDX_IBRS_IBPB) || (e8[1] & E8_EBX_IBPB);
	p->flush_l1d = l7[3] & L7_EDX_L1D_FLUSH;
	p->arch_caps = l7[3] & L7_EDX_ARCH_CAPS;
	p->tsc_aux = (e1[3] & E1_EDX_RDTSCP) || (l7[2] & L7_ECX_RDPID);
}

static enum cpu_policy_vendor vendor_of(const uint32_t r[4])
{
	/* EBX, EDX, ECX spell the vendor string. */
	if (r[1] == 0x68747541 && r[3] == 0x69746E65 && r[2] == 0x444D4163)
		return CPU_POLICY_AMD; /* AuthenticAMD */
	if (r[1] == 0x6F677948 && r[3] == 0x6E65476E && r[2] == 0x656E6975)
		return CPU_POLICY_AMD; /* HygonGenuine */
	if (r[1] == 0x756E6547 && r[3] == 0x49656E69 && r[2] == 0x6C65746E)
		return CPU_POLICY_INTEL; /* GenuineIntel */
	return CPU_POLICY_OTHER;
}

void cpu_policy_build(struct cpu_policy *p, cpuid_raw_fn raw, void *ctx,
		      unsigned backend_limits)
{
	uint32_t r[4], host_max, host_ext;

	memset(p, 0, sizeof(*p));
	raw(0, 0, r, ctx);
	host_max = r[0];
	p->vendor = vendor_of(r);
	/* Leaf 0xB is Keel's own, so it is always there. */
	p->max_basic = MAX(MIN(host_max, CPU_POLICY_MAX_BASIC), 0xBu);
	memcpy(p->basic[0], r, sizeof(r));
	p->basic[0][0] = p->max_basic;

	if (host_max >= 1) {
		raw(1, 0, r, ctx);
		p->basic[1][0] = r[0];
		p->basic[1][1] = r[1] & 0xFFFF; /* brand index, CLFLUSH size */
		p->basic[1][2] = r[2] & l1_ecx_allowed;
		p->basic[1][3] = r[3] & (l1_edx_allowed | l1_edx_allowed_hi);
	}
	if (host_max >= 2 && p->vendor == CPU_POLICY_INTEL)
		raw(2, 0, p->basic[2], ctx); /* cache descriptors */
	for (unsigned i = 0; host_max >= 4 && p->vendor == CPU_POLICY_INTEL &&
			     i < CPU_POLICY_CACHE_LEAVES;
	     i++) {
		raw(4, i, p->cache[i], ctx);
		if ((p->cache[i][0] & 0x1F) == 0) /* no more caches */
			break;
	}
	if (host_max >= 7) {
		raw(7, 0, r, ctx);
		p->basic[7][1] = r[1] & l7_ebx_allowed;
		p->basic[7][2] = r[2] & l7_ecx_allowed;
		p->basic[7][3] = r[3] & l7_edx_allowed;
	}
	if (host_max >= 0xD)
		build_xstate(p, raw, ctx);
	for (uint32_t leaf = 0x15; leaf <= 0x16 && leaf <= host_max; leaf++)
		raw(leaf, 0, p->basic[leaf], ctx); /* TSC and core clocks */

	raw(0x80000000, 0, r, ctx);
	host_ext = r[0];
	if ((host_ext & 0xFFFF0000u) != 0x80000000u)
		host_ext = 0x80000000u; /* no extended leaves at all */
	p->max_ext = MIN(host_ext, CPU_POLICY_MAX_EXT);
	memcpy(ext(p, 0x80000000), r, sizeof(r));
	ext(p, 0x80000000)[0] = p->max_ext;
	for (uint32_t leaf = 0x80000001; leaf <= p->max_ext; leaf++) {
		uint32_t *e = ext(p, leaf);

		raw(leaf, 0, r, ctx);
		switch (leaf) {
		case 0x80000001:
			e[0] = r[0];
			e[1] = p->vendor == CPU_POLICY_AMD ? r[1] : 0;
			e[2] = r[2] & e1_ecx_allowed;
			e[3] = r[3] & e1_edx_allowed;
			break;
		case 0x80000002:
		case 0x80000003:
		case 0x80000004: /* brand string */
		case 0x80000005:
		case 0x80000006: /* caches and TLBs */
			memcpy(e, r, sizeof(r));
			break;
		case 0x80000007:
			e[3] = r[3] & E7_EDX_INVARIANT_TSC;
			break;
		case 0x80000008:
			/* Guests get 48-bit linear addresses (no LA57). */
			e[0] =
			    (r[0] & 0xFF) | (MIN((r[0] >> 8) & 0xFF, 48u) << 8);
			e[1] = r[1] & e8_ebx_allowed;
			break;
		}
	}
	apply_dependencies(p, backend_limits);
}

/* Leaf 4 with Keel's topology: L1/L2 per core, L3 shared by the package. */
static void cache_leaf(const struct cpu_policy *p,
		       const struct cpuid_vcpu_view *v, uint32_t sub,
		       uint32_t r[4])
{
	uint32_t cores = (1u << order(v->nr_vcpus)) - 1, level;

	if (sub >= CPU_POLICY_CACHE_LEAVES)
		return;
	memcpy(r, p->cache[sub], 16);
	if ((r[0] & 0x1F) == 0)
		return;
	level = (r[0] >> 5) & 7;
	r[0] &= 0x3FFF;
	r[0] |= MIN(cores, 63u) << 26;
	if (level >= 3)
		r[0] |= MIN(cores, 0xFFFu) << 14;
}

/* Leaf 0xB: an SMT level of one thread, then a core level of all vCPUs. */
static void topology_leaf(const struct cpuid_vcpu_view *v, uint32_t sub,
			  uint32_t r[4])
{
	r[3] = v->apic_id;
	r[2] = sub & 0xFF;
	if (sub == 0) {
		r[0] = 0;
		r[1] = 1;
		r[2] |= 1u << 8; /* SMT */
	} else if (sub == 1) {
		r[0] = order(v->nr_vcpus);
		r[1] = v->nr_vcpus;
		r[2] |= 2u << 8; /* core */
	}
}

uint32_t cpu_policy_xsave_size(const struct cpu_policy *p, uint64_t xcr0)
{
	uint32_t size = XSTATE_LEGACY_SIZE;

	for (unsigned i = 2; i < CPU_POLICY_XSTATE_LEAVES; i++)
		if (xcr0 & (1ULL << i))
			size = MAX(size, p->xstate[i][1] + p->xstate[i][0]);
	return size;
}

/* The compacted format XSAVEC writes: components packed in order, some
 * aligned to 64 bytes (SDM vol. 1 §13.4.3). */
static uint32_t xsavec_size(const struct cpu_policy *p, uint64_t xcr0)
{
	uint32_t size = XSTATE_LEGACY_SIZE;

	for (unsigned i = 2; i < CPU_POLICY_XSTATE_LEAVES; i++) {
		if (!(xcr0 & (1ULL << i)))
			continue;
		if (p->xstate[i][2] & B(1))
			size = ALIGN_UP(size, 64);
		size += p->xstate[i][0];
	}
	return size;
}

static void xstate_leaf(const struct cpu_policy *p,
			const struct cpuid_vcpu_view *v, uint32_t sub,
			uint32_t r[4])
{
	uint64_t xcr0 = v->xcr0 & p->xcr0_mask;

	if (!p->xcr0_mask || sub >= CPU_POLICY_XSTATE_LEAVES)
		return;
	memcpy(r, p->xstate[sub], 16);
	if (sub == 0)
		r[1] = cpu_policy_xsave_size(p, xcr0);
	else if (sub == 1 && (r[0] & LD1_EAX_XSAVEC))
		r[1] = xsavec_size(p, xcr0);
}

void cpu_policy_cpuid(const struct cpu_policy *p,
		      const struct cpuid_vcpu_view *v, uint32_t leaf,
		      uint32_t sub, uint32_t r[4])
{
	uint32_t n = MAX(v->nr_vcpus, 1u);
	uint32_t count = 1u << order(n);

	memset(r, 0, 16);
	if (leaf >= 0x80000000u) {
		if (leaf > p->max_ext)
			return;
		memcpy(r, p->ext[leaf - 0x80000000u], 16);
		/* AMD's core count and APIC ID width (APM vol. 3, E.4.7). */
		if (leaf == 0x80000008 && p->vendor == CPU_POLICY_AMD)
			r[2] = (n - 1) | (order(n) << 12);
		return;
	}
	if (leaf > p->max_basic)
		return;
	switch (leaf) {
	case 1:
		memcpy(r, p->basic[1], 16);
		r[1] |= (v->apic_id << 24) | (MIN(count, 255u) << 16);
		r[2] |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE | L1_ECX_HYPERVISOR;
		if ((r[2] & L1_ECX_XSAVE) && (v->cr4 & (1u << 18)))
			r[2] |= L1_ECX_OSXSAVE;
		r[3] |= L1_EDX_APIC;
		if (n > 1)
			r[3] |= L1_EDX_HTT;
		break;
	case 4:
		cache_leaf(p, v, sub, r);
		break;
	case 6:
		r[0] = L6_EAX_ARAT; /* Keel's vLAPIC timer never stops */
		break;
	case 7:
		if (sub == 0) {
			memcpy(r, p->basic[7], 16);
			if ((r[2] & L7_ECX_PKU) && (v->cr4 & (1u << 22)))
				r[2] |= L7_ECX_OSPKE;
		}
		break;
	case 0xB:
		topology_leaf(v, sub, r);
		break;
	case 0xD:
		xstate_leaf(p, v, sub, r);
		break;
	default:
		memcpy(r, p->basic[leaf], 16);
	}
}

bool cpu_policy_xcr0_valid(const struct cpu_policy *p, uint64_t xcr0)
{
	if (!p->xcr0_mask || (xcr0 & ~p->xcr0_mask) || !(xcr0 & XSTATE_X87))
		return false;
	if ((xcr0 & XSTATE_YMM) && !(xcr0 & XSTATE_SSE))
		return false;
	/* AVX-512: all three components or none, and only with AVX. */
	if ((xcr0 & XSTATE_AVX512) &&
	    ((xcr0 & XSTATE_AVX512) != XSTATE_AVX512 || !(xcr0 & XSTATE_YMM)))
		return false;
	return true;
}
