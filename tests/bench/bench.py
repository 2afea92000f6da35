#!/usr/bin/python3
"""Keel's benchmarks (`make bench`): figures, never pass/fail.

Dom0 boot: the test ISO (Keel + the busybox Dom0) against the same kernel,
initramfs and kernel command line booted bare by QEMU (-kernel), in
interleaved rounds so that a change in the machine's load hits both alike.
Each boot is timed from QEMU's start to the Dom0 banner's shell prompt;
the table gives every round, the medians and their ratio. After each Keel
boot the debug console's 'd' key gives Dom0's VM exits by reason and the
time Keel spent on them (TSC cycles from the exit to the next entry),
printed as exits per boot and share of Keel's time.

The configuration (QEMU command line, host CPUs and load) is printed with
the results: figures from another machine or another load are not
comparable.

    tests/bench/bench.py [--rounds N] [--only boot]
"""

import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

CTRL_A = "\x01"
BOOT_TIMEOUT = 600
# What image/grub.cfg's "Keel + Dom0" entry gives Dom0.
DOM0_CMDLINE = "console=ttyS0,115200 pci=nomsi"
CPU = "max"
MEM = "1G"


def boot_keel(round_no):
    """Seconds to the Dom0 shell under Keel, and Dom0's exit profile."""
    machine = keeltest.Machine("bench-keel-%d" % round_no,
                               iso=keeltest.out_path("keel-test.iso"),
                               cpu=CPU, mem=MEM, timeout=BOOT_TIMEOUT)
    with machine:
        machine.wait_for_shell()
        seconds = time.monotonic() - machine.started_at
        command = machine.command
        machine.send(CTRL_A * 3)
        machine.expect(r"Keel debug console", 30)
        machine.send("d")
        # The profile of d0's vCPU 0: its exits line, then its cycles line.
        m = machine.expect(r"d0v0: [^\n]*\n[^\n]*exits:([^\n]*)\n"
                           r"[^\n]*keel time \(kcycles\):([^\n]*)\n", 30)
        exits = parse_counts(m.group(1))
        cycles = parse_counts(m.group(2))
        machine.send("q")
    return seconds, exits, cycles, command


def boot_bare(round_no):
    machine = keeltest.Machine(
        "bench-bare-%d" % round_no, cpu=CPU, mem=MEM, timeout=BOOT_TIMEOUT,
        extra_args=["-kernel", keeltest.build_path("kernel", "vmlinuz"),
                    "-initrd", keeltest.out_path("dom0-initramfs.cpio.gz"),
                    "-append", DOM0_CMDLINE])
    with machine:
        machine.wait_for_shell()
        return time.monotonic() - machine.started_at, machine.command


def parse_counts(text):
    return {k: int(v) for k, v in re.findall(r"([\w-]+)=(\d+)", text)}


def host_config():
    load = os.getloadavg()
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return ("host: %d CPUs (%s), load average %.2f %.2f %.2f at the start"
            % (os.cpu_count(), model, *load))


def bench_boot(rounds):
    keel, bare, profiles = [], [], []
    commands = {}
    for r in range(1, rounds + 1):
        seconds, exits, cycles, commands["keel"] = boot_keel(r)
        keel.append(seconds)
        profiles.append((exits, cycles))
        seconds, commands["bare"] = boot_bare(r)
        bare.append(seconds)
        print("round %d: Keel %.1f s, bare %.1f s" % (r, keel[-1], bare[-1]),
              flush=True)

    print()
    print("Dom0 boot to its shell prompt (QEMU start -> prompt), seconds")
    print("%-8s %10s %10s" % ("round", "Keel", "bare"))
    for r in range(rounds):
        print("%-8d %10.1f %10.1f" % (r + 1, keel[r], bare[r]))
    mk, mb = statistics.median(keel), statistics.median(bare)
    print("%-8s %10.1f %10.1f   Keel/bare = %.2fx"
          % ("median", mk, mb, mk / mb))
    print()
    for name in ("keel", "bare"):
        print("%s: %s" % (name, " ".join(commands[name])))
    print()

    reasons = sorted({k for exits, _ in profiles for k in exits})
    total_cycles = [sum(c.values()) for _, c in profiles]
    rows = []
    for reason in reasons:
        counts = [e.get(reason, 0) for e, _ in profiles]
        shares = [100.0 * c.get(reason, 0) / t if t else 0.0
                  for (_, c), t in zip(profiles, total_cycles)]
        rows.append((statistics.median(counts), reason,
                     statistics.median(shares)))
    rows.sort(reverse=True)
    print("Dom0's VM exits per boot to the shell (median of %d boots)"
          % rounds)
    print("%-16s %10s %14s" % ("reason", "exits", "Keel time %"))
    for count, reason, share in rows:
        print("%-16s %10d %13.1f%%" % (reason, count, share))
    print("%-16s %10d" % ("all", sum(r[0] for r in rows)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int,
                        default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--only", choices=["boot"], default=None)
    args = parser.parse_args()
    print(host_config())
    print("emulator: QEMU TCG, -cpu %s, -m %s, 1 CPU (the test ISO runs Keel "
          "with maxcpus=1)" % (CPU, MEM))
    print()
    bench_boot(args.rounds)


if __name__ == "__main__":
    main()
