// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * A domain's console fd (KEEL_IOCTL_CONSOLE_OPEN): read() drains the
 * ring's `out` (the domain's COM1 output), write() fills `in` and kicks
 * Keel, poll() says which of the two would not block.
 *
 * Waiters ask Keel to notify them (the ring's `notify` bits) before they
 * look at the ring and sleep; Keel's notification interrupt wakes them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "keel_dev.h"
#include "keel_ring.h"

static struct keel_console_ring *keel_ring(struct keel_domain *d)
{
	return smp_load_acquire(&d->ring);
}

static char *keel_ring_out(struct keel_console_ring *r)
{
	return (char *)r + KEEL_CONSOLE_OUT_OFFSET;
}

static bool keel_console_readable(struct keel_domain *d)
{
	struct keel_console_ring *r = keel_ring(d);

	return smp_load_acquire(&r->out_prod) != READ_ONCE(d->out_cons);
}

static bool keel_console_writable(struct keel_domain *d)
{
	struct keel_console_ring *r = keel_ring(d);

	return keel_ring_space(READ_ONCE(r->in_prod),
			       smp_load_acquire(&r->in_cons),
			       KEEL_CONSOLE_IN_SIZE) != 0;
}

/*
 * Asks Keel for a notification when out_prod (KEEL_CONSOLE_NOTIFY_OUT) or
 * in_cons (KEEL_CONSOLE_NOTIFY_IN) next moves. The caller then looks at
 * the ring: Keel moves the index before it looks at the bits.
 */
static void keel_console_arm(struct keel_domain *d, u32 bits)
{
	struct keel_console_ring *r = keel_ring(d);
	u32 old = READ_ONCE(r->notify);

	while ((old & bits) != bits) {
		u32 seen = cmpxchg(&r->notify, old, old | bits);

		if (seen == old)
			break;
		old = seen;
	}
	smp_mb(); /* the bits before the look at the indices */
}

void keel_console_init(struct keel_domain *d)
{
	mutex_init(&d->console_lock);
	init_waitqueue_head(&d->wq);
}

/*
 * Copies up to count bytes of output to buf; returns how many. Bytes the
 * domain overwrote before (or while) they were copied are skipped.
 */
static size_t keel_console_take(struct keel_domain *d, char *buf, size_t count)
{
	struct keel_console_ring *r = keel_ring(d);
	const char *out = keel_ring_out(r);
	const u32 size = KEEL_CONSOLE_OUT_BYTES;
	struct keel_ring_span s;
	u32 len, first, skip;

	s = keel_ring_readable(smp_load_acquire(&r->out_prod), d->out_cons,
			       size);
	len = min_t(size_t, s.len, count);
	first = keel_ring_contig(s.start, len, size);
	memcpy(buf, out + (s.start & (size - 1)), first);
	memcpy(buf + first, out, len - first);
	/* Order the copy before the second look at out_prod. */
	smp_rmb();
	skip =
	    keel_ring_overwritten(READ_ONCE(r->out_prod), s.start, len, size);
	if (skip)
		memmove(buf, buf + skip, len - skip);
	d->out_cons = s.start + len;
	/* Informational for Keel: it never waits for the reader. */
	smp_store_release(&r->out_cons, d->out_cons);
	return len - skip;
}

static ssize_t keel_console_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct keel_domain *d = file->private_data;
	size_t n;
	char *buf;
	int ret;

	if (!count)
		return 0;
	count = min_t(size_t, count, KEEL_CONSOLE_OUT_BYTES);
	buf = kmalloc(count, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		mutex_lock(&d->console_lock);
		n = keel_console_take(d, buf, count);
		mutex_unlock(&d->console_lock);
		if (n) {
			ret = copy_to_user(ubuf, buf, n) ? -EFAULT : n;
			break;
		}
		/* Destroyed and drained: end of file. */
		ret = 0;
		if (READ_ONCE(d->dead))
			break;
		ret = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			break;
		keel_console_arm(d, KEEL_CONSOLE_NOTIFY_OUT);
		ret = wait_event_interruptible(
		    d->wq, keel_console_readable(d) || READ_ONCE(d->dead));
		if (ret)
			break;
	}
	kfree(buf);
	return ret;
}

static ssize_t keel_console_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct keel_domain *d = file->private_data;
	struct keel_console_ring *r = keel_ring(d);
	char buf[64];
	ssize_t done = 0;
	int ret = 0;

	while (done < count) {
		u32 prod, len, first;
		int64_t space;

		if (READ_ONCE(d->dead)) {
			ret = -EIO;
			break;
		}
		mutex_lock(&d->console_lock);
		prod = r->in_prod;
		space = keel_ring_space(prod, smp_load_acquire(&r->in_cons),
					KEEL_CONSOLE_IN_SIZE);
		len = min_t(size_t, min_t(size_t, count - done, sizeof(buf)),
			    space > 0 ? space : 0);
		if (space < 0) {
			ret = -EIO; /* indices Keel could not have written */
		} else if (len && copy_from_user(buf, ubuf + done, len)) {
			ret = -EFAULT;
		} else if (len) {
			first =
			    keel_ring_contig(prod, len, KEEL_CONSOLE_IN_SIZE);
			memcpy(r->in + (prod & (KEEL_CONSOLE_IN_SIZE - 1)), buf,
			       first);
			memcpy(r->in, buf + first, len - first);
			smp_store_release(&r->in_prod, prod + len);
			done += len;
		}
		mutex_unlock(&d->console_lock);
		if (ret)
			break;
		if (len) {
			keel_hypercall(KEEL_HC_CONSOLE_KICK, d->domid, 0, 0);
			continue;
		}
		/* The ring is full: Keel feeds COM1 as the guest reads. */
		if (done || (file->f_flags & O_NONBLOCK)) {
			ret = done ? 0 : -EAGAIN;
			break;
		}
		keel_console_arm(d, KEEL_CONSOLE_NOTIFY_IN);
		ret = wait_event_interruptible(
		    d->wq, keel_console_writable(d) || READ_ONCE(d->dead));
		if (ret)
			break;
	}
	return done ? done : ret;
}

static __poll_t keel_console_poll(struct file *file, poll_table *wait)
{
	struct keel_domain *d = file->private_data;
	__poll_t mask = 0;

	keel_console_arm(d, KEEL_CONSOLE_NOTIFY_OUT | KEEL_CONSOLE_NOTIFY_IN);
	poll_wait(file, &d->wq, wait);
	if (keel_console_readable(d))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(d->dead))
		mask |= EPOLLIN | EPOLLHUP; /* read() gives EOF */
	else if (keel_console_writable(d))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int keel_console_release(struct inode *inode, struct file *file)
{
	struct keel_domain *d = file->private_data;

	atomic_set(&d->console_open, 0);
	keel_domain_put(d);
	return 0;
}

static const struct file_operations keel_console_fops = {
    .owner = THIS_MODULE,
    .read = keel_console_read,
    .write = keel_console_write,
    .poll = keel_console_poll,
    .release = keel_console_release,
    .llseek = noop_llseek,
};

long keel_console_open(struct keel_domain *d)
{
	int fd;

	/* Keel has the ring only once the domain started. */
	if (!keel_ring(d))
		return -EAGAIN;
	if (READ_ONCE(d->dead))
		return -ESRCH;
	if (atomic_cmpxchg(&d->console_open, 0, 1))
		return -EBUSY;
	keel_domain_get(d);
	fd = anon_inode_getfd("[keel-console]", &keel_console_fops, d,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		atomic_set(&d->console_open, 0);
		keel_domain_put(d);
	}
	return fd;
}
