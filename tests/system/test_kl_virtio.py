#!/usr/bin/python3
"""A DomU's virtio disks and NIC, served by its kl owner process in Dom0.

Boots out/keel-test.iso under QEMU TCG (-cpu max, 2 CPUs, 2 GiB, a
virtio NIC on QEMU's user network) and, at Dom0's shell, with raw images
in Dom0's tmpfs and a bridge br0 over eth0:

1. Bad input changes nothing: a missing image, a file that is not
   qcow2 given as one (qemu-nbd refuses it), a bridge that does not exist
   each fail with a message and leave no domain, no qemu-nbd and no
   connected nbd device.
2. A busybox DomU with a writable disk (xvda), a read-only one (xvdb)
   and a qcow2 one (xvdc, exported by kl with qemu-nbd) reads the pattern
   Dom0 wrote at the start of the raw ones; it writes another pattern to
   vda and vdc and syncs; writing to vdb fails inside the DomU.
3. While it runs, a second DomU asking for the same image writable is
   refused.
4. `kl shutdown -w` presses the DomU's ACPI power button: acpid in the
   DomU powers it off and the owner ends it. Dom0 then reads the DomU's
   pattern from the raw image and (with qemu-nbd) from the qcow2 one, the
   read-only image is unchanged, and the qcow2 export is gone.
   The same DomU has a vif on br0: it leases an address by DHCP from the
   network Dom0's bridge sits on and pings Dom0's br0. Its driver took
   the checksum, TSO and mergeable-buffer features; 4 MiB go by TCP
   (busybox nc) from Dom0 to the DomU and back, intact (SHA-256), and
   the DomU's NIC counters show frames far above the MTU both ways (GSO
   frames crossed the TAP whole).
5. `kl reboot -w` brings a DomU with a qcow2 disk back as a new
   instance; `kl destroy` then ends its export too.
6. With root=/dev/vda on its command line, the DomU initramfs mounts
   the disk (an ext4 image with busybox, tests/domu-root/) and hands
   over to its /sbin/init; what that system writes is in the image.
7. SIGKILL of the owner (the device model) while the DomU reads its disk
   in a loop ends the domain: no domain, no owner and no qcow2 export are
   left, and what the DomU wrote and synced before is in its raw and its
   qcow2 image.
"""
# suite-timeout: 1800
# suite-parallel: yes

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BOOT_DEADLINE = 300
DOMU_DEADLINE = 600
CONFIG = "/etc/keel/examples/debian.cfg"
DOMU_PROMPT = r"domU:[^\r\n]*# "
CTRL_RIGHT_BRACKET = "\x1d"
RW_IMG, RO_IMG = "/tmp/rw.img", "/tmp/ro.img"
QCOW2_IMG = "/tmp/q.qcow2"
BLANK_QCOW2 = "/usr/share/keel/tests/disk.qcow2"
# Dom0 reads a qcow2 image through its own export on the last nbd device.
CHECK_NBD = "/dev/nbd15"
RW_PATTERN, RO_PATTERN = "KEEL-RW-PATTERN", "KEEL-RO-PATTERN"
DOMU_PATTERN = "WRITTEN-BY-DOMU"
KILL_PATTERN = "SYNCED-BEFORE-KILL"
DOMU_OFFSET = 4096  # bytes: where the DomU writes (sector 8)
# Dom0's eth0 joins br0, which takes its DHCP lease (QEMU's user network).
MAKE_BRIDGE = ("killall udhcpc; brctl addbr br0 && brctl addif br0 eth0 && "
               "ip addr flush dev eth0 && ip link set br0 up && "
               "udhcpc -i br0 -s /etc/udhcpc/default.script -t 5 -T 2 -n -q")
DHCP = "udhcpc -i eth0 -s /etc/udhcpc/default.script -t 5 -T 2 -n -q"
# Bulk TCP through the vif: Dom0 serves BLOB on one port and stores what
# comes on the other; the DomU fetches it and sends it back.
BLOB, BACK = "/tmp/blob", "/tmp/back"
BLOB_MIB = 4
PULL_PORT, PUSH_PORT = 5001, 5002
SERVE_BULK = ("dd if=/dev/urandom of=%s bs=64k count=%d 2>/dev/null && "
              "(nc -l -p %d -e cat %s &) && "
              "(nc -l -p %d -e sh -c 'cat > %s' &)"
              % (BLOB, 16 * BLOB_MIB, PULL_PORT, BLOB, PUSH_PORT, BACK))
# virtio-net features (virtio 1.2 5.1.3) the DomU's driver must take:
# CSUM, GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, HOST_TSO4/6, HOST_ECN,
# MRG_RXBUF. /sys/bus/virtio/devices/*/features has bit i at column i.
NET_OFFLOAD_BITS = (0, 1, 7, 8, 9, 11, 12, 13, 15)
ETH0_STAT = "$(cat /sys/class/net/eth0/statistics/%s)"


def disk(target, vdev, access, fmt="raw"):
    return "format=%s, vdev=%s, access=%s, target=%s" % (fmt, vdev, access,
                                                         target)


def qcow2_read(machine, path, offset, length):
    """What Dom0 reads at offset of a qcow2 image's disk (qemu-nbd)."""
    return machine.run("qemu-nbd -r -f qcow2 -k /tmp/check.sock -c %s %s "
                       "&& dd if=%s bs=512 skip=%d count=1 2>/dev/null | "
                       "head -c %d; echo; qemu-nbd -d %s >/dev/null"
                       % (CHECK_NBD, path, CHECK_NBD, offset // 512, length,
                          CHECK_NBD), timeout=60)


def exports_left(machine):
    """qemu-nbd processes and connected nbd devices, as one string."""
    return machine.run("ps | grep -v grep | grep qemu-nbd; "
                       "ls /sys/block/nbd*/pid 2>/dev/null; true",
                       timeout=30).strip()


def write_cmd(dev, pattern=DOMU_PATTERN):
    """The DomU's command that writes pattern at DOMU_OFFSET and syncs."""
    return ("printf %s | dd of=/dev/%s bs=512 seek=%d conv=fsync 2>&1 && "
            "sync" % (pattern, dev, DOMU_OFFSET // 512))


def create_cmd(name, disks, extra="", vif=""):
    spec = ", ".join('\\"%s\\"' % d for d in disks)
    return ("kl create %s %s 'name=\"%s\"' \"disk=[%s]\"%s"
            % (extra, CONFIG, name, spec,
               " 'vif=[\"%s\"]'" % vif if vif else ""))


def domains(machine):
    out = machine.run("kl list | tail -n +2", timeout=60)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def wait_gone(machine, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if name not in domains(machine):
            return True
        time.sleep(2)
    return False


def domu_run(machine, command, marker, timeout=120):
    """Runs command at the DomU's shell; returns its output."""
    # The echoed command line shows "$?": only the output has digits.
    machine.sendline("%s; echo %s-$?-END" % (command, marker))
    machine.expect(r"%s-(\d+)-END" % marker, timeout=timeout)
    status = int(machine.child.match.group(1))
    return machine.child.before.replace("\r", ""), status


def detach(machine):
    machine.send(CTRL_RIGHT_BRACKET)
    machine.sendline()
    machine.expect(keeltest.DOM0_PROMPT, timeout=60)


def check_bad_input(suite, machine):
    cases = [
        ("a missing image", [disk("/tmp/missing.img", "xvda", "rw")],
         "cannot open '/tmp/missing.img'"),
        ("a raw image given as qcow2", [disk(RW_IMG, "xvda", "rw",
                                             "qcow2")],
         "Image is not in qcow2 format"),
    ]
    for what, disks, message in cases:
        out = machine.run(create_cmd("bad", disks) + " 2>&1; echo status=$?",
                          timeout=120)
        left = exports_left(machine)
        suite.check("kl create refuses %s, and nothing is created" % what,
                    message in out and "status=1" in out and
                    "bad" not in domains(machine) and not left,
                    "output %r, exports %r" % (out, left))
    out = machine.run("kl create %s 'name=\"bad\"' "
                      "'vif=[\"bridge=nosuchbr\"]' 2>&1; echo status=$?"
                      % CONFIG, timeout=120)
    suite.check("kl create refuses a bridge that does not exist, and "
                "nothing is created",
                "no bridge 'nosuchbr'" in out and "status=1" in out and
                "bad" not in domains(machine), "output %r" % out)


def frames_avg(machine, direction, command, marker):
    """Runs command in the DomU; returns its output, its status and the
    average size of the frames eth0 counted in direction (rx or tx)
    meanwhile (one frame more in the divisor: never a division by 0)."""
    out, status = domu_run(
        machine, "b0=%s p0=%s; %s; echo AVG=$(((%s - b0) / (%s - p0 + 1)))"
        % (ETH0_STAT % (direction + "_bytes"),
           ETH0_STAT % (direction + "_packets"), command,
           ETH0_STAT % (direction + "_bytes"),
           ETH0_STAT % (direction + "_packets")), marker, timeout=600)
    avg = re.search(r"AVG=(\d+)", out)
    return out, status, int(avg.group(1)) if avg else 0


def check_bulk(suite, machine, dom0_ip):
    """At the DomU's console, its vif up on br0; ends at Dom0's prompt."""
    out, _ = domu_run(machine, "for d in /sys/bus/virtio/devices/*; do "
                      "[ $(cat $d/device) = 0x0001 ] && cat $d/features; "
                      "done", "F1")
    bits = re.search(r"^([01]{64})$", out, re.M)
    suite.check("the DomU's driver took checksum, TSO (IPv4, IPv6, ECN) "
                "both ways and mergeable receive buffers",
                bits is not None and
                all(bits.group(1)[b] == "1" for b in NET_OFFLOAD_BITS),
                "features %r" % out)
    started = time.time()
    out, status, avg = frames_avg(
        machine, "rx", "nc %s %d > /tmp/rx" % (dom0_ip, PULL_PORT), "B1")
    pull_s = time.time() - started
    rx_sum, _ = domu_run(machine, "sha256sum /tmp/rx", "B2")
    started = time.time()
    out2, status2, avg2 = frames_avg(
        machine, "tx", "nc %s %d < /tmp/rx" % (dom0_ip, PUSH_PORT), "B3")
    push_s = time.time() - started
    detach(machine)
    sums = machine.run("sha256sum %s %s" % (BLOB, BACK), timeout=60)
    want = re.search(r"^([0-9a-f]{64})\s+%s" % BLOB, sums, re.M)
    back = re.search(r"^([0-9a-f]{64})\s+%s" % BACK, sums, re.M)
    # 1514 bytes: a full Ethernet frame of the 1500-byte MTU.
    suite.check("%d MiB by TCP from Dom0 reach the DomU intact, in GSO "
                "frames of %d bytes on average (%.0f s)"
                % (BLOB_MIB, avg, pull_s),
                status == 0 and want is not None and
                want.group(1) in rx_sum and avg > 1514,
                "nc %r, sha256 %r, Dom0 %r" % (out, rx_sum, sums))
    suite.check("they go back from the DomU to Dom0 intact, in TSO frames "
                "of %d bytes on average (%.0f s)" % (avg2, push_s),
                status2 == 0 and want is not None and back is not None and
                back.group(1) == want.group(1) and avg2 > 1514,
                "nc %r, Dom0 %r" % (out2, sums))


def check_disks(suite, machine, dom0_ip):
    machine.run(SERVE_BULK, timeout=120, check=True)
    machine.sendline(create_cmd("disks", [disk(RW_IMG, "xvda", "rw"),
                                          disk(RO_IMG, "xvdb", "ro"),
                                          disk(QCOW2_IMG, "xvdc", "rw",
                                               "qcow2")],
                                "-c", "bridge=br0"))
    machine.expect(r"Started domain disks", timeout=120)
    machine.expect(DOMU_PROMPT, timeout=DOMU_DEADLINE)
    out, _ = domu_run(machine, "dd if=/dev/vda bs=15 count=1 2>/dev/null; "
                      "echo; dd if=/dev/vdb bs=15 count=1 2>/dev/null",
                      "R1")
    suite.check("the DomU reads Dom0's patterns from vda and vdb",
                RW_PATTERN in out and RO_PATTERN in out, "output %r" % out)
    out, status = domu_run(machine, write_cmd("vda") + " && " +
                           write_cmd("vdc"), "W1")
    suite.check("the DomU writes to vda and the qcow2 vdc and syncs",
                status == 0, "output %r" % out)
    out, status = domu_run(machine, "printf X | dd of=/dev/vdb bs=512 "
                           "seek=8 conv=fsync 2>&1", "W2")
    suite.check("writing to the read-only vdb fails inside the DomU",
                status != 0, "status %d, output %r" % (status, out))
    out, status = domu_run(machine, "ip link set eth0 up; " + DHCP,
                           "N1", timeout=180)
    lease = re.search(r"eth0 bound to (10\.0\.2\.\d+)", out)
    suite.check("the DomU's NIC leases an address by DHCP over br0",
                status == 0 and lease is not None, "output %r" % out)
    out, status = domu_run(machine, "ping -c 3 %s" % dom0_ip, "N2",
                           timeout=120)
    suite.check("the DomU pings Dom0's br0 (%s)" % dom0_ip,
                status == 0 and " 0% packet loss" in out,
                "output %r" % out)
    check_bulk(suite, machine, dom0_ip)  # and back to Dom0
    out = machine.run("brctl showmacs br0 2>/dev/null | wc -l; "
                      "ls /sys/class/net/br0/brif", timeout=30)
    suite.check("the DomU's TAP kl-disks is a port of br0",
                "kl-disks" in out, "output %r" % out)

    out = machine.run(create_cmd("again", [disk(RW_IMG, "xvda", "rw")]) +
                      " 2>&1; echo status=$?", timeout=120)
    suite.check("a second writable attach of the image is refused",
                "in use by another domain" in out and "status=1" in out
                and "again" not in domains(machine), "output %r" % out)

    out = machine.run("kl shutdown -w disks; echo status=$?", timeout=300)
    log = machine.run("cat /var/log/keel/kl-disks.log", timeout=30)
    suite.check("kl shutdown -w: the DomU powers off by its power button",
                "status=0" in out and "powered off" in log and
                "disks" not in domains(machine),
                "output %r, owner log %r" % (out, log))
    out = machine.run("dd if=%s bs=512 skip=%d count=1 2>/dev/null | "
                      "head -c %d; echo; head -c 15 %s; echo"
                      % (RW_IMG, DOMU_OFFSET // 512, len(DOMU_PATTERN),
                         RO_IMG), timeout=60)
    suite.check("Dom0 reads the DomU's pattern back from the image",
                DOMU_PATTERN in out, "output %r" % out)
    suite.check("the read-only image still holds Dom0's pattern",
                RO_PATTERN in out, "output %r" % out)
    left = exports_left(machine)
    out = qcow2_read(machine, QCOW2_IMG, DOMU_OFFSET, len(DOMU_PATTERN))
    suite.check("its poweroff ended the qcow2 export, and Dom0 reads the "
                "DomU's pattern from the qcow2 image with qemu-nbd",
                not left and DOMU_PATTERN in out,
                "exports %r, read %r" % (left, out))


def check_reboot(suite, machine):
    machine.sendline(create_cmd("rb", [disk(QCOW2_IMG, "xvda", "rw",
                                            "qcow2")], "-c"))
    machine.expect(DOMU_PROMPT, timeout=DOMU_DEADLINE)
    detach(machine)
    out = machine.run("kl reboot -w rb; echo status=$?", timeout=600)
    log = machine.run("cat /var/log/keel/kl-rb.log", timeout=30)
    suite.check("kl reboot -w: the DomU powers off and kl starts it again",
                "status=0" in out and "restarted" in log and
                "rb" in domains(machine), "output %r, log %r" % (out, log))
    machine.run("kl destroy rb", timeout=60)
    gone = wait_gone(machine, "rb")
    left = exports_left(machine)
    suite.check("kl destroy ends the domain and its qcow2 export",
                gone and not left, "exports %r" % left)


def check_root(suite, machine):
    machine.run("cp /usr/share/keel/tests/root.img /tmp/root.img",
                timeout=60, check=True)
    machine.sendline(create_cmd("rootfs", [disk("/tmp/root.img", "xvda",
                                                 "rw")], "-c") +
                     " 'cmdline=\"console=ttyS0 pci=off root=/dev/vda rw\"'")
    try:
        m = machine.expect(r"Keel DomU root: (\S+) / (\w+) (\w+)[, ]",
                           timeout=DOMU_DEADLINE)
        suite.check("root=/dev/vda: the DomU's system runs from its disk "
                    "(%s %s %s)" % m.group(1, 2, 3),
                    m.group(1, 2, 3) == ("/dev/vda", "ext4", "rw"),
                    "mount line %r" % m.group(0))
    except keeltest.TestFailure as e:
        suite.fail("root=/dev/vda: the DomU's system runs from its disk", e)
        detach(machine)
        machine.run("kl destroy rootfs", timeout=60)
        return
    domu_run(machine, "echo %s > /written; sync" % DOMU_PATTERN, "P1")
    # The console ends with the domain: Dom0's prompt comes back.
    machine.sendline("poweroff -f")
    machine.expect(keeltest.DOM0_PROMPT, timeout=180)
    out = machine.run("kl list | grep -c rootfs; true", timeout=60)
    gone = wait_gone(machine, "rootfs")
    # The image's blocks hold the file's bytes: grep the raw image.
    found = machine.run("grep -c %s /tmp/root.img; true" % DOMU_PATTERN,
                        timeout=60)
    suite.check("its poweroff ends it, and its file is in the image",
                gone and found.strip() not in ("", "0"),
                "list %r, grep %r" % (out, found))


def check_kill(suite, machine):
    machine.run("cp %s %s" % (BLANK_QCOW2, QCOW2_IMG), timeout=30,
                check=True)
    machine.sendline(create_cmd("victim", [disk(RW_IMG, "xvda", "rw"),
                                           disk(QCOW2_IMG, "xvdb", "rw",
                                                "qcow2")], "-c"))
    machine.expect(DOMU_PROMPT, timeout=DOMU_DEADLINE)
    out, status = domu_run(machine, write_cmd("vda", KILL_PATTERN) +
                           " && " + write_cmd("vdb", KILL_PATTERN), "K1")
    suite.check("the DomU writes to its raw and qcow2 disks and syncs",
                status == 0, "output %r" % out)
    machine.sendline("while :; do dd if=/dev/vda of=/dev/null bs=64k "
                     "2>/dev/null; done")
    time.sleep(5)
    detach(machine)
    out = machine.run("kill -9 $(cat /run/keel/kl-victim.pid); "
                      "echo killed=$?", timeout=60)
    suite.check("SIGKILL of the device model during I/O ends the DomU",
                "killed=0" in out and wait_gone(machine, "victim"),
                "output %r, domains %r" % (out, domains(machine)))
    # A killed owner cannot remove its pid file; kl checks the process.
    out = machine.run("ps | grep -v grep | grep -c kl-owner; "
                      "kl shutdown victim 2>&1", timeout=30)
    suite.check("no owner process is left, and kl knows it",
                out.splitlines()[0].strip() == "0" and
                "no domain" in out, "output %r" % out)
    left = exports_left(machine)
    raw = machine.run("dd if=%s bs=512 skip=%d count=1 2>/dev/null | "
                      "head -c %d; echo" % (RW_IMG, DOMU_OFFSET // 512,
                                            len(KILL_PATTERN)), timeout=60)
    qcow2 = qcow2_read(machine, QCOW2_IMG, DOMU_OFFSET, len(KILL_PATTERN))
    suite.check("the killed owner's qemu-nbd let go, and what the DomU "
                "synced is in the raw and the qcow2 image",
                not left and KILL_PATTERN in raw and KILL_PATTERN in qcow2,
                "exports %r, raw %r, qcow2 %r" % (left, raw, qcow2))
    out = machine.run(create_cmd("after", [disk(RW_IMG, "xvda", "rw")]) +
                      " 2>&1; echo status=$?; kl destroy after", timeout=120)
    suite.check("the image's lock went with the killed owner",
                "status=0" in out, "output %r" % out)


def main():
    suite = keeltest.Suite("kl: virtio disks served from Dom0")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    machine = keeltest.Machine("kl-virtio", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE,
                               extra_args=["-nic",
                                           "user,model=virtio-net-pci"])
    with machine:
        try:
            machine.wait_for_shell()
            machine.run("dd if=/dev/zero of=%s bs=1M count=8 && "
                        "dd if=/dev/zero of=%s bs=1M count=4 && "
                        "printf %s | dd of=%s conv=notrunc && "
                        "printf %s | dd of=%s conv=notrunc && cp %s %s"
                        % (RW_IMG, RO_IMG, RW_PATTERN, RW_IMG, RO_PATTERN,
                           RO_IMG, BLANK_QCOW2, QCOW2_IMG), timeout=60,
                        check=True)
            out = machine.run(MAKE_BRIDGE + "; ip -4 addr show br0",
                              timeout=120)
            dom0_ip = re.search(r"inet (10\.0\.2\.\d+)", out)
            if not dom0_ip:
                raise keeltest.TestFailure("br0 has no lease: %r" % out)
            check_bad_input(suite, machine)
            check_disks(suite, machine, dom0_ip.group(1))
            check_reboot(suite, machine)
            check_root(suite, machine)
            check_kill(suite, machine)
        except keeltest.TestFailure as e:
            suite.fail("kl and the DomU answer", e)
            try:
                suite.note(machine.run("kl dmesg | grep -a '^(keel) ' | "
                                       "tail -n 20; tail -n 20 "
                                       "/var/log/keel/*.log", timeout=60))
            except keeltest.TestFailure:
                pass
    suite.finish()


if __name__ == "__main__":
    main()
