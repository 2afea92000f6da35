/* SPDX-License-Identifier: MIT */
/*
 * Building Dom0 (see the README's "What works today"): identity-mapped
 * RAM, the kernel from the first multiboot2 module started through the
 * Linux 64-bit boot protocol, the initramfs from the second, rebuilt ACPI
 * root tables and an e820 that hides Keel's memory.
 */
#include <keel/acpi.h>
#include <keel/bootinfo.h>
#include <keel/dom0.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/notify.h>
#include <keel/p2m.h>
#include <keel/sched.h>
#include <keel/x86.h>

#define BOOT_AREA	LINUX_BOOT_AREA
#define BOOT_AREA_END	LINUX_BOOT_AREA_END
#define ACPI_AREA_SIZE	KiB(64)
#define MIN_KERNEL_ADDR MiB(16)

struct range {
	uint64_t start, end;
};

static struct range avoid[BOOT_MAX_MODULES + 4];
static unsigned nr_avoid;

static void avoid_range(uint64_t start, uint64_t end)
{
	avoid[nr_avoid++] = (struct range){start, end};
}

static bool is_free(uint64_t start, uint64_t end)
{
	if (!e820_range_is(&dom0_e820, start, end - start, E820_RAM))
		return false;
	for (unsigned i = 0; i < nr_avoid; i++)
		if (start < avoid[i].end && avoid[i].start < end)
			return false;
	return true;
}

/* Lowest aligned free range of `size` at or above `from`, below `below`. */
static uint64_t find_free(uint64_t size, uint64_t align, uint64_t from,
			  uint64_t below)
{
	for (uint32_t i = 0; i < dom0_e820.nr; i++) {
		const struct e820_entry *e = &dom0_e820.map[i];
		uint64_t a;

		if (e->type != E820_RAM)
			continue;
		for (a = ALIGN_UP(MAX(e->addr, from), align);
		     a + size <= MIN(e->addr + e->size, below); a += align)
			if (is_free(a, a + size))
				return a;
	}
	return 0;
}

static void set_ram_ranges(struct domain *d)
{
	/*
	 * The first MiB (BIOS data, EBDA, VGA window, option ROMs) goes to
	 * Dom0 whole, as on bare metal: Linux scans it for firmware tables.
	 */
	if (p2m_map(d, 0, 0, MiB(1), P2M_RWX, false))
		panic("cannot map Dom0's first MiB");
	if (domain_add_extent(d, 0, 0, MiB(1)))
		panic("out of memory for Dom0's RAM list");
	for (uint32_t i = 0; i < dom0_e820.nr; i++) {
		const struct e820_entry *e = &dom0_e820.map[i];
		uint64_t start = ALIGN_UP(e->addr, PAGE_SIZE);
		uint64_t end = ALIGN_DOWN(e->addr + e->size, PAGE_SIZE);
		int rc;

		start = MAX(start, MiB(1));
		if ((e->type != E820_RAM && e->type != E820_ACPI) ||
		    end <= start)
			continue;
		/* Firmware ACPI tables are not Dom0's RAM; only our copy is. */
		if (e->type == E820_ACPI &&
		    !e820_range_is(&host_e820, e->addr, e->size, E820_RAM))
			continue;
		if (domain_add_extent(d, start, start, end - start))
			panic("out of memory for Dom0's RAM list");
		rc = p2m_map(d, start, start, end - start, P2M_RWX, false);
		if (rc)
			panic("cannot map Dom0 RAM %lx-%lx (%d)", start, end,
			      rc);
	}
}

struct domain *dom0_build(const struct boot_info *bi, unsigned nr_vcpus)
{
	const struct boot_module *kmod = &bi->modules[0];
	const struct boot_module *imod =
	    bi->nr_modules > 1 ? &bi->modules[1] : NULL;
	uint64_t acpi_gpa = 0, load, rsdp = 0, initrd = 0, initrd_size = 0;
	struct acpi_notify_line line;
	struct bzimage_info bz;
	struct linux_boot lb;
	struct domain *d;
	int rc;

	if (!bi->nr_modules)
		panic("no Dom0 kernel: add 'module2 /boot/vmlinuz ...' after "
		      "'multiboot2 keel.elf' in the GRUB entry");
	rc = bzimage_parse(phys_to_virt(kmod->start), kmod->end - kmod->start,
			   &bz);
	if (rc)
		panic("Dom0 kernel module is not a 64-bit bzImage (%d)", rc);

	for (unsigned i = 0; i < bi->nr_modules; i++)
		avoid_range(bi->modules[i].start,
			    ALIGN_UP(bi->modules[i].end, PAGE_SIZE));
	/*
	 * Not the multiboot2 information: boot_info holds copies of all of
	 * it, and Dom0 owns the first MiB anyway. GRUB on UEFI may put it
	 * inside the boot area.
	 */
	if (!is_free(BOOT_AREA, BOOT_AREA_END))
		panic("Dom0 boot area %llx-%llx is not free RAM", BOOT_AREA,
		      BOOT_AREA_END);
	avoid_range(BOOT_AREA, BOOT_AREA_END);

	/* Our ACPI tables: the top of Dom0's RAM below 4 GiB. */
	for (uint32_t i = 0; i < dom0_e820.nr; i++) {
		const struct e820_entry *e = &dom0_e820.map[i];
		uint64_t end =
		    ALIGN_DOWN(MIN(e->addr + e->size, GiB(4)), PAGE_SIZE);

		if (e->type == E820_RAM && end > e->addr + ACPI_AREA_SIZE &&
		    is_free(end - ACPI_AREA_SIZE, end))
			acpi_gpa = end - ACPI_AREA_SIZE;
	}
	if (!acpi_gpa)
		panic("no room for Dom0's ACPI tables");
	e820_set_type(&dom0_e820, acpi_gpa, ACPI_AREA_SIZE, E820_ACPI);

	d = domain_create(DOM0_ID, "Domain-0", true, nr_vcpus);
	if (!d)
		panic("cannot create Dom0");
	set_ram_ranges(d);

	/* The kernel: at pref_address if it must, else anywhere aligned. */
	if (bz.relocatable)
		load = find_free(bz.init_size, bz.alignment,
				 MAX(bz.pref_address, MIN_KERNEL_ADDR), GiB(4));
	else
		load = is_free(bz.pref_address, bz.pref_address + bz.init_size)
			   ? bz.pref_address
			   : 0;
	if (!load)
		panic("no room for the Dom0 kernel (%u MiB from %lx)",
		      bz.init_size >> 20, bz.pref_address);
	memmove(phys_to_virt(load), bz.payload, bz.payload_size);
	avoid_range(load, load + bz.init_size);

	if (imod) {
		initrd_size = imod->end - imod->start;
		initrd = imod->start;
		if (!e820_range_is(&dom0_e820, initrd, initrd_size, E820_RAM) ||
		    initrd + initrd_size > (uint64_t)bz.initrd_addr_max + 1) {
			uint64_t to = find_free(
			    ALIGN_UP(initrd_size, PAGE_SIZE), PAGE_SIZE, MiB(1),
			    (uint64_t)bz.initrd_addr_max + 1);

			if (!to)
				panic("no room for the Dom0 initramfs");
			memmove(phys_to_virt(to), phys_to_virt(initrd),
				initrd_size);
			initrd = to;
		}
	}

	rc = dom0_notify_init(d, &line);
	if (rc)
		panic("cannot set up Dom0's notification line (%d)", rc);
	rc = acpi_build_dom0(phys_to_virt(acpi_gpa), ACPI_AREA_SIZE, acpi_gpa,
			     nr_vcpus, &line, &rsdp);
	if (rc < 0)
		printk("d0: no ACPI tables for Dom0 (%d): booting without\n",
		       rc);

	lb = (struct linux_boot){
	    .image = phys_to_virt(kmod->start),
	    .bz = &bz,
	    .kernel_gpa = load,
	    .initrd_gpa = initrd,
	    .initrd_size = initrd_size,
	    .cmdline = kmod->cmdline,
	    .e820 = &dom0_e820,
	    .rsdp_gpa = rc >= 0 ? rsdp : 0,
	};
	if (linux_boot_setup(d, &lb))
		panic("cannot write Dom0's boot data");

	printk("d0: kernel %lx (%lu KiB, boot protocol %u.%02u) loaded at %lx, "
	       "initramfs %lx (%lu KiB), %lu MiB RAM, %u vCPU%s\n",
	       kmod->start, bz.payload_size >> 10, bz.version >> 8,
	       bz.version & 0xFF, load, initrd, initrd_size >> 10,
	       d->ram_bytes >> 20, nr_vcpus, nr_vcpus > 1 ? "s" : "");
	printk("d0: notification line: GSI %u on vIOAPIC %u at %lx\n", line.gsi,
	       line.ioapic_id, line.ioapic_pa);
	printk("d0: command line: %s\n", kmod->cmdline);
	for (uint32_t i = 0; i < dom0_e820.nr; i++)
		printk("d0: e820 %016lx-%016lx type %u\n",
		       dom0_e820.map[i].addr,
		       dom0_e820.map[i].addr + dom0_e820.map[i].size,
		       dom0_e820.map[i].type);
	return d;
}
