#!/usr/bin/python3
"""Keel's shared serial console and its refusal of CPUs it cannot use.

1. out/keel-test.iso under QEMU TCG -cpu max: once Dom0's shell is up, Keel's
   log has said it owns the physical LAPIC timer; Ctrl-A three times gives
   Keel's debug console (its banner points to 'h'), whose keys follow
   Xen's letters: 'q' prints domains with per-exit counters, 'd' every
   vCPU's registers and interrupt state, 'm' memory, 't' timer
   statistics, 'r' run queues; with the emulator stopped for 5 s, Keel's
   CPU reports the long pass and its late timer once it runs again;
   Ctrl-A three times hands input back and Dom0 still runs commands.
2. The same ISO on a CPU without SVM (-cpu qemu64) prints why Keel cannot
   run and halts: the emulator is still running (no reset, no triple
   fault) after the message.
"""
# suite-timeout: 600
# suite-parallel: yes

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

CTRL_A = keeltest.CTRL_A
BOOT_DEADLINE = 180


def debug_console(suite, iso):
    machine = keeltest.Machine("keel-console", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE)
    with machine:
        try:
            machine.wait_for_shell()
        except keeltest.TestFailure as e:
            suite.fail("Dom0 shell for the console tests", e)
            return
        log = machine.log_text()
        suite.check("Keel's log says it owns the physical LAPIC timer",
                    re.search(r"Keel owns the physical LAPIC timer", log),
                    "no such line in the serial log")

        machine.send(CTRL_A * 3)
        try:
            machine.expect(r"Keel debug console: input goes to Keel now "
                           r"\('h' for help", timeout=20)
            suite.ok("Ctrl-A x3 switches input to Keel's debug console, "
                     "whose banner names 'h'")
        except keeltest.TestFailure as e:
            suite.fail("Ctrl-A x3 switches input to Keel's debug console", e)
            return

        keys = [
            ("q", r"d0v0: \w+ on cpu\d+, RIP [0-9a-f]+.*\r?\n.*exits:.*"
                  r"cpuid=\d+.*rdmsr=\d+",
             "'q' shows Dom0's vCPU state and exit counters"),
            ("d", r"d0 v0: RIP [0-9a-f]{4}:[0-9a-f]{16} RFLAGS [0-9a-f]+ "
                  r"CPL \d.*\r?\n.*RAX [0-9a-f]{16} RBX(.*\r?\n)+"
                  r".*vLAPIC: TPR [0-9a-f]+, PPR [0-9a-f]+, highest ISR "
                  r"-?\d+, highest IRR -?\d+\r*\n.*SVM: shadow [01], "
                  r"EVENTINJ [0-9a-f]+, V_IRQ [01] ",
             "'d' shows Dom0's vCPU registers, vLAPIC and injection state"),
            ("m", r"frame allocator: \d+ MiB managed",
             "'m' shows memory usage"),
            ("t", r"cpu0: timer interrupts \d+ \(up to \d+ us late\), "
                  r"kicks \d+, loop passes [1-9]\d*, longest between two "
                  r"\d+ ms, stalls 0",
             "'t' shows timer, interrupt and vCPU loop statistics"),
            ("r", r"cpu0: (running|idle)[^\n]*\n[^\n]*d0v0 \w+, affinity "
                  r"0x[0-9a-f]+, ran \d+ ms",
             "'r' shows run queues with per-vCPU runtime"),
            ("h", r"d  registers of every vCPU", "'h' lists the keys"),
        ]
        for key, pattern, what in keys:
            machine.send(key)
            try:
                machine.expect(pattern, timeout=20)
                suite.ok(what)
            except keeltest.TestFailure as e:
                suite.fail(what, e)

        # A CPU held up for seconds (here the whole emulator, stopped)
        # says so when it is back: how long its pass took and how late its
        # timer came.
        what = "a CPU stopped for 5 s reports its late timer once back"
        os.kill(machine.child.pid, signal.SIGSTOP)
        time.sleep(5)
        os.kill(machine.child.pid, signal.SIGCONT)
        try:
            m = machine.expect(r"cpu0: its previous pass of the vCPU loop "
                               r"took (\d+) ms \((idle|running d0v0)\); its "
                               r"timer's (latest interrupt came|interrupt "
                               r"is) (\d+) ms (late|overdue)",
                               timeout=20)
            suite.check(what, int(m.group(1)) >= 4000 and
                        int(m.group(4)) >= 3000, m.group(0))
        except keeltest.TestFailure as e:
            suite.fail(what, e)

        machine.send(CTRL_A * 3)
        what = "Dom0 keeps running and takes input after Ctrl-A x3"
        try:
            machine.expect(r"input goes to Dom0 again", timeout=20)
            out = machine.run("echo alive-$((6*7))", timeout=30)
            suite.check(what, "alive-42" in out, "output was %r" % out)
        except keeltest.TestFailure as e:
            suite.fail(what, e)


def no_svm(suite, iso):
    machine = keeltest.Machine("keel-no-svm", iso=iso, cpu="qemu64", smp=1,
                               mem="512M", timeout=90)
    with machine:
        try:
            machine.expect(r"Keel cannot run on this CPU")
            machine.expect(r"Keel halted\.")
        except keeltest.TestFailure as e:
            suite.fail("a CPU without SVM gets a clear message and a halt", e)
            return
        time.sleep(3)
        suite.check("a CPU without SVM gets a clear message and a halt",
                    machine.child.isalive(),
                    "the emulator exited after the message (reset?)")


def main():
    suite = keeltest.Suite("Keel debug console and CPU refusal")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    debug_console(suite, iso)
    no_svm(suite, iso)
    suite.finish()


if __name__ == "__main__":
    main()
