/* SPDX-License-Identifier: MIT */
/*
 * Starting a Linux-boot-protocol kernel (hypervisor/common/linux_loader.c)
 * in a domain whose 2 MiB of RAM are mapped through the real p2m: the zero
 * page, the command line as the kernel's cmdline_size allows it, and the
 * boot vCPU's entry state. The vCPU state goes through this file's
 * get_state/set_state, added to tests/unit/npt_ops.c's hvm_ops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/e820.h>
#include <keel/hvm.h>
#include <keel/lib.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include "npt_ops.h"
#include "shim.h"

#define GUEST_RAM    MiB(2)
#define POOL_BASE    GiB(1)
#define POOL_SIZE    MiB(2)
#define BOOT_PARAMS  (LINUX_BOOT_AREA + 0x0000)
#define BOOT_CMDLINE (LINUX_BOOT_AREA + 0x1000)
#define KERNEL_GPA   0x1000000

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};
static struct guest_state vcpu_state;
static struct e820_map e820;
static uint8_t image[0x1000];
static struct bzimage_info bz;

static void get_state(struct vcpu *v, struct guest_state *s)
{
	(void)v;
	*s = vcpu_state;
}

static void set_state(struct vcpu *v, const struct guest_state *s)
{
	(void)v;
	vcpu_state = *s;
}

static int group_setup(void **state)
{
	static struct hvm_ops ops;

	(void)state;
	ops = *hvm;
	ops.get_state = get_state;
	ops.set_state = set_state;
	hvm = &ops;
	shim_map_phys(0, GUEST_RAM);
	shim_map_phys(POOL_BASE, POOL_SIZE);
	frames_add_range(POOL_BASE, POOL_BASE + POOL_SIZE);
	dom.nr_extents = 1;
	dom.extents = &guest_ram;
	dom.nr_vcpus = 1;
	dom.vcpus[0] = &vcpu;
	assert_int_equal(p2m_init(&dom), 0);
	assert_int_equal(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false), 0);
	e820.nr = 2;
	e820.map[0] = (struct e820_entry){0, 0x9fc00, E820_RAM};
	e820.map[1] = (struct e820_entry){MiB(1), MiB(1), E820_RAM};
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	p2m_destroy(&dom);
	shim_unmap_all();
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(image, 0, sizeof(image));
	image[BP_JUMP + 1] = 0x6A; /* header up to 0x26C, as Linux 6.1 */
	memcpy(image + BP_HEADER, "HdrS", 4);
	memset(&bz, 0, sizeof(bz));
	bz.cmdline_max = 2047;
	bz.pref_address = KERNEL_GPA;
	memset(phys_to_virt(LINUX_BOOT_AREA), 0xCC,
	       LINUX_BOOT_AREA_END - LINUX_BOOT_AREA);
	return 0;
}

static void boot(const char *cmdline)
{
	struct linux_boot lb = {
	    .image = image,
	    .bz = &bz,
	    .kernel_gpa = KERNEL_GPA,
	    .cmdline = cmdline,
	    .e820 = &e820,
	    .rsdp_gpa = 0xfe000,
	};

	assert_int_equal(linux_boot_setup(&dom, &lb), 0);
}

static const char *guest_cmdline(void)
{
	return phys_to_virt(BOOT_CMDLINE);
}

static void test_zero_page_and_entry(void **state)
{
	const uint8_t *bp = phys_to_virt(BOOT_PARAMS);
	uint32_t ptr;
	uint64_t rsdp;

	(void)state;
	boot("console=ttyS0");
	assert_memory_equal(bp + BP_HEADER, "HdrS", 4);
	assert_int_equal(bp[BP_TYPE_OF_LOADER], LOADER_TYPE_UNDEFINED);
	memcpy(&ptr, bp + BP_CMD_LINE_PTR, 4);
	assert_int_equal(ptr, BOOT_CMDLINE);
	memcpy(&rsdp, bp + BP_ACPI_RSDP_ADDR, 8);
	assert_int_equal(rsdp, 0xfe000);
	assert_int_equal(bp[BP_E820_ENTRIES], 2);
	assert_memory_equal(bp + BP_E820_TABLE, e820.map,
			    2 * sizeof(struct e820_entry));
	assert_string_equal(guest_cmdline(), "console=ttyS0");
	assert_int_equal(vcpu_state.rip, KERNEL_GPA + ENTRY_64_OFFSET);
	assert_int_equal(vcpu.gpr[GPR_RSI], BOOT_PARAMS);
}

static void test_cmdline_cut_to_cmdline_size(void **state)
{
	(void)state;
	bz.cmdline_max = 4;
	boot("console=ttyS0");
	assert_string_equal(guest_cmdline(), "cons");
}

/*
 * cmdline_size is the kernel's 32-bit field: 0xFFFFFFFF (no limit) made
 * cmdline_max + 1 wrap to 0, so nothing was written to the loader's static
 * command-line buffer and the kernel got whatever the previous boot left
 * there (another domain's command line). Found by
 * tests/fuzz/fuzz_bzimage.c.
 */
static void test_cmdline_size_all_ones(void **state)
{
	(void)state;
	bz.cmdline_max = 0xFFFFFFFF;
	boot("root=/dev/vda quiet");
	assert_string_equal(guest_cmdline(), "root=/dev/vda quiet");
	boot("console=hvc0");
	assert_string_equal(guest_cmdline(), "console=hvc0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_zero_page_and_entry, setup),
	    cmocka_unit_test_setup(test_cmdline_cut_to_cmdline_size, setup),
	    cmocka_unit_test_setup(test_cmdline_size_all_ones, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
