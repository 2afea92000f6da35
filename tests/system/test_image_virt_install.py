#!/usr/bin/python3
"""scripts/virt-install.sh writes libvirt domain XML that libvirt accepts.

For the live ISO, the qcow2 with a seed, UEFI and a host bridge, the
--print-xml output must pass virt-xml-validate (libvirt's RELAX NG schema
for domains) and carry what Keel needs: a host-passthrough CPU, q35, the
serial console, the right boot device and files. --dry-run must print the
virsh commands and run none; bad options must be refused.

Run by `make image-test` (KEEL_IMAGE_TESTS=1); skipped otherwise.
"""
# suite-timeout: 120

import os
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

SCRIPT = os.path.join(keeltest.REPO_ROOT, "scripts", "virt-install.sh")


def virt_install(*args):
    return subprocess.run([SCRIPT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=30)


def main():
    suite = keeltest.Suite("scripts/virt-install.sh domain XML")
    if os.environ.get("KEEL_IMAGE_TESTS") != "1":
        suite.skip("virt-install.sh XML", "run by make image-test")
        suite.finish()
    work = tempfile.mkdtemp(prefix="virt-install-", dir=keeltest.out_path())
    try:
        iso = os.path.join(work, "keel.iso")
        disk = os.path.join(work, "keel.qcow2")
        seed = os.path.join(work, "seed.iso")
        for path in (iso, disk, seed):
            open(path, "w").close()
        cases = [
            ("live ISO, BIOS", ["--cdrom", iso],
             ["<cpu mode='host-passthrough'/>", "machine='q35'",
              "<boot dev='cdrom'/>", "<target type='serial' port='0'/>",
              "file='%s'" % iso]),
            ("qcow2 + seed, UEFI, bridge",
             ["--disk", disk, "--seed", seed, "--uefi", "--bridge", "br0",
              "--name", "keel-2", "--memory", "8192", "--vcpus", "4"],
             ["<os firmware='efi'>", "<boot dev='hd'/>", "bus='virtio'",
              "file='%s'" % disk, "file='%s'" % seed,
              "<source bridge='br0'/>", "<name>keel-2</name>",
              "<memory unit='MiB'>8192</memory>", "<vcpu>4</vcpu>"]),
        ]
        for what, args, wanted in cases:
            proc = virt_install(*(args + ["--print-xml"]))
            xml = proc.stdout.decode()
            if proc.returncode != 0:
                suite.fail("%s: --print-xml" % what, xml)
                continue
            path = os.path.join(work, "domain.xml")
            with open(path, "w") as f:
                f.write(xml)
            check = subprocess.run(["virt-xml-validate", path, "domain"],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
            suite.check("%s: virt-xml-validate accepts the XML" % what,
                        check.returncode == 0,
                        check.stdout.decode() + xml)
            missing = [w for w in wanted if w not in xml]
            suite.check("%s: the XML has what Keel needs" % what, not missing,
                        "missing %s in:\n%s" % (missing, xml))
        proc = virt_install("--cdrom", iso, "--dry-run",
                            "--connect", "test:///nonexistent")
        out = proc.stdout.decode()
        suite.check("--dry-run prints the virsh commands and runs none",
                    proc.returncode == 0 and "would run:" in out
                    and "virsh --connect test:///nonexistent start keel" in out,
                    out)
        for what, args in [
                ("no medium", []),
                ("both ISO and disk", ["--cdrom", iso, "--disk", disk]),
                ("seed without disk", ["--cdrom", iso, "--seed", seed]),
                ("missing file", ["--disk", os.path.join(work, "absent")]),
                ("name with a quote", ["--cdrom", iso, "--name", "a'b"]),
                ("too little memory", ["--cdrom", iso, "--memory", "64"])]:
            proc = virt_install(*(args + ["--print-xml"]))
            suite.check("refuses %s" % what, proc.returncode == 2,
                        "status %d: %s" % (proc.returncode,
                                           proc.stdout.decode()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
