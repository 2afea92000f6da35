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
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

# Per boot: the emulator is shared with other work on the host.
BOOT_TIMEOUT = 300
DOM0 = None  # the `domain` of a guest that runs as Dom0


class Guest:
    """One test guest in a boot: `domain` is the DomU name Keel tags its
    lines with, or DOM0; `cpus` the vCPUs it must bring online."""

    def __init__(self, binary, domain, cpus):
        self.binary = binary
        self.domain = domain
        self.cpus = cpus

    def label(self):
        where = "Dom0" if self.domain is DOM0 else "DomU"
        return "%s %s (%d vCPUs)" % (where, self.binary, self.cpus)

    def output(self, log):
        """What this guest printed, without Keel's tags. Dom0's lines can
        be cut by a DomU's line, so its text is the joined Dom0 stream;
        each guest's own `<name>: ` prefix still separates its lines."""
        if self.domain is DOM0:
            return keeltest.dom0_stream(log)
        text = keeltest.ANSI_ESCAPE.sub("", log).replace("\r", "")
        prefix = "(%s) " % self.domain
        return "\n".join(line[len(prefix):] for line in text.split("\n")
                         if line.startswith(prefix))

    def domain_id(self, log):
        """Keel's number for the domain, from its creation line."""
        if self.domain is DOM0:
            return "0"
        m = re.search(r"d(\d+) '%s': module" % re.escape(self.domain), log)
        return m.group(1) if m else None

    def verdict(self, log):
        """"PASS", "FAIL <reason>", "Keel stopped the domain: ..." or None
        (no verdict yet)."""
        out = self.output(log)
        m = re.search(r"TEST %s: (PASS|FAIL)" % self.binary, out)
        if m:
            if m.group(1) == "PASS":
                return "PASS"
            # The reason is complete once the line has ended in the log.
            if not re.search(r"TEST %s: FAIL[^\n]*\n" % self.binary, log):
                return None
            # A Dom0 line has no end in the joined stream: cut at the next
            # line's prefix.
            reason = out[m.end():].split("\n")[0]
            return "FAIL" + reason.split("%s: " % self.binary)[0][:200]
        number = self.domain_id(log)
        crash = number and re.search(r"\(keel\) d%s: domain crashed[^\r\n]*"
                                     % number, log)
        return "Keel stopped the domain: " + crash.group(0) if crash else None


class Boot:
    def __init__(self, name, pcpus, keel_cmdline, modules, guests):
        self.name = name
        self.pcpus = pcpus
        self.keel_cmdline = keel_cmdline
        self.modules = modules  # (guest binary, module command line)
        self.guests = guests


# The timer guest's bound for late interrupts (see above).
TIMER_LATE = "late_ms=2000"
# Dom0 of the one-CPU boots: a guest that checks its boot and halts, so the
# DomU's vCPUs have the CPU to themselves.
IDLE_DOM0 = ("e820", "addr=0x200000")

BOOTS = [
    Boot("1 pCPU", 1,
         "console=com1 maxcpus=1 dom0_mem=256M domu=ipi:1,mem=32M,vcpus=2",
         [IDLE_DOM0, ("ipi", "cpus=2")], [Guest("ipi", "ipi", 2)]),
    Boot("1 pCPU", 1,
         "console=com1 maxcpus=1 dom0_mem=256M domu=timer:1,mem=32M,vcpus=2",
         [IDLE_DOM0, ("timer", "cpus=2 " + TIMER_LATE)],
         [Guest("timer", "timer", 2)]),
    Boot("4 pCPUs", 4,
         "console=com1 maxcpus=4 dom0_max_vcpus=4 dom0_mem=256M "
         "domu=timer:1,mem=32M,vcpus=2",
         [("ipi", ""), ("timer", "cpus=2 " + TIMER_LATE)],
         [Guest("ipi", DOM0, 4), Guest("timer", "timer", 2)]),
    Boot("4 pCPUs", 4,
         "console=com1 maxcpus=4 dom0_max_vcpus=4 dom0_mem=256M "
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


def binary_path(name):
    return keeltest.out_path("guests", name + ".bin")


def failed_checks(guest, out):
    return [m.group(0) for m in
            re.finditer(r"%s: FAILED: [^\n]*?(?=%s: |\n|$)"
                        % (guest.binary, guest.binary), out)]


def run_boot(suite, index, boot):
    iso = keeltest.out_path("test-smp-guests-%d.iso" % index)
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"),
                       [(binary_path(b), c) for b, c in boot.modules],
                       keel_cmdline=boot.keel_cmdline)
    machine = keeltest.Machine("smp-guests-%d" % index, iso=iso, cpu="max",
                               smp=boot.pcpus, mem="512M",
                               timeout=BOOT_TIMEOUT)
    with machine:
        try:
            machine.wait_until(
                lambda log: all(g.verdict(log) for g in boot.guests),
                "every guest's verdict")
        except keeltest.TestFailure:
            pass  # each guest without a verdict fails below
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
    tail = machine.tail()

    online = re.search(r"SMP: (\d+) of (\d+) CPUs online", log)
    suite.check("%s: Keel runs on %d physical CPU%s" % (
        boot.name, boot.pcpus, "s" if boot.pcpus > 1 else ""),
        online and int(online.group(1)) == boot.pcpus,
        "Keel's SMP line: %s\n%s"
        % (online.group(0) if online else "missing", tail))

    for guest in boot.guests:
        label = "%s: %s" % (boot.name, guest.label())
        out = guest.output(log)
        for m in re.finditer(MEASURES[guest.binary], out):
            print("# %s: %s" % (label, m.group(0)), flush=True)
        m = re.search(r"%s: (\d+) of (\d+) CPUs online" % guest.binary, out)
        suite.check("%s starts all its vCPUs" % label,
                    m and m.group(1) == m.group(2) == str(guest.cpus),
                    "expected %d CPUs online: %s\n%s"
                    % (guest.cpus, m.group(0) if m else "no start-up report",
                       tail))
        verdict = guest.verdict(log)
        if verdict == "PASS":
            suite.ok("%s passes" % label)
            continue
        detail = "\n".join(failed_checks(guest, out))
        suite.fail("%s passes" % label, "%s\n%s\n%s" % (
            verdict or "no verdict within %d s" % BOOT_TIMEOUT,
            detail, tail))


def main():
    suite = keeltest.Suite("SMP test guests on 1 and 4 physical CPUs")
    needed = [binary_path("ipi"), binary_path("timer"),
              binary_path(IDLE_DOM0[0]), keeltest.out_path("keel.elf")]
    missing = [p for p in needed if not os.path.exists(p)]
    if missing:
        suite.fail("test guests and keel.elf are built",
                   "missing: %s (run 'make')" % ", ".join(missing))
        suite.finish()
    for index, boot in enumerate(BOOTS):
        run_boot(suite, index, boot)
    suite.finish()


if __name__ == "__main__":
    main()
