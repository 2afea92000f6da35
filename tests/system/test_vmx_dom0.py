#!/usr/bin/python3
"""Keel on Intel VMX boots Debian's Linux as Dom0 under Bochs (issue 4).

A GRUB ISO built here loads out/keel.elf with the pinned Debian kernel
(build/kernel/vmlinuz) and the Dom0 test initramfs
(out/dom0-initramfs.cpio.gz) as Dom0; Bochs, model corei7_haswell_4770
(VMX with EPT and unrestricted guest, TESTING.md), boots it. Checked:

  - Keel's banner and `virtualization: Intel VMX ...` (the VMX backend)
  - the Dom0 initramfs banner and its root shell prompt
  - at that shell, `uname -r` is the pinned kernel release
  - dmesg shows a hypervisor detected (Linux saw Keel's CPUID leaves)

Bochs runs about 50M instructions per second; the boot takes minutes (the
time to the shell is printed as a TAP comment).

  tests/system/test_vmx_dom0.py
"""
# suite-timeout: 1200

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import dom0_checks as checks  # noqa: E402

MEMORY = "512M"
# Power-on to Keel's banner: the BIOS, GRUB and loading ~10 MB of modules
# from the emulated CD.
BANNER_TIMEOUT = 300
# Power-on to the Dom0 shell prompt.
SHELL_DEADLINE = 900
KEEL_BANNER = r"Keel hypervisor \d+\.\d+"
VIRT_LINE = r"virtualization: ([^\r\n]*)\r*\n"
NO_VIRT = r"Keel cannot run on this CPU"
CRASH_LINE = r"d0: domain crashed: [^\r\n]*"
# Linux 6.1, init_hypervisor_platform() (arch/x86/kernel/cpu/hypervisor.c).
HYPERVISOR_DETECTED = r"Hypervisor detected: \S+"
# Dom0's command line: as in image/grub.cfg, plus cryptomgr.notests: the
# kernel's crypto self-tests (crypto_algapi_init) are 16 s of guest time,
# about a third of the kernel's boot under Bochs, and test no part of Keel.
DOM0_CMDLINE = "console=ttyS0,115200 pci=nomsi cryptomgr.notests=1"
KEEL_CMDLINE = ""


def boot(suite, iso):
    machine = keeltest.Machine("vmx-dom0", iso=iso, smp=1, mem=MEMORY,
                               timeout=SHELL_DEADLINE, backend="bochs")
    with machine:
        try:
            machine.expect(KEEL_BANNER, BANNER_TIMEOUT)
            index = machine.child.expect([VIRT_LINE, NO_VIRT],
                                         timeout=BANNER_TIMEOUT)
            if index != 0 or "Intel VMX" not in machine.child.match.group(1):
                suite.fail("Keel chooses VMX",
                           "Keel did not choose VMX:\n" + machine.tail())
                return
        except keeltest.TestFailure as e:
            suite.fail("Keel chooses VMX", e)
            return
        suite.ok("Keel chooses VMX")
        # A domain crash ends the wait early instead of at the deadline.
        for what, pattern in [("Dom0 banner", re.escape(keeltest.DOM0_BANNER)),
                              ("Dom0 root shell", keeltest.DOM0_PROMPT)]:
            remaining = SHELL_DEADLINE - (time.monotonic() -
                                          machine.started_at)
            try:
                machine.expect([pattern, CRASH_LINE], max(1, remaining))
            except keeltest.TestFailure as e:
                suite.fail("%s within %d s" % (what, SHELL_DEADLINE), e)
                return
            if re.match(CRASH_LINE, machine.child.match.group(0)):
                suite.fail("%s within %d s" % (what, SHELL_DEADLINE),
                           machine.tail())
                return
        elapsed = time.monotonic() - machine.started_at
        suite.ok("Dom0 root shell within %d s" % SHELL_DEADLINE)
        print("# power-on to the Dom0 shell: %.0f s" % elapsed, flush=True)
        for what, check in [
                ("uname -r is the pinned Debian kernel",
                 lambda: checks.check_kernel_release(machine)),
                ("dmesg shows a hypervisor detected",
                 lambda: checks.check_dmesg(machine, HYPERVISOR_DETECTED,
                                            "hypervisor detection"))]:
            try:
                problem = check()
            except keeltest.TestFailure as e:
                problem = str(e)
            if problem:
                suite.fail(what, problem)
            else:
                suite.ok(what)


def main():
    suite = keeltest.Suite("Keel on Intel VMX boots Dom0 Linux under Bochs")
    keel_elf = keeltest.out_path("keel.elf")
    kernel = keeltest.build_path("kernel", "vmlinuz")
    initramfs = keeltest.out_path("dom0-initramfs.cpio.gz")
    missing = [(path, target) for path, target in
               [(keel_elf, "make keel"), (kernel, "make kernel"),
                (initramfs, "make initramfs")] if not os.path.exists(path)]
    if missing:
        for path, target in missing:
            suite.fail("inputs exist", "%s is missing (%s)" % (path, target))
        suite.finish()
    iso = keeltest.out_path("vmx", "dom0.iso")
    keeltest.build_iso(iso, keel_elf,
                       [(kernel, DOM0_CMDLINE), (initramfs, "")],
                       keel_cmdline=KEEL_CMDLINE)
    boot(suite, iso)
    suite.finish()


if __name__ == "__main__":
    main()
