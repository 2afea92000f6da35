/* SPDX-License-Identifier: MIT */
/*
 * Starting a Linux-boot-protocol kernel (Documentation/arch/x86/boot.rst,
 * "64-bit boot protocol") in any domain: the zero page, the command line,
 * a GDT with __BOOT_CS/__BOOT_DS and identity page tables for the first
 * 4 GiB go into a scratch area of guest memory; the boot vCPU starts in
 * long mode at the kernel's 64-bit entry with RSI = the zero page.
 * Everything is written through the domain's p2m, so the same code serves
 * the identity-mapped Dom0 and DomUs.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>
#include <keel/x86.h>

#define BOOT_PARAMS  (LINUX_BOOT_AREA + 0x0000)
#define BOOT_CMDLINE (LINUX_BOOT_AREA + 0x1000)
#define BOOT_GDT     (LINUX_BOOT_AREA + 0x2000)
#define BOOT_PML4    (LINUX_BOOT_AREA + 0x3000)
#define BOOT_PDPT    (LINUX_BOOT_AREA + 0x4000)
#define BOOT_PD	     (LINUX_BOOT_AREA + 0x5000) /* four pages */
#define BOOT_CS	     0x10
#define BOOT_DS	     0x18

static int write_paging(struct domain *d)
{
	static uint64_t page[512]; /* boot CPU only, see linux_boot_setup() */
	int rc = 0;

	memset(page, 0, sizeof(page));
	page[0] = BOOT_PDPT | PTE_P | PTE_W;
	rc |= guest_phys_write(d, BOOT_PML4, page, sizeof(page));
	memset(page, 0, sizeof(page));
	for (unsigned i = 0; i < 4; i++)
		page[i] = (BOOT_PD + i * PAGE_SIZE) | PTE_P | PTE_W;
	rc |= guest_phys_write(d, BOOT_PDPT, page, sizeof(page));
	for (unsigned t = 0; t < 4; t++) {
		for (unsigned i = 0; i < 512; i++)
			page[i] = ((uint64_t)(t * 512 + i) << 21) | PTE_P |
				  PTE_W | PTE_PS;
		rc |= guest_phys_write(d, BOOT_PD + t * PAGE_SIZE, page,
				       sizeof(page));
	}
	memset(page, 0, sizeof(page));
	page[BOOT_CS / 8] = 0x00af9b000000ffffULL;
	page[BOOT_DS / 8] = 0x00cf93000000ffffULL;
	rc |= guest_phys_write(d, BOOT_GDT, page, sizeof(page));
	return rc ? -EFAULT : 0;
}

static void set_boot_vcpu(struct vcpu *v, uint64_t entry)
{
	struct guest_state s;
	struct segment code = {BOOT_CS, 0xA9B, 0xFFFFFFFF, 0};
	struct segment data = {BOOT_DS, 0xC93, 0xFFFFFFFF, 0};

	hvm->get_state(v, &s);
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	s.cr3 = BOOT_PML4;
	s.cr4 = X86_CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	s.rflags = 2;
	s.rip = entry;
	s.cs = code;
	s.ds = s.es = s.ss = s.fs = s.gs = data;
	s.tr = (struct segment){0, 0x8B, 0x67, 0};
	s.ldtr = (struct segment){0, 0x82, 0, 0};
	s.gdtr_base = BOOT_GDT;
	s.gdtr_limit = 4 * 8 - 1;
	s.idtr_base = 0;
	s.idtr_limit = 0;
	s.cpl = 0;
	hvm->set_state(v, &s);
	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RSI] = BOOT_PARAMS;
}

static void put32(uint8_t *bp, unsigned off, uint32_t v)
{
	memcpy(bp + off, &v, 4);
}

static void put64(uint8_t *bp, unsigned off, uint64_t v)
{
	memcpy(bp + off, &v, 8);
}

/* Boot CPU only (Dom0 and boot-time domains): the buffers are static to
 * keep 8 KiB off the stack. */
int linux_boot_setup(struct domain *d, const struct linux_boot *lb)
{
	static uint8_t bp[BP_SIZE];
	static char cmdline[4096];
	unsigned n = MIN(lb->e820->nr, 128u);

	bzimage_setup_boot_params(lb->image, bp);
	bp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	/* 64-bit: a cmdline_size of 0xFFFFFFFF must not wrap to 0. */
	snprintf(cmdline,
		 MIN((uint64_t)lb->bz->cmdline_max + 1, sizeof(cmdline)), "%s",
		 lb->cmdline);
	put32(bp, BP_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE);
	put32(bp, BP_RAMDISK_IMAGE, (uint32_t)lb->initrd_gpa);
	put32(bp, BP_RAMDISK_SIZE, (uint32_t)lb->initrd_size);
	put32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(lb->initrd_gpa >> 32));
	put32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(lb->initrd_size >> 32));
	put64(bp, BP_ACPI_RSDP_ADDR, lb->rsdp_gpa);
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, lb->e820->map,
	       n * sizeof(struct e820_entry));

	if (guest_phys_write(d, BOOT_PARAMS, bp, sizeof(bp)) ||
	    guest_phys_write(d, BOOT_CMDLINE, cmdline, strlen(cmdline) + 1) ||
	    write_paging(d))
		return -EFAULT;
	set_boot_vcpu(d->vcpus[0], lb->kernel_gpa + ENTRY_64_OFFSET);
	return 0;
}
