#!/bin/bash
# Assemble out/keel.iso, the live ISO: GRUB (BIOS + UEFI, hybrid CD/USB),
# Keel, the Dom0 kernel and dracut initramfs, and the live root file system
# (/LiveOS/squashfs.img, found by dracut's dmsquash-live through the volume
# label KEEL_LIVE). Menu: image/grub-live.cfg.
#
# Usage: scripts/mk-live-iso.sh OUTPUT.iso SQUASHFS KEEL_ELF VMLINUZ INITRD
#   SQUASHFS: scripts/mk-squashfs.sh
set -euo pipefail

if [ $# -ne 5 ]; then
	echo "usage: $0 OUTPUT.iso SQUASHFS KEEL_ELF VMLINUZ INITRD" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/mkiso.sh" --volid KEEL_LIVE "$1" "$repo/image/grub-live.cfg" \
	boot/keel.elf="$3" boot/vmlinuz="$4" boot/initrd.img="$5" \
	LiveOS/squashfs.img="$2"
echo "mk-live-iso: $1 ($(du -h "$1" | cut -f1))"
