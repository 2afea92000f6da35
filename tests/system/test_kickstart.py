#!/usr/bin/python3
"""Unattended installation from out/keel.iso with kickstart.

How inst.ks= reaches the kernel: the live ISO's own GRUB entry "Keel
install to disk (kickstart)" (hotkey i) boots with inst.ks=cdrom:/ks.cfg;
the test puts the profile as /ks.cfg on a second CD-ROM, as a user would.

1. Install: kickstart/lab-server.ks, unchanged, on the second CD-ROM; a
   blank 8 GiB virtio disk; QEMU TCG -cpu max, 2 GiB, SeaBIOS. keel-install
   must report the installation and power the machine off.
2. Boot the installed disk alone (a copy-on-write overlay each time), from
   SeaBIOS and from OVMF: GRUB's default entry boots Keel; labadmin logs in
   on the serial console with the profile's password; then the host name,
   the user's sudo group, br0's static address and MAC (the NIC's), Dom0's
   command line (bootloader --append), time zone, locale, root on the
   disk's ext4, the firmware GRUB ran on (Keel's log) and the %post
   script's marks are checked, and systemd must be running or degraded.
   keel.ko is loaded and kl reaches Keel. On the SeaBIOS boot, update-grub
   (what every kernel upgrade runs) must regenerate a menu whose default
   is still Keel with the profile's --append, and the disk must boot it.
3. Refusal: kickstart/virt-install.ks with two lines broken; keel-install
   must name both lines and write nothing: the blank raw disk must still
   have no allocated block and its first MiB must be zeros.

Each boot keeps one host CPU busy, so independent boots run side by side:
the installation beside the refusal (each has its own disk and profile
CD-ROM; both read the ISO only), then the two boots of the installed disk
(each on its own overlay). Results of boots side by side come mixed, told
apart by their names; every boot has its serial log in out/test-logs/
(kickstart-install, kickstart-refused, kickstart-boot-{bios,uefi}).

Run by `make image-test` (KEEL_IMAGE_TESTS=1); skipped otherwise.
"""
# suite-timeout: 3600

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pexpect

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

KEEL_BANNER = r"Keel hypervisor"
INSTALL_ENTRY = r"Keel install to disk \(kickstart\)"
DISK_SIZE = 8 * 1024 * 1024 * 1024
BOOT_TIMEOUT = 900
INSTALL_TIMEOUT = 2400
# What kickstart/lab-server.ks sets up.
HOSTNAME = "keel-lab1"
USER = "labadmin"
PASSWORD = "keel-lab-admin"


def ks_cdrom(work, name, text):
    """An ISO 9660 image holding text as /ks.cfg."""
    tree = os.path.join(work, name + "-tree")
    os.makedirs(tree)
    with open(os.path.join(tree, "ks.cfg"), "w") as f:
        f.write(text)
    iso = os.path.join(work, name + ".iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "KS",
                    "-o", iso, tree], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return iso


def blank_disk(work, name):
    path = os.path.join(work, name + ".raw")
    with open(path, "wb") as f:
        f.truncate(DISK_SIZE)
    return path


def installer_machine(name, iso, disk, ks_iso):
    return keeltest.Machine(
        name, iso=iso, cpu="max", smp=1, mem="2G", timeout=BOOT_TIMEOUT,
        extra_args=["-drive", "file=%s,if=virtio,format=raw" % disk,
                    "-drive", "file=%s,media=cdrom,format=raw" % ks_iso,
                    "-nic", "user,model=virtio-net-pci", "-boot", "order=d"])


def start_installer(machine):
    """Choose the ISO's kickstart entry and wait for keel-install."""
    machine.expect(INSTALL_ENTRY, 120)
    machine.send("i")
    machine.expect(KEEL_BANNER, 120)
    machine.expect(r"keel-install: inst\.ks=cdrom:/ks\.cfg")


def install(suite, work, iso):
    disk = blank_disk(work, "installed")
    with open(os.path.join(keeltest.REPO_ROOT, "kickstart",
                           "lab-server.ks")) as f:
        ks_iso = ks_cdrom(work, "lab-server", f.read())
    machine = installer_machine("kickstart-install", iso, disk, ks_iso)
    with machine:
        try:
            start_installer(machine)
        except keeltest.TestFailure as e:
            suite.fail("the ISO's kickstart entry starts keel-install", e)
            return None
        suite.ok("the ISO's kickstart entry starts keel-install (%.0f s)"
                 % (time.monotonic() - machine.started_at))
        try:
            machine.expect([r"keel-install: installed Keel on /dev/vda in "
                            r"\d+ s", r"keel-install: error", r"error\(s\) in"],
                           INSTALL_TIMEOUT)
            if "installed Keel" not in machine.child.after:
                # Collect the rest of the error for the report.
                machine.child.expect(pexpect.TIMEOUT, timeout=10)
                raise keeltest.TestFailure("keel-install failed:\n" +
                                           machine.tail())
        except keeltest.TestFailure as e:
            suite.fail("keel-install installs lab-server.ks onto /dev/vda", e)
            return None
        suite.ok("keel-install installs lab-server.ks onto /dev/vda (%.0f s "
                 "after power-on)" % (time.monotonic() - machine.started_at))
        try:
            machine.expect(r"keel-install: powering off", 60)
            machine.child.expect(pexpect.EOF, timeout=300)
            powered_off = True
        except (keeltest.TestFailure, pexpect.TIMEOUT) as e:
            powered_off = False
            why = e
        if powered_off:
            suite.ok("the machine powers off (profile's poweroff)")
        else:
            suite.fail("the machine powers off (profile's poweroff)", why)
    return disk


def check_installed(suite, machine, variant):
    def check(what, command, expect_re, timeout=60):
        output = machine.run(command, timeout)
        suite.check("%s: %s" % (variant, what),
                    re.search(expect_re, output, re.MULTILINE),
                    "%r printed:\n%s" % (command, output))

    machine.run("export SYSTEMD_PAGER= SYSTEMD_COLORS=0", 10)
    check("host name from network --hostname", "hostname",
          r"^%s$" % HOSTNAME)
    check("labadmin is in the sudo group", "id -nG", r"\bsudo\b")
    check("Dom0 kernel has bootloader --append", "cat /proc/cmdline",
          r"root=UUID=\S+ .*consoleblank=0")
    check("time zone Europe/Berlin", "readlink /etc/localtime",
          r"zoneinfo/Europe/Berlin$")
    check("locale en_US.UTF-8 generated and set",
          "locale -a; cat /etc/default/locale",
          r"en_US\.utf8[\s\S]*LANG=en_US\.UTF-8")
    check("/ is ext4 on the disk's third partition",
          "findmnt -n -o SOURCE,FSTYPE /", r"^/dev/vda3 ext4$")
    check("/boot/efi is the EFI system partition",
          "findmnt -n -o SOURCE,FSTYPE /boot/efi", r"^/dev/vda2 vfat$")
    check("%post wrote /etc/motd", "cat /etc/motd",
          r"^Keel lab server %s, installed \d{4}-\d\d-\d\d$" % HOSTNAME)
    check("%post --log kept the script's output",
          "echo %s | sudo -S -p '' cat /root/ks-post.log" % PASSWORD,
          r"^post-install done$")
    check("root's password is locked",
          "echo %s | sudo -S -p '' passwd -S root" % PASSWORD,
          r"^root L ")
    suite.note("%s: / used and size (MiB): %s" % (variant, machine.run(
        "df -BM --output=used,size / | tail -n1", 30).strip()))
    keeltest.check_system_state(suite, machine, variant)
    keeltest.check_toolstack(suite, machine, variant,
                             "echo %s | sudo -S -p '' " % PASSWORD)
    # networkd configures br0 once a NIC has joined it and has carrier.
    check("br0 has the static address, default route via the gateway",
          keeltest.br0_wait_command("10.0.2.15") + "; "
          "ip -4 -o addr show br0; "
          "ip -4 route show default; networkctl --no-pager status br0 | "
          "head -n 20",
          r"inet 10\.0\.2\.15/24 [\s\S]*default via 10\.0\.2\.2 ",
          keeltest.BR0_WAIT_SECONDS + 120)
    keeltest.check_br0_mac(suite, machine, variant)


def boot_installed(suite, work, disk, uefi):
    variant = "uefi" if uefi else "bios"
    overlay = os.path.join(work, "boot-%s.qcow2" % variant)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                    "-b", disk, overlay], check=True)
    machine = keeltest.Machine(
        "kickstart-boot-" + variant, cpu="max", smp=1, mem="2G", uefi=uefi,
        timeout=BOOT_TIMEOUT,
        extra_args=["-drive", "file=%s,if=virtio,format=qcow2" % overlay,
                    "-nic", "user,model=virtio-net-pci"])
    with machine:
        try:
            machine.expect(r"Keel \+ Dom0", 120)
            machine.expect(KEEL_BANNER, 120)
        except keeltest.TestFailure as e:
            suite.fail("%s: the installed disk's GRUB boots Keel" % variant, e)
            return
        suite.ok("%s: the installed disk's GRUB boots Keel" % variant)
        # Dom0 is started without EFI services under Keel either way, so
        # the firmware is what Keel read from GRUB's multiboot2 tags.
        firmware = "UEFI" if uefi else "BIOS"
        try:
            said = machine.expect(r"boot loader: (\w+) firmware", 60).group(1)
        except keeltest.TestFailure as e:
            said = str(e)
        suite.check("%s: GRUB ran on %s firmware" % (variant, firmware),
                    said == firmware, "Keel's log says: %s" % said)
        try:
            machine.expect(r"%s login: " % HOSTNAME)
            machine.login(USER, PASSWORD, 120)
        except keeltest.TestFailure as e:
            suite.fail("%s: %s logs in on the serial console of %s"
                       % (variant, USER, HOSTNAME), e)
            return
        suite.ok("%s: %s logs in on the serial console of %s (%.0f s)"
                 % (variant, USER, HOSTNAME,
                    time.monotonic() - machine.started_at))
        try:
            check_installed(suite, machine, variant)
        except keeltest.TestFailure as e:
            suite.fail("%s: checks of the installed system" % variant, e)
            return
        if not uefi:
            update_grub(suite, machine, variant)
    if not uefi:
        boot_after_update_grub(suite, overlay, variant)


def update_grub(suite, machine, variant):
    """What a kernel upgrade does (its zz-update-grub hook): regenerate the
    menu with grub-mkconfig. Keel must stay the default entry, with the
    profile's Dom0 arguments; then the machine powers off for the next
    boot."""
    sudo = "echo %s | sudo -S -p '' " % PASSWORD
    out = machine.run(sudo + "update-grub 2>&1; echo status=$?", 300)
    suite.check("%s: update-grub runs and finds Keel" % variant,
                "status=0" in out and "Found Keel with Dom0 kernel" in out,
                "update-grub printed:\n%s" % out)
    menu = machine.run("grep -E 'set default=|^menuentry|module2 .*vmlinuz' "
                       "/boot/grub/grub.cfg", 60)
    suite.check("%s: the regenerated menu's default is Keel + Dom0, with "
                "the profile's --append" % variant,
                re.search(r'^\s*set default="Keel \+ Dom0"$', menu, re.M) and
                re.search(r"^menuentry 'Keel \+ Dom0' ", menu, re.M) and
                re.search(r"module2 /boot/vmlinuz-\S+ root=UUID=\S+ ro "
                          r".*consoleblank=0", menu),
                "grub.cfg has:\n%s" % menu)
    machine.sendline(sudo + "poweroff")
    try:
        machine.child.expect(pexpect.EOF, timeout=300)
    except pexpect.TIMEOUT:
        pass


def boot_after_update_grub(suite, overlay, variant):
    machine = keeltest.Machine(
        "kickstart-boot-%s-update-grub" % variant, cpu="max", smp=1,
        mem="2G", timeout=BOOT_TIMEOUT,
        extra_args=["-drive", "file=%s,if=virtio,format=qcow2" % overlay,
                    "-nic", "user,model=virtio-net-pci"])
    name = "%s: after update-grub the default entry still boots Keel and " \
        "Dom0 with the profile's arguments" % variant
    with machine:
        try:
            machine.expect(r"Keel \+ Dom0", 120)
            machine.expect(KEEL_BANNER, 120)
            machine.expect(r"%s login: " % HOSTNAME)
            machine.login(USER, PASSWORD, 120)
            out = machine.run("cat /proc/cmdline; "
                              "grep -c '^keel ' /proc/modules", 60)
        except keeltest.TestFailure as e:
            suite.fail(name, e)
            return
        suite.check(name, "consoleblank=0" in out and
                    re.search(r"^1$", out, re.M), out)


def broken_profile():
    """kickstart/virt-install.ks with two lines broken, and those lines'
    numbers: the time zone loses its argument, the static network its
    netmask."""
    with open(os.path.join(keeltest.REPO_ROOT, "kickstart",
                           "virt-install.ks")) as f:
        lines = f.read().split("\n")
    zone = lines.index("timezone Etc/UTC")
    lines[zone] = "timezone"
    network = lines.index("network --bootproto=dhcp --hostname=keel-vm")
    lines[network] = "network --bootproto=static --ip=10.0.2.15 " \
        "--hostname=keel-vm"
    return "\n".join(lines), zone + 1, network + 1


def refuse_broken(suite, work, iso):
    text, zone_line, network_line = broken_profile()
    disk = blank_disk(work, "untouched")
    ks_iso = ks_cdrom(work, "broken", text)
    machine = installer_machine("kickstart-refused", iso, disk, ks_iso)
    with machine:
        try:
            start_installer(machine)
            machine.expect(r"cdrom:/ks\.cfg:%d: timezone: missing argument"
                           % zone_line)
            machine.expect(r"cdrom:/ks\.cfg:%d: network: --bootproto=static "
                           r"needs --ip and --netmask" % network_line)
            machine.expect(r"keel-install: 2 error\(s\) in cdrom:/ks\.cfg: "
                           r"nothing was written to any disk")
        except keeltest.TestFailure as e:
            suite.fail("a broken profile is refused with its line numbers "
                       "(%d, %d)" % (zone_line, network_line), e)
            return
        suite.ok("a broken profile is refused with its line numbers (%d, %d)"
                 % (zone_line, network_line))
    with open(disk, "rb") as f:
        first_mib = f.read(1024 * 1024)
    suite.check("the disk's first MiB is still zeros",
                first_mib == bytes(len(first_mib)) and
                len(first_mib) == 1024 * 1024, "non-zero bytes found")
    blocks = os.stat(disk).st_blocks
    suite.check("nothing at all was written to the disk", blocks == 0,
                "%d blocks allocated in the sparse disk file" % blocks)


def main():
    suite = keeltest.Suite("kickstart installation from the live ISO")
    if os.environ.get("KEEL_IMAGE_TESTS") != "1":
        suite.skip("kickstart install", "run by make image-test")
        suite.finish()
    iso = keeltest.out_path("keel.iso")
    if not os.path.exists(iso):
        suite.fail("live ISO exists", "%s is missing (make image)" % iso)
        suite.finish()
    work = tempfile.mkdtemp(prefix="kickstart-", dir=keeltest.out_path())
    try:
        disk, _ = keeltest.concurrently(
            functools.partial(install, suite, work, iso),
            functools.partial(refuse_broken, suite, work, iso))
        if disk is not None:
            keeltest.concurrently(*(
                functools.partial(boot_installed, suite, work, disk, uefi)
                for uefi in (False, True)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
