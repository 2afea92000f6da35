#!/bin/bash
# Stage the root filesystem of one Keel image: the base root filesystem
# (scripts/mk-rootfs.sh) plus the configuration of dom0-rootfs/overlay/ and
# of the image's own overlay, with its systemd units enabled.
#
# Usage (as root):
#   scripts/mk-image-root.sh BASE_ROOTFS live|disk DEST KMOD KL DOMU_INITRD \
#       DOMU_DISK [GUEST.bin...]
#   live  the live ISO's squashfs (overlay-live/: autologin, no cloud-init;
#         the kickstart installer kickstart/keel-install and what it needs)
#   disk  the qcow2's root (overlay-disk/: serial getty, cloud-init)
# KMOD is keel.ko (built for the pinned kernel), loaded at every boot; KL
# the toolstack's `kl` command; DOMU_INITRD the busybox DomU's initramfs
# (dom0-rootfs/domu.mk), which the sample configurations boot with the
# image's own kernel; DOMU_DISK the sample Debian DomU's read-only disk
# (scripts/mk-domu-disk.sh). The GUESTs are freestanding test guests
# (tests/guests/) that the course labs (docs/labs/) create with the sample
# configurations, installed in /usr/share/keel/guests.
#
# DEST shares the base's files through hard links (fast, little space);
# overlay files replace links rather than write through them.
set -euo pipefail

if [ $# -lt 7 ]; then
	echo "usage: $0 BASE_ROOTFS live|disk DEST KMOD KL DOMU_INITRD DOMU_DISK [GUEST.bin...]" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
base=$(realpath "$1")
variant=$2
dest=$(realpath -m "$3")
kmod=$4
kl=$5
domu_initrd=$6
domu_disk=$7
shift 7
guests=("$@")
case $variant in
live | disk) ;;
*)
	echo "mk-image-root: variant must be live or disk" >&2
	exit 2
	;;
esac

rm -rf --one-file-system "$dest"
cp -al "$base" "$dest"
for overlay in "$repo/dom0-rootfs/overlay" "$repo/dom0-rootfs/overlay-$variant"; do
	[ -d "$overlay" ] || continue
	cp -r --remove-destination --no-preserve=ownership "$overlay/." "$dest/"
done

units=(systemd-networkd.service systemd-resolved.service
	keel-br0-ports.service keel-ssh-hostkeys.service keel-domu-disk.service)
if [ "$variant" = disk ]; then
	# A login prompt on COM1 even when the kernel's console is elsewhere.
	units+=(serial-getty@ttyS0.service)
else
	# Runs only with inst.ks= on the kernel command line.
	units+=(keel-kickstart.service)
fi
systemctl --quiet --root="$dest" enable "${units[@]}"
# Dom0's door to Keel and the toolstack. depmod writes each module index
# file anew and renames it into place, so the base tree's hard-linked
# copies stay as they are (tests/system/test_image_docs.py checks it).
kver=$(basename "$(ls -d "$dest"/lib/modules/*/ | head -n 1)")
install -D -m 644 "$kmod" "$dest/lib/modules/$kver/updates/keel.ko"
depmod -b "$dest" "$kver"
mkdir -p "$dest/etc/modules-load.d"
echo keel >"$dest/etc/modules-load.d/keel.conf"
install -m 755 "$kl" "$dest/usr/sbin/kl"
install -D -m 644 "$repo/toolstack/kl/kl.1" "$dest/usr/share/man/man1/kl.1"
install -D -m 644 "$repo/toolstack/kl/kl.bash-completion" \
	"$dest/usr/share/bash-completion/completions/kl"
# The DomU that /etc/keel/examples/ boots: the pinned kernel (a hard link,
# so it outlives the package's own copy after a kernel upgrade; its
# modules are in the DomU's initramfs) and the busybox initramfs.
mkdir -p "$dest/usr/share/keel/domu" "$dest/etc/keel/examples"
ln -f "$dest/boot/vmlinuz-$kver" "$dest/usr/share/keel/domu/vmlinuz"
install -m 644 "$domu_initrd" "$dest/usr/share/keel/domu/initrd.img"
install -m 444 "$domu_disk" "$dest/usr/share/keel/domu/debian-disk.qcow2"
install -m 644 "$repo"/dom0-rootfs/examples/*.cfg "$dest/etc/keel/examples/"
if [ ${#guests[@]} -gt 0 ]; then
	install -D -m 644 -t "$dest/usr/share/keel/guests" "${guests[@]}"
fi
# update-grub, which every kernel upgrade runs, keeps Keel in the menu and
# as its default entry.
install -D -m 755 "$repo/image/grub.d/20_linux_keel" "$dest/etc/grub.d/20_linux_keel"
install -D -m 644 "$repo/image/grub.d/keel.cfg" "$dest/etc/default/grub.d/keel.cfg"
# Keel's documentation (dpkg's lean rules drop other packages' docs, and
# these files are not dpkg's): the README and the kickstart guide that the
# login message (overlay/etc/motd) points to.
install -D -m 644 "$repo/README.md" "$dest/usr/share/doc/keel/README.md"
install -D -m 644 "$repo/kickstart/README.md" "$dest/usr/share/doc/keel/kickstart.md"
install -D -m 644 -t "$dest/usr/share/doc/keel/labs" "$repo"/docs/labs/*.md
if [ "$variant" = live ]; then
	# The kickstart installer (kickstart/keel-install) copies this tree to
	# the target disk, less the live system's own files; it needs the disk
	# image's GRUB menu and the size of the tree.
	install -m 755 "$repo/kickstart/keel-install" "$dest/usr/sbin/keel-install"
	# mk-rootfs.sh empties /usr/share/man; Keel's own pages go back in.
	install -D -m 644 "$repo/kickstart/keel-install.8" \
		"$dest/usr/share/man/man8/keel-install.8"
	mkdir -p "$dest/usr/share/keel"
	install -m 644 "$repo/image/grub-disk.cfg" "$dest/usr/share/keel/grub-disk.cfg"
	{
		(cd "$repo/dom0-rootfs/overlay-live" && find . ! -type d | sed 's|^\./|/|')
		echo /etc/systemd/system/multi-user.target.wants/keel-kickstart.service
		echo /usr/sbin/keel-install
		echo /usr/share/man/man8/keel-install.8
		echo /usr/share/keel/grub-disk.cfg
		echo /usr/share/keel/live-only-files
		echo /usr/share/keel/rootfs-size-mib
	} >"$dest/usr/share/keel/live-only-files"
	du -s --block-size=1M "$dest" | cut -f1 >"$dest/usr/share/keel/rootfs-size-mib"

	# dmsquash-live mounts the root; nothing for systemd to remount. Replace
	# the file rather than write through the hard link to the base tree.
	rm -f "$dest/etc/fstab"
	echo "# live system: / is an overlay on the squashfs (dmsquash-live)" \
		>"$dest/etc/fstab"
fi
# systemd-resolved serves the DHCP lease's DNS servers on 127.0.0.53.
ln -sf ../run/systemd/resolve/stub-resolv.conf "$dest/etc/resolv.conf"
echo "mk-image-root: $dest ($variant)"
