#!/usr/bin/python3
"""Boot soak: N boots of a Keel ISO at -smp 2 under QEMU TCG, to the Dom0 shell.

For the rare QEMU 7.2 TCG event in which a VMRUN hands back Keel's own
state as the guest's (docs/testing-notes.md): Keel recovers it (svm.c) and
logs each one. Each boot prints its time to the Dom0 shell, the VM entries
Keel recovered, and whether Keel stopped Dom0; the last line sums them up.
A boot that QEMU's multi-threaded TCG crashes (killed by a signal,
docs/testing-notes.md) is counted as such; the exit status is 1 if Dom0
was stopped or a boot missed the shell otherwise. Not part of `make test`
(20 boots take half an hour or more).

  tests/soak/soak_boot.py [--boots N] [--iso test|live]

test: the test ISO's busybox Dom0 (`make test-iso`) in out/soak-boot.iso,
with Keel's default command line (the test ISO itself has maxcpus=1),
about a minute a boot; live: out/keel.iso (`make image`, Debian's live
system, a few minutes a boot), as built.
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
CPUS_ONLINE = r"SMP: (\d+) of \d+ CPUs online"
RECOVERED = r"the CPU returned Keel's own state as the guest's"
LIVE_PROMPT = r"root@keel-live:[^\r\n]*# "

# (ISO, memory, shell prompt, QEMU options). The test ISO's Dom0 gets no
# VGA and no NIC, as in test_smp_dom0.py: fewer PCI BARs to size, the
# moment QEMU 7.2's multi-threaded TCG can crash (docs/testing-notes.md).
ISOS = {
    "test": ("soak-boot.iso", "1G", keeltest.DOM0_PROMPT,
             ["-vga", "none", "-nic", "none"]),
    "live": ("keel.iso", "2G", LIVE_PROMPT, []),
}


def boot(index, kind):
    """One boot: (seconds to the shell or None, recovered, Dom0 stopped,
    the signal that killed QEMU or None, why it failed or "")."""
    iso, mem, prompt, extra = ISOS[kind]
    # Multi-threaded TCG, where the VMRUN event was seen: its crashes are
    # counted apart, and Keel's second CPU kicks one whose timer QEMU
    # holds back (docs/testing-notes.md).
    machine = keeltest.Machine(
        "soak-boot-%d" % index, iso=keeltest.out_path(iso), cpu="max",
        smp=2, mem=mem, timeout=BOOT_TIMEOUT, extra_args=extra, mttcg=True)
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
        signal = machine.emulator_signal()
    cpus = re.search(CPUS_ONLINE, text)
    if seconds is not None and (not cpus or cpus.group(1) != "2"):
        seconds, why = None, "Keel did not run on 2 CPUs: %s" % (
            cpus.group(0) if cpus else "no SMP line")
    recovered = len(re.findall(RECOVERED, text))
    stopped = re.search(DOM0_STOPPED, text) is not None
    return seconds, recovered, stopped, signal, why


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--iso", choices=sorted(ISOS), default="test")
    args = parser.parse_args()
    path = keeltest.out_path(ISOS[args.iso][0])
    if args.iso == "test":
        modules = keeltest.dom0_modules()
        missing = keeltest.missing_files(
            [keeltest.out_path("keel.elf")] + [m[0] for m in modules])
        if missing:
            sys.exit("soak-boot: missing %s (make all test-iso)" % missing)
        keeltest.build_iso(path, keeltest.out_path("keel.elf"), modules,
                           keel_cmdline="")
    elif not os.path.exists(path):
        sys.exit("soak-boot: %s is missing (make image)" % path)
    shells = recovered_total = stopped_total = crashes = 0
    for i in range(1, args.boots + 1):
        seconds, recovered, stopped, signal, why = boot(i, args.iso)
        shells += seconds is not None
        recovered_total += recovered
        stopped_total += stopped
        crashes += seconds is None and signal is not None
        if seconds is not None:
            shell = "after %.0f s" % seconds
        elif signal is not None:
            shell = "NOT reached (QEMU killed by signal %d)" % signal
        else:
            shell = "NOT reached"
        print("boot %d/%d: shell %s, VM entries recovered %d, "
              "Dom0 stopped %s%s"
              % (i, args.boots, shell, recovered,
                 "yes" if stopped else "no",
                 "\n  " + why.replace("\n", "\n  ")
                 if why and signal is None else ""),
              flush=True)
    print("soak-boot (%s ISO, -smp 2): %d/%d boots reached the Dom0 shell, "
          "%d ended by a QEMU crash, %d with Dom0 stopped, %d VM entries "
          "recovered" % (args.iso, shells, args.boots, crashes,
                         stopped_total, recovered_total))
    # An emulator crash is QEMU's (docs/testing-notes.md), not Keel's.
    sys.exit(0 if shells + crashes == args.boots and not stopped_total
             else 1)


if __name__ == "__main__":
    main()
