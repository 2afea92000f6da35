/* SPDX-License-Identifier: MIT */
/*
 * qcow2 disks: qemu-nbd (QEMU's own qcow2 code, not a parser of ours)
 * connects the image to a free /dev/nbdN of Dom0's kernel, and the
 * virtio-blk back end serves that block device like a raw disk.
 *
 * The owner process runs qemu-nbd as its child, in the foreground, with
 * SIGTERM as its parent-death signal: however the owner ends (destroy,
 * poweroff, an error, SIGKILL), qemu-nbd gets SIGTERM, flushes the image
 * and releases the device. Nothing is exported before the owner runs, so
 * a refused kl create leaves nothing behind.
 */
#ifndef KL_NBD_H
#define KL_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Connects the qcow2 image to a free NBD device (loading nbd.ko if
 * needed): its path in dev, qemu-nbd's pid in *pid. 0, or -1 after
 * printing why, with *pid 0 (nothing runs then).
 */
int kl_nbd_export(const char *what, const char *image, bool readonly, char *dev,
		  size_t devlen, pid_t *pid);
/* Ends the export: qemu-nbd flushes, disconnects and exits. */
void kl_nbd_stop(pid_t pid);

#endif
