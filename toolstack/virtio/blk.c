/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 section 5.2) on a raw image file or a block
 * device. The event loop parses and checks each request, then a small
 * pool of worker threads does its preadv/pwritev/fdatasync, so several
 * run at once; finished requests come back on a list and an eventfd, and
 * the event loop writes their status and used elements (virtio.h's
 * threading contract). With no workers a request is served inline.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "virtio_dev.h"

#define SECTOR 512ULL
/* Segments a request may carry besides its header and status. */
#define BLK_SEG_MAX (VIRTIO_QUEUE_MAX - 2)

struct blk_req {
	struct blk_req *next;
	uint16_t head;
	uint32_t type;
	uint8_t status;
	uint8_t *status_byte; /* in guest RAM */
	uint32_t used_len;
	uint64_t offset; /* in bytes */
	unsigned nr_iov;
	struct iovec iov[]; /* the data buffers, in guest RAM */
};

struct blk {
	struct virtio_mmio_dev mmio;
	int fd;
	bool readonly;
	bool writethrough; /* the driver did not take VIRTIO_BLK_F_FLUSH */
	uint64_t sectors;
	char serial[VIRTIO_BLK_ID_BYTES];
	int efd; /* -1 without workers */
	unsigned nr_workers;
	pthread_t workers[VIRTIO_BLK_MAX_WORKERS];
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	struct blk_req *todo, **todo_tail; /* for the workers */
	struct blk_req *done, **done_tail; /* for the event loop */
	unsigned busy; /* taken by a worker, not yet on done */
	bool quit;
};

static struct blk *to_blk(struct virtio_mmio_dev *dev)
{
	return container_of(dev, struct blk, mmio);
}

/* Moves whole bytes through iov at off, resuming after short transfers. */
static int rw_all(int fd, struct iovec *iov, unsigned nr, uint64_t off,
		  bool write)
{
	while (nr) {
		ssize_t n = write ? pwritev(fd, iov, (int)nr, (off_t)off)
				  : preadv(fd, iov, (int)nr, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* an error, or the file shrank */
		off += (uint64_t)n;
		while (nr && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			nr--;
		}
		if (nr) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static void execute(struct blk *b, struct blk_req *r)
{
	int rc = 0;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		rc = rw_all(b->fd, r->iov, r->nr_iov, r->offset, false);
		break;
	case VIRTIO_BLK_T_OUT:
		rc = rw_all(b->fd, r->iov, r->nr_iov, r->offset, true);
		/* A driver without FLUSH cannot ask for durability:
		 * each write is durable when it completes. */
		if (!rc && b->writethrough)
			rc = fdatasync(b->fd);
		break;
	case VIRTIO_BLK_T_FLUSH:
		rc = b->readonly ? 0 : fdatasync(b->fd);
		break;
	}
	r->status = rc ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

static void complete(struct blk *b, struct blk_req *r)
{
	__atomic_store_n(r->status_byte, r->status, __ATOMIC_RELAXED);
	virtq_push(&b->mmio.q[0].vq, r->head, r->used_len);
	free(r);
}

static void *worker(void *arg)
{
	struct blk *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct blk_req *r;
		uint64_t one = 1;

		while (!b->todo && !b->quit)
			pthread_cond_wait(&b->work, &b->lock);
		if (b->quit)
			break;
		r = b->todo;
		b->todo = r->next;
		if (!b->todo)
			b->todo_tail = &b->todo;
		b->busy++;
		pthread_mutex_unlock(&b->lock);

		execute(b, r);

		pthread_mutex_lock(&b->lock);
		r->next = NULL;
		*b->done_tail = r;
		b->done_tail = &r->next;
		if (!--b->busy)
			pthread_cond_broadcast(&b->idle);
		/* Under the lock, so that stop() draining the eventfd
		 * cannot leave a stale count behind. */
		if (write(b->efd, &one, sizeof(one)) < 0)
			abort(); /* an eventfd write only fails on overflow */
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static bool in_capacity(const struct blk *b, uint64_t sector, uint64_t len)
{
	return !(len % SECTOR) && sector <= b->sectors &&
	       len / SECTOR <= b->sectors - sector;
}

/* A request as parsed: finished already (io NULL), or I/O to do. */
struct parsed {
	uint8_t status;
	uint32_t used_len;
	struct blk_req *io;
};

static struct blk_req *io_req(const struct virtq_chain *c, uint32_t type,
			      uint64_t sector, unsigned first, unsigned nr,
			      size_t skip, size_t drop, uint32_t used_len)
{
	struct blk_req *r = calloc(1, sizeof(*r) + nr * sizeof(struct iovec));

	if (!r)
		return NULL;
	for (unsigned i = first; i < first + nr; i++) {
		struct iovec v = c->iov[i];
		size_t cut = skip < v.iov_len ? skip : v.iov_len;

		skip -= cut;
		v.iov_base = (uint8_t *)v.iov_base + cut;
		v.iov_len -= cut;
		if (i == first + nr - 1)
			v.iov_len -= drop < v.iov_len ? drop : v.iov_len;
		if (v.iov_len)
			r->iov[r->nr_iov++] = v;
	}
	r->type = type;
	r->offset = sector * SECTOR;
	r->head = c->head;
	r->used_len = used_len;
	return r;
}

/*
 * Parses chain c (the status byte is its last writable byte, section
 * 5.2.6). Errors of the request itself are answered in its status; only
 * a chain without a status byte breaks the device (returns why).
 */
static const char *parse(struct blk *b, const struct virtq_chain *c,
			 struct parsed *p)
{
	struct virtio_blk_outhdr hdr;
	uint64_t sector;
	uint32_t type;

	p->status = VIRTIO_BLK_S_IOERR;
	p->used_len = 1;
	p->io = NULL;
	if (!c->in_len)
		return "block request without a status byte";
	if (iov_to_buf(c->iov, c->nr_out, 0, &hdr, sizeof(hdr)) < sizeof(hdr))
		return NULL;
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (in_capacity(b, sector, c->in_len - 1))
			p->io = io_req(
			    c, type, sector, c->nr_out, c->nr_in, 0, 1,
			    c->in_len > UINT32_MAX ? UINT32_MAX
						   : (uint32_t)c->in_len);
		break;
	case VIRTIO_BLK_T_OUT:
		/* 5.2.6.2: a read-only device fails writes with IOERR. */
		if (!b->readonly &&
		    in_capacity(b, sector, c->out_len - sizeof(hdr)))
			p->io = io_req(c, type, sector, 0, c->nr_out,
				       sizeof(hdr), 0, 1);
		break;
	case VIRTIO_BLK_T_FLUSH:
		p->io = io_req(c, type, 0, 0, 0, 0, 0, 1);
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (c->in_len - 1 >= VIRTIO_BLK_ID_BYTES) {
			iov_from_buf(c->iov + c->nr_out, c->nr_in, 0, b->serial,
				     VIRTIO_BLK_ID_BYTES);
			p->status = VIRTIO_BLK_S_OK;
			p->used_len = VIRTIO_BLK_ID_BYTES + 1;
		}
		break;
	default:
		p->status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	/* Without memory for an I/O request it fails with IOERR. */
	return NULL;
}

static uint8_t *status_byte(const struct virtq_chain *c)
{
	const struct iovec *last = &c->iov[c->nr_out + c->nr_in - 1];

	return (uint8_t *)last->iov_base + last->iov_len - 1;
}

static void blk_notify(struct virtio_mmio_dev *dev, unsigned q)
{
	struct blk *b = to_blk(dev);
	struct virtq *vq = &dev->q[0].vq;
	bool pushed = false;
	const char *why = NULL;

	(void)q;
	while (virtio_mmio_running(dev) && dev->q[0].ready) {
		struct parsed p;

		if (virtq_pop(vq, &dev->chain, &why) <= 0)
			break;
		why = parse(b, &dev->chain, &p);
		if (why)
			break;
		if (p.io) {
			p.io->status_byte = status_byte(&dev->chain);
			if (b->nr_workers) {
				pthread_mutex_lock(&b->lock);
				p.io->next = NULL;
				*b->todo_tail = p.io;
				b->todo_tail = &p.io->next;
				pthread_cond_signal(&b->work);
				pthread_mutex_unlock(&b->lock);
				continue;
			}
			execute(b, p.io);
			complete(b, p.io);
		} else {
			__atomic_store_n(status_byte(&dev->chain), p.status,
					 __ATOMIC_RELAXED);
			virtq_push(vq, dev->chain.head, p.used_len);
		}
		pushed = true;
	}
	if (why)
		virtio_mmio_break(dev, why);
	else if (pushed)
		virtio_mmio_used(dev, 0);
}

static void blk_start(struct virtio_mmio_dev *dev)
{
	struct blk *b = to_blk(dev);

	/* Features are fixed from here to the next reset; workers see this
	 * through the lock that hands them requests. */
	b->writethrough = !virtio_has_feature(dev, VIRTIO_BLK_F_FLUSH);
	blk_notify(dev, 0);
}

static void free_list(struct blk_req *r)
{
	while (r) {
		struct blk_req *next = r->next;

		free(r);
		r = next;
	}
}

/* Drops what was not started, waits for the rest and drops it too: after
 * a reset no worker writes to guest memory and nothing reaches the used
 * ring. */
static void blk_stop(struct virtio_mmio_dev *dev)
{
	struct blk *b = to_blk(dev);
	uint64_t count;

	if (!b->nr_workers)
		return;
	pthread_mutex_lock(&b->lock);
	free_list(b->todo);
	b->todo = NULL;
	b->todo_tail = &b->todo;
	while (b->busy)
		pthread_cond_wait(&b->idle, &b->lock);
	free_list(b->done);
	b->done = NULL;
	b->done_tail = &b->done;
	if (read(b->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		abort();
	pthread_mutex_unlock(&b->lock);
}

static size_t blk_pollfds(struct virtio_mmio_dev *dev, struct pollfd *fds,
			  size_t max)
{
	struct blk *b = to_blk(dev);

	if (!b->nr_workers || !max)
		return 0;
	fds[0] = (struct pollfd){.fd = b->efd, .events = POLLIN};
	return 1;
}

static void blk_handle_fd(struct virtio_mmio_dev *dev, int fd, short revents)
{
	struct blk *b = to_blk(dev);
	struct blk_req *r;
	uint64_t count;

	if (!b->nr_workers || fd != b->efd || !(revents & POLLIN))
		return;
	pthread_mutex_lock(&b->lock);
	if (read(b->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		abort();
	r = b->done;
	b->done = NULL;
	b->done_tail = &b->done;
	pthread_mutex_unlock(&b->lock);
	if (!r)
		return;
	/* A queue the driver disabled (on its way to a reset) gets
	 * nothing more. */
	if (!virtio_mmio_running(dev) || !dev->q[0].ready) {
		free_list(r);
		return;
	}
	while (r) {
		struct blk_req *next = r->next;

		complete(b, r);
		r = next;
	}
	virtio_mmio_used(dev, 0);
}

static void blk_destroy(struct virtio_mmio_dev *dev)
{
	struct blk *b = to_blk(dev);

	if (b->nr_workers) {
		pthread_mutex_lock(&b->lock);
		b->quit = true;
		pthread_cond_broadcast(&b->work);
		pthread_mutex_unlock(&b->lock);
		for (unsigned i = 0; i < b->nr_workers; i++)
			pthread_join(b->workers[i], NULL);
		free_list(b->todo);
		free_list(b->done);
	}
	if (b->efd >= 0)
		close(b->efd);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->idle);
	close(b->fd);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
    .notify = blk_notify,
    .start = blk_start,
    .stop = blk_stop,
    .pollfds = blk_pollfds,
    .handle_fd = blk_handle_fd,
    .destroy = blk_destroy,
};

/* Size and logical block size of the image. */
static int image_size(int fd, uint64_t *bytes, uint32_t *block, char *err,
		      size_t errlen, const char *path)
{
	struct stat st;
	int ssz;

	if (fstat(fd, &st))
		goto fail;
	*block = SECTOR;
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s: not a regular file or a block device", path);
		return -EINVAL;
	}
	if (ioctl(fd, BLKGETSIZE64, bytes) || ioctl(fd, BLKSSZGET, &ssz))
		goto fail;
	if (ssz >= (int)SECTOR && ssz <= 65536 && !(ssz & (ssz - 1)))
		*block = (uint32_t)ssz;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -errno;
}

int virtio_blk_create(const struct virtio_mem *mem,
		      const struct virtio_blk_params *p,
		      struct virtio_mmio_dev **out, char *err, size_t errlen)
{
	struct virtio_blk_config cfg;
	struct blk *b;
	uint64_t bytes;
	uint32_t block;
	int rc;

	if (p->workers > VIRTIO_BLK_MAX_WORKERS) {
		snprintf(err, errlen, "at most %d block workers",
			 VIRTIO_BLK_MAX_WORKERS);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	b->efd = -1;
	b->todo_tail = &b->todo;
	b->done_tail = &b->done;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->idle, NULL);
	b->readonly = p->readonly;
	b->fd = open(p->path, (p->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", p->path,
			 strerror(errno));
		goto fail;
	}
	rc = image_size(b->fd, &bytes, &block, err, errlen, p->path);
	if (rc)
		goto fail;
	/* The bytes past the last whole sector are out of reach. */
	b->sectors = bytes / SECTOR;
	/* Zero-padded, no NUL when it takes all 20 bytes (5.2.6). */
	if (p->serial)
		memcpy(b->serial, p->serial,
		       strnlen(p->serial, sizeof(b->serial)));

	virtio_mmio_init(&b->mmio, &blk_ops, mem, VIRTIO_ID_BLOCK,
			 1ULL << VIRTIO_BLK_F_SEG_MAX |
			     1ULL << VIRTIO_BLK_F_BLK_SIZE |
			     1ULL << VIRTIO_BLK_F_FLUSH |
			     (p->readonly ? 1ULL << VIRTIO_BLK_F_RO : 0) |
			     1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			     1ULL << VIRTIO_RING_F_EVENT_IDX,
			 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = htole64(b->sectors);
	cfg.seg_max = htole32(BLK_SEG_MAX);
	cfg.blk_size = htole32(block);
	_Static_assert(sizeof(cfg) <= VIRTIO_CONFIG_MAX, "config space");
	memcpy(b->mmio.config, &cfg, sizeof(cfg));
	b->mmio.config_len = sizeof(cfg);

	if (p->workers) {
		b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (b->efd < 0) {
			rc = -errno;
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	for (; b->nr_workers < p->workers; b->nr_workers++) {
		rc = -pthread_create(&b->workers[b->nr_workers], NULL, worker,
				     b);
		if (rc) {
			snprintf(err, errlen, "cannot start a block worker: %s",
				 strerror(-rc));
			goto fail;
		}
	}
	*out = &b->mmio;
	return 0;
fail:
	if (b->fd >= 0) {
		blk_destroy(&b->mmio);
	} else {
		pthread_mutex_destroy(&b->lock);
		pthread_cond_destroy(&b->work);
		pthread_cond_destroy(&b->idle);
		free(b);
	}
	return rc;
}
