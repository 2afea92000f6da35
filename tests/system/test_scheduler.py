#!/usr/bin/python3
"""Scheduler shares measured with busy guests (boot-time domains).

One boot with two physical CPUs: Dom0 is a test guest that finishes and
halts; two busy guests with weights 256 and 512 are pinned together to
CPU 1; a busy guest with cap=25 and an uncapped one of the same weight
are pinned together to CPU 0. Each busy guest prints its loop count once
per second of TSC time. Over the same seconds:
  - the weight-512 guest progresses twice as fast as the weight-256 one
    (ratio 2.0 within +-15%);
  - the capped guest makes 25% (+-10 points) of what the pair on CPU 0
    makes together, i.e. of one whole CPU, where equal weights alone
    would give it 50%.
Shares are compared only between guests of one CPU: emulated CPUs do not
all run at the same speed on a loaded host. The measured numbers are
printed.
"""
# suite-timeout: 400

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

FIRST, LAST = 3, 9  # seconds compared (after start-up settles)
NAMES = ("light", "heavy", "capped", "filler")


def progress(log, name, t):
    m = re.search(r"\(%s\) busy: t=%d progress=(\d+)" % (name, t), log)
    return int(m.group(1)) if m else None


def main():
    suite = keeltest.Suite("scheduler shares")
    busy = keeltest.out_path("guests", "busy.bin")
    dom0 = keeltest.out_path("guests", "e820.bin")
    if not all(os.path.exists(p) for p in (busy, dom0,
                                           keeltest.out_path("keel.elf"))):
        suite.fail("busy and e820 guests and keel.elf are built", "run 'make'")
        suite.finish()
    iso = keeltest.out_path("test-scheduler.iso")
    keeltest.build_iso(
        iso, keeltest.out_path("keel.elf"),
        [(dom0, "addr=0x200000"), (busy, ""), (busy, ""), (busy, ""),
         (busy, "")],
        keel_cmdline="maxcpus=2 dom0_mem=256M "
                     "domu=light:1,mem=32M,weight=256,pin=1 "
                     "domu=heavy:2,mem=32M,weight=512,pin=1 "
                     "domu=capped:3,mem=32M,cap=25,pin=0 "
                     "domu=filler:4,mem=32M,pin=0")
    machine = keeltest.Machine("scheduler", iso=iso, cpu="max", smp=2,
                               mem="512M", timeout=120, mttcg=True)
    with machine:
        # The guests on the two CPUs report in no fixed order: wait for
        # each one's line in the whole log, up to its end so that the
        # number is complete.
        try:
            machine.wait_until(
                lambda log: all(re.search(r"\(%s\) busy: t=%d progress=\d+\s"
                                          % (name, LAST), log)
                                for name in NAMES),
                "every guest's report t=%d" % LAST)
        except keeltest.TestFailure as e:
            suite.fail("four busy guests report for %d s" % LAST, e)
            suite.finish()
        log = machine.log_text()
    rate = {}
    for name in NAMES:
        a, b = progress(log, name, FIRST), progress(log, name, LAST)
        rate[name] = (b - a) / float(LAST - FIRST)
        print("# %s: %.0f iterations/s (t=%d..%d)" % (name, rate[name],
                                                       FIRST, LAST))
    ratio = rate["heavy"] / rate["light"] if rate["light"] else 0
    suite.check("weights 512:256 on one CPU give progress 2:1 within 15%% "
                "(measured %.2f)" % ratio, abs(ratio - 2.0) <= 0.3,
                "heavy/light = %.2f" % ratio)
    cpu = rate["capped"] + rate["filler"]
    share = 100.0 * rate["capped"] / cpu if cpu else 0
    suite.check("cap=25 holds the guest to 25%% +-10 of one CPU "
                "(measured %.1f%%)" % share, abs(share - 25.0) <= 10.0,
                "capped share = %.1f%%" % share)
    suite.finish()


if __name__ == "__main__":
    main()
