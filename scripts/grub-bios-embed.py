#!/usr/bin/python3
"""Make a GPT disk image boot GRUB from a BIOS, without loop devices.

Does what grub-bios-setup does for a disk with a BIOS boot partition:
  - core.img (grub-mkimage -O i386-pc) goes into the BIOS boot partition;
  - the first 440 bytes of the protective MBR become GRUB's boot.img, told
    where core.img starts;
  - the block list at the end of core.img's first sector (diskboot.img)
    is told where the rest of core.img is.
Offsets are those of GRUB 2's include/grub/i386/pc/boot.h and
include/grub/offsets.h (the on-disk format of boot.img and diskboot.img).

Usage: grub-bios-embed.py DISK BOOT_IMG CORE_IMG START_SECTOR SECTORS
  START_SECTOR, SECTORS: the BIOS boot partition (512-byte sectors)
"""

import struct
import sys

SECTOR = 512
# boot.img: the sector number of core.img's first sector (64-bit LBA).
KERNEL_SECTOR = 0x5C
# boot.img: a jump that forces drive 0x80 when the BIOS passes a floppy
# number; grub-bios-setup replaces it with two NOPs for hard disks.
DRIVE_CHECK = 0x66
# boot.img ends its code here; the Windows NT disk signature, the MBR
# partition table and 0x55AA that follow belong to the disk.
MBR_CODE_END = 0x1B8
# diskboot.img: the last 12 bytes of the sector are the block list entry
# {u64 start, u16 sectors, u16 segment} of the rest of core.img.
BLOCKLIST = SECTOR - 12


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    disk, boot_path, core_path = sys.argv[1:4]
    start, sectors = int(sys.argv[4]), int(sys.argv[5])
    boot = bytearray(open(boot_path, "rb").read())
    core = bytearray(open(core_path, "rb").read())
    if len(boot) != SECTOR:
        sys.exit("boot.img is %d bytes, not %d" % (len(boot), SECTOR))
    core += b"\0" * (-len(core) % SECTOR)
    core_sectors = len(core) // SECTOR
    if core_sectors > sectors:
        sys.exit("core.img (%d sectors) does not fit the BIOS boot "
                 "partition (%d sectors)" % (core_sectors, sectors))
    _, _, segment = struct.unpack_from("<QHH", core, BLOCKLIST)
    struct.pack_into("<QHH", core, BLOCKLIST, start + 1, core_sectors - 1,
                     segment)
    struct.pack_into("<Q", boot, KERNEL_SECTOR, start)
    boot[DRIVE_CHECK:DRIVE_CHECK + 2] = b"\x90\x90"

    with open(disk, "r+b") as f:
        mbr = bytearray(f.read(SECTOR))
        if mbr[510:512] != b"\x55\xaa":
            sys.exit("%s has no protective MBR (run sgdisk first)" % disk)
        mbr[:MBR_CODE_END] = boot[:MBR_CODE_END]
        f.seek(0)
        f.write(mbr)
        f.seek(start * SECTOR)
        f.write(core)


if __name__ == "__main__":
    main()
