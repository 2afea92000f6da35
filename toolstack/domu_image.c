/* SPDX-License-Identifier: MIT */
/* A DomU's memory image (kl/domu_image.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kl/acpi_domu.h>
#include <kl/domu_image.h>

/* keel/linux_loader.h's boot area: zero page and command line come first
 * (kl/domu_boot.h), then these. */
#define BOOT_GDT  (LINUX_BOOT_AREA + 0x2000)
#define BOOT_PML4 (LINUX_BOOT_AREA + 0x3000)
#define BOOT_PDPT (LINUX_BOOT_AREA + 0x4000)
#define BOOT_PD	  (LINUX_BOOT_AREA + 0x5000) /* four: the first 4 GiB */
#define PAGE	  0x1000ULL

/* Intel SDM vol. 3A 4.5: page-table entry bits. */
#define PTE_P  (1ULL << 0)
#define PTE_W  (1ULL << 1)
#define PTE_PS (1ULL << 7)
/* Control register and EFER bits (SDM vol. 3A 2.5, AMD APM vol. 2 3.1.7). */
#define CR0_PE	 (1ULL << 0)
#define CR0_ET	 (1ULL << 4)
#define CR0_NE	 (1ULL << 5)
#define CR0_PG	 (1ULL << 31)
#define CR4_PAE	 (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
/* Flat 64-bit code and 32/64-bit data descriptors (SDM vol. 3A 3.4.5). */
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA   0x00cf93000000ffffULL

/* The platform Keel emulates for a DomU (keel.h's KEEL_DOMU_* ports). */
#define DOMU_IOAPIC_PINS 24

char *kl_domu_cmdline(const char *configured)
{
	static const char extra[] = "reboot=acpi";
	size_t len = strlen(configured);
	char *out;

	/* A word starting "reboot=" is the user's choice: leave it. */
	for (const char *p = configured; (p = strstr(p, "reboot=")); p++)
		if (p == configured || p[-1] == ' ')
			return strdup(configured);
	out = malloc(len + sizeof(extra) + 1);
	if (!out)
		return NULL;
	memcpy(out, configured, len);
	if (len && configured[len - 1] != ' ')
		out[len++] = ' ';
	memcpy(out + len, extra, sizeof(extra));
	return out;
}

uint64_t kl_domu_low_bytes(uint64_t ram_bytes)
{
	return ram_bytes < KL_DOMU_MMIO_HOLE_START ? ram_bytes
						   : KL_DOMU_MMIO_HOLE_START;
}

static void acpi_params(const struct kl_domu_image_in *in,
			struct kl_acpi_domu *p)
{
	memset(p, 0, sizeof(*p));
	p->nr_vcpus = in->nr_vcpus;
	p->max_vcpus = in->nr_vcpus;
	p->ioapic_id = 0;
	p->ioapic_addr = KL_ACPI_IOAPIC_ADDR;
	p->ioapic_gsi_base = 0;
	p->ioapic_pins = DOMU_IOAPIC_PINS;
	p->reset_port = KEEL_DOMU_RESET_PORT;
	p->reset_value = KEEL_DOMU_RESET_VALUE;
	p->sleep_control_port = KEEL_DOMU_SLEEP_CONTROL_PORT;
	p->sleep_status_port = KEEL_DOMU_SLEEP_STATUS_PORT;
	p->com1 = true;
	p->power_button = true;
	p->power_button_gsi = KL_DOMU_POWER_BUTTON_GSI;
}

/* Plans kernel and initramfs with the ACPI window's final e820. */
static int plan(const struct kl_domu_image_in *in, uint64_t acpi_size,
		uint64_t rsdp_gpa, struct e820_map *map,
		struct kl_domu_boot_plan *out)
{
	struct kl_domu_boot_in bin;
	int rc;

	if (!in->nr_vcpus || in->nr_vcpus > KEEL_MAX_VCPUS ||
	    (in->initrd_len && !in->initrd))
		return -EINVAL;
	rc = kl_domu_e820(map, in->ram_bytes, KL_DOMU_ACPI_GPA, acpi_size);
	if (rc)
		return rc;
	bin.kernel = in->kernel;
	bin.kernel_len = in->kernel_len;
	bin.initrd_len = in->initrd_len;
	bin.cmdline = in->cmdline;
	bin.e820 = map;
	bin.rsdp_gpa = rsdp_gpa;
	rc = kl_domu_boot_plan(&bin, out);
	if (rc)
		return rc;
	/* The boot protocol's identity map covers the first 4 GiB; the
	 * planner keeps everything below the MMIO hole. */
	if (out->kernel_gpa + out->bz.init_size >
		kl_domu_low_bytes(in->ram_bytes) ||
	    out->initrd_gpa + in->initrd_len > kl_domu_low_bytes(in->ram_bytes))
		return -ENOSPC;
	return 0;
}

int kl_domu_image_check(const struct kl_domu_image_in *in)
{
	static struct kl_domu_boot_plan p; /* 4 KiB zero page: off the stack */
	struct e820_map map;

	if (in->ram_bytes < KL_DOMU_HIGH_RAM_START + PAGE)
		return -EINVAL;
	return plan(in, KL_DOMU_ACPI_SIZE, KL_DOMU_ACPI_GPA, &map, &p);
}

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static void write_paging(uint8_t *ram)
{
	put64(ram, BOOT_PML4, BOOT_PDPT | PTE_P | PTE_W);
	for (unsigned i = 0; i < 4; i++)
		put64(ram, BOOT_PDPT + i * 8,
		      (BOOT_PD + i * PAGE) | PTE_P | PTE_W);
	for (unsigned i = 0; i < 4 * 512; i++)
		put64(ram, BOOT_PD + i * 8,
		      ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS);
	put64(ram, BOOT_GDT + KL_DOMU_BOOT_CS, GDT_CODE64);
	put64(ram, BOOT_GDT + KL_DOMU_BOOT_DS, GDT_DATA);
}

int kl_domu_image_build(const struct kl_domu_image_in *in, uint8_t *ram,
			struct kl_domu_image *out)
{
	struct kl_acpi_layout layout;
	struct kl_acpi_domu params;
	struct e820_map map;
	uint64_t acpi_size;
	int rc;

	memset(out, 0, sizeof(*out));
	if (in->ram_bytes < KL_DOMU_HIGH_RAM_START + PAGE)
		return -EINVAL;
	/* The tables first: the e820 needs their size, the zero page the
	 * RSDP's address. */
	acpi_params(in, &params);
	rc = kl_acpi_domu_build(&params, ram + KL_DOMU_ACPI_GPA,
				KL_DOMU_ACPI_SIZE, KL_DOMU_ACPI_GPA, &layout);
	if (rc)
		return rc;
	acpi_size = (layout.size + PAGE - 1) & ~(PAGE - 1);
	rc = plan(in, acpi_size, layout.rsdp_gpa, &map, &out->plan);
	if (rc)
		return rc;
	out->acpi_gpa = KL_DOMU_ACPI_GPA;
	out->acpi_size = acpi_size;
	out->rsdp_gpa = layout.rsdp_gpa;

	memcpy(ram + out->plan.kernel_gpa, out->plan.bz.payload,
	       out->plan.bz.payload_size);
	if (in->initrd_len)
		memcpy(ram + out->plan.initrd_gpa, in->initrd, in->initrd_len);
	memcpy(ram + out->plan.cmdline_gpa, in->cmdline,
	       strlen(in->cmdline) + 1);
	memcpy(ram + out->plan.boot_params_gpa, out->plan.boot_params,
	       sizeof(out->plan.boot_params));
	write_paging(ram);

	/* boot.rst "64-bit boot protocol": paging on with an identity map,
	 * __BOOT_CS/__BOOT_DS flat, interrupts off, RSI the zero page. */
	out->boot.mode = KEEL_VCPU_BOOT_LONG64;
	out->boot.cs = KL_DOMU_BOOT_CS;
	out->boot.ds = KL_DOMU_BOOT_DS;
	out->boot.gdt_base = BOOT_GDT;
	out->boot.gdt_limit = 4 * 8 - 1;
	out->boot.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	out->boot.cr3 = BOOT_PML4;
	out->boot.cr4 = CR4_PAE;
	out->boot.efer = EFER_LME | EFER_LMA;
	out->boot.rip = out->plan.entry_gpa;
	out->boot.rflags = 2; /* bit 1 is always set */
	out->boot.rsi = out->plan.boot_params_gpa;
	return 0;
}
