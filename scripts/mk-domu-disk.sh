#!/bin/bash
# Build the sample Debian DomU's disk (/etc/keel/examples/debian-disk.cfg):
# a compressed qcow2 holding one ext4 file system (no partition table: the
# DomU initramfs mounts root=/dev/vda), derived from Dom0's base root
# filesystem (scripts/mk-rootfs.sh) rather than a second debootstrap.
#
# What only Dom0 needs is purged (installer, GRUB, dracut, cloud-init, the
# kernel package: the DomU boots Dom0's kernel with its own initramfs),
# dom0-rootfs/overlay-domu/ configures it (hostname, DHCP on its NIC with
# networkd), and units a short-lived lab guest does not need are masked.
# systemd-logind powers it off when `kl shutdown` presses its power button.
#
# Usage (as root): scripts/mk-domu-disk.sh BASE_ROOTFS OUTPUT.qcow2
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BASE_ROOTFS OUTPUT.qcow2" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
base=$(realpath "$1")
out=$(realpath -m "$2")
tree=$out.root
raw=$out.raw
# The file system's size; the qcow2 stores only what is used.
size=2G

if [ "$(id -u)" -ne 0 ]; then
	echo "mk-domu-disk: needs root (chroot, file ownership)" >&2
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

started=$SECONDS
umount -l "$tree/proc" 2>/dev/null || true
rm -rf --one-file-system "$tree" "$raw"
# A copy, not hard links: dpkg rewrites files of the tree.
cp -a "$base" "$tree"
mount -t proc proc "$tree/proc" && mounted+=("$tree/proc")
kernel=$(basename "$(find "$tree/lib/modules" -mindepth 1 -maxdepth 1 | head -n 1)")
chroot "$tree" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
	apt-get purge -y -q --autoremove \
	"linux-image-$kernel" linux-base cloud-init cloud-guest-utils \
	dracut dracut-live dracut-core grub2-common grub-pc-bin \
	grub-efi-amd64-bin gdisk dosfstools locales man-db pciutils \
	qemu-utils python3 python3-minimal >"$out.log" 2>&1 || {
	tail -n 30 "$out.log" >&2
	exit 1
}
cleanup
mounted=()
rm -rf "${tree:?}/boot"/* "$tree/lib/modules" "$tree/var/cache/apt"/*.bin \
	"$tree/var/lib/apt/lists"/*

cp -r --remove-destination --no-preserve=ownership \
	"$repo/dom0-rootfs/overlay-domu/." "$tree/"
# SSH host keys are made on first boot (Dom0's unit does the same).
install -m 644 "$repo/dom0-rootfs/overlay/etc/systemd/system/keel-ssh-hostkeys.service" \
	"$tree/etc/systemd/system/"
systemctl --quiet --root="$tree" enable systemd-networkd.service \
	systemd-resolved.service keel-ssh-hostkeys.service
# Periodic maintenance a lab DomU does not live long enough for, and
# systemd-firstboot (its first boot has an empty machine-id), which may
# prompt on the console for settings the image has made already.
systemctl --quiet --root="$tree" mask apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
	e2scrub_reap.service fstrim.timer systemd-networkd-wait-online.service \
	systemd-firstboot.service
ln -sf ../run/systemd/resolve/stub-resolv.conf "$tree/etc/resolv.conf"
# A login prompt on the serial console with no password for root (Debian's
# pam_unix takes an empty one; sshd does not).
chroot "$tree" passwd -q -d root

mke2fs -q -t ext4 -L keel-domu -d "$tree" "$raw" "$size"
qemu-img convert -c -O qcow2 "$raw" "$out"
rm -rf --one-file-system "$tree" "$raw"
echo "mk-domu-disk: $out ($(du -h "$out" | cut -f1), ext4 of $size) in" \
	"$((SECONDS - started)) s"
