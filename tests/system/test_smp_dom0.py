#!/usr/bin/python3
"""SMP Dom0: every CPU under Keel, one Dom0 vCPU per CPU, by default.

QEMU TCG -cpu max -smp 4 -m 3G boots Keel with no CPU options on its
command line (the test ISO's Debian kernel and busybox initramfs as Dom0).
Checks: Keel brings up all 4 CPUs; Dom0's `nproc` is 4; a 4-way parallel
shell job completes and every Dom0 CPU did part of it (per-CPU user time
in /proc/stat grows on each); Keel's debug console 'r' shows runtime on
each of the 4 physical CPUs. Times are printed, not asserted: on an idle
2-core host Dom0's shell came after 31 s and the whole test took 37 s; with
other emulators running beside it, the shell took up to 453 s (the 4 vCPU
threads and QEMU's main loop share the 2 cores).
"""
# suite-timeout: 1200

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

CPUS = 4
BOOT_ATTEMPTS = 3
# Each loop is a few seconds of one CPU under TCG: long enough that every
# CPU gets one, short enough for the suite.
LOOP = "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"


def cpu_user_ticks(machine):
    """User+nice ticks per CPU from Dom0's /proc/stat."""
    out = machine.run("grep '^cpu[0-9]' /proc/stat", check=True)
    return {int(m.group(1)): int(m.group(2)) + int(m.group(3))
            for m in re.finditer(r"^cpu(\d+) (\d+) (\d+)", out, re.M)}


def boot(suite, iso, attempt):
    """Boots to Dom0's shell; returns the running Machine, or None after
    reporting a failure. A QEMU crash returns None without a report
    (unless it was the last attempt) so that the caller tries again."""
    # No VGA and no NIC: fewer PCI BARs for Dom0 to size, the moment QEMU
    # 7.2's multi-threaded TCG can crash (a vCPU thread remapping memory
    # flushes the TLBs of the others from its own thread).
    machine = keeltest.Machine("smp-dom0", iso=iso, cpu="max", smp=CPUS,
                               mem="3G", timeout=900, mttcg=True,
                               extra_args=["-vga", "none", "-nic", "none"])
    machine.start()
    start = time.monotonic()
    try:
        machine.expect(r"SMP: %d of %d CPUs online" % (CPUS, CPUS), 120)
        failure = None
        machine.wait_for_shell()
    except keeltest.TestFailure as e:
        failure = e
    signal = machine.emulator_signal()
    if signal and attempt < BOOT_ATTEMPTS:
        print("# attempt %d: QEMU was killed by signal %d during the boot "
              "(an emulator crash, see README 'Testing'); trying again"
              % (attempt, signal))
        machine.stop()
        return None
    if failure:
        suite.fail("Keel brings up all %d CPUs and Dom0 reaches its shell"
                   % CPUS, failure)
        machine.stop()
        return None
    print("# Dom0 shell after %.0f s (attempt %d)"
          % (time.monotonic() - start, attempt))
    suite.ok("Keel brings up all %d CPUs and Dom0 reaches its shell" % CPUS)
    return machine


def main():
    suite = keeltest.Suite("SMP Dom0 on %d CPUs" % CPUS)
    dom0 = keeltest.dom0_modules()
    missing = keeltest.missing_files(
        [keeltest.out_path("keel.elf")] + [m[0] for m in dom0])
    if missing:
        suite.fail("Keel and the Dom0 kernel are built",
                   "missing: %s (run 'make test-iso')" % missing)
        suite.finish()
    iso = keeltest.out_path("test-smp-dom0.iso")
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"), dom0,
                       keel_cmdline="")
    for attempt in range(1, BOOT_ATTEMPTS + 1):
        machine = boot(suite, iso, attempt)
        if machine:
            break
    if not machine:
        suite.finish()
    try:
        nproc = machine.run("nproc")
        suite.check("nproc in Dom0 is %d" % CPUS, nproc.strip() == str(CPUS),
                    "nproc printed %r" % nproc)

        before = cpu_user_ticks(machine)
        start = time.monotonic()
        machine.run("for n in %s; do (%s) & done; wait"
                    % (" ".join(str(n) for n in range(CPUS)), LOOP),
                    timeout=600, check=True)
        print("# %d-way job: %.1f s" % (CPUS, time.monotonic() - start))
        after = cpu_user_ticks(machine)
        grown = {c: after.get(c, 0) - before.get(c, 0) for c in range(CPUS)}
        print("# user ticks per Dom0 CPU during the job: %s" % grown)
        suite.check("the %d-way job ran on every Dom0 CPU" % CPUS,
                    all(t > 0 for t in grown.values()),
                    "user ticks per CPU: %s" % grown)

        machine.send("\x01\x01\x01")
        try:
            machine.expect(r"Keel debug console", timeout=30)
            machine.send("r")
            machine.expect(r"cpu%d: [^\n]*\n(?:[^\n]*d0v%d[^\n]*\n)" %
                           (CPUS - 1, CPUS - 1), timeout=30)
            machine.send("\x01\x01\x01")
            machine.expect(r"input goes to Dom0 again", timeout=30)
        except keeltest.TestFailure as e:
            suite.fail("Keel's 'r' shows time on every CPU", e)
            suite.finish()
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
        dump = log[log.rfind("Keel debug console"):]
        ran = {int(m.group(1)): int(m.group(3)) for m in re.finditer(
            r"cpu(\d+): [^\n]*\n[^\n]*d0v(\d+) [^\n]*ran (\d+) ms", dump)}
        print("# Keel's 'r': Dom0 runtime per CPU (ms): %s" % ran)
        suite.check("Keel's 'r' shows time on every CPU",
                    sorted(ran) == list(range(CPUS)) and
                    all(ms > 0 for ms in ran.values()),
                    "runtime per CPU: %s" % ran)
    finally:
        machine.stop()
    suite.finish()


if __name__ == "__main__":
    main()
