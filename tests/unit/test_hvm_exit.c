/* SPDX-License-Identifier: MIT */
/*
 * The vendor-neutral exit handler (hypervisor/arch/x86/hvm/exit.c) with the
 * real prefix decoder, driven through a fake hvm_ops holding one guest
 * state. CPUID, MSR, port I/O, the hypercall table, the vLAPIC and the
 * scheduler are stand-ins that record what the handler asked of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/guest_mem.h>
#include <keel/hvm_exit.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/x86.h>
#include "shim.h"

#define GUEST_RIP 0x1000

static struct domain dom;
static struct vcpu vcpu = {.dom = &dom, .state = VCPU_RUNNABLE};
static struct guest_state gs;
static uint8_t insn[15];
static size_t insn_len;
static unsigned crashes, sleeps;
static struct {
	unsigned count;
	uint8_t vector;
	bool has_error;
	uint32_t error;
} injected;
static bool msr_refuse;
static uint64_t msr_written;
static int pending_irq = -1;

static void fake_get_state(struct vcpu *v, struct guest_state *s)
{
	(void)v;
	*s = gs;
}

static void fake_set_state(struct vcpu *v, const struct guest_state *s)
{
	(void)v;
	gs = *s;
}

static bool fake_inject_event(struct vcpu *v, enum event_type type,
			      uint8_t vector, bool has_error, uint32_t error)
{
	(void)v, (void)type;
	injected.count++;
	injected.vector = vector;
	injected.has_error = has_error;
	injected.error = error;
	return true;
}

static void fake_request_intr_window(struct vcpu *v, bool on)
{
	(void)v, (void)on;
}

static const struct hvm_ops fake_ops = {
    .name = "fake",
    .get_state = fake_get_state,
    .set_state = fake_set_state,
    .inject_event = fake_inject_event,
    .request_intr_window = fake_request_intr_window,
};
const struct hvm_ops *hvm = &fake_ops;
const char *const exit_reason_names[EXIT_NR] = {[EXIT_UNKNOWN] = "unknown"};

int guest_fetch_insn(struct vcpu *v, const struct guest_state *s, uint8_t *buf,
		     size_t len)
{
	(void)v, (void)s;
	len = len < insn_len ? len : insn_len;
	memcpy(buf, insn, len);
	return (int)len;
}

void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
{
	(void)d, (void)culprit, (void)fmt;
	crashes++;
}

void hvm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)v;
	r[0] = leaf;
	r[1] = sub;
	r[2] = 0xC2;
	r[3] = 0xD3;
}

int hvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	(void)v;
	*val = 0x1122334455667788ULL + msr;
	return msr_refuse ? -EINVAL : 0;
}

int hvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	(void)v, (void)msr;
	msr_written = val;
	return msr_refuse ? -EINVAL : 0;
}

int hvm_io(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val)
{
	(void)v, (void)port, (void)size;
	if (in)
		*val = 0xAABBCCDD;
	return 0;
}

void hvm_npf(struct vcpu *v, struct vm_exit *e)
{
	(void)v, (void)e;
}

/* Hypercalls run without the caller's domain lock (exit.c). */
uint64_t hypercall_dispatch(struct vcpu *v)
{
	assert_false(spin_is_locked(&v->dom->lock));
	return 42;
}

int fpu_set_xcr0(struct vcpu *v, uint32_t index, uint64_t value)
{
	(void)v, (void)index, (void)value;
	return 0;
}

void vcpu_sleep(struct vcpu *v)
{
	(void)v;
	sleeps++;
}

int vlapic_pending_irq(struct vlapic *l)
{
	(void)l;
	return pending_irq;
}

void vlapic_irq_injected(struct vlapic *l, uint8_t vector)
{
	(void)l, (void)vector;
}

/* The requeued vector is pending again, as the vLAPIC's IRR makes it. */
void vlapic_irq_requeue(struct vlapic *l, uint8_t vector)
{
	(void)l;
	pending_irq = vector;
}

/* A 64-bit guest at GUEST_RIP whose next instruction is bytes[]. */
static void guest_at(const uint8_t *bytes, size_t n)
{
	memset(&gs, 0, sizeof(gs));
	gs.rip = GUEST_RIP;
	gs.efer = EFER_LMA | EFER_LME;
	gs.cs.attr = SEG_ATTR_L;
	if (n)
		memcpy(insn, bytes, n);
	insn_len = n;
	memset(vcpu.gpr, 0, sizeof(vcpu.gpr));
	memset(&injected, 0, sizeof(injected));
	vcpu.state = VCPU_RUNNABLE;
	crashes = sleeps = 0;
	msr_refuse = false;
	pending_irq = -1;
}

static void handle(enum exit_reason reason, uint8_t reported_len)
{
	struct vm_exit e = {.reason = reason, .insn_len = reported_len};

	/* As vcpu_loop.c calls it. */
	spin_lock(&vcpu.dom->lock);
	hvm_handle_exit(&vcpu, &e);
	spin_unlock(&vcpu.dom->lock);
}

/* Without next-RIP the length comes from the bytes, prefixes included. */
static void test_cpuid_length_from_bytes(void **state)
{
	static const uint8_t plain[] = {0x0F, 0xA2};
	static const uint8_t prefixed[] = {0x66, 0x2E, 0x48, 0x0F, 0xA2};

	(void)state;
	guest_at(plain, sizeof(plain));
	vcpu.gpr[GPR_RAX] = 7;
	vcpu.gpr[GPR_RCX] = 1;
	handle(EXIT_CPUID, 0);
	assert_int_equal(gs.rip, GUEST_RIP + 2);
	assert_int_equal(vcpu.gpr[GPR_RAX], 7);
	assert_int_equal(vcpu.gpr[GPR_RBX], 1);
	assert_int_equal(vcpu.gpr[GPR_RCX], 0xC2);
	assert_int_equal(vcpu.gpr[GPR_RDX], 0xD3);
	guest_at(prefixed, sizeof(prefixed));
	handle(EXIT_CPUID, 0);
	assert_int_equal(gs.rip, GUEST_RIP + 5);
	assert_int_equal(crashes, 0);
}

/* The hardware's length (next-RIP, VMX) is used as it is. */
static void test_reported_length(void **state)
{
	static const uint8_t hlt[] = {0xF4};

	(void)state;
	guest_at(hlt, sizeof(hlt));
	handle(EXIT_CPUID, 2);
	assert_int_equal(gs.rip, GUEST_RIP + 2);
}

/*
 * An exit whose bytes are another instruction (TCG reports RDTSCP as
 * RDTSC; a guest can rewrite its code under an exit) stops the domain
 * instead of moving RIP by a guess.
 */
static void test_mismatched_bytes_stop_the_domain(void **state)
{
	static const uint8_t rdtscp[] = {0x0F, 0x01, 0xF9};
	static const uint8_t prefixes_only[] = {0x66, 0x66, 0x66};

	(void)state;
	guest_at(rdtscp, sizeof(rdtscp));
	handle(EXIT_HLT, 0);
	assert_int_equal(crashes, 1);
	assert_int_equal(gs.rip, GUEST_RIP);
	guest_at(prefixes_only, sizeof(prefixes_only));
	handle(EXIT_CPUID, 0);
	assert_int_equal(crashes, 1);
	assert_int_equal(gs.rip, GUEST_RIP);
}

/* A refused MSR access is a #GP at the instruction, RIP unchanged. */
static void test_msr(void **state)
{
	static const uint8_t rdmsr[] = {0x0F, 0x32};
	static const uint8_t wrmsr[] = {0x0F, 0x30};

	(void)state;
	guest_at(rdmsr, sizeof(rdmsr));
	vcpu.gpr[GPR_RCX] = 0x10;
	handle(EXIT_MSR_READ, 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x55667798);
	assert_int_equal(vcpu.gpr[GPR_RDX], 0x11223344);
	assert_int_equal(gs.rip, GUEST_RIP + 2);

	guest_at(wrmsr, sizeof(wrmsr));
	vcpu.gpr[GPR_RAX] = 0xFFFFFFFF00000001ULL; /* upper half ignored */
	vcpu.gpr[GPR_RDX] = 2;
	handle(EXIT_MSR_WRITE, 0);
	assert_int_equal(msr_written, 0x200000001ULL);
	assert_int_equal(gs.rip, GUEST_RIP + 2);

	guest_at(rdmsr, sizeof(rdmsr));
	msr_refuse = true;
	handle(EXIT_MSR_READ, 0);
	assert_int_equal(injected.count, 1);
	assert_int_equal(injected.vector, 13);
	assert_int_equal(gs.rip, GUEST_RIP);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0);
}

/* IN of 1 byte keeps RAX's other bits; of 4 bytes zero-extends. */
static void test_port_in(void **state)
{
	static const uint8_t inb[] = {0xEC};
	static const uint8_t inl[] = {0xED};
	struct vm_exit e = {.reason = EXIT_IO, .insn_len = 1};

	(void)state;
	guest_at(inb, sizeof(inb));
	vcpu.gpr[GPR_RAX] = 0x1111111111111111ULL;
	e.io.port = 0x3F8, e.io.size = 1, e.io.in = true;
	hvm_handle_exit(&vcpu, &e);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0x11111111111111DDULL);
	guest_at(inl, sizeof(inl));
	vcpu.gpr[GPR_RAX] = 0x1111111111111111ULL;
	e.io.size = 4;
	hvm_handle_exit(&vcpu, &e);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0xAABBCCDD);
}

/* Hypercalls only from CPL 0; VMX/SVM instructions are #UD. */
static void test_hypercall_and_virt_insns(void **state)
{
	static const uint8_t vmmcall[] = {0x0F, 0x01, 0xD9};

	(void)state;
	guest_at(vmmcall, sizeof(vmmcall));
	handle(EXIT_HYPERCALL, 0);
	assert_int_equal(vcpu.gpr[GPR_RAX], 42);
	assert_int_equal(gs.rip, GUEST_RIP + 3);
	guest_at(vmmcall, sizeof(vmmcall));
	gs.cpl = 3;
	handle(EXIT_HYPERCALL, 0);
	assert_int_equal(injected.vector, 6);
	assert_int_equal(gs.rip, GUEST_RIP);
	assert_int_equal(vcpu.gpr[GPR_RAX], 0);
	guest_at(vmmcall, sizeof(vmmcall));
	handle(EXIT_VIRT_INSN, 0);
	assert_int_equal(injected.vector, 6);
	assert_int_equal(crashes, 0);
}

/* HLT sleeps only with nothing pending. */
static void test_hlt(void **state)
{
	static const uint8_t hlt[] = {0xF4};

	(void)state;
	guest_at(hlt, sizeof(hlt));
	handle(EXIT_HLT, 0);
	assert_int_equal(gs.rip, GUEST_RIP + 1);
	assert_int_equal(vcpu.state, VCPU_BLOCKED);
	assert_int_equal(sleeps, 1);
	guest_at(hlt, sizeof(hlt));
	pending_irq = 0x30;
	handle(EXIT_HLT, 0);
	assert_int_equal(vcpu.state, VCPU_RUNNABLE);
	assert_int_equal(sleeps, 0);
}

/*
 * An interrupt injected for the run that ended at HLT but not taken goes
 * back to the IRR before HLT looks: the vCPU must not sleep on it.
 */
static void test_requeue_before_hlt(void **state)
{
	static const uint8_t hlt[] = {0xF4};
	struct vm_exit e = {
	    .reason = EXIT_HLT, .irq_requeue = true, .irq_vector = 0x41};

	(void)state;
	guest_at(hlt, sizeof(hlt));
	vcpu.irqs_injected = 5;
	spin_lock(&vcpu.dom->lock);
	hvm_handle_exit(&vcpu, &e);
	spin_unlock(&vcpu.dom->lock);
	assert_int_equal(pending_irq, 0x41);
	assert_int_equal(vcpu.irqs_injected, 4);
	assert_int_equal(vcpu.state, VCPU_RUNNABLE);
	assert_int_equal(sleeps, 0);
}

/*
 * #DB and #AC exits go back to the guest as the same exception (#AC with
 * its error code of 0) and RIP stays; ICEBP is skipped and becomes #DB.
 */
static void test_reflected_exceptions_and_icebp(void **state)
{
	static const uint8_t icebp[] = {0xF1};
	struct vm_exit e = {.reason = EXIT_EXCEPTION};

	(void)state;
	guest_at(NULL, 0);
	e.exc.vector = 1;
	hvm_handle_exit(&vcpu, &e);
	assert_int_equal(injected.count, 1);
	assert_int_equal(injected.vector, 1);
	assert_false(injected.has_error);
	assert_int_equal(gs.rip, GUEST_RIP);
	guest_at(NULL, 0);
	e.exc.vector = 17;
	hvm_handle_exit(&vcpu, &e);
	assert_int_equal(injected.vector, 17);
	assert_true(injected.has_error);
	assert_int_equal(injected.error, 0);
	assert_int_equal(crashes, 0);

	guest_at(icebp, sizeof(icebp));
	handle(EXIT_ICEBP, 0);
	assert_int_equal(gs.rip, GUEST_RIP + 1);
	assert_int_equal(injected.vector, 1);
	assert_int_equal(crashes, 0);
	/* Reported length (VMX) */
	guest_at(icebp, sizeof(icebp));
	handle(EXIT_ICEBP, 1);
	assert_int_equal(gs.rip, GUEST_RIP + 1);
	/* Anything but F1 at RIP is not an ICEBP exit Keel understands. */
	guest_at((const uint8_t[]){0x90}, 1);
	handle(EXIT_ICEBP, 0);
	assert_int_equal(crashes, 1);
	assert_int_equal(injected.count, 0);
}

/* What Keel cannot handle stops the domain, never Keel. */
static void test_fatal_exits(void **state)
{
	static const enum exit_reason fatal[] = {EXIT_SHUTDOWN, EXIT_INVALID,
						 EXIT_EXCEPTION, EXIT_UNKNOWN};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(fatal); i++) {
		guest_at(NULL, 0);
		handle(fatal[i], 0);
		assert_int_equal(crashes, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpuid_length_from_bytes),
	    cmocka_unit_test(test_reported_length),
	    cmocka_unit_test(test_mismatched_bytes_stop_the_domain),
	    cmocka_unit_test(test_msr),
	    cmocka_unit_test(test_port_in),
	    cmocka_unit_test(test_hypercall_and_virt_insns),
	    cmocka_unit_test(test_hlt),
	    cmocka_unit_test(test_requeue_before_hlt),
	    cmocka_unit_test(test_reflected_exceptions_and_icebp),
	    cmocka_unit_test(test_fatal_exits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
