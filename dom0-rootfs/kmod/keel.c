// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * keel.ko: Dom0's door to the Keel hypervisor (README: "Toolstack: kl").
 *
 * A thin, typed, validating relay: it finds Keel by its CPUID signature,
 * registers /dev/keel (root only: CAP_SYS_ADMIN in open and in every
 * ioctl) and turns each ioctl of include/public/keel_ioctl.h into one
 * hypercall of include/public/keel.h. There is no raw hypercall
 * pass-through. Arguments that do not fit in registers go to Keel as the
 * physical address of a kmalloc'd buffer (Dom0 is identity-mapped, so
 * that is also Keel's view of it); Keel checks it is Dom0's RAM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include <public/keel_ioctl.h>

/* Set once at load: VMMCALL on AMD and Hygon (SVM), VMCALL on Intel. */
static bool use_vmmcall;

static long keel_hypercall2(unsigned long nr, unsigned long a1,
			    unsigned long a2)
{
	long ret;

	if (use_vmmcall)
		asm volatile("vmmcall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a1), "S"(a2)
			     : "memory");
	else
		asm volatile("vmcall"
			     : "=a"(ret)
			     : "a"(nr), "D"(a1), "S"(a2)
			     : "memory");
	return ret;
}

static int keel_get_version(struct keel_ioctl_version __user *arg)
{
	struct keel_ioctl_version ver = {.module = KEEL_VERSION_CODE};
	long ret = keel_hypercall2(KEEL_HC_VERSION, 0, 0);

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
	ret = keel_hypercall2(KEEL_HC_PLATFORM_INFO, virt_to_phys(info),
			      PAGE_SIZE);
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

static int keel_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
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
	default:
		return -ENOTTY;
	}
}

static const struct file_operations keel_fops = {
    .owner = THIS_MODULE,
    .open = keel_open,
    .unlocked_ioctl = keel_ioctl,
    .compat_ioctl = compat_ptr_ioctl,
    .llseek = noop_llseek,
};

static struct miscdevice keel_dev = {
    .minor = MISC_DYNAMIC_MINOR,
    .name = "keel",
    .fops = &keel_fops,
    .mode = 0600,
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
	use_vmmcall = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		      boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	version = keel_hypercall2(KEEL_HC_VERSION, 0, 0);
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
	ret = misc_register(&keel_dev);
	if (ret) {
		pr_err("cannot register /dev/keel (%d)\n", ret);
		return ret;
	}
	pr_info("Keel %ld.%ld found at CPUID %#x (%s); /dev/keel ready\n",
		version >> 16, version & 0xFFFF, base,
		use_vmmcall ? "vmmcall" : "vmcall");
	return 0;
}

static void __exit keel_exit(void)
{
	misc_deregister(&keel_dev);
}

module_init(keel_init);
module_exit(keel_exit);
MODULE_DESCRIPTION("Dom0 interface to the Keel hypervisor (/dev/keel)");
MODULE_LICENSE("Dual MIT/GPL");
