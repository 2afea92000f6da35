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
# suite-parallel: yes

import contextlib
import importlib.machinery
import io
import importlib.util
import os
import re
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
timezone Europe/Berlin --ntpservers=pool.ntp.org,bad_host!
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
%pre-install
vim
%end
%post --interpreter=bash
echo never closed
"""
BAD_LINES = {
    3: "given twice",
    4: "not a host name or address",
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
    20: "%pre-install sections are not supported",
    23: "%post without %end",
}


def quiet():
    """The installer's progress lines stay out of the TAP output."""
    return contextlib.redirect_stdout(io.StringIO())


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


# A profile as written for RHEL 9 / Fedora (Anaconda), 14 lines.
RHEL_PROFILE = """\
text
lang en_US.UTF-8
keyboard --xlayouts='us'
timezone Europe/Berlin --utc --ntpservers=0.rhel.pool.ntp.org,10.0.0.1
network --bootproto=dhcp --device=link --onboot=on --activate --hostname=rhel-style
rootpw --iscrypted $6$llSZ3mXGgQ8srHX/$WFXAYOM4gDzF85aS3IYqWqTCCTHxG51jrxN/054ZU6bIKL7jAHa62kq.3ci9RFDcArBO1IkxfmUELrhjr/ecH/
firewall --enabled --service=ssh
selinux --enforcing
services --enabled=sshd,chronyd --disabled=cups
%include part.ks
reboot --eject
%packages
@^minimal-environment
%end
"""
RHEL_PART = "zerombr\nclearpart --all --initlabel\nautopart --type=plain\n"
RHEL_WARNINGS = [(1, "text ignored"), (7, "firewall ignored"),
                 (8, "selinux ignored"), (12, "%packages section ignored")]


def check_rhel_profile(suite, ks, work):
    main = os.path.join(work, "rhel.ks")
    with open(main, "w") as f:
        f.write(RHEL_PROFILE)
    with open(os.path.join(work, "part.ks"), "w") as f:
        f.write(RHEL_PART)
    suite.check("the RHEL-style profile has 14 lines",
                len(RHEL_PROFILE.splitlines()) == 14)
    proc = subprocess.run([INSTALLER, "--check", main], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    warned = [(int(m.group(1)), m.group(2)) for m in re.finditer(
        r"^%s:(\d+): warning: (.*)$" % re.escape(main), proc.stderr, re.M)]
    suite.check("RHEL-style profile: --check exits 0, no errors",
                proc.returncode == 0 and "error" not in proc.stderr and
                "valid (4 warning(s))" in proc.stdout,
                "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                     proc.stderr))
    suite.check("RHEL-style profile: a warning on each line that does not "
                "apply (text, firewall, selinux, %packages)",
                [(line, any(w.startswith(words) for l2, w in warned
                            if l2 == line)) for line, words in RHEL_WARNINGS]
                == [(line, True) for line, _ in RHEL_WARNINGS] and
                len(warned) == len(RHEL_WARNINGS), proc.stderr)
    suite.check("RHEL-style profile: the %packages note says where "
                "software goes", "%post (apt-get install" in proc.stderr,
                proc.stderr)
    with open(main) as f:
        profile, errors = ks.parse(f.read(), main, work)
    checks = [
        ("%include read part.ks (autopart, clearpart, zerombr)",
         profile.autopart and profile.clearpart["all"] and profile.zerombr
         and profile.includes == [(os.path.join(work, "part.ks"), 10)]),
        ("timezone --ntpservers", profile.ntpservers ==
         ["0.rhel.pool.ntp.org", "10.0.0.1"] and not profile.nontp),
        ("network --device=link", profile.network["device"] == "link"),
        ("services: sshd is Debian's ssh", profile.services["enabled"] ==
         ["ssh", "chronyd"] and profile.services["disabled"] == ["cups"]),
        ("reboot --eject", profile.finish == "reboot" and profile.eject),
    ]
    for what, ok in checks:
        suite.check("RHEL-style profile: " + what, not errors and ok,
                    "\n".join(ks.format_errors(main, errors)) or
                    repr(vars(profile)))


def check_ignored_and_sections(suite, ks, work):
    text = ("rootpw x\nautopart\nfirstboot --disable\neula --agreed\n"
            "graphical\nskipx\ncmdline\nfirewall --disabled\n"
            "selinux --disabled\nurl --url=http://mirror/os\n"
            "%addon com_redhat_kdump --disable\nreserve-mb='auto'\n%end\n"
            "%anaconda\npwpolicy root --minlen=6\n%end\n")
    profile, errors = ks.parse(text, "ignored.ks")
    suite.check("firstboot, eula, graphical, skipx, cmdline, firewall, "
                "selinux, url, %addon, %anaconda: warnings only",
                not errors and [w.line for w in profile.warnings] ==
                [3, 4, 5, 6, 7, 8, 9, 10, 11, 14],
                "\n".join(ks.format_errors("ignored.ks", errors) +
                          ks.format_warnings("ignored.ks", profile.warnings)))
    profile, errors = ks.parse(
        "rootpw x\nautopart\n%pre --interpreter=/bin/bash --log=/tmp/pre.log"
        "\necho hi\n%end\n%pre --nochroot\n%end\n", "pre.ks")
    suite.check("%pre: body and options read; --nochroot is %post's only",
                [e.line for e in errors] == [6] and
                "unknown option --nochroot" in errors[0].message and
                profile.pre_scripts[0].body == "echo hi\n" and
                profile.pre_scripts[0].interpreter == "/bin/bash" and
                profile.pre_scripts[0].log == "/tmp/pre.log" and
                not profile.scripts,
                "\n".join(ks.format_errors("pre.ks", errors)))

    inc = os.path.join(work, "inc")
    os.makedirs(inc)
    with open(os.path.join(inc, "bad-part.ks"), "w") as f:
        f.write("autopart\npart / --fstype=xfs --size=4000\n")
    profile, errors = ks.parse("rootpw x\n%include bad-part.ks\n", "main.ks",
                               inc)
    suite.check("an error in an included file names that file and line",
                ks.format_errors("main.ks", errors) ==
                ["%s:2: part /: --fstype=xfs is not supported (ext4)"
                 % os.path.join(inc, "bad-part.ks")] or
                [(e.source, e.line) for e in errors] ==
                [(os.path.join(inc, "bad-part.ks"), 2)],
                "\n".join(ks.format_errors("main.ks", errors)))
    profile, errors = ks.parse("rootpw x\nautopart\n%include /nonexistent/x\n",
                               "main.ks")
    suite.check("%include of a missing file is an error at its line",
                [(e.line, "No such file" in e.message) for e in errors] ==
                [(3, True)], "\n".join(ks.format_errors("main.ks", errors)))
    with open(os.path.join(inc, "loop.ks"), "w") as f:
        f.write("%include loop.ks\n")
    profile, errors = ks.parse("rootpw x\nautopart\n%include loop.ks\n",
                               "main.ks", inc)
    suite.check("an %include loop is an error",
                errors and all("levels deep" in e.message for e in errors),
                "\n".join(ks.format_errors("main.ks", errors)))

    # %pre writes the file that %include reads, as RHEL profiles do.
    generated = os.path.join(inc, "part-include")
    text = ("rootpw x\n%%include %s\n%%pre\necho autopart > %s\n%%end\n"
            % (generated, generated))
    profile, errors = ks.parse(text, "pre-include.ks")
    suite.check("%include of a file %pre will write: a warning before %pre",
                not errors and [w.line for w in profile.warnings] == [2] and
                profile.pending_includes == [(generated, 2)],
                "\n".join(ks.format_errors("pre-include.ks", errors)))
    _, errors = ks.parse(text, "pre-include.ks", includes_final=True)
    suite.check("... and an error if it is still missing after %pre",
                [e.line for e in errors if "%include" in e.message] == [2],
                "\n".join(ks.format_errors("pre-include.ks", errors)))
    with quiet():
        ks.run_pre_scripts(profile, os.path.join(work, "pre-run"))
    profile, errors = ks.parse(text, "pre-include.ks", includes_final=True)
    suite.check("run_pre_scripts runs %pre; the file it wrote is included",
                not errors and profile.autopart,
                "\n".join(ks.format_errors("pre-include.ks", errors)))


def check_new_commands(suite, ks, work):
    cases = [
        ("services --enabled and --disabled of one unit is an error",
         "rootpw x\nautopart\nservices --enabled=ssh\n"
         "services --disabled=sshd\n",
         lambda p, e: [x.line for x in e] == [4]),
        ("services needs --enabled or --disabled",
         "rootpw x\nautopart\nservices\n",
         lambda p, e: [x.line for x in e] == [3]),
        ("timezone --ntpservers and --nontp exclude each other",
         "rootpw x\nautopart\ntimezone UTC --nontp --ntpservers=a.b\n",
         lambda p, e: [x.line for x in e] == [3] and
         "exclude" in e[0].message),
        ("timezone --nontp", "rootpw x\nautopart\ntimezone UTC --nontp\n",
         lambda p, e: not e and p.nontp and not p.ntpservers),
        ("poweroff --eject; --kexec is a warning",
         "rootpw x\nautopart\npoweroff --eject --kexec\n",
         lambda p, e: not e and p.finish == "poweroff" and p.eject and
         [w.line for w in p.warnings] == [3]),
        ("network --device=bootif is accepted",
         "rootpw x\nautopart\nnetwork --device=bootif --bootproto=dhcp\n",
         lambda p, e: not e and p.network["device"] == "bootif"),
        ("# starts a comment only at a word start (option values too)",
         "user --name=ops --password=a#b --gecos=\"x #y\" # comment\n"
         "rootpw --plaintext p#\nautopart #another\n",
         lambda p, e: not e and p.users[0]["password"] == "a#b" and
         p.users[0]["gecos"] == "x #y" and p.rootpw["password"] == "p#"),
    ]
    for what, text, predicate in cases:
        profile, errors = ks.parse(text, "case.ks")
        suite.check(what, predicate(profile, errors),
                    "\n".join(ks.format_errors("case.ks", errors)) or
                    "no errors")

    # The Dom0 tree has ssh but no chronyd: a warning, not an error.
    root = os.path.join(work, "svc-root")
    os.makedirs(os.path.join(root, "lib/systemd/system"))
    os.makedirs(os.path.join(root, "etc"))
    open(os.path.join(root, "lib/systemd/system/ssh.service"), "w").close()
    open(os.path.join(root, "etc/passwd"), "w").close()
    profile, _ = ks.parse("rootpw x\nautopart\nservices --enabled=sshd,"
                          "chronyd\n", "svc.ks")
    errors = ks.check_system(profile, root)
    suite.check("services: a unit Dom0 lacks is a warning at its line",
                not errors and [(w.line, "chronyd" in w.message)
                                for w in profile.warnings] == [(3, True)],
                ks.format_warnings("svc.ks", profile.warnings))
    os.makedirs(os.path.join(root, "usr/share/zoneinfo/Etc"))
    open(os.path.join(root, "usr/share/zoneinfo/Etc/UTC"), "w").close()
    text = "rootpw x\nautopart\ntimezone Etc/UTC --ntpservers=ntp.example\n"
    profile, _ = ks.parse(text, "ntp.ks")
    errors = ks.check_system(profile, root)
    suite.check("--ntpservers without systemd-timesyncd in Dom0: a warning "
                "that says how to get it",
                not errors and [(w.line, "apt-get install -y systemd-"
                                 "timesyncd" in w.message)
                                for w in profile.warnings] == [(3, True)],
                ks.format_warnings("ntp.ks", profile.warnings))
    open(os.path.join(root, "lib/systemd/system/systemd-timesyncd.service"),
         "w").close()
    profile, _ = ks.parse(text, "ntp.ks")
    suite.check("... and none when Dom0 has it",
                not ks.check_system(profile, root) and not profile.warnings,
                ks.format_warnings("ntp.ks", profile.warnings))

    # timezone --ntpservers: systemd-timesyncd's configuration.
    target = os.path.join(work, "ntp-target")
    os.makedirs(target)
    profile, _ = ks.parse("rootpw x\nautopart\ntimezone Etc/UTC "
                          "--ntpservers=ntp1.example.org,10.0.0.1\n")
    ks.configure_ntp(target, profile)
    conf = os.path.join(target, ks.TIMESYNCD_CONF.lstrip("/"))
    text = open(conf).read() if os.path.exists(conf) else ""
    suite.check("timezone --ntpservers: timesyncd gets the servers",
                "[Time]\nNTP=ntp1.example.org 10.0.0.1\n" in text, text)

    # network --device=link|bootif on a made-up /sys/class/net.
    sysfs = os.path.join(work, "sys")
    nics = {"br0": ("02:00:00:00:00:01", "1", ["bridge"]),
            "eth0": ("52:54:00:00:00:10", "0", ["device"]),
            "ens3": ("52:54:00:00:00:20", "1", ["device"]),
            "ens4": ("52:54:00:00:00:30", "1", ["device"]),
            "lo": ("00:00:00:00:00:00", "1", [])}
    for name, (mac, carrier, dirs) in nics.items():
        base = os.path.join(sysfs, "class/net", name)
        os.makedirs(base)
        for d in dirs:
            os.makedirs(os.path.join(base, d))
        with open(os.path.join(base, "address"), "w") as f:
            f.write(mac + "\n")
        with open(os.path.join(base, "carrier"), "w") as f:
            f.write(carrier + "\n")
    suite.check("--device=link: the first NIC by name with a carrier",
                ks.resolve_nic("link", sysfs) == "52:54:00:00:00:20")
    suite.check("--device=bootif: the NIC of BOOTIF=",
                ks.resolve_nic("bootif", sysfs, "quiet BOOTIF=01-52-54-00-00-"
                               "00-30 x") == "52:54:00:00:00:30")
    for name in ("ens3", "ens4"):
        with open(os.path.join(sysfs, "class/net", name, "carrier"),
                  "w") as f:
            f.write("0\n")
    for what, spec, cmdline in (("no NIC with a link", "link", ""),
                                ("bootif without BOOTIF=", "bootif", "ro"),
                                ("BOOTIF= of no NIC", "bootif",
                                 "BOOTIF=01-aa-bb-cc-dd-ee-ff")):
        try:
            ks.resolve_nic(spec, sysfs, cmdline)
            refused = None
        except ks.InstallError as e:
            refused = str(e)
        suite.check("--device=%s refused: %s" % (spec, what),
                    refused is not None and spec in refused, refused)
    target = os.path.join(work, "net-target")
    os.makedirs(target)
    profile, _ = ks.parse("rootpw x\nautopart\nnetwork --device=link\n")
    profile.network["mac"] = "52:54:00:00:00:20"
    ks.configure_network(target, profile)
    with open(os.path.join(target, "etc/systemd/network/"
                           "20-br0-uplinks.network")) as f:
        uplink = f.read()
    suite.check("--device=link: br0's only port is that NIC, by MAC "
                "(no port named 'link')",
                "MACAddress=52:54:00:00:00:20" in uplink and
                "Name=link" not in uplink, uplink)

    # %post sees ANA_INSTALL_PATH (Anaconda) and KS_TARGET (its alias).
    target = os.path.join(work, "post-target")
    os.makedirs(target)
    profile, _ = ks.parse("rootpw x\nautopart\n%post --nochroot\n"
                          "echo \"$ANA_INSTALL_PATH|$KS_TARGET\" > "
                          "\"$ANA_INSTALL_PATH/env-seen\"\n%end\n")
    with quiet():
        ks.run_scripts(target, profile)
    seen = os.path.join(target, "env-seen")
    text = open(seen).read() if os.path.exists(seen) else "(not written)"
    suite.check("%post: ANA_INSTALL_PATH and KS_TARGET name the target",
                text == "%s|%s\n" % (target, target), text)


def check_oemdrv(suite, ks, work):
    suite.check("a bare inst.ks means: find the OEMDRV volume",
                ks.cmdline_source("ro inst.ks quiet") == "" and
                ks.cmdline_source("inst.ks=hd:sdb1:/ks.cfg") ==
                "hd:sdb1:/ks.cfg")
    if os.geteuid() != 0:
        suite.skip("a volume labelled OEMDRV is found",
                   "needs root (a loop device and mount)")
        return
    # ext4: every Linux kernel mounts it (a container's may lack vfat).
    image = os.path.join(work, "oemdrv.img")
    content = os.path.join(work, "oemdrv")
    os.makedirs(content)
    with open(os.path.join(content, "ks.cfg"), "w") as f:
        f.write("rootpw x\nautopart\n# from OEMDRV\n")
    made = subprocess.run(["mkfs.ext4", "-q", "-L", "OEMDRV", "-d", content,
                           image, "4M"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    loop = subprocess.run(["losetup", "--find", "--show", image],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if made.returncode or loop.returncode:
        suite.fail("a volume labelled OEMDRV is found",
                   "cannot make one: %s%s" % (made.stdout, loop.stdout))
        return
    device = loop.stdout.strip()
    try:
        found = ks.oemdrv_devices()
        with quiet():
            text = ks.fetch_kickstart("")
        suite.check("a volume labelled OEMDRV is found (bare inst.ks)",
                    device in found and text.endswith("# from OEMDRV\n"),
                    "%s in %s: %r" % (device, found, text))
        try:
            with quiet():
                text = ks.fetch_kickstart("cdrom:/no-such-ks.cfg")
        except ks.InstallError as e:
            text = str(e)
        suite.check("inst.ks=cdrom: falls back to the OEMDRV volume",
                    text.endswith("# from OEMDRV\n"), text)
    finally:
        subprocess.run(["losetup", "-d", device])


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
        check_rhel_profile(suite, ks, work)
        check_ignored_and_sections(suite, ks, work)
        check_new_commands(suite, ks, work)
        check_oemdrv(suite, ks, work)
    suite.finish()


if __name__ == "__main__":
    main()
