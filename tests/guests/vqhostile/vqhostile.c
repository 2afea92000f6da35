/* SPDX-License-Identifier: MIT */
/*
 * vqhostile: a malicious virtio-blk driver. Created with kl as a DomU
 * with one disk, it finds the virtio-mmio window at 0xD0000000 (magic
 * "virt", version 2, device 2: block) and, one case after another, sets
 * the device up and breaks the virtqueue rules: descriptor loops,
 * buffers and rings outside its RAM, an available index far past the
 * queue size, chains longer than the queue, zero-length and 4 GiB
 * descriptors, indirect descriptor misuse. After each notification the
 * device must mark itself broken (DEVICE_NEEDS_RESET in Status) or
 * answer the request with an error: no used-ring entry may claim
 * success. Between cases the guest resets the device (Status 0 reads
 * back 0), and after each case a valid read of sector 0 must return the
 * pattern the test put there ("KEEL-VQ-PATTERN", `pattern=` changes
 * it). Interrupts are not used: the guest polls the used ring and
 * Status. One line per case, then the result line.
 */
#include "guest.h"

const char test_name[] = "vqhostile";

#define KEEL_CPUID_TIMING 0x40000010
#define MMIO_BASE	  0xD0000000UL

/* virtio-mmio registers (virtio 1.2 section 4.2.2). */
#define R_MAGIC		   0x000
#define R_VERSION	   0x004
#define R_DEVICE_ID	   0x008
#define R_DEV_FEATURES	   0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES	   0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL	   0x030
#define R_QUEUE_NUM_MAX	   0x034
#define R_QUEUE_NUM	   0x038
#define R_QUEUE_READY	   0x044
#define R_QUEUE_NOTIFY	   0x050
#define R_INT_STATUS	   0x060
#define R_INT_ACK	   0x064
#define R_STATUS	   0x070
#define R_QUEUE_DESC	   0x080
#define R_QUEUE_AVAIL	   0x090
#define R_QUEUE_USED	   0x0a0

#define S_ACKNOWLEDGE 1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define F_INDIRECT_DESC 28
#define F_VERSION_1	32

#define D_NEXT	   1
#define D_WRITE	   2
#define D_INDIRECT 4

#define T_IN  0
#define T_OUT 1

#define QSZ	     8
#define INDIRECT_MAX 1100
#define WAIT_US	     5000000
#define OUTSIDE_HIGH 0xFFFFF00000000000ULL
#define OUTSIDE_HOLE 0xFEC00000ULL
#define HUGE_LEN     0xFFFFFFFFu
#define GUEST_MIB    16 /* the image's own 16 MiB at 16 MiB: RAM */
#define SIXTEEN_MIB  0x1000000ULL

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct {
	struct desc desc[QSZ] __attribute__((aligned(4096)));
	struct {
		uint16_t flags, idx, ring[QSZ], used_event;
	} avail __attribute__((aligned(64)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[QSZ];
		uint16_t avail_event;
	} used __attribute__((aligned(64)));
} vq __attribute__((aligned(4096)));

static struct desc itable[INDIRECT_MAX] __attribute__((aligned(16)));
static struct desc itable2[4] __attribute__((aligned(16)));
static struct blk_hdr hdr;
static uint8_t data[512] __attribute__((aligned(512)));
static volatile uint8_t status_byte;
static uint16_t avail_idx, used_seen;
static bool indirect;
static const char *pattern = "KEEL-VQ-PATTERN";
static size_t pattern_len = 15;

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(MMIO_BASE + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(MMIO_BASE + off) = v;
}

static void wr64(uint32_t off, uint64_t v)
{
	wr(off, (uint32_t)v);
	wr(off + 4, (uint32_t)(v >> 32));
}

static uint64_t gpa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map */
}

static void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static uint16_t used_idx(void)
{
	return *(volatile uint16_t *)&vq.used.idx;
}

/* Status 0, and it must read back 0. */
static bool reset_device(void)
{
	wr(R_STATUS, 0);
	return rd(R_STATUS) == 0;
}

/* Where the rings go (the guest's own memory unless a case says). */
struct rings {
	uint64_t desc, avail, used;
};

/*
 * Resets the device and brings it to DRIVER_OK with queue 0 of QSZ
 * entries at r. Returns Status after QueueReady and DRIVER_OK (a ring
 * outside RAM must show NEEDS_RESET here), or 0 with *err set.
 */
static uint32_t setup(const struct rings *r, const char **err)
{
	uint64_t offered, wanted = 1ULL << F_VERSION_1;
	uint32_t st;

	*err = NULL;
	memset(&vq, 0, sizeof(vq));
	avail_idx = used_seen = 0;
	if (!reset_device()) {
		*err = "Status does not read 0 after a reset";
		return 0;
	}
	wr(R_STATUS, S_ACKNOWLEDGE);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(R_DEV_FEATURES_SEL, 0);
	offered = rd(R_DEV_FEATURES);
	wr(R_DEV_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(R_DEV_FEATURES) << 32;
	if (!(offered & wanted)) {
		*err = "VERSION_1 not offered";
		return 0;
	}
	indirect = offered & (1ULL << F_INDIRECT_DESC);
	if (indirect)
		wanted |= 1ULL << F_INDIRECT_DESC;
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, (uint32_t)wanted);
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, (uint32_t)(wanted >> 32));
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK)) {
		*err = "FEATURES_OK refused";
		return 0;
	}
	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_NUM_MAX) < QSZ) {
		*err = "QueueNumMax below 8";
		return 0;
	}
	wr(R_QUEUE_NUM, QSZ);
	wr64(R_QUEUE_DESC, r->desc);
	wr64(R_QUEUE_AVAIL, r->avail);
	wr64(R_QUEUE_USED, r->used);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(R_STATUS);
	if (!st)
		*err = "Status reads 0 after DRIVER_OK";
	return st;
}

static struct rings own_rings(void)
{
	return (struct rings){gpa(vq.desc), gpa(&vq.avail), gpa(&vq.used)};
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	vq.desc[i] = (struct desc){addr, len, flags, next};
}

static void put_hdr(uint32_t type)
{
	hdr = (struct blk_hdr){type, 0, 0};
	status_byte = 0xEE;
}

static void submit(uint16_t head)
{
	vq.avail.ring[avail_idx % QSZ] = head;
	mb();
	avail_idx++;
	*(volatile uint16_t *)&vq.avail.idx = avail_idx;
	mb();
	wr(R_QUEUE_NOTIFY, 0);
}

enum outcome { BROKEN, REFUSED, SUCCEEDED, NOTHING };

static const char *const outcome_name[] = {
    "device marked broken (NEEDS_RESET)",
    "request refused with an error status",
    "request claimed success",
    "no answer",
};

/* Waits for the device to break or to put the request in the used ring. */
static enum outcome wait_outcome(void)
{
	uint64_t deadline = rdtsc() + us_to_tsc(WAIT_US);

	for (;;) {
		if (rd(R_STATUS) & S_NEEDS_RESET)
			return BROKEN;
		if (used_idx() != used_seen) {
			used_seen = used_idx();
			mb();
			return status_byte == 0 ? SUCCEEDED : REFUSED;
		}
		if (rdtsc() > deadline)
			return NOTHING;
		delay_us(1000);
	}
}

/* A valid read of sector 0 into data: true if it returns the pattern. */
static bool valid_read(const char **err)
{
	enum outcome o;

	put_hdr(T_IN);
	memset(data, 0, sizeof(data));
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 1, D_WRITE, 0);
	submit(0);
	o = wait_outcome();
	if (o != SUCCEEDED) {
		*err = outcome_name[o];
		return false;
	}
	if (vq.used.ring[0].id != 0) {
		*err = "used entry names another head";
		return false;
	}
	if (memcmp(data, pattern, pattern_len)) {
		*err = "sector 0 does not hold the pattern";
		return false;
	}
	return true;
}

/* ---- the cases: each fills the ring and notifies (or not) ---------- */

static void c_loop(void)
{
	/* 0 -> 1 -> 2 -> 0, all readable: only the loop is wrong. */
	put_hdr(T_OUT);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), D_NEXT, 2);
	set_desc(2, gpa(data), sizeof(data), D_NEXT, 0);
	submit(0);
}

static void c_self_loop(void)
{
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 0);
	submit(0);
}

static void read_into(uint64_t addr, uint32_t len)
{
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, addr, len, D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 1, D_WRITE, 0);
	submit(0);
}

static void c_addr_high(void)
{
	read_into(OUTSIDE_HIGH, 512);
}

static void c_addr_hole(void)
{
	read_into(OUTSIDE_HOLE, 512);
}

static void c_addr_mmio_window(void)
{
	read_into(MMIO_BASE, 512);
}

static void c_addr_wraps(void)
{
	/* The end wraps around 2^64. */
	read_into(0xFFFFFFFFFFFFFE00ULL, 0x400);
}

static void c_addr_ram_end(void)
{
	/* Starts in RAM (the last 256 bytes below 4 GiB's hole... or of the
	 * guest's 32 MiB) and runs past it. */
	read_into(2 * SIXTEEN_MIB - 256, 512);
}

static void c_huge_len(void)
{
	read_into(gpa(data), HUGE_LEN);
}

static void c_avail_far(void)
{
	/* A valid chain at 0, but avail->idx far beyond the queue size. */
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 1, D_WRITE, 0);
	vq.avail.ring[0] = 0;
	mb();
	avail_idx = 0x8000;
	*(volatile uint16_t *)&vq.avail.idx = avail_idx;
	mb();
	wr(R_QUEUE_NOTIFY, 0);
}

static void c_head_past_table(void)
{
	put_hdr(T_IN);
	submit(QSZ + 100);
}

static void c_chain_past_queue(void)
{
	/* Every descriptor chained, the last to index QSZ: a chain longer
	 * than the queue. */
	put_hdr(T_OUT);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	for (unsigned i = 1; i < QSZ; i++)
		set_desc(i, gpa(data), sizeof(data), D_NEXT, (uint16_t)(i + 1));
	submit(0);
}

static void c_zero_len_only(void)
{
	/* The whole chain is one zero-length descriptor. */
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), 0, 0, 0);
	submit(0);
}

static void c_zero_len_all(void)
{
	/* Three descriptors, every one of zero length. */
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), 0, D_NEXT, 1);
	set_desc(1, gpa(data), 0, D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 0, D_WRITE, 0);
	submit(0);
}

static void c_zero_len_header(void)
{
	/* No header bytes: only a data buffer and the status byte. */
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), 0, D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 1, D_WRITE, 0);
	submit(0);
}

static void c_no_status(void)
{
	/* Only readable buffers: nowhere to put the status. */
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), 0, 0);
	submit(0);
}

static void c_read_after_write(void)
{
	put_hdr(T_IN);
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(&status_byte), 1, D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(data), sizeof(data), 0, 0);
	submit(0);
}

static void c_beyond_disk(void)
{
	/* A valid chain reading far past the end of the disk. */
	put_hdr(T_IN);
	hdr.sector = 0xFFFFFFFFFFFFFFF0ULL;
	set_desc(0, gpa(&hdr), sizeof(hdr), D_NEXT, 1);
	set_desc(1, gpa(data), sizeof(data), D_NEXT | D_WRITE, 2);
	set_desc(2, gpa(&status_byte), 1, D_WRITE, 0);
	submit(0);
}

static void indirect_head(uint64_t table, uint32_t len, uint16_t flags)
{
	set_desc(0, table, len, (uint16_t)(D_INDIRECT | flags), 1);
	set_desc(1, gpa(&status_byte), 1, D_WRITE, 0);
	submit(0);
}

/* A valid indirect read request in itable[0..2]. */
static void itable_read(void)
{
	put_hdr(T_IN);
	itable[0] = (struct desc){gpa(&hdr), sizeof(hdr), D_NEXT, 1};
	itable[1] = (struct desc){gpa(data), sizeof(data), D_NEXT | D_WRITE, 2};
	itable[2] = (struct desc){gpa(&status_byte), 1, D_WRITE, 0};
}

static void c_ind_with_next(void)
{
	itable_read();
	indirect_head(gpa(itable), 3 * sizeof(struct desc), D_NEXT);
}

static void c_ind_outside(void)
{
	itable_read();
	indirect_head(OUTSIDE_HIGH, 3 * sizeof(struct desc), 0);
}

static void c_ind_in_hole(void)
{
	itable_read();
	indirect_head(OUTSIDE_HOLE, 3 * sizeof(struct desc), 0);
}

static void c_ind_bad_len(void)
{
	itable_read();
	indirect_head(gpa(itable), 3 * sizeof(struct desc) - 5, 0);
}

static void c_ind_zero_len(void)
{
	itable_read();
	indirect_head(gpa(itable), 0, 0);
}

static void c_ind_too_many(void)
{
	/* 1025 entries: more than any chain may have. */
	itable_read();
	for (unsigned i = 2; i < 1025; i++)
		itable[i] = (struct desc){gpa(data), 1, D_NEXT | D_WRITE,
					  (uint16_t)(i + 1)};
	itable[1024].flags = D_WRITE;
	indirect_head(gpa(itable), 1025 * sizeof(struct desc), 0);
}

static void c_ind_nested(void)
{
	put_hdr(T_IN);
	itable2[0] = (struct desc){gpa(&hdr), sizeof(hdr), D_NEXT, 1};
	itable2[1] = (struct desc){gpa(&status_byte), 1, D_WRITE, 0};
	itable[0] =
	    (struct desc){gpa(itable2), 2 * sizeof(struct desc), D_INDIRECT, 0};
	set_desc(0, gpa(itable), sizeof(struct desc), D_INDIRECT, 0);
	submit(0);
}

static void c_ind_loop(void)
{
	itable_read();
	itable[2].flags = D_WRITE | D_NEXT;
	itable[2].next = 1;
	/* Readable-after-writable would also catch 2 -> 0; loop 2 -> 1. */
	indirect_head(gpa(itable), 3 * sizeof(struct desc), 0);
}

static void c_ind_next_past(void)
{
	itable_read();
	itable[2].flags = D_WRITE | D_NEXT;
	itable[2].next = 3;
	indirect_head(gpa(itable), 3 * sizeof(struct desc), 0);
}

static void c_over_4g(void)
{
	/* 257 readable buffers of 16 MiB (the guest's own upper 16 MiB of
	 * RAM, only read) in a write request: more than 4 GiB in one
	 * chain. */
	put_hdr(T_OUT);
	itable[0] = (struct desc){gpa(&hdr), sizeof(hdr), D_NEXT, 1};
	for (unsigned i = 1; i <= 257; i++)
		itable[i] = (struct desc){SIXTEEN_MIB, (uint32_t)SIXTEEN_MIB,
					  D_NEXT, (uint16_t)(i + 1)};
	itable[258] = (struct desc){gpa(&status_byte), 1, D_WRITE, 0};
	set_desc(0, gpa(itable), 259 * sizeof(struct desc), D_INDIRECT, 0);
	submit(0);
}

static void c_ind_unnegotiated(void)
{
	/* Only run when INDIRECT_DESC is not offered: the flag alone is
	 * misuse then. */
	itable_read();
	indirect_head(gpa(itable), 3 * sizeof(struct desc), 0);
}

struct ring_case {
	const char *name;
	void (*run)(void);
	bool needs_indirect, without_indirect;
};

static const struct ring_case cases[] = {
    {"descriptor loop 0->1->2->0", c_loop, false, false},
    {"descriptor pointing at itself", c_self_loop, false, false},
    {"buffer at 0xFFFFF00000000000", c_addr_high, false, false},
    {"buffer in the MMIO hole (IOAPIC page)", c_addr_hole, false, false},
    {"buffer on the device's own window", c_addr_mmio_window, false, false},
    {"buffer wrapping around 2^64", c_addr_wraps, false, false},
    {"buffer running past the end of RAM", c_addr_ram_end, false, false},
    {"4 GiB - 1 buffer length", c_huge_len, false, false},
    {"avail idx 0x8000 with a queue of 8", c_avail_far, false, false},
    {"head index past the table", c_head_past_table, false, false},
    {"chain longer than the queue", c_chain_past_queue, false, false},
    {"chain of one zero-length descriptor", c_zero_len_only, false, false},
    {"chain of zero-length descriptors only", c_zero_len_all, false, false},
    {"zero-length header", c_zero_len_header, false, false},
    {"no writable status byte", c_no_status, false, false},
    {"readable buffer after a writable one", c_read_after_write, false, false},
    {"read far past the end of the disk", c_beyond_disk, false, false},
    {"indirect with NEXT", c_ind_with_next, true, false},
    {"indirect table at 0xFFFFF00000000000", c_ind_outside, true, false},
    {"indirect table in the MMIO hole", c_ind_in_hole, true, false},
    {"indirect table length not a multiple of 16", c_ind_bad_len, true, false},
    {"indirect table of length 0", c_ind_zero_len, true, false},
    {"indirect table of 1025 entries", c_ind_too_many, true, false},
    {"indirect inside an indirect table", c_ind_nested, true, false},
    {"loop inside an indirect table", c_ind_loop, true, false},
    {"next past the indirect table", c_ind_next_past, true, false},
    {"chain over 4 GiB (257 x 16 MiB)", c_over_4g, true, false},
    {"indirect flag not negotiated", c_ind_unnegotiated, false, true},
};

/* Rings the device must refuse at QueueReady. */
static const struct {
	const char *name;
	struct rings r;
} ring_cases[] = {
    {"descriptor table in the MMIO hole (0xD0000000)", {MMIO_BASE, 0, 0}},
    {"available ring at 0xFFFFF00000000000", {0, OUTSIDE_HIGH, 0}},
    {"used ring in the MMIO hole (0xFEC00000)", {0, 0, OUTSIDE_HOLE}},
    {"used ring running past the end of RAM", {0, 0, 2 * SIXTEEN_MIB - 16}},
};

static bool recover(const char *what)
{
	const char *err = NULL;
	struct rings r = own_rings();
	uint32_t st = setup(&r, &err);

	if (!err && (st & S_NEEDS_RESET))
		err = "NEEDS_RESET still set after a reset";
	if (!err)
		valid_read(&err);
	return check(!err, "%s: a reset device serves a valid read%s%s", what,
		     err ? ": " : "", err ? err : "");
}

void test_main(void)
{
	const char *err = NULL, *value;
	size_t len;
	unsigned nr = 0;
	struct rings own;

	if (!platform_tsc_khz())
		test_fail("no TSC frequency");
	if (cmdline_find("pattern", &value, &len) && len) {
		pattern = value;
		pattern_len = len;
	}
	if (rd(R_MAGIC) != 0x74726976u || rd(R_VERSION) != 2 ||
	    rd(R_DEVICE_ID) != 2)
		test_fail("no virtio-mmio block device at 0x%lx: magic 0x%x "
			  "version %u device %u",
			  MMIO_BASE, rd(R_MAGIC), rd(R_VERSION),
			  rd(R_DEVICE_ID));
	printf("vqhostile: virtio-blk at 0x%lx\n", MMIO_BASE);
	own = own_rings();
	setup(&own, &err);
	if (err)
		test_fail("setup: %s", err);
	if (!valid_read(&err))
		test_fail("first valid read: %s", err);
	printf("vqhostile: sector 0 holds the pattern; INDIRECT_DESC %s\n",
	       indirect ? "offered" : "not offered");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ring_case *c = &cases[i];
		enum outcome o;

		if ((c->needs_indirect && !indirect) ||
		    (c->without_indirect && indirect))
			continue;
		setup(&own, &err);
		if (err)
			test_fail("%s: setup: %s", c->name, err);
		c->run();
		o = wait_outcome();
		check(o == BROKEN || o == REFUSED, "case %s: %s", c->name,
		      outcome_name[o]);
		if (o == BROKEN)
			check(used_idx() == 0,
			      "case %s: no used-ring entry from the broken "
			      "device",
			      c->name);
		recover(c->name);
		nr++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ring_cases); i++) {
		struct rings r = own;
		uint32_t st;

		if (ring_cases[i].r.desc)
			r.desc = ring_cases[i].r.desc;
		if (ring_cases[i].r.avail)
			r.avail = ring_cases[i].r.avail;
		if (ring_cases[i].r.used)
			r.used = ring_cases[i].r.used;
		st = setup(&r, &err);
		if (err)
			test_fail("%s: setup: %s", ring_cases[i].name, err);
		check(st & S_NEEDS_RESET,
		      "case %s: Status 0x%x after DRIVER_OK",
		      ring_cases[i].name, st);
		wr(R_QUEUE_NOTIFY, 0);
		check(rd(R_STATUS) & S_NEEDS_RESET,
		      "case %s: still broken after a notify",
		      ring_cases[i].name);
		recover(ring_cases[i].name);
		nr++;
	}
	wr(R_INT_ACK, rd(R_INT_STATUS));
	printf("vqhostile: %u cases\n", nr);
	test_finish();
}
