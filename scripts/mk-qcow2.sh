#!/bin/bash
# Assemble out/keel.qcow2: a GPT disk that boots from BIOS and UEFI.
#
#   partition 1  BIOS boot (1 MiB): GRUB's core.img for BIOS firmware
#   partition 2  EFI system partition (FAT, 32 MiB): /EFI/BOOT/BOOTX64.EFI
#   partition 3  ext4 root, label keel-root: the Dom0 system with Keel,
#                the kernel and initramfs in /boot and GRUB's menu in
#                /boot/grub/grub.cfg (image/grub-disk.cfg)
#
# Both GRUB images find the root by its file system UUID. Built without
# loop devices or mounts: mkfs.ext4 -d, mtools, sgdisk on a plain file,
# scripts/grub-bios-embed.py for the BIOS boot code.
#
# Usage (as root, so that file ownership is kept):
#   scripts/mk-qcow2.sh OUTPUT.qcow2 DISK_ROOT KEEL_ELF
#   DISK_ROOT: scripts/mk-image-root.sh BASE disk DIR (it gets /boot/keel.elf,
#   /boot/grub and /etc/fstab here)
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: $0 OUTPUT.qcow2 DISK_ROOT KEEL_ELF" >&2
	exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
output=$1
root=$2
keel_elf=$3
MiB=$((1024 * 1024))
SECTOR=512

release=$(ls "$root/lib/modules")
uuid=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$(dirname "$output")"
work=$(mktemp -d "$(dirname "$output")/.qcow2-XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the root file system's boot files --------------------------------------
install -m 644 "$keel_elf" "$root/boot/keel.elf"
mkdir -p "$root/boot/grub"
# The tree shares files with the base through hard links: replace files,
# never write through them (that would change the live image too).
rm -f "$root/boot/grub/grub.cfg" "$root/etc/fstab"
sed -e "s/@ROOT_UUID@/$uuid/g" -e "s/@KERNEL_RELEASE@/$release/g" -e "s/@DOM0_APPEND@//g" \
	"$repo/image/grub-disk.cfg" >"$root/boot/grub/grub.cfg"
# GRUB loads its modules from $prefix/<platform>/ as menu entries need them.
for platform in i386-pc x86_64-efi; do
	rm -rf "$root/boot/grub/$platform"
	mkdir -p "$root/boot/grub/$platform"
	cp /usr/lib/grub/$platform/*.mod /usr/lib/grub/$platform/*.lst \
		"$root/boot/grub/$platform/"
done
cat >"$root/etc/fstab" <<FSTAB
# <file system>	<mount point>	<type>	<options>	<dump>	<pass>
UUID=$uuid	/	ext4	errors=remount-ro	0	1
FSTAB

# --- GRUB for BIOS and UEFI ---------------------------------------------------
cat >"$work/early.cfg" <<EARLY
search --no-floppy --fs-uuid --set=root $uuid
set prefix=(\$root)/boot/grub
EARLY
early_modules=(part_gpt ext2 search search_fs_uuid normal configfile)
grub-mkimage -O i386-pc -o "$work/core.img" -p /boot/grub -c "$work/early.cfg" \
	biosdisk "${early_modules[@]}"
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -p /boot/grub \
	-c "$work/early.cfg" "${early_modules[@]}"

esp_mib=32
mkfs.vfat -C -n KEEL-ESP "$work/esp.img" $((esp_mib * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# --- the root file system ------------------------------------------------------
# Room for the content plus a quarter and 256 MiB: the image stays small
# and cloud-init grows the partition to the disk on first boot.
used_mib=$(($(du -s --block-size=1M "$root" | cut -f1)))
root_mib=$(((used_mib + used_mib / 4 + 256 + 3) / 4 * 4))
mkfs.ext4 -q -F -L keel-root -U "$uuid" -d "$root" "$work/root.img" "${root_mib}M" >/dev/null

# --- the disk: GPT, then the partitions copied in --------------------------------
bios_start=$((1 * MiB / SECTOR))
bios_sectors=$((1 * MiB / SECTOR))
esp_start=$((2 * MiB / SECTOR))
root_start=$(((2 + esp_mib) * MiB / SECTOR))
# One MiB at the end for the backup GPT.
disk_mib=$((2 + esp_mib + root_mib + 1))
truncate -s "${disk_mib}M" "$work/disk.raw"
sgdisk --clear \
	--new=1:$bios_start:+1M --typecode=1:ef02 --change-name=1:bios-boot \
	--new=2:$esp_start:+${esp_mib}M --typecode=2:ef00 --change-name=2:esp \
	--new=3:$root_start:+${root_mib}M --typecode=3:8304 --change-name=3:keel-root \
	"$work/disk.raw" >/dev/null
dd if="$work/esp.img" of="$work/disk.raw" bs=1M seek=2 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$work/disk.raw" bs=1M seek=$((2 + esp_mib)) \
	conv=notrunc,sparse status=none
"$repo/scripts/grub-bios-embed.py" "$work/disk.raw" /usr/lib/grub/i386-pc/boot.img \
	"$work/core.img" $bios_start $bios_sectors

qemu-img convert -c -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
mv "$work/disk.qcow2" "$output"
echo "mk-qcow2: $output (virtual ${disk_mib} MiB, root ${root_mib} MiB" \
	"with ${used_mib} MiB used, file $(du -h "$output" | cut -f1))"
