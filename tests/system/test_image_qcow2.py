#!/usr/bin/python3
"""Boot out/keel.qcow2 with a NoCloud seed from SeaBIOS and OVMF.

For each firmware: a copy-on-write overlay of the image, grown to
DISK_SIZE, boots under QEMU TCG (-cpu max, 2 GiB) with a virtio disk, a
virtio NIC whose host port forwards to Dom0's SSH, and a seed ISO
(scripts/mk-seed.sh). The two seeds are the two ways people bring a key:
  - bios: user-data that lists its own user (keeltest) with a password and
    an SSH key, as image/cloud-init/user-data does
  - uefi: no users list at all, as a cloud gives it: one key in meta-data's
    public-keys (a cloud's key pair) and one in a top-level
    ssh_authorized_keys; both must reach the image's default user, keel
    (its password is set too, only so the test can log in on the serial
    console)
The default GRUB entry "Keel + Dom0" must show Keel's banner; cloud-init
must finish; then:
  - the seeded user logs in on the serial console with the seeded password
  - cloud-init set the hostname from meta-data
  - systemd finished booting: running or degraded (failed units listed)
  - keel.ko is loaded and kl reaches Keel (through sudo)
  - the root file system was grown to the enlarged disk (growpart)
  - br0 carries the NIC's MAC address (clouds filter on it), as
    `networkctl status br0` shows
  - ssh through the forwarded port logs in with each seeded key, and the
    user has passwordless sudo

The two boots are independent and run side by side (each keeps one host
CPU busy), so results of both come mixed, told apart by bios: and uefi:;
their serial logs are out/test-logs/image-qcow2-{bios,uefi}.log.

Run by `make image-test` (image/image.mk), which sets KEEL_IMAGE_TESTS=1;
without it every result is skipped.
"""
# suite-timeout: 2700

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BOOT_TIMEOUT = 1200
DISK_SIZE = "6G"
# The root partition must reach most of DISK_SIZE after growpart.
GROWN_ROOT_MIB = 5000
KEEL_BANNER = r"Keel hypervisor"
CLOUD_INIT_DONE = r"Cloud-init v\. \S+ finished at"
PASSWORD = "seeded-Passw0rd"
HOSTNAME = "keel-seeded"

# Per firmware: the user who logs in, the user-data and the meta-data.
SEEDS = {
    "bios": ("keeltest", """#cloud-config
hostname: %(hostname)s
users:
  - name: keeltest
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: false
    plain_text_passwd: %(password)s
    ssh_authorized_keys:
      - %(key1)s
      - %(key2)s
ssh_pwauth: false
""", """instance-id: keel-image-test-bios
local-hostname: %(hostname)s
"""),
    "uefi": ("keel", """#cloud-config
password: %(password)s
chpasswd: {expire: false}
ssh_pwauth: false
ssh_authorized_keys:
  - %(key2)s
""", """instance-id: keel-image-test-uefi
local-hostname: %(hostname)s
public-keys:
  - %(key1)s
"""),
}


def free_ports(count):
    """count distinct free TCP ports: the sockets are held until all are
    chosen, so the boots side by side do not get the same one."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def make_seed(work, variant, public_keys):
    user_data = os.path.join(work, "user-data-" + variant)
    meta_data = os.path.join(work, "meta-data-" + variant)
    values = {"hostname": HOSTNAME, "password": PASSWORD,
              "key1": public_keys[0], "key2": public_keys[1]}
    _, user_text, meta_text = SEEDS[variant]
    with open(user_data, "w") as f:
        f.write(user_text % values)
    with open(meta_data, "w") as f:
        f.write(meta_text % values)
    seed = os.path.join(work, "seed-%s.iso" % variant)
    subprocess.run([os.path.join(keeltest.REPO_ROOT, "scripts", "mk-seed.sh"),
                    "-u", user_data, "-m", meta_data, seed], check=True,
                   stdout=subprocess.DEVNULL)
    return seed


def ssh(user, key, port, command, timeout=180):
    return subprocess.run(
        ["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR",
         "%s@127.0.0.1" % user, command],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
        stdin=subprocess.DEVNULL).stdout.decode(errors="replace")


def boot_disk(suite, work, image, keys, uefi, port):
    variant = "uefi" if uefi else "bios"
    user = SEEDS[variant][0]
    public_keys = []
    for key in keys:
        with open(key + ".pub") as f:
            public_keys.append(f.read().strip())
    seed = make_seed(work, variant, public_keys)
    disk = os.path.join(work, "disk-%s.qcow2" % variant)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
                    "-b", image, disk, DISK_SIZE], check=True)
    machine = keeltest.Machine(
        "image-qcow2-" + variant, cpu="max", smp=1, mem="2G", uefi=uefi,
        timeout=BOOT_TIMEOUT,
        extra_args=["-drive", "file=%s,if=virtio,format=qcow2" % disk,
                    "-drive", "file=%s,media=cdrom,format=raw" % seed,
                    "-nic", "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:%d-:22"
                    % port])
    with machine:
        try:
            machine.expect(r"Keel \+ Dom0", 120)
            machine.expect(KEEL_BANNER, 120)
        except keeltest.TestFailure as e:
            suite.fail("%s: GRUB boots Keel (banner)" % variant, e)
            return
        suite.ok("%s: GRUB boots Keel (banner)" % variant)
        try:
            machine.expect(CLOUD_INIT_DONE)
        except keeltest.TestFailure as e:
            suite.fail("%s: cloud-init finishes" % variant, e)
            return
        suite.ok("%s: cloud-init finishes (%.0f s after power-on)"
                 % (variant, time.monotonic() - machine.started_at))
        try:
            machine.login(user, PASSWORD, 300)
        except keeltest.TestFailure as e:
            suite.fail("%s: %s logs in on the serial console with the seeded "
                       "password" % (variant, user), e)
            return
        suite.ok("%s: %s logs in on the serial console with the seeded "
                 "password" % (variant, user))
        try:
            machine.run("export SYSTEMD_PAGER= SYSTEMD_COLORS=0", 10)
            # A line of its own: Dom0's kernel may log one meanwhile.
            hostname = machine.run("hostname", 30)
            suite.check("%s: cloud-init set the hostname" % variant,
                        HOSTNAME in hostname.split("\n"),
                        "hostname is %r" % hostname)
            keeltest.check_system_state(suite, machine, variant)
            keeltest.check_toolstack(suite, machine, variant, "sudo -n ")
            keeltest.check_br0_mac(suite, machine, variant)
            # Tagged: Dom0's kernel may log a line of its own meanwhile.
            out = machine.run("echo root-mib=$(df -B1M --output=size / | "
                              "tail -n1)", 30)
            size = re.search(r"root-mib=\s*(\d+)", out)
            suite.check("%s: root file system grown to the %s disk"
                        % (variant, DISK_SIZE),
                        size and int(size.group(1)) >= GROWN_ROOT_MIB,
                        "df reports %r" % out)
        except keeltest.TestFailure as e:
            suite.fail("%s: shell checks" % variant, e)
            return
        for number, key in enumerate(keys, 1):
            try:
                output = ssh(user, key, port, "echo ssh-as-$(id -un)-on-"
                             "$(hostname); sudo -n true && echo sudo-ok")
            except subprocess.TimeoutExpired:
                output = "ssh timed out"
            suite.check("%s: ssh as %s with seeded key %d through the "
                        "forwarded port, passwordless sudo"
                        % (variant, user, number),
                        "ssh-as-%s-on-%s" % (user, HOSTNAME) in output and
                        "sudo-ok" in output, output)


def main():
    suite = keeltest.Suite("qcow2: Keel + Debian Dom0 with cloud-init")
    if os.environ.get("KEEL_IMAGE_TESTS") != "1":
        suite.skip("qcow2 boots", "run by make image-test")
        suite.finish()
    image = keeltest.out_path("keel.qcow2")
    if not os.path.exists(image):
        suite.fail("qcow2 exists", "%s is missing (make image)" % image)
        suite.finish()
    work = tempfile.mkdtemp(prefix="image-qcow2-", dir=keeltest.out_path())
    try:
        keys = [os.path.join(work, "id_ed25519_%d" % n) for n in (1, 2)]
        for key in keys:
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", key], check=True)
        ports = free_ports(2)
        keeltest.concurrently(*(
            functools.partial(boot_disk, suite, work, image, keys, uefi, port)
            for uefi, port in zip((False, True), ports)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
