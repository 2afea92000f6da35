#!/usr/bin/python3
"""Boot soak: N boots of a Keel ISO at -smp 2 under QEMU TCG, to the Dom0 shell.

For the rare QEMU 7.2 TCG event in which a VMRUN hands back Keel's own
state as the guest's (docs/testing-notes.md): Keel recovers it (svm.c) and
logs each one. Each boot prints its time to the Dom0 shell, the VM entries
Keel recovered, and whether Keel stopped Dom0; the last line sums them up.
The exit status is 1 if any boot did not reach the shell or Dom0 was
stopped. Not part of `make test` (20 boots take an hour or more).

  tests/soak/soak_boot.py [--boots N] [--iso test|live]

test: out/keel-test.iso (busybox Dom0, about a minute a boot); live:
out/keel.iso (`make image`, Debian's live system, a few minutes a boot).
Both boot Keel with the ISO's own command line, its defaults.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BOOT_TIMEOUT = 900
DOM0_STOPPED = r"\(keel\) d0: domain crashed[^\r\n]*"
RECOVERED = r"the CPU returned Keel's own state as the guest's"
LIVE_PROMPT = r"root@keel-live:[^\r\n]*# "

ISOS = {
    "test": ("keel-test.iso", "1G", keeltest.DOM0_PROMPT),
    "live": ("keel.iso", "2G", LIVE_PROMPT),
}


def boot(index, kind):
    """One boot: (seconds to the shell or None, recovered, Dom0 stopped,
    why it failed or "")."""
    iso, mem, prompt = ISOS[kind]
    machine = keeltest.Machine(
        "soak-boot-%d" % index, iso=keeltest.out_path(iso), cpu="max",
        smp=2, mem=mem, timeout=BOOT_TIMEOUT)
    seconds, why = None, ""
    with machine:
        try:
            match = machine.expect([prompt, DOM0_STOPPED])
            if machine.child.match_index == 0:
                seconds = time.monotonic() - machine.started_at
            else:
                why = match.group(0)
        except keeltest.TestFailure as e:
            why = str(e)
        text = machine.log_text()
    recovered = len(re.findall(RECOVERED, text))
    stopped = re.search(DOM0_STOPPED, text) is not None
    return seconds, recovered, stopped, why


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--iso", choices=sorted(ISOS), default="test")
    args = parser.parse_args()
    path = keeltest.out_path(ISOS[args.iso][0])
    if not os.path.exists(path):
        sys.exit("soak-boot: %s is missing (make %s)"
                 % (path, "test-iso" if args.iso == "test" else "image"))
    shells = recovered_total = stopped_total = 0
    for i in range(1, args.boots + 1):
        seconds, recovered, stopped, why = boot(i, args.iso)
        shells += seconds is not None
        recovered_total += recovered
        stopped_total += stopped
        print("boot %d/%d: shell %s, VM entries recovered %d, "
              "Dom0 stopped %s%s"
              % (i, args.boots,
                 "after %.0f s" % seconds if seconds is not None else "NOT "
                 "reached", recovered, "yes" if stopped else "no",
                 "\n  " + why.replace("\n", "\n  ") if why else ""),
              flush=True)
    print("soak-boot (%s ISO, -smp 2): %d/%d boots reached the Dom0 shell, "
          "%d with Dom0 stopped, %d VM entries recovered"
          % (args.iso, shells, args.boots, stopped_total, recovered_total))
    sys.exit(0 if shells == args.boots and not stopped_total else 1)


if __name__ == "__main__":
    main()
