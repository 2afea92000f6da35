#!/usr/bin/python3
"""`kl trace`: Keel's trace rings seen from Dom0.

Boots Keel and the test ISO's Dom0 under QEMU TCG (-cpu max, 2 CPUs,
2 GiB, Dom0's one vCPU on CPU 0) and, at Dom0's shell:

1. A busy test guest ("other", tests/guests/busy, printing once a second)
   runs as a second domain.
2. `kl trace -o FILE` records in the background (it turns tracing on:
   Keel logs "trace: on") while `kl create` runs the tracework guest
   (tests/guests/tracework) with cpuid=N io=M hlt=K; it prints PASS, and
   SIGINT ends the recording with status 0.
3. `kl trace -r FILE --json -d tracework -e cpuid,io,hlt`: between the
   guest's two writes to its marker port (0x81) there are exactly N
   CPUID exits, M writes to port 0x80 and K HLT exits, all of domain
   tracework, every line valid JSON; the recording also holds exits of
   Dom0 (domain 0) and of "other", and none of "other"'s records appear
   under `-d tracework`, nor tracework's under `-d other`.
4. `kl trace -r FILE --stats` prints per-domain tables with p50 and p99
   columns; `--stats --json` gives p50_us/p99_us for tracework's cpuid.
5. With a one-page ring (`-b 1`) and a reader that polls once every
   2 s, a second tracework run loses records: `--stats --json` reports
   lost > 0.
6. Bad arguments are refused with status 2 (a file that is not a
   recording with status 1).
"""
# suite-timeout: 900
# suite-parallel: yes

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import kldom0  # noqa: E402
from kldom0 import detach  # noqa: E402

BOOT_DEADLINE = 300
GUEST_DEADLINE = 300
GUESTS = "/usr/share/keel/guests"
N_CPUID, M_IO, K_HLT = 100, 50, 10
WORK_PORT, MARK_PORT = 0x80, 0x81


def dom0_lines(out):
    """Dom0's lines of a command's output, without Keel's tagged lines."""
    return [line for line in out.replace("\r", "").split("\n")
            if line and not re.match(r"\([-\w]+\) ", line)]


def json_lines(out):
    return [json.loads(line) for line in dom0_lines(out)
            if line.startswith("{")]


def write_cfg(machine, name, kernel, cmdline):
    lines = ['name = "%s"' % name, 'kernel = "%s/%s"' % (GUESTS, kernel),
             "memory = 32", 'cmdline = "%s"' % cmdline,
             'on_crash = "preserve"']
    machine.run("printf '%s\\n' > /tmp/%s.cfg" % ("\\n".join(lines), name),
                timeout=30, check=True)






def record(suite, machine, path, name, extra=""):
    """Records while tracework runs as domain `name`; True if it passed
    and the recording ended well."""
    command = ("kl trace -o %s %s" % (path, extra)).strip()
    machine.sendline("%s 2>/tmp/rec.err & echo started" % command)
    # Keel's line and Dom0's prompt come in either order; run() syncs.
    machine.expect("trace: on", timeout=60)
    write_cfg(machine, name, "tracework.bin",
              "cpuid=%d io=%d hlt=%d" % (N_CPUID, M_IO, K_HLT))
    out = machine.run("kl create -q /tmp/%s.cfg; echo status=$?" % name,
                      timeout=120)
    if "status=0" not in out:
        suite.fail("kl create %s (tracework)" % name, "output %r" % out)
        return False
    # Its console ring keeps what it printed before we attach.
    machine.sendline("kl console " + name)
    machine.expect(r"TEST tracework: (PASS|FAIL[^\r\n]*)",
                   timeout=GUEST_DEADLINE)
    result = machine.child.match.group(1)
    detach(machine)
    out = machine.run("kill -INT $!; wait $!; echo status=$?; "
                      "cat /tmp/rec.err; kl destroy %s" % name, timeout=120)
    suite.check("tracework (%s) passes while %s records, which ends "
                "with status 0 at SIGINT" % (name, command),
                result == "PASS" and "status=0" in out and
                "recorded to" in out,
                "guest %r, output %r" % (result, out))
    return result == "PASS" and "status=0" in out


def check_counts(suite, machine):
    out = machine.run(
        "kl trace -r /tmp/t.bin --json -d tracework -e cpuid,io,hlt "
        "| sed -n '/\"port\": %d,/,/\"port\": %d,/p'" % (MARK_PORT,
                                                         MARK_PORT),
        timeout=180)
    try:
        events = json_lines(out)
    except ValueError as e:
        suite.fail("kl trace --json prints one JSON object a line", e)
        return
    marks = [e for e in events if e.get("port") == MARK_PORT]
    window = events[1:-1]
    cpuid = sum(1 for e in window if e["reason"] == "cpuid")
    io = sum(1 for e in window if e["reason"] == "io" and
             e.get("port") == WORK_PORT and e.get("dir") == "out" and
             e.get("size") == 1)
    hlt = sum(1 for e in window if e["reason"] == "hlt")
    others = [e for e in window if e["reason"] not in ("cpuid", "io", "hlt")
              or (e["reason"] == "io" and e.get("port") != WORK_PORT)]
    suite.note("between the markers: cpuid %d, io 0x80 %d, hlt %d, "
               "other %d" % (cpuid, io, hlt, len(others)))
    suite.check("kl trace --json -d tracework: exactly %d cpuid, %d out to "
                "0x80 and %d hlt exits between the guest's two markers"
                % (N_CPUID, M_IO, K_HLT),
                len(marks) == 2 and cpuid == N_CPUID and io == M_IO and
                hlt == K_HLT and not others,
                "markers %d, cpuid %d, io %d, hlt %d, others %r"
                % (len(marks), cpuid, io, hlt, others[:5]))
    suite.check("every event is domain tracework's, with its name, an "
                "action and the time in Keel",
                events and all(e["domain"] == "tracework" and
                               e["kind"] == "exit" and "us" in e and
                               "action" in e for e in events),
                "events %r" % events[:5])


def check_filters(suite, machine):
    out = machine.run(
        "kl trace -r /tmp/t.bin --stats --json; "
        "kl trace -r /tmp/t.bin --stats --json -d tracework; "
        "kl trace -r /tmp/t.bin --stats --json -d other", timeout=180)
    try:
        everything, tw, other = json_lines(out)
    except ValueError as e:
        suite.fail("kl trace --stats --json prints JSON", e)
        return
    names = {d["name"] for d in everything["domains"]}
    suite.check("the recording holds exits of Dom0, other and tracework",
                {"Domain-0", "other", "tracework"} <= names or
                {"other", "tracework"} <= names and
                any(d["domid"] == 0 for d in everything["domains"]),
                "domains %r" % everything["domains"])
    suite.check("-d tracework shows only tracework, -d other only other",
                [d["name"] for d in tw["domains"]] == ["tracework"] and
                [d["name"] for d in other["domains"]] == ["other"],
                "tracework %r, other %r" % (tw, other))
    cpuid = tw["domains"][0]["exits"].get("cpuid", {}) if tw["domains"] \
        else {}
    suite.check("--stats --json: tracework's cpuid exits with p50_us and "
                "p99_us (p50 <= p99)",
                cpuid.get("count", 0) >= N_CPUID and
                0 < cpuid.get("p50_us", 0) <= cpuid.get("p99_us", 0),
                "cpuid %r" % cpuid)
    suite.note("tracework cpuid: %r" % cpuid)
    out = machine.run("kl trace -r /tmp/t.bin --stats -d tracework",
                      timeout=120)
    text = "\n".join(dom0_lines(out))
    suite.check("--stats prints a table with p50 and p99 per reason",
                re.search(r"REASON\s+COUNT\s+p50\(us\)\s+p99\(us\)", text)
                and re.search(r"^\s+cpuid\s+\d+\s+[\d.]+\s+[\d.]+$", text,
                              re.M), "output %r" % out)
    suite.note("kl trace --stats -d tracework:\n" + text)
    out = machine.run("kl trace -r /tmp/t.bin --explain -d tracework "
                      "-e cpuid | head -3", timeout=120)
    text = "\n".join(dom0_lines(out))
    suite.check("--explain says what a cpuid exit is before the first one",
                re.search(r"# cpuid: The guest ran CPUID", text) and
                re.search(r"d\d+v0 exit cpuid -> cpuid policy [\d.]+us",
                          text), "output %r" % out)


def check_lost(suite, machine):
    if not record(suite, machine, "/tmp/lost.bin", "tracework2",
                  "-b 1 -i 2000"):
        return
    out = machine.run("kl trace -r /tmp/lost.bin --stats --json",
                      timeout=120)
    try:
        stats = json_lines(out)[0]
    except (ValueError, IndexError) as e:
        suite.fail("kl trace --stats --json of the one-page recording", e)
        return
    suite.check("a one-page ring read every 2 s loses records, and says so",
                stats.get("lost", 0) > 0, "stats %r" % stats)
    suite.note("lost with a one-page ring: %d" % stats.get("lost", 0))


def check_bad_args(suite, machine):
    for args in ("-b 3", "-b 512", "-e nosuch", "-v x", "-o a -r b",
                 "-t 0", "-r /proc/version"):
        out = machine.run("kl trace %s; echo status=$?" % args, timeout=60)
        want = "status=1" if args.startswith("-r ") else "status=2"
        suite.check("kl trace %s is refused (%s)" % (args, want),
                    want in out, "output %r" % out)


def check_sigkill(suite, machine):
    """A SIGKILLed `kl trace` cannot turn tracing off: keel.ko does, when
    the fd that turned it on is closed."""
    machine.sendline("kl trace -o /tmp/killed.bin 2>/dev/null & echo started")
    machine.expect("trace: on", timeout=60)
    out = machine.run("sleep 2; kill -KILL $!; wait $!; echo status=$?; "
                      "sleep 1; kl dmesg | grep -a '^(keel) trace: o' | "
                      "tail -n 1", timeout=60)
    suite.check("tracing is off after kl trace was killed by SIGKILL",
                "status=137" in out and
                out.rstrip().endswith("(keel) trace: off"),
                "output %r" % out)


def main():
    suite = keeltest.Suite("kl trace")
    machine = kldom0.dom0_machine(suite, "kl-trace",
                                  boot_deadline=BOOT_DEADLINE)
    started = time.monotonic()
    with machine:
        kldom0.wait_for_dom0(suite, machine)
        suite.note("Dom0 shell after %.0f s" % (time.monotonic() - started))
        try:
            write_cfg(machine, "other", "busy.bin", "seconds=0")
            # Keel's lines cut Dom0's open line, which is drawn again after
            # them: Dom0's output stays whole for whoever reads it.
            out = machine.run("printf 'keel-cut-'; sleep 1; kl create -q "
                              "/tmp/other.cfg >/dev/null; echo status=$?",
                              timeout=120)
            suite.check("kl create other (busy)", "status=0" in out,
                        "output %r" % out)
            suite.check("Keel's lines cut Dom0's open line, which goes on "
                        "whole after them",
                        bool(re.search(r"keel-cut-\n\(keel\) d1 'other': "
                                       r"created.*\nkeel-cut-status=0", out,
                                       re.S)),
                        "output %r" % out)
            if record(suite, machine, "/tmp/t.bin", "tracework"):
                check_counts(suite, machine)
                check_filters(suite, machine)
            check_lost(suite, machine)
            check_bad_args(suite, machine)
            check_sigkill(suite, machine)
        except (keeltest.TestFailure, ValueError, KeyError, TypeError,
                IndexError) as e:
            suite.fail("kl trace answers", e)
    suite.note("suite ran %.0f s" % (time.monotonic() - started))
    suite.finish()


if __name__ == "__main__":
    main()
