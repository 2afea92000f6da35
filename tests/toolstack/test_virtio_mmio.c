/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport and split virtqueues (toolstack/virtio/
 * mmio.c, virtqueue.c, guest_mem.c), driven as Linux's virtio_mmio
 * driver does, with a virtio-blk device on a temporary file behind them:
 * registers, feature negotiation, queue setup, interrupts, reset, and
 * every way a hostile driver can break a virtqueue (the device must then
 * report DEVICE_NEEDS_RESET, touch nothing outside guest RAM and put
 * nothing in the used ring).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#include "virtio/virtio_dev.h" /* VIRTQ_MAX_CHAIN */
#include "virtio_blk_req.h"

#define SECTORS	 128
#define ALL_FEAT ~0ULL

struct fixture {
	char path[64];
	struct vd d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_blk_params p = {.serial = "keel-test"};
	char err[256];
	int fd;

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/kl-virtio-mmio-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0 || ftruncate(fd, SECTORS * 512) || close(fd))
		return -1;
	if (vd_mem_init(&f->d))
		return -1;
	p.path = f->path;
	if (virtio_blk_create(&f->d.mem, &p, &f->d.dev, err, sizeof(err))) {
		print_message("virtio_blk_create: %s\n", err);
		return -1;
	}
	vd_attach(&f->d, f->d.dev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vd_free(&f->d);
	unlink(f->path);
	free(f);
	return 0;
}

static void test_registers(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	uint64_t v;

	assert_int_equal(vd_rd(d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_true(vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) &
		    1u << (VIRTIO_F_VERSION_1 - 32));
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_QUEUE_MAX);
	/* virtio-blk has one queue: the next one does not exist. */
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* No shared memory regions: their length reads all ones. */
	vd_wr(d, VIRTIO_MMIO_SHM_SEL, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* Registers take aligned 32-bit accesses only. */
	assert_int_equal(virtio_mmio_read(d->dev, 0, 2, &v), -EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(virtio_mmio_read(d->dev, 2, 4, &v), -EINVAL);
	assert_int_equal(virtio_mmio_write(d->dev, VIRTIO_MMIO_STATUS, 1, 1),
			 -EINVAL);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	/* Config space: capacity (a 64-bit field, read in two halves or
	 * whole), any size inside, nothing past its end. */
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_CONFIG), SECTORS);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(virtio_mmio_read(d->dev, VIRTIO_MMIO_CONFIG, 8, &v),
			 0);
	assert_int_equal(v, SECTORS);
	assert_int_equal(virtio_mmio_read(d->dev, VIRTIO_MMIO_CONFIG, 1, &v),
			 0);
	assert_int_equal(v, SECTORS);
	assert_int_equal(
	    virtio_mmio_read(d->dev, VIRTIO_MMIO_WINDOW - 4, 4, &v), -EINVAL);
	assert_int_equal(virtio_mmio_read(d->dev, ~0ULL - 1, 4, &v), -EINVAL);
	assert_int_equal(virtio_mmio_read(d->dev, VIRTIO_MMIO_CONFIG, 3, &v),
			 -EINVAL);
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	uint32_t s;

	/* A legacy driver (no VERSION_1) does not get FEATURES_OK. */
	s = vd_negotiate(d, ALL_FEAT & ~(1ULL << VIRTIO_F_VERSION_1));
	assert_false(s & VIRTIO_CONFIG_S_FEATURES_OK);
	/* Nor does one asking for what was not offered. */
	vd_negotiate(d, ALL_FEAT);
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1 | 1u << 2);
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(vd_rd(d, VIRTIO_MMIO_STATUS) &
		     VIRTIO_CONFIG_S_FEATURES_OK);
	/* A modern one does, and can change nothing afterwards. */
	s = vd_negotiate(d, ALL_FEAT);
	assert_true(s & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(d->features & 1ULL << VIRTIO_F_VERSION_1);
	assert_true(d->features & 1ULL << VIRTIO_BLK_F_FLUSH);
	assert_false(d->features & 1ULL << VIRTIO_BLK_F_RO);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS),
			 s | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_null(virtio_mmio_broken(d->dev));
	/* DRIVER_OK without FEATURES_OK is a broken driver. */
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		  VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* One read request end to end, with the interrupt. */
static void test_request_and_interrupt(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	struct vd_blk_req r;
	uint32_t id, len;

	vd_setup(d, ALL_FEAT & ~(1ULL << VIRTIO_RING_F_EVENT_IDX), 1);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS) & 0xf, 0xf);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
	r = vd_blk_submit(d, VIRTIO_BLK_T_IN, 3, 1024, 0, false);
	assert_int_equal(d->irq_level, 0);
	vd_kick(d, 0);
	assert_true(vd_get_used(d, 0, &id, &len));
	assert_int_equal(id, r.head);
	assert_int_equal(len, 1025);
	assert_int_equal(vd_blk_status(d, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(d->irq_level, 1);
	assert_int_equal(vd_ack(d), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(d->irq_level, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* The doorbell path does the same; a driver that suppresses
	 * interrupts gets none. */
	((struct vring_avail *)vd_host(d, d->q[0].avail))->flags =
	    VRING_AVAIL_F_NO_INTERRUPT;
	r = vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, true);
	virtio_mmio_notify(d->dev, 0);
	assert_true(vd_get_used(d, 0, &id, &len));
	assert_int_equal(id, r.head);
	assert_int_equal(d->irq_level, 0);
	/* Notifications for queues that do not exist are ignored. */
	virtio_mmio_notify(d->dev, 1);
	virtio_mmio_notify(d->dev, ~0u);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	assert_null(virtio_mmio_broken(d->dev));

	/* Reset lowers the line and forgets the queue. */
	((struct vring_avail *)vd_host(d, d->q[0].avail))->flags = 0;
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_int_equal(d->irq_level, 1);
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(d->irq_level, 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vd_canary_intact(d));
}

/* Nothing is served before DRIVER_OK; DRIVER_OK serves what waits. */
static void test_driver_ok_starts(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	uint32_t id, len;

	vd_negotiate(d, ALL_FEAT);
	vd_queue(d, 0);
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_false(vd_get_used(d, 0, &id, &len));
	vd_driver_ok(d);
	assert_true(vd_get_used(d, 0, &id, &len));
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	struct vring_avail *a;
	struct vring_used *u;
	uint16_t *used_event, *avail_event;
	uint32_t id, len;

	vd_setup(d, ALL_FEAT, 1);
	assert_true(d->features & 1ULL << VIRTIO_RING_F_EVENT_IDX);
	a = vd_host(d, d->q[0].avail);
	u = vd_host(d, d->q[0].used);
	used_event = &a->ring[VD_QNUM];
	avail_event = (uint16_t *)&u->ring[VD_QNUM];

	/* used_event 1: no interrupt for the first used entry, one for
	 * the second. */
	*used_event = 1;
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_true(vd_get_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raised, 0);
	/* The device asks to be kicked at the next buffer. */
	assert_int_equal(*avail_event, 1);
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_true(vd_get_used(d, 0, &id, &len));
	assert_int_equal(d->irq_raised, 1);
	assert_int_equal(*avail_event, 2);
}

/* Queue setups a device must refuse. */
static void expect_broken(struct vd *d, const char *why)
{
	const char *got = virtio_mmio_broken(d->dev);

	if (!got || strcmp(got, why))
		fail_msg("broken: \"%s\", want \"%s\"", got ? got : "(no)",
			 why);
	assert_true(vd_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_true(vd_canary_intact(d));
}

static void test_bad_queue_setup(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	static const struct {
		uint16_t num;
		uint64_t desc, avail, used;
		const char *why;
	} bad[] = {
	    {12, 0x10000, 0x11000, 0x12000,
	     "queue size is not a power of 2 up to QueueNumMax"},
	    {0, 0x10000, 0x11000, 0x12000,
	     "queue size is not a power of 2 up to QueueNumMax"},
	    {512, 0x10000, 0x11000, 0x12000,
	     "queue size is not a power of 2 up to QueueNumMax"},
	    {16, 0x10008, 0x11000, 0x12000, "misaligned ring"},
	    {16, 0x10000, 0x11001, 0x12000, "misaligned ring"},
	    {16, 0x10000, 0x11000, 0x12002, "misaligned ring"},
	    /* Just past the low region; straddling its end; in the hole;
	     * wrapping around. */
	    {16, VD_REGION, 0x11000, 0x12000, "ring outside guest RAM"},
	    {16, VD_REGION - 0x80, 0x11000, 0x12000, "ring outside guest RAM"},
	    {16, 0x10000, 0x11000, VD_HIGH_GPA + VD_REGION - 0x40,
	     "ring outside guest RAM"},
	    {16, 0x10000, 0x80000000, 0x12000, "ring outside guest RAM"},
	    {16, 0x10000, 0x11000, ~0ULL - 0x3f, "ring outside guest RAM"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vd_negotiate(d, ALL_FEAT);
		vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
		vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, bad[i].num);
		vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)bad[i].desc);
		vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH,
		      (uint32_t)(bad[i].desc >> 32));
		vd_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)bad[i].avail);
		vd_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
		      (uint32_t)(bad[i].avail >> 32));
		vd_wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)bad[i].used);
		vd_wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH,
		      (uint32_t)(bad[i].used >> 32));
		vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(vd_rd(d, VIRTIO_MMIO_QUEUE_READY), 0);
		expect_broken(d, bad[i].why);
	}
	/* Enabling a queue before FEATURES_OK. */
	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, 16);
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	expect_broken(d, "queue enabled before FEATURES_OK");
	/* A ready queue's registers cannot be changed. */
	vd_setup(d, ALL_FEAT, 1);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x999000);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, 2);
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_true(vd_wait_used(d, 0, 1, 0));
	assert_null(virtio_mmio_broken(d->dev));
}

/*
 * A malformed chain: the device breaks with why, raises the config
 * interrupt, uses nothing, and stays dead until reset; after a reset it
 * works again.
 */
static void expect_chain_breaks(struct vd *d, const char *why)
{
	uint32_t id, len;
	uint16_t used = vd_used_idx(d, 0);

	vd_kick(d, 0);
	expect_broken(d, why);
	assert_int_equal(vd_used_idx(d, 0), used);
	assert_false(vd_get_used(d, 0, &id, &len));
	assert_int_equal(d->irq_level, 1);
	assert_true(vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) &
		    VIRTIO_MMIO_INT_CONFIG);
	/* Dead: a good request now is ignored. */
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_int_equal(vd_used_idx(d, 0), used);
	/* Until a reset. */
	vd_setup(d, ALL_FEAT, 1);
	assert_null(virtio_mmio_broken(d->dev));
	assert_int_equal(d->irq_level, 0);
	vd_blk_submit(d, VIRTIO_BLK_T_IN, 0, 512, 0, false);
	vd_kick(d, 0);
	assert_int_equal(vd_used_idx(d, 0), 1);
	d->irq_raised = 0;
	vd_setup(d, ALL_FEAT, 1);
}

/* Header, 512 bytes, status at ordinary places. */
#define HDR  0x40000
#define DATA 0x41000
#define STAT 0x42000

static void hdr_in(struct vd *d, uint64_t sector)
{
	struct virtio_blk_outhdr *h = vd_host(d, HDR);

	h->type = VIRTIO_BLK_T_IN;
	h->sector = sector;
}

static void test_malformed_direct(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	struct vring_avail *a;

	vd_setup(d, ALL_FEAT, 1);
	hdr_in(d, 0);
	a = vd_host(d, d->q[0].avail);

	/* Head index past the ring. */
	vd_publish(d, 0, VD_QNUM);
	expect_chain_breaks(d, "descriptor index past the table");

	/* next past the ring. */
	vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, VD_QNUM + 3);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor index past the table");

	/* A loop of one, and a longer one. */
	vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor chain loops");
	vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(d, 0, 1, DATA, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		    2);
	vd_set_desc(d, 0, 2, STAT, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		    1);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor chain loops");

	/* Buffers outside guest RAM: in the hole, straddling a region's
	 * end, wrapping around 2^64, past the high region. */
	static const uint64_t bad_addr[][2] = {
	    {VD_REGION, 16},	  {VD_REGION - 8, 16},
	    {~0ULL - 7, 16},	  {VD_HIGH_GPA + VD_REGION - 1, 2},
	    {VD_HIGH_GPA - 1, 2}, {0x1000, 0xFFFFFFFF},
	};
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
		vd_set_desc(d, 0, 1, bad_addr[i][0], (uint32_t)bad_addr[i][1],
			    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
		vd_set_desc(d, 0, 2, STAT, 1, VRING_DESC_F_WRITE, 0);
		vd_publish(d, 0, 0);
		expect_chain_breaks(d, "buffer outside guest RAM");
	}

	/* Readable after writable. */
	vd_set_desc(d, 0, 0, STAT, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    1);
	vd_set_desc(d, 0, 1, HDR, 16, 0, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "readable buffer after a writable one");

	/* Only zero-length descriptors, even with a wild address. */
	vd_set_desc(d, 0, 0, ~0ULL, 0, VRING_DESC_F_NEXT, 1);
	vd_set_desc(d, 0, 1, HDR, 0, VRING_DESC_F_WRITE, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "empty descriptor chain");

	/* No status byte: nothing writable. */
	vd_set_desc(d, 0, 0, HDR, 16, 0, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "block request without a status byte");

	/* The available index jumps by more than the queue size. */
	a->idx = VD_QNUM + 1;
	d->q[0].avail_idx = VD_QNUM + 1;
	expect_chain_breaks(d, "available index moved past the queue size");

	/* Indirect descriptors the driver did not negotiate. */
	vd_setup(d, ALL_FEAT & ~(1ULL << VIRTIO_RING_F_INDIRECT_DESC), 1);
	vd_set_desc(d, 0, 0, DATA, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "indirect descriptor not negotiated");
}

static void test_malformed_indirect(void **state)
{
	struct fixture *f = *state;
	struct vd *d = &f->d;
	const uint64_t table = 0x50000;
	struct vring_desc *t = vd_host(d, table);

	vd_setup(d, ALL_FEAT, 1);
	hdr_in(d, 0);
	t[0] = (struct vring_desc){HDR, 16, VRING_DESC_F_NEXT, 1};
	t[1] = (struct vring_desc){STAT, 1, VRING_DESC_F_WRITE, 0};

	/* Lengths that are no table. */
	vd_set_desc(d, 0, 0, table, 0, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "bad indirect table length");
	vd_set_desc(d, 0, 0, table, 24, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "bad indirect table length");
	vd_set_desc(d, 0, 0, table, 16 * (VIRTQ_MAX_CHAIN + 1),
		    VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "bad indirect table length");

	/* A table outside guest RAM, or straddling a region's end. */
	vd_set_desc(d, 0, 0, VD_REGION + 0x1000, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "indirect table outside guest RAM");
	vd_set_desc(d, 0, 0, VD_REGION - 16, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "indirect table outside guest RAM");

	/* INDIRECT with NEXT. */
	vd_set_desc(d, 0, 0, table, 32,
		    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "indirect descriptor with NEXT");

	/* An indirect descriptor inside the table. */
	t[1] = (struct vring_desc){table, 32, VRING_DESC_F_INDIRECT, 0};
	vd_set_desc(d, 0, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "indirect descriptor in an indirect table");

	/* A loop inside the table; next past its end. */
	t[1] = (struct vring_desc){STAT, 1,
				   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0};
	vd_set_desc(d, 0, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor chain loops");
	t[1] = (struct vring_desc){STAT, 1,
				   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2};
	vd_set_desc(d, 0, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor index past the table");

	/* Too many descriptors: a full table after a direct one. */
	t = vd_host(d, 0x60000);
	for (unsigned i = 0; i < VIRTQ_MAX_CHAIN; i++)
		t[i] = (struct vring_desc){
		    STAT, 1,
		    VRING_DESC_F_WRITE |
			(i + 1 < VIRTQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0),
		    (uint16_t)(i + 1)};
	vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(d, 0, 1, 0x60000, 16 * VIRTQ_MAX_CHAIN,
		    VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	expect_chain_breaks(d, "descriptor chain too long");
	/* One fewer is a valid, if silly, request. */
	vd_set_desc(d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(d, 0, 1, 0x60010, 16 * (VIRTQ_MAX_CHAIN - 1),
		    VRING_DESC_F_INDIRECT, 0);
	vd_publish(d, 0, 0);
	vd_kick(d, 0);
	assert_string_equal(virtio_mmio_broken(d->dev) ?: "-", "-");
	assert_true(vd_wait_used(d, 0, 1, 0));
	assert_true(vd_canary_intact(d));
}

/* A chain of more than 4 GiB, in a guest with that much (reserved,
 * never touched) memory. */
static void test_huge_chain(void **state)
{
	const uint64_t big = (4ULL << 30) + 0x10000;
	struct virtio_blk_params p = {0};
	struct fixture *f = *state;
	struct vd d;
	char err[256];
	void *huge = mmap(NULL, big, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (huge == MAP_FAILED)
		skip();
	assert_int_equal(vd_mem_init(&d), 0);
	assert_int_equal(virtio_mem_add(&d.mem, 8ULL << 30, big, huge), 0);
	p.path = f->path;
	assert_int_equal(
	    virtio_blk_create(&d.mem, &p, &d.dev, err, sizeof(err)), 0);
	vd_attach(&d, d.dev);
	vd_setup(&d, ALL_FEAT, 1);
	hdr_in(&d, 0);
	vd_set_desc(&d, 0, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vd_set_desc(&d, 0, 1, 8ULL << 30, 0xFFFFFFFF,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	vd_set_desc(&d, 0, 2, (8ULL << 30) + 0xFFFFFFFFULL, 2,
		    VRING_DESC_F_WRITE, 0);
	vd_publish(&d, 0, 0);
	vd_kick(&d, 0);
	assert_string_equal(virtio_mmio_broken(d.dev),
			    "descriptor chain longer than 4 GiB");
	assert_true(vd_canary_intact(&d));
	vd_free(&d);
	munmap(huge, big);
}

static void test_mem_regions(void **state)
{
	struct virtio_mem m = {0};
	static uint8_t buf[4096] __attribute__((aligned(16)));

	(void)state;
	assert_int_equal(virtio_mem_add(&m, 0x1000, 0x1000, buf), 0);
	/* Overlapping, empty, wrapping, misaligned. */
	assert_int_equal(virtio_mem_add(&m, 0x1800, 0x1000, buf), -EINVAL);
	assert_int_equal(virtio_mem_add(&m, 0x0, 0x1001, buf), -EINVAL);
	assert_int_equal(virtio_mem_add(&m, 0x3000, 0, buf), -EINVAL);
	assert_int_equal(virtio_mem_add(&m, ~0ULL - 0xf, 0x20, buf), -EINVAL);
	assert_int_equal(virtio_mem_add(&m, 0x3008, 0x10, buf), -EINVAL);
	assert_int_equal(virtio_mem_add(&m, 0x3000, 0x10, buf + 8), -EINVAL);
	assert_ptr_equal(virtio_mem_translate(&m, 0x1000, 0x1000), buf);
	assert_ptr_equal(virtio_mem_translate(&m, 0x1fff, 1), buf + 0xfff);
	assert_null(virtio_mem_translate(&m, 0x1fff, 2));
	assert_null(virtio_mem_translate(&m, 0xfff, 2));
	assert_null(virtio_mem_translate(&m, 0x1000, 0));
	assert_null(virtio_mem_translate(&m, 0x1001, ~0ULL));
	assert_null(virtio_mem_translate(&m, ~0ULL, 2));
	for (int i = 1; i < VIRTIO_MEM_MAX_REGIONS; i++)
		assert_int_equal(
		    virtio_mem_add(&m, 0x10000 * (uint64_t)(i + 1), 16, buf),
		    0);
	assert_int_equal(virtio_mem_add(&m, 0x1000000, 16, buf), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_and_interrupt, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_driver_ok_starts, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_queue_setup, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_direct, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_indirect, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_huge_chain, setup, teardown),
	    cmocka_unit_test(test_mem_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
