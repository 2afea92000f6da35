/* SPDX-License-Identifier: MIT */
/*
 * The vendor-neutral vCPU interface. arch/x86/svm and arch/x86/vmx each
 * provide one `struct hvm_ops`; the rest of Keel only sees neutral exit
 * reasons and this table. The vendor is chosen once, in hvm_init().
 */
#ifndef KEEL_HVM_H
#define KEEL_HVM_H

#include <keel/lib.h>

struct vcpu;
struct domain;

enum exit_reason {
	EXIT_NONE,
	EXIT_EXTINT, /* a physical interrupt arrived */
	EXIT_NMI,
	EXIT_INTR_WINDOW, /* the guest can take an interrupt now */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_NPF, /* nested/extended page fault */
	EXIT_HLT,
	EXIT_HYPERCALL,
	EXIT_SHUTDOWN,	/* triple fault */
	EXIT_EXCEPTION, /* an intercepted guest exception */
	EXIT_INIT,
	EXIT_DEADLINE, /* the deadline given to vcpu_run passed */
	EXIT_XSETBV,
	EXIT_PAUSE,
	EXIT_VIRT_INSN, /* SVM/VMX instructions: #UD for guests */
	EXIT_ICEBP,	/* ICEBP (INT1, F1): the guest gets #DB after it */
	EXIT_INVALID,	/* hardware refused the guest state */
	EXIT_UNKNOWN,	/* a vendor exit Keel does not handle */
	EXIT_NR
};

extern const char *const exit_reason_names[EXIT_NR];

struct vm_exit {
	enum exit_reason reason;
	uint64_t raw;	  /* the vendor's exit code, for logs */
	uint8_t insn_len; /* 0 = not reported by hardware: decode it */
	/* An interrupt injected for this run that the guest did not take:
	 * back to the vLAPIC's IRR. */
	bool irq_requeue;
	uint8_t irq_vector;
	union {
		struct {
			uint16_t port;
			uint8_t size;
			bool in, string, rep;
		} io;
		struct {
			uint64_t gpa;
			bool write, fetch, present;
		} npf;
		struct {
			uint8_t vector;
			bool has_error;
			uint32_t error;
			uint64_t cr2;
		} exc;
	};
};

/* Register numbering is the hardware encoding order (ModRM.reg). */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	NR_GPRS
};

struct segment {
	uint16_t sel;
	uint16_t attr; /* SVM-style packed attributes: type..G in 12 bits */
	uint32_t limit;
	uint64_t base;
};

/* struct segment.attr: descriptor type 0-3, S 4, DPL 5-6, P 7, L 9, D/B 10,
 * G 11 (AMD APM vol. 2 §15.5.1, the VMCB layout). */
#define SEG_TYPE_DATA_RWA 0x3 /* read/write, accessed */
#define SEG_TYPE_CODE_RXA 0xB /* execute/read, accessed */
#define SEG_TYPE_LDT	  0x2
#define SEG_TYPE_TSS_BUSY 0xB
#define SEG_ATTR_S	  (1u << 4) /* code or data, not a system segment */
#define SEG_ATTR_P	  (1u << 7)
#define SEG_ATTR_L	  (1u << 9)
#define SEG_ATTR_DB	  (1u << 10)

/* Guest control state Keel needs for decoding and page walks. */
struct guest_state {
	uint64_t cr0, cr2, cr3, cr4, efer, rflags, rip, pat;
	struct segment cs, ss, ds, es, fs, gs, tr, ldtr;
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint8_t cpl;
};

enum event_type { EVENT_EXTINT, EVENT_NMI, EVENT_EXCEPTION, EVENT_SOFTINT };

struct hvm_ops {
	const char *name;
	/* Enables virtualization on the calling physical CPU. */
	int (*cpu_enable)(void);
	int (*vcpu_create)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	/*
	 * Enters the guest and returns at its next exit, at the latest soon
	 * after the host TSC reaches deadline_tsc: the backend arranges that
	 * exit (a hardware timer of the vendor, or Keel's LAPIC timer).
	 * Called with no lock held.
	 */
	void (*vcpu_run)(struct vcpu *v, uint64_t deadline_tsc,
			 struct vm_exit *exit);
	/*
	 * A STARTUP IPI for v, which waits for one after INIT: v starts in
	 * real mode at vector * 4 KiB when it next runs. Only recorded here,
	 * since the sender holds the domain lock and v's state may be loaded
	 * on another CPU; vcpu_run applies it (hvm_startup_state()).
	 */
	void (*startup_ipi)(struct vcpu *v, uint8_t vector);
	void (*get_state)(struct vcpu *v, struct guest_state *s);
	void (*set_state)(struct vcpu *v, const struct guest_state *s);
	/* Queues an event for the next entry; false if one is already queued.
	 */
	bool (*inject_event)(struct vcpu *v, enum event_type type,
			     uint8_t vector, bool has_error, uint32_t error);
	/* Can an external interrupt be injected right now? */
	bool (*interruptible)(struct vcpu *v);
	/* Ask for EXIT_INTR_WINDOW as soon as interrupts can be taken. */
	void (*request_intr_window)(struct vcpu *v, bool on);
	/* Debug key 'd': the event-injection state, as of the last exit. */
	void (*dump_events)(struct vcpu *v);
	/* p2m page-table entries in the vendor's format (NPT or EPT). */
	uint64_t (*p2m_entry)(uint64_t hpa, unsigned perms, bool large,
			      bool uncached);
	/* A non-leaf entry pointing at the next-level table at pa. */
	uint64_t (*p2m_table_entry)(uint64_t pa);
	bool (*p2m_present)(uint64_t entry);
	bool (*p2m_is_large)(uint64_t entry);
	void (*p2m_flush)(struct domain *d);
	/* CPU_POLICY_NO_* (cpu_policy.h): what guests cannot be shown. */
	unsigned (*guest_limits)(void);
};

#define P2M_R	1u
#define P2M_W	2u
#define P2M_X	4u
#define P2M_RWX (P2M_R | P2M_W | P2M_X)

extern const struct hvm_ops *hvm;

/* Probes the CPU, picks SVM or VMX, or explains why neither works. */
int hvm_init(void);

/* The architectural power-up state: real mode at F000:FFF0 (hvm/reset.c). */
void hvm_reset_state(struct guest_state *s);
/*
 * Puts v where a STARTUP IPI sends it: real mode at vector * 4 KiB. For the
 * backends' vcpu_run, once v's state is loaded on the calling CPU.
 */
void hvm_startup_state(struct vcpu *v, uint8_t vector);

/*
 * Counts and logs a VM entry after which the CPU handed back Keel's own
 * state as v's, which the backend recovered by entering v again from the
 * state it was entered with (an emulator fault: svm.c).
 */
void hvm_entry_recovered(struct vcpu *v);
uint64_t hvm_entries_recovered(void);

#endif
