/* SPDX-License-Identifier: MIT */
/*
 * Domain control: the privileged hypercalls with which Dom0's toolstack
 * creates, builds, starts, watches and destroys domains (public/keel.h).
 * Keel trusts nothing the caller passes: buffers are copied in once and
 * the copy is checked, domain ids are looked up under domlist_lock, and
 * memory Dom0 donates must be its own RAM that no other domain has.
 * The I/O-request calls at the end only check and forward to
 * arch/x86/hvm/ioreq.c.
 *
 * Locking rule: every call here runs without any lock held on entry (see
 * exit.c) and takes domlist_lock, then at most the target's own lock.
 * domlist_lock is waited for with interrupts taken (domlist_acquire()), because
 * its holder may wait for another CPU to release a VMCS by IPI, and that
 * CPU may be one waiting for the lock. Domain destruction waits for other
 * CPUs, so it runs with no lock at all.
 */
#include <keel/boot_state.h>
#include <keel/console.h>
#include <keel/dom_console.h>
#include <keel/domctl.h>
#include <keel/domu_platform.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>
#include <keel/ioreq.h>
#include <keel/irq.h>
#include <keel/mem_extent.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <keel/vcpu_loop.h>

#define CONSOLE_MIN_SIZE KiB(4)
#define CONSOLE_MAX_SIZE KiB(64)
#define DMESG_MAX	 KiB(64)

/* A domain the toolstack may act on, or NULL; domlist_lock held. */
static struct domain *find(uint64_t domid)
{
	struct domain *d;

	if (domid >= MAX_DOMAINS)
		return NULL;
	d = domains[domid];
	return d && !d->dying ? d : NULL;
}

static uint64_t online_mask(void)
{
	return nr_cpus_online >= 64 ? ~0ULL : BIT(nr_cpus_online) - 1;
}

static bool name_ok(const char *name, size_t size)
{
	size_t n = strnlen(name, size);

	if (!n || n == size)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int64_t hc_domain_create(struct vcpu *caller, uint64_t gpa, uint64_t size,
			 uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct keel_domain_create c;
	struct domain *d;
	unsigned id;

	(void)a3, (void)a4, (void)a5;
	if (size < sizeof(c))
		return -EINVAL;
	if (guest_phys_read(caller->dom, gpa, &c, sizeof(c)))
		return -EFAULT;
	if (!name_ok(c.name, sizeof(c.name)) || !c.nr_vcpus ||
	    c.nr_vcpus > KEEL_MAX_VCPUS || c.nr_vcpus > MAX_VCPUS || c.flags)
		return -EINVAL;
	domlist_acquire();
	for (id = 0; id < MAX_DOMAINS; id++)
		if (domains[id] && !strcmp(domains[id]->name, c.name)) {
			domlist_release();
			return -EEXIST;
		}
	for (id = 1; id < MAX_DOMAINS && domains[id]; id++)
		;
	d = id < MAX_DOMAINS ? domain_create(id, c.name, false, c.nr_vcpus)
			     : NULL;
	if (!d) {
		domlist_release();
		return id < MAX_DOMAINS ? -ENOMEM : -ENOSPC;
	}
	d->toolstack_built = true;
	d->vcpus[0]->state = VCPU_DOWN; /* until KEEL_HC_DOMAIN_START */
	if (domu_platform_init(d)) {
		d->dying = true;
		domlist_release();
		domain_destroy(d);
		return -ENOMEM;
	}
	domlist_release();
	printk("d%u '%s': created, %u vCPU%s\n", id, c.name, c.nr_vcpus,
	       c.nr_vcpus > 1 ? "s" : "");
	return id;
}

int64_t hc_domain_destroy(struct vcpu *caller, uint64_t domid, uint64_t a2,
			  uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	char name[DOMAIN_NAME_MAX];

	(void)caller, (void)a2, (void)a3, (void)a4, (void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		domlist_release();
		return -ESRCH;
	}
	/* From here on no other call finds it; nobody else frees it. */
	d->dying = true;
	memcpy(name, d->name, sizeof(name));
	domlist_release();
	domain_destroy(d);
	/* The figures a leak shows in: `kl dmesg` after create/destroy. */
	printk("d%lu '%s': destroyed; %lu KiB free, heap %lu bytes\n", domid,
	       name, frames_free_pages() * (PAGE_SIZE / 1024),
	       heap_bytes_in_use());
	return 0;
}

static int64_t pause_or_unpause(uint64_t domid, bool pause)
{
	struct domain *d;
	int64_t rc = 0;
	bool building = false;

	if (domid == DOM0_ID)
		return -EPERM;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		domlist_release();
		return -ESRCH;
	}
	spin_lock(&d->lock);
	if (pause && d->state == DOM_BUILDING) {
		/* Nothing runs yet: DOMAIN_START will leave it paused. */
		rc = d->start_paused ? -EINVAL : 0;
		d->start_paused = building = true;
	} else if (d->state != (pause ? DOM_RUNNING : DOM_PAUSED)) {
		rc = -EINVAL;
	} else if (pause) {
		/* Off the run queues; a vCPU in the guest is kicked out. Its
		 * state (runnable, blocked) is kept for the unpause. */
		d->state = DOM_PAUSED;
		for (unsigned i = 0; i < d->nr_vcpus; i++)
			vcpu_sleep(d->vcpus[i]);
	} else {
		d->state = DOM_RUNNING;
		for (unsigned i = 0; i < d->nr_vcpus; i++)
			if (d->vcpus[i]->state == VCPU_RUNNABLE)
				sched->vcpu_wake(d->vcpus[i]);
	}
	spin_unlock(&d->lock);
	/*
	 * Paused means not running when the call returns: wait for the CPUs
	 * still in its vCPUs to leave. Interrupts are taken meanwhile, and no
	 * handler takes domlist_lock.
	 */
	if (!rc && pause && !building)
		vcpu_loop_evict_domain(d, true);
	if (!rc && !building)
		trace_domain(
		    d, pause ? KEEL_TRACE_DOM_PAUSE : KEEL_TRACE_DOM_UNPAUSE,
		    0);
	if (!rc)
		printk("d%lu '%s': %s\n", domid, d->name,
		       building ? "to start paused"
		       : pause	? "paused"
				: "unpaused");
	domlist_release();
	return rc;
}

int64_t hc_domain_pause(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)caller, (void)a2, (void)a3, (void)a4, (void)a5;
	return pause_or_unpause(domid, true);
}

int64_t hc_domain_unpause(struct vcpu *caller, uint64_t domid, uint64_t a2,
			  uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)caller, (void)a2, (void)a3, (void)a4, (void)a5;
	return pause_or_unpause(domid, false);
}

/* Hands d's vCPUs to the scheduler with what the toolstack asked for. */
static int schedule_domain(struct domain *d)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < d->nr_vcpus && !rc; i++)
		rc = sched->vcpu_insert(d->vcpus[i]);
	if (rc) {
		for (unsigned j = 0; j + 1 < i; j++)
			sched->vcpu_remove(d->vcpus[j]);
		return rc;
	}
	for (i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i]->affinity)
			sched->set_affinity(d->vcpus[i], d->vcpus[i]->affinity);
	if (d->start_weight)
		sched->set_params(d, d->start_weight, d->start_cap);
	return 0;
}

int64_t hc_domain_start(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc;
	bool paused;

	(void)caller, (void)a2, (void)a3, (void)a4, (void)a5;
	domlist_acquire();
	d = find(domid);
	if (!d)
		rc = -ESRCH;
	else if (d->state != DOM_BUILDING)
		rc = -EBUSY;
	else if (!d->nr_extents || !d->vcpus[0]->boot_state_set)
		rc = -EINVAL;
	else
		rc = schedule_domain(d);
	if (rc) {
		domlist_release();
		return rc;
	}
	paused = d->start_paused;
	d->start_paused = false;
	d->start_ns = now_ns();
	spin_lock(&d->lock);
	d->state = paused ? DOM_PAUSED : DOM_RUNNING;
	trace_domain(d, KEEL_TRACE_DOM_START, 0);
	d->vcpus[0]->state = VCPU_RUNNABLE;
	if (!paused) /* else the unpause wakes it */
		sched->vcpu_wake(d->vcpus[0]);
	spin_unlock(&d->lock);
	printk("d%u '%s': started%s, %lu MiB\n", d->id, d->name,
	       paused ? " paused" : "", d->ram_bytes >> 20);
	domlist_release();
	return 0;
}

static void fill_info(const struct domain *d, struct keel_domain_info *info)
{
	unsigned weight = 0, cap = 0;

	memset(info, 0, sizeof(*info));
	info->domid = d->id;
	info->state = d->state;
	info->flags = d->flags | (d->privileged ? KEEL_DOMFLAG_PRIVILEGED : 0);
	info->shutdown_reason = d->shutdown_reason;
	info->nr_vcpus = d->nr_vcpus;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		const struct vcpu *v = d->vcpus[i];

		if (v->state == VCPU_RUNNABLE || v->state == VCPU_BLOCKED)
			info->nr_vcpus_up++;
		info->cpu_time_ns += v->runtime_ns;
	}
	if (d->state == DOM_BUILDING) {
		weight = d->start_weight;
		cap = d->start_cap;
	} else if (sched->get_params(d, &weight, &cap)) {
		weight = cap = 0;
	}
	info->weight = weight;
	info->cap = cap;
	info->ram_bytes = d->ram_bytes;
	info->p2m_bytes = d->p2m_pages * PAGE_SIZE;
	memcpy(info->name, d->name, MIN(sizeof(info->name), sizeof(d->name)));
	info->name[sizeof(info->name) - 1] = 0;
	if (d->state == DOM_CRASHED)
		memcpy(
		    info->crash_reason, d->crash_reason,
		    MIN(sizeof(info->crash_reason), sizeof(d->crash_reason)));
	info->crash_reason[sizeof(info->crash_reason) - 1] = 0;
}

int64_t hc_domain_info(struct vcpu *caller, uint64_t first, uint64_t gpa,
		       uint64_t size, uint64_t a4, uint64_t a5)
{
	struct keel_domain_info info;
	struct domain *d = NULL;
	uint64_t id;

	(void)a4, (void)a5;
	if (size < sizeof(info))
		return -EINVAL;
	/* A buffer that is not the caller's RAM fails before any work. */
	if (guest_phys_read(caller->dom, gpa, &info, sizeof(info)))
		return -EFAULT;
	domlist_acquire();
	for (id = first; id < MAX_DOMAINS && !(d = find(id)); id++)
		;
	if (d)
		fill_info(d, &info);
	domlist_release();
	if (!d)
		return -ESRCH;
	if (guest_phys_write(caller->dom, gpa, &info, sizeof(info)))
		return -EFAULT;
	return (int64_t)id;
}

/*
 * struct mem_extent_env for KEEL_HC_MEMORY_MAP, over the live domains;
 * domlist_lock held, so no extent list changes meanwhile.
 */
struct map_ctx {
	struct domain *dom0, *target;
};

static int dom0_ram(void *ctx, uint64_t dom0_gpa, uint64_t len, uint64_t *hpa)
{
	struct domain *d0 = ((struct map_ctx *)ctx)->dom0;
	uint64_t first;

	if (p2m_lookup(d0, dom0_gpa, &first))
		return -EINVAL;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t pa;

		/* Dom0's RAM, not the VGA window or ROMs of its first MiB. */
		if (p2m_lookup(d0, dom0_gpa + off, &pa) || pa != first + off ||
		    !domain_owns_ram(d0, pa, PAGE_SIZE) || !memmap_is_ram(pa))
			return -EINVAL;
	}
	*hpa = first;
	return 0;
}

/* A domain's memory, a console ring or an ioreq page: a DomU given one
 * could read or forge another domain's console or I/O requests. */
static bool hpa_in_use(void *ctx, uint64_t hpa, uint64_t len)
{
	(void)ctx;
	for (unsigned id = 1; id < MAX_DOMAINS; id++) {
		const struct domain *d = domains[id];

		if (d && (domain_extents_overlap_hpa(d, hpa, len) ||
			  (d->console.hpa &&
			   ranges_overlap(d->console.hpa,
					  KEEL_CONSOLE_OUT_OFFSET +
					      (uint64_t)d->console.out_size,
					  hpa, len)) ||
			  (d->ioreq.hpa &&
			   ranges_overlap(d->ioreq.hpa, KEEL_IOREQ_PAGE_SIZE,
					  hpa, len))))
			return true;
	}
	return false;
}

/* RAM, or an MMIO range of Dom0's device model (which RAM would hide). */
static bool gpa_in_use(void *ctx, uint64_t gpa, uint64_t len)
{
	const struct domain *d = ((struct map_ctx *)ctx)->target;

	for (unsigned i = 0; i < KEEL_IOREQ_MAX_RANGES; i++) {
		const struct ioreq_range *r = &d->ioreq.ranges[i];

		if (!(r->flags & KEEL_IOREQ_F_PIO) &&
		    ranges_overlap(r->start, r->len, gpa, len))
			return true;
	}
	return domain_extents_overlap_gpa(d, gpa, len);
}

/* Records and maps checked extents; all or nothing. */
static int map_extents(struct domain *d, const struct dom_extent *ex,
		       unsigned n)
{
	unsigned added, mapped;
	int rc = 0;

	for (added = 0; added < n && !rc; added++)
		rc = domain_add_extent(d, ex[added].gpa, ex[added].hpa,
				       ex[added].len);
	if (rc)
		added--;
	for (mapped = 0; mapped < n && !rc; mapped++)
		rc = p2m_map(d, ex[mapped].gpa, ex[mapped].hpa, ex[mapped].len,
			     P2M_RWX, false);
	if (!rc)
		return 0;
	/* The domain never ran: nothing to evict, only to take back. */
	for (unsigned i = 0; i < mapped; i++)
		p2m_unmap(d, ex[i].gpa, ex[i].len);
	for (unsigned i = 0; i < added; i++)
		domain_remove_extent(d, ex[i].hpa);
	return rc;
}

int64_t hc_memory_map(struct vcpu *caller, uint64_t domid, uint64_t gpa,
		      uint64_t n, uint64_t a4, uint64_t a5)
{
	struct keel_mem_extent *ex = NULL;
	struct dom_extent *out = NULL;
	struct map_ctx ctx = {.dom0 = caller->dom};
	struct mem_extent_env env = {dom0_ram, hpa_in_use, gpa_in_use, &ctx};
	int64_t rc;

	(void)a4, (void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	if (!n || n > KEEL_MAX_EXTENTS_PER_CALL)
		return -EINVAL;
	ex = xzalloc(n * sizeof(*ex));
	out = xzalloc(n * sizeof(*out));
	if (!ex || !out) {
		rc = -ENOMEM;
		goto done;
	}
	if (guest_phys_read(caller->dom, gpa, ex, n * sizeof(*ex))) {
		rc = -EFAULT;
		goto done;
	}
	domlist_acquire();
	ctx.target = find(domid);
	if (!ctx.target)
		rc = -ESRCH;
	else if (ctx.target->state != DOM_BUILDING)
		rc = -EBUSY;
	else
		rc = mem_extents_check(ex, (unsigned)n, &env, out);
	if (!rc)
		rc = map_extents(ctx.target, out, (unsigned)n);
	domlist_release();
done:
	xfree(ex);
	xfree(out);
	return rc;
}

/* The CR4 bits vCPU v is allowed, from the CPUID its guest sees. */
static uint64_t cr4_allowed(struct vcpu *v)
{
	uint32_t l1[4], l7[4];

	hvm_cpuid(v, 1, 0, l1);
	hvm_cpuid(v, 7, 0, l7);
	return boot_state_cr4_allowed(l1[2], l1[3], l7[1], l7[2]);
}

int64_t hc_vcpu_boot_state(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
			   uint64_t gpa, uint64_t size, uint64_t a5)
{
	struct keel_vcpu_boot_state b;
	struct guest_state s;
	uint64_t gpr[NR_GPRS] = {0};
	struct domain *d;
	struct vcpu *v;
	int64_t rc = 0;

	(void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	if (size < sizeof(b))
		return -EINVAL;
	if (guest_phys_read(caller->dom, gpa, &b, sizeof(b)))
		return -EFAULT;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		rc = -ESRCH;
	} else if (vcpu != 0 || vcpu >= d->nr_vcpus) {
		rc = -EINVAL;
	} else if (d->state != DOM_BUILDING) {
		rc = -EBUSY;
	} else {
		v = d->vcpus[vcpu];
		hvm->get_state(v, &s);
		rc = boot_state_apply(&b, cr4_allowed(v), &s, gpr);
		if (!rc) {
			hvm->set_state(v, &s);
			memcpy(v->gpr, gpr, sizeof(gpr));
			v->boot_state_set = true;
		}
	}
	domlist_release();
	return rc;
}

int64_t hc_vcpu_affinity(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
			 uint64_t mask, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc;

	(void)caller, (void)a4, (void)a5;
	if (!(mask & online_mask()))
		return -EINVAL;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		rc = -ESRCH;
	} else if (vcpu >= d->nr_vcpus) {
		rc = -EINVAL;
	} else if (d->state == DOM_BUILDING) {
		/* The scheduler learns of the vCPU at the start. */
		d->vcpus[vcpu]->affinity = mask & online_mask();
		rc = 0;
	} else {
		rc = sched->set_affinity(d->vcpus[vcpu], mask);
	}
	domlist_release();
	return rc;
}

static uint32_t abi_vcpu_state(const struct vcpu *v)
{
	if (v->dom->state != DOM_RUNNING && v->dom->state != DOM_BUILDING)
		return KEEL_VCPUSTATE_STOPPED;
	switch (v->state) {
	case VCPU_RUNNABLE:
		return KEEL_VCPUSTATE_RUNNABLE;
	case VCPU_BLOCKED:
		return KEEL_VCPUSTATE_BLOCKED;
	case VCPU_STOPPED:
		return KEEL_VCPUSTATE_STOPPED;
	default:
		return KEEL_VCPUSTATE_DOWN;
	}
}

int64_t hc_vcpu_info(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
		     uint64_t gpa, uint64_t size, uint64_t a5)
{
	struct keel_vcpu_info info = {0};
	struct domain *d;
	int64_t rc = 0;

	(void)a5;
	if (size < sizeof(info))
		return -EINVAL;
	if (guest_phys_read(caller->dom, gpa, &info, sizeof(info)))
		return -EFAULT;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		rc = -ESRCH;
	} else if (vcpu >= d->nr_vcpus) {
		rc = -EINVAL;
	} else {
		const struct vcpu *v = d->vcpus[vcpu];

		memset(&info, 0, sizeof(info));
		info.vcpu = (uint32_t)vcpu;
		info.state = abi_vcpu_state(v);
		info.pcpu = __atomic_load_n(&v->pcpu, __ATOMIC_RELAXED);
		info.affinity =
		    d->state == DOM_BUILDING
			? (v->affinity ? v->affinity : online_mask())
			: sched->get_affinity(v);
		info.cpu_time_ns = v->runtime_ns;
		for (unsigned r = 0; r < EXIT_NR; r++)
			info.exits += v->exits[r];
		info.irqs_injected =
		    __atomic_load_n(&v->irqs_injected, __ATOMIC_RELAXED);
		info.ioreqs = __atomic_load_n(&v->ioreqs, __ATOMIC_RELAXED);
	}
	domlist_release();
	if (rc)
		return rc;
	return guest_phys_write(caller->dom, gpa, &info, sizeof(info)) ? -EFAULT
								       : 0;
}

int64_t hc_sched_set(struct vcpu *caller, uint64_t domid, uint64_t weight,
		     uint64_t cap, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc;

	(void)caller, (void)a4, (void)a5;
	if (!weight || weight > SCHED_MAX_WEIGHT ||
	    cap > 100ULL * nr_cpus_online)
		return -EINVAL;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		rc = -ESRCH;
	} else if (d->state == DOM_BUILDING) {
		d->start_weight = (unsigned)weight;
		d->start_cap = (unsigned)cap;
		rc = 0;
	} else {
		rc = sched->set_params(d, (unsigned)weight, (unsigned)cap);
	}
	domlist_release();
	return rc;
}

int64_t hc_console_setup(struct vcpu *caller, uint64_t domid, uint64_t gpa,
			 uint64_t size, uint64_t a4, uint64_t a5)
{
	struct map_ctx ctx = {.dom0 = caller->dom};
	struct domain *d;
	uint64_t hpa;
	int64_t rc = 0;

	(void)a4, (void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	if (size < CONSOLE_MIN_SIZE || size > CONSOLE_MAX_SIZE ||
	    (size & (size - 1)) || !IS_ALIGNED(gpa, PAGE_SIZE))
		return -EINVAL;
	domlist_acquire();
	d = find(domid);
	if (!d)
		rc = -ESRCH;
	else if (d->state != DOM_BUILDING)
		rc = -EBUSY;
	else if (dom0_ram(&ctx, gpa, size, &hpa))
		rc = -EFAULT;
	/* Not in memory a domain was given, nor another domain's ring. */
	else if (hpa_in_use(&ctx, hpa, size))
		rc = -EINVAL;
	if (!rc) {
		spin_lock(&d->lock);
		dom_console_attach(d, hpa, (uint32_t)size);
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}

int64_t hc_console_kick(struct vcpu *caller, uint64_t domid, uint64_t a2,
			uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc = 0;

	(void)caller, (void)a2, (void)a3, (void)a4, (void)a5;
	domlist_acquire();
	d = find(domid);
	if (!d) {
		rc = -ESRCH;
	} else {
		spin_lock(&d->lock);
		if (d->console.hpa)
			dom_console_pull(d);
		else
			rc = -EINVAL;
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}

int64_t hc_dmesg(struct vcpu *caller, uint64_t gpa, uint64_t size,
		 uint64_t flags, uint64_t a4, uint64_t a5)
{
	char *buf;
	size_t n;
	int64_t rc;

	(void)a4, (void)a5;
	if (flags & ~(uint64_t)KEEL_DMESG_CLEAR)
		return -EINVAL;
	size = MIN(size, DMESG_MAX);
	if (!size)
		return 0;
	buf = xzalloc(size);
	if (!buf)
		return -ENOMEM;
	/* The whole buffer must be the caller's before the log is cleared. */
	if (guest_phys_read(caller->dom, gpa, buf, size)) {
		xfree(buf);
		return -EFAULT;
	}
	n = console_ring_read_lines(buf, size, flags & KEEL_DMESG_CLEAR);
	rc = guest_phys_write(caller->dom, gpa, buf, n) ? -EFAULT : (int64_t)n;
	xfree(buf);
	return rc;
}

/*
 * The I/O-request calls act on domains the toolstack built: Keel's own
 * boot domains have no device model. NULL with *rc set otherwise;
 * domlist_lock held.
 */
static struct domain *find_for_ioreq(uint64_t domid, int64_t *rc)
{
	struct domain *d;

	*rc = 0;
	if (domid == DOM0_ID) {
		*rc = -EPERM;
		return NULL;
	}
	d = find(domid);
	if (!d)
		*rc = -ESRCH;
	else if (!d->toolstack_built)
		*rc = -EPERM;
	return *rc ? NULL : d;
}

int64_t hc_ioreq_setup(struct vcpu *caller, uint64_t domid, uint64_t gpa,
		       uint64_t size, uint64_t a4, uint64_t a5)
{
	struct map_ctx ctx = {.dom0 = caller->dom};
	struct domain *d;
	uint64_t hpa;
	int64_t rc;

	(void)a4, (void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	if (size != KEEL_IOREQ_PAGE_SIZE || !IS_ALIGNED(gpa, PAGE_SIZE))
		return -EINVAL;
	domlist_acquire();
	d = find_for_ioreq(domid, &rc);
	if (d && (d->state != DOM_BUILDING || d->ioreq.hpa))
		rc = -EBUSY;
	else if (d && dom0_ram(&ctx, gpa, size, &hpa))
		rc = -EFAULT;
	else if (d && hpa_in_use(&ctx, hpa, size))
		rc = -EINVAL;
	if (!rc) {
		spin_lock(&d->lock);
		ioreq_attach(d, hpa);
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}

int64_t hc_ioreq_range(struct vcpu *caller, uint64_t domid, uint64_t op,
		       uint64_t flags, uint64_t start, uint64_t len)
{
	struct domain *d;
	int64_t rc;

	(void)caller;
	if (domid == DOM0_ID)
		return -EPERM;
	if ((op != KEEL_IOREQ_RANGE_ADD && op != KEEL_IOREQ_RANGE_REMOVE) ||
	    flags > UINT32_MAX)
		return -EINVAL;
	if (op == KEEL_IOREQ_RANGE_ADD &&
	    ioreq_range_valid((uint32_t)flags, start, len))
		return -EINVAL;
	domlist_acquire();
	d = find_for_ioreq(domid, &rc);
	if (d && !d->ioreq.hpa)
		rc = -EINVAL;
	else if (d && op == KEEL_IOREQ_RANGE_ADD &&
		 !(flags & KEEL_IOREQ_F_PIO) &&
		 domain_extents_overlap_gpa(d, start, len))
		rc = -EINVAL; /* RAM: never reaches Keel */
	if (!rc) {
		spin_lock(&d->lock);
		rc = op == KEEL_IOREQ_RANGE_ADD
			 ? ioreq_range_add(d->ioreq.ranges,
					   KEEL_IOREQ_MAX_RANGES,
					   (uint32_t)flags, start, len)
			 : ioreq_range_remove(d->ioreq.ranges,
					      KEEL_IOREQ_MAX_RANGES,
					      (uint32_t)flags, start, len);
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}

int64_t hc_ioreq_done(struct vcpu *caller, uint64_t domid, uint64_t vcpu,
		      uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc;

	(void)caller, (void)a3, (void)a4, (void)a5;
	domlist_acquire();
	d = find_for_ioreq(domid, &rc);
	if (d && vcpu >= d->nr_vcpus)
		rc = -EINVAL;
	if (!rc) {
		spin_lock(&d->lock);
		rc = ioreq_complete(d->vcpus[vcpu]);
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}

/*
 * Only the target's lock is taken, after domlist_lock, as for every call
 * here: a vCPU of the target never holds it while waiting for Dom0 (an
 * I/O request blocks the vCPU, and Dom0 is notified after its exit let go
 * of the lock), so Dom0 may drive a line from an interrupt handler.
 */
int64_t hc_irq_line(struct vcpu *caller, uint64_t domid, uint64_t gsi,
		    uint64_t op, uint64_t a4, uint64_t a5)
{
	struct domain *d;
	int64_t rc;

	(void)caller, (void)a4, (void)a5;
	if (domid == DOM0_ID)
		return -EPERM;
	if (gsi >= VIOAPIC_NR_PINS ||
	    (op != KEEL_IRQ_ASSERT && op != KEEL_IRQ_DEASSERT &&
	     op != KEEL_IRQ_PULSE))
		return -EINVAL;
	if (gsi == KEEL_DOMU_COM1_GSI)
		return -EPERM;
	domlist_acquire();
	d = find_for_ioreq(domid, &rc);
	if (!rc) {
		spin_lock(&d->lock);
		vioapic_set_pin(&d->vioapic, (unsigned)gsi,
				op != KEEL_IRQ_DEASSERT);
		if (op == KEEL_IRQ_PULSE)
			vioapic_set_pin(&d->vioapic, (unsigned)gsi, false);
		spin_unlock(&d->lock);
	}
	domlist_release();
	return rc;
}
