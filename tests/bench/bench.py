#!/usr/bin/python3
"""Keel's benchmarks (`make bench`): figures, never pass/fail.

Dom0 boot: the test ISO (Keel + the busybox Dom0) against the same kernel,
initramfs and kernel command line booted bare by QEMU (-kernel), in
interleaved rounds so that a change in the machine's load hits both alike.
Each boot is timed from QEMU's start to the Dom0 banner's shell prompt
(the Keel boot picks its GRUB entry by hotkey instead of waiting out the
menu's countdown);
the table gives every round, the medians and their ratio. After each Keel
boot the debug console's 'q' key gives Dom0's VM exits by reason and the
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

I/O (issue 12), in one more boot with a virtio NIC (-nic user): first
`kl-ioreq-dm --bench`, a freestanding DomU timing with RDTSC 1000 reads
of a register the model in Dom0 answers (Keel's I/O request, keel.ko's
notification, poll() and DONE) and 1000 of the vIOAPIC's version
register (Keel alone), median and p99; then a 64 MiB image of random
bytes in Dom0's tmpfs, read and written there with busybox dd (page
cache: tmpfs has no O_DIRECT), and the same in the sample DomU on
/dev/vda with O_DIRECT; 4 KiB random reads are a shell loop of one dd
per read (fork and exec included: crude, and labelled so). Last, br0
is built from eth0 and the DomU (vif bridge=br0) pings Dom0's br0
address 20 times after its DHCP.

Tracing (--only trace, two boots, 4-5 minutes): Dom0's boot to its
shell with Keel's trace rings off and on from the start (trace=16 on
Keel's command line), and the loop rate of the busy test guest (a
CPU-bound DomU) with tracing off and on, three times in turns, medians
(kl trace in Dom0 draining the rings once a second).

The configuration (QEMU command line, host CPUs and load) is printed with
the results: figures from another machine or another load are not
comparable.

    tests/bench/bench.py [--rounds N] [--only boot|domu|io|trace]
"""

import argparse
import os
import re
import statistics
import sys
import time

import pexpect

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
        # Its hotkey starts the entry at once: GRUB's countdown is idle
        # time, which the bare boot (-kernel) does not have.
        machine.expect(r"Linux without Keel \(rescue\)")
        machine.send("k")
        machine.wait_for_shell()
        seconds = time.monotonic() - machine.started_at
        command = machine.command
        machine.send(CTRL_A * 3)
        machine.expect(r"Keel debug console", 30)
        machine.send("q")
        # The profile of d0's vCPU 0: its exits line, then its cycles line.
        m = machine.expect(r"d0v0: [^\n]*\n[^\n]*exits:([^\n]*)\n"
                           r"[^\n]*keel time \(kcycles\):([^\n]*)\n", 30)
        exits = parse_counts(m.group(1))
        cycles = parse_counts(m.group(2))
        machine.send(CTRL_A * 3)
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


# The I/O section (--only io): one boot of the test ISO with a virtio NIC.
IO_IMAGE = "/tmp/bench.img"
IO_IMAGE_MB = 64
IO_RANDOM_READS = 200
IO_PINGS = 20
IO_DM_READS = 1000  # tests/guests/ioreq/payload.h DOMU_BENCH_READS
IO_NIC = ["-nic", "user,model=virtio-net-pci"]
UDHCPC = "udhcpc -s /etc/udhcpc/default.script -t 5 -T 2 -n -q -i"


def busybox_seconds(out):
    """Seconds of busybox time's "real" line, or None."""
    m = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out)
    return int(m.group(1)) * 60 + float(m.group(2)) if m else None


def domu_run(machine, command, marker, timeout=300):
    """Runs command at the DomU's shell; its output (CR removed)."""
    machine.sendline("%s; echo %s-$?-END" % (command, marker))
    machine.expect(r"%s-(\d+)-END" % marker, timeout=timeout)
    return machine.child.before.replace("\r", "")


def disk_figures(run, dev, direct):
    """{figure: (value, how)} of sequential read and write and random
    4 KiB reads of dev through busybox dd, timed by busybox time (10 ms
    resolution); direct adds iflag/oflag=direct."""
    iflag = " iflag=direct" if direct else ""
    oflag = " oflag=direct" if direct else ""
    figures = {}
    out = run("time dd if=%s of=/dev/null bs=1M count=%d%s 2>&1"
              % (dev, IO_IMAGE_MB, iflag), "SR")
    s = busybox_seconds(out)
    figures["seq read MB/s"] = (IO_IMAGE_MB * 1.048576 / s if s else None,
                                out)
    out = run("time dd if=/dev/zero of=%s bs=1M count=%d conv=notrunc,fsync"
              "%s 2>&1" % (dev, IO_IMAGE_MB, oflag), "SW")
    s = busybox_seconds(out)
    figures["seq write MB/s"] = (IO_IMAGE_MB * 1.048576 / s if s else None,
                                 out)
    blocks = IO_IMAGE_MB * 256
    out = run("time sh -c 'i=0; while [ $i -lt %d ]; do dd if=%s "
              "of=/dev/null bs=4k count=1 skip=$((RANDOM %% %d))%s "
              "2>/dev/null || exit 1; i=$((i+1)); done' 2>&1"
              % (IO_RANDOM_READS, dev, blocks, iflag), "RR")
    s = busybox_seconds(out)
    figures["4K random reads/s"] = (IO_RANDOM_READS / s if s else None, out)
    return figures


def ioreq_figures(machine):
    """kl-ioreq-dm --bench in Dom0: {figure: (value, output)}."""
    out = machine.run("kl-ioreq-dm --bench 2>&1", timeout=600)
    figures = {}
    for what in ("dm", "keel"):
        m = re.search(r"bench %s: median ([\d.]+) us p99 ([\d.]+) us"
                      % what, out)
        figures[what] = (float(m.group(1)), float(m.group(2))) if m \
            else None
    return figures, out


def bench_io():
    machine = keeltest.Machine("bench-io", cpu=CPU, mem=MEM,
                               iso=keeltest.out_path("keel-test.iso"),
                               timeout=BOOT_TIMEOUT, extra_args=IO_NIC)
    dom0, domu, notes = {}, {}, []
    ioreq, ioreq_out, ping, ping_out = {}, "", None, ""
    started = time.monotonic()
    with machine:
        machine.wait_for_shell()

        def dom0_run(command, marker):
            return machine.run(command, timeout=600)

        # The ioreq round trip first, while Dom0 is otherwise idle.
        try:
            ioreq, ioreq_out = ioreq_figures(machine)
        except keeltest.TestFailure as e:
            ioreq_out = str(e)
        print("ioreq round trip: %s" % ioreq, flush=True)

        machine.run("dd if=/dev/urandom of=%s bs=1M count=%d 2>/dev/null"
                    % (IO_IMAGE, IO_IMAGE_MB), timeout=300, check=True)
        # Dom0's tmpfs has no O_DIRECT: its figures are page-cache ones.
        dom0 = disk_figures(dom0_run, IO_IMAGE, False)
        print("Dom0: %s" % {k: v[0] for k, v in dom0.items()}, flush=True)

        machine.run("killall udhcpc; brctl addbr br0; brctl addif br0 eth0;"
                    " ip addr flush dev eth0; ip link set br0 up; %s br0"
                    % UDHCPC, timeout=120)
        out = machine.run("ip -4 -o addr show br0", timeout=30)
        m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)", out)
        br0 = m.group(1) if m else None
        if not br0:
            notes.append("br0 got no address: %r" % out)

        machine.sendline("kl create -c %s 'name=\"io\"' "
                         "'disk=[\"format=raw, vdev=xvda, access=rw, "
                         "target=%s\"]' 'vif=[\"bridge=br0\"]'"
                         % (DOMU_CONFIG, IO_IMAGE))
        try:
            machine.expect(DOMU_PROMPT, DOMU_TIMEOUT)
            probe = domu_run(machine, "dd if=/dev/vda of=/dev/null bs=4k "
                             "count=1 iflag=direct 2>&1", "PROBE")
            direct = "invalid" not in probe and "unknown" not in probe
            if not direct:
                notes.append("DomU: no dd iflag=direct; caches dropped "
                             "before each read instead")
                domu = disk_figures(
                    lambda c, mk: domu_run(
                        machine, "echo 3 > /proc/sys/vm/drop_caches; " + c,
                        mk), "/dev/vda", False)
            else:
                domu = disk_figures(
                    lambda c, mk: domu_run(machine, c, mk), "/dev/vda", True)
            print("DomU: %s" % {k: v[0] for k, v in domu.items()},
                  flush=True)
            if br0:
                ping_out = domu_run(
                    machine, "ip link set eth0 up; %s eth0 >/dev/null 2>&1; "
                    "ping -c %d %s" % (UDHCPC, IO_PINGS, br0), "PING",
                    timeout=300)
                m = re.search(r"min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+)",
                              ping_out)
                ping = tuple(float(x) for x in m.groups()) if m else None
                lost = re.search(r"(\d+)% packet loss", ping_out)
                if lost:
                    notes.append("ping: %s%% packet loss" % lost.group(1))
        except keeltest.TestFailure as e:
            notes.append("DomU failed: %s" % str(e).splitlines()[0])
        machine.send(CTRL_RIGHT_BRACKET)
        machine.sendline()
        machine.expect(keeltest.DOM0_PROMPT, 60)
        machine.run("kl destroy io", timeout=120)
        command = machine.command
    elapsed = time.monotonic() - started

    def cell(figures, name, fmt="%.1f"):
        value = figures.get(name, (None, ""))[0]
        return fmt % value if value is not None else "failed"

    print()
    print("virtio-blk: busybox dd on a %d MiB raw image in Dom0's tmpfs "
          "(one pass each; random: %d reads)" % (IO_IMAGE_MB,
                                                  IO_RANDOM_READS))
    print("%-40s %14s %14s" % ("figure", "DomU /dev/vda", "Dom0 file"))
    for name, label in (("seq read MB/s", "sequential read, 1 MiB, MB/s"),
                        ("seq write MB/s",
                         "sequential write, 1 MiB + fsync, MB/s"),
                        ("4K random reads/s",
                         "4 KiB random reads/s (dd per read)")):
        print("%-40s %14s %14s" % (label, cell(domu, name),
                                   cell(dom0, name)))
    print("DomU: dd iflag/oflag=direct on /dev/vda (O_DIRECT) unless noted;"
          " Dom0: the same image file through tmpfs (page cache: no "
          "O_DIRECT there).")
    print("Random reads: a shell loop starting one busybox dd per 4 KiB "
          "read at skip=$RANDOM: the figure includes a fork+exec per read;"
          " it is crude, not an IOPS of the device alone.")
    print()
    print("ioreq round trip, %d 4-byte reads each, timed with RDTSC in a "
          "freestanding DomU (kl-ioreq-dm --bench), us" % IO_DM_READS)
    print("%-40s %10s %10s" % ("register", "median", "p99"))
    for what, label in (("dm", "device model (Dom0 poll(), keel.ko)"),
                        ("keel", "vIOAPIC (emulated by Keel)")):
        value = ioreq.get(what)
        print("%-40s %10s %10s" % (label, "%.1f" % value[0] if value else
                                   "failed",
                                   "%.1f" % value[1] if value else "failed"))
    for line in re.findall(r"kl-ioreq-dm: (?:bench|\d+ requests)[^\n]*",
                           ioreq_out):
        print(line)
    print()
    print("DomU -> Dom0 (br0) ping, %d packets, ms" % IO_PINGS)
    print("%-10s %10s %10s" % ("min", "avg", "max"))
    print("%-10.1f %10.1f %10.1f" % ping if ping else "failed")
    print()
    for note in notes:
        print("note: %s" % note)
    if not ioreq.get("dm"):
        print("kl-ioreq-dm output: %s" % ioreq_out[-2000:])
    if ping is None and ping_out:
        print("ping output: %s" % ping_out[-1000:])
    print("keel: %s" % " ".join(command))
    print("DomU: %s + the disk and vif=[\"bridge=br0\"]; section took "
          "%.0f s" % (DOMU_CONFIG, elapsed))


# The tracing section (--only trace): what Keel's trace rings cost.
TRACE_PAGES = 16
TRACE_SAMPLES = 6  # busy's once-a-second progress lines per measurement
TRACE_ROUNDS = 3  # measurements of the busy guest, off and on in turns
BUSY_RE = r"busy: t=(\d+) progress=(\d+)\r*\n"


def busy_rate(machine):
    """Loop iterations per second of the running busy guest, from
    TRACE_SAMPLES of its progress lines (its own TSC seconds)."""
    machine.sendline("kl console busy")
    machine.expect(BUSY_RE, 60)
    # kl console replays what the ring still holds at once; new lines
    # come a second apart: skip the burst.
    while machine.child.expect([r"(?s).+", pexpect.TIMEOUT],
                               timeout=0.5) == 0:
        pass
    samples = []
    for _ in range(TRACE_SAMPLES + 1):
        m = machine.expect(BUSY_RE, 60)
        samples.append((int(m.group(1)), int(m.group(2))))
    machine.send(CTRL_RIGHT_BRACKET)
    machine.sendline()
    machine.expect(keeltest.DOM0_PROMPT, 60)
    (t0, p0), (t1, p1) = samples[0], samples[-1]
    return (p1 - p0) / (t1 - t0)


def trace_machine(name, keel_cmdline):
    """The test ISO's Keel and Dom0 with this Keel command line."""
    iso = keeltest.out_path("%s.iso" % name)
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"),
                       keeltest.dom0_modules(), keel_cmdline=keel_cmdline)
    return keeltest.Machine(name, iso=iso, cpu=CPU, mem=MEM,
                            timeout=BOOT_TIMEOUT)


def bench_trace():
    rows, busy = {}, {"off": [], "on": []}
    for mode, cmdline in (("off", "maxcpus=1"),
                          ("on", "maxcpus=1 trace=%d" % TRACE_PAGES)):
        machine = trace_machine("bench-trace-" + mode, cmdline)
        with machine:
            machine.wait_for_shell()
            rows.setdefault("boot", {})[mode] = \
                time.monotonic() - machine.started_at
            command = machine.command
            if mode == "off":
                machine.run("printf 'name = \"busy\"\\nkernel = "
                            "\"/usr/share/keel/guests/busy.bin\"\\n"
                            "memory = 32\\ncmdline = \"seconds=0\"\\n' "
                            "> /tmp/busy.cfg; kl create -q /tmp/busy.cfg",
                            timeout=120, check=True)
                # Off and on in turns: the host's load drifts.
                for _ in range(TRACE_ROUNDS):
                    busy["off"].append(busy_rate(machine))
                    # On from Dom0, with a reader draining once a second.
                    machine.sendline("kl trace -b %d -i 1000 -o /dev/null "
                                     "2>/dev/null &" % TRACE_PAGES)
                    machine.expect("trace: on", 60)
                    machine.run("true", timeout=60)
                    busy["on"].append(busy_rate(machine))
                    machine.run("kill -INT $!; wait $!", timeout=60)
                rows["busy"] = {m: statistics.median(v)
                                for m, v in busy.items()}
        print("round %s: Dom0 boot %.1f s" % (mode, rows["boot"][mode]),
              flush=True)
    print()
    print("Tracing off vs on (Keel's trace rings, %d pages per CPU; Dom0: "
          "one boot each)" % TRACE_PAGES)
    print("%-44s%12s%12s%10s" % ("", "off", "on", "on/off"))
    for key, label in (("boot", "Dom0 boot to its shell, s (trace=%d)"
                        % TRACE_PAGES),
                       ("busy", "busy DomU loop, iterations/s (kl trace)")):
        off, on = rows[key]["off"], rows[key]["on"]
        print("%-44s%12.1f%12.1f%10.3f" % (label, off, on, on / off))
    print("busy rounds, off: %s; on: %s (medians above)"
          % (", ".join("%.0f" % r for r in busy["off"]),
             ", ".join("%.0f" % r for r in busy["on"])))
    print("keel: %s" % " ".join(command))
    print("busy: %d one-second progress lines each, under kl console; "
          "tracing on: kl trace -i 1000 -o /dev/null in Dom0"
          % TRACE_SAMPLES)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int,
                        default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--only", choices=["boot", "domu", "io", "trace"],
                        default=None)
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
        print()
    if args.only in (None, "io"):
        bench_io()
        print()
    if args.only in (None, "trace"):
        bench_trace()


if __name__ == "__main__":
    main()
