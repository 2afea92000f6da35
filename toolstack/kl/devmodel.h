/* SPDX-License-Identifier: MIT */
/*
 * A DomU's devices and the loop that serves them (DESIGN section 6): one
 * virtio-mmio window per disk= and per vif= entry, disks first, in the
 * MMIO hole from KL_DM_BASE, each with its own level-triggered GSI from
 * KL_DM_GSI0.
 *
 * The owner process runs them. kl create checks the configuration's
 * files and bridges (kl_dm_open), lays the windows out in the DSDT
 * (kl_dm_windows) and registers them with Keel before the start
 * (kl_dm_attach); the owner, after the fork, creates the back ends
 * (kl_dm_start: virtio-blk's worker threads must live in the process that
 * serves, and a qcow2 disk's qemu-nbd is its child) and serves
 * (kl_dm_serve). kl_dm_stop ends the back ends; it must come before the
 * domain's fd is closed, whose mapping of the ioreq page would otherwise
 * keep the domain alive.
 */
#ifndef KL_DEVMODEL_H
#define KL_DEVMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kl/acpi_domu.h>
#include <kl/xlcfg.h>
#include <public/keel.h>

#include "../virtio/virtio.h"

#define KL_DM_BASE   0xD0000000ULL /* in KEEL_DOMU_MMIO_HOLE */
#define KL_DM_STRIDE 0x1000ULL	   /* one page a window */
#define KL_DM_GSI0   16		   /* PCI's INTx range by habit */
#define KL_DM_MAX    8		   /* GSIs 16-23, the vIOAPIC's last */

struct kl_dm_dev {
	struct kl_dm *dm;
	struct virtio_mmio_dev *vdev; /* owner only, after kl_dm_start */
	uint64_t base;
	uint32_t gsi;
	int lock_fd;   /* a disk's image, flock()ed; -1 for a vif */
	pid_t nbd_pid; /* a qcow2 disk's qemu-nbd in the owner (nbd.h) */
	char nbd[16];  /* and the /dev/nbdN the back end serves */
	int doorbell;  /* Keel's range id of its QueueNotify */
	bool broken;   /* logged as broken (virtio_mmio_broken()) */
	char what[64]; /* "disk xvda", "vif kl-web" for the log */
};

struct kl_dm {
	const struct kl_domain_config *cfg;
	size_t nr;
	struct kl_dm_dev dev[KL_DM_MAX];
	int dfd;
	struct keel_ioreq_page *page;
	int8_t range_dev[KEEL_IOREQ_MAX_RANGES]; /* range id -> dev, or -1 */
	unsigned long ignored; /* accesses no device answered */
};

/*
 * Checks what c's disks and vifs need and takes the disks' locks (a
 * writable image once, a read-only one shared), printing why on failure:
 * 0 or -1, with nothing held then.
 */
int kl_dm_open(struct kl_dm *dm, const struct kl_domain_config *c);
/* The windows for the DSDT (dm->nr of them). */
void kl_dm_windows(const struct kl_dm *dm, struct kl_acpi_virtio *out);
/* Sets up the domain's ioreq page and registers every window with Keel:
 * before the domain starts. 0 or -1 after saying why. */
int kl_dm_attach(struct kl_dm *dm, int dfd);
/* In the owner: maps the ioreq page and creates the back ends on the
 * guest RAM in mem. 0, or -1 after logging why. */
int kl_dm_start(struct kl_dm *dm, const struct virtio_mem *mem);
/* Serves requests, doorbells and back-end events for up to timeout_ms
 * (less if a signal comes). 0, or -1 when the domain cannot be served. */
int kl_dm_serve(struct kl_dm *dm, int timeout_ms);
/* Stops the back ends and unmaps the ioreq page. */
void kl_dm_stop(struct kl_dm *dm);
/* Ends the qcow2 exports and drops the disks' locks (the domain is gone
 * for good). */
void kl_dm_close(struct kl_dm *dm);

#endif
