/* SPDX-License-Identifier: MIT */
/*
 * The virtio back ends' guest-facing parsers (toolstack/virtio/: the
 * virtio-mmio registers, the split-virtqueue parser, virtio-blk request
 * parsing and I/O, virtio-net receive) against a hostile driver. A
 * virtio-blk device on a small memfd disk (served inline, no worker
 * threads, so runs are deterministic), or a virtio-net device on a
 * datagram socket pair standing in for its TAP (queue 0 is then its
 * receive queue), sits on fake guest RAM: two 256 KiB regions at gpa 0
 * and 4 GiB around a block that is not guest RAM and must stay intact.
 *
 * Input: a header, then operations until the input ends.
 *   header: u8 flags (bit 0 read-only disk, bit 1 rings at raw
 *           addresses, bit 2 skip DRIVER_OK, bit 4 virtio-net), u64
 *           driver features (the offered ones are OR-ed in unless bit
 *           3), u16 queue size, and with bit 1 three u64 ring addresses
 *   op u8 % 10:
 *     0 poke: u32 offset into guest RAM (both regions), u8 n, n bytes
 *     1 descriptor: u16 index (mod the queue size), u64 addr, u32 len,
 *       u16 flags, u16 next (when the rings are at the usual place)
 *     2 publish: u16 head into the avail ring, idx + 1
 *     3 avail idx += u8
 *     4 kick: u32 queue (a register write or the doorbell, by bit 31)
 *     5 register write: u16 offset, u8 size, u32 value
 *     6 register read: u16 offset, u8 size
 *     7 well-formed request: u32 type, u64 sector, u16 length, u8 flags
 *     8 interrupt acknowledge
 *     9 a frame from the TAP (virtio-net): u16 length, its bytes (vnet
 *       header first)
 * Checked: nothing outside guest RAM is written (ASan for the host heap,
 * the canary block for the hole), the interrupt line follows
 * InterruptStatus, a broken device says DEVICE_NEEDS_RESET.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define VD_REGION (256u << 10)
#include "virtio_blk_req.h"

FUZZ_SHIM_INIT()

#define DISK_SECTORS 64
#define RING_DESC    0x1000
#define RING_AVAIL   0x2000
#define RING_USED    0x3000

static char disk_path[64];

static void make_disk(void)
{
	int fd;

	if (disk_path[0])
		return;
	fd = memfd_create("fuzz-virtio-disk", 0);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, DISK_SECTORS * 512) == 0);
	/* Kept open for the process's life; the device opens its own. */
	snprintf(disk_path, sizeof(disk_path), "/proc/self/fd/%d", fd);
}

static void check(struct vd *d)
{
	uint64_t isr = 0, status = 0;

	virtio_mmio_read(d->dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4, &isr);
	virtio_mmio_read(d->dev, VIRTIO_MMIO_STATUS, 4, &status);
	FUZZ_CHECK(d->irq_level == (isr != 0));
	if (virtio_mmio_broken(d->dev))
		FUZZ_CHECK(status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	struct virtio_blk_params p = {.serial = "fuzz"};
	struct virtio_net_params np = {.mac = {2, 0, 0, 0, 0, 1}};
	static uint8_t frame[65536];
	int tap[2] = {-1, -1};
	static struct vd d;
	static uint8_t *ram;
	uint64_t features, desc = RING_DESC, avail = RING_AVAIL,
			   used = RING_USED;
	uint8_t flags;
	uint16_t num;
	bool usual;
	char err[256];

	make_disk();
	/* One guest RAM block for the process: ASan's quarantine would
	 * make a fresh one per input slow. */
	if (!ram)
		ram = aligned_alloc(4096, 3 * VD_REGION);
	FUZZ_CHECK(ram && vd_mem_setup(&d, ram) == 0);
	flags = fuzz_u8(&in);
	features = fuzz_u64(&in);
	num = fuzz_u16(&in);
	usual = !(flags & 2);
	if (!usual) {
		desc = fuzz_u64(&in);
		avail = fuzz_u64(&in);
		used = fuzz_u64(&in);
	} else if (!num || num > 256) {
		num = 16;
	}
	p.path = disk_path;
	p.readonly = flags & 1;
	if (flags & 16) {
		FUZZ_CHECK(socketpair(AF_UNIX,
				      SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				      0, tap) == 0);
		np.tap_fd = tap[0];
		FUZZ_CHECK(virtio_net_create(&d.mem, &np, &d.dev, err,
					     sizeof(err)) == 0);
	} else {
		FUZZ_CHECK(virtio_blk_create(&d.mem, &p, &d.dev, err,
					     sizeof(err)) == 0);
	}
	vd_attach(&d, d.dev);
	if (!(flags & 8))
		features |= ~0ULL;
	vd_negotiate(&d, features);
	if (usual) {
		vd_queue_at(&d, 0, num, desc, avail, used);
	} else {
		/* Raw addresses: the driver's writes, not the test's. */
		d.q[0].num = num;
		vd_wr(&d, VIRTIO_MMIO_QUEUE_NUM, num);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
		vd_wr(&d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
		      (uint32_t)(avail >> 32));
		vd_wr(&d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
		vd_wr(&d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
		vd_wr(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	if (!(flags & 4))
		vd_driver_ok(&d);
	d.next_buf = 0x8000;

	while (in.left) {
		uint8_t op = fuzz_u8(&in) % 10;
		uint64_t v = 0;

		switch (op) {
		case 0: {
			uint32_t off = fuzz_u32(&in) % (2 * VD_REGION);
			uint8_t n = fuzz_u8(&in);
			uint64_t gpa = off < VD_REGION
					   ? off
					   : VD_HIGH_GPA + (off - VD_REGION);
			size_t room = VD_REGION - off % VD_REGION;

			fuzz_bytes(&in, vd_host(&d, gpa), n < room ? n : room);
			break;
		}
		case 1: {
			uint16_t idx = fuzz_u16(&in);
			uint64_t addr = fuzz_u64(&in);
			uint32_t len = fuzz_u32(&in);
			uint16_t fl = fuzz_u16(&in), next = fuzz_u16(&in);

			if (usual)
				vd_set_desc(&d, 0, idx % num, addr, len, fl,
					    next);
			break;
		}
		case 2: {
			uint16_t head = fuzz_u16(&in);

			if (usual) {
				vd_publish(&d, 0, head);
			}
			break;
		}
		case 3:
			if (usual) {
				struct vring_avail *a = vd_host(&d, avail);
				uint8_t n = fuzz_u8(&in);

				d.q[0].avail_idx += n;
				__atomic_store_n(&a->idx, d.q[0].avail_idx,
						 __ATOMIC_RELEASE);
			}
			break;
		case 4: {
			uint32_t q = fuzz_u32(&in);

			if (q & 0x80000000u)
				virtio_mmio_notify(d.dev, q & 0x7fffffffu);
			else
				virtio_mmio_write(
				    d.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
			break;
		}
		case 5: {
			uint16_t off = fuzz_u16(&in) % VIRTIO_MMIO_WINDOW;
			uint8_t sz = fuzz_u8(&in) % 9;

			virtio_mmio_write(d.dev, off, sz, fuzz_u32(&in));
			break;
		}
		case 6: {
			uint16_t off = fuzz_u16(&in) % (VIRTIO_MMIO_WINDOW + 8);

			virtio_mmio_read(d.dev, off, fuzz_u8(&in) % 9, &v);
			break;
		}
		case 7: {
			uint32_t type = fuzz_u32(&in);
			uint64_t sector = fuzz_u64(&in);
			uint16_t len = fuzz_u16(&in) % 4096;
			uint8_t f = fuzz_u8(&in);

			/* Buffers from a bump allocator that wraps (header,
			 * data, status, indirect table). */
			if (d.next_buf + len + 128 > VD_REGION)
				d.next_buf = 0x8000;
			if (usual && num >= 3 && tap[0] < 0)
				vd_blk_submit(&d, type, sector, len, f, f & 1);
			break;
		}
		case 8:
			virtio_mmio_read(d.dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4,
					 &v);
			virtio_mmio_write(d.dev, VIRTIO_MMIO_INTERRUPT_ACK, 4,
					  v);
			break;
		case 9: {
			size_t len = fuzz_bytes(&in, frame, fuzz_u16(&in));

			if (tap[1] >= 0 && send(tap[1], frame, len, 0) >= 0)
				virtio_mmio_handle_fd(d.dev, tap[0], POLLIN);
			break;
		}
		}
		check(&d);
	}
	FUZZ_CHECK(vd_canary_intact(&d));
	virtio_mmio_destroy(d.dev); /* closes tap[0] */
	if (tap[1] >= 0)
		close(tap[1]);
	return 0;
}
