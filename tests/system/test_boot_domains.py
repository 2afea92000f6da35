#!/usr/bin/python3
"""Boot-time domains (domu= on Keel's command line, like Xen's dom0less).

Keel boots with the e820 test guest as Dom0 and two unprivileged domains
from extra modules: the cpuid guest and the triple-fault guest. Checks:
both DomUs are created; the cpuid guest passes and its output is tagged
with its name; the triple-faulting DomU is stopped and reported while
Dom0 and the other DomU finish; the debug console lists all three.

Then Dom0 is the domctl guest beside a busy DomU and the triple-fault
one: it finds both boot-time domains in DOMAIN_INFO (flagged as such),
destroys them (one running, one crashed) and sees their memory return to
Keel's frame allocator, before its own domain-control checks pass.
"""
# suite-timeout: 300
# suite-parallel: yes

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

HYPERVISOR_ADDR = "0x200000"


def main():
    suite = keeltest.Suite("boot-time domains")
    guests = {name: keeltest.out_path("guests", name + ".bin")
              for name in ("e820", "cpuid", "triple")}
    missing = [p for p in guests.values() if not os.path.exists(p)]
    if missing or not os.path.exists(keeltest.out_path("keel.elf")):
        suite.fail("test guests and keel.elf are built",
                   "missing: %s (run 'make')" % (missing or "keel.elf"))
        suite.finish()
    iso = keeltest.out_path("test-boot-domains.iso")
    keeltest.build_iso(
        iso, keeltest.out_path("keel.elf"),
        [(guests["e820"], "addr=" + HYPERVISOR_ADDR),
         (guests["triple"], ""), (guests["cpuid"], "")],
        keel_cmdline="maxcpus=2 dom0_mem=512M domu=tri:1,mem=32M "
                     "domu=cpu:2,mem=32M,weight=512")
    machine = keeltest.Machine("boot-domains", iso=iso, cpu="max", smp=2,
                               mem="1G", timeout=120, mttcg=True)
    with machine:
        # The domains run concurrently from the moment they are created:
        # wait for both verdicts, then read the whole log. A DomU line can
        # cut into a Dom0 line, so Dom0's verdict is read from its stream.
        try:
            machine.wait_until(
                lambda log: "TEST e820: PASS" in keeltest.dom0_stream(log)
                and "(cpu) TEST cpuid: PASS" in log, "both verdicts")
        except keeltest.TestFailure:
            pass
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
        for pattern, what in [
                (r"d1 'tri': module 1, 32 MiB, 1 vCPU",
                 "Keel creates the first boot-time domain"),
                (r"d2 'cpu': module 2, 32 MiB, 1 vCPU, weight 512",
                 "Keel creates the second one with its weight"),
                # Dom0's own output may come in between.
                (r"(?s)\(tri\) triple: faulting now.*?\(keel\) d1: "
                 r"domain crashed: triple fault",
                 "the triple-faulting DomU is stopped and reported"),
                (r"\(cpu\) TEST cpuid: PASS",
                 "the cpuid DomU passes, its output tagged with its name")]:
            suite.check(what, re.search(pattern, log),
                        "no match for %r in the serial log:\n%s"
                        % (pattern, machine.tail()))
        suite.check("Dom0 runs to completion beside them",
                    "TEST e820: PASS" in keeltest.dom0_stream(log),
                    "no 'TEST e820: PASS' in Dom0's output:\n%s"
                    % machine.tail())
        machine.send("\x01\x01\x01")
        try:
            machine.expect(r"Keel debug console", timeout=20)
            machine.send("q")
            machine.expect(r"d0 'Domain-0'", timeout=20)
            machine.expect(r"d1 'tri': crashed", timeout=20)
            machine.expect(r"d2 'cpu': running, 32 MiB RAM", timeout=20)
            suite.ok("the debug console lists Dom0 and both DomUs")
        except keeltest.TestFailure as e:
            suite.fail("the debug console lists Dom0 and both DomUs", e)
    destroy_boot_domains(suite)
    suite.finish()


def destroy_boot_domains(suite):
    label = "Dom0 destroys both boot-time domains; their memory returns"
    guests = {name: keeltest.out_path("guests", name + ".bin")
              for name in ("domctl", "busy", "triple")}
    missing = [p for p in guests.values() if not os.path.exists(p)]
    if missing:
        suite.fail(label, "missing: %s (run 'make')" % missing)
        return
    iso = keeltest.out_path("test-boot-domains-destroy.iso")
    keeltest.build_iso(
        iso, keeltest.out_path("keel.elf"),
        [(guests["domctl"], "addr=%s boot_domains=2 cycles=3"
          % HYPERVISOR_ADDR),
         (guests["busy"], "seconds=0"), (guests["triple"], "")],
        keel_cmdline="maxcpus=2 dom0_mem=512M domu=busy:1,mem=32M "
                     "domu=tri:2,mem=32M")
    machine = keeltest.Machine("boot-domains-destroy", iso=iso, cpu="max",
                               smp=2, mem="1G", timeout=180, mttcg=True)
    with machine:
        try:
            machine.expect(r"TEST domctl: (PASS|FAIL[^\r\n]*)", 180)
            suite.check(label, machine.child.match.group(1) == "PASS",
                        machine.tail())
        except keeltest.TestFailure as e:
            suite.fail(label, e)


if __name__ == "__main__":
    main()
