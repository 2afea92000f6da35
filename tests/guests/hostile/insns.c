/* SPDX-License-Identifier: MIT */
/*
 * Control-register, EFER and XCR0 values the architecture refuses must
 * raise #GP (SDM vol. 3A §2.5, §10.8.5; APM vol. 2 §3.1, §14.6.1; SDM
 * vol. 1 §13.3), and virtualization instructions a guest is not given
 * must raise #UD, whether they exit to Keel or not, as must LOCK where
 * it is not allowed.
 */
#include "hostile.h"

#define MSR_EFER    0xC0000080
#define EFER_LME    (1ULL << 8)
#define EFER_SVME   (1ULL << 12)
#define CR0_PE	    (1ULL << 0)
#define CR0_NW	    (1ULL << 29)
#define CR0_CD	    (1ULL << 30)
#define CR0_PG	    (1ULL << 31)
#define CR4_PAE	    (1ULL << 5)
#define CR4_VMXE    (1ULL << 13)
#define CR4_OSXSAVE (1ULL << 18)

#define WRITE_CR(n)                                                            \
	static uint32_t write_cr##n##_safe(uint64_t v)                         \
	{                                                                      \
		uint64_t exinfo = 0;                                           \
		__asm__ volatile("1: mov %1, %%cr" #n                          \
				 "\n2:\n\t" EXTABLE_ENTRY(1b, 2b)              \
				 : "+D"(exinfo)                                \
				 : "r"(v)                                      \
				 : "memory");                                  \
		return (uint32_t)exinfo;                                       \
	}
WRITE_CR(0)
WRITE_CR(4)

static uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static uint32_t xsetbv_safe(uint32_t index, uint64_t v)
{
	uint64_t exinfo = 0;

	__asm__ volatile("1: xsetbv\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "c"(index), "a"((uint32_t)v),
			   "d"((uint32_t)(v >> 32))
			 : "memory");
	return (uint32_t)exinfo;
}

static void expect_gp(uint32_t exinfo, const char *what)
{
	check(exinfo_faulted(exinfo) && exinfo_vector(exinfo) == X86_EXC_GP,
	      "%s: #GP (exinfo %x)", what, exinfo);
}

void case_ctlregs(void)
{
	uint64_t efer = rdmsr(MSR_EFER), cr0 = read_cr0(), cr4 = read_cr4();
	uint64_t cr_checked = 1;

	expect_gp(wrmsr_safe(MSR_EFER, efer & ~EFER_LME),
		  "clearing EFER.LME with paging on");
	check(rdmsr(MSR_EFER) == efer, "EFER unchanged (%lx)", rdmsr(MSR_EFER));
	expect_gp(wrmsr_safe(MSR_EFER, efer | EFER_SVME),
		  "setting EFER.SVME, which CPUID does not show");
	expect_gp(wrmsr_safe(MSR_EFER, efer | (1ULL << 3)),
		  "setting reserved EFER bit 3");
	/*
	 * Keel does not intercept CR writes on SVM: the CPU checks them.
	 * QEMU 7.2's TCG does not (it loads every value below; VMRUN then
	 * refuses the state or the guest triple-faults), so they are tried
	 * where the CPU checks them as the architecture says: cr=1 (Bochs,
	 * real CPUs; on VMX Keel checks CR0 and CR4 writes itself).
	 */
	cmdline_u64("cr", &cr_checked);
	if (cr_checked) {
		expect_gp(write_cr0_safe(cr0 & ~CR0_PE),
			  "CR0.PG without CR0.PE");
		expect_gp(write_cr0_safe((cr0 | CR0_NW) & ~CR0_CD),
			  "CR0.NW without CR0.CD");
		expect_gp(write_cr0_safe(cr0 | (1ULL << 32)), "CR0 bit 32");
		check(read_cr0() == cr0, "CR0 unchanged (%lx)", read_cr0());
		expect_gp(write_cr4_safe(cr4 & ~CR4_PAE),
			  "clearing CR4.PAE in long mode");
		expect_gp(write_cr4_safe(cr4 | CR4_VMXE),
			  "CR4.VMXE, not shown");
		expect_gp(write_cr4_safe(cr4 | (1ULL << 15)),
			  "reserved CR4 bit 15");
		check(read_cr4() == cr4, "CR4 unchanged (%lx)", read_cr4());
	}

	if (!(cpuid(1).ecx & (1u << 26))) {
		printf("hostile: insns: no XSAVE in CPUID: XCR0 not tried\n");
		return;
	}
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | CR4_OSXSAVE));
	expect_gp(xsetbv_safe(0, 0x2), "XCR0 without x87 (bit 0)");
	expect_gp(xsetbv_safe(0, 0x5), "XCR0 AVX without SSE");
	expect_gp(xsetbv_safe(0, 1ULL << 63), "XCR0 bit 63");
	expect_gp(xsetbv_safe(1, 0x1), "XCR1 (no such register)");
	check(!exinfo_faulted(xsetbv_safe(0, 0x1)), "XCR0 = x87 only works");
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
}

/* Each is run with RAX pointing at zeroed memory and expects #UD. */
static const struct {
	const char *name;
	uint8_t bytes[8];
	uint8_t len;
} virt_insns[] = {
    {"VMRUN", {0x0F, 0x01, 0xD8}, 3},
    {"VMLOAD", {0x0F, 0x01, 0xDA}, 3},
    {"VMSAVE", {0x0F, 0x01, 0xDB}, 3},
    {"STGI", {0x0F, 0x01, 0xDC}, 3},
    {"CLGI", {0x0F, 0x01, 0xDD}, 3},
    {"SKINIT", {0x0F, 0x01, 0xDE}, 3},
    {"INVLPGA", {0x0F, 0x01, 0xDF}, 3},
    {"VMXON [rax]", {0xF3, 0x0F, 0xC7, 0x30}, 4},
    {"VMXOFF", {0x0F, 0x01, 0xC4}, 3},
    {"VMCLEAR [rax]", {0x66, 0x0F, 0xC7, 0x30}, 4},
    {"VMPTRLD [rax]", {0x0F, 0xC7, 0x30}, 3},
    {"VMPTRST [rax]", {0x0F, 0xC7, 0x38}, 3},
    {"VMREAD rax, rcx", {0x0F, 0x78, 0xC8}, 3},
    {"VMWRITE rcx, rax", {0x0F, 0x79, 0xC8}, 3},
    {"VMLAUNCH", {0x0F, 0x01, 0xC2}, 3},
    {"VMRESUME", {0x0F, 0x01, 0xC3}, 3},
    {"INVEPT rcx, [rax]", {0x66, 0x0F, 0x38, 0x80, 0x08}, 5},
    {"INVVPID rcx, [rax]", {0x66, 0x0F, 0x38, 0x81, 0x08}, 5},
};

void case_virtinsns(void)
{
	static uint64_t scratch[512] __attribute__((aligned(4096)));

	for (unsigned i = 0; i < ARRAY_SIZE(virt_insns); i++) {
		uint64_t rax = (uint64_t)scratch;
		uint32_t ex =
		    run_insn(virt_insns[i].bytes, virt_insns[i].len, &rax);

		check(exinfo_faulted(ex) && exinfo_vector(ex) == X86_EXC_UD,
		      "%s: #UD (exinfo %x)", virt_insns[i].name, ex);
	}
}

/*
 * LOCK on an instruction that cannot take it is #UD (SDM vol. 2, LOCK);
 * locked read-modify-writes split across a cache line and across a page
 * are slow on hardware (a bus lock) but must give the right result.
 */
void case_lock(void)
{
	static const struct {
		const char *name;
		uint8_t bytes[4];
		uint8_t len;
	} bad[] = {
	    /* not LOCK MOV: QEMU 7.2's TCG runs it as a MOV */
	    {"LOCK NOP", {0xF0, 0x90}, 2},
	    {"LOCK ADD eax, ecx", {0xF0, 0x01, 0xC8}, 3},
	};
	static uint8_t buf[2 * 4096] __attribute__((aligned(4096)));
	const size_t at[] = {62, 4094};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t rax = (uint64_t)buf;
		uint32_t ex = run_insn(bad[i].bytes, bad[i].len, &rax);

		check(exinfo_faulted(ex) && exinfo_vector(ex) == X86_EXC_UD,
		      "%s: #UD (exinfo %x)", bad[i].name, ex);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++) {
		volatile uint32_t *p = (volatile uint32_t *)(buf + at[i]);

		*p = 0x11111111;
		for (unsigned n = 0; n < 1000; n++)
			__asm__ volatile("lock addl %1, %0"
					 : "+m"(*p)
					 : "r"(0x11111111)
					 : "memory");
		check(*p == 0x11111111u * 1001u,
		      "1000 split-locked ADDs at offset %zu (%x)", at[i], *p);
	}
}
