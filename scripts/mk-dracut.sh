#!/bin/bash
# Build the Dom0 initramfs with dracut inside the Dom0 root filesystem, for
# the kernel installed there (the pinned one), with image/dracut.conf.
# Running dracut in the root filesystem rather than on the build host keeps
# the host's own initramfs tooling untouched and takes the modules and
# binaries from the system that will run them.
#
# Usage (as root): scripts/mk-dracut.sh ROOTFS_DIR OUTPUT
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 ROOTFS_DIR OUTPUT" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
rootfs=$(realpath "$1")
output=$(realpath -m "$2")
release=$(ls "$rootfs/lib/modules")
if [ "$(echo "$release" | wc -w)" -ne 1 ]; then
	echo "mk-dracut: expected one kernel in $rootfs/lib/modules, found: $release" >&2
	exit 1
fi

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
mount -t proc proc "$rootfs/proc" && mounted+=("$rootfs/proc")
mount -t sysfs sys "$rootfs/sys" && mounted+=("$rootfs/sys")
mount --bind /dev "$rootfs/dev" && mounted+=("$rootfs/dev")

install -m 644 "$repo/image/dracut.conf" "$rootfs/etc/dracut.conf.d/keel.conf"
log=$output.log
mkdir -p "$(dirname "$output")"
chroot "$rootfs" env LC_ALL=C.UTF-8 dracut --force --kver "$release" \
	"/boot/initrd.img-$release" >"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	exit 1
}
# Fail here, not at boot, if a driver or the live module did not make it.
listing=$(chroot "$rootfs" lsinitrd "/boot/initrd.img-$release")
for needed in virtio_blk.ko ahci.ko nvme.ko usb-storage.ko uas.ko sr_mod.ko \
	squashfs.ko isofs.ko overlay.ko dmsquash-live-root; do
	if ! grep -q "/$needed" <<<"$listing"; then
		echo "mk-dracut: $needed is missing from the initramfs" >&2
		exit 1
	fi
done
cp "$rootfs/boot/initrd.img-$release" "$output.tmp"
mv "$output.tmp" "$output"
echo "mk-dracut: $output ($release, $(du -h "$output" | cut -f1))"
