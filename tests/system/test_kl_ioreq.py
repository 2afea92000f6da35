#!/usr/bin/python3
"""I/O requests served from Dom0 Linux through keel.ko.

Boots out/keel-test.iso under QEMU TCG (-cpu max, 2 CPUs, as
test_kl_domu.py) and runs kl-ioreq-dm (tests/toolstack/ioreq_dm.c) at
Dom0's shell: it builds the ioreq guest's DomU from a memfd, takes the
ioreq page from keel.ko (IOREQ_SETUP, mmap), registers its ranges and
serves the DomU's 18 requests sleeping in poll() on the per-domain fd,
which Keel's notification interrupt wakes. Checked: it prints
`kl-ioreq-dm: PASS` (every request as scripted, every answer in its
register, doorbells, an IRQ_LINE pulse taken, POLLHUP after the
destroy), Dom0's `keel` interrupt count grew, and no domain is left.
"""
# suite-timeout: 1200
# suite-parallel: yes

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BOOT_DEADLINE = 300
RUN_TIMEOUT = 300


def keel_interrupts(machine):
    """The count of Dom0's `keel` line in /proc/interrupts, or -1."""
    out = machine.run("grep -i keel /proc/interrupts", timeout=30)
    counts = [int(n) for n in re.findall(r"\s(\d+)", out.split(":", 1)[-1])
              ] if ":" in out else []
    return sum(counts) if counts else -1


def main():
    suite = keeltest.Suite("kl: I/O requests served from Dom0 Linux")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    machine = keeltest.Machine("kl-ioreq", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE)
    with machine:
        try:
            machine.wait_for_shell()
            before = keel_interrupts(machine)
            out = machine.run("kl-ioreq-dm", timeout=RUN_TIMEOUT)
            suite.note(out)
            suite.check("kl-ioreq-dm serves the DomU through keel.ko",
                        "kl-ioreq-dm: PASS" in out and
                        machine.last_status == 0, out)
            after = keel_interrupts(machine)
            suite.check("poll() was woken by Keel's notification "
                        "interrupt (keel %d -> %d)" % (before, after),
                        before >= 0 and after > before,
                        machine.run("cat /proc/interrupts", timeout=30))
            listing = machine.run("kl list", timeout=60)
            suite.check("no domain is left", "ioreq-dm" not in listing,
                        listing)
        except keeltest.TestFailure as e:
            suite.fail("Dom0 runs kl-ioreq-dm", e)
    suite.finish()


if __name__ == "__main__":
    main()
