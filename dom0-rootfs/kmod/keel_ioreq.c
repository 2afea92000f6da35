// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * The device model's side of I/O requests on the per-domain fd
 * (keel_ioctl.h): the ioreq page (allocated here, registered with Keel,
 * mmap()ed into the device model), range add/remove, DONE, IRQ lines, and
 * poll(). A relay only: every argument is checked here and again by Keel.
 *
 * Pollers sleep on the domain's wq, which keel.ko wakes when Keel raises
 * Dom0's notification interrupt and when the domain is torn down; they
 * look at the page again at every wake-up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "keel_dev.h"

static struct keel_ioreq_page *keel_ioreq_page(struct keel_domain *d)
{
	return smp_load_acquire(&d->ioreq);
}

long keel_ioreq_setup(struct keel_domain *d)
{
	struct page *page;
	long ret;

	BUILD_BUG_ON(PAGE_SIZE != KEEL_IOREQ_PAGE_SIZE);
	mutex_lock(&d->lock);
	if (d->dead) {
		ret = -ESRCH;
		goto out;
	}
	/* Keel takes it only while the domain is built, and once. */
	if (d->started || d->ioreq_page) {
		ret = -EBUSY;
		goto out;
	}
	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page) {
		ret = -ENOMEM;
		goto out;
	}
	ret = keel_hypercall(KEEL_HC_IOREQ_SETUP, d->domid, page_to_phys(page),
			     PAGE_SIZE);
	if (ret) {
		/* Refused: Keel does not know the page. */
		__free_page(page);
		goto out;
	}
	d->ioreq_page = page;
	smp_store_release(&d->ioreq,
			  (struct keel_ioreq_page *)page_address(page));
out:
	mutex_unlock(&d->lock);
	return ret;
}

/*
 * One call for the domain under its lock. Dead, its domid may already be
 * another domain's: -ESRCH without asking Keel.
 */
static long keel_live_call(struct keel_domain *d, unsigned long nr,
			   unsigned long a2, unsigned long a3, unsigned long a4,
			   unsigned long a5)
{
	long ret = -ESRCH;

	mutex_lock(&d->lock);
	if (!d->dead)
		ret = keel_hypercall5(nr, d->domid, a2, a3, a4, a5);
	mutex_unlock(&d->lock);
	return ret;
}

long keel_ioreq_range(struct keel_domain *d,
		      struct keel_ioctl_ioreq_range __user *uarg)
{
	struct keel_ioctl_ioreq_range req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~KEEL_IOREQ_F_ALL) ||
	    (req.op != KEEL_IOREQ_RANGE_ADD &&
	     req.op != KEEL_IOREQ_RANGE_REMOVE) ||
	    !req.len || req.start + req.len < req.start)
		return -EINVAL;
	return keel_live_call(d, KEEL_HC_IOREQ_RANGE, req.op, req.flags,
			      req.start, req.len);
}

long keel_ioreq_done(struct keel_domain *d, u32 __user *uarg)
{
	u32 vcpu;

	if (get_user(vcpu, uarg))
		return -EFAULT;
	if (vcpu >= d->nr_vcpus)
		return -EINVAL;
	return keel_live_call(d, KEEL_HC_IOREQ_DONE, vcpu, 0, 0, 0);
}

long keel_irq_line(struct keel_domain *d,
		   struct keel_ioctl_irq_line __user *uarg)
{
	struct keel_ioctl_irq_line req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.op != KEEL_IRQ_ASSERT && req.op != KEEL_IRQ_DEASSERT &&
	    req.op != KEEL_IRQ_PULSE)
		return -EINVAL;
	return keel_live_call(d, KEEL_HC_IRQ_LINE, req.gsi, req.op, 0, 0);
}

/*
 * The whole page, shared, read-write, never executable. vm_insert_page()
 * takes a page reference for the mapping, so the page outlives the
 * domain for as long as the device model keeps it mapped.
 */
int keel_ioreq_mmap(struct keel_domain *d, struct vm_area_struct *vma)
{
	struct keel_ioreq_page *p = keel_ioreq_page(d);

	if (!p)
		return -ENXIO;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return vm_insert_page(vma, vma->vm_start, virt_to_page(p));
}

__poll_t keel_ioreq_poll(struct keel_domain *d, struct file *file,
			 struct poll_table_struct *wait)
{
	struct keel_ioreq_page *p;
	u32 i;

	poll_wait(file, &d->wq, wait);
	if (READ_ONCE(d->dead))
		return EPOLLHUP;
	p = keel_ioreq_page(d);
	if (!p)
		return 0;
	if (READ_ONCE(p->doorbell_pending))
		return EPOLLIN | EPOLLRDNORM;
	for (i = 0; i < d->nr_vcpus; i++)
		if (smp_load_acquire(&p->slot[i].state) == KEEL_IOREQ_PENDING)
			return EPOLLIN | EPOLLRDNORM;
	return 0;
}

/* From the domain's last put: Keel let go of the page unless a destroy
 * failed, in which case it stays Keel's for good. */
void keel_ioreq_free(struct keel_domain *d)
{
	if (d->ioreq_page && !d->keel_holds)
		__free_page(d->ioreq_page);
}
