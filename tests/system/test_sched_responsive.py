#!/usr/bin/python3
"""Dom0 stays interactive while busy guests load the CPU.

Keel runs on one physical CPU with a Debian Dom0 (the test ISO's kernel and
busybox initramfs) and four boot-time DomUs that spin for the whole test
(the busy guest with seconds=0). Dom0 boots to its shell among them; then
the test types `echo` commands and times each round trip, from sending the
line to the command's output on the serial console. Every round trip must
take under 2 s, and the busy guests must still be making progress
meanwhile (their reports keep coming). The measured times are printed.
"""
# suite-timeout: 600

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BUSY = ("b1", "b2", "b3", "b4")
ROUND_TRIPS = 10
LIMIT_S = 2.0


def busy_reports(log, name):
    return [int(t) for t in re.findall(r"\(%s\) busy: t=(\d+) " % name, log)]


def main():
    suite = keeltest.Suite("Dom0 responsiveness under load")
    busy = keeltest.out_path("guests", "busy.bin")
    dom0 = keeltest.dom0_modules()
    missing = keeltest.missing_files(
        [busy, keeltest.out_path("keel.elf")] + [m[0] for m in dom0])
    if missing:
        suite.fail("Keel, the busy guest and the Dom0 kernel are built",
                   "missing: %s (run 'make guests test-iso')" % missing)
        suite.finish()
    iso = keeltest.out_path("test-responsive.iso")
    keeltest.build_iso(
        iso, keeltest.out_path("keel.elf"),
        dom0 + [(busy, "seconds=0")] * len(BUSY),
        keel_cmdline="maxcpus=1 dom0_mem=512M " + " ".join(
            "domu=%s:%d,mem=32M" % (name, i + 2)
            for i, name in enumerate(BUSY)))
    machine = keeltest.Machine("responsive", iso=iso, cpu="max", smp=1,
                               mem="1G", timeout=400)
    with machine:
        # DomU lines can cut into Dom0's, so Dom0's output is read from
        # its own stream (keeltest.dom0_stream), not matched in the log.
        try:
            machine.wait_until(
                lambda log: re.search(keeltest.DOM0_PROMPT,
                                      keeltest.dom0_stream(log)),
                "Dom0's shell prompt")
        except keeltest.TestFailure as e:
            suite.fail("Dom0 boots to a shell beside 4 busy guests", e)
            suite.finish()
        suite.ok("Dom0 boots to a shell beside 4 busy guests")
        before = {n: busy_reports(machine.log_text(), n) for n in BUSY}
        times = []
        for i in range(ROUND_TRIPS):
            marker = "pong%d" % (1000 + i)
            start = time.monotonic()
            # The echoed command line shows $((...)), not the result.
            machine.sendline("echo pong$((1000+%d))" % i)
            try:
                machine.wait_until(
                    lambda log: marker in keeltest.dom0_stream(log),
                    "the output of echo #%d" % i, timeout=30)
            except keeltest.TestFailure as e:
                suite.fail("echo round trips under %.0f s" % LIMIT_S, e)
                suite.finish()
            times.append(time.monotonic() - start)
            time.sleep(0.5)
        after = {n: busy_reports(machine.log_text(), n) for n in BUSY}
    times.sort()
    print("# echo round trip over %d tries: median %.2f s, max %.2f s"
          % (len(times), times[len(times) // 2], times[-1]))
    suite.check("every echo round trip is under %.0f s (max %.2f s)"
                % (LIMIT_S, times[-1]), times[-1] < LIMIT_S,
                "round trips: %s" % ", ".join("%.2f" % t for t in times))
    stalled = [n for n in BUSY
               if not after[n] or (before[n] and after[n][-1] <= before[n][-1])]
    print("# busy guests' last report: %s" % ", ".join(
        "%s t=%s" % (n, after[n][-1] if after[n] else "-") for n in BUSY))
    suite.check("the 4 busy guests keep running meanwhile", not stalled,
                "no new progress report from %s" % stalled)
    suite.finish()


if __name__ == "__main__":
    main()
