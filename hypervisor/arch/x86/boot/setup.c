/* SPDX-License-Identifier: MIT */
/* The boot CPU's path from the multiboot2 entry to running Dom0. */
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/cpu.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/percpu.h>
#include <keel/traps.h>

#define MB2_BOOTLOADER_MAGIC 0x36D76289
#define KEEL_VERSION "0.1"

struct boot_info boot_info;

static void halt_forever(void)
{
	printk("Keel halted.\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

void start_keel(uint32_t magic, uint64_t mbi_pa)
{
	struct boot_info *bi = &boot_info;

	uart_init(0x3F8, 115200);
	printk("Keel hypervisor %s (x86-64)\n", KEEL_VERSION);
	percpu_init(0, 0);
	traps_init();
	traps_load();

	if (magic != MB2_BOOTLOADER_MAGIC) {
		printk("not started by a multiboot2 loader (magic %x)\n", magic);
		halt_forever();
	}
	if (mb2_parse((const void *)mbi_pa, bi)) {
		printk("malformed multiboot2 information at %lx\n", mbi_pa);
		halt_forever();
	}
	printk("command line: %s\n", bi->cmdline);
	printk("boot loader: %s, %u modules\n", bi->efi ? "UEFI" : "BIOS",
	       bi->nr_modules);
	for (unsigned i = 0; i < bi->nr_modules; i++)
		printk("  module %u: %lx-%lx %s\n", i, bi->modules[i].start,
		       bi->modules[i].end, bi->modules[i].cmdline);
	for (unsigned i = 0; i < bi->nr_mmap; i++)
		printk("  mem %016lx-%016lx type %u\n", bi->mmap[i].addr,
		       bi->mmap[i].addr + bi->mmap[i].len, bi->mmap[i].type);

	cpu_probe();
	cpu_print();
	if (hvm_init()) {
		printk("Keel cannot run on this CPU (see above).\n");
		halt_forever();
	}
	halt_forever();
}
