// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * Keel's trace rings on the global fd (keel_ioctl.h): enable, disable,
 * describe, and mmap() of the rings read-only. The rings are Keel's
 * pages, which Keel maps read-only into Dom0 while tracing is on; this
 * module maps them into the reader with remap_pfn_range() and copies
 * nothing. Disabling frees them in Keel, after which a touch would stop
 * Dom0: so disable is refused while any mapping exists, and a mapping is
 * never writable (Keel's read-only mapping would also stop Dom0 on a
 * write) and never inherited by a child. Tracing ends with the fd that
 * turned it on, however its process ended.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "keel_dev.h"

static DEFINE_MUTEX(keel_trace_lock);
static unsigned int keel_trace_maps; /* VMAs of the rings; keel_trace_lock */
/* The fd that turned tracing on (none if Keel's command line did). */
static const struct file *keel_trace_owner; /* keel_trace_lock */

long keel_trace_enable(const struct file *file, u32 __user *uarg)
{
	u32 pages;
	long ret;

	if (get_user(pages, uarg))
		return -EFAULT;
	if (!pages || pages > KEEL_TRACE_MAX_PAGES || (pages & (pages - 1)))
		return -EINVAL;
	mutex_lock(&keel_trace_lock);
	ret = keel_hypercall(KEEL_HC_TRACE, KEEL_TRACE_OP_ENABLE, pages, 0);
	if (!ret)
		keel_trace_owner = file;
	mutex_unlock(&keel_trace_lock);
	return ret;
}

/* The caller holds keel_trace_lock. */
static long keel_trace_off(void)
{
	long ret;

	if (keel_trace_maps)
		return -EBUSY;
	ret = keel_hypercall(KEEL_HC_TRACE, KEEL_TRACE_OP_DISABLE, 0, 0);
	if (!ret)
		keel_trace_owner = NULL;
	return ret;
}

long keel_trace_disable(void)
{
	long ret;

	mutex_lock(&keel_trace_lock);
	ret = keel_trace_off();
	mutex_unlock(&keel_trace_lock);
	return ret;
}

/*
 * The last reference to an fd is gone. If it turned tracing on and never
 * off (a `kl trace` killed by SIGKILL), tracing goes off now: its own
 * mappings hold the file, so they are gone already; another reader's
 * keep tracing on.
 */
void keel_trace_release(const struct file *file)
{
	mutex_lock(&keel_trace_lock);
	if (keel_trace_owner == file) {
		keel_trace_owner = NULL;
		if (keel_trace_off())
			pr_info("tracing stays on: another reader maps its "
				"rings\n");
	}
	mutex_unlock(&keel_trace_lock);
}

/* Keel's description, in a kmalloc'd buffer (Keel takes it by address);
 * the caller holds keel_trace_lock and kfree()s it. */
static struct keel_trace_desc *keel_trace_describe(long *ret)
{
	struct keel_trace_desc *desc = kzalloc(sizeof(*desc), GFP_KERNEL);

	if (!desc) {
		*ret = -ENOMEM;
		return NULL;
	}
	*ret = keel_hypercall(KEEL_HC_TRACE, KEEL_TRACE_OP_DESCRIBE,
			      virt_to_phys(desc), sizeof(*desc));
	if (!*ret && (desc->nr_cpus > KEEL_TRACE_MAX_CPUS ||
		      desc->pages_per_cpu > KEEL_TRACE_MAX_PAGES))
		*ret = -EPROTO;
	if (*ret) {
		kfree(desc);
		return NULL;
	}
	return desc;
}

long keel_trace_info(struct keel_ioctl_trace_info __user *uarg)
{
	struct keel_ioctl_trace_info info = {0};
	struct keel_trace_desc *desc;
	long ret;
	u32 i;

	mutex_lock(&keel_trace_lock);
	desc = keel_trace_describe(&ret);
	mutex_unlock(&keel_trace_lock);
	if (!desc)
		return ret;
	info.tsc_khz = desc->tsc_khz;
	if (desc->pages_per_cpu) {
		info.pages_per_cpu = desc->pages_per_cpu;
		info.nr_cpus = desc->nr_cpus;
		for (i = 0; i < desc->nr_cpus; i++)
			if (desc->ring[i])
				info.cpu_mask |= 1ULL << i;
	}
	kfree(desc);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* Splits of a mapping (munmap of a part) count as mappings too. */
static void keel_trace_vm_open(struct vm_area_struct *vma)
{
	mutex_lock(&keel_trace_lock);
	keel_trace_maps++;
	mutex_unlock(&keel_trace_lock);
}

static void keel_trace_vm_close(struct vm_area_struct *vma)
{
	mutex_lock(&keel_trace_lock);
	keel_trace_maps--;
	mutex_unlock(&keel_trace_lock);
}

static const struct vm_operations_struct keel_trace_vm_ops = {
    .open = keel_trace_vm_open,
    .close = keel_trace_vm_close,
};

int keel_trace_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long ring_size, len = vma->vm_end - vma->vm_start;
	struct keel_trace_desc *desc;
	long ret;
	u32 i;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EACCES;
	vma->vm_flags &= ~(VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP;
	mutex_lock(&keel_trace_lock);
	desc = keel_trace_describe(&ret);
	if (!desc)
		goto out;
	ret = -ENODATA;
	if (!desc->pages_per_cpu)
		goto out;
	ring_size = (unsigned long)desc->pages_per_cpu << PAGE_SHIFT;
	ret = -EINVAL;
	if (vma->vm_pgoff || len != desc->nr_cpus * ring_size)
		goto out;
	for (i = 0; i < desc->nr_cpus; i++) {
		if (!desc->ring[i])
			continue;
		ret = -EPROTO;
		if (!PAGE_ALIGNED(desc->ring[i]))
			goto out;
		ret = remap_pfn_range(vma, vma->vm_start + i * ring_size,
				      desc->ring[i] >> PAGE_SHIFT, ring_size,
				      vma->vm_page_prot);
		if (ret)
			goto out;
	}
	vma->vm_ops = &keel_trace_vm_ops;
	keel_trace_maps++;
	ret = 0;
out:
	mutex_unlock(&keel_trace_lock);
	kfree(desc);
	return ret;
}
