#!/usr/bin/python3
"""scripts/mk-seed.sh makes a NoCloud seed with cloud-localds.

On the host, no image needed: the seed is an ISO 9660 volume labelled
cidata with user-data and meta-data (and network-config with -n);
`-k a.pub -k b.pub` and the shell's expansion of `-k ~/.ssh/id_*.pub`
(two keys: `-k a.pub b.pub OUT`) put the keys into every user of the
user-data in place of the sample's placeholder key; bad input is refused.
"""
# suite-timeout: 120
# suite-parallel: yes

import os
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

SCRIPT = os.path.join(keeltest.REPO_ROOT, "scripts", "mk-seed.sh")


def run(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def extract(iso, dest):
    proc = run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/",
                dest])
    info = run(["xorriso", "-indev", iso, "-pvd_info"])
    volid = [line.split(":", 1)[1].strip() for line in
             (info.stdout + info.stderr).splitlines()
             if line.startswith("Volume Id")]
    files = {}
    if proc.returncode == 0:
        for name in os.listdir(dest):
            with open(os.path.join(dest, name)) as f:
                files[name] = f.read()
    return volid[0] if volid else None, files


def main():
    suite = keeltest.Suite("scripts/mk-seed.sh: NoCloud seed (cloud-localds)")
    with tempfile.TemporaryDirectory() as work:
        keys = []
        for name, kind in (("id_ed25519", "ed25519"), ("id_rsa", "rsa")):
            path = os.path.join(work, name)
            run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C",
                 name + "@test", "-f", path])
            with open(path + ".pub") as f:
                keys.append(f.read().strip())
        pubs = [os.path.join(work, n + ".pub") for n in ("id_ed25519",
                                                         "id_rsa")]
        network = os.path.join(work, "network-config")
        with open(network, "w") as f:
            f.write("version: 2\nethernets:\n  id0:\n    match:\n"
                    "      name: en*\n    dhcp4: true\n")
        for what, args in (("-k a.pub b.pub (a glob's expansion)",
                            ["-k"] + pubs),
                           ("-k a.pub -k b.pub", ["-k", pubs[0], "-k",
                                                  pubs[1]])):
            seed = os.path.join(work, "seed.iso")
            proc = run([SCRIPT] + args + ["-n", network, seed])
            suite.check("%s: seed made" % what, proc.returncode == 0,
                        proc.stdout + proc.stderr)
            dest = tempfile.mkdtemp(dir=work)
            volid, files = extract(seed, dest)
            suite.check("%s: volume cidata with user-data, meta-data, "
                        "network-config" % what,
                        volid == "cidata" and sorted(files) ==
                        ["meta-data", "network-config", "user-data"],
                        "%s %s" % (volid, sorted(files)))
            user_data = files.get("user-data", "")
            config = yaml.safe_load(user_data) or {}
            admin = next((u for u in config.get("users", [])
                          if isinstance(u, dict) and
                          u.get("name") == "admin"), {})
            suite.check("%s: admin's keys are exactly the given ones "
                        "(placeholder gone), header kept" % what,
                        user_data.startswith("#cloud-config\n") and
                        admin.get("ssh_authorized_keys") == keys and
                        admin.get("plain_text_passwd") == "change-me",
                        user_data)
            suite.check("%s: meta-data is the sample's" % what,
                        "instance-id" in files.get("meta-data", ""),
                        files.get("meta-data"))
        proc = run([SCRIPT, os.path.join(work, "plain.iso")])
        dest = tempfile.mkdtemp(dir=work)
        _, files = extract(os.path.join(work, "plain.iso"), dest)
        with open(os.path.join(keeltest.REPO_ROOT, "image", "cloud-init",
                               "user-data")) as f:
            sample = f.read()
        suite.check("without -k the user-data is copied unchanged",
                    proc.returncode == 0 and
                    files.get("user-data") == sample,
                    proc.stdout + proc.stderr)
        bad_key = os.path.join(work, "bad.pub")
        with open(bad_key, "w") as f:
            f.write("not a key\n")
        no_header = os.path.join(work, "user-data")
        with open(no_header, "w") as f:
            f.write("users: []\n")
        for what, args in (("a file that is no public key",
                            ["-k", bad_key]),
                           ("user-data without #cloud-config",
                            ["-u", no_header]),
                           ("a stray argument", ["extra"])):
            out = os.path.join(work, "refused.iso")
            proc = run([SCRIPT] + args + [out])
            suite.check("refuses %s" % what, proc.returncode != 0 and
                        not os.path.exists(out) and
                        proc.stderr.startswith("mk-seed: "),
                        "status %d %s%s" % (proc.returncode, proc.stdout,
                                            proc.stderr))
        proc = run([SCRIPT, "-h"])
        suite.check("-h prints the usage", proc.returncode == 0 and
                    "-k KEY.pub" in proc.stdout, proc.stdout + proc.stderr)
    suite.finish()


if __name__ == "__main__":
    main()
