/* SPDX-License-Identifier: MIT */
/*
 * Boot-time domains, like Xen's dom0less: unprivileged domains started
 * by Keel itself from extra multiboot2 modules named on its command line,
 *
 *   domu=NAME:KERNEL[,INITRD][,mem=SIZE][,vcpus=N][,weight=W][,cap=C][,pin=CPU]
 *
 * where KERNEL and INITRD are module numbers (0 is Dom0's kernel). Each
 * gets its own nested page tables over memory from the frame allocator,
 * its own vLAPIC, vIOAPIC and serial port (output tagged with its name).
 * They boot through the Linux 64-bit boot protocol without ACPI tables.
 */
#include <keel/boot_domains.h>
#include <keel/domain.h>
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/param.h>
#include <keel/percpu.h>
#include <keel/sched.h>

#define DEFAULT_MEM	MiB(64)
#define MIN_KERNEL_ADDR MiB(16)
#define LOW_RAM_END	0x9F000ULL
#define SPEC_MAX	256

struct domu_spec {
	char name[DOMAIN_NAME_MAX];
	int kernel, initrd;
	uint64_t mem;
	unsigned vcpus, weight, cap;
	int pin; /* CPU every vCPU is pinned to, or -1 */
};

static int parse_number(const char *s, const char *end, uint64_t *out)
{
	const char *e;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	*out = parse_size(s, &e);
	return e == end ? 0 : -EINVAL;
}

/* One "domu=" value (the part after '='), up to a space or the end. */
static int parse_spec(const char *s, struct domu_spec *sp)
{
	const char *colon = strchr(s, ':'), *end = s, *p;
	size_t n;
	uint64_t v;

	while (*end && *end != ' ')
		end++;
	if (!colon || colon >= end || colon == s)
		return -EINVAL;
	n = MIN((size_t)(colon - s), sizeof(sp->name) - 1);
	*sp = (struct domu_spec){.kernel = -1,
				 .initrd = -1,
				 .mem = DEFAULT_MEM,
				 .vcpus = 1,
				 .weight = 256,
				 .cap = 0,
				 .pin = -1};
	memcpy(sp->name, s, n);
	for (p = colon + 1; p < end;) {
		const char *q = p, *eq;

		while (q < end && *q != ',')
			q++;
		eq = p;
		while (eq < q && *eq != '=')
			eq++;
		if (eq == q) { /* a bare number: kernel, then initrd */
			if (parse_number(p, q, &v) || v >= BOOT_MAX_MODULES)
				return -EINVAL;
			if (sp->kernel < 0)
				sp->kernel = (int)v;
			else if (sp->initrd < 0)
				sp->initrd = (int)v;
			else
				return -EINVAL;
		} else if (parse_number(eq + 1, q, &v)) {
			return -EINVAL;
		} else if (!strncmp(p, "mem=", 4)) {
			sp->mem = ALIGN_UP(v, LARGE_PAGE_SIZE);
		} else if (!strncmp(p, "vcpus=", 6)) {
			sp->vcpus = (unsigned)v;
		} else if (!strncmp(p, "weight=", 7)) {
			sp->weight = (unsigned)v;
		} else if (!strncmp(p, "cap=", 4)) {
			sp->cap = (unsigned)v;
		} else if (!strncmp(p, "pin=", 4) && v < MAX_CPUS) {
			sp->pin = (int)v;
		} else {
			return -EINVAL;
		}
		p = q + 1;
	}
	if (sp->kernel < 0 || !sp->vcpus || sp->vcpus > MAX_VCPUS ||
	    sp->mem < MiB(2) || !sp->weight || sp->cap > 100 * MAX_VCPUS)
		return -EINVAL;
	return 0;
}

/* RAM from the frame allocator, mapped at guest-physical 0 upwards. */
static int populate(struct domain *d, uint64_t size)
{
	uint64_t gpa = 0;

	d->extents_from_keel = true;
	while (gpa < size) {
		unsigned order = 9; /* 2 MiB */
		uint64_t hpa;

		while (order < MAX_ORDER &&
		       (PAGE_SIZE << (order + 1)) <= size - gpa &&
		       IS_ALIGNED(gpa, PAGE_SIZE << (order + 1)))
			order++;
		for (; order >= 9; order--) {
			hpa = frames_alloc(order);
			if (hpa)
				break;
		}
		if (order < 9)
			return -ENOMEM;
		memset(phys_to_virt(hpa), 0, PAGE_SIZE << order);
		/* Recorded first: destruction returns it to the allocator. */
		if (domain_add_extent(d, gpa, hpa, PAGE_SIZE << order)) {
			frames_free(hpa, order);
			return -ENOMEM;
		}
		if (p2m_map(d, gpa, hpa, PAGE_SIZE << order, P2M_RWX, false))
			return -ENOMEM;
		gpa += PAGE_SIZE << order;
	}
	return 0;
}

static int load_kernel(struct domain *d, const struct boot_info *bi,
		       const struct domu_spec *sp, struct e820_map *e820)
{
	const struct boot_module *km = &bi->modules[sp->kernel];
	const uint8_t *img = phys_to_virt(km->start);
	struct bzimage_info bz;
	struct linux_boot lb = {
	    .image = img, .bz = &bz, .e820 = e820, .cmdline = km->cmdline};
	uint64_t load;
	int rc = bzimage_parse(img, km->end - km->start, &bz);

	if (rc)
		return rc;
	load = bz.relocatable ? ALIGN_UP(MAX(bz.pref_address, MIN_KERNEL_ADDR),
					 bz.alignment)
			      : bz.pref_address;
	if (load < MiB(1) || load + bz.init_size > sp->mem)
		return -ENOSPC;
	rc = guest_phys_write(d, load, bz.payload, bz.payload_size);
	if (rc)
		return rc;
	lb.kernel_gpa = load;
	if (sp->initrd >= 0) {
		const struct boot_module *im = &bi->modules[sp->initrd];

		lb.initrd_size = im->end - im->start;
		lb.initrd_gpa = ALIGN_DOWN(
		    MIN(sp->mem, GiB(4)) - lb.initrd_size, PAGE_SIZE);
		if (lb.initrd_gpa < load + bz.init_size)
			return -ENOSPC;
		rc = guest_phys_write(d, lb.initrd_gpa, phys_to_virt(im->start),
				      lb.initrd_size);
		if (rc)
			return rc;
	}
	return linux_boot_setup(d, &lb);
}

static void start_domain(const struct boot_info *bi, const char *arg)
{
	static unsigned next_id = 1;
	struct domu_spec sp;
	struct e820_map e820 = {0};
	struct domain *d;
	int rc = parse_spec(arg, &sp);

	if (rc) {
		printk("domu=%.40s: not NAME:KERNEL[,INITRD][,mem=][,vcpus=]"
		       "[,weight=][,cap=][,pin=]; ignored\n",
		       arg);
		return;
	}
	if ((unsigned)sp.kernel >= bi->nr_modules ||
	    (sp.initrd >= 0 && (unsigned)sp.initrd >= bi->nr_modules)) {
		printk("domu %s: no module %d; ignored\n", sp.name, sp.kernel);
		return;
	}
	d = domain_create(next_id, sp.name, false, sp.vcpus);
	if (!d) {
		printk("domu %s: cannot create the domain\n", sp.name);
		return;
	}
	next_id++;
	d->flags = KEEL_DOMFLAG_BOOT;
	e820_add(&e820, 0, LOW_RAM_END, E820_RAM);
	e820_add(&e820, LOW_RAM_END, MiB(1) - LOW_RAM_END, E820_RESERVED);
	e820_add(&e820, MiB(1), sp.mem - MiB(1), E820_RAM);
	rc = populate(d, sp.mem);
	if (!rc)
		rc = load_kernel(d, bi, &sp, &e820);
	if (rc) {
		spin_lock(&d->lock);
		domain_crash(d, NULL, "cannot build it (%d)", rc);
		spin_unlock(&d->lock);
		return;
	}
	d->state = DOM_RUNNING;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		sched_add_vcpu(d->vcpus[i]);
		if (sp.pin >= 0 &&
		    sched->set_affinity(d->vcpus[i], 1ULL << sp.pin))
			printk("d%u: cannot pin to cpu%d\n", d->id, sp.pin);
	}
	if (sched->set_params(d, sp.weight, sp.cap))
		printk("d%u: scheduler %s takes no weight/cap\n", d->id,
		       sched->name);
	printk("d%u '%s': module %d, %lu MiB, %u vCPU%s, weight %u, cap %u\n",
	       d->id, d->name, sp.kernel, sp.mem >> 20, sp.vcpus,
	       sp.vcpus > 1 ? "s" : "", sp.weight, sp.cap);
}

/* Each domu= value, in command-line order (pointers into it). */
static const char *domu_args[MAX_DOMAINS - 1];
static unsigned nr_domu_args;

static int domu_param(const char *val)
{
	if (nr_domu_args == ARRAY_SIZE(domu_args))
		return -ENOSPC;
	domu_args[nr_domu_args++] = val;
	return 0;
}
custom_param("domu", domu_param);

void boot_domains_create(const struct boot_info *bi)
{
	for (unsigned i = 0; i < nr_domu_args; i++)
		start_domain(bi, domu_args[i]);
}
