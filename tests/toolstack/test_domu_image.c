/* SPDX-License-Identifier: MIT */
/*
 * The DomU memory image `kl create` writes (toolstack/domu_image.c): the
 * kernel, initramfs, command line and zero page where the boot plan put
 * them, ACPI tables reachable from the zero page's RSDP (FADT on Keel's
 * DomU ports, one MADT LAPIC entry per vCPU) and marked in the e820, the
 * identity page tables and GDT of the 64-bit boot protocol, vCPU 0's
 * state; and the refusals that must come before Keel is asked anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <keel/acpi.h>
#include <kl/domu_image.h>

#define MB	   (1ULL << 20)
#define RAM	   (64 * MB)
#define SETUP_SIZE (5 * 512)

/* A 2.15 bzImage header (boot.rst), as in test_domu_boot.c. */
static uint8_t *make_bzimage(size_t size)
{
	uint8_t *img = calloc(1, size);
	uint16_t v16;
	uint32_t v32;
	uint64_t pref = 16 * MB;

	assert_non_null(img);
	img[BP_SETUP_SECTS] = 4;
	v32 = (uint32_t)((size - SETUP_SIZE) / 16);
	memcpy(img + BP_SYSSIZE, &v32, 4);
	v16 = BOOT_FLAG_MAGIC;
	memcpy(img + BP_BOOT_FLAG, &v16, 2);
	img[BP_JUMP] = 0xEB;
	img[BP_JUMP + 1] = 0x6A;
	v32 = HDRS_MAGIC;
	memcpy(img + BP_HEADER, &v32, 4);
	v16 = 0x020F;
	memcpy(img + BP_VERSION, &v16, 2);
	img[BP_LOADFLAGS] = 0x01;
	v32 = 0x7FFFFFFF;
	memcpy(img + BP_INITRD_ADDR_MAX, &v32, 4);
	v32 = 0x200000;
	memcpy(img + BP_KERNEL_ALIGNMENT, &v32, 4);
	img[BP_RELOCATABLE] = 1;
	v16 = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	memcpy(img + BP_XLOADFLAGS, &v16, 2);
	v32 = 2047;
	memcpy(img + BP_CMDLINE_SIZE, &v32, 4);
	memcpy(img + BP_PREF_ADDRESS, &pref, 8);
	v32 = 8 * MB;
	memcpy(img + BP_INIT_SIZE, &v32, 4);
	/* A recognisable payload. */
	for (size_t i = SETUP_SIZE; i < size; i++)
		img[i] = (uint8_t)(i * 7);
	return img;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The table with signature sig among the XSDT's entries. */
static const struct acpi_sdt_header *
find_table(const uint8_t *ram, const struct acpi_rsdp *rsdp, const char *sig)
{
	const struct acpi_sdt_header *xsdt =
	    (const void *)(ram + rsdp->xsdt_address);
	size_t n = (xsdt->length - sizeof(*xsdt)) / 8;

	for (size_t i = 0; i < n; i++) {
		uint64_t gpa = rd64((const uint8_t *)(xsdt + 1) + i * 8);
		const struct acpi_sdt_header *t = (const void *)(ram + gpa);

		assert_true(gpa >= KL_DOMU_ACPI_GPA &&
			    gpa < KL_DOMU_ACPI_GPA + KL_DOMU_ACPI_SIZE);
		if (!memcmp(t->signature, sig, 4)) {
			assert_int_equal(sum((const uint8_t *)t, t->length), 0);
			return t;
		}
	}
	fail_msg("no %s table", sig);
	return NULL;
}

static void test_image(void **state)
{
	static const char cmdline[] = "console=ttyS0 quiet";
	static struct kl_domu_image img;
	size_t klen = 1 * MB, ilen = 300000;
	uint8_t *kernel = make_bzimage(klen), *initrd = malloc(ilen);
	uint8_t *ram = calloc(1, RAM), *bp;
	struct kl_domu_image_in in = {
	    .kernel = kernel,
	    .kernel_len = klen,
	    .initrd = initrd,
	    .initrd_len = ilen,
	    .cmdline = cmdline,
	    .ram_bytes = RAM,
	    .nr_vcpus = 3,
	};
	const struct acpi_rsdp *rsdp;
	const struct acpi_fadt *fadt;
	const struct acpi_madt *madt;
	unsigned lapics = 0, n_e820;
	bool acpi_in_e820 = false;

	(void)state;
	assert_non_null(ram);
	memset(initrd, 0x5A, ilen);
	assert_int_equal(kl_domu_image_check(&in), 0);
	assert_int_equal(kl_domu_image_build(&in, ram, &img), 0);

	/* Kernel payload, initramfs, command line, zero page. */
	assert_memory_equal(ram + img.plan.kernel_gpa, kernel + SETUP_SIZE,
			    klen - SETUP_SIZE);
	assert_memory_equal(ram + img.plan.initrd_gpa, initrd, ilen);
	assert_true(img.plan.initrd_gpa >= img.plan.kernel_gpa + 8 * MB ||
		    img.plan.initrd_gpa + ilen <= img.plan.kernel_gpa);
	assert_string_equal((char *)ram + img.plan.cmdline_gpa, cmdline);
	bp = ram + img.plan.boot_params_gpa;
	assert_int_equal(rd32(bp + BP_CMD_LINE_PTR), img.plan.cmdline_gpa);
	assert_int_equal(rd32(bp + BP_RAMDISK_IMAGE), img.plan.initrd_gpa);
	assert_int_equal(rd32(bp + BP_RAMDISK_SIZE), ilen);

	/* ACPI from the zero page's RSDP; ACPI memory in the e820. */
	assert_int_equal(rd64(bp + BP_ACPI_RSDP_ADDR), img.rsdp_gpa);
	rsdp = (const void *)(ram + img.rsdp_gpa);
	assert_memory_equal(rsdp->signature, "RSD PTR ", 8);
	assert_int_equal(sum((const uint8_t *)rsdp, 20), 0);
	fadt = (const void *)find_table(ram, rsdp, "FACP");
	assert_int_equal(fadt->sleep_control_reg.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(fadt->sleep_control_reg.address,
			 KEEL_DOMU_SLEEP_CONTROL_PORT);
	assert_int_equal(fadt->reset_reg.address, KEEL_DOMU_RESET_PORT);
	madt = (const void *)find_table(ram, rsdp, "APIC");
	for (const uint8_t *p = (const uint8_t *)(madt + 1);
	     p < (const uint8_t *)madt + madt->hdr.length; p += p[1]) {
		assert_true(p[1] >= 2);
		if (p[0] == ACPI_MADT_LAPIC || p[0] == ACPI_MADT_X2APIC)
			lapics++;
	}
	assert_int_equal(lapics, 3);
	n_e820 = bp[BP_E820_ENTRIES];
	for (unsigned i = 0; i < n_e820; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + i * 20;

		if (rd64(e) == KL_DOMU_ACPI_GPA && rd32(e + 16) == E820_ACPI &&
		    rd64(e + 8) == img.acpi_size)
			acpi_in_e820 = true;
		/* Nothing claims RAM past what the guest has. */
		assert_true(rd64(e) + rd64(e + 8) <= RAM);
	}
	assert_true(acpi_in_e820);

	/* 64-bit boot protocol: identity map of 4 GiB, flat GDT, state. */
	assert_int_equal(img.boot.mode, KEEL_VCPU_BOOT_LONG64);
	assert_int_equal(img.boot.rip, img.plan.kernel_gpa + 0x200);
	assert_int_equal(img.boot.rsi, img.plan.boot_params_gpa);
	assert_int_equal(img.boot.cr0 & 0x80000001u, 0x80000001u);
	assert_int_equal(img.boot.cr4 & 0x20, 0x20);
	assert_int_equal(img.boot.efer, 0x500);
	assert_int_equal(rd64(ram + img.boot.cr3) & ~0xFFFULL,
			 img.boot.cr3 + 0x1000);
	for (uint64_t va = 0; va < (4ULL << 30); va += 0x3F200000ULL) {
		uint64_t pdpte =
		    rd64(ram + img.boot.cr3 + 0x1000 + ((va >> 30) & 511) * 8);
		uint64_t pde =
		    rd64(ram + (pdpte & ~0xFFFULL) + ((va >> 21) & 511) * 8);

		assert_true(pde & 0x80); /* a 2 MiB page */
		assert_int_equal(pde & ~0x1FFFFFULL, va & ~0x1FFFFFULL);
	}
	assert_int_equal(rd64(ram + img.boot.gdt_base + img.boot.cs),
			 0x00af9b000000ffffULL);
	assert_int_equal(rd64(ram + img.boot.gdt_base + img.boot.ds),
			 0x00cf93000000ffffULL);
	assert_true(img.boot.gdt_limit >= img.boot.ds + 7u);
	free(kernel);
	free(initrd);
	free(ram);
}

static void test_refusals(void **state)
{
	size_t klen = 1 * MB;
	uint8_t *kernel = make_bzimage(klen), *ram = calloc(1, RAM);
	static struct kl_domu_image img;
	struct kl_domu_image_in in = {
	    .kernel = kernel,
	    .kernel_len = klen,
	    .cmdline = "",
	    .ram_bytes = RAM,
	    .nr_vcpus = 1,
	};

	(void)state;
	/* Not a bzImage: an ELF file, say. */
	memcpy(kernel + BP_HEADER,
	       "\x7f"
	       "ELF",
	       4);
	assert_int_equal(kl_domu_image_check(&in), -ENOEXEC);
	assert_int_equal(kl_domu_image_build(&in, ram, &img), -ENOEXEC);
	free(kernel);
	kernel = make_bzimage(klen);
	in.kernel = kernel;
	/* An initramfs the RAM cannot hold next to the kernel. */
	in.initrd = ram;
	in.initrd_len = RAM - 4 * MB;
	assert_int_equal(kl_domu_image_check(&in), -ENOSPC);
	in.initrd = NULL;
	in.initrd_len = 0;
	/* Too little RAM, too many vCPUs. */
	in.ram_bytes = 1 * MB;
	assert_int_equal(kl_domu_image_check(&in), -EINVAL);
	in.ram_bytes = RAM;
	in.nr_vcpus = KEEL_MAX_VCPUS + 1;
	assert_int_equal(kl_domu_image_check(&in), -EINVAL);
	in.nr_vcpus = 1;
	assert_int_equal(kl_domu_image_check(&in), 0);
	free(kernel);
	free(ram);
}

static void test_low_bytes(void **state)
{
	(void)state;
	assert_int_equal(kl_domu_low_bytes(128 * MB), 128 * MB);
	assert_int_equal(kl_domu_low_bytes(8192 * MB), KL_DOMU_MMIO_HOLE_START);
}

static void test_cmdline(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"console=ttyS0", "console=ttyS0 reboot=acpi"},
	    {"", "reboot=acpi"},
	    {"quiet ", "quiet reboot=acpi"},
	    {"console=ttyS0 reboot=k", "console=ttyS0 reboot=k"},
	    {"reboot=t,w", "reboot=t,w"},
	    /* Not a reboot= option of its own. */
	    {"noreboot=1", "noreboot=1 reboot=acpi"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = kl_domu_cmdline(cases[i].in);

		assert_non_null(out);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_image),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_low_bytes),
	    cmocka_unit_test(test_cmdline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
