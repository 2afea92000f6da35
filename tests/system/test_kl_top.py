#!/usr/bin/python3
"""`kl top`: per-domain CPU, memory and rates from Dom0.

Boots Keel and the test ISO's Dom0 (Debian's kernel, the busybox
initramfs with kl and keel.ko) under QEMU TCG (-cpu max, 2 GiB) with two
physical CPUs and Dom0's one vCPU on CPU 0, and, at Dom0's shell,
creates two busy test guests (tests/guests/busy, spinning for ever) with
`kl create`, both pinned to CPU 1 (`cpus = "1"`), at weights 256 and 512.
(Not the test ISO's own entry, maxcpus=1: there Dom0 shares the CPU, and
the credit scheduler hands the credit an idle Dom0 leaves to both busy
guests alike, so they measure about 1:1.6, not 1:2.) Then:

1. `kl top -b -n 2 -i 5 --json` prints two reports, one JSON object per
   line, each parsing with Python's json module; every domain `kl list`
   shows is in each, Dom0 and both DomUs among them, with a CPU %, its
   memory and exits/s.
2. In the second report the weight-512 guest's CPU % is twice the
   weight-256 one's (2.0 within +-15%, as tests/system/test_scheduler.py
   measures progress; both share the one pinned CPU), the two together
   use most of that CPU, and both guests exit (exits/s > 0: their COM1
   output and timer). Their vCPUs are reported on CPU 1. Dom0 receives
   interrupts (irqs/s > 0: Keel injects its timer's).
3. The counters only grow between the two reports (exits, CPU time).
4. `kl top -b -n 1 -i 1 -v` prints the table: its header, a line per
   domain and a line per vCPU.
5. On Dom0's console (a terminal) `kl top -i 1` redraws, `v` shows the
   vCPU lines, `q` quits.
6. Bad arguments are refused with status 2 (`-i 0`, `-n 0`, `-s mem`).
The measured figures are printed.
"""
# suite-timeout: 900

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import kldom0  # noqa: E402

BOOT_DEADLINE = 300
GUESTS = "/usr/share/keel/guests"  # the test guests in the test ISO's Dom0
INTERVAL = 5  # seconds per report
WEIGHTS = {"light": 256, "heavy": 512}
CPU = 1  # the busy guests' physical CPU; Dom0 runs on CPU 0
TOLERANCE = 0.15


def dom0_lines(out):
    """Dom0's lines of a command's output, without Keel's tagged lines
    (which may cut a Dom0 line in two: the pieces are joined)."""
    text = out.replace("\r", "")
    lines = [line for line in text.split("\n")
             if not re.match(r"\([-\w]+\) ", line)]
    return "".join(lines)


def json_documents(out, opener="{"):
    """Every JSON value (objects, or arrays with opener "[") in the
    output, in order (raises ValueError)."""
    text = dom0_lines(out)
    decoder = json.JSONDecoder()
    docs, i = [], text.find(opener)
    while i >= 0:
        doc, end = decoder.raw_decode(text, i)
        docs.append(doc)
        i = text.find(opener, end)
    if not docs:
        raise ValueError("no JSON in %r" % out)
    return docs


def by_name(report):
    return {d["name"]: d for d in report["domains"]}


def create_guests(suite, machine):
    for name, weight in WEIGHTS.items():
        lines = ['name = "%s"' % name,
                 'kernel = "%s/busy.bin"' % GUESTS,
                 "memory = 32", 'cpus = "%d"' % CPU, "cpu_weight = %d" % weight,
                 'cmdline = "seconds=0"', 'on_crash = "destroy"']
        machine.run("printf '%s\\n' > /tmp/%s.cfg"
                    % ("\\n".join(lines), name), timeout=30, check=True)
        out = machine.run("kl create -q /tmp/%s.cfg; echo status=$?" % name,
                          timeout=120)
        if "status=0" not in out:
            suite.fail("kl create %s (busy, weight %d, pinned to CPU %d)"
                       % (name, weight, CPU), "output %r" % out)
            return False
    out = machine.run("kl sched-credit; kl vcpu-list", timeout=60)
    suite.note("domains:\n" + out)
    return True


def check_json(suite, machine):
    started = time.monotonic()
    out = machine.run("kl top -b -n 2 -i %d --json > /tmp/top.json; "
                      "echo status=$?; cat /tmp/top.json" % INTERVAL,
                      timeout=120)
    took = time.monotonic() - started
    listed = json_documents(machine.run("kl list --json", timeout=60),
                            "[")[0]
    try:
        reports = json_documents(out.split("status=", 1)[-1])
    except ValueError as e:
        suite.fail("kl top --json parses", e)
        return
    suite.check("kl top -b -n 2 --json: status 0, two reports in %.1f s "
                "(two intervals of %d s)" % (took, INTERVAL),
                "status=0" in out and len(reports) == 2 and
                took >= 2 * INTERVAL - 0.5,
                "output %r" % out)
    if len(reports) != 2:
        return
    names = {d["name"] for d in listed}
    for number, report in enumerate(reports, 1):
        doms = by_name(report)
        complete = all(
            isinstance(d.get("cpu_percent"), (int, float)) and
            d.get("memory_bytes", 0) > 0 and
            isinstance(d.get("exits_per_s"), (int, float)) and
            isinstance(d.get("irqs_per_s"), (int, float)) and
            isinstance(d.get("ioreqs_per_s"), (int, float))
            for d in report["domains"])
        suite.check("report %d lists every domain (%s) with CPU %%, memory "
                    "and exits/s" % (number, ", ".join(sorted(names))),
                    report.get("report") == number and
                    names <= set(doms) and "light" in doms and
                    "heavy" in doms and
                    any(d["domid"] == 0 for d in report["domains"]) and
                    complete, "report %r, kl list %r" % (report, listed))
    first, second = by_name(reports[0]), by_name(reports[1])
    for name in sorted(set(first) & set(second)):
        d = second[name]
        suite.note("%s (d%d): %.1f%% CPU, %d MiB, %.0f exits/s, %.0f irqs/s,"
                   " %.0f ioreqs/s" % (name, d["domid"], d["cpu_percent"],
                                       d["memory_bytes"] >> 20,
                                       d["exits_per_s"], d["irqs_per_s"],
                                       d["ioreqs_per_s"]))
    light, heavy = second["light"], second["heavy"]
    ratio = heavy["cpu_percent"] / light["cpu_percent"] \
        if light["cpu_percent"] else 0
    suite.check("weights 512:256 on one CPU: CPU %% 2:1 within 15%% "
                "(measured %.2f)" % ratio, abs(ratio - 2.0) <= 2.0 * TOLERANCE,
                "heavy %r, light %r" % (heavy, light))
    together = heavy["cpu_percent"] + light["cpu_percent"]
    suite.check("the two busy guests use most of their CPU and no more "
                "(%.1f%% together)" % together, 60.0 <= together <= 105.0,
                "heavy %r, light %r" % (heavy, light))
    pcpus = [v["pcpu"] for d in (light, heavy) for v in d["vcpu_list"]]
    suite.check("both guests exit (exits/s > 0) and run on CPU %d" % CPU,
                light["exits_per_s"] > 0 and heavy["exits_per_s"] > 0 and
                pcpus == [CPU, CPU], "heavy %r, light %r" % (heavy, light))
    dom0 = next(d["name"] for d in reports[0]["domains"] if d["domid"] == 0)
    suite.check("Keel counts the interrupts it injects into Dom0 "
                "(irqs/s > 0: its timer)", second[dom0]["irqs_per_s"] > 0,
                "Dom0 %r" % second[dom0])
    grows = all(second[n]["exits"] >= first[n]["exits"] and
                second[n]["cpu_time_ns"] >= first[n]["cpu_time_ns"]
                for n in ("light", "heavy", dom0))
    suite.check("exits and CPU time only grow between the reports", grows,
                "first %r, second %r" % (reports[0], reports[1]))


def check_text(suite, machine):
    out = machine.run("kl top -b -n 1 -i 1 -v > /tmp/top.txt; "
                      "echo status=$?; cat /tmp/top.txt", timeout=60)
    # Keel's tagged lines dropped; a Dom0 line they cut is not matched.
    lines = "\n" + "\n".join(
        line for line in out.replace("\r", "").split("\n")
        if not re.match(r"\([-\w]+\) ", line))
    suite.check("kl top -b -n 1 -v prints the table with a line per vCPU",
                "status=0" in lines and
                re.search(r"NAME +ID +STATE +CPU\(sec\) +CPU\(%\) +MEM\(k\) "
                          r"+VCPUS +EXITS/s +IRQS/s +IOREQS/s", lines) and
                re.search(r"\nlight +\d+ r----- ", lines) and
                re.search(r"\nheavy +\d+ r----- ", lines) and
                len(re.findall(r"\n +VCPU +\d+ +CPU ", lines)) >= 3,
                "output %r" % lines)


def check_interactive(suite, machine):
    """On Dom0's console (a terminal) kl top redraws every interval; `v`
    adds the vCPU lines at once, `q` quits and the shell answers again."""
    try:
        machine.sendline("kl top -i 1 -s cpu")
        machine.expect(r"q quit", timeout=60)
        machine.expect(r"q quit", timeout=60)  # a second redraw
        machine.send("v")
        machine.expect(r"VCPU +0 +CPU +1 ", timeout=60)
        machine.send("q")
        machine.expect(keeltest.DOM0_PROMPT, timeout=60)
        out = machine.run("echo still-here", timeout=60)
        suite.check("kl top on a terminal: redraws, v shows vCPUs, q quits",
                    "still-here" in out, "output %r" % out)
    except keeltest.TestFailure as e:
        suite.fail("kl top on a terminal: redraws, v shows vCPUs, q quits", e)
        machine.send("q")


def check_bad_args(suite, machine):
    for args in ("-i 0", "-n 0", "-s mem", "-x"):
        out = machine.run("kl top -b %s; echo status=$?" % args, timeout=60)
        suite.check("kl top %s is refused (status 2)" % args,
                    "status=2" in out, "output %r" % out)


def main():
    suite = keeltest.Suite("kl top")
    machine = kldom0.dom0_machine(suite, "kl-top",
                                  boot_deadline=BOOT_DEADLINE, mttcg=True)
    with machine:
        kldom0.wait_for_dom0(suite, machine)
        try:
            if create_guests(suite, machine):
                time.sleep(3)  # past their start-up
                check_json(suite, machine)
                check_text(suite, machine)
                check_interactive(suite, machine)
                check_bad_args(suite, machine)
        except (keeltest.TestFailure, ValueError, KeyError, TypeError) as e:
            suite.fail("kl top answers", e)
    suite.finish()


if __name__ == "__main__":
    main()
