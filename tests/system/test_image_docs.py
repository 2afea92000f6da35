#!/usr/bin/python3
"""What there is to read inside Keel's Dom0, checked on the host.

- dom0-rootfs/overlay/etc/motd (the login message of both images) says
  what Keel is, that Ctrl-A three times opens Keel's debug console (h for
  help) and where the README is;
- kickstart/keel-install.8 is a man page groff reads without a warning,
  and it names every option and kickstart command keel-install knows;
- scripts/mk-image-root.sh, run for real on a small base tree (as root),
  puts the motd, /usr/share/doc/keel/README.md and kickstart.md into both
  image roots and the man page into the live one (where keel-install is),
  listed with the live-only files the installer leaves out;
- scripts/run-qemu.sh --help prints its own usage, not QEMU's.
"""
# suite-timeout: 120
# suite-parallel: yes

import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

REPO = keeltest.REPO_ROOT
MOTD = os.path.join(REPO, "dom0-rootfs", "overlay", "etc", "motd")
MAN = os.path.join(REPO, "kickstart", "keel-install.8")
INSTALLER = os.path.join(REPO, "kickstart", "keel-install")


def run(argv, **kwargs):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          **kwargs)


def read(path):
    with open(path) as f:
        return f.read()


def check_motd(suite):
    text = read(MOTD) if os.path.exists(MOTD) else ""
    suite.check("the overlay has /etc/motd", bool(text), MOTD)
    for what, pattern in (
            ("says what Keel is", r"Keel, a small type-1 hypervisor"),
            ("names Dom0", r"Dom0"),
            ("Ctrl-A three times opens the debug console",
             r"Ctrl-A three times"),
            ("h for the debug console's help", r"\bh lists its keys"),
            ("where the README is", r"/usr/share/doc/keel/README\.md"),
            ("where the kickstart guide is",
             r"/usr/share/doc/keel/kickstart\.md"),
            ("the man page", r"man keel-install")):
        suite.check("motd: %s" % what, re.search(pattern, text), text)
    suite.check("motd: fits an 80-column console",
                all(len(line) <= 79 for line in text.splitlines()), text)


def load_installer():
    loader = importlib.machinery.SourceFileLoader("keel_install", INSTALLER)
    spec = importlib.util.spec_from_loader("keel_install", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def check_man_page(suite):
    proc = run(["groff", "-man", "-ww", "-z", MAN])
    suite.check("keel-install.8: groff -man -ww finds nothing to warn about",
                proc.returncode == 0 and not proc.stderr.strip(),
                proc.stderr)
    proc = run(["man", "-l", MAN], env=dict(os.environ, MANWIDTH="200",
                                            MAN_KEEP_FORMATTING="0"))
    text = re.sub(r".\x08", "", proc.stdout)
    sections = re.findall(r"^([A-Z][A-Z ]+)$", text, re.M)
    suite.check("keel-install.8: man renders it with its sections",
                proc.returncode == 0 and
                all(s in sections for s in ("NAME", "SYNOPSIS", "OPTIONS",
                                            "COMMANDS", "EXIT STATUS")),
                "%s\n%s" % (sections, proc.stderr))
    options = re.findall(r'add_argument\(\s*"(--[a-z-]+)"', read(INSTALLER))
    missing = [o for o in options + ["--help"] if o not in text]
    suite.check("keel-install.8: every option of keel-install (%s)"
                % ", ".join(options), options and not missing,
                "missing %s" % missing)
    ks = load_installer()
    words = (list(ks.COMMANDS) + list(ks.FINISH_COMMANDS) +
             list(ks.IGNORED_COMMANDS) + list(ks.IGNORED_SECTIONS) +
             ["%include", "%pre", "%post", "ANA_INSTALL_PATH", "OEMDRV"])
    missing = [w for w in words if not re.search(
        r"(^|[\s(,])%s\b" % re.escape(w), text)]
    suite.check("keel-install.8: every kickstart command keel-install reads",
                not missing, "missing %s" % missing)


# The kernel release the small base tree pretends to have.
KVER = "6.1.0-99-amd64"
# The test guests the images ship for the labs (image/image.mk).
GUESTS = ("busy.bin", "hostile.bin", "triple.bin", "hvmem.bin",
          "tracework.bin")

UNITS = {"systemd-networkd.service": "multi-user.target",
         "systemd-resolved.service": "multi-user.target",
         "serial-getty@.service": "getty.target"}


def check_image_roots(suite):
    if os.geteuid() != 0:
        suite.skip("mk-image-root.sh installs the documentation",
                   "mk-image-root.sh runs as root (make image)")
        return
    work = tempfile.mkdtemp(prefix="image-docs-", dir=keeltest.out_path())
    try:
        base = os.path.join(work, "base")
        units = os.path.join(base, "lib/systemd/system")
        os.makedirs(units)
        os.makedirs(os.path.join(base, "etc"))
        os.makedirs(os.path.join(base, "usr/sbin"))
        os.makedirs(os.path.join(base, "usr/share/man"))
        # The units the script enables, as Debian's packages install them.
        for unit, wanted_by in UNITS.items():
            with open(os.path.join(units, unit), "w") as f:
                f.write("[Unit]\nDescription=%s\n\n[Service]\n"
                        "ExecStart=/bin/true\n\n[Install]\nWantedBy=%s\n"
                        % (unit, wanted_by))
        with open(os.path.join(base, "etc/fstab"), "w") as f:
            f.write("# base\n")
        # The pinned kernel's package: its image and module tree.
        os.makedirs(os.path.join(base, "lib/modules", KVER))
        os.makedirs(os.path.join(base, "boot"))
        with open(os.path.join(base, "boot", "vmlinuz-" + KVER), "w") as f:
            f.write("kernel\n")
        base_dep = os.path.join(base, "lib/modules", KVER, "modules.dep")
        with open(base_dep, "w") as f:
            f.write("base\n")
        # What the build hands over: keel.ko (a real module when `make
        # kmod` built one), kl, the DomU initramfs and the Debian DomU's
        # disk.
        parts = {}
        for name in ("keel.ko", "kl", "domu-initramfs.cpio.gz",
                     "debian-disk.qcow2") + GUESTS:
            parts[name] = os.path.join(work, name)
            built = keeltest.out_path("kmod", "keel.ko")
            if name == "keel.ko" and os.path.isfile(built):
                shutil.copy(built, parts[name])
            else:
                with open(parts[name], "w") as f:
                    f.write(name + "\n")
        roots = {}
        for variant in ("live", "disk"):
            dest = os.path.join(work, variant)
            proc = run([os.path.join(REPO, "scripts", "mk-image-root.sh"),
                        base, variant, dest, parts["keel.ko"], parts["kl"],
                        parts["domu-initramfs.cpio.gz"],
                        parts["debian-disk.qcow2"]] +
                       [parts[g] for g in GUESTS])
            suite.check("mk-image-root.sh %s runs" % variant,
                        proc.returncode == 0, proc.stdout + proc.stderr)
            roots[variant] = dest
        docs = {"etc/motd": MOTD,
                "usr/share/doc/keel/README.md": os.path.join(REPO,
                                                             "README.md"),
                "usr/share/doc/keel/kickstart.md":
                    os.path.join(REPO, "kickstart", "README.md")}
        labs = os.path.join(REPO, "docs", "labs")
        for lab in os.listdir(labs):
            docs["usr/share/doc/keel/labs/" + lab] = os.path.join(labs, lab)
        for variant, dest in roots.items():
            wrong = [path for path, source in docs.items()
                     if not os.path.isfile(os.path.join(dest, path)) or
                     read(os.path.join(dest, path)) != read(source)]
            suite.check("%s root: motd, README.md, kickstart.md and the "
                        "labs in place" % variant, not wrong,
                        "missing or different: %s" % wrong)
        for variant, dest in roots.items():
            want = ["lib/modules/%s/updates/keel.ko" % KVER,
                    "lib/modules/%s/modules.dep" % KVER,
                    "etc/modules-load.d/keel.conf", "usr/sbin/kl",
                    "usr/share/man/man1/kl.1",
                    "usr/share/bash-completion/completions/kl",
                    "usr/share/keel/domu/vmlinuz",
                    "usr/share/keel/domu/initrd.img",
                    "usr/share/keel/domu/debian-disk.qcow2",
                    "etc/keel/examples/debian.cfg",
                    "etc/keel/examples/debian-disk.cfg",
                    "etc/keel/examples/debian-2vcpu.cfg"] + \
                ["etc/keel/examples/%s.cfg" % g[:-4] for g in GUESTS] + \
                ["usr/share/keel/guests/" + g for g in GUESTS] + [
                    "etc/grub.d/20_linux_keel",
                    "etc/default/grub.d/keel.cfg"]
            missing = [p for p in want
                       if not os.path.isfile(os.path.join(dest, p))]
            dep = os.path.join(dest, "lib/modules", KVER, "modules.dep")
            suite.check("%s root: keel.ko indexed and loaded at boot, kl "
                        "with its page and completion, the sample DomUs, "
                        "the labs' guests and their configurations, the "
                        "GRUB generator" % variant,
                        not missing and "updates/keel.ko:" in read(dep) and
                        read(os.path.join(
                            dest, "etc/modules-load.d/keel.conf")) ==
                        "keel\n",
                        "missing: %s" % missing)
            suite.check("%s root: the base tree's module index is untouched"
                        % variant, read(base_dep) == "base\n", read(base_dep))
        live = roots["live"]
        man = os.path.join(live, "usr/share/man/man8/keel-install.8")
        suite.check("live root: the keel-install man page beside "
                    "/usr/sbin/keel-install",
                    os.path.isfile(man) and read(man) == read(MAN) and
                    os.path.isfile(os.path.join(live,
                                                "usr/sbin/keel-install")))
        listed = read(os.path.join(live, "usr/share/keel/live-only-files"))
        suite.check("live root: the man page is left out of installed "
                    "disks with keel-install",
                    "/usr/share/man/man8/keel-install.8\n" in listed and
                    "/usr/sbin/keel-install\n" in listed, listed)
        suite.check("disk root: no installer, no installer man page",
                    not os.path.exists(os.path.join(
                        roots["disk"], "usr/share/man/man8/keel-install.8")))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_run_qemu_help(suite):
    proc = run([os.path.join(REPO, "scripts", "run-qemu.sh"), "--help"],
               env=dict(os.environ, OUT=os.path.join("out", "no-such-dir")))
    suite.check("run-qemu.sh --help prints its own usage",
                proc.returncode == 0 and
                "Usage: scripts/run-qemu.sh" in proc.stdout and
                "KEEL_ACCEL" in proc.stdout and "--uefi" in proc.stdout and
                "Ctrl-A three times" in proc.stdout and
                "QEMU emulator" not in proc.stdout and
                "set -euo" not in proc.stdout,
                "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                     proc.stderr))


def main():
    suite = keeltest.Suite("what there is to read in Dom0: motd, man page, "
                           "docs, --help")
    os.makedirs(keeltest.out_path(), exist_ok=True)
    check_motd(suite)
    check_man_page(suite)
    check_image_roots(suite)
    check_run_qemu_help(suite)
    suite.finish()


if __name__ == "__main__":
    main()
