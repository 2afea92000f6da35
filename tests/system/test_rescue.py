#!/usr/bin/python3
"""Boot the "Linux without Keel (rescue)" entry of out/keel-test.iso.

Debian's kernel and the Dom0 initramfs on the emulated machine alone, from
SeaBIOS and from OVMF (the ISO is hybrid). Checks the root shell, the
kernel release, the DHCP address, the bytes of a virtio disk and that
interrupts arrive: the same checks test_dom0_boot.py runs under Keel, so a
failure there that passes here points at Keel. Without Keel underneath,
keel.ko must refuse to load with a clear message and `kl` must say so.

The entry is chosen through its GRUB hotkey ("r") while the menu waits.
If out/keel-test.iso could not be built (Keel itself fails to build), the test
still runs on an ISO with the same image/grub.cfg, kernel and initramfs but
no keel.elf: GRUB reads an entry's files only when that entry boots.
"""
# suite-timeout: 600
# suite-parallel: yes

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import dom0_checks as checks  # noqa: E402

DISK_SIZE = 1024 * 1024
BOOT_TIMEOUT = 120


def check_keel_refused(machine):
    """keel.ko found no Keel: it said why, /init said it did not load, and
    kl points at the module. None if so, else what is wrong."""
    problems = []
    dmesg = machine.run("dmesg | grep 'keel:'", timeout=60)
    if "not running under the Keel hypervisor" not in dmesg:
        problems.append("dmesg has no refusal from keel.ko: %r" % dmesg)
    log = keeltest.dom0_stream(machine.log_text())
    if "init: keel.ko not loaded" not in log:
        problems.append("/init did not say keel.ko is not loaded")
    out = machine.run("kl info; echo status=$?", timeout=60)
    if "keel.ko is not loaded (modprobe keel)" not in out or \
            "status=0" in out:
        problems.append("kl info without keel.ko said %r" % out)
    return "\n".join(problems) or None


def boot_rescue(suite, iso, disk, disk_sha256, uefi):
    variant = "uefi" if uefi else "bios"
    name = "rescue-" + variant
    machine = keeltest.Machine(
        name, iso=iso, cpu="max", smp=1, mem="1G", uefi=uefi,
        timeout=BOOT_TIMEOUT,
        extra_args=["-nic", "user,model=virtio-net-pci",
                    "-drive", "file=%s,if=virtio,format=raw" % disk])
    with machine:
        try:
            machine.expect(r"Linux without Keel \(rescue\)")
            machine.send("r")
            # GRUB's `linux` command (only the rescue entry uses it) puts
            # BOOT_IMAGE= first on the kernel command line.
            machine.expect(r"Command line: BOOT_IMAGE=/boot/vmlinuz",
                           timeout=60)
            machine.wait_for_shell()
        except keeltest.TestFailure as e:
            suite.fail("%s: boots to the Dom0 root shell" % variant, e)
            return
        suite.ok("%s: boots to the Dom0 root shell" % variant)
        for what, problem in checks.run_checks([
                ("uname -r is the pinned Debian kernel",
                 lambda: checks.check_kernel_release(machine)),
                ("eth0 gets %s by DHCP" % checks.DHCP_ADDRESS,
                 lambda: checks.check_dhcp_address(machine)),
                ("/dev/vda reads the disk image's bytes",
                 lambda: checks.check_disk_bytes(machine, DISK_SIZE,
                                                 disk_sha256)),
                ("LAPIC timer and virtio interrupt counters grow",
                 lambda: checks.check_interrupts_grow(machine)),
                ("keel.ko refuses to load without Keel; kl says so",
                 lambda: check_keel_refused(machine))]):
            if problem:
                suite.fail("%s: %s" % (variant, what), problem)
            else:
                suite.ok("%s: %s" % (variant, what))


def make_rescue_iso(iso):
    with open(os.path.join(keeltest.REPO_ROOT, "image", "grub.cfg")) as f:
        grub_cfg = f.read()
    keeltest.make_grub_iso(iso, {
        "boot/vmlinuz": keeltest.build_path("kernel", "vmlinuz"),
        "boot/initrd.img": keeltest.out_path("dom0-initramfs.cpio.gz"),
    }, grub_cfg)


def main():
    suite = keeltest.Suite("rescue boot of the ISO (Linux without Keel)")
    os.makedirs(keeltest.out_path(), exist_ok=True)
    work = tempfile.mkdtemp(prefix="rescue-", dir=keeltest.out_path())
    try:
        iso = keeltest.out_path("keel-test.iso")
        if not os.path.exists(iso):
            print("# %s is missing: using an ISO without keel.elf" % iso)
            iso = os.path.join(work, "rescue.iso")
            try:
                make_rescue_iso(iso)
            except (OSError, RuntimeError) as e:
                suite.fail("rescue ISO can be assembled", e)
                suite.finish()
        disk = os.path.join(work, "disk.img")
        disk_sha256 = keeltest.make_pattern_disk(disk, DISK_SIZE,
                                                 seed="rescue")
        for uefi in (False, True):
            boot_rescue(suite, iso, disk, disk_sha256, uefi)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
