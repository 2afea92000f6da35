#!/usr/bin/python3
"""The kickstart installer's reader and validator, on the build host.

kickstart/keel-install is loaded as a module (nothing is installed and no
disk is touched): the sample profiles must be valid and read as intended;
a file full of mistakes must be refused with every error at its line;
`keel-install --check` must exit 2 on it and 0 on the samples; the disk
layout, the inst.ks= sources that need no device, and the checks against
the Dom0 tree (time zone, locale, existing users) are exercised on
temporary files.
"""
# suite-timeout: 120

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

INSTALLER = os.path.join(keeltest.REPO_ROOT, "kickstart", "keel-install")
SAMPLES = ("lab-server.ks", "virt-install.ks")
MiB = 1024 * 1024

# Each numbered line below must be reported as an error on that line, with
# the given words in the message; nothing else may be reported.
BAD_PROFILE = """\
# a kickstart file with one mistake on most lines
lang en_US.UTF-8
lang de_DE.UTF-8
timezone Europe/Berlin --ntpservers=pool.ntp.org
rootpw --iscrypted notahash
user --name=Bad:Name --password=x
user --name=ops --password=a#b --groups=wheel
network --bootproto=static --ip=10.0.0.5
network --bootproto=dhcp --hostname=-bad-
sshkey --username=nobody "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDsamplekeysamplekeysamplekeysamplekeysa"
sshkey --username=ops "ssh-ed25519 not-base64!"
part / --fstype=xfs --size=4000
part swap --size=512
autopart
bootloader --location=partition
clearpart --linux
frobnicate --now
reboot
poweroff
%packages
vim
%end
%post --interpreter=bash
echo never closed
"""
BAD_LINES = {
    3: "given twice",
    4: "unknown option --ntpservers",
    5: "crypt(3) hash",
    6: "not a valid new user name",
    8: "--ip and --netmask",
    9: "not a host name",
    10: "user nobody is not defined",
    11: "not base64",
    12: "--fstype=xfs",
    13: "no partition is mounted at /",
    14: "exclude each other",
    15: "--location=partition",
    16: "unknown option --linux",
    17: "unknown command 'frobnicate'",
    19: "already ends with reboot (line 18)",
    20: "%packages sections are not supported",
    23: "%post without %end",
}


def load_installer():
    loader = importlib.machinery.SourceFileLoader("keel_install", INSTALLER)
    spec = importlib.util.spec_from_loader("keel_install", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def read(name):
    with open(os.path.join(keeltest.REPO_ROOT, "kickstart", name)) as f:
        return f.read()


def check_samples(suite, ks):
    for name in SAMPLES:
        profile, errors = ks.parse(read(name), name)
        suite.check("sample %s is valid" % name, not errors,
                    "\n".join(ks.format_errors(name, errors)))
    profile, _ = ks.parse(read("lab-server.ks"), "lab-server.ks")
    net = profile.network or {}
    admin = profile.users[0] if profile.users else {}
    checks = [
        ("host name", profile.hostname == "keel-lab1"),
        ("static br0 address", net.get("proto") == "static" and
         net.get("address") == "10.0.2.15/24" and
         net.get("gateway") == "10.0.2.2" and
         net.get("nameservers") == ["10.0.2.3"]),
        ("user labadmin, crypted password, sudo",
         admin.get("name") == "labadmin" and admin.get("crypted") and
         admin.get("groups") == ["sudo"] and
         admin.get("gecos") == "Keel lab administrator"),
        ("root locked", profile.rootpw == {"password": None, "crypted": False,
                                           "lock": True, "allow_ssh": False}),
        ("locale, keyboard, time zone",
         (profile.lang, profile.keyboard, profile.timezone) ==
         ("en_US.UTF-8", ("us", ["us"]), "Europe/Berlin")),
        ("autopart, clearpart --all, zerombr",
         profile.autopart and not profile.partitions and
         profile.clearpart["all"] and profile.zerombr),
        ("bootloader --append and --timeout",
         (profile.bootloader_append, profile.bootloader_timeout) ==
         ("consoleblank=0", 3)),
        ("ends with poweroff", profile.finish == "poweroff"),
        ("one %post with its log and body",
         len(profile.scripts) == 1 and
         profile.scripts[0].log == "/root/ks-post.log" and
         "/etc/motd" in profile.scripts[0].body and
         "%end" not in profile.scripts[0].body),
    ]
    for what, ok in checks:
        suite.check("lab-server.ks: " + what, ok, repr(vars(profile)))


def check_bad_profile(suite, ks):
    _, errors = ks.parse(BAD_PROFILE, "bad.ks")
    found = {}
    for error in errors:
        found.setdefault(error.line, []).append(error.message)
    listing = "\n".join(ks.format_errors("bad.ks", errors))
    for line, words in sorted(BAD_LINES.items()):
        messages = found.get(line, [])
        suite.check("error reported on line %d (%s)" % (line, words),
                    any(words in m for m in messages),
                    "line %d: %s\nall errors:\n%s" % (line, messages, listing))
    extra = sorted(set(found) - set(BAD_LINES))
    suite.check("no error on the correct lines", not extra,
                "unexpected errors on lines %s:\n%s" % (extra, listing))
    suite.check("errors are listed in line order",
                [e.line for e in errors] == sorted(e.line for e in errors),
                listing)
    formatted = ks.format_errors("bad.ks", errors)
    suite.check("messages read FILE:LINE: message",
                formatted and formatted[0].startswith("bad.ks:3: "),
                listing)


def check_details(suite, ks):
    cases = [
        ("a # inside a word is part of the password",
         "rootpw pass#word # the comment\nautopart\n",
         lambda p, e: not e and p.rootpw["password"] == "pass#word"),
        ("--option value and --option=value are the same",
         "user --name ops --password x\nuser --name=dev --password=y\n"
         "autopart\n",
         lambda p, e: not e and [u["name"] for u in p.users] == ["ops",
                                                                 "dev"]),
        ("no partitioning is a whole-file error",
         "rootpw x\n",
         lambda p, e: [(x.line, "no partitioning" in x.message)
                       for x in e] == [(0, True)]),
        ("nobody able to log in is refused",
         "rootpw --lock\nautopart\n",
         lambda p, e: len(e) == 1 and "nobody could log in" in e[0].message),
        ("part layout needs a / partition",
         "rootpw x\npart swap --size=512\n",
         lambda p, e: [x.line for x in e] == [2]),
        ("a gateway outside the network is refused",
         "rootpw x\nautopart\nnetwork --bootproto=static --ip=192.168.1.5 "
         "--netmask=24 --gateway=10.0.0.1\n",
         lambda p, e: [x.line for x in e] == [3] and
         "outside" in e[0].message),
        ("%post options and body",
         "rootpw x\nautopart\n%post --nochroot --erroronfail "
         "--interpreter=/bin/bash\ncp a b\n%end\n",
         lambda p, e: not e and p.scripts[0].nochroot and
         p.scripts[0].erroronfail and p.scripts[0].body == "cp a b\n"),
        ("an %end with nothing open is an error",
         "rootpw x\nautopart\n%end\n",
         lambda p, e: [x.line for x in e] == [3]),
        ("unbalanced quotes are an error on their line",
         "rootpw x\nautopart\nuser --name=\"ops\n",
         lambda p, e: [x.line for x in e] == [3]),
        ("a separate /boot is refused",
         "rootpw x\npart / --size=4000\npart /boot --size=500\n",
         lambda p, e: [x.line for x in e] == [3] and
         "separate /boot" in e[0].message),
        ("sshkey for root needs no user line",
         "rootpw --lock\nautopart\nsshkey --username=root \"%s\"\n"
         % SAMPLE_KEY,
         lambda p, e: not e and p.sshkeys[0][:2] == ("root", SAMPLE_KEY)),
    ]
    for what, text, predicate in cases:
        profile, errors = ks.parse(text, "case.ks")
        suite.check(what, predicate(profile, errors),
                    "\n".join(ks.format_errors("case.ks", errors)) or
                    "no errors")


# A syntactically valid ed25519 public key (32 bytes of zeros).
SAMPLE_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAA"
              "AAAAAAAAAAAAAAAAAAAAAAAAAAAA test@keel")


def check_layout(suite, ks):
    profile, _ = ks.parse("rootpw x\nautopart\n")
    parts = ks.layout(profile, 8192 * MiB, 1000)
    suite.check("autopart: BIOS boot, ESP, root filling the disk",
                [(p.fstype, p.mountpoint, p.size_mib) for p in parts] ==
                [("biosboot", "biosboot", 1), ("efi", "/boot/efi", 256),
                 ("ext4", "/", 8192 - 2 - 1 - 256)],
                [(p.fstype, p.mountpoint, p.size_mib) for p in parts])
    profile, _ = ks.parse("rootpw x\npart / --size=2000 --grow --maxsize=3000\n"
                          "part swap --size=512\npart /boot/efi --size=100\n")
    parts = ks.layout(profile, 8192 * MiB, 1000)
    suite.check("part: BIOS boot added, ESP first, --maxsize caps --grow",
                [(p.mountpoint, p.size_mib) for p in parts] ==
                [("biosboot", 1), ("/boot/efi", 100), ("/", 3000),
                 ("swap", 512)],
                [(p.mountpoint, p.size_mib) for p in parts])
    try:
        ks.layout(profile, 4096 * MiB, 3500)
        refused = None
    except ks.KickstartError as e:
        refused = e
    suite.check("a root smaller than the Dom0 system is refused at its line",
                refused is not None and refused.line == 2,
                "no error" if refused is None else "%d: %s" % (refused.line,
                                                               refused))


def check_sources_and_system(suite, ks, work):
    path = os.path.join(work, "ks.cfg")
    with open(path, "w") as f:
        f.write("rootpw x\nautopart\n")
    suite.check("inst.ks=file: reads the file",
                ks.fetch_kickstart("file:" + path) == "rootpw x\nautopart\n")
    for source, words in (("ftp://host/ks.cfg", "must start with"),
                          ("hd:sdb1", "hd:DEVICE:/PATH"),
                          ("file:/nonexistent/ks.cfg", "cannot read")):
        try:
            ks.fetch_kickstart(source)
            problem = None
        except ks.InstallError as e:
            problem = str(e)
        suite.check("inst.ks=%s is refused" % source,
                    problem is not None and words in problem, problem)

    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "usr/share/zoneinfo/Europe"))
    os.makedirs(os.path.join(root, "usr/share/i18n"))
    os.makedirs(os.path.join(root, "etc"))
    open(os.path.join(root, "usr/share/zoneinfo/Europe/Berlin"), "w").close()
    with open(os.path.join(root, "usr/share/i18n/SUPPORTED"), "w") as f:
        f.write("en_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\n")
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/bash\n"
                "sshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n")
    good, _ = ks.parse("lang de_DE.UTF-8\ntimezone Europe/Berlin\n"
                       "rootpw x\nuser --name=ops --password=y\nautopart\n")
    suite.check("the Dom0 tree has the zone, the locale, no such user",
                ks.check_system(good, root) == [])
    bad, _ = ks.parse("lang xx_XX.UTF-8\ntimezone Mars/Olympus\n"
                      "rootpw x\nuser --name=sshd --password=y\nautopart\n")
    errors = ks.check_system(bad, root)
    suite.check("unknown locale, zone and an existing user at their lines",
                [e.line for e in errors] == [2, 1, 4],
                [(e.line, e.message) for e in errors])


def check_command_line(suite, work):
    for name in SAMPLES:
        proc = subprocess.run([INSTALLER, "--check",
                               os.path.join(keeltest.REPO_ROOT, "kickstart",
                                            name)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        suite.check("keel-install --check %s exits 0" % name,
                    proc.returncode == 0, proc.stdout + proc.stderr)
    bad = os.path.join(work, "bad.ks")
    with open(bad, "w") as f:
        f.write(BAD_PROFILE)
    proc = subprocess.run([INSTALLER, "--check", bad], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    suite.check("keel-install --check on the bad file exits 2 and names "
                "line 17", proc.returncode == 2 and
                "%s:17: unknown command 'frobnicate'" % bad in proc.stderr and
                "nothing was written" in proc.stderr,
                "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                     proc.stderr))


def main():
    suite = keeltest.Suite("kickstart: keel-install's reader and validator")
    ks = load_installer()
    check_samples(suite, ks)
    check_bad_profile(suite, ks)
    check_details(suite, ks)
    check_layout(suite, ks)
    with tempfile.TemporaryDirectory() as work:
        check_sources_and_system(suite, ks, work)
        check_command_line(suite, work)
    suite.finish()


if __name__ == "__main__":
    main()
