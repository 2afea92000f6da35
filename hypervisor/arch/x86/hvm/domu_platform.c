/* SPDX-License-Identifier: MIT */
/*
 * Power-management registers and unclaimed I/O of toolstack-built DomUs
 * (public/keel.h, KEEL_DOMU_*). The ports are those of a hardware-reduced
 * ACPI platform (ACPI 6.4 §4.8.3.7 sleep control and status, §4.8.3.6
 * reset register), which `kl` names in the DomU's FADT.
 */
#include <keel/domu_platform.h>
#include <keel/errno.h>
#include <keel/ioreq.h>
#include <keel/irq.h>

#define PM_PORTS	    4 /* sleep control and status, reset, boot timer */
#define SLP_EN		    (1u << 5)
#define SLP_TYP_SHIFT	    2
#define SLP_TYP_MASK	    7u
#define MAX_LOGGED_REFUSALS 16
#define NR_PORTS	    0x10000

static int pm_read(const struct hvm_io_handler *h, struct vcpu *v,
		   uint64_t port, unsigned size, uint64_t *val)
{
	(void)h, (void)v, (void)port, (void)size;
	*val = 0; /* no wake status, no pending reset */
	return 0;
}

/* A guest may write the port in a loop: it logs a few lines only. */
static void boot_timer(struct domain *d, uint8_t val)
{
	uint64_t now = now_ns();

	if (d->boot_timer_writes >= KEEL_DOMU_BOOT_TIMER_MAX)
		return;
	d->boot_timer_writes++;
	printk("d%u '%s': boot timer %u: %lu us after start (first "
	       "instruction at %lu us)\n",
	       d->id, d->name, val, (now - d->start_ns) / 1000,
	       (d->first_entry_ns - d->start_ns) / 1000);
}

static int pm_write(const struct hvm_io_handler *h, struct vcpu *v,
		    uint64_t port, unsigned size, uint64_t val)
{
	(void)h, (void)size;
	if (port == KEEL_DOMU_SLEEP_CONTROL_PORT && (val & SLP_EN) &&
	    ((val >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == KEEL_DOMU_S5_SLP_TYP)
		domain_shutdown(v->dom, KEEL_SHUTDOWN_POWEROFF);
	else if (port == KEEL_DOMU_RESET_PORT &&
		 (uint8_t)val == KEEL_DOMU_RESET_VALUE)
		domain_shutdown(v->dom, KEEL_SHUTDOWN_REBOOT);
	else if (port == KEEL_DOMU_BOOT_TIMER_PORT)
		boot_timer(v->dom, (uint8_t)val);
	/* Other sleep states are not offered (no _S3_/_S4_): ignored. */
	return 0;
}

static const struct hvm_io_ops pm_io = {
    .read = pm_read,
    .write = pm_write,
};

/* A guest probing absent hardware can do so often: the first few only. */
static void log_unclaimed(struct vcpu *v, const char *space, uint64_t addr,
			  bool write)
{
	struct domain *d = v->dom;

	if (d->io_refusals > MAX_LOGGED_REFUSALS)
		return;
	if (d->io_refusals++ == MAX_LOGGED_REFUSALS)
		printk("d%u: further unclaimed I/O not logged\n", d->id);
	else
		printk("d%u v%u: %s of unclaimed %s %lx: %s\n", d->id, v->id,
		       write ? "write" : "read", space, addr,
		       write ? "ignored" : "all-ones");
}

static int unclaimed_read(const struct hvm_io_handler *h, struct vcpu *v,
			  uint64_t addr, unsigned size, uint64_t *val)
{
	(void)size;
	log_unclaimed(v, h->space == HVM_IO_PORT ? "port" : "MMIO", addr,
		      false);
	*val = ~0ULL;
	return 0;
}

static int unclaimed_write(const struct hvm_io_handler *h, struct vcpu *v,
			   uint64_t addr, unsigned size, uint64_t val)
{
	(void)size, (void)val;
	log_unclaimed(v, h->space == HVM_IO_PORT ? "port" : "MMIO", addr, true);
	return 0;
}

static const struct hvm_io_ops unclaimed_io = {
    .read = unclaimed_read,
    .write = unclaimed_write,
};

int domu_platform_init(struct domain *d)
{
	/* Dom0's ranges before the catch-alls: a registered access is a
	 * request, any other one in the holes reads all-ones. */
	if (ioreq_register_handlers(d) ||
	    hvm_io_register(d, HVM_IO_PORT, KEEL_DOMU_SLEEP_CONTROL_PORT,
			    PM_PORTS, &pm_io, NULL) ||
	    hvm_io_register(d, HVM_IO_PORT, 0, NR_PORTS, &unclaimed_io, NULL) ||
	    hvm_io_register(d, HVM_IO_MMIO, KEEL_DOMU_LEGACY_HOLE_START,
			    KEEL_DOMU_LEGACY_HOLE_END -
				KEEL_DOMU_LEGACY_HOLE_START,
			    &unclaimed_io, NULL) ||
	    hvm_io_register(d, HVM_IO_MMIO, KEEL_DOMU_MMIO_HOLE_START,
			    KEEL_DOMU_MMIO_HOLE_END - KEEL_DOMU_MMIO_HOLE_START,
			    &unclaimed_io, NULL))
		return -ENOSPC;
	return 0;
}
