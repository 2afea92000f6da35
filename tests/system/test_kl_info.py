#!/usr/bin/python3
"""`kl info` in Dom0 talks to Keel through keel.ko.

Boots out/keel-test.iso under QEMU TCG (-cpu max, 2 CPUs, Keel's test
entry with maxcpus=1) and checks, at Dom0's shell:

1. /init loaded keel.ko (its line on the console) and /dev/keel exists,
   root's only (crw-------).
2. `kl info` prints every field; `kl version` names kl, keel.ko and Keel.
3. `kl info --json` parses with Python's json module and agrees with what
   Keel printed on its own `(keel)` boot lines: CPUs online, total RAM in
   MiB, TSC kHz, the scheduler, and the free memory no more than Keel had
   free after building Dom0; one domain (Dom0); Keel's version.
4. `kl info` as the unprivileged user nobody fails with a message naming
   root, and without keel.ko (rmmod) with one naming `modprobe keel`.

A buffer outside Dom0's RAM or one too small is refused by Keel
(-EFAULT, -EINVAL): keel.ko offers no ioctl that could pass such a buffer,
so tests/unit/test_hypercall.c covers those refusals.
"""
# suite-timeout: 600
# suite-parallel: yes

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

BOOT_DEADLINE = 240


def keel_boot_facts(log):
    """What Keel said about the host on its (keel) lines."""
    text = keeltest.ANSI_ESCAPE.sub("", log).replace("\r", "")
    facts = {}
    for key, pattern in [
            ("cpus", r"\(keel\) SMP: (\d+) of \d+ CPUs online"),
            ("ram_mib", r"\(keel\) memory: (\d+) MiB RAM;"),
            ("free_mib", r"\(keel\) memory: .*free for Keel and DomUs "
                         r"(\d+) MiB"),
            ("tsc", r"\(keel\) TSC: (\d+)\.(\d{3}) MHz"),
            ("sched", r"\(keel\) scheduler: (\w+),"),
            ("version", r"\(keel\) Keel hypervisor (\d+)\.(\d+)")]:
        m = re.search(pattern, text)
        if m:
            facts[key] = m.groups()
    return facts


def check_json(suite, out, facts):
    try:
        info = json.loads(out.strip().splitlines()[-1] if out.strip() else "")
    except (ValueError, IndexError) as e:
        suite.fail("kl info --json is valid JSON", "%s; output %r" % (e, out))
        return
    suite.ok("kl info --json is valid JSON")
    missing = [k for k in ("cpus", "ram_mib", "free_mib", "tsc", "sched",
                           "version") if k not in facts]
    if missing:
        suite.fail("Keel's boot lines give CPUs, RAM, TSC and scheduler",
                   "not found in the serial log: %s" % missing)
        return
    comparisons = [
        ("CPU count matches Keel's 'SMP: N of M CPUs online'",
         info.get("nr_cpus"), int(facts["cpus"][0])),
        ("total memory matches Keel's 'memory: N MiB RAM'",
         info.get("total_memory_bytes", 0) >> 20, int(facts["ram_mib"][0])),
        ("TSC rate matches Keel's 'TSC: N MHz'",
         info.get("tsc_khz"), int("".join(facts["tsc"]))),
        ("scheduler matches Keel's 'scheduler:' line",
         info.get("scheduler"), facts["sched"][0]),
        ("Keel version matches its banner",
         info.get("keel_version"), "%s.%s" % facts["version"]),
        ("one domain (Dom0)", info.get("nr_domains"), 1),
    ]
    for what, got, want in comparisons:
        suite.check("kl info --json: " + what, got == want,
                    "kl says %r, Keel's log says %r" % (got, want))
    free = info.get("free_memory_bytes")
    suite.check("kl info --json: free memory is positive and at most what "
                "Keel had free at boot",
                isinstance(free, int) and
                0 < free <= (int(facts["free_mib"][0]) + 1) << 20,
                "free_memory_bytes %r, boot line %s MiB"
                % (free, facts["free_mib"][0]))


def main():
    suite = keeltest.Suite("kl info through keel.ko")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    machine = keeltest.Machine("kl-info", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE)
    with machine:
        try:
            machine.wait_for_shell()
        except keeltest.TestFailure as e:
            suite.fail("Dom0 shell", e)
            suite.finish()
        log = keeltest.dom0_stream(machine.log_text())
        suite.check("/init says keel.ko loaded",
                    "init: keel.ko loaded: /dev/keel ready" in log,
                    "no such line; keel lines: %s" % re.findall(
                        r"init: keel[^\n]*", log))
        try:
            out = machine.run("ls -l /dev/keel", timeout=30)
            suite.check("/dev/keel exists, root's only (crw-------)",
                        machine.last_status == 0 and
                        re.search(r"^crw------- +\d+ root +root ", out, re.M),
                        "ls -l says %r" % out)

            out = machine.run("kl info", timeout=60)
            fields = ["host", "keel_version", "nr_cpus", "scheduler",
                      "tsc_mhz", "total_memory", "free_memory", "nr_domains"]
            missing = [f for f in fields
                       if not re.search(r"^%s +: \S" % f, out, re.M)]
            suite.check("kl info exits 0 and prints every field",
                        machine.last_status == 0 and not missing,
                        "status %s, missing %s, output:\n%s"
                        % (machine.last_status, missing, out))

            out = machine.run("kl version", timeout=60)
            suite.check("kl version names kl, keel.ko and Keel",
                        machine.last_status == 0 and all(
                            re.search(r"^%s +: \d+\.\d+$" % re.escape(n),
                                      out, re.M)
                            for n in ("kl", "keel.ko", "Keel")),
                        "status %s, output:\n%s" % (machine.last_status, out))

            out = machine.run("kl info --json", timeout=60)
            check_json(suite, out, keel_boot_facts(machine.log_text()))

            out = machine.run("su -s /bin/sh nobody -c 'id -u; kl info'; "
                              "echo status=$?", timeout=60)
            if not re.search(r"^65534$", out, re.M):
                suite.skip("kl info as a non-root user fails clearly",
                           "su could not switch to nobody: %r" % out)
            else:
                suite.check("kl info as a non-root user fails clearly",
                            re.search(r"status=[1-9]", out) and
                            "must run as root" in out,
                            "output %r" % out)

            out = machine.run("rmmod keel && kl info; echo status=$?",
                              timeout=60)
            suite.check("without keel.ko, kl info says to modprobe keel",
                        re.search(r"status=[1-9]", out) and
                        "keel.ko is not loaded (modprobe keel)" in out,
                        "output %r" % out)
            out = machine.run("modprobe keel && kl info --json", timeout=60)
            suite.check("keel.ko loads again with modprobe and kl works",
                        machine.last_status == 0 and '"nr_cpus"' in out,
                        "status %s, output %r" % (machine.last_status, out))
        except keeltest.TestFailure as e:
            suite.fail("Dom0 shell commands", e)
    suite.finish()


if __name__ == "__main__":
    main()
