#!/bin/bash
# Build the base of Keel's Dom0 root filesystem: Debian bookworm from
# debootstrap (minbase), the packages of dom0-rootfs/packages and the Dom0
# kernel package. Configuration files come later (scripts/mk-image-root.sh),
# so changing them does not re-run this slow step.
#
# Usage (as root): scripts/mk-rootfs.sh ROOTFS_DIR KERNEL_DEB
#   ROOTFS_DIR  created (replaced) when complete; built in ROOTFS_DIR.tmp
#   KERNEL_DEB  linux-image-*.deb that scripts/fetch-kernel.sh downloaded
#
# The archive is the Debian mirror this machine's apt uses (first Debian
# URI in /etc/apt/sources.list*), and its security suite.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 ROOTFS_DIR KERNEL_DEB" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
rootfs=$(realpath -m "$1")
kernel_deb=$(realpath "$2")
suite=bookworm
tmp=$rootfs.tmp

if [ "$(id -u)" -ne 0 ]; then
	echo "mk-rootfs: needs root (debootstrap, chroot)" >&2
	exit 1
fi

# "URIs: http://deb.debian.org/debian" (deb822) or "deb http://... bookworm main".
apt_uris() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' \
			-e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' |
		tr ' ' '\n' | grep -v '^$' || true
}
mirror=$(apt_uris | grep -E '/debian/?$' | head -n1)
security=$(apt_uris | grep -E '/debian-security/?$' | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}

packages=$(sed -e 's/#.*//' "$repo/dom0-rootfs/packages" | tr -s '[:space:]' ' ')

mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

# A failed earlier run may have left mounts under the old tree.
for m in dev/pts dev sys proc; do
	umount -l "$tmp/$m" 2>/dev/null || true
done
rm -rf --one-file-system "$tmp"
# The build log sits beside the tree: its directory must exist on a fresh
# checkout.
mkdir -p "$(dirname "$rootfs")"

echo "mk-rootfs: debootstrap $suite (minbase) from $mirror"
started=$SECONDS
debootstrap --variant=minbase --arch=amd64 "$suite" "$tmp" "$mirror" \
	>"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	exit 1
}
echo "mk-rootfs: debootstrap done in $((SECONDS - started)) s"

# Lean-install rules must be in place before the packages come.
cp -a "$repo/dom0-rootfs/overlay/etc/dpkg/dpkg.cfg.d/." "$tmp/etc/dpkg/dpkg.cfg.d/"
cp -a "$repo/dom0-rootfs/overlay/etc/apt/apt.conf.d/." "$tmp/etc/apt/apt.conf.d/"
cat >"$tmp/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
# No daemons start inside the build chroot.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"

mount -t proc proc "$tmp/proc" && mounted+=("$tmp/proc")
mount -t sysfs sys "$tmp/sys" && mounted+=("$tmp/sys")
mount --bind /dev "$tmp/dev" && mounted+=("$tmp/dev")
mount --bind /dev/pts "$tmp/dev/pts" && mounted+=("$tmp/dev/pts")

in_root() {
	chroot "$tmp" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

echo "mk-rootfs: installing: $packages"
started=$SECONDS
# Name resolution in the chroot is the host's: systemd-resolved's package
# points /etc/resolv.conf at a stub resolver that does not run here (the
# image gets the stub link back in scripts/mk-image-root.sh).
cp --remove-destination /etc/resolv.conf "$tmp/etc/resolv.conf"
in_root apt-get update -q >>"$tmp.log" 2>&1
# linux-base: what the kernel package needs besides kmod and an initramfs
# tool (dracut).
# shellcheck disable=SC2086 # one package per word
in_root apt-get install -y -q $packages linux-base >>"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	exit 1
}
echo "mk-rootfs: packages done in $((SECONDS - started)) s"

# The kernel from the very .deb the images boot. INITRD=No: the initramfs
# is built later with Keel's dracut configuration (scripts/mk-dracut.sh).
cp "$kernel_deb" "$tmp/tmp/kernel.deb"
in_root env INITRD=No dpkg -i /tmp/kernel.deb >>"$tmp.log" 2>&1 || {
	tail -n 30 "$tmp.log" >&2
	exit 1
}
rm -f "$tmp/tmp/kernel.deb"

in_root apt-get clean
# debootstrap's own packages came before the lean-install rules
# (dom0-rootfs/overlay/etc/dpkg/dpkg.cfg.d/keel-lean): apply them to those.
find "$tmp/usr/share/doc" -type f ! -name copyright -delete
find "$tmp/usr/share/doc" -depth -type d -empty -delete
rm -rf "$tmp"/usr/share/man/* "$tmp"/usr/share/info/*
find "$tmp/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias \
	-exec rm -rf {} +
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin
# Every machine made from the image gets its own identity on first boot.
rm -f "$tmp"/etc/ssh/ssh_host_*
: >"$tmp/etc/machine-id"
rm -f "$tmp/var/lib/dbus/machine-id"
rm -f "$tmp/usr/sbin/policy-rc.d"

cleanup
mounted=()
rm -rf --one-file-system "$rootfs"
mv "$tmp" "$rootfs"
mv "$tmp.log" "$rootfs.log"
echo "mk-rootfs: $rootfs ($(du -sh --apparent-size "$rootfs" | cut -f1))"
