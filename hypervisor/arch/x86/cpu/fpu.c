/* SPDX-License-Identifier: MIT */
/*
 * Switching of guest extended state (Intel SDM vol. 1 ch. 13 and vol. 3A
 * §13). XCR0 is not part of the VMCB or VMCS: the physical XCR0 is the
 * running guest's, so it is switched with the state it describes.
 *
 * A vCPU's registers are saved when its CPU stops running it (another
 * vCPU or idle comes next), before the vCPU can be picked elsewhere, so a
 * vCPU that moves to another CPU always finds its saved image current.
 * The restore is lazy: a CPU that runs the same vCPU again with nothing
 * loaded in between still holds its registers and skips the XRSTOR.
 *
 * Saves and restores run with every supported component enabled, as KVM
 * does: XSAVE keeps XSTATE_BV bits outside the current XCR0, and XRSTOR
 * faults on them, so a guest that shrinks its XCR0 would otherwise leave
 * an area the hypervisor cannot load.
 *
 * The XSETBV intercept alone does not track the guest's XCR0: QEMU's TCG
 * emulation of SVM ignores it and lets the guest write XCR0 directly. The
 * physical XCR0 is read back when the state is saved, so a guest's value
 * is what it last set, however it set it.
 */
#include <keel/cpu.h>
#include <keel/cpu_policy.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/io.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/x86.h>

#define XCR0_X87      (1ULL << 0)
#define FXSAVE_SIZE   512
#define FXSAVE_FCW    0
#define FXSAVE_MXCSR  24
#define MXCSR_DEFAULT 0x1F80u
#define FCW_DEFAULT   0x37Fu

static uint64_t xcr0_supported; /* 0 without XSAVE */
static uint32_t xsave_size = FXSAVE_SIZE;
static struct vcpu *fpu_owner[MAX_CPUS];

static uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv(uint32_t index, uint64_t v)
{
	__asm__ volatile("xsetbv"
			 :
			 : "c"(index), "a"((uint32_t)v),
			   "d"((uint32_t)(v >> 32)));
}

void fpu_init_cpu(void)
{
	uint32_t r[4];
	uint64_t cr4 = read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu.xsave)
		cr4 |= X86_CR4_OSXSAVE;
	write_cr4(cr4);
	if (!boot_cpu.xsave)
		return;
	cpuid_count(0xD, 0, r);
	xcr0_supported = ((uint64_t)r[3] << 32) | r[0];
	/* ECX: the area size for every feature XCR0 can enable. */
	xsave_size = MAX(r[2], (uint32_t)FXSAVE_SIZE + 64);
	xsetbv(0, XCR0_X87);
}

int fpu_vcpu_init(struct vcpu *v)
{
	uint8_t *area = xzalloc(ALIGN_UP(xsave_size, 64) + 64);
	uint8_t *aligned;

	if (!area)
		return -ENOMEM;
	v->fpu_alloc = area;
	/* XSAVE needs 64-byte alignment; the heap gives 16. */
	aligned = (uint8_t *)ALIGN_UP((uintptr_t)area, 64);
	*(uint16_t *)(aligned + FXSAVE_FCW) = FCW_DEFAULT;
	*(uint32_t *)(aligned + FXSAVE_MXCSR) = MXCSR_DEFAULT;
	v->fpu_area = aligned;
	v->fpu_cpu = -1;
	v->xcr0 = XCR0_X87;
	return 0;
}

void fpu_vcpu_destroy(struct vcpu *v)
{
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct vcpu *expected = v; /* overwritten when it differs */

		__atomic_compare_exchange_n(&fpu_owner[c], &expected, NULL,
					    false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}
	xfree(v->fpu_alloc);
	v->fpu_alloc = v->fpu_area = NULL;
}

static void save(struct vcpu *v)
{
	if (xcr0_supported) {
		v->xcr0 = xgetbv(0);
		xsetbv(0, xcr0_supported);
		__asm__ volatile("xsave64 %0"
				 : "+m"(*(uint8_t(*)[FXSAVE_SIZE])v->fpu_area)
				 : "a"(~0u), "d"(~0u)
				 : "memory");
		xsetbv(0, v->xcr0);
	} else {
		__asm__ volatile("fxsave64 %0"
				 : "=m"(*(uint8_t(*)[FXSAVE_SIZE])v->fpu_area)
				 :
				 : "memory");
	}
}

static void restore(struct vcpu *v)
{
	if (xcr0_supported) {
		xsetbv(0, xcr0_supported);
		__asm__ volatile("xrstor64 %0"
				 :
				 : "m"(*(uint8_t(*)[FXSAVE_SIZE])v->fpu_area),
				   "a"(~0u), "d"(~0u)
				 : "memory");
		xsetbv(0, v->xcr0);
	} else {
		__asm__ volatile("fxrstor64 %0"
				 :
				 : "m"(*(uint8_t(*)[FXSAVE_SIZE])v->fpu_area)
				 : "memory");
	}
}

void fpu_switch_to(struct vcpu *v)
{
	unsigned cpu = this_cpu()->cpu;

	/* Its last CPU saves it right after deciding to run something else. */
	while (__atomic_load_n(&v->fpu_live, __ATOMIC_ACQUIRE) &&
	       v->fpu_cpu != (int)cpu)
		cpu_relax();
	if (fpu_owner[cpu] != v || v->fpu_cpu != (int)cpu) {
		restore(v);
		fpu_owner[cpu] = v;
		v->fpu_cpu = (int)cpu;
	}
	v->fpu_live = true;
}

void fpu_release(struct vcpu *v)
{
	if (!v->fpu_live || v->fpu_cpu != (int)this_cpu()->cpu)
		return;
	save(v);
	__atomic_store_n(&v->fpu_live, false, __ATOMIC_RELEASE);
}

uint64_t fpu_guest_xcr0(struct vcpu *v)
{
	if (xcr0_supported && v->fpu_live && v->fpu_cpu == (int)this_cpu()->cpu)
		return xgetbv(0);
	return v->xcr0;
}

int fpu_set_xcr0(struct vcpu *v, uint32_t index, uint64_t value)
{
	/* XCR0 only, within the guest CPU policy and XSETBV's rules. */
	if (!xcr0_supported || index != 0 ||
	    !cpu_policy_xcr0_valid(&guest_cpu_policy, value))
		return -EINVAL;
	v->xcr0 = value;
	xsetbv(0, value); /* v owns this CPU's FPU while it exits here */
	return 0;
}
