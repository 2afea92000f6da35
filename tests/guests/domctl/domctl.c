/* SPDX-License-Identifier: MIT */
/*
 * domctl: Keel's domain-control hypercalls from Dom0's side, end to end.
 * Booted as Dom0, the guest builds DomUs the way `kl` does: it creates a
 * domain, donates 2 MiB of its own RAM (found in its e820 map), writes a
 * small 64-bit payload (payload.S) with page tables and a GDT into it,
 * sets vCPU 0's boot state, sets up a console ring in its own RAM and
 * starts the domain. It then watches each DomU through DOMAIN_INFO, the
 * ring and the donated memory (which stays mapped in Dom0): a line and a
 * power-off, a counter that stops while paused, a reset, a triple fault
 * and an access outside its memory (CRASHED, Dom0 unharmed), unclaimed
 * I/O reading all-ones, console input, an AP started by INIT/SIPI, and a
 * DomU's own privileged hypercall refused. Every malformed call the ABI
 * names must be refused with its error, and `cycles=` (default 50)
 * create/destroy cycles must leave Keel's free memory and domain count
 * where they started (both printed).
 *
 * addr= is an address of Keel's own memory (the harness passes Keel's
 * load address): donating it must be refused. With boot_domains=N, the N
 * domains Keel built from domu= are found and destroyed first, and their
 * memory must return to Keel.
 */
#include "guest.h"
#include "payload.h"
#include "../../../hypervisor/include/public/keel.h"

const char test_name[] = "domctl";

#define PAGE	      4096ULL
#define SLOT_SIZE     0x200000ULL
#define NR_SLOTS      12
#define POOL_MIN_ADDR 0x4000000ULL /* 64 MiB: above the guest's image */
#define POLL_US	      1000
#define STATE_WAIT_US 10000000ULL
#define RING_SIZE     8192
#define EINVAL	      22
#define EPERM	      1
#define ESRCH	      3
#define EFAULT	      14
#define EBUSY	      16
#define EEXIST	      17
#define PTE_P	      0x1ULL
#define PTE_W	      0x2ULL
#define PTE_PWT	      0x8ULL
#define PTE_PCD	      0x10ULL
#define PTE_PS	      0x80ULL
#define GDT_CODE64    0x00AF9A000000FFFFULL
#define GDT_DATA      0x00CF92000000FFFFULL
#define CR0_PE	      (1ULL << 0)
#define CR0_ET	      (1ULL << 4)
#define CR0_NE	      (1ULL << 5)
#define CR0_CD	      (1ULL << 30)
#define CR0_PG	      (1ULL << 31)
#define CR4_PAE	      (1ULL << 5)
#define CR4_VMXE      (1ULL << 13)
#define EFER_LME      (1ULL << 8)
#define EFER_LMA      (1ULL << 10)
#define EFER_SVME     (1ULL << 12)

extern const char domu_payload_start[], domu_payload_end[];
extern const char domu_trampoline_start[], domu_trampoline_end[];

static bool amd;
static uint64_t pool; /* NR_SLOTS * 2 MiB of Dom0 RAM, 2 MiB aligned */
static struct keel_domain_info info;
static struct keel_domain_create create_arg;
static struct keel_vcpu_boot_state boot_arg;
static struct keel_vcpu_info vcpu_arg;
static struct keel_platform_info platform;
static struct keel_mem_extent extents[KEEL_MAX_EXTENTS_PER_CALL + 1];
static char ring_buf[RING_SIZE] __attribute__((aligned(RING_SIZE)));
static char dmesg_buf[16384];

static bool platform_info(void);

static int64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
			 uint64_t a4)
{
	register uint64_t r10 __asm__("r10") = a4;
	uint64_t ret;

	if (amd)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
				 : "memory");
	return (int64_t)ret;
}

static uint64_t gpa(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* Dom0's guest image is identity */
}

static uint64_t slot(unsigned int i)
{
	return pool + i * SLOT_SIZE;
}

static int64_t create(const char *name, uint32_t vcpus)
{
	memset(&create_arg, 0, sizeof(create_arg));
	memcpy(create_arg.name, name, strlen(name) + 1);
	create_arg.nr_vcpus = vcpus;
	return hypercall(KEEL_HC_DOMAIN_CREATE, gpa(&create_arg),
			 sizeof(create_arg), 0, 0);
}

static int64_t map1(int64_t dom, uint64_t guest, uint64_t dom0, uint64_t len)
{
	extents[0] = (struct keel_mem_extent){guest, dom0, len};
	return hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)dom, gpa(extents), 1, 0);
}

static int64_t map2(int64_t dom, struct keel_mem_extent a,
		    struct keel_mem_extent b)
{
	extents[0] = a;
	extents[1] = b;
	return hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)dom, gpa(extents), 2, 0);
}

static void good_boot_state(uint64_t mode)
{
	memset(&boot_arg, 0, sizeof(boot_arg));
	boot_arg.mode = KEEL_VCPU_BOOT_LONG64;
	boot_arg.cs = DOMU_SEL_CODE;
	boot_arg.ds = DOMU_SEL_DATA;
	boot_arg.gdt_base = DOMU_GDT_GPA;
	boot_arg.gdt_limit = 3 * 8 - 1;
	boot_arg.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	boot_arg.cr3 = DOMU_PML4_GPA;
	boot_arg.cr4 = CR4_PAE;
	boot_arg.efer = EFER_LME | EFER_LMA;
	boot_arg.rip = DOMU_PAYLOAD_GPA;
	boot_arg.rsp = DOMU_STACK_TOP;
	boot_arg.rflags = 2;
	boot_arg.rdi = mode;
	boot_arg.rsi = amd;
}

static int64_t set_boot(int64_t dom, uint32_t vcpu)
{
	return hypercall(KEEL_HC_VCPU_BOOT_STATE, (uint64_t)dom, vcpu,
			 gpa(&boot_arg), sizeof(boot_arg));
}

/* Page tables, GDT, payload and trampoline in the slot's 2 MiB. */
static void write_domu_image(uint64_t base)
{
	uint64_t *pml4 = (uint64_t *)(base + DOMU_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(base + DOMU_PDPT_GPA);
	uint64_t *pd0 = (uint64_t *)(base + DOMU_PD0_GPA);
	uint64_t *pd1 = (uint64_t *)(base + DOMU_PD1_GPA);
	uint64_t *pd3 = (uint64_t *)(base + DOMU_PD3_GPA);
	uint64_t *gdt = (uint64_t *)(base + DOMU_GDT_GPA);
	uint64_t rw = PTE_P | PTE_W;
	uint64_t uc = PTE_PCD | PTE_PWT;

	memset((void *)base, 0, 0x20000);
	pml4[0] = DOMU_PDPT_GPA | rw;
	pdpt[0] = DOMU_PD0_GPA | rw;
	pdpt[1] = DOMU_PD1_GPA | rw;
	pdpt[3] = DOMU_PD3_GPA | rw;
	pd0[0] = 0 | rw | PTE_PS;
	pd1[0] = DOMU_OUTSIDE_GPA | rw | PTE_PS;
	pd3[(DOMU_UNCLAIMED_MMIO >> 21) & 511] =
	    (DOMU_UNCLAIMED_MMIO & ~(SLOT_SIZE - 1)) | rw | uc | PTE_PS;
	pd3[(0xFEE00000ULL >> 21) & 511] = 0xFEE00000ULL | rw | uc | PTE_PS;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
	memcpy((void *)(base + DOMU_PAYLOAD_GPA), domu_payload_start,
	       (size_t)(domu_payload_end - domu_payload_start));
	memcpy((void *)(base + DOMU_TRAMPOLINE_GPA), domu_trampoline_start,
	       (size_t)(domu_trampoline_end - domu_trampoline_start));
}

static volatile uint64_t *domu_word(unsigned int s, uint64_t guest)
{
	return (volatile uint64_t *)(slot(s) + guest);
}

static int64_t get_info(int64_t dom)
{
	int64_t rc = hypercall(KEEL_HC_DOMAIN_INFO, (uint64_t)dom, gpa(&info),
			       sizeof(info), 0);

	return rc == dom ? 0 : (rc < 0 ? rc : -ESRCH);
}

/* Waits for the domain to leave RUNNING; its state, or -1. */
static int wait_stopped(int64_t dom)
{
	for (uint64_t t = 0; t < STATE_WAIT_US; t += POLL_US) {
		if (get_info(dom))
			return -1;
		if (info.state != KEEL_DOMSTATE_RUNNING)
			return (int)info.state;
		delay_us(POLL_US);
	}
	return -1;
}

/*
 * A DomU on pool slot s running payload mode `mode`, started; with a ring
 * if `ring`. Returns its domid, or a negative error after a FAIL check.
 */
static int64_t build(const char *name, unsigned int s, uint64_t mode,
		     uint32_t vcpus, bool ring)
{
	int64_t dom = create(name, vcpus), rc;

	if (!check(dom > 0, "create %s: domid %ld", name, dom))
		return dom;
	write_domu_image(slot(s));
	rc = map1(dom, 0, slot(s), SLOT_SIZE);
	good_boot_state(mode);
	if (!rc)
		rc = set_boot(dom, 0);
	if (!rc && ring) {
		memset(ring_buf, 0, sizeof(ring_buf));
		rc = hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)dom,
			       gpa(ring_buf), sizeof(ring_buf), 0);
	}
	if (!rc)
		rc = hypercall(KEEL_HC_DOMAIN_START, (uint64_t)dom, 0, 0, 0);
	if (!check(rc == 0, "build %s: map, boot state, ring, start: %ld", name,
		   rc))
		return rc;
	return dom;
}

static void destroy(int64_t dom)
{
	int64_t rc = hypercall(KEEL_HC_DOMAIN_DESTROY, (uint64_t)dom, 0, 0, 0);

	check(rc == 0, "destroy d%ld: %ld", dom, rc);
}

/* The ring's output so far, NUL-ended, in `out` (at most len - 1). */
static void ring_output(char *out, size_t len)
{
	const struct keel_console_ring *r = (const void *)ring_buf;
	uint32_t prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
	uint32_t size = KEEL_CONSOLE_OUT_SIZE(RING_SIZE), n = 0;

	for (uint32_t i = r->out_cons; i != prod && n + 1 < len; i++)
		out[n++] = ring_buf[KEEL_CONSOLE_OUT_OFFSET + (i & (size - 1))];
	out[n] = 0;
}

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return true;
	return false;
}

static bool find_pool(void)
{
	unsigned int n = boot_params.e820_entries;

	for (unsigned int i = 0; i < n && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];
		uint64_t start =
		    e->addr > POOL_MIN_ADDR ? e->addr : POOL_MIN_ADDR;

		start = (start + SLOT_SIZE - 1) & ~(SLOT_SIZE - 1);
		if (e->type == E820_TYPE_RAM &&
		    start + NR_SLOTS * SLOT_SIZE <= e->addr + e->size) {
			pool = start;
			return true;
		}
	}
	return false;
}

/*
 * boot_domains=N: Keel built N domains from domu= (their memory from its
 * frame allocator). They are listed with KEEL_DOMFLAG_BOOT, and destroying
 * them gives their memory back to Keel.
 */
static void test_boot_domains(uint64_t expected)
{
	uint64_t found = 0, ram = 0, free0, domains0;
	int64_t ids[8], id = 0;

	if (!check(platform_info(), "platform info"))
		return;
	free0 = platform.free_ram;
	domains0 = platform.nr_domains;
	while ((id = hypercall(KEEL_HC_DOMAIN_INFO, (uint64_t)id, gpa(&info),
			       sizeof(info), 0)) >= 0) {
		if ((info.flags & KEEL_DOMFLAG_BOOT) &&
		    found < ARRAY_SIZE(ids)) {
			printf("domctl: boot domain d%ld '%s', state %u, %lu "
			       "bytes\n",
			       id, info.name, info.state,
			       (unsigned long)info.ram_bytes);
			ids[found++] = id;
			ram += info.ram_bytes;
		}
		id++;
	}
	if (!check(found == expected, "%lu boot domains listed (%lu)", expected,
		   found))
		return;
	for (uint64_t i = 0; i < found; i++)
		destroy(ids[i]);
	check(platform_info(), "platform info after");
	printf("domctl: boot domains destroyed: free_ram %lu -> %lu bytes, "
	       "domains %lu -> %u\n",
	       free0, platform.free_ram, domains0, platform.nr_domains);
	check(platform.free_ram >= free0 + ram &&
		  platform.nr_domains == domains0 - found,
	      "their %lu bytes of RAM went back to Keel", ram);
}

static void test_create_refusals(void)
{
	static const char *const bad_names[] = {"", "bad name", "a/b", "x:y",
						"caf\xc3\xa9"};
	int64_t rc, a, b;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad_names); i++)
		check(create(bad_names[i], 1) == -EINVAL,
		      "create refuses the name '%s'", bad_names[i]);
	memset(&create_arg, 'a', sizeof(create_arg.name));
	create_arg.nr_vcpus = 1;
	check(hypercall(KEEL_HC_DOMAIN_CREATE, gpa(&create_arg),
			sizeof(create_arg), 0, 0) == -EINVAL,
	      "create refuses a name without its NUL");
	check(create("v0", 0) == -EINVAL, "create refuses 0 vCPUs");
	check(create("v65", KEEL_MAX_VCPUS + 1) == -EINVAL,
	      "create refuses %d vCPUs", KEEL_MAX_VCPUS + 1);
	memset(&create_arg, 0, sizeof(create_arg));
	memcpy(create_arg.name, "flags", 6);
	create_arg.nr_vcpus = 1;
	create_arg.flags = 1;
	check(hypercall(KEEL_HC_DOMAIN_CREATE, gpa(&create_arg),
			sizeof(create_arg), 0, 0) == -EINVAL,
	      "create refuses unknown flags");
	create_arg.flags = 0;
	check(hypercall(KEEL_HC_DOMAIN_CREATE, gpa(&create_arg),
			sizeof(create_arg) - 1, 0, 0) == -EINVAL,
	      "create refuses a short buffer");
	check(hypercall(KEEL_HC_DOMAIN_CREATE, 0xFFFFF000000ULL,
			sizeof(create_arg), 0, 0) == -EFAULT,
	      "create refuses a buffer outside Dom0's RAM");
	a = create("twin", 1);
	b = create("twin", 1);
	check(a > 0 && b == -EEXIST, "a second 'twin' is refused (%ld, %ld)", a,
	      b);
	rc = hypercall(KEEL_HC_DOMAIN_DESTROY, 0, 0, 0, 0);
	check(rc == -EPERM, "destroy of domain 0 is refused: %ld", rc);
	check(hypercall(KEEL_HC_DOMAIN_PAUSE, 0, 0, 0, 0) == -EPERM,
	      "pause of domain 0 is refused");
	check(hypercall(KEEL_HC_DOMAIN_DESTROY, 63, 0, 0, 0) == -ESRCH,
	      "destroy of an unknown domain: -ESRCH");
	check(hypercall(KEEL_HC_DOMAIN_START, 62, 0, 0, 0) == -ESRCH,
	      "start of an unknown domain: -ESRCH");
	if (a > 0)
		destroy(a);
	check(get_info(a) != 0, "the destroyed domain is gone");
}

static void test_memory_refusals(uint64_t keel_addr)
{
	int64_t a = create("mem-a", 1), b = create("mem-b", 1), rc;
	uint64_t s0 = slot(0), s1 = slot(1);
	struct keel_mem_extent e0 = {0, s0, PAGE}, e1 = {PAGE, s0, PAGE};

	if (!check(a > 0 && b > 0, "two domains to map into: %ld %ld", a, b))
		return;
	check(map1(a, 0x800, s0, PAGE) == -EINVAL, "misaligned gpa");
	check(map1(a, 0, s0 + 0x800, PAGE) == -EINVAL, "misaligned Dom0 gpa");
	check(map1(a, 0, s0, 0x800) == -EINVAL, "misaligned length");
	check(map1(a, 0, s0, 0) == -EINVAL, "zero length");
	check(map1(a, 0xFFFFFFFFFFFFF000ULL, s0, 2 * PAGE) == -EINVAL,
	      "gpa + len overflows");
	check(map1(a, 0, 0xFFFFFFFFFFFFF000ULL, 2 * PAGE) == -EINVAL,
	      "Dom0 gpa + len overflows");
	check(map1(a, KEEL_MAX_GPA, s0, PAGE) == -EINVAL,
	      "gpa at KEEL_MAX_GPA");
	check(map1(a, KEEL_MAX_GPA - PAGE, s0, 2 * PAGE) == -EINVAL,
	      "range past KEEL_MAX_GPA");
	check(map1(a, 0, keel_addr, PAGE) == -EINVAL, "Keel's memory at 0x%lx",
	      keel_addr);
	check(map1(a, 0, 0xFEC00000ULL, PAGE) == -EINVAL, "an MMIO window");
	check(map1(a, 0, 0xA0000, PAGE) == -EINVAL,
	      "the VGA window in Dom0's first MiB");
	check(map1(a, 0, 0xFFFFF000000ULL, PAGE) == -EINVAL,
	      "memory Dom0 does not have");
	check(map2(a, e0, e1) == -EINVAL, "the same Dom0 page twice in a call");
	check(map2(a, e0, (struct keel_mem_extent){0, s1, PAGE}) == -EINVAL,
	      "the same gpa twice in a call");
	check(hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)a, gpa(extents), 0, 0) ==
		  -EINVAL,
	      "no extents");
	check(hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)a, gpa(extents),
			KEEL_MAX_EXTENTS_PER_CALL + 1, 0) == -EINVAL,
	      "more than KEEL_MAX_EXTENTS_PER_CALL extents");
	check(hypercall(KEEL_HC_MEMORY_MAP, 0, gpa(extents), 1, 0) == -EPERM,
	      "mapping into domain 0");
	check(hypercall(KEEL_HC_MEMORY_MAP, (uint64_t)a, 0xFFFFF000000ULL, 1,
			0) == -EFAULT,
	      "an extent array outside Dom0's RAM");
	rc = map1(b, 0, s0, SLOT_SIZE);
	check(rc == 0, "2 MiB to mem-b: %ld", rc);
	check(map1(a, 0, s0 + PAGE, PAGE) == -EINVAL,
	      "another domain's memory");
	check(map1(b, SLOT_SIZE, s0, PAGE) == -EINVAL,
	      "memory the same domain already has");
	check(map1(b, PAGE, s1, PAGE) == -EINVAL,
	      "a gpa already mapped in the domain");
	rc = map2(b, (struct keel_mem_extent){SLOT_SIZE, s1, PAGE},
		  (struct keel_mem_extent){SLOT_SIZE + PAGE, s0, PAGE});
	check(rc == -EINVAL, "all or nothing: a good and a bad extent");
	check(map1(a, 0, s1, PAGE) == 0,
	      "the good extent's page is still free after the refusal");
	rc = get_info(b);
	check(rc == 0 && info.ram_bytes == SLOT_SIZE, "mem-b has 2 MiB: %lu",
	      (unsigned long)info.ram_bytes);
	destroy(a);
	destroy(b);
}

static void test_boot_state_refusals(void)
{
	int64_t d = create("boot", 2), rc;
	struct {
		const char *what;
		uint64_t *field;
		uint64_t value;
	} bad[] = {
	    {"CR0 without PG", &boot_arg.cr0, CR0_PE | CR0_ET},
	    {"CR0 with CD", &boot_arg.cr0, CR0_PE | CR0_ET | CR0_PG | CR0_CD},
	    {"CR4 without PAE", &boot_arg.cr4, 0},
	    {"CR4 with VMXE", &boot_arg.cr4, CR4_PAE | CR4_VMXE},
	    {"EFER without LMA", &boot_arg.efer, EFER_LME},
	    {"EFER with SVME", &boot_arg.efer, EFER_LME | EFER_LMA | EFER_SVME},
	    {"a non-canonical RIP", &boot_arg.rip, 0x0000800000000000ULL},
	    {"a non-canonical RSP", &boot_arg.rsp, 0x8000000000000000ULL},
	    {"a non-canonical GDT base", &boot_arg.gdt_base, 1ULL << 47},
	    {"RFLAGS.VM", &boot_arg.rflags, 2 | (1ULL << 17)},
	};

	if (!check(d > 0, "a domain for boot states: %ld", d))
		return;
	check(hypercall(KEEL_HC_DOMAIN_START, (uint64_t)d, 0, 0, 0) == -EINVAL,
	      "start without memory or boot vCPU");
	write_domu_image(slot(0));
	check(map1(d, 0, slot(0), SLOT_SIZE) == 0, "memory for it");
	check(hypercall(KEEL_HC_DOMAIN_START, (uint64_t)d, 0, 0, 0) == -EINVAL,
	      "start without a boot vCPU");
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		good_boot_state(DOMU_HELLO);
		*bad[i].field = bad[i].value;
		check(set_boot(d, 0) == -EINVAL, "boot state with %s",
		      bad[i].what);
	}
	good_boot_state(DOMU_HELLO);
	boot_arg.mode = 2;
	check(set_boot(d, 0) == -EINVAL, "boot state of an unknown mode");
	good_boot_state(DOMU_HELLO);
	boot_arg.cs = 0;
	check(set_boot(d, 0) == -EINVAL, "a null CS");
	good_boot_state(DOMU_HELLO);
	boot_arg.cs = DOMU_SEL_CODE | 1;
	check(set_boot(d, 0) == -EINVAL, "a CS with RPL 1");
	good_boot_state(DOMU_HELLO);
	boot_arg.ds = 0x20;
	check(set_boot(d, 0) == -EINVAL, "a DS beyond the GDT limit");
	good_boot_state(DOMU_HELLO);
	check(hypercall(KEEL_HC_VCPU_BOOT_STATE, (uint64_t)d, 0, gpa(&boot_arg),
			sizeof(boot_arg) - 8) == -EINVAL,
	      "a short boot state");
	check(set_boot(d, 1) == -EINVAL, "a boot state for vCPU 1");
	check(set_boot(d, 2) == -EINVAL, "a boot state for vCPU 2 of 2");
	check(set_boot(0, 0) == -EPERM, "a boot state for domain 0");
	rc = set_boot(d, 0);
	check(rc == 0, "the good boot state: %ld", rc);
	check(hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)d, gpa(ring_buf), 3000,
			0) == -EINVAL,
	      "a console ring of 3000 bytes");
	check(hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)d, gpa(ring_buf), 6144,
			0) == -EINVAL,
	      "a console ring of 6 KiB");
	check(hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)d, gpa(ring_buf),
			128 * 1024, 0) == -EINVAL,
	      "a console ring of 128 KiB");
	check(hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)d, gpa(ring_buf) + 64,
			4096, 0) == -EINVAL,
	      "a misaligned console ring");
	check(hypercall(KEEL_HC_CONSOLE_SETUP, (uint64_t)d, slot(0), 4096, 0) ==
		  -EINVAL,
	      "a console ring in a DomU's memory");
	check(hypercall(KEEL_HC_SCHED_SET, (uint64_t)d, 0, 0, 0) == -EINVAL,
	      "weight 0");
	check(hypercall(KEEL_HC_VCPU_AFFINITY, (uint64_t)d, 0, 0, 0) == -EINVAL,
	      "an empty affinity");
	check(hypercall(KEEL_HC_VCPU_AFFINITY, (uint64_t)d, 2, 1, 0) == -EINVAL,
	      "affinity of vCPU 2 of 2");
	check(hypercall(KEEL_HC_SCHED_SET, (uint64_t)d, 300, 50, 0) == 0,
	      "weight 300, cap 50 before the start");
	rc = hypercall(KEEL_HC_DOMAIN_START, (uint64_t)d, 0, 0, 0);
	check(rc == 0, "start: %ld", rc);
	check(hypercall(KEEL_HC_DOMAIN_START, (uint64_t)d, 0, 0, 0) == -EBUSY,
	      "a second start");
	check(set_boot(d, 0) == -EBUSY, "a boot state after the start");
	check(map1(d, SLOT_SIZE, slot(1), PAGE) == -EBUSY,
	      "memory after the start");
	check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
	      "the started domain powers off");
	rc = get_info(d);
	check(rc == 0 && info.weight == 300 && info.cap == 50,
	      "its weight and cap: %u %u", info.weight, info.cap);
	destroy(d);
}

static void test_hello(void)
{
	char out[256];
	int64_t d = build("hello", 0, DOMU_HELLO, 1, true);
	int state;

	if (d <= 0)
		return;
	state = wait_stopped(d);
	check(state == KEEL_DOMSTATE_SHUTDOWN &&
		  info.shutdown_reason == KEEL_SHUTDOWN_POWEROFF,
	      "hello: SHUTDOWN/POWEROFF (state %d reason %u)", state,
	      info.shutdown_reason);
	check(info.nr_vcpus == 1 && info.nr_vcpus_up == 0 &&
		  info.ram_bytes == SLOT_SIZE && info.p2m_bytes > 0 &&
		  !(info.flags & (KEEL_DOMFLAG_PRIVILEGED | KEEL_DOMFLAG_BOOT)),
	      "hello: info: %u vCPUs, %u up, %lu bytes, p2m %lu, flags %x",
	      info.nr_vcpus, info.nr_vcpus_up, (unsigned long)info.ram_bytes,
	      (unsigned long)info.p2m_bytes, info.flags);
	check(!strncmp(info.name, "hello", 6), "hello: its name");
	ring_output(out, sizeof(out));
	printf("domctl: ring: %s", out);
	check(contains(out, "domu: hello from the DomU\n"),
	      "hello: its line arrived through the console ring");
	check(*domu_word(0, DOMU_RESULT_GPA + 16) == 0,
	      "hello: its vCPU stopped at the power-off");
	destroy(d);
}

static void test_pause(void)
{
	int64_t d = build("count", 1, DOMU_COUNT, 1, false);
	volatile uint64_t *counter = domu_word(1, DOMU_COUNTER_GPA);
	uint64_t c0, c1, c2;
	int64_t rc;

	if (d <= 0)
		return;
	delay_us(100000);
	c0 = *counter;
	check(c0 > 0, "count: the DomU counts (%lu)", c0);
	check(hypercall(KEEL_HC_DOMAIN_UNPAUSE, (uint64_t)d, 0, 0, 0) ==
		  -EINVAL,
	      "count: unpause of a running domain");
	check(hypercall(KEEL_HC_DOMAIN_PAUSE, (uint64_t)d, 0, 0, 0) == 0,
	      "count: pause");
	delay_us(20000);
	c1 = *counter;
	delay_us(200000);
	c2 = *counter;
	check(c1 == c2, "count: paused, the counter stays at %lu (%lu)", c1,
	      c2);
	rc = get_info(d);
	check(rc == 0 && info.state == KEEL_DOMSTATE_PAUSED,
	      "count: DOMAIN_INFO says paused");
	rc = hypercall(KEEL_HC_VCPU_INFO, (uint64_t)d, 0, gpa(&vcpu_arg),
		       sizeof(vcpu_arg));
	check(rc == 0 && vcpu_arg.state == KEEL_VCPUSTATE_STOPPED &&
		  vcpu_arg.cpu_time_ns > 0 && vcpu_arg.exits > 0,
	      "count: vCPU 0 stopped, ran %lu ns, %lu exits",
	      (unsigned long)vcpu_arg.cpu_time_ns,
	      (unsigned long)vcpu_arg.exits);
	check(hypercall(KEEL_HC_DOMAIN_UNPAUSE, (uint64_t)d, 0, 0, 0) == 0,
	      "count: unpause");
	delay_us(200000);
	check(*counter > c2, "count: unpaused, it counts again (%lu)",
	      *counter);
	rc = hypercall(KEEL_HC_VCPU_INFO, (uint64_t)d, 0, gpa(&vcpu_arg),
		       sizeof(vcpu_arg));
	check(rc == 0 && vcpu_arg.state == KEEL_VCPUSTATE_RUNNABLE &&
		  vcpu_arg.pcpu >= 0,
	      "count: vCPU 0 runnable on pCPU %d", vcpu_arg.pcpu);
	check(hypercall(KEEL_HC_VCPU_INFO, (uint64_t)d, 1, gpa(&vcpu_arg),
			sizeof(vcpu_arg)) == -EINVAL,
	      "count: VCPU_INFO of a vCPU it lacks");
	/* Destroyed while it runs (on another CPU when there are two). */
	destroy(d);
	c1 = *counter;
	delay_us(100000);
	check(*counter == c1, "count: destroyed, it never counts again");
}

/* Paused before its start (`kl create -p`): not one guest instruction
 * runs before the unpause. */
static void test_start_paused(void)
{
	volatile uint64_t *counter = domu_word(1, DOMU_COUNTER_GPA);
	int64_t d = create("early", 1), rc;
	uint64_t c0;

	if (!check(d > 0, "early: create: domid %ld", d))
		return;
	write_domu_image(slot(1));
	rc = map1(d, 0, slot(1), SLOT_SIZE);
	good_boot_state(DOMU_COUNT);
	if (!rc)
		rc = set_boot(d, 0);
	if (!rc)
		rc = hypercall(KEEL_HC_DOMAIN_PAUSE, (uint64_t)d, 0, 0, 0);
	check(rc == 0, "early: pause before the start: %ld", rc);
	check(hypercall(KEEL_HC_DOMAIN_PAUSE, (uint64_t)d, 0, 0, 0) == -EINVAL,
	      "early: a second pause before the start is refused");
	check(hypercall(KEEL_HC_DOMAIN_UNPAUSE, (uint64_t)d, 0, 0, 0) ==
		  -EINVAL,
	      "early: unpause before the start is refused");
	c0 = *counter;
	check(hypercall(KEEL_HC_DOMAIN_START, (uint64_t)d, 0, 0, 0) == 0,
	      "early: start");
	rc = get_info(d);
	check(rc == 0 && info.state == KEEL_DOMSTATE_PAUSED,
	      "early: started paused, DOMAIN_INFO says paused (%u)",
	      info.state);
	delay_us(200000);
	rc = hypercall(KEEL_HC_VCPU_INFO, (uint64_t)d, 0, gpa(&vcpu_arg),
		       sizeof(vcpu_arg));
	check(*counter == c0 && rc == 0 && vcpu_arg.cpu_time_ns == 0 &&
		  vcpu_arg.exits == 0,
	      "early: nothing ran (counter %lu, %lu ns, %lu exits)", *counter,
	      (unsigned long)vcpu_arg.cpu_time_ns,
	      (unsigned long)vcpu_arg.exits);
	check(hypercall(KEEL_HC_DOMAIN_UNPAUSE, (uint64_t)d, 0, 0, 0) == 0,
	      "early: unpause");
	delay_us(200000);
	check(*counter != c0, "early: unpaused, it counts (%lu)", *counter);
	destroy(d);
}

static void test_crashes(void)
{
	int64_t t = build("triple", 2, DOMU_TRIPLE, 1, false);
	int64_t o = build("outside", 3, DOMU_OUTSIDE, 1, false);
	int64_t r = build("reboot", 4, DOMU_RESET, 1, false);
	int state;

	if (t > 0) {
		state = wait_stopped(t);
		check(state == KEEL_DOMSTATE_CRASHED &&
			  contains(info.crash_reason, "triple fault"),
		      "triple: CRASHED (%d: %s)", state, info.crash_reason);
		destroy(t);
	}
	if (o > 0) {
		state = wait_stopped(o);
		check(state == KEEL_DOMSTATE_CRASHED &&
			  contains(info.crash_reason, "outside its memory"),
		      "outside: CRASHED (%d: %s)", state, info.crash_reason);
		check(*domu_word(3, DOMU_RESULT_GPA) == 0,
		      "outside: the read never completed");
		destroy(o);
	}
	if (r > 0) {
		state = wait_stopped(r);
		check(state == KEEL_DOMSTATE_SHUTDOWN &&
			  info.shutdown_reason == KEEL_SHUTDOWN_REBOOT,
		      "reset: SHUTDOWN/REBOOT (%d, %u)", state,
		      info.shutdown_reason);
		destroy(r);
	}
}

static void test_io_console_ap_hypercall(void)
{
	struct keel_console_ring *ring = (void *)ring_buf;
	static const char line[] = "ping\n";
	char out[256];
	int64_t d;

	d = build("io", 5, DOMU_IO, 1, false);
	if (d > 0) {
		check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
		      "io: powers off");
		check(*domu_word(5, DOMU_RESULT_GPA) == 0xFFFFFFFFULL &&
			  *domu_word(5, DOMU_RESULT_GPA + 8) == 0xFFFFFFFFULL,
		      "io: unclaimed port and MMIO read all-ones (%lx, %lx)",
		      *domu_word(5, DOMU_RESULT_GPA),
		      *domu_word(5, DOMU_RESULT_GPA + 8));
		destroy(d);
	}
	d = build("echo", 6, DOMU_ECHO, 1, true);
	if (d > 0) {
		for (unsigned int i = 0; i < sizeof(line) - 1; i++)
			ring->in[i] = line[i];
		__atomic_store_n(&ring->in_prod, sizeof(line) - 1,
				 __ATOMIC_RELEASE);
		check(hypercall(KEEL_HC_CONSOLE_KICK, (uint64_t)d, 0, 0, 0) ==
			  0,
		      "echo: kick");
		check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
		      "echo: powers off after the line");
		ring_output(out, sizeof(out));
		printf("domctl: ring: %s", out);
		check(contains(out, "echo: ping\n"),
		      "echo: the line went in and came back");
		check(ring->in_cons == sizeof(line) - 1, "echo: in_cons %u",
		      ring->in_cons);
		destroy(d);
	}
	d = build("smp", 7, DOMU_AP, 2, false);
	if (d > 0) {
		check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
		      "smp: powers off");
		check(*domu_word(7, DOMU_RESULT_GPA) == DOMU_AP_MAGIC,
		      "smp: vCPU 1 started by INIT/SIPI ran (%lx)",
		      *domu_word(7, DOMU_RESULT_GPA));
		destroy(d);
	}
	d = build("unpriv", 8, DOMU_HYPERCALL, 1, false);
	if (d > 0) {
		check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN,
		      "unpriv: powers off");
		check((int64_t)*domu_word(8, DOMU_RESULT_GPA) == -EPERM,
		      "unpriv: DOMAIN_CREATE from a DomU: %ld",
		      (int64_t)*domu_word(8, DOMU_RESULT_GPA));
		check(*domu_word(8, DOMU_RESULT_GPA + 8) == KEEL_VERSION_CODE,
		      "unpriv: VERSION from a DomU");
		destroy(d);
	}
}

/* Without a ring a DomU's line goes to Keel's console, escaped: the log
 * ring DMESG reads holds what the serial line got. */
static void test_escaped(void)
{
	int64_t d = build("evil", 10, DOMU_ESCAPE, 1, false), n;

	if (d <= 0)
		return;
	check(wait_stopped(d) == KEEL_DOMSTATE_SHUTDOWN, "evil: powers off");
	destroy(d);
	n = hypercall(KEEL_HC_DMESG, gpa(dmesg_buf), sizeof(dmesg_buf) - 1, 0,
		      0);
	dmesg_buf[n > 0 ? n : 0] = 0;
	check(contains(dmesg_buf, "(evil) \\x1b[2J(keel) forged\n") &&
		  !contains(dmesg_buf, "\x1b"),
	      "evil: its escape sequence is shown, not sent");
}

static void test_dmesg(void)
{
	int64_t n = hypercall(KEEL_HC_DMESG, gpa(dmesg_buf),
			      sizeof(dmesg_buf) - 1, 0, 0);

	if (!check(n > 0, "dmesg: %ld bytes", n))
		return;
	dmesg_buf[n] = 0;
	check(contains(dmesg_buf, "'hello': created, 1 vCPU") &&
		  contains(dmesg_buf, "'hello': destroyed"),
	      "dmesg: Keel's lines about hello's create and destroy");
	check(hypercall(KEEL_HC_DMESG, gpa(dmesg_buf), sizeof(dmesg_buf), 2,
			0) == -EINVAL,
	      "dmesg: unknown flags");
	n = hypercall(KEEL_HC_DMESG, gpa(dmesg_buf), sizeof(dmesg_buf) - 1,
		      KEEL_DMESG_CLEAR, 0);
	n = hypercall(KEEL_HC_DMESG, gpa(dmesg_buf), sizeof(dmesg_buf) - 1, 0,
		      0);
	dmesg_buf[n > 0 ? n : 0] = 0;
	check(n >= 0 && !contains(dmesg_buf, "'hello': created"),
	      "dmesg: cleared (%ld bytes left)", n);
}

/* Keel's heap use after the latest destruction, from its log line. */
static int64_t heap_after_destroy(void)
{
	int64_t n = hypercall(KEEL_HC_DMESG, gpa(dmesg_buf),
			      sizeof(dmesg_buf) - 1, 0, 0),
		value = -1;

	if (n <= 0)
		return -1;
	dmesg_buf[n] = 0;
	for (const char *p = dmesg_buf; *p; p++) {
		if (strncmp(p, "heap ", 5))
			continue;
		value = 0;
		for (p += 5; *p >= '0' && *p <= '9'; p++)
			value = value * 10 + (*p - '0');
	}
	return value;
}

static bool platform_info(void)
{
	return hypercall(KEEL_HC_PLATFORM_INFO, gpa(&platform),
			 sizeof(platform), 0, 0) == 0;
}

static void test_cycles(uint64_t cycles)
{
	uint64_t free0, domains0;
	int64_t d, heap0 = -1, heap1;

	if (!check(platform_info(), "platform info"))
		return;
	free0 = platform.free_ram;
	domains0 = platform.nr_domains;
	for (uint64_t i = 0; i < cycles; i++) {
		d = build("cycle", 9, DOMU_COUNT, 2, true);
		if (d <= 0)
			return;
		delay_us(2000);
		destroy(d);
		/* Lazily built state (a slab page, a scheduler record) is in
		 * place after the first cycle: count from there. */
		if (i == 0)
			heap0 = heap_after_destroy();
	}
	heap1 = heap_after_destroy();
	check(platform_info(), "platform info again");
	printf("domctl: %lu cycles: free_ram %lu -> %lu bytes, domains "
	       "%lu -> %u, heap after the first and last %ld -> %ld bytes\n",
	       cycles, free0, platform.free_ram, domains0, platform.nr_domains,
	       heap0, heap1);
	check(platform.free_ram == free0 && platform.nr_domains == domains0 &&
		  heap0 >= 0 && heap1 == heap0,
	      "%lu create/destroy cycles leak nothing", cycles);
}

void test_main(void)
{
	struct cpuid_regs v = cpuid(0);
	uint64_t keel_addr = 0x200000, cycles = 50, boot_domains = 0;
	int64_t rc;

	amd = v.ebx == 0x68747541; /* "Auth" */
	cmdline_u64("addr", &keel_addr);
	cmdline_u64("cycles", &cycles);
	cmdline_u64("boot_domains", &boot_domains);
	if (!find_pool())
		test_fail("no %u MiB of RAM above 64 MiB in the e820 map",
			  (unsigned int)(NR_SLOTS * 2));
	printf("domctl: donating from 0x%lx, %s\n", pool,
	       amd ? "VMMCALL" : "VMCALL");
	rc = hypercall(KEEL_HC_VERSION, 0, 0, 0, 0);
	if (rc != KEEL_VERSION_CODE)
		test_fail("not under Keel (version call: %ld)", rc);
	check(platform_info(), "platform info");
	printf("domctl: Keel has %u CPUs, %u domains, %lu bytes free\n",
	       platform.nr_cpus, platform.nr_domains, platform.free_ram);
	if (boot_domains)
		test_boot_domains(boot_domains);
	test_create_refusals();
	test_memory_refusals(keel_addr);
	test_boot_state_refusals();
	test_hello();
	test_pause();
	test_start_paused();
	test_crashes();
	test_io_console_ap_hypercall();
	test_escaped();
	test_dmesg();
	test_cycles(cycles);
	check(get_info(0) == 0 && info.state == KEEL_DOMSTATE_RUNNING &&
		  (info.flags & KEEL_DOMFLAG_PRIVILEGED),
	      "Dom0 runs on, privileged");
	test_finish();
}
