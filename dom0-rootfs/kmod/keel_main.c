// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * keel.ko: Dom0's door to the Keel hypervisor (README: "Toolstack: kl").
 *
 * A thin, typed, validating relay: it finds Keel by its CPUID signature,
 * binds to the KEEL0001 device Keel adds to Dom0's ACPI (whose interrupt
 * is Keel's notification line), registers /dev/keel (root only:
 * CAP_SYS_ADMIN in open and in every ioctl) and turns each ioctl of
 * include/public/keel_ioctl.h into hypercalls of include/public/keel.h. There
 * is no raw hypercall pass-through. Arguments that do not fit in registers go
 * to Keel as the physical address of a kmalloc'd buffer (Dom0 is
 * identity-mapped, so that is also Keel's view of it); Keel checks it is Dom0's
 * RAM.
 *
 * This file: module load, the KEEL0001 device and the global fd (every
 * domain, by domid).
 * keel_domain.c: domains this module creates and their per-domain fd.
 * keel_console.c: a domain's console fd.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "keel_dev.h"

bool keel_use_vmmcall;

/* The largest KEEL_IOCTL_DMESG buffer (keel_ioctl.h). */
#define KEEL_DMESG_MAX (1u << 20)

static int keel_get_version(struct keel_ioctl_version __user *arg)
{
	struct keel_ioctl_version ver = {.module = KEEL_VERSION_CODE};
	long ret = keel_hypercall(KEEL_HC_VERSION, 0, 0, 0);

	if (ret < 0)
		return ret;
	ver.hypervisor = ret;
	return copy_to_user(arg, &ver, sizeof(ver)) ? -EFAULT : 0;
}

static int keel_get_platform_info(struct keel_platform_info __user *arg)
{
	struct keel_platform_info *info;
	long ret;

	/*
	 * A whole zeroed page: physically contiguous, so Keel can take it by
	 * address, and room for the fields a newer Keel appends (it writes
	 * its own size and refuses a smaller buffer). User space gets the
	 * fields this module knows; `size` says which of them Keel filled.
	 */
	info = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	ret = keel_hypercall(KEEL_HC_PLATFORM_INFO, virt_to_phys(info),
			     PAGE_SIZE, 0);
	if (ret == 0 &&
	    (info->size < offsetofend(struct keel_platform_info, version) ||
	     info->size > PAGE_SIZE))
		ret = -EPROTO;
	if (ret == 0) {
		info->sched_name[sizeof(info->sched_name) - 1] = '\0';
		if (copy_to_user(arg, info, sizeof(*info)))
			ret = -EFAULT;
	}
	kfree(info);
	return ret;
}

static long keel_get_domain_info(struct keel_ioctl_domain_info __user *uarg)
{
	struct keel_ioctl_domain_info req;
	struct keel_domain_info *info;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	/* Keel writes into this buffer: heap, not stack (keel.h). */
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	ret = keel_hypercall(KEEL_HC_DOMAIN_INFO, req.first_domid,
			     virt_to_phys(info), sizeof(*info));
	if (ret >= 0) {
		/* Strings reach user space NUL-ended whatever Keel wrote. */
		info->name[sizeof(info->name) - 1] = '\0';
		info->crash_reason[sizeof(info->crash_reason) - 1] = '\0';
		info->domid = ret;
		req.info = *info;
		req.pad = 0;
		ret = copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
	}
	kfree(info);
	return ret;
}

static long keel_domid_call(unsigned long nr, u32 __user *uarg)
{
	u32 domid;

	if (get_user(domid, uarg))
		return -EFAULT;
	/* Keel refuses these for Dom0 too; say so before asking it. */
	if (domid == 0)
		return -EPERM;
	return keel_hypercall(nr, domid, 0, 0);
}

static long keel_destroy(u32 __user *uarg)
{
	struct keel_domain *d;
	u32 domid;
	long ret;

	if (get_user(domid, uarg))
		return -EFAULT;
	if (domid == 0)
		return -EPERM;
	/*
	 * A domain this module built has pinned memory: the teardown path
	 * destroys it and then unpins, whoever asks. Others (boot-time
	 * domains) are Keel's alone.
	 */
	d = keel_domain_lookup(domid);
	if (!d)
		return keel_hypercall(KEEL_HC_DOMAIN_DESTROY, domid, 0, 0);
	ret = keel_domain_teardown(d);
	keel_domain_put(d);
	return ret;
}

static long keel_vcpu_call(unsigned int cmd,
			   struct keel_ioctl_vcpu __user *uarg)
{
	struct keel_ioctl_vcpu req;
	struct keel_vcpu_info *info;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.vcpu >= KEEL_MAX_VCPUS)
		return -EINVAL;
	if (cmd == KEEL_IOCTL_VCPU_PIN) {
		if (!req.cpumask)
			return -EINVAL;
		return keel_hypercall(KEEL_HC_VCPU_AFFINITY, req.domid,
				      req.vcpu, req.cpumask);
	}
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	ret = keel_hypercall5(KEEL_HC_VCPU_INFO, req.domid, req.vcpu,
			      virt_to_phys(info), sizeof(*info), 0);
	if (ret >= 0) {
		req.info = *info;
		ret = copy_to_user(uarg, &req, sizeof(req)) ? -EFAULT : 0;
	}
	kfree(info);
	return ret;
}

static long keel_sched_set(struct keel_ioctl_sched __user *uarg)
{
	struct keel_ioctl_sched req;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	/* keel.h: weight 1-65535, cap in % of one CPU (0: none). */
	if (req.pad || req.weight < 1 || req.weight > 65535 || req.cap > 65535)
		return -EINVAL;
	return keel_hypercall(KEEL_HC_SCHED_SET, req.domid, req.weight,
			      req.cap);
}

static long keel_dmesg(struct keel_ioctl_dmesg __user *uarg)
{
	struct keel_ioctl_dmesg req;
	void *buf;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (!req.size || req.size > KEEL_DMESG_MAX ||
	    (req.flags & ~KEEL_DMESG_CLEAR))
		return -EINVAL;
	/* Physically contiguous for Keel; up to 1 MiB may be refused when
	 * memory is fragmented: the caller retries smaller. */
	buf = kzalloc(req.size, GFP_KERNEL | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	ret = keel_hypercall(KEEL_HC_DMESG, virt_to_phys(buf), req.size,
			     req.flags);
	if (ret > req.size)
		ret = -EPROTO;
	if (ret > 0 && copy_to_user(u64_to_user_ptr(req.buf), buf, ret))
		ret = -EFAULT;
	kfree(buf);
	return ret;
}

static long keel_console_open_domid(u32 __user *uarg)
{
	struct keel_domain *d;
	u32 domid;
	long ret;

	if (get_user(domid, uarg))
		return -EFAULT;
	/* Only domains built through this module have a ring in Dom0;
	 * Keel prints the others' output on its own console. */
	d = keel_domain_lookup(domid);
	if (!d)
		return -ENOENT;
	ret = keel_console_open(d);
	keel_domain_put(d);
	return ret;
}

static int keel_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static int keel_release(struct inode *inode, struct file *file)
{
	keel_trace_release(file);
	return 0;
}

static long keel_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* The fd may have been passed on to a process without the right. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case KEEL_IOCTL_VERSION:
		return keel_get_version(uarg);
	case KEEL_IOCTL_PLATFORM_INFO:
		return keel_get_platform_info(uarg);
	case KEEL_IOCTL_DOMAIN_INFO:
		return keel_get_domain_info(uarg);
	case KEEL_IOCTL_DOMAIN_PAUSE:
		return keel_domid_call(KEEL_HC_DOMAIN_PAUSE, uarg);
	case KEEL_IOCTL_DOMAIN_UNPAUSE:
		return keel_domid_call(KEEL_HC_DOMAIN_UNPAUSE, uarg);
	case KEEL_IOCTL_DOMAIN_DESTROY:
		return keel_destroy(uarg);
	case KEEL_IOCTL_VCPU_PIN:
	case KEEL_IOCTL_VCPU_INFO:
		return keel_vcpu_call(cmd, uarg);
	case KEEL_IOCTL_SCHED_SET:
		return keel_sched_set(uarg);
	case KEEL_IOCTL_DMESG:
		return keel_dmesg(uarg);
	case KEEL_IOCTL_CREATE:
		return keel_domain_create(uarg);
	case KEEL_IOCTL_CONSOLE_OPEN:
		return keel_console_open_domid(uarg);
	case KEEL_IOCTL_TRACE_ENABLE:
		return keel_trace_enable(file, uarg);
	case KEEL_IOCTL_TRACE_DISABLE:
		return keel_trace_disable();
	case KEEL_IOCTL_TRACE_INFO:
		return keel_trace_info(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations keel_fops = {
    .owner = THIS_MODULE,
    .open = keel_open,
    .release = keel_release,
    .unlocked_ioctl = keel_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .mmap = keel_trace_mmap,
    .llseek = noop_llseek,
};

static struct miscdevice keel_dev = {
    .minor = MISC_DYNAMIC_MINOR,
    .name = "keel",
    .fops = &keel_fops,
    .mode = 0600,
};

/*
 * Keel's notification line: "look again". Every waiter of every domain
 * rechecks what it waits for; there are few domains and fewer waiters.
 */
static irqreturn_t keel_notify_irq(int irq, void *dev_id)
{
	keel_domains_wake_all();
	return IRQ_HANDLED;
}

static bool keel_bound;

static int keel_probe(struct platform_device *pdev)
{
	int irq = platform_get_irq(pdev, 0);
	int ret;

	if (irq < 0)
		return irq;
	ret =
	    devm_request_irq(&pdev->dev, irq, keel_notify_irq, 0, "keel", NULL);
	if (ret) {
		dev_err(&pdev->dev,
			"cannot take the notification IRQ %d (%d)\n", irq, ret);
		return ret;
	}
	ret = misc_register(&keel_dev);
	if (ret) {
		dev_err(&pdev->dev, "cannot register /dev/keel (%d)\n", ret);
		return ret;
	}
	keel_bound = true;
	dev_info(&pdev->dev, "notification IRQ %d; /dev/keel ready\n", irq);
	return 0;
}

/* Every domain fd and console fd holds a module reference (fops.owner),
 * so no domain of ours is left when this runs. */
static int keel_remove(struct platform_device *pdev)
{
	misc_deregister(&keel_dev);
	return 0;
}

static const struct acpi_device_id keel_acpi_ids[] = {
    {KEEL_ACPI_HID, 0},
    {},
};
MODULE_DEVICE_TABLE(acpi, keel_acpi_ids);

static struct platform_driver keel_driver = {
    .probe = keel_probe,
    .remove = keel_remove,
    .driver =
	{
	    .name = "keel",
	    .acpi_match_table = keel_acpi_ids,
	},
};

static int __init keel_init(void)
{
	uint32_t base;
	long version;
	int ret;

	/* Checks X86_FEATURE_HYPERVISOR first, then every 0x100 leaves. */
	base = boot_cpu_has(X86_FEATURE_HYPERVISOR)
		   ? hypervisor_cpuid_base(KEEL_CPUID_SIGNATURE, 0)
		   : 0;
	if (!base) {
		pr_err("not running under the Keel hypervisor (no \"%s\" CPUID "
		       "signature); not loading\n",
		       KEEL_CPUID_SIGNATURE);
		return -ENODEV;
	}
	keel_use_vmmcall = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
			   boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	version = keel_hypercall(KEEL_HC_VERSION, 0, 0, 0);
	if (version < 0) {
		pr_err("Keel found at CPUID %#x but its version hypercall "
		       "failed (%ld); not loading\n",
		       base, version);
		return -ENODEV;
	}
	if ((version >> 16) != KEEL_VERSION_MAJOR)
		pr_warn("Keel %ld.%ld, module built for %d.%d: calls may be "
			"refused\n",
			version >> 16, version & 0xFFFF, KEEL_VERSION_MAJOR,
			KEEL_VERSION_MINOR);
	pr_info("Keel %ld.%ld found at CPUID %#x (%s)\n", version >> 16,
		version & 0xFFFF, base,
		keel_use_vmmcall ? "vmmcall" : "vmcall");
	/* Binding probes the device, if ACPI has it, before this returns. */
	ret = platform_driver_register(&keel_driver);
	if (ret)
		return ret;
	if (!keel_bound) {
		pr_err("no usable " KEEL_ACPI_HID " device in ACPI (booted "
		       "with acpi=off?): no /dev/keel; not loading\n");
		platform_driver_unregister(&keel_driver);
		return -ENODEV;
	}
	return 0;
}

static void __exit keel_exit(void)
{
	platform_driver_unregister(&keel_driver);
}

module_init(keel_init);
module_exit(keel_exit);
MODULE_DESCRIPTION("Dom0 interface to the Keel hypervisor (/dev/keel)");
MODULE_LICENSE("Dual MIT/GPL");
