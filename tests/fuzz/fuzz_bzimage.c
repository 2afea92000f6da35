/* SPDX-License-Identifier: MIT */
/*
 * bzImage setup-header parsing (hypervisor/common/bzimage.c) and what the
 * loader does with the parsed header (hypervisor/common/linux_loader.c):
 * the zero page, the command line cut to the kernel's cmdline_size, the
 * e820 table, written into a domain's memory through the real p2m.
 *
 * Input: u16 command-line length, the command line, u8 e820 entry count,
 * then the kernel image, handed over in a heap block of exactly its size.
 * A parsed image is booted twice, with the input's command line and with
 * another one, so anything one boot leaves behind shows in the next.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/domain.h>
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/lib.h>
#include <keel/linux_boot.h>
#include <keel/linux_loader.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include "npt_ops.h"
#include "shim.h"

FUZZ_SHIM_INIT()

#define GUEST_RAM    MiB(2)
#define POOL_BASE    GiB(1)
#define POOL_SIZE    MiB(2)
#define BOOT_PARAMS  (LINUX_BOOT_AREA + 0x0000)
#define BOOT_CMDLINE (LINUX_BOOT_AREA + 0x1000)
#define CMDLINE_BUF  4096 /* linux_loader.c's buffer */

static struct domain dom;
/* All of the guest's RAM, identity-mapped. */
static struct dom_extent guest_ram = {0, 0, GUEST_RAM};
static struct vcpu vcpu = {.dom = &dom};
static struct guest_state vcpu_state;
static struct e820_map e820;

/* The vCPU state linux_loader.c reads and writes through hvm. */
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

/* One domain with 2 MiB of RAM, identity-mapped by a real p2m. */
static void setup_domain(void)
{
	static struct hvm_ops ops;

	ops = *hvm; /* tests/unit/npt_ops.c's p2m entries */
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
	FUZZ_CHECK(p2m_init(&dom) == 0);
	FUZZ_CHECK(p2m_map(&dom, 0, 0, GUEST_RAM, P2M_RWX, false) == 0);
	for (unsigned i = 0; i < E820_MAX; i++)
		e820.map[i] =
		    (struct e820_entry){MiB(i), MiB(1) - 1, 1 + i % 5};
}

static void boot(const uint8_t *img, const struct bzimage_info *bz,
		 const char *cmdline)
{
	const uint8_t *bp = phys_to_virt(BOOT_PARAMS);
	const char *guest_cmdline = phys_to_virt(BOOT_CMDLINE);
	size_t want = MIN(strlen(cmdline),
			  MIN((uint64_t)bz->cmdline_max, CMDLINE_BUF - 1));
	struct linux_boot lb = {
	    .image = img,
	    .bz = bz,
	    .kernel_gpa = bz->pref_address,
	    .initrd_gpa = 0x12345000,
	    .initrd_size = 0x6789,
	    .cmdline = cmdline,
	    .e820 = &e820,
	    .rsdp_gpa = 0xfe000,
	};
	uint32_t ptr;

	memset(phys_to_virt(LINUX_BOOT_AREA), 0xCC,
	       LINUX_BOOT_AREA_END - LINUX_BOOT_AREA);
	FUZZ_CHECK(linux_boot_setup(&dom, &lb) == 0);
	/* The setup header as the image has it, then what the loader set. */
	FUZZ_CHECK(memcmp(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS,
			  MIN(BP_HEADER + img[BP_JUMP + 1], BP_TYPE_OF_LOADER) -
			      BP_SETUP_SECTS) == 0);
	FUZZ_CHECK(bp[BP_TYPE_OF_LOADER] == LOADER_TYPE_UNDEFINED);
	memcpy(&ptr, bp + BP_CMD_LINE_PTR, 4);
	FUZZ_CHECK(ptr == BOOT_CMDLINE);
	FUZZ_CHECK(bp[BP_E820_ENTRIES] == MIN(e820.nr, (uint32_t)E820_MAX));
	/* The command line given, cut to what the kernel accepts. */
	FUZZ_CHECK(strnlen(guest_cmdline, CMDLINE_BUF) == want);
	FUZZ_CHECK(memcmp(guest_cmdline, cmdline, want) == 0);
	FUZZ_CHECK(vcpu_state.rip == bz->pref_address + ENTRY_64_OFFSET);
	FUZZ_CHECK(vcpu.gpr[GPR_RSI] == BOOT_PARAMS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_input fi = fuzz_input(data, size);
	size_t cmdline_len = fuzz_u16(&fi) % (CMDLINE_BUF + 64);
	struct bzimage_info bz;
	char *cmdline;
	uint8_t *img;
	int rc;

	if (!ready) {
		setup_domain();
		ready = true;
	}
	cmdline = calloc(1, cmdline_len + 1);
	FUZZ_CHECK(cmdline);
	fuzz_bytes(&fi, cmdline, cmdline_len);
	e820.nr = fuzz_u8(&fi);
	img = malloc(fi.left ? fi.left : 1);
	FUZZ_CHECK(img);
	memcpy(img, fi.p, fi.left);

	rc = bzimage_parse(img, fi.left, &bz);
	FUZZ_CHECK(rc == 0 || rc == -ENOEXEC || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(bz.payload == img + bz.setup_size);
		FUZZ_CHECK(bz.setup_size + bz.payload_size == fi.left);
		FUZZ_CHECK(bz.alignment &&
			   !(bz.alignment & (bz.alignment - 1)));
		FUZZ_CHECK(bz.init_size >= bz.payload_size);
		FUZZ_CHECK(bz.cmdline_max > 0);
		boot(img, &bz, cmdline);
		boot(img, &bz, "console=ttyS0 earlyprintk=serial");
	}
	free(img);
	free(cmdline);
	return 0;
}
