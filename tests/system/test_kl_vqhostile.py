#!/usr/bin/python3
"""A malicious virtio driver in a DomU leaves Dom0 and another DomU alone.

Boots out/keel-test.iso under QEMU TCG (-cpu max, 2 CPUs, 2 GiB) and, at
Dom0's shell:

1. Dom0 writes a raw image in its tmpfs holding KEEL-VQ-PATTERN at
   sector 0, and notes Keel's free memory.
2. A busybox DomU (`kl create -c /etc/keel/examples/debian.cfg`) reaches
   its shell and is left running (Ctrl-]).
3. `kl create` starts the vqhostile test guest (tests/guests/vqhostile/,
   freestanding, 32 MiB) with that image as its disk. It breaks the
   virtqueue rules one case after another (loops, buffers and rings
   outside its RAM, indices past the ring, zero-length and 4 GiB chains,
   indirect misuse) and must print one ok line per check and
   `TEST vqhostile: PASS`: each case got the device marked broken
   (NEEDS_RESET) or an error status, never success, and after each reset
   the device read the pattern again.
4. What the test expects of the domain: a malformed virtqueue breaks the
   device, not the domain, so the hostile DomU is still there (running
   or blocked, not crashed) and its owner, the device model, is alive,
   with no segfault in Dom0's kernel log.
5. Dom0 answers, and the busybox DomU's shell echoes a marker.
6. A control: the same guest told another pattern= must fail its first
   read (so its checks can fail).
7. `kl destroy` of the rest leaves Dom0 the only domain, no owner process,
   and Keel's free memory back at its baseline.
"""
# suite-timeout: 1500
# suite-parallel: yes

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
from kldom0 import (DOMU_DEADLINE, DOMU_PROMPT, detach, domains,  # noqa: E402
                    find, forget_output, owner_alive, parse_json,
                    wait_gone)

BOOT_DEADLINE = 300
GUEST_DEADLINE = 600
CONFIG = "/etc/keel/examples/debian.cfg"
NAME = "debian"
HOSTILE = "vqh"
CONTROL = "vqctl"
IMG = "/tmp/vqh.img"
PATTERN = "KEEL-VQ-PATTERN"
GUEST = "/usr/share/keel/tests/vqhostile.bin"
# The cases the guest runs with INDIRECT_DESC offered (Keel's virtio-blk
# offers it): 27 descriptor cases and 4 ring cases.
MIN_CASES = 31


def keel_free(machine):
    return parse_json(machine.run("kl info --json",
                                  timeout=60))["free_memory_bytes"]


def start_guest(machine, name, pattern):
    """Creates the vqhostile guest as domain name, attached to its
    console, with pattern= on its command line; returns its result
    (PASS or FAIL and the reason) and its output before that."""
    lines = ['name = "%s"' % name, 'kernel = "%s"' % GUEST,
             "memory = 32", 'on_crash = "preserve"',
             'cmdline = "pattern=%s"' % pattern,
             # printf's octal escape: the line is inside single quotes.
             "disk = [ \\042format=raw, vdev=xvda, access=rw, "
             "target=%s\\042 ]" % IMG]
    machine.run("printf '%s\\n' > /tmp/%s.cfg" % ("\\n".join(lines), name),
                timeout=30, check=True)
    forget_output(machine)
    machine.sendline("kl create -c /tmp/%s.cfg" % name)
    machine.expect(r"Started domain %s" % name, timeout=120)
    # To the end of the line: the reason may come in a later read.
    machine.expect(r"TEST vqhostile: (PASS|FAIL[^\r\n]*)\r*\n",
                   timeout=GUEST_DEADLINE)
    result = machine.child.match.group(1)
    output = machine.child.before
    detach(machine)
    return result, output


def run_hostile(suite, machine):
    start = time.monotonic()
    result, output = start_guest(machine, HOSTILE, PATTERN)
    suite.note("the hostile guest ran for %.0f s"
               % (time.monotonic() - start))
    # Keel copies a DomU's console to the serial line too: count each
    # check line once per case name.
    oks = set(re.findall(r"vqhostile: ok: case ([^:\r\n]+):", output))
    failed = sorted(set(re.findall(r"vqhostile: FAILED: ([^\r\n]+)",
                                   output)))
    suite.check("the hostile guest's cases all ran and it printed PASS",
                result == "PASS" and not failed and len(oks) >= MIN_CASES,
                "result %r, %d cases ok, failures %r"
                % (result, len(oks), failed))
    suite.note("cases answered as required: %d" % len(oks))


def check_after(suite, machine):
    doms = domains(machine)
    hostile = find(doms, HOSTILE)
    # A malformed virtqueue breaks the device, never the domain: the
    # guest halts after its result line and stays there.
    suite.check("the hostile DomU is still there, not crashed",
                hostile and hostile.get("state") not in ("crashed", None),
                "kl list --json: %r" % doms)
    out = machine.run("dmesg | grep -ci segfault", timeout=30)
    suite.check("the hostile DomU's device model is alive, nothing in Dom0 "
                "segfaulted",
                owner_alive(machine, HOSTILE) and
                out.strip().splitlines()[-1].strip() == "0",
                "segfaults in dmesg: %r" % out)
    out = machine.run("grep -c 'broke the device' /var/log/keel/kl-%s.log"
                      % HOSTILE, timeout=30)
    broken = out.strip().splitlines()[-1].strip() if out.strip() else "0"
    suite.check("the device model logged each broken device (%s times)"
                % broken, broken.isdigit() and int(broken) >= 27,
                "output %r" % out)
    out = machine.run("echo dom0-$((40+2))", timeout=30)
    suite.check("Dom0 answers", "dom0-42" in out, "output %r" % out)
    forget_output(machine)
    machine.sendline("kl console " + NAME)
    machine.sendline()
    try:
        machine.expect(DOMU_PROMPT, timeout=60)
        machine.sendline("echo alive-$((30+7))")
        machine.expect(r"alive-37\r*\n", timeout=60)
        machine.expect(DOMU_PROMPT, timeout=60)
        suite.ok("the other DomU's shell answers")
    except keeltest.TestFailure as e:
        suite.fail("the other DomU's shell answers", e)
    detach(machine)


def check_control(suite, machine):
    """The guest's own check can fail: told another pattern, its first
    valid read must not match (the hostile DomU, which holds the image
    writable, is destroyed first)."""
    out = machine.run("kl destroy %s; echo status=$?" % HOSTILE, timeout=120)
    suite.check("kl destroy ends the hostile DomU",
                "status=0" in out and wait_gone(machine, HOSTILE),
                "output %r, kl list %r" % (out, domains(machine)))
    result, _ = start_guest(machine, CONTROL, "NOT-THE-PATTERN")
    suite.check("control: with another pattern the guest fails its first "
                "read", result.startswith("FAIL first valid read: sector 0 "
                                          "does not hold the pattern"),
                "result %r" % result)


def check_destroy(suite, machine, baseline):
    out = machine.run("kl destroy %s; echo status=$?; kl destroy %s; "
                      "echo status=$?" % (CONTROL, NAME), timeout=120)
    gone = wait_gone(machine, CONTROL) and wait_gone(machine, NAME)
    doms = domains(machine)
    suite.check("kl destroy of both leaves Dom0 the only domain",
                out.count("status=0") == 2 and gone and len(doms) == 1,
                "output %r, kl list %r" % (out, doms))
    out = machine.run("ps | grep -v grep | grep -c kl-owner",
                      timeout=30)
    suite.check("no owner process is left",
                out.strip().splitlines()[-1].strip() == "0",
                "output %r" % out)
    free = keel_free(machine)
    suite.check("Keel's free memory is back at its baseline",
                free >= baseline, "free %d, baseline %d" % (free, baseline))


def main():
    suite = keeltest.Suite("kl: a malicious virtio driver in a DomU")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    machine = keeltest.Machine("kl-vqhostile", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE)
    start = time.monotonic()
    with machine:
        try:
            machine.wait_for_shell()
            machine.run("test -f %s && dd if=/dev/zero of=%s bs=1M count=4 "
                        "&& printf %s | dd of=%s conv=notrunc"
                        % (GUEST, IMG, PATTERN, IMG), timeout=60,
                        check=True)
            baseline = keel_free(machine)
            machine.sendline("kl create -c %s" % CONFIG)
            machine.expect(DOMU_PROMPT, timeout=DOMU_DEADLINE)
            detach(machine)
            run_hostile(suite, machine)
            check_after(suite, machine)
            check_control(suite, machine)
            check_destroy(suite, machine, baseline)
        except keeltest.TestFailure as e:
            suite.fail("kl, the guests and Dom0 answer", e)
            try:
                suite.note(machine.run(
                    "kl dmesg | grep -a '^(keel) ' | tail -n 20; "
                    "tail -n 20 /var/log/keel/*.log", timeout=60))
            except keeltest.TestFailure:
                pass
    suite.note("the test took %.0f s" % (time.monotonic() - start))
    suite.finish()


if __name__ == "__main__":
    main()
