// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * Domains keel.ko creates (KEEL_IOCTL_CREATE) and their per-domain fd:
 * memory donated from a memfd (MAP_RAM), the boot vCPU (VCPU_BOOT), and
 * START with the console ring; its I/O-request calls are keel_ioreq.c's.
 *
 * DomU memory is Dom0's own pages (README, DESIGN section 5): pinned with
 * FOLL_LONGTERM for the domain's whole life and handed to Keel as
 * {gpa, Dom0 physical, length} extents. The order of teardown is the
 * point of this file: Keel destroys the domain (its nested page tables
 * gone and every CPU flushed when the hypercall returns), and only then
 * are the pages unpinned. If Keel refuses the destroy, the pages stay
 * pinned forever: a leak is better than Keel's guest writing into pages
 * Dom0 reuses.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "keel_dev.h"
#include "keel_ring.h"

/*
 * One MAP_RAM call's pages, kept pinned until the domain is destroyed.
 * 16 GiB a call keeps the page array (8 bytes a page) within what
 * kvmalloc serves easily; `kl` maps bigger guests in several calls.
 */
#define KEEL_MAP_RAM_MAX (16ULL << 30)

struct keel_ram_pin {
	struct list_head link;
	struct page **pages;
	unsigned long nr;
};

/* domid -> struct keel_domain of every live domain this module built. */
static DEFINE_XARRAY(keel_domains);

static void keel_domain_free(struct kref *ref)
{
	struct keel_domain *d = container_of(ref, struct keel_domain, ref);

	/* Keel stopped using the ring when the destroy succeeded. */
	if (d->ring_pages && !d->keel_holds)
		__free_pages(d->ring_pages, KEEL_CONSOLE_RING_ORDER);
	keel_ioreq_free(d);
	kfree_rcu(d, rcu);
}

void keel_domains_wake_all(void)
{
	struct keel_domain *d;
	unsigned long domid;

	/* Teardown erases a domain before its last put frees it. */
	rcu_read_lock();
	xa_for_each(&keel_domains, domid, d) wake_up_interruptible_all(&d->wq);
	rcu_read_unlock();
}

void keel_domain_get(struct keel_domain *d)
{
	kref_get(&d->ref);
}

void keel_domain_put(struct keel_domain *d)
{
	kref_put(&d->ref, keel_domain_free);
}

struct keel_domain *keel_domain_lookup(u32 domid)
{
	struct keel_domain *d;

	xa_lock(&keel_domains);
	d = xa_load(&keel_domains, domid);
	if (d && !kref_get_unless_zero(&d->ref))
		d = NULL;
	xa_unlock(&keel_domains);
	return d;
}

static void keel_ram_unpin_all(struct keel_domain *d)
{
	struct keel_ram_pin *pin, *next;

	list_for_each_entry_safe(pin, next, &d->ram, link)
	{
		/* The guest wrote them: tell the page cache of the memfd. */
		unpin_user_pages_dirty_lock(pin->pages, pin->nr, true);
		kvfree(pin->pages);
		list_del(&pin->link);
		kfree(pin);
	}
}

int keel_domain_teardown(struct keel_domain *d)
{
	long ret = 0;

	mutex_lock(&d->lock);
	if (!d->dead) {
		ret = keel_hypercall(KEEL_HC_DOMAIN_DESTROY, d->domid, 0, 0);
		/* -ESRCH: Keel has no such domain, so it maps nothing of it. */
		if (ret == -ESRCH)
			ret = 0;
		if (ret) {
			pr_err("Keel refused to destroy domain %u (%ld): its "
			       "memory stays pinned\n",
			       d->domid, ret);
			d->keel_holds = true;
		} else {
			keel_ram_unpin_all(d);
		}
		WRITE_ONCE(d->dead, true);
		xa_erase(&keel_domains, d->domid);
	}
	mutex_unlock(&d->lock);
	/* Console readers see EOF, writers an error. */
	wake_up_interruptible_all(&d->wq);
	return ret;
}

/* The vma(s) must be shared memfd (shmem or hugetlbfs) memory. */
static int keel_check_vmas(unsigned long start, unsigned long len)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = start + len, addr = start;
	int ret = 0;

	mmap_read_lock(mm);
	while (addr < end) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		/*
		 * DESIGN section 5: never a VM_PFNMAP mapping (no struct
		 * pages to pin) or a regular file (writeback of pages the
		 * guest changes behind the page cache's back). Shared, so
		 * the pages are the memfd's and not private copies.
		 */
		if (!vma || vma->vm_start > addr ||
		    !(vma->vm_flags & VM_SHARED) ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP)) ||
		    !(is_vm_hugetlb_page(vma) || shmem_file(vma->vm_file))) {
			ret = -EINVAL;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Hands one batch of extents to Keel through a kmalloc'd copy. */
static long keel_map_extents(struct keel_domain *d, struct keel_mem_extent *ext,
			     size_t nr)
{
	return keel_hypercall(KEEL_HC_MEMORY_MAP, d->domid, virt_to_phys(ext),
			      nr);
}

static long keel_map_ram(struct keel_domain *d,
			 struct keel_ioctl_map_ram __user *uarg)
{
	struct keel_ioctl_map_ram req;
	struct keel_mem_extent *ext = NULL;
	struct keel_ram_pin *pin = NULL;
	unsigned long nr_pages, done = 0, i;
	bool mapped_some = false;
	size_t nr_ext = 0;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (!req.len || !PAGE_ALIGNED(req.uaddr) || !PAGE_ALIGNED(req.gpa) ||
	    !PAGE_ALIGNED(req.len))
		return -EINVAL;
	if (req.len > KEEL_MAP_RAM_MAX || req.gpa + req.len < req.gpa ||
	    req.gpa + req.len > KEEL_MAX_GPA)
		return -EINVAL;
	if (req.uaddr + req.len < req.uaddr ||
	    !access_ok(u64_to_user_ptr(req.uaddr), req.len))
		return -EFAULT;
	ret = keel_check_vmas(req.uaddr, req.len);
	if (ret)
		return ret;
	nr_pages = req.len >> PAGE_SHIFT;

	mutex_lock(&d->lock);
	if (d->dead) {
		ret = -ESRCH;
		goto out;
	}
	if (d->started) {
		ret = -EBUSY;
		goto out;
	}
	ret = -ENOMEM;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	ext =
	    kmalloc_array(KEEL_MAX_EXTENTS_PER_CALL, sizeof(*ext), GFP_KERNEL);
	if (!pin || !ext)
		goto out;
	pin->pages = kvmalloc_array(nr_pages, sizeof(*pin->pages), GFP_KERNEL);
	if (!pin->pages)
		goto out;
	while (done < nr_pages) {
		int n = pin_user_pages_fast(
		    req.uaddr + (done << PAGE_SHIFT),
		    min_t(unsigned long, nr_pages - done, INT_MAX >> 1),
		    FOLL_LONGTERM | FOLL_WRITE, pin->pages + done);

		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto out;
		}
		done += n;
	}
	pin->nr = nr_pages;
	for (i = 0; i < nr_pages; i++) {
		u64 gpa = req.gpa + ((u64)i << PAGE_SHIFT);
		u64 phys = page_to_phys(pin->pages[i]);

		if (keel_extent_add(ext, &nr_ext, KEEL_MAX_EXTENTS_PER_CALL,
				    gpa, phys, PAGE_SIZE))
			continue;
		ret = keel_map_extents(d, ext, nr_ext);
		if (ret)
			goto out;
		mapped_some = true;
		nr_ext = 0;
		keel_extent_add(ext, &nr_ext, KEEL_MAX_EXTENTS_PER_CALL, gpa,
				phys, PAGE_SIZE);
	}
	ret = keel_map_extents(d, ext, nr_ext);
	if (!ret)
		mapped_some = true;
out:
	if (pin && mapped_some) {
		/* Keel maps some of it: pinned until the domain is gone. */
		list_add(&pin->link, &d->ram);
	} else if (pin) {
		if (done)
			unpin_user_pages(pin->pages, done);
		kvfree(pin->pages);
		kfree(pin);
	}
	mutex_unlock(&d->lock);
	kfree(ext);
	return ret;
}

static long keel_vcpu_boot(struct keel_domain *d,
			   struct keel_ioctl_vcpu_boot __user *uarg)
{
	struct keel_ioctl_vcpu_boot *req;
	long ret;

	/* Keel reads the state from this buffer: heap, not stack. */
	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(req, uarg, sizeof(*req)))
		goto out;
	ret = -EINVAL;
	if (req->pad || req->vcpu >= d->nr_vcpus ||
	    req->state.mode != KEEL_VCPU_BOOT_LONG64)
		goto out;
	mutex_lock(&d->lock);
	if (d->dead)
		ret = -ESRCH;
	else if (d->started)
		ret = -EBUSY;
	else
		ret = keel_hypercall5(KEEL_HC_VCPU_BOOT_STATE, d->domid,
				      req->vcpu, virt_to_phys(&req->state),
				      sizeof(req->state), 0);
	mutex_unlock(&d->lock);
out:
	kfree(req);
	return ret;
}

static long keel_start(struct keel_domain *d)
{
	long ret;

	mutex_lock(&d->lock);
	if (d->dead) {
		ret = -ESRCH;
		goto out;
	}
	if (d->started) {
		ret = -EBUSY;
		goto out;
	}
	if (!d->ring_pages) {
		/* Physically contiguous and page aligned, as Keel wants it. */
		d->ring_pages = alloc_pages(GFP_KERNEL | __GFP_ZERO,
					    KEEL_CONSOLE_RING_ORDER);
		if (!d->ring_pages) {
			ret = -ENOMEM;
			goto out;
		}
		ret = keel_hypercall(KEEL_HC_CONSOLE_SETUP, d->domid,
				     page_to_phys(d->ring_pages),
				     KEEL_CONSOLE_RING_SIZE);
		if (ret) {
			/* Refused: Keel does not know the pages. */
			__free_pages(d->ring_pages, KEEL_CONSOLE_RING_ORDER);
			d->ring_pages = NULL;
			goto out;
		}
		/* Published for keel_console_open() only now. */
		smp_store_release(
		    &d->ring,
		    (struct keel_console_ring *)page_address(d->ring_pages));
	}
	ret = keel_hypercall(KEEL_HC_DOMAIN_START, d->domid, 0, 0);
	if (!ret)
		d->started = true;
out:
	mutex_unlock(&d->lock);
	return ret;
}

static long keel_domain_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct keel_domain *d = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KEEL_IOCTL_MAP_RAM:
		return keel_map_ram(d, uarg);
	case KEEL_IOCTL_VCPU_BOOT:
		return keel_vcpu_boot(d, uarg);
	case KEEL_IOCTL_START:
		return keel_start(d);
	case KEEL_IOCTL_IOREQ_SETUP:
		return keel_ioreq_setup(d);
	case KEEL_IOCTL_IOREQ_RANGE:
		return keel_ioreq_range(d, uarg);
	case KEEL_IOCTL_IOREQ_DONE:
		return keel_ioreq_done(d, uarg);
	case KEEL_IOCTL_IRQ_LINE:
		return keel_irq_line(d, uarg);
	default:
		return -ENOTTY;
	}
}

static int keel_domain_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return keel_ioreq_mmap(file->private_data, vma);
}

static __poll_t keel_domain_poll(struct file *file,
				 struct poll_table_struct *wait)
{
	return keel_ioreq_poll(file->private_data, file, wait);
}

/* The creator is gone (exit, SIGKILL, close): no orphan domains. */
static int keel_domain_release(struct inode *inode, struct file *file)
{
	struct keel_domain *d = file->private_data;

	keel_domain_teardown(d);
	keel_domain_put(d);
	return 0;
}

static const struct file_operations keel_domain_fops = {
    .owner = THIS_MODULE,
    .unlocked_ioctl = keel_domain_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .mmap = keel_domain_mmap,
    .poll = keel_domain_poll,
    .release = keel_domain_release,
    .llseek = noop_llseek,
};

long keel_domain_create(struct keel_ioctl_create __user *uarg)
{
	struct keel_ioctl_create req;
	struct keel_domain_create *args;
	struct keel_domain *d;
	struct file *file;
	long domid;
	int fd, ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (!keel_domain_name_valid(req.create.name, sizeof(req.create.name)) ||
	    req.create.nr_vcpus < 1 || req.create.nr_vcpus > KEEL_MAX_VCPUS ||
	    req.create.flags)
		return -EINVAL;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	args = kmemdup(&req.create, sizeof(req.create), GFP_KERNEL);
	if (!d || !args) {
		kfree(d);
		kfree(args);
		return -ENOMEM;
	}
	kref_init(&d->ref);
	mutex_init(&d->lock);
	INIT_LIST_HEAD(&d->ram);
	keel_console_init(d);
	d->nr_vcpus = req.create.nr_vcpus;

	fd = get_unused_fd_flags(O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		kfree(args);
		keel_domain_put(d);
		return fd;
	}
	domid = keel_hypercall(KEEL_HC_DOMAIN_CREATE, virt_to_phys(args),
			       sizeof(*args), 0);
	kfree(args);
	if (domid < 0) {
		put_unused_fd(fd);
		keel_domain_put(d);
		return domid;
	}
	d->domid = domid;
	ret = xa_insert(&keel_domains, d->domid, d, GFP_KERNEL);
	if (ret) {
		/* Keel reused a domid we still track: refuse, destroy. */
		keel_hypercall(KEEL_HC_DOMAIN_DESTROY, d->domid, 0, 0);
		WRITE_ONCE(d->dead, true);
		put_unused_fd(fd);
		keel_domain_put(d);
		return ret == -EBUSY ? -EEXIST : ret;
	}
	/* From here the file's release tears the domain down. */
	file = anon_inode_getfile("[keel-domain]", &keel_domain_fops, d,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		keel_domain_teardown(d);
		put_unused_fd(fd);
		keel_domain_put(d);
		return PTR_ERR(file);
	}
	req.domid = d->domid;
	req.pad = 0;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		put_unused_fd(fd);
		fput(file); /* releases: destroys the domain */
		return -EFAULT;
	}
	fd_install(fd, file);
	return fd;
}
