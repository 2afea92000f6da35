/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (toolstack/virtio/blk.c) against a real temporary file,
 * driven as Linux's virtio_blk does: reads and writes checked against
 * the file's bytes, flush, GET_ID, a read-only disk, requests outside the
 * capacity, and the worker pool with its eventfd and a reset while
 * requests are in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio_blk_req.h"

/* 100 sectors and a partial one that is out of reach. */
#define SECTORS	  100
#define FILE_SIZE (SECTORS * 512 + 300)

struct fixture {
	char path[64];
	int fd; /* the test's own view of the file */
	struct vd d;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9));
}

static struct fixture *make(bool readonly, unsigned workers, const char *serial)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtio_blk_params p = {
	    .readonly = readonly, .workers = workers, .serial = serial};
	uint8_t buf[FILE_SIZE];
	char err[256];

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/kl-virtio-blk-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(f->fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(vd_mem_init(&f->d), 0);
	p.path = f->path;
	if (virtio_blk_create(&f->d.mem, &p, &f->d.dev, err, sizeof(err)))
		fail_msg("virtio_blk_create: %s", err);
	vd_attach(&f->d, f->d.dev);
	vd_setup(&f->d, ~0ULL, 1);
	return f;
}

static void destroy(struct fixture *f)
{
	vd_free(&f->d);
	close(f->fd);
	unlink(f->path);
	free(f);
}

/* Runs what was kicked and expects one used entry for head. */
static void expect_done(struct fixture *f, uint16_t head, uint32_t used_len)
{
	uint32_t id, len;

	assert_true(vd_wait_used(&f->d, 0, 1, 5000));
	assert_true(vd_get_used(&f->d, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, used_len);
}

static void test_config(void **state)
{
	struct fixture *f = make(false, 0, NULL);
	uint64_t v;

	(void)state;
	assert_int_equal(virtio_mmio_read(f->d.dev, VIRTIO_MMIO_CONFIG, 8, &v),
			 0);
	assert_int_equal(v, SECTORS);
	assert_int_equal(
	    vd_rd(&f->d, VIRTIO_MMIO_CONFIG +
			     offsetof(struct virtio_blk_config, seg_max)),
	    VIRTIO_QUEUE_MAX - 2);
	assert_int_equal(
	    vd_rd(&f->d, VIRTIO_MMIO_CONFIG +
			     offsetof(struct virtio_blk_config, blk_size)),
	    512);
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_SEG_MAX);
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_BLK_SIZE);
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_FLUSH);
	assert_false(f->d.features & 1ULL << VIRTIO_BLK_F_RO);
	assert_true(f->d.features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	destroy(f);
}

static void check_read(struct fixture *f, bool indirect)
{
	struct vd_blk_req r;
	uint8_t *data;

	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_IN, 5, 3 * 512, 0, indirect);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 3 * 512 + 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	data = vd_host(&f->d, r.data);
	for (size_t i = 0; i < 3 * 512; i++)
		if (data[i] != pattern(5 * 512 + i))
			fail_msg("byte %zu: %#x, want %#x", i, data[i],
				 pattern(5 * 512 + i));
}

static void test_read(void **state)
{
	struct fixture *f = make(false, 0, NULL);

	(void)state;
	check_read(f, false);
	check_read(f, true);
	/* The last sector. */
	struct vd_blk_req r =
	    vd_blk_submit(&f->d, VIRTIO_BLK_T_IN, SECTORS - 1, 512, 0, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 513);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(*(uint8_t *)vd_host(&f->d, r.data + 511),
			 pattern(SECTORS * 512 - 1));
	destroy(f);
}

/* A read scattered over many small buffers in both regions. */
static void test_read_scattered(void **state)
{
	struct fixture *f = make(false, 0, NULL);
	struct vd_buf b[10];
	struct virtio_blk_outhdr *h;
	uint64_t hdr = vd_alloc(&f->d, 16), st = vd_alloc(&f->d, 1);
	uint16_t head;

	(void)state;
	h = vd_host(&f->d, hdr);
	h->type = VIRTIO_BLK_T_IN;
	h->sector = 10;
	b[0] = (struct vd_buf){hdr, 16, false};
	for (int i = 0; i < 8; i++)
		b[1 + i] =
		    (struct vd_buf){i % 2 ? VD_HIGH_GPA + 0x1000 * (uint64_t)i
					  : vd_alloc(&f->d, 128),
				    128, true};
	b[9] = (struct vd_buf){st, 1, true};
	head = vd_add(&f->d, 0, b, 10);
	vd_kick(&f->d, 0);
	expect_done(f, head, 1025);
	for (int i = 0; i < 8; i++) {
		uint8_t *p = vd_host(&f->d, b[1 + i].gpa);

		for (int j = 0; j < 128; j++)
			assert_int_equal(p[j], pattern(10 * 512 + i * 128 + j));
	}
	assert_true(vd_canary_intact(&f->d));
	destroy(f);
}

static void test_write_flush(void **state)
{
	struct fixture *f = make(false, 0, NULL);
	struct vd_blk_req r;
	uint8_t buf[4 * 512];

	(void)state;
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_OUT, 7, 4 * 512, 0xC3, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(f->fd, buf, sizeof(buf), 7 * 512), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xC3);
	/* Its neighbours are untouched. */
	assert_int_equal(pread(f->fd, buf, 2, 7 * 512 - 1), 2);
	assert_int_equal(buf[0], pattern(7 * 512 - 1));
	assert_int_equal(pread(f->fd, buf, 1, 11 * 512), 1);
	assert_int_equal(buf[0], pattern(11 * 512));

	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	destroy(f);
}

static void test_get_id(void **state)
{
	struct fixture *f = make(false, 0, "disk-0042");
	struct vd_blk_req r;
	char id[VIRTIO_BLK_ID_BYTES];

	(void)state;
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, 0,
			  false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, VIRTIO_BLK_ID_BYTES + 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	memcpy(id, vd_host(&f->d, r.data), sizeof(id));
	assert_memory_equal(id, "disk-0042\0\0\0\0\0\0\0\0\0\0\0", sizeof(id));
	/* A buffer too small for the ID. */
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_GET_ID, 0, 8, 0, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_IOERR);
	destroy(f);

	/* A serial of 20 characters or more fills the field, no NUL. */
	f = make(false, 0, "0123456789abcdefghijKLMN");
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_GET_ID, 0, 64, 0, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(vd_host(&f->d, r.data), "0123456789abcdefghij",
			    VIRTIO_BLK_ID_BYTES);
	assert_int_equal(*(uint8_t *)vd_host(&f->d, r.data + 20), 0x5A);
	destroy(f);
}

static void test_readonly(void **state)
{
	struct fixture *f = make(true, 0, NULL);
	struct vd_blk_req r;
	uint8_t buf[512];

	(void)state;
	assert_true(f->d.features & 1ULL << VIRTIO_BLK_F_RO);
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_OUT, 0, 512, 0xFF, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(f->fd, buf, sizeof(buf), 0), sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], pattern(i));
	/* Reads and flushes still work. */
	check_read(f, false);
	r = vd_blk_submit(&f->d, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	vd_kick(&f->d, 0);
	expect_done(f, r.head, 1);
	assert_int_equal(vd_blk_status(&f->d, &r), VIRTIO_BLK_S_OK);
	destroy(f);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = make(false, 0, NULL);
	static const struct {
		uint32_t type;
		uint64_t sector;
		uint32_t len;
		uint8_t status;
	} bad[] = {
	    /* Past the end, partly past, overflowing, into the partial
	     * sector at the end of the file. */
	    {VIRTIO_BLK_T_IN, SECTORS, 512, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_IN, SECTORS - 1, 1024, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_OUT, SECTORS - 1, 1024, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_IN, ~0ULL, 512, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_OUT, 1ULL << 55, 512, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_OUT, (~0ULL / 512) + 1, 512, VIRTIO_BLK_S_IOERR},
	    /* Not whole sectors. */
	    {VIRTIO_BLK_T_IN, 0, 100, VIRTIO_BLK_S_IOERR},
	    {VIRTIO_BLK_T_OUT, 0, 513, VIRTIO_BLK_S_IOERR},
	    /* What the device does not do. */
	    {VIRTIO_BLK_T_DISCARD, 0, 16, VIRTIO_BLK_S_UNSUPP},
	    {VIRTIO_BLK_T_SCSI_CMD, 0, 16, VIRTIO_BLK_S_UNSUPP},
	    {0xdeadbeef, 0, 0, VIRTIO_BLK_S_UNSUPP},
	};
	uint8_t buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vd_blk_req r = vd_blk_submit(
		    &f->d, bad[i].type, bad[i].sector, bad[i].len, 0x11, i % 2);

		vd_kick(&f->d, 0);
		expect_done(f, r.head, 1);
		if (vd_blk_status(&f->d, &r) != bad[i].status)
			fail_msg("request %zu: status %u, want %u", i,
				 vd_blk_status(&f->d, &r), bad[i].status);
	}
	/* A header shorter than 16 bytes. */
	uint64_t hdr = vd_alloc(&f->d, 16), st = vd_alloc(&f->d, 1);
	struct vd_buf b[] = {{hdr, 8, false}, {st, 1, true}};
	uint16_t head = vd_add(&f->d, 0, b, 2);

	vd_kick(&f->d, 0);
	expect_done(f, head, 1);
	assert_int_equal(*(uint8_t *)vd_host(&f->d, st), VIRTIO_BLK_S_IOERR);
	assert_null(virtio_mmio_broken(f->d.dev));
	/* The file is as it was. */
	assert_int_equal(pread(f->fd, buf, sizeof(buf), (SECTORS - 1) * 512),
			 812);
	for (size_t i = 0; i < 812; i++)
		assert_int_equal(buf[i], pattern((SECTORS - 1) * 512 + i));
	assert_true(vd_canary_intact(&f->d));
	destroy(f);
}

/* Many requests at once through 4 workers and the eventfd. */
static void test_workers(void **state)
{
	struct fixture *f = make(false, 4, NULL);
	struct vd_blk_req r[VD_QNUM];
	struct pollfd fds[2];
	bool seen[VD_QNUM] = {false};
	uint32_t id, len;

	(void)state;
	assert_int_equal(virtio_mmio_pollfds(f->d.dev, fds, 2), 1);
	assert_int_equal(fds[0].events, POLLIN);
	for (int i = 0; i < VD_QNUM / 2; i++)
		r[i] = vd_blk_submit(&f->d, VIRTIO_BLK_T_OUT, 20 + 2 * i, 1024,
				     (uint8_t)i, i % 2);
	vd_kick(&f->d, 0);
	for (int i = VD_QNUM / 2; i < VD_QNUM; i++)
		r[i] =
		    vd_blk_submit(&f->d, VIRTIO_BLK_T_IN,
				  20 + 2 * (i - VD_QNUM / 2), 1024, 0, i % 2);
	/* Not before the writes are done: wait for them first. */
	assert_true(vd_wait_used(&f->d, 0, VD_QNUM / 2, 5000));
	vd_kick(&f->d, 0);
	assert_true(vd_wait_used(&f->d, 0, VD_QNUM, 5000));
	assert_int_equal(f->d.irq_level, 1);
	while (vd_get_used(&f->d, 0, &id, &len)) {
		for (int i = 0; i < VD_QNUM; i++)
			if (r[i].head == id && !seen[i]) {
				seen[i] = true;
				assert_int_equal(len,
						 i < VD_QNUM / 2 ? 1 : 1025);
				assert_int_equal(vd_blk_status(&f->d, &r[i]),
						 VIRTIO_BLK_S_OK);
				break;
			}
	}
	for (int i = 0; i < VD_QNUM; i++)
		assert_true(seen[i]);
	for (int i = VD_QNUM / 2; i < VD_QNUM; i++) {
		uint8_t *p = vd_host(&f->d, r[i].data);

		for (int j = 0; j < 1024; j++)
			assert_int_equal(p[j], i - VD_QNUM / 2);
	}
	destroy(f);
}

/* A reset with requests queued and running: none of them is completed
 * afterwards, and the device works again. */
static void test_reset_in_flight(void **state)
{
	struct fixture *f = make(false, 2, NULL);
	struct pollfd fds[2];

	(void)state;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < VD_QNUM; i++)
			vd_blk_submit(&f->d, VIRTIO_BLK_T_IN, (uint64_t)i, 512,
				      0, false);
		vd_kick(&f->d, 0);
		vd_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
		assert_int_equal(f->d.irq_level, 0);
		assert_int_equal(virtio_mmio_pollfds(f->d.dev, fds, 2), 1);
		assert_int_equal(poll(fds, 1, 0), 0);
		vd_setup(&f->d, ~0ULL, 1);
		f->d.next_buf = 0x40000;
	}
	check_read(f, false);
	destroy(f);
}

static void test_open_errors(void **state)
{
	struct virtio_blk_params p = {.path = "/nonexistent/disk.img"};
	struct virtio_mmio_dev *dev = NULL;
	struct virtio_mem mem = {0};
	char err[256];

	(void)state;
	assert_int_equal(virtio_blk_create(&mem, &p, &dev, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot open /nonexistent/disk.img: No such "
				 "file or directory");
	p.path = "/tmp";
	p.readonly = true;
	assert_int_equal(virtio_blk_create(&mem, &p, &dev, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "/tmp: not a regular file or a block device");
	p.workers = VIRTIO_BLK_MAX_WORKERS + 1;
	assert_int_equal(virtio_blk_create(&mem, &p, &dev, err, sizeof(err)),
			 -EINVAL);
	assert_null(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_read),
	    cmocka_unit_test(test_read_scattered),
	    cmocka_unit_test(test_write_flush),
	    cmocka_unit_test(test_get_id),
	    cmocka_unit_test(test_readonly),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_workers),
	    cmocka_unit_test(test_reset_in_flight),
	    cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
