#!/usr/bin/python3
"""SMP test guests on one and on four physical CPUs.

The ipi guest (IPI ping-pong between its vCPUs 0 and 1: xAPIC physical
and logical, NMI, x2APIC physical and logical) and the timer guest (with
several vCPUs every vCPU arms its own one-shot and TSC-deadline timer)
must pass, in three boots of Keel under QEMU TCG:

  1 pCPU   (-smp 1, maxcpus=1), twice: a boot-time DomU, ipi and then
           timer, with vcpus=2 time-shares the one CPU between its vCPUs
           (Dom0 cannot have more vCPUs than there are physical CPUs; it
           runs the e820 guest, which finishes at once, and is not part
           of the results)
  4 pCPUs  (-smp 4, maxcpus=4, dom0_max_vcpus=4): Dom0 is the ipi guest
           with 4 vCPUs beside a timer DomU with vcpus=2
  4 pCPUs  the same with the roles swapped: Dom0 is the timer guest with
           4 vCPUs beside an ipi DomU with vcpus=2

DomUs get no ACPI tables from Keel, so the guests take their CPU count
from `cpus=` on their command line; Dom0's comes from its MADT. Each guest
must also report all its vCPUs online. The measured IPI round trips and
timer latencies are printed.

Timing is judged loosely: an emulated machine with four CPUs on a busy
two-core host stalls its vCPUs for up to about 2 s of TSC time (measured;
rounds of the same guests take microseconds without Keel). The ipi guest
races each answer against a timer on the sending vCPU, which a stall delays
too; the timer guest gets late_ms=2000 (its default bound is 100 ms).
"""
# suite-timeout: 900

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
from guestboot import DOM0, Boot, Guest, binary_path, run_boot  # noqa: E402

# Per boot: the emulator is shared with other work on the host.
BOOT_TIMEOUT = 300
# The timer guest's bound for late interrupts (see above).
TIMER_LATE = "late_ms=2000"
# Dom0 of the one-CPU boots: a guest that checks its boot and halts, so the
# DomU's vCPUs have the CPU to themselves.
IDLE_DOM0 = ("e820", "addr=0x200000")

BOOTS = [
    Boot("1 pCPU", 1,
         "maxcpus=1 dom0_mem=256M domu=ipi:1,mem=32M,vcpus=2",
         [IDLE_DOM0, ("ipi", "cpus=2")], [Guest("ipi", "ipi", 2)]),
    Boot("1 pCPU", 1,
         "maxcpus=1 dom0_mem=256M domu=timer:1,mem=32M,vcpus=2",
         [IDLE_DOM0, ("timer", "cpus=2 " + TIMER_LATE)],
         [Guest("timer", "timer", 2)]),
    Boot("4 pCPUs", 4,
         "maxcpus=4 dom0_max_vcpus=4 dom0_mem=256M "
         "domu=timer:1,mem=32M,vcpus=2",
         [("ipi", ""), ("timer", "cpus=2 " + TIMER_LATE)],
         [Guest("ipi", DOM0, 4), Guest("timer", "timer", 2)]),
    Boot("4 pCPUs", 4,
         "maxcpus=4 dom0_max_vcpus=4 dom0_mem=256M "
         "domu=ipi:1,mem=32M,vcpus=2",
         [("timer", TIMER_LATE), ("ipi", "cpus=2")],
         [Guest("timer", DOM0, 4), Guest("ipi", "ipi", 2)]),
]

# Measurements worth printing, per guest binary.
MEASURES = {
    "ipi": r"ipi: [\w ]+: \d+ round trips, avg \d+ us, max \d+ us",
    "timer": r"timer: (cpu\d+: )?[\w ]*one-shot:? programmed \d+ us, "
             r"fired after \d+ us|timer: (cpu\d+: )?TSC-deadline:? fired "
             r"-?\d+ us after the deadline",
}


def main():
    suite = keeltest.Suite("SMP test guests on 1 and 4 physical CPUs")
    needed = [binary_path("ipi"), binary_path("timer"),
              binary_path(IDLE_DOM0[0]), keeltest.out_path("keel.elf")]
    missing = keeltest.missing_files(needed)
    if missing:
        suite.fail("test guests and keel.elf are built",
                   "missing: %s (run 'make')" % ", ".join(missing))
        suite.finish()
    for index, boot in enumerate(BOOTS):
        run_boot(suite, "smp-guests-%d" % index, boot, MEASURES,
                 BOOT_TIMEOUT)
    suite.finish()


if __name__ == "__main__":
    main()
