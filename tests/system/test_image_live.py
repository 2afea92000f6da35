#!/usr/bin/python3
"""Boot out/keel.iso (the live Debian Dom0) from SeaBIOS and OVMF.

QEMU TCG, -cpu max, 2 GiB, the ISO as a CD-ROM on AHCI and a virtio NIC.
The default GRUB entry "Keel + Dom0" must bring, in this order, Keel's
banner and root's automatic login on the serial console; then:
  - systemd finished booting: `systemctl is-system-running` says running
    or degraded (failed units are listed as comments)
  - the root file system is the overlay on the squashfs of the medium
  - the Dom0 kernel is the pinned one and sees a hypervisor
  - br0 got 10.0.2.15 by DHCP through the NIC that is its port, and
    carries that NIC's MAC address
  - there is something to read: the login message (what Keel is, Ctrl-A
    three times for its debug console), `man keel-install`, and the
    README and kickstart guide in /usr/share/doc/keel/
  - keel.ko is loaded, kl reaches Keel, `man kl` and kl's completion work
  - (UEFI boot) the README's first DomU: `kl create -c` of the sample
    DomU (debian.cfg) reaches its shell, which runs the pinned kernel;
    Ctrl-] returns to Dom0, `kl list` shows it, `kl destroy` ends it
  - (BIOS boot) the sample Debian disk DomU (debian-disk.cfg) on the
    qcow2 overlay Dom0 made at boot: systemd boots from the virtio disk
    to a login prompt, root logs in, its NIC gets a DHCP lease over br0;
    `kl shutdown` presses its power button and its console shows systemd
    reaching poweroff.target before the domain ends

The two boots are independent and run side by side (each keeps one host
CPU busy), so results of both come mixed, told apart by bios: and uefi:;
their serial logs are out/test-logs/image-live-{bios,uefi}.log.

Run by `make image-test` (image/image.mk), which sets KEEL_IMAGE_TESTS=1;
without it every result is skipped (this file is also found by
`make test`, where building the images would take too long).
"""
# suite-timeout: 2400

import functools
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

# From power-on to the autologin shell, generous for TCG.
BOOT_TIMEOUT = 900
KEEL_BANNER = r"Keel hypervisor"
ROOT_PROMPT = r"root@keel-live:[^\r\n]*# "
HYPERVISOR_DETECTED = r"Hypervisor detected: \S+"
DOMU_CONFIG = "/etc/keel/examples/debian.cfg"
# Debian's kernel booting as a DomU under Keel under TCG.
DOMU_DEADLINE = 600
DOMU_PROMPT = r"domU:[^\r\n]*# "
CTRL_RIGHT_BRACKET = "\x1d"
DISK_CONFIG = "/etc/keel/examples/debian-disk.cfg"
DISK_OVERLAY = "/var/lib/keel/debian-disk.qcow2"
DISK_LOGIN = r"keel-domu login: "
DISK_PROMPT = r"root@keel-domu:[^\r\n]*# "
POWEROFF_TARGET = r"Reached target.*(poweroff\.target|System Power Off)"


def check_shell(suite, machine, variant):
    def check(what, command, expect_re, timeout=60):
        output = machine.run(command, timeout)
        if re.search(expect_re, output):
            suite.ok("%s: %s" % (variant, what))
        else:
            suite.fail("%s: %s" % (variant, what),
                       "%r printed:\n%s" % (command, output))

    machine.run("export SYSTEMD_PAGER= SYSTEMD_COLORS=0", 10)
    keeltest.check_system_state(suite, machine, variant)
    keeltest.check_toolstack(suite, machine, variant)
    check("root is an overlay on the live squashfs",
          "findmnt -n -o FSTYPE / ; findmnt -n -o FSTYPE,SOURCE "
          "/run/rootfsbase", r"overlay[\s\S]*squashfs")
    check("uname -r is the pinned Debian kernel", "uname -r",
          r"^%s$" % keeltest.expected_kernel_release())
    check("dmesg shows a hypervisor detected",
          "dmesg | grep -m1 'Hypervisor detected'", HYPERVISOR_DETECTED)
    check("br0 gets 10.0.2.15 by DHCP",
          keeltest.br0_wait_command("10.0.2.15") + "; "
          "ip -4 -o addr show br0; "
          "networkctl --no-pager status br0 | head -n 25; "
          "networkctl --no-pager list; "
          "systemd-analyze critical-chain --no-pager "
          "systemd-networkd.service; "
          "journalctl -b -u systemd-networkd --no-pager | tail -n 15",
          r"inet 10\.0\.2\.15/",
          timeout=keeltest.BR0_WAIT_SECONDS + 120)
    keeltest.check_br0_mac(suite, machine, variant)
    check("the login message names Keel and its debug console",
          "cat /etc/motd", r"Keel, a small type-1 hypervisor[\s\S]*"
          r"Ctrl-A three times")
    check("man keel-install shows the installer's page",
          "MANPAGER=cat MANWIDTH=80 man keel-install 2>&1 | head -n 8",
          r"keel-install\s+\S\s+install Keel")
    check("Keel's README and kickstart guide are in /usr/share/doc/keel",
          "ls /usr/share/doc/keel", r"README\.md\s+kickstart\.md")


def check_first_domu(suite, machine, variant):
    """The README's "Your first DomU", as a participant types it: the
    sample DomU's shell through `kl create -c`, then Ctrl-] back to Dom0,
    `kl list` and `kl destroy`."""
    what = "%s: kl create -c %s reaches the DomU's shell" % (variant,
                                                           DOMU_CONFIG)
    machine.sendline("kl create -c " + DOMU_CONFIG)
    try:
        machine.expect(r"Keel DomU ready", DOMU_DEADLINE)
        machine.expect(DOMU_PROMPT, 120)
    except keeltest.TestFailure as e:
        suite.fail(what, e)
        return
    suite.ok(what)
    machine.sendline("uname -r")
    try:
        release = machine.expect(r"\n(6\.1\.\S+)\r*\n", 60).group(1)
        machine.expect(DOMU_PROMPT, 60)
        suite.check("%s: the DomU runs the pinned kernel" % variant,
                    release == keeltest.expected_kernel_release(), release)
    except keeltest.TestFailure as e:
        suite.fail("%s: the DomU runs the pinned kernel" % variant, e)
    machine.send(CTRL_RIGHT_BRACKET)
    try:
        machine.expect(ROOT_PROMPT, 60)
    except keeltest.TestFailure as e:
        suite.fail("%s: Ctrl-] goes back to Dom0" % variant, e)
        return
    out = machine.run("kl list", 60)
    suite.check("%s: kl list shows the DomU running" % variant,
                re.search(r"^debian\s+\d+\s+\d+\s+1\s+r", out, re.M),
                "kl list printed:\n%s" % out)
    out = machine.run("kl destroy debian; sleep 2; kl list", 60)
    suite.check("%s: kl destroy ends it" % variant,
                "debian" not in out.split("\n", 1)[-1] and
                re.search(r"^Domain-0\s+0\s", out, re.M),
                "kl destroy and kl list printed:\n%s" % out)


def check_debian_disk(suite, machine, variant):
    """The sample Debian disk DomU, as the README tells a participant:
    systemd from its qcow2 disk to a login prompt, DHCP, kl shutdown."""
    out = machine.run("qemu-img info %s | grep -E '^(file format|backing "
                      "file):'" % DISK_OVERLAY, 60)
    suite.check("%s: Dom0 made the Debian DomU's qcow2 overlay at boot"
                % variant, "file format: qcow2" in out and
                "debian-disk.qcow2" in out.split("backing file:")[-1],
                "qemu-img info printed:\n%s" % out)
    what = "%s: kl create -c %s boots systemd to a login prompt" % (
        variant, DISK_CONFIG)
    started = time.monotonic()
    machine.sendline("kl create -c " + DISK_CONFIG)
    try:
        machine.expect(DISK_LOGIN, DOMU_DEADLINE)
    except keeltest.TestFailure as e:
        suite.fail(what, e)
        machine.send(CTRL_RIGHT_BRACKET)
        machine.run("kl destroy debian-disk", 60)
        return
    suite.ok("%s (%.0f s)" % (what, time.monotonic() - started))
    machine.sendline("root")
    machine.expect(DISK_PROMPT, 120)
    machine.sendline("for i in $(seq 120); do ip -4 -o addr show scope "
                     "global | grep -q inet && break; sleep 1; done; "
                     "ip -4 -o addr show scope global; echo DHCP-$?-END")
    machine.expect(r"DHCP-\d+-END", 240)
    out = machine.child.before
    suite.check("%s: the Debian DomU's NIC gets a DHCP lease over br0"
                % variant, re.search(r"inet 10\.0\.2\.\d+/", out),
                "ip printed:\n%s" % out)
    machine.expect(DISK_PROMPT, 60)
    machine.send(CTRL_RIGHT_BRACKET)
    machine.expect(ROOT_PROMPT, 60)
    # Back on its console at once: systemd's shutdown takes seconds.
    what = ("%s: kl shutdown: systemd in the Debian DomU reaches "
            "poweroff.target and the domain ends" % variant)
    started = time.monotonic()
    machine.sendline("kl shutdown debian-disk && kl console debian-disk")
    try:
        machine.expect(POWEROFF_TARGET, DOMU_DEADLINE)
        machine.expect(ROOT_PROMPT, 300)
    except keeltest.TestFailure as e:
        suite.fail(what, e)
        machine.send(CTRL_RIGHT_BRACKET)
        machine.run("kl destroy debian-disk", 60)
        return
    log = machine.run("kl list; cat /var/log/keel/kl-debian-disk.log", 60)
    suite.check("%s (%.0f s)" % (what, time.monotonic() - started),
                "powered off" in log and
                not re.search(r"^debian-disk\s", log, re.M),
                "kl list and the owner's log:\n%s" % log)


def boot_live(suite, iso, uefi):
    variant = "uefi" if uefi else "bios"
    machine = keeltest.Machine(
        "image-live-" + variant, iso=iso, cpu="max", smp=1, mem="2G",
        uefi=uefi, timeout=BOOT_TIMEOUT,
        extra_args=["-nic", "user,model=virtio-net-pci"])
    with machine:
        try:
            machine.expect(r"Keel \+ Dom0", 120)
            machine.expect(KEEL_BANNER, 120)
        except keeltest.TestFailure as e:
            suite.fail("%s: GRUB boots Keel (banner)" % variant, e)
            return
        suite.ok("%s: GRUB boots Keel (banner)" % variant)
        try:
            machine.expect(ROOT_PROMPT)
        except keeltest.TestFailure as e:
            suite.fail("%s: root is logged in on the serial console" % variant,
                       e)
            return
        elapsed = time.monotonic() - machine.started_at
        suite.ok("%s: root is logged in on the serial console (%.0f s)"
                 % (variant, elapsed))
        try:
            check_shell(suite, machine, variant)
        except keeltest.TestFailure as e:
            suite.fail("%s: shell checks" % variant, e)
        # One DomU of each kind: the busybox one after UEFI's faster Dom0
        # boot, the Debian disk one (the longer) after BIOS's.
        try:
            if uefi:
                check_first_domu(suite, machine, variant)
            else:
                check_debian_disk(suite, machine, variant)
        except keeltest.TestFailure as e:
            suite.fail("%s: the sample DomU" % variant, e)


def main():
    suite = keeltest.Suite("live ISO: Keel + Debian Dom0")
    if os.environ.get("KEEL_IMAGE_TESTS") != "1":
        suite.skip("live ISO boots", "run by make image-test")
        suite.finish()
    iso = keeltest.out_path("keel.iso")
    if not os.path.exists(iso):
        suite.fail("live ISO exists", "%s is missing (make image)" % iso)
        suite.finish()
    keeltest.concurrently(*(functools.partial(boot_live, suite, iso, uefi)
                            for uefi in (False, True)))
    suite.finish()


if __name__ == "__main__":
    main()
