#!/usr/bin/python3
"""scripts/virt-install.sh: a thin wrapper over the real virt-install.

Runs on the host and needs no built image (the ISO, qcow2 and seed are
empty stand-in files: virt-install only names them in the domain XML).
Real virt-install (virtinst) runs against libvirt's test driver,
test:///default, which needs no daemon:

- the --print-xml output for the qcow2 with a NoCloud seed, for the qcow2
  with --cloud-init, and for the live ISO passes virt-xml-validate
  (libvirt's RELAX NG schema) and has a host-passthrough CPU and a pflash
  loader that is not a Secure Boot firmware: secure="no", and the QEMU
  firmware descriptor (/usr/share/qemu/firmware/*.json) of that file
  lists no secure-boot feature;
- virt-install options given by the caller go through unchanged and
  replace the wrapper's defaults;
- on a simulated host (KEEL_SYSFS) without nested virtualization, or
  without kvm_intel/kvm_amd, a real install stops before virt-install
  runs, prints how to turn nesting on and exits non-zero; with nesting
  on, the install goes through to the test driver;
- the README's and kickstart/virt-install.ks's virt-install commands,
  copied as written, are accepted by virt-install (the 4.1 one stops
  with "--disk storage must be specified" without --disk);
- --help prints the usage; bad arguments are refused.
"""
# suite-timeout: 180
# suite-parallel: yes

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

SCRIPT = os.path.join(keeltest.REPO_ROOT, "scripts", "virt-install.sh")
TEST_URI = "test:///default"


def run(argv, env=None):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def wrapper(*args, env=None):
    return run([SCRIPT] + list(args), env=env)


def secure_boot_firmware(path):
    """None if no QEMU firmware descriptor names path, else whether the
    descriptor lists the secure-boot feature."""
    real = os.path.realpath(path)
    for descriptor in sorted(glob.glob("/usr/share/qemu/firmware/*.json")):
        with open(descriptor) as f:
            data = json.load(f)
        executable = data.get("mapping", {}).get("executable", {})
        if os.path.realpath(executable.get("filename", "")) == real:
            return "secure-boot" in data.get("features", [])
    return None


def check_domain_xml(suite, work, what, xml, wanted_files):
    path = os.path.join(work, "domain.xml")
    with open(path, "w") as f:
        f.write(xml)
    check = run(["virt-xml-validate", path, "domain"])
    suite.check("%s: virt-xml-validate accepts the XML" % what,
                check.returncode == 0, check.stdout + check.stderr + xml)
    try:
        dom = ET.fromstring(xml)
    except ET.ParseError as e:
        suite.fail("%s: the XML parses" % what, "%s\n%s" % (e, xml))
        return None
    cpu = dom.find("cpu")
    suite.check("%s: host-passthrough CPU" % what,
                cpu is not None and cpu.get("mode") == "host-passthrough",
                xml)
    loader = dom.find("os/loader")
    nvram = dom.find("os/nvram")
    firmware = loader.text.strip() if loader is not None and loader.text \
        else None
    secure = secure_boot_firmware(firmware) if firmware else None
    suite.check("%s: UEFI pflash loader without Secure Boot" % what,
                loader is not None and loader.get("type") == "pflash" and
                loader.get("secure") == "no" and secure is False and
                nvram is not None and nvram.get("template") and
                dom.find("os").get("firmware") is None,
                "loader %s (descriptor: %s) in:\n%s" % (
                    firmware, {None: "none names it", True: "secure-boot",
                               False: "no secure-boot"}[secure], xml))
    sources = [s.get("file") for s in dom.findall("devices/disk/source")]
    missing = [f for f in wanted_files if f not in sources]
    suite.check("%s: the disks are %s" % (what, ", ".join(
        os.path.basename(f) for f in wanted_files)), not missing,
        "missing %s; sources %s" % (missing, sources))
    return dom


def check_print_xml(suite, work, iso, disk, seed, user_data):
    proc = wrapper("--qcow2", disk, "--seed", seed, "--connect", TEST_URI,
                   "--print-xml")
    suite.check("qcow2 + seed: --print-xml by virt-install exits 0",
                proc.returncode == 0, proc.stdout + proc.stderr)
    dom = check_domain_xml(suite, work, "qcow2 + seed", proc.stdout,
                           [disk, seed])
    if dom is not None:
        osinfo = dom.find(".//{http://libosinfo.org/xmlns/libvirt/domain/1.0}"
                          "os")
        suite.check("qcow2 + seed: defaults name keel, 4 GiB, 2 vCPUs, "
                    "Debian osinfo, serial console",
                    dom.findtext("name") == "keel" and
                    dom.findtext("memory") == str(4096 * 1024) and
                    dom.findtext("vcpu") == "2" and osinfo is not None and
                    re.search(r"debian/1[12]$", osinfo.get("id", "")) and
                    dom.find("devices/console/target").get("type") ==
                    "serial" and dom.find("devices/graphics") is None,
                    proc.stdout)
        disks = {d.find("source").get("file"): d for d in
                 dom.findall("devices/disk") if d.find("source") is not None}
        suite.check("qcow2 + seed: the qcow2 on virtio, the seed a "
                    "read-only CD-ROM",
                    disk in disks and seed in disks and
                    disks[disk].find("target").get("bus") == "virtio" and
                    disks[seed].get("device") == "cdrom" and
                    disks[seed].find("readonly") is not None, proc.stdout)

    proc = wrapper("--qcow2", disk, "--cloud-init",
                   "user-data=%s" % user_data, "--connect", TEST_URI,
                   "--print-xml", "1")
    suite.check("qcow2 + --cloud-init: virt-install makes the seed",
                proc.returncode == 0 and "cloudinit.iso" in proc.stdout,
                proc.stdout + proc.stderr)
    if proc.returncode == 0:
        check_domain_xml(suite, work, "qcow2 + --cloud-init", proc.stdout,
                         [disk])
        for leftover in re.findall(r"file=\"([^\"]*cloudinit\.iso)\"",
                                   proc.stdout):
            if os.path.exists(leftover):
                os.unlink(leftover)

    # --cloud-init and an install from CD-ROM are two steps for
    # virt-install; step 1 is the first boot, with the seed or the ISO.
    proc = wrapper("--live", iso, "--connect", TEST_URI, "--print-xml", "1")
    suite.check("live ISO: --print-xml 1 exits 0", proc.returncode == 0,
                proc.stdout + proc.stderr)
    dom = check_domain_xml(suite, work, "live ISO", proc.stdout, [iso])
    if dom is not None:
        suite.check("live ISO: --disk none (no hard disk)",
                    [d.get("device") for d in dom.findall("devices/disk")] ==
                    ["cdrom"], proc.stdout)

    proc = wrapper("--live", iso, "--connect", TEST_URI, "--print-xml", "1",
                   "--name", "keel-2", "--memory", "8192", "--vcpus", "4",
                   "--network", "bridge=br0,model=virtio",
                   "--disk", "size=20,bus=virtio")
    ok = proc.returncode == 0
    if ok:
        dom = ET.fromstring(proc.stdout)
        ok = (dom.findtext("name") == "keel-2" and
              dom.findtext("memory") == str(8192 * 1024) and
              dom.findtext("vcpu") == "4" and
              dom.find("devices/interface/source").get("bridge") == "br0" and
              sorted(d.get("device") for d in dom.findall("devices/disk")) ==
              ["cdrom", "disk"])
    suite.check("virt-install's own options replace the defaults "
                "(name, memory, vCPUs, bridge, a disk to install to)", ok,
                proc.stdout + proc.stderr)


def fake_sysfs(work, module, value):
    root = os.path.join(work, "sys-%s-%s" % (module, value))
    if module:
        os.makedirs(os.path.join(root, "module", module, "parameters"),
                    exist_ok=True)
        with open(os.path.join(root, "module", module, "parameters",
                               "nested"), "w") as f:
            f.write(value + "\n")
    else:
        os.makedirs(os.path.join(root, "module", "kvm"))
    return root


def check_nested(suite, work, disk):
    for module, value in (("kvm_intel", "N"), ("kvm_amd", "0")):
        root = fake_sysfs(work, module, value)
        proc = wrapper("--qcow2", disk, "--connect", TEST_URI,
                       "--noautoconsole", env={"KEEL_SYSFS": root})
        suite.check("%s nested=%s: refused with the fix, status 3"
                    % (module, value),
                    proc.returncode == 3 and
                    "nested virtualization is off" in proc.stderr and
                    "options %s nested=1" % module in proc.stderr and
                    "modprobe -r %s" % module in proc.stderr and
                    "Domain creation" not in proc.stdout,
                    "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                         proc.stderr))
    root = fake_sysfs(work, None, "")
    proc = wrapper("--qcow2", disk, "--connect", TEST_URI, "--noautoconsole",
                   env={"KEEL_SYSFS": root})
    suite.check("no kvm_intel/kvm_amd: refused, says to load one with "
                "nested=1", proc.returncode == 3 and
                "modprobe kvm_intel nested=1" in proc.stderr,
                "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                     proc.stderr))
    root = fake_sysfs(work, "kvm_amd", "1")
    proc = wrapper("--qcow2", disk, "--connect", TEST_URI, "--noautoconsole",
                   env={"KEEL_SYSFS": root})
    suite.check("kvm_amd nested=1: the install goes on (test driver)",
                proc.returncode == 0 and
                "Domain creation completed" in proc.stdout,
                "status %d\n%s%s" % (proc.returncode, proc.stdout,
                                     proc.stderr))
    root = fake_sysfs(work, "kvm_intel", "N")
    proc = wrapper("--qcow2", disk, "--connect", TEST_URI, "--print-xml",
                   env={"KEEL_SYSFS": root})
    suite.check("--print-xml needs no nesting (nothing is started)",
                proc.returncode == 0, proc.stdout + proc.stderr)


def command_lines(text, start):
    """Shell commands in text that start with `start` (a line ending in a
    backslash goes on; a leading '#' of a comment block is dropped)."""
    commands = []
    current = None
    for raw in text.splitlines():
        line = re.sub(r"^#\s?", "", raw.strip()).strip()
        if current is None:
            if line.startswith(start + " "):
                current = line
            else:
                continue
        else:
            current += " " + line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        commands.append(current)
        current = None
    return commands


def check_documented_commands(suite, work, iso):
    sources = [("README.md", "virt-install"),
               ("kickstart/virt-install.ks", "scripts/virt-install.sh"),
               ("README.md", "scripts/virt-install.sh"),
               ("image/README.md", "scripts/virt-install.sh")]
    stand_in = {"out/keel.iso": iso}
    for name in ("keel-1.qcow2", "my-keel.qcow2", "seed.iso", "ks.iso"):
        path = os.path.join(work, name)
        if not os.path.exists(path):
            open(path, "w").close()
        stand_in[name] = path
    for doc, start in sources:
        with open(os.path.join(keeltest.REPO_ROOT, doc)) as f:
            commands = [c for c in command_lines(f.read(), start)
                        if "--help" not in c]
        suite.check("%s has a %s command" % (doc, start), commands,
                    "no line starting with %r" % start)
        for command in commands:
            words = [stand_in.get(w, w) for w in shlex.split(command,
                                                             comments=True)]
            words = [re.sub(r"^(path=)?(ks\.iso)(,|$)",
                            lambda m: (m.group(1) or "") + stand_in["ks.iso"]
                            + m.group(3), w) for w in words]
            if words[0] == "scripts/virt-install.sh":
                words[0] = SCRIPT
            proc = run(words + ["--connect", TEST_URI, "--print-xml", "1"])
            suite.check("%s: `%s` works (virt-install --print-xml)"
                        % (doc, command[:60]), proc.returncode == 0,
                        "%s\nstatus %d\n%s" % (words, proc.returncode,
                                               proc.stderr))


def check_usage(suite, work, iso, disk, seed):
    proc = wrapper("--help")
    suite.check("--help prints the usage and exits 0",
                proc.returncode == 0 and "--live ISO" in proc.stdout and
                "--qcow2 DISK" in proc.stdout and
                "KEEL_SYSFS" in proc.stdout and "set -euo" not in proc.stdout,
                proc.stdout + proc.stderr)
    # The wrapper's own options are not virt-install's.
    help_text = run(["virt-install", "--help"]).stdout
    own = re.findall(r"^\s+(--[a-z0-9-]+)", proc.stdout, re.M)
    own = sorted({o for o in own if o in ("--live", "--qcow2", "--seed")})
    clash = [o for o in own if re.search(r"(^|\s)%s[\s,=]" % re.escape(o),
                                         help_text)]
    suite.check("the wrapper's own options are not virt-install options",
                own == ["--live", "--qcow2", "--seed"] and not clash,
                "own %s, also in virt-install --help: %s" % (own, clash))
    for what, args in [
            ("no medium", []),
            ("both ISO and disk", ["--live", iso, "--qcow2", disk]),
            ("seed without qcow2", ["--live", iso, "--seed", seed]),
            ("a missing file", ["--qcow2", os.path.join(work, "absent")])]:
        proc = wrapper(*(args + ["--connect", TEST_URI, "--print-xml"]))
        suite.check("refuses %s" % what, proc.returncode == 2 and
                    proc.stderr.startswith("virt-install.sh: "),
                    "status %d: %s%s" % (proc.returncode, proc.stdout,
                                         proc.stderr))


def main():
    suite = keeltest.Suite("scripts/virt-install.sh over virt-install")
    for tool in ("virt-install", "virt-xml-validate"):
        if not shutil.which(tool):
            suite.fail("%s is installed" % tool,
                       "run scripts/deps.sh (packages virtinst, "
                       "libvirt-clients)")
            suite.finish()
    os.makedirs(keeltest.out_path(), exist_ok=True)
    work = tempfile.mkdtemp(prefix="virt-install-", dir=keeltest.out_path())
    try:
        iso = os.path.join(work, "keel.iso")
        disk = os.path.join(work, "keel.qcow2")
        seed = os.path.join(work, "seed.iso")
        for path in (iso, disk, seed):
            open(path, "w").close()
        user_data = os.path.join(keeltest.REPO_ROOT, "image", "cloud-init",
                                 "user-data")
        check_print_xml(suite, work, iso, disk, seed, user_data)
        check_nested(suite, work, disk)
        check_documented_commands(suite, work, iso)
        check_usage(suite, work, iso, disk, seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
