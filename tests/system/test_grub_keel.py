#!/usr/bin/python3
"""update-grub keeps Keel: image/grub.d/ run by grub-mkconfig on the host.

The images install image/grub.d/20_linux_keel as /etc/grub.d/20_linux_keel
and keel.cfg as /etc/default/grub.d/keel.cfg. Here the host's own
grub-mkconfig (with Debian's 00_header and 10_linux beside them) runs in a
private mount namespace where /boot, /etc/grub.d and /etc/default are
temporary trees: two kernels (6.1.0-56 with an initramfs, 6.1.0-9
without, so version order is not text order), keel.elf, and a leftover
`.dpkg-tmp` kernel that must be ignored. Checked:
  - grub-mkconfig succeeds and grub-script-check accepts the whole menu
  - the default entry is "Keel + Dom0", which boots keel.elf with the
    newest kernel as Dom0 (Dom0's console arguments, its initramfs); then
    the serial-only entry and one entry for the older kernel, without an
    initramfs module; no entry for the leftover
  - GRUB_KEEL_DEFAULT=false in /etc/default/grub leaves Debian's default
    (0) and GRUB_CMDLINE_KEEL reaches the multiboot2 lines
  - GRUB_DISABLE_KEEL=true, or no /boot/keel.elf, gives no Keel entry
The installed disk booting such a menu is test_kickstart's part.
"""
# suite-timeout: 180
# suite-parallel: yes

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

GRUB_D = os.path.join(keeltest.REPO_ROOT, "image", "grub.d")
# What Debian's grub2-common puts in /etc/default/grub, less comments.
DEBIAN_DEFAULTS = """GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
"""
NEW, OLD = "6.1.0-56-amd64", "6.1.0-9-amd64"
DOM0_ARGS = "console=tty0 console=ttyS0,115200 pci=nomsi"


def make_trees(work, extra_defaults="", keel_elf=True):
    """The three trees grub-mkconfig reads, under work."""
    boot = os.path.join(work, "boot")
    grub_d = os.path.join(work, "grub.d")
    default = os.path.join(work, "default")
    os.makedirs(boot)
    os.makedirs(grub_d)
    os.makedirs(os.path.join(default, "grub.d"))
    names = ["vmlinuz-" + NEW, "initrd.img-" + NEW, "vmlinuz-" + OLD,
             "vmlinuz-%s.dpkg-tmp" % NEW] + (["keel.elf"] if keel_elf else [])
    for name in names:
        with open(os.path.join(boot, name), "w") as f:
            f.write("not a real %s\n" % name)
    for script in ("00_header", "10_linux"):
        shutil.copy(os.path.join("/etc/grub.d", script), grub_d)
    shutil.copy(os.path.join(GRUB_D, "20_linux_keel"), grub_d)
    shutil.copy(os.path.join(GRUB_D, "keel.cfg"),
                os.path.join(default, "grub.d"))
    with open(os.path.join(default, "grub"), "w") as f:
        f.write(DEBIAN_DEFAULTS + extra_defaults)
    return boot, grub_d, default


def mkconfig(work, **kwargs):
    """grub-mkconfig's menu over the trees: (exit status, menu, stderr)."""
    boot, grub_d, default = make_trees(work, **kwargs)
    script = ("mount --bind %s /boot && mount --bind %s /etc/grub.d && "
              "mount --bind %s /etc/default && exec grub-mkconfig"
              % (boot, grub_d, default))
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private",
                           "sh", "-c", script], capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def keel_entries(menu):
    """{title: body} of the top-level Keel entries, in menu order."""
    return dict(re.findall(r"^menuentry '(Keel[^']*)' --class keel[^\n]*\{"
                           r"\n(.*?)^\}", menu, re.M | re.S))


def default_entry(menu):
    """The header's default (the one not taken from next_entry)."""
    found = [d for d in re.findall(r'^\s*set default="([^"]*)"', menu, re.M)
             if d != "${next_entry}"]
    return found[0] if len(found) == 1 else found


def check_default_menu(suite, work):
    rc, menu, err = mkconfig(os.path.join(work, "default"))
    suite.check("grub-mkconfig succeeds with 20_linux_keel", rc == 0,
                "exit %d:\n%s" % (rc, err))
    path = os.path.join(work, "grub.cfg")
    with open(path, "w") as f:
        f.write(menu)
    check = subprocess.run(["grub-script-check", path], capture_output=True,
                           text=True)
    suite.check("grub-script-check accepts the whole menu",
                check.returncode == 0 and menu,
                check.stdout + check.stderr)
    suite.check("the default entry is Keel + Dom0",
                default_entry(menu) == "Keel + Dom0",
                "default %r" % default_entry(menu))
    entries = keel_entries(menu)
    titles = list(entries)
    suite.check("Keel entries: newest kernel, serial only, older kernel; no "
                "leftover", titles == ["Keel + Dom0",
                                       "Keel + Dom0, serial console only",
                                       "Keel + Dom0 (Linux %s)" % OLD],
                "titles %r" % titles)
    suite.check("no Keel entry has an empty line",
                entries and not any(not line.strip()
                                    for body in entries.values()
                                    for line in body.rstrip("\n").split("\n")),
                "entries %r" % entries)
    first = entries.get("Keel + Dom0", "")
    suite.check("Keel + Dom0 loads keel.elf, the newest kernel with Dom0's "
                "arguments, and its initramfs",
                re.search(r"^\s*multiboot2 \S*/keel\.elf$", first, re.M) and
                re.search(r"^\s*module2 \S*/vmlinuz-%s root=\S+ ro %s$"
                          % (re.escape(NEW), re.escape(DOM0_ARGS)), first,
                          re.M) and
                re.search(r"^\s*module2 \S*/initrd\.img-%s$" % re.escape(NEW),
                          first, re.M), first)
    serial = entries.get("Keel + Dom0, serial console only", "")
    suite.check("the serial-only entry writes to the serial line only",
                re.search(r"^\s*terminal_output serial$", serial, re.M),
                serial)
    old = entries.get("Keel + Dom0 (Linux %s)" % OLD, "")
    suite.check("the older kernel's entry has no initramfs module",
                re.search(r"module2 \S*/vmlinuz-%s " % re.escape(OLD), old)
                and "initrd" not in old, old)


def check_settings(suite, work):
    rc, menu, err = mkconfig(os.path.join(work, "keel-not-default"),
                             extra_defaults='GRUB_KEEL_DEFAULT=false\n'
                             'GRUB_CMDLINE_KEEL="maxcpus=2"\n')
    suite.check("GRUB_KEEL_DEFAULT=false leaves Debian's default entry",
                rc == 0 and default_entry(menu) == "0",
                "exit %d, default %r\n%s" % (rc, default_entry(menu), err))
    lines = re.findall(r"^\s*multiboot2 .*$", menu, re.M)
    suite.check("GRUB_CMDLINE_KEEL reaches every multiboot2 line",
                len(lines) == 3 and
                all(line.endswith("/keel.elf maxcpus=2") for line in lines),
                "multiboot2 lines %r" % lines)
    rc, menu, err = mkconfig(os.path.join(work, "disabled"),
                             extra_defaults="GRUB_DISABLE_KEEL=true\n")
    suite.check("GRUB_DISABLE_KEEL=true: no Keel entry",
                rc == 0 and not keel_entries(menu) and
                "vmlinuz-" + NEW in menu,
                "exit %d, Keel entries %r\n%s"
                % (rc, list(keel_entries(menu)), err))
    rc, menu, err = mkconfig(os.path.join(work, "no-keel"), keel_elf=False)
    suite.check("without /boot/keel.elf: no Keel entry",
                rc == 0 and not keel_entries(menu) and
                "vmlinuz-" + NEW in menu,
                "exit %d, Keel entries %r\n%s"
                % (rc, list(keel_entries(menu)), err))


def main():
    suite = keeltest.Suite("update-grub keeps Keel (image/grub.d)")
    missing = [t for t in ("unshare", "grub-mkconfig", "grub-script-check")
               if not shutil.which(t)] + \
        [s for s in ("00_header", "10_linux")
         if not os.path.exists(os.path.join("/etc/grub.d", s))]
    if os.geteuid() != 0 or missing:
        suite.skip("grub-mkconfig with 20_linux_keel",
                   "needs root (a private mount namespace over /boot) and "
                   "grub-common; missing: %s" % (missing or "root"))
        suite.finish()
    work = tempfile.mkdtemp(prefix="grub-keel-", dir=keeltest.out_path())
    try:
        check_default_menu(suite, work)
        check_settings(suite, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
