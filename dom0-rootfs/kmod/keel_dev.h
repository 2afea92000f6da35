/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * keel.ko's shared pieces: the hypercall instruction, the state of a
 * domain this module built (one per KEEL_IOCTL_CREATE), and the calls
 * between keel_main.c (/dev/keel), keel_domain.c (the per-domain fd),
 * keel_ioreq.c (its I/O-request calls) and keel_console.c (the console
 * fd).
 */
#ifndef KEEL_KMOD_DEV_H
#define KEEL_KMOD_DEV_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/wait.h>

#include <public/keel_ioctl.h>

/* Set once at load: VMMCALL on AMD and Hygon (SVM), VMCALL on Intel. */
extern bool keel_use_vmmcall;

/*
 * Keel's calling convention (include/public/keel.h): number in RAX,
 * arguments in RDI, RSI, RDX, R10, R8, result in RAX. Keel changes no
 * other register.
 */
static inline long keel_hypercall5(unsigned long nr, unsigned long a1,
				   unsigned long a2, unsigned long a3,
				   unsigned long a4, unsigned long a5)
{
	register unsigned long r10 asm("r10") = a4;
	register unsigned long r8 asm("r8") = a5;
	long ret;

	if (keel_use_vmmcall)
		asm volatile("vmmcall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			       "r"(r8)
			     : "memory");
	else
		asm volatile("vmcall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			       "r"(r8)
			     : "memory");
	return ret;
}

static inline long keel_hypercall(unsigned long nr, unsigned long a1,
				  unsigned long a2, unsigned long a3)
{
	return keel_hypercall5(nr, a1, a2, a3, 0, 0);
}

/* The console ring keel.ko gives each domain it starts: 16 KiB. */
#define KEEL_CONSOLE_RING_ORDER 2
#define KEEL_CONSOLE_RING_SIZE	(PAGE_SIZE << KEEL_CONSOLE_RING_ORDER)
#define KEEL_CONSOLE_OUT_BYTES	KEEL_CONSOLE_OUT_SIZE(KEEL_CONSOLE_RING_SIZE)

/*
 * A domain created through this module. The per-domain fd holds one
 * reference, each console fd one, and the domid table lookups take
 * short-lived ones; the last put frees it.
 */
struct keel_domain {
	struct kref ref;
	u32 domid;    /* set at creation, then constant */
	u32 nr_vcpus; /* ditto */

	struct mutex lock;    /* serialises building and teardown */
	bool started;	      /* lock */
	bool dead;	      /* lock to set; READ_ONCE elsewhere */
	bool keel_holds;      /* lock: a failed destroy left pages to Keel */
	struct list_head ram; /* struct keel_ram_pin, lock */

	/* Registered with Keel at START; freed only after Keel dropped it. */
	struct page *ring_pages;	/* lock to set */
	struct keel_console_ring *ring; /* ditto; then constant */
	atomic_t console_open;		/* one console fd at a time */
	struct mutex console_lock;	/* readers: out_cons; writers: in */
	u32 out_cons;			/* console_lock */
	/*
	 * Everyone waiting on the domain (console readers and writers, the
	 * device model) sleeps here; Keel's notification interrupt wakes
	 * every domain's queue, and each waiter looks again.
	 */
	wait_queue_head_t wq;
	struct rcu_head rcu; /* the interrupt walks domains under RCU */

	/*
	 * The ioreq page (KEEL_IOCTL_IOREQ_SETUP): Keel writes it until the
	 * domain is destroyed, so it is freed only then (and stays alive
	 * while the device model still maps it: the mapping holds a page
	 * reference). Pollers of the per-domain fd sleep on wq.
	 */
	struct page *ioreq_page;       /* lock to set */
	struct keel_ioreq_page *ioreq; /* published once Keel has it */
};

void keel_domain_get(struct keel_domain *d);
void keel_domain_put(struct keel_domain *d);
/* The domain this module built with that domid, referenced, or NULL. */
struct keel_domain *keel_domain_lookup(u32 domid);
/*
 * Destroys the domain in Keel and, once Keel has let go of it, unpins its
 * memory; wakes the console. 0 or the hypercall's error.
 */
int keel_domain_teardown(struct keel_domain *d);

/* The per-domain fd's I/O-request ioctls, mmap and poll (keel_ioreq.c). */
long keel_ioreq_setup(struct keel_domain *d);
long keel_ioreq_range(struct keel_domain *d,
		      struct keel_ioctl_ioreq_range __user *uarg);
long keel_ioreq_done(struct keel_domain *d, u32 __user *uarg);
long keel_irq_line(struct keel_domain *d,
		   struct keel_ioctl_irq_line __user *uarg);
int keel_ioreq_mmap(struct keel_domain *d, struct vm_area_struct *vma);
__poll_t keel_ioreq_poll(struct keel_domain *d, struct file *file,
			 struct poll_table_struct *wait);
void keel_ioreq_free(struct keel_domain *d);

/* Wakes every domain's waiters: Keel's notification interrupt. Any
 * context. */
void keel_domains_wake_all(void);

/* KEEL_IOCTL_CREATE: a new domain and its per-domain fd. */
long keel_domain_create(struct keel_ioctl_create __user *uarg);
/* KEEL_IOCTL_CONSOLE_OPEN for a domain: a new console fd. */
long keel_console_open(struct keel_domain *d);
void keel_console_init(struct keel_domain *d);

/* The global fd's trace ioctls and mmap of the rings (keel_trace.c). */
long keel_trace_enable(const struct file *file, u32 __user *uarg);
long keel_trace_disable(void);
void keel_trace_release(const struct file *file);
long keel_trace_info(struct keel_ioctl_trace_info __user *uarg);
int keel_trace_mmap(struct file *file, struct vm_area_struct *vma);

#endif
