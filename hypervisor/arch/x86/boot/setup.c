/* SPDX-License-Identifier: MIT */
/* The boot CPU's path from the multiboot2 entry to running Dom0. */
#include <keel/acpi.h>
#include <keel/boot_domains.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/dom0.h>
#include <keel/fpu.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/memmap.h>
#include <keel/param.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <keel/traps.h>
#include <keel/vcpu_loop.h>
#include <public/keel.h>

#define MB2_BOOTLOADER_MAGIC 0x36D76289
#define COM1_PORT	     0x3F8
#define COM1_ISA_IRQ	     4

struct boot_info boot_info;

static __noreturn void halt_forever(void)
{
	printk("Keel halted.\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void print_boot_info(const struct boot_info *bi)
{
	printk("command line: %s\n", bi->cmdline);
	printk("boot loader: %s firmware, %u modules\n",
	       bi->efi ? "UEFI" : "BIOS", bi->nr_modules);
	for (unsigned i = 0; i < bi->nr_modules; i++)
		printk("  module %u: %lx-%lx %s\n", i, bi->modules[i].start,
		       bi->modules[i].end, bi->modules[i].cmdline);
	for (unsigned i = 0; i < bi->nr_mmap; i++)
		printk("  firmware e820 %016lx-%016lx type %u\n",
		       bi->mmap[i].addr, bi->mmap[i].addr + bi->mmap[i].len,
		       bi->mmap[i].type);
}

static void acpi_setup(const struct boot_info *bi)
{
	static uint8_t rsdp_copy[36] __aligned(16);

	if (!bi->has_rsdp)
		panic("the boot loader gave no ACPI RSDP: Keel needs ACPI");
	memcpy(rsdp_copy, bi->rsdp, sizeof(rsdp_copy));
	if (acpi_init((uint64_t)rsdp_copy))
		panic("ACPI root tables are invalid");
	if (acpi_parse_madt(&madt_info))
		panic("no valid ACPI MADT: cannot find the interrupt "
		      "controllers");
	printk(
	    "ACPI: %u tables; MADT: %u CPUs, %u IOAPICs, local APIC at %lx\n",
	    acpi_nr_tables(), madt_info.nr_cpus, madt_info.nr_ioapics,
	    madt_info.lapic_pa);
	memmap_add_private(madt_info.lapic_pa, PAGE_SIZE);
}

/* The GSI that ISA IRQ `irq` arrives on, per the MADT overrides. */
static uint32_t isa_gsi(uint8_t irq)
{
	for (uint32_t i = 0; i < madt_info.nr_overrides; i++)
		if (madt_info.overrides[i].bus_irq == irq)
			return madt_info.overrides[i].gsi;
	return irq;
}

/* maxcpus=N (as in Xen) brings up at most N CPUs; all by default. */
static uint64_t opt_maxcpus = MAX_CPUS;
integer_param("maxcpus", opt_maxcpus);

/* Dom0 gets one vCPU per online CPU; dom0_max_vcpus= caps it. */
static uint64_t opt_dom0_max_vcpus = MAX_CPUS;
integer_param("dom0_max_vcpus", opt_dom0_max_vcpus);

/* The scheduler's options, read here so that sched/ only schedules. */
static char opt_sched[16];
string_param("sched", opt_sched);
static uint64_t opt_sched_tslice_ms;
integer_param("sched_tslice_ms", opt_sched_tslice_ms);
static uint64_t opt_sched_ratelimit_us = UINT64_MAX; /* unset */
integer_param("sched_ratelimit_us", opt_sched_ratelimit_us);

static void sched_setup(void)
{
	struct sched_params p = {
	    .policy = opt_sched,
	    .timeslice_ns = opt_sched_tslice_ms * 1000000,
	    .ratelimit_set = opt_sched_ratelimit_us != UINT64_MAX,
	};

	if (p.ratelimit_set)
		p.ratelimit_ns = opt_sched_ratelimit_us * 1000;
	sched_init(&p);
}

void start_keel(uint32_t magic, uint64_t mbi_pa)
{
	struct boot_info *bi = &boot_info;
	struct domain *dom0;

	uart_init(COM1_PORT, 115200);
	printk("Keel hypervisor %u.%u (x86-64)\n", KEEL_VERSION_MAJOR,
	       KEEL_VERSION_MINOR);
	percpu_init(0, 0);
	traps_init();
	traps_load();

	if (magic != MB2_BOOTLOADER_MAGIC) {
		printk("not started by a multiboot2 loader (magic %x)\n",
		       magic);
		halt_forever();
	}
	if (mb2_parse((const void *)mbi_pa, bi)) {
		printk("malformed multiboot2 information at %lx\n", mbi_pa);
		halt_forever();
	}
	print_boot_info(bi);
	param_parse(bi->cmdline);

	cpu_probe();
	cpu_print();
	fpu_init_cpu();
	memmap_init(bi);
	if (hvm_init()) {
		printk("Keel cannot run on this CPU (see above).\n");
		halt_forever();
	}

	acpi_setup(bi);
	/*
	 * Mask the legacy PICs before the LAPIC masks LINT0: an 8259 output
	 * left high behind a masked LINT0 stays latched as a pending
	 * interrupt with no vector (seen under QEMU with the PIT running).
	 */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	lapic_init();
	smp_init_ipis();
	percpu_area[0].apic_id = lapic_id();
	percpu_area[0].online = true;
	nr_cpus_online = 1;
	time_init();
	lapic_timer_calibrate();
	printk("Keel owns the physical LAPIC timer (%s mode, %s) on cpu0\n",
	       lapic_timer_mode(), lapic_x2apic() ? "x2APIC" : "xAPIC");
	ioapic_init();
	smp_boot_aps((unsigned)MAX(1, MIN(opt_maxcpus, (uint64_t)MAX_CPUS)));

	sched_setup();
	dom0 = dom0_build(bi, (unsigned)MAX(1, MIN(opt_dom0_max_vcpus,
						   (uint64_t)nr_cpus_online)));
	gsi_route_to_dom0(dom0, isa_gsi(COM1_ISA_IRQ));
	console_input_init(isa_gsi(COM1_ISA_IRQ));
	dom0->state = DOM_RUNNING;
	/*
	 * Dom0 vCPU n stays on CPU n (Xen's dom0_vcpus_pin): Dom0 drives the
	 * hardware and its vCPUs should not wander.
	 */
	for (unsigned i = 0; i < dom0->nr_vcpus; i++) {
		sched_add_vcpu(dom0->vcpus[i]);
		if (sched->set_affinity(dom0->vcpus[i], 1ULL << i))
			panic("cannot pin d0v%u to cpu%u", i, i);
	}
	trace_boot(dom0);
	boot_domains_create(bi);
	printk("starting Dom0; Ctrl-A three times switches the serial console "
	       "to Keel\n");
	vcpu_loop();
}
