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

DomU creation: in one boot of the test ISO (whose Dom0 boot time is
printed beside), `kl create -c -t` of the sample DomU (debian.cfg:
Debian's kernel and the busybox initramfs) to its shell prompt, N times,
split into phases on three clocks that all follow the host's time under
TCG: kl's own (`-t`: ms since kl create started, Dom0's CLOCK_MONOTONIC)
up to the START call; Keel's (its boot timer port 0x603, which the
DomU's init writes with 1 and its shell profile with 2: Keel logs the
microseconds since START and those of the guest's first instruction),
added to kl's "started"; and the harness's, from the Enter that starts
kl to the prompt seen on the serial line.

The configuration (QEMU command line, host CPUs and load) is printed with
the results: figures from another machine or another load are not
comparable.

    tests/bench/bench.py [--rounds N] [--only boot|domu]
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
DOMU_CONFIG = "/etc/keel/examples/debian.cfg"
DOMU_PROMPT = r"domU:[^\r\n]*# "
DOMU_TIMEOUT = 900
CTRL_RIGHT_BRACKET = "\x1d"
# `kl create -t` lines, in the order kl prints them.
KL_PHASES = ["configuration parsed", "images read and checked",
             "guest memory allocated", "domain created",
             "memory pinned and mapped", "started"]


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


def kl_phases(log):
    """{phase: ms since kl create started} from `kl create -t` lines, which
    Keel's own lines may cut (keeltest.dom0_stream joins them again)."""
    text = keeltest.dom0_stream(log)
    phases = {}
    for name in KL_PHASES:
        m = re.search(r"kl create: timing: ([\d.]+) ms " + re.escape(name),
                      text)
        if m:
            phases[name] = float(m.group(1))
    return phases


def boot_timer(log, name, value):
    """(ms after START, ms of the first guest instruction after START) of
    Keel's boot timer line for domain `name` and port value, or None."""
    m = re.search(r"\(keel\) d\d+ '%s': boot timer %d: (\d+) us after "
                  r"start \(first instruction at (\d+) us\)"
                  % (re.escape(name), value), log)
    return (int(m.group(1)) / 1000.0, int(m.group(2)) / 1000.0) if m \
        else None


def create_domu(machine, name):
    """One `kl create -c -t` of the sample DomU to its prompt, then its
    destroy; {phase: ms since kl create started}."""
    start = len(machine.log_text())
    entered = time.monotonic()
    machine.sendline("kl create -c -t %s 'name=\"%s\"'" % (DOMU_CONFIG,
                                                          name))
    machine.expect(r"boot timer 2: ", DOMU_TIMEOUT)
    machine.expect(DOMU_PROMPT, 120)
    prompt = (time.monotonic() - entered) * 1000.0
    log = machine.log_text()[start:]
    phases = kl_phases(log)
    init, profile = boot_timer(log, name, 1), boot_timer(log, name, 2)
    started = phases.get("started")
    if started is not None and init and profile:
        phases["first guest instruction"] = started + init[1]
        phases["guest init reached (port 0x603 = 1)"] = started + init[0]
        phases["shell profile (port 0x603 = 2)"] = started + profile[0]
    phases["shell prompt seen (host, from Enter)"] = prompt
    machine.send(CTRL_RIGHT_BRACKET)
    machine.expect(keeltest.DOM0_PROMPT, 60)
    machine.run("kl destroy %s; while [ -e /run/keel/kl-%s.pid ]; do "
                "sleep 0.2; done" % (name, name), timeout=120)
    return phases


def bench_domu(rounds):
    machine = keeltest.Machine("bench-domu", cpu=CPU, mem=MEM,
                               iso=keeltest.out_path("keel-test.iso"),
                               timeout=BOOT_TIMEOUT)
    results = []
    with machine:
        machine.wait_for_shell()
        dom0 = time.monotonic() - machine.started_at
        command = machine.command
        for r in range(1, rounds + 1):
            results.append(create_domu(machine, "bench%d" % r))
            print("round %d: kl create -> DomU shell prompt %.1f s"
                  % (r, results[-1]["shell prompt seen (host, from Enter)"]
                     / 1000.0), flush=True)
    order = KL_PHASES + ["first guest instruction",
                         "guest init reached (port 0x603 = 1)",
                         "shell profile (port 0x603 = 2)",
                         "shell prompt seen (host, from Enter)"]
    print()
    print("kl create -c of %s to the DomU's shell: each phase's end, ms "
          "after kl create started" % DOMU_CONFIG)
    print("%-38s" % "phase" +
          "".join("%10s" % ("round %d" % (r + 1)) for r in range(rounds)) +
          "%10s %10s" % ("median", "step"))
    previous = 0.0
    for name in order:
        values = [res[name] for res in results if name in res]
        cells = "".join("%10.1f" % res[name] if name in res else
                        "%10s" % "-" for res in results)
        median = statistics.median(values) if values else None
        print("%-38s%s%s" % (name, cells,
                             "%10.1f %10.1f" % (median, median - previous)
                             if median is not None else "%10s" % "-"))
        if median is not None:
            previous = median
    print("%-38s%10.1f s (QEMU start -> Dom0 prompt, this boot)"
          % ("Dom0 boot, same run", dom0))
    print()
    print("keel: %s" % " ".join(command))
    print("kl phases: Dom0's clock (kl create -t); first instruction, init "
          "and profile: Keel's (boot timer port) added to kl's 'started';")
    print("the prompt: the harness's clock from the Enter, so it includes "
          "the shell starting kl.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int,
                        default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--only", choices=["boot", "domu"], default=None)
    args = parser.parse_args()
    print(host_config())
    print("emulator: QEMU TCG, -cpu %s, -m %s, 1 CPU (the test ISO runs Keel "
          "with maxcpus=1)" % (CPU, MEM))
    print()
    if args.only in (None, "boot"):
        bench_boot(args.rounds)
        print()
    if args.only in (None, "domu"):
        bench_domu(args.rounds)


if __name__ == "__main__":
    main()
