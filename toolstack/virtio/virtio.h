/* SPDX-License-Identifier: MIT */
/*
 * Keel's virtio back ends (DESIGN section 6): virtio-mmio version 2
 * transports (virtio 1.2 section 4.2.2) with split virtqueues, serving
 * virtio-blk on a raw file or block device and virtio-net on a TAP. Plain
 * user space: nothing here knows about Keel; the device model (the `kl`
 * owner process) feeds it the DomU's MMIO accesses and gives it the
 * guest's RAM.
 *
 * How an integrator uses it:
 *
 *   1. Describe guest RAM: virtio_mem_add() for each mapping of the
 *      DomU's memfd (below the MMIO hole from gpa 0, the rest from 4 GiB).
 *      Every device copies the list when it is created.
 *   2. Create devices: virtio_blk_create(), virtio_net_create() (its TAP
 *      from virtio_tap_open()). Each is one struct virtio_mmio_dev; put
 *      it at an MMIO window of VIRTIO_MMIO_WINDOW bytes with its own
 *      level-triggered interrupt line, and virtio_mmio_set_irq() the
 *      callback that drives that line.
 *   3. In the event loop: a guest access to the window becomes
 *      virtio_mmio_read()/virtio_mmio_write() at the offset in the
 *      window; a doorbell notification for QueueNotify becomes
 *      virtio_mmio_notify(). Poll the fds virtio_mmio_pollfds() returns
 *      and call virtio_mmio_handle_fd() for each that is ready. The set
 *      of fds and their events may change after any call into the device:
 *      ask again before each poll().
 *   4. virtio_mmio_destroy() when the domain goes.
 *
 * From the parsed xl.cfg (kl/xlcfg.h): a struct kl_disk gives path =
 * target, readonly, and a serial of the integrator's choosing (its vdev,
 * say). Images are raw: a qcow2 disk is served from the block device of
 * a qemu-nbd or qemu-storage-daemon export (DESIGN section 6). A struct
 * kl_vif gives the TAP name (vifname, else virtio_tap_name()), the bridge,
 * the MTU, and the MAC (else virtio_default_mac()).
 *
 * Threading contract: every function here is called from ONE thread, the
 * integrator's event loop, and every callback (the interrupt line) is made
 * from that thread, inside one of these calls. Device state and the
 * virtqueues are only touched by that thread, so there is no lock to take.
 * virtio-blk's worker threads only run preadv/pwritev/fdatasync on
 * buffers the event loop has already validated and translated; they hand
 * finished requests back through a mutex-protected list and an eventfd
 * (one of the fds to poll), and the event loop then writes the status
 * byte, the used ring and raises the interrupt. Resetting a device waits
 * for its requests in flight, so no worker writes to guest memory after
 * the guest saw the reset complete.
 *
 * The guest is untrusted: everything read from guest memory or written
 * to a register is checked. A driver that breaks the virtqueue rules
 * (addresses outside its RAM, descriptor loops, indices past the ring,
 * ...) gets its device marked broken: DEVICE_NEEDS_RESET in Status and a
 * configuration-change interrupt, and the device does nothing more until
 * it is reset.
 */
#ifndef KL_VIRTIO_H
#define KL_VIRTIO_H

#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- guest memory -------------------------------------------------- */

#define VIRTIO_MEM_MAX_REGIONS 8

/* One mapping of guest RAM in this process. */
struct virtio_mem_region {
	uint64_t gpa, len;
	uint8_t *host;
};

struct virtio_mem {
	size_t nr;
	struct virtio_mem_region r[VIRTIO_MEM_MAX_REGIONS];
};

/*
 * Adds [gpa, gpa + len) mapped at host. 0, or -EINVAL (empty, wraps
 * around, gpa and host not 16-byte aligned, overlaps a region already
 * there), -ENOSPC (too many regions).
 */
int virtio_mem_add(struct virtio_mem *m, uint64_t gpa, uint64_t len,
		   void *host);

/* The host address of [gpa, gpa + len) if it lies within one region,
 * else NULL. len 0 is refused too. */
void *virtio_mem_translate(const struct virtio_mem *m, uint64_t gpa,
			   uint64_t len);

/* ---- the transport ------------------------------------------------- */

/* The MMIO window a device needs (registers and config space). */
#define VIRTIO_MMIO_WINDOW 0x200
/* "KEEL", as QEMU puts "QEMU" in VendorID. */
#define VIRTIO_MMIO_VENDOR 0x4c45454bu
/* Largest queue a device offers (QueueNumMax). */
#define VIRTIO_QUEUE_MAX 256

struct virtio_mmio_dev;

/* Drives the device's interrupt line: level 1 when InterruptStatus
 * becomes nonzero, 0 when the driver has acknowledged everything. Only
 * called on a change of level. */
typedef void (*virtio_irq_fn)(void *ctx, int level);

void virtio_mmio_set_irq(struct virtio_mmio_dev *dev, virtio_irq_fn fn,
			 void *ctx);

/*
 * A guest access of size bytes (1, 2, 4 or 8) at offset in the window.
 * Registers take aligned 4-byte accesses, the config space (from 0x100)
 * any size within it; anything else reads 0 and is ignored on write.
 * Returns 0, or -EINVAL for such an ignored access (for the caller's
 * rate-limited log; the guest gets its answer either way).
 */
int virtio_mmio_read(struct virtio_mmio_dev *dev, uint64_t offset,
		     unsigned size, uint64_t *val);
int virtio_mmio_write(struct virtio_mmio_dev *dev, uint64_t offset,
		      unsigned size, uint64_t val);

/* A QueueNotify that arrived through the doorbell path: the same as
 * writing queue to QueueNotify. */
void virtio_mmio_notify(struct virtio_mmio_dev *dev, uint32_t queue);

/* The fds to poll now, with their events (at most max; returns how many
 * were written). events may be 0 for an fd the device does not want to
 * hear from right now (a TAP while the guest has no receive buffers). */
size_t virtio_mmio_pollfds(struct virtio_mmio_dev *dev, struct pollfd *fds,
			   size_t max);
/* fd (one of virtio_mmio_pollfds()) reported revents. */
void virtio_mmio_handle_fd(struct virtio_mmio_dev *dev, int fd, short revents);

/* Status as the driver reads it, and why the device broke (NULL while it
 * is not broken; a static string, for logs and tests). */
uint32_t virtio_mmio_status(const struct virtio_mmio_dev *dev);
const char *virtio_mmio_broken(const struct virtio_mmio_dev *dev);

/* Stops the device (waits for its I/O in flight) and frees it; closes
 * the image or TAP fd it was given or opened. NULL is ignored. */
void virtio_mmio_destroy(struct virtio_mmio_dev *dev);

/* ---- virtio-blk ---------------------------------------------------- */

#define VIRTIO_BLK_MAX_WORKERS 16

struct virtio_blk_params {
	const char *path; /* raw image file or block device */
	bool readonly;
	const char *serial; /* GET_ID answer (20 bytes kept); NULL: none */
	/*
	 * Worker threads doing the I/O; 0 serves each request in the
	 * calling thread during virtio_mmio_notify() (no eventfd then).
	 */
	unsigned workers;
};

/* 0 and *out, or -errno with a message in err ("cannot open PATH: ..."). */
int virtio_blk_create(const struct virtio_mem *mem,
		      const struct virtio_blk_params *p,
		      struct virtio_mmio_dev **out, char *err, size_t errlen);

/* ---- virtio-net ---------------------------------------------------- */

struct virtio_net_params {
	/* A TAP opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a
	 * 12-byte vnet header (virtio_tap_open() does this); the device
	 * owns it from now on and sets its offloads (TUNSETOFFLOAD) to
	 * what the guest's driver negotiates. */
	int tap_fd;
	uint8_t mac[6];
};

int virtio_net_create(const struct virtio_mem *mem,
		      const struct virtio_net_params *p,
		      struct virtio_mmio_dev **out, char *err, size_t errlen);

/* Frames a virtio_net_create() device dropped so far: received ones that
 * did not fit the guest's buffers, transmitted ones that were malformed,
 * asked for offloads not negotiated, or met a full TAP queue. */
void virtio_net_dropped(const struct virtio_mmio_dev *dev, uint64_t *rx,
			uint64_t *tx);

/* ---- TAP devices --------------------------------------------------- */

/*
 * The default TAP name of a domain's index-th vif: "kl-NAME" for the
 * first, "kl-NAME.INDEX" for the others, NAME cut so that it all fits in
 * IFNAMSIZ - 1 characters.
 */
void virtio_tap_name(const char *domain, unsigned index, char name[IFNAMSIZ]);

/* A stable locally administered unicast MAC for a vif without one,
 * derived from the domain name and the vif's index. */
void virtio_default_mac(const char *domain, unsigned index, uint8_t mac[6]);

/*
 * Creates TAP ifname (nonblocking, close-on-exec, IFF_VNET_HDR with a
 * 12-byte header, no offloads yet), sets mtu if not 0, attaches it to bridge
 * if not NULL and brings it up. Returns its fd (the TAP lives as long as
 * it is open), or -errno with err saying what failed; on failure nothing
 * is left behind.
 */
int virtio_tap_open(const char *ifname, const char *bridge, unsigned mtu,
		    char *err, size_t errlen);

#endif
