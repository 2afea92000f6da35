#!/usr/bin/python3
"""Keel's acceptance boot: out/keel-test.iso brings up Dom0 under Keel.

For each machine below, QEMU (TCG, AMD SVM) boots the ISO's default entry
"Keel + Dom0" with a virtio NIC and a virtio disk, and the test requires,
within BOOT_DEADLINE seconds of power-on, Keel's banner and then the Dom0
root shell; at that shell:
  - uname -r is the pinned Debian kernel
  - dmesg shows a hypervisor detected and x2APIC routing in use, and no
    SEV/SME, unchecked MSR access or FPU trouble (the guest CPU policy)
  - eth0 got 10.0.2.15 by DHCP
  - /dev/vda reads the disk image's bytes
  - the LAPIC timer and virtio interrupt counters in /proc/interrupts grow
test_rescue.py runs the same shell checks without Keel.
"""
# suite-timeout: 900
# suite-parallel: yes

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import dom0_checks as checks  # noqa: E402

DISK_SIZE = 1024 * 1024
# From power-on to the Dom0 shell prompt.
BOOT_DEADLINE = 120
KEEL_BANNER = r"Keel hypervisor"
# Linux 6.1: default_setup_apic_routing() (arch/x86/kernel/apic/probe_64.c).
X2APIC_IN_USE = (r"Switched APIC routing to (physical|cluster) x2apic"
                 r"|x2apic enabled")

# (name, -cpu, memory, UEFI firmware)
MACHINES = [
    ("max-2G-bios", "max", "2G", False),
    ("EPYC-4G-bios", "EPYC", "4G", False),
    # Zen 2 and Zen 3 models: speculation controls, RDPID, more leaves.
    ("EPYC-Rome-2G-bios", "EPYC-Rome", "2G", False),
    ("EPYC-Milan-2G-bios", "EPYC-Milan", "2G", False),
    ("max-2G-uefi", "max", "2G", True),
]


def boot_dom0(suite, iso, disk, disk_sha256, name, cpu, mem, uefi):
    machine = keeltest.Machine(
        "dom0-" + name, iso=iso, cpu=cpu, smp=2, mem=mem, uefi=uefi,
        timeout=BOOT_DEADLINE,
        extra_args=["-nic", "user,model=virtio-net-pci",
                    "-drive", "file=%s,if=virtio,format=raw" % disk])
    with machine:
        deadline = time.monotonic() + BOOT_DEADLINE
        try:
            machine.expect(KEEL_BANNER)
        except keeltest.TestFailure as e:
            suite.fail("%s: Keel prints its banner" % name, e)
            return
        suite.ok("%s: Keel prints its banner" % name)
        try:
            machine.wait_for_shell(
                timeout=max(1, deadline - time.monotonic()))
        except keeltest.TestFailure as e:
            suite.fail("%s: Dom0 root shell within %d s"
                       % (name, BOOT_DEADLINE), e)
            return
        suite.ok("%s: Dom0 root shell within %d s" % (name, BOOT_DEADLINE))
        for what, problem in checks.run_checks(
                checks.dom0_under_keel(machine) + [
                ("dmesg shows x2APIC in use",
                 lambda: checks.check_dmesg(machine, X2APIC_IN_USE,
                                            "x2APIC routing")),
                ("eth0 gets %s by DHCP" % checks.DHCP_ADDRESS,
                 lambda: checks.check_dhcp_address(machine)),
                ("/dev/vda reads the disk image's bytes",
                 lambda: checks.check_disk_bytes(machine, DISK_SIZE,
                                                 disk_sha256)),
                ("LAPIC timer and virtio interrupt counters grow",
                 lambda: checks.check_interrupts_grow(machine))]):
            if problem:
                suite.fail("%s: %s" % (name, what), problem)
            else:
                suite.ok("%s: %s" % (name, what))


def main():
    suite = keeltest.Suite("Keel + Dom0 acceptance boot")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("ISO exists", "%s is missing (make test-iso)" % iso)
        suite.finish()
    work = tempfile.mkdtemp(prefix="dom0-boot-", dir=keeltest.out_path())
    try:
        disk = os.path.join(work, "disk.img")
        disk_sha256 = keeltest.make_pattern_disk(disk, DISK_SIZE,
                                                 seed="dom0-boot")
        for name, cpu, mem, uefi in MACHINES:
            boot_dom0(suite, iso, disk, disk_sha256, name, cpu, mem, uefi)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
