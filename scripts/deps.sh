#!/bin/bash
# Install the packages Keel's build and tests need (Debian 12).
#
#   scripts/deps.sh           install whatever is missing (apt-get, as root or
#                             through sudo); does nothing if all are present
#   scripts/deps.sh --check   exit 0 if all are present, else list the missing
#                             ones and exit 1; installs nothing
set -euo pipefail

packages=(
	# build
	gcc make binutils python3 clang-format
	# host unit tests; iasl disassembles the DomU ACPI tables the
	# toolstack builds (tests/toolstack/test_acpi_iasl.py)
	libcmocka-dev acpica-tools
	# the toolstack's virtio back ends: the virtio, TUN and bridge uapi
	# headers (linux/virtio_*.h, linux/if_tun.h, linux/sockios.h)
	linux-libc-dev
	# fuzzing (make fuzz, the "fuzz" suite): clang, its libFuzzer and
	# sanitizer runtimes (a separate package on Debian 12), and
	# llvm-symbolizer for readable crash stacks
	clang libclang-rt-14-dev llvm
	# test harness
	python3-pexpect
	# emulators and firmware
	qemu-system-x86 qemu-utils ovmf
	bochs bochsbios vgabios bochs-term
	# boot media: GRUB for BIOS and UEFI, ISO and FAT tools, disk images
	grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
	dosfstools gdisk
	# Dom0 initramfs and kernel package handling
	busybox-static cpio zstd xz-utils
	# product images (make image): Debian Dom0 root filesystem, live squashfs,
	# the qcow2's ext4 root (mkfs.ext4 -d); their tests: libvirt domain XML
	# validation (virt-xml-validate runs xmllint), ssh into the booted qcow2
	debootstrap squashfs-tools e2fsprogs libvirt-clients libxml2-utils
	openssh-client
	# depmod indexes keel.ko in the images' module trees
	kmod
	# scripts/virt-install.sh wraps virt-install (its test runs it against
	# libvirt's test:///default driver, which needs no daemon)
	virtinst
	# scripts/mk-seed.sh: cloud-localds makes the NoCloud seed; PyYAML
	# puts the -k keys into the user-data
	cloud-image-utils python3-yaml
	# the keel-install man page is checked with groff and man
	# (tests/system/test_image_docs.py)
	man-db
)
# keel.ko is built against the headers of the Dom0 kernel pinned in
# image/kernel-version (dom0-rootfs/kmod/).
kernel_abi=$(tr -d '[:space:]' < "$(dirname "$0")/../image/kernel-version")
packages+=("linux-headers-$kernel_abi-amd64")

missing_packages() {
	# Installed packages print "ii"; unknown ones print nothing (and an
	# error on stderr, which is expected here).
	local installed
	installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		"${packages[@]}" 2>/dev/null | awk '$1 == "ii" { print $2 }') || true
	local p
	for p in "${packages[@]}"; do
		grep -qx -- "$p" <<<"$installed" || echo "$p"
	done
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "deps: missing packages:" $missing >&2
	exit 1
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	as_root=(sudo)
fi
echo "deps: installing:" $missing
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
# shellcheck disable=SC2086 # one package per word
"${as_root[@]}" apt-get install -y -q --no-install-recommends $missing
still=$(missing_packages)
if [ -n "$still" ]; then
	echo "deps: still missing after install:" $still >&2
	exit 1
fi
