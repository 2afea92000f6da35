#!/bin/bash
# Assemble a hybrid BIOS+UEFI GRUB ISO.
#
# Usage: scripts/mkiso.sh [--volid LABEL] OUTPUT.iso GRUB_CFG ISO_PATH=HOST_FILE...
#   e.g. scripts/mkiso.sh out/keel-test.iso image/grub.cfg \
#            boot/keel.elf=out/keel.elf boot/vmlinuz=build/kernel/vmlinuz
# GRUB_CFG becomes /boot/grub/grub.cfg. The ISO is staged in a private
# directory next to OUTPUT and renamed into place when complete.
# --volid sets the ISO 9660 volume label (what root=live:CDLABEL= finds).
set -euo pipefail

volid=()
if [ "${1:-}" = "--volid" ]; then
	volid=(-volid "$2")
	shift 2
fi

if [ $# -lt 2 ]; then
	echo "usage: $0 [--volid LABEL] OUTPUT.iso GRUB_CFG ISO_PATH=HOST_FILE..." >&2
	exit 2
fi
output=$1
grub_cfg=$2
shift 2

mkdir -p "$(dirname "$output")"
stage=$(mktemp -d "$(dirname "$output")/.iso-XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/boot/grub"
cp "$grub_cfg" "$stage/root/boot/grub/grub.cfg"
for mapping in "$@"; do
	dest=${mapping%%=*}
	src=${mapping#*=}
	mkdir -p "$(dirname "$stage/root/$dest")"
	# A hard link saves copying the kernel; copy across file systems.
	ln "$src" "$stage/root/$dest" 2>/dev/null || cp "$src" "$stage/root/$dest"
done
if ! TMPDIR=$stage grub-mkrescue -o "$stage/image.iso" "$stage/root" \
	"${volid[@]}" \
	>"$stage/log" 2>&1; then
	cat "$stage/log" >&2
	exit 1
fi
mv "$stage/image.iso" "$output"
