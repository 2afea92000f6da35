/* SPDX-License-Identifier: MIT */
/* A DomU's devices and the loop that serves them (devmodel.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kl/libkeel.h>

#include "devmodel.h"
#include "kl.h"
#include "nbd.h"

/* virtio 1.2 section 4.2.2: QueueNotify, the one register that is a
 * doorbell (the vCPU does not wait for it). */
#define QUEUE_NOTIFY 0x50
#define BLK_WORKERS  4
#define POLL_MAX     (1 + 2 * KL_DM_MAX)

static int open_disk(struct kl_dm_dev *d, const struct kl_disk *k)
{
	struct stat st;
	int fd = open(k->target, (k->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kl create: disk %s: cannot open '%s'%s: %s\n",
			k->vdev, k->target, k->readonly ? "" : " for writing",
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		fprintf(stderr,
			"kl create: disk %s: '%s' is neither a file nor a "
			"block device\n",
			k->vdev, k->target);
		close(fd);
		return -1;
	}
	/* One writer, or any number of readers, across all domains. */
	if (flock(fd, (k->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		fprintf(stderr,
			"kl create: disk %s: '%s' is in use by another domain "
			"(%s)\n",
			k->vdev, k->target,
			k->readonly ? "attached writable there"
				    : "a writable disk is attached once");
		close(fd);
		return -1;
	}
	d->lock_fd = fd;
	return 0;
}

static int check_bridge(const struct kl_vif *v, unsigned index)
{
	char path[64 + IFNAMSIZ];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", v->bridge);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr,
		"kl create: vif %u: there is no bridge '%s' in Dom0 (ip -br "
		"link shows the interfaces)\n",
		index, v->bridge);
	return -1;
}

int kl_dm_open(struct kl_dm *dm, const struct kl_domain_config *c)
{
	memset(dm, 0, sizeof(*dm));
	dm->cfg = c;
	dm->dfd = -1;
	memset(dm->range_dev, -1, sizeof(dm->range_dev));
	if (c->nr_disks + c->nr_vifs > KL_DM_MAX) {
		fprintf(stderr,
			"kl create: %zu disks and vifs; a DomU has at most %d "
			"devices\n",
			c->nr_disks + c->nr_vifs, KL_DM_MAX);
		return -1;
	}
	for (size_t i = 0; i < c->nr_disks + c->nr_vifs; i++) {
		struct kl_dm_dev *d = &dm->dev[i];

		d->dm = dm;
		d->base = KL_DM_BASE + i * KL_DM_STRIDE;
		d->gsi = KL_DM_GSI0 + (uint32_t)i;
		d->lock_fd = -1;
		d->doorbell = -1;
		dm->nr = i + 1;
		if (i < c->nr_disks) {
			const struct kl_disk *k = &c->disks[i];

			snprintf(d->what, sizeof(d->what), "disk %s", k->vdev);
			/* A qcow2 image is locked like a raw one; the owner
			 * exports it (kl_dm_start). */
			if (open_disk(d, k))
				goto fail;
		} else {
			unsigned n = (unsigned)(i - c->nr_disks);

			snprintf(d->what, sizeof(d->what), "vif %u", n);
			if (check_bridge(&c->vifs[n], n))
				goto fail;
		}
	}
	return 0;
fail:
	kl_dm_close(dm);
	return -1;
}

void kl_dm_windows(const struct kl_dm *dm, struct kl_acpi_virtio *out)
{
	for (size_t i = 0; i < dm->nr; i++)
		out[i] = (struct kl_acpi_virtio){.base = dm->dev[i].base,
						 .size = VIRTIO_MMIO_WINDOW,
						 .gsi = dm->dev[i].gsi,
						 .edge = false};
}

static int add_range(struct kl_dm *dm, size_t i, uint32_t flags, uint64_t start,
		     uint64_t len)
{
	int id = keel_ioreq_range_add(dm->dfd, flags, start, len);

	if (id < 0 || id >= KEEL_IOREQ_MAX_RANGES) {
		kl_device_error("register a device window", id < 0 ? -id : EIO);
		return -1;
	}
	dm->range_dev[id] = (int8_t)i;
	return id;
}

int kl_dm_attach(struct kl_dm *dm, int dfd)
{
	int rc;

	dm->dfd = dfd;
	if (!dm->nr)
		return 0;
	rc = keel_ioreq_setup(dfd);
	if (rc < 0)
		return kl_device_error("I/O request page", -rc);
	memset(dm->range_dev, -1, sizeof(dm->range_dev));
	for (size_t i = 0; i < dm->nr; i++) {
		uint64_t b = dm->dev[i].base;

		/* Registers before QueueNotify, QueueNotify, the rest. */
		if (add_range(dm, i, 0, b, QUEUE_NOTIFY) < 0 ||
		    (dm->dev[i].doorbell =
			 add_range(dm, i, KEEL_IOREQ_F_DOORBELL,
				   b + QUEUE_NOTIFY, 4)) < 0 ||
		    add_range(dm, i, 0, b + QUEUE_NOTIFY + 4,
			      VIRTIO_MMIO_WINDOW - QUEUE_NOTIFY - 4) < 0)
			return -1;
	}
	return 0;
}

static void set_irq(void *ctx, int level)
{
	struct kl_dm_dev *d = ctx;
	int rc = keel_irq_line(d->dm->dfd, d->gsi,
			       level ? KEEL_IRQ_ASSERT : KEEL_IRQ_DEASSERT);

	if (rc < 0)
		fprintf(stderr, "kl: %s: interrupt line %u: %s\n", d->what,
			d->gsi, strerror(-rc));
}

static int create_backend(struct kl_dm *dm, size_t i,
			  const struct virtio_mem *mem)
{
	const struct kl_domain_config *c = dm->cfg;
	struct kl_dm_dev *d = &dm->dev[i];
	char err[256] = "";
	int rc;

	if (i < c->nr_disks) {
		const struct kl_disk *k = &c->disks[i];
		struct virtio_blk_params p = {.path = d->nbd[0] ? d->nbd
								: k->target,
					      .readonly = k->readonly,
					      .serial = k->vdev,
					      .workers = BLK_WORKERS};

		rc = virtio_blk_create(mem, &p, &d->vdev, err, sizeof(err));
	} else {
		unsigned n = (unsigned)(i - c->nr_disks);
		const struct kl_vif *v = &c->vifs[n];
		struct virtio_net_params p;
		char ifname[IFNAMSIZ];

		if (v->vifname)
			snprintf(ifname, sizeof(ifname), "%s", v->vifname);
		else
			virtio_tap_name(c->name, n, ifname);
		snprintf(d->what, sizeof(d->what), "vif %s", ifname);
		if (v->has_mac)
			memcpy(p.mac, v->mac, sizeof(p.mac));
		else
			virtio_default_mac(c->name, n, p.mac);
		p.tap_fd = virtio_tap_open(ifname, v->bridge, v->mtu, err,
					   sizeof(err));
		rc = p.tap_fd < 0 ? p.tap_fd
				  : virtio_net_create(mem, &p, &d->vdev, err,
						      sizeof(err));
	}
	if (rc < 0) {
		fprintf(stderr, "kl: %s: %s\n", d->what, err);
		return -1;
	}
	virtio_mmio_set_irq(d->vdev, set_irq, d);
	return 0;
}

int kl_dm_start(struct kl_dm *dm, const struct virtio_mem *mem)
{
	int rc;

	if (!dm->nr)
		return 0;
	rc = keel_ioreq_map(dm->dfd, &dm->page);
	if (rc < 0) {
		dm->page = NULL;
		fprintf(stderr, "kl: cannot map the I/O request page: %s\n",
			strerror(-rc));
		return -1;
	}
	for (size_t i = 0; i < dm->nr; i++) {
		struct kl_dm_dev *d = &dm->dev[i];
		const struct kl_disk *k =
		    i < dm->cfg->nr_disks ? &dm->cfg->disks[i] : NULL;

		/* Exported once: a restarted domain finds it in place. */
		if (k && k->format == KL_DISK_QCOW2 && !d->nbd_pid &&
		    kl_nbd_export(d->what, k->target, k->readonly, d->nbd,
				  sizeof(d->nbd), &d->nbd_pid))
			return -1;
		if (create_backend(dm, i, mem))
			return -1;
	}
	return 0;
}

/* A guest access no device answers: reads all-ones, counted, logged
 * now and then (the guest decides how often). */
static void ignored(struct kl_dm *dm, const struct keel_ioreq *r)
{
	dm->ignored++;
	if ((dm->ignored & (dm->ignored - 1)) == 0)
		fprintf(stderr,
			"kl: %s of %u bytes at %#" PRIx64
			" answered by no device (%lu so far)\n",
			r->dir == KEEL_IOREQ_READ ? "read" : "write", r->size,
			r->addr, dm->ignored);
}

/* The vCPU's request, if it has one: served and handed back to Keel. */
static void serve_slot(struct kl_dm *dm, uint32_t vcpu)
{
	struct keel_ioreq *s = &dm->page->slot[vcpu];
	struct keel_ioreq r;
	struct kl_dm_dev *d = NULL;
	uint64_t val = ~0ULL;
	int rc = -EINVAL;

	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != KEEL_IOREQ_PENDING)
		return;
	r = *s;
	if (r.range < KEEL_IOREQ_MAX_RANGES && dm->range_dev[r.range] >= 0)
		d = &dm->dev[dm->range_dev[r.range]];
	if (d && d->vdev && r.type == KEEL_IOREQ_TYPE_MMIO &&
	    r.addr >= d->base && r.addr - d->base < VIRTIO_MMIO_WINDOW) {
		if (r.dir == KEEL_IOREQ_READ)
			rc = virtio_mmio_read(d->vdev, r.addr - d->base, r.size,
					      &val);
		else
			rc = virtio_mmio_write(d->vdev, r.addr - d->base,
					       r.size, r.data);
	}
	if (rc)
		ignored(dm, &r);
	if (r.dir == KEEL_IOREQ_READ)
		s->data = val;
	__atomic_store_n(&s->state, KEEL_IOREQ_DONE, __ATOMIC_RELEASE);
	rc = keel_ioreq_done(dm->dfd, vcpu);
	if (rc < 0 && rc != -ESRCH)
		fprintf(stderr, "kl: completing vCPU %u's request: %s\n", vcpu,
			strerror(-rc));
}

static void serve_doorbells(struct kl_dm *dm)
{
	uint64_t pending = __atomic_exchange_n(&dm->page->doorbell_pending, 0,
					       __ATOMIC_ACQUIRE);

	while (pending) {
		unsigned range = (unsigned)__builtin_ctzll(pending);
		uint64_t queues;
		int i;

		pending &= pending - 1;
		queues = __atomic_exchange_n(&dm->page->doorbell[range], 0,
					     __ATOMIC_ACQUIRE);
		i = dm->range_dev[range];
		if (i < 0 || !dm->dev[i].vdev)
			continue;
		while (queues) {
			unsigned q = (unsigned)__builtin_ctzll(queues);

			queues &= queues - 1;
			virtio_mmio_notify(dm->dev[i].vdev, q);
		}
	}
}

int kl_dm_serve(struct kl_dm *dm, int timeout_ms)
{
	struct pollfd fds[POLL_MAX];
	int owner[POLL_MAX]; /* the device of fds[n], -1: the domain's fd */
	size_t n = 0;

	if (!dm->page)
		return poll(NULL, 0, timeout_ms) < 0 && errno != EINTR ? -1 : 0;
	fds[n] = (struct pollfd){.fd = dm->dfd, .events = POLLIN};
	owner[n++] = -1;
	for (size_t i = 0; i < dm->nr; i++) {
		size_t got =
		    virtio_mmio_pollfds(dm->dev[i].vdev, fds + n, POLL_MAX - n);

		for (size_t k = 0; k < got; k++)
			owner[n + k] = (int)i;
		n += got;
	}
	if (poll(fds, n, timeout_ms) < 0)
		return errno == EINTR ? 0 : -1;
	for (size_t k = 1; k < n; k++)
		if (fds[k].revents)
			virtio_mmio_handle_fd(dm->dev[owner[k]].vdev, fds[k].fd,
					      fds[k].revents);
	if (fds[0].revents & POLLIN) {
		for (uint32_t v = 0; v < dm->cfg->maxvcpus; v++)
			serve_slot(dm, v);
		serve_doorbells(dm);
	}
	for (size_t i = 0; i < dm->nr; i++) {
		const char *why = virtio_mmio_broken(dm->dev[i].vdev);

		if (why && !dm->dev[i].broken)
			fprintf(stderr,
				"kl: %s: the guest's driver broke the device "
				"(%s); it does nothing until reset\n",
				dm->dev[i].what, why);
		dm->dev[i].broken = why != NULL;
	}
	return 0;
}

void kl_dm_stop(struct kl_dm *dm)
{
	for (size_t i = 0; i < dm->nr; i++) {
		uint64_t rx, tx;

		if (dm->dev[i].vdev && i >= dm->cfg->nr_disks) {
			virtio_net_dropped(dm->dev[i].vdev, &rx, &tx);
			if (rx || tx)
				fprintf(stderr,
					"kl: %s: %" PRIu64 " frames dropped "
					"on receive, %" PRIu64 " on transmit\n",
					dm->dev[i].what, rx, tx);
		}
		virtio_mmio_destroy(dm->dev[i].vdev);
		dm->dev[i].vdev = NULL;
	}
	if (dm->page)
		keel_ioreq_unmap(dm->page);
	dm->page = NULL;
}

void kl_dm_close(struct kl_dm *dm)
{
	kl_dm_stop(dm);
	for (size_t i = 0; i < dm->nr; i++) {
		if (dm->dev[i].nbd_pid > 0)
			kl_nbd_stop(dm->dev[i].nbd_pid);
		dm->dev[i].nbd_pid = 0;
		dm->dev[i].nbd[0] = '\0';
		if (dm->dev[i].lock_fd >= 0)
			close(dm->dev[i].lock_fd);
		dm->dev[i].lock_fd = -1;
	}
}
