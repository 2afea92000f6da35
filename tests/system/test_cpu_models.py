#!/usr/bin/python3
"""Keel boots Debian's Linux as Dom0 on richer CPU models, under Bochs.

QEMU's TCG offers a minimal SVM (no next-RIP, no flush-by-ASID, no host
x2APIC or TSC-deadline). Real hosts and nested KVM offer far more, and
the CPUID they report is what Keel's guest CPU policy must filter. Bochs
emulates CPU models that come closer (TESTING.md):

  ryzen                AMD SVM with NPT, next-RIP save, flush-by-ASID,
                       32768 ASIDs; advertises SME/SEV (leaf 0x8000001F)
  tigerlake            Intel VMX with EPT, host x2APIC and TSC-deadline;
                       advertises IBPB/IBRS/STIBP/SSBD, L1D flush and
                       IA32_ARCH_CAPABILITIES
  corei7_haswell_4770  Intel VMX with EPT, the VMX reference model

For each model a GRUB ISO with out/keel.elf, the pinned Debian kernel and
the Dom0 test initramfs boots to Dom0's root shell. Checked:

  - Keel picks the vendor's backend and names the CPU features it uses
    on its boot lines (nrips, flush-by-asid; x2apic, tsc-deadline)
  - Dom0's banner and root shell, `uname -r` the pinned kernel release
  - dmesg: a hypervisor detected, and no SEV/SME, no unchecked MSR
    access, no "bad frame" or other sign that the CPU policy lied
  - (corei7_haswell_4770, the VMX reference model) Dom0's `kl` under
    Intel VMX: keel.ko chose VMCALL, `kl create` of a freestanding test
    guest (busy) as a DomU, whose lines come through `kl console`;
    `kl list --json` shows it running; `kl destroy` ends it and Keel's
    free memory is what it was before

Bochs runs about 50M instructions per second: a boot takes minutes, so
the models boot two at a time (the time to each shell is a TAP comment).

  tests/system/test_cpu_models.py [--only MODEL]...
"""
# suite-timeout: 2400

import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import dom0_checks as checks  # noqa: E402
import test_vmx  # noqa: E402

MEMORY = "512M"
# Power-on to Keel's banner: the BIOS, GRUB and loading ~10 MB of modules
# from the emulated CD.
BANNER_TIMEOUT = 300
# Power-on to the Dom0 shell prompt.
SHELL_DEADLINE = 1200
KEEL_BANNER = r"Keel hypervisor \d+\.\d+"
VIRT_LINE = r"virtualization: ([^\r\n]*)\r*\n"
# Dom0 stopped by Keel, or Keel itself stopped: no shell will come.
CRASH_LINE = r"d0: domain crashed: [^\r\n]*|Keel halted|Keel cannot run"
# As image/grub.cfg, plus cryptomgr.notests: the kernel's crypto
# self-tests are a third of the kernel's boot under Bochs and test no part
# of Keel.
DOM0_CMDLINE = "console=ttyS0,115200 pci=nomsi cryptomgr.notests=1"

class Model:
    def __init__(self, name, backend_name, features, guests, kl=False):
        self.name = name
        # Dom0's kl creates, lists and destroys a DomU in this boot.
        self.kl = kl
        self.backend_name = backend_name
        # Keel's boot lines must name these (its svm/cpu/lapic lines).
        self.features = features
        # Test guests booted as Dom0 on this model (test_vmx.py boots
        # them all on the VMX reference model).
        self.guests = guests


# Bochs 2.7 delivers a triple fault inside an SVM guest to Keel (the
# SHUTDOWN intercept) only from shutdown(), after a CPU panic that its
# `term` display always makes fatal, or else resets the whole machine
# (bochs/cpu/exception.cc, cpu/proc_ctrl.cc, gui/term.cc). Its VMX
# triple-fault exit comes first and works. QEMU's SVM runs the triple
# guest in tests/guests.
SVM_TRIPLE_SKIP = ("Bochs 2.7 resets or stops instead of delivering the SVM "
                   "SHUTDOWN intercept (gui/term.cc makes the triple-fault "
                   "panic fatal); QEMU's SVM runs this guest in "
                   "tests/guests")

GUESTS = [g for g in test_vmx.GUESTS
          if g.name in ("cpuid", "timer", "hvmem", "triple")]
MODELS = [
    Model("ryzen", "AMD SVM",
          [r"SVM: .*\bnrips\b", r"SVM: .*\bflush-by-asid\b"], GUESTS),
    Model("tigerlake", "Intel VMX",
          [r"CPU: .*\bx2apic\b", r"CPU: .*\btsc-deadline\b",
           r"owns the physical LAPIC timer \(TSC-deadline mode, x2APIC\)"],
          GUESTS),
    Model("corei7_haswell_4770", "Intel VMX", [r"VMX: .*\bept\b"], [],
          kl=True),
]


def check_keel_lines(suite, model, text):
    for pattern in model.features:
        suite.check("%s: Keel's boot lines match /%s/" % (model.name, pattern),
                    re.search(pattern, text),
                    "no line matches in Keel's output:\n" +
                    "\n".join(line for line in text.splitlines()
                              if line.startswith("(keel)")))


def boot(suite, model, iso):
    """Returns the lines to report: [(ok, name, why)] (ok "note": a TAP
    comment), so that two boots running side by side do not interleave
    their TAP lines."""
    results = []

    def ok(name):
        results.append((True, "%s: %s" % (model.name, name), None))

    def fail(name, why):
        results.append((False, "%s: %s" % (model.name, name), str(why)))

    machine = keeltest.Machine("cpu-" + model.name, iso=iso, cpu=model.name,
                               smp=1, mem=MEMORY, timeout=SHELL_DEADLINE,
                               backend="bochs")
    with machine:
        try:
            machine.expect(KEEL_BANNER, BANNER_TIMEOUT)
            machine.expect([VIRT_LINE, CRASH_LINE], BANNER_TIMEOUT)
            if not machine.child.match.group(0).startswith("virt"):
                raise keeltest.TestFailure(machine.tail())
        except keeltest.TestFailure as e:
            fail("Keel chooses %s" % model.backend_name, e)
            return results
        virt = machine.child.match.group(1)
        if model.backend_name not in virt:
            fail("Keel chooses %s" % model.backend_name,
                 "Keel chose %r:\n%s" % (virt, machine.tail()))
            return results
        ok("Keel chooses %s" % model.backend_name)
        for what, pattern in [("Dom0 banner", re.escape(keeltest.DOM0_BANNER)),
                              ("Dom0 root shell", keeltest.DOM0_PROMPT)]:
            remaining = SHELL_DEADLINE - (time.monotonic() -
                                          machine.started_at)
            try:
                machine.expect([pattern, CRASH_LINE], max(1, remaining))
            except keeltest.TestFailure as e:
                fail("%s within %d s" % (what, SHELL_DEADLINE), e)
                return results
            if re.match(CRASH_LINE, machine.child.match.group(0)):
                fail("%s within %d s" % (what, SHELL_DEADLINE),
                     machine.tail())
                return results
        elapsed = time.monotonic() - machine.started_at
        ok("Dom0 root shell within %d s (%.0f s)" % (SHELL_DEADLINE, elapsed))
        for what, problem in checks.run_checks(
                checks.dom0_under_keel(machine)):
            if problem:
                fail(what, problem)
            else:
                ok(what)
        if model.kl:
            started = time.monotonic()
            try:
                check_kl_domu(machine, ok, fail)
            except (keeltest.TestFailure, ValueError, KeyError) as e:
                fail("kl and the DomU answer", e)
            results.append(("note", "%s: kl create, list and destroy took "
                            "%.0f s" % (model.name, time.monotonic() -
                                        started), None))
        results.append(("keel", machine.log_text(), None))
    return results


# The busy test guest (in the Dom0 test initramfs) as a small DomU: it
# prints "busy: t=N ..." every second for ever.
KL_DOMU_CONFIG = ('name = "vmxdomu"\\nkernel = "/usr/share/keel/guests/'
                  'busy.bin"\\ncmdline = "seconds=0"\\nmemory = 32\\n')


def kl_json(machine, command):
    """A kl --json command's answer; Keel's own lines on the shared serial
    line dropped (keeltest.dom0_stream)."""
    text = keeltest.dom0_stream(machine.run(command, 300))
    starts = [i for i in (text.find("["), text.find("{")) if i >= 0]
    if not starts:
        raise ValueError("no JSON from %r: %r" % (command, text))
    return json.JSONDecoder().raw_decode(text[min(starts):])[0]


def check_kl_domu(machine, ok, fail):
    """Dom0's toolstack under VMX: keel.ko, kl create/list/destroy of a
    freestanding DomU."""
    # "keel: Keel 0.1 found ... (vmcall)", then the KEEL0001 device's
    # "keel KEEL0001:00: notification IRQ 24; /dev/keel ready".
    out = keeltest.dom0_stream(machine.run("dmesg | grep -a 'keel'", 120))
    if "(vmcall)" in out and "/dev/keel ready" in out:
        ok("keel.ko is bound and uses VMCALL")
    else:
        fail("keel.ko is bound and uses VMCALL", "dmesg: %r" % out)
    before = kl_json(machine, "kl info --json")
    machine.run("printf '%s' > /tmp/vmxdomu.cfg" % KL_DOMU_CONFIG, 60,
                check=True)
    out = machine.run("kl create -q /tmp/vmxdomu.cfg; echo status=$?", 300)
    if "status=0" not in out:
        fail("kl create of a test guest DomU under VMX", out)
        return
    ok("kl create of a test guest DomU under VMX")
    out = machine.run("sleep 5 | kl console vmxdomu", 300)
    if re.search(r"busy: t=\d+ progress=\d+", out):
        ok("its output comes through kl console")
    else:
        fail("its output comes through kl console", out)
    doms = kl_json(machine, "kl list --json")
    dom = next((d for d in doms if d.get("name") == "vmxdomu"), None)
    if dom and dom["state"] == "running" and dom["cpu_time_ns"] > 0:
        ok("kl list --json shows it running")
    else:
        fail("kl list --json shows it running", doms)
    out = machine.run("kl destroy vmxdomu; echo status=$?; while [ -e "
                      "/run/keel/kl-vmxdomu.pid ]; do sleep 1; done", 300)
    doms = kl_json(machine, "kl list --json")
    after = kl_json(machine, "kl info --json")
    if "status=0" in out and not any(d.get("name") == "vmxdomu"
                                     for d in doms) and \
            after.get("free_memory_bytes") == before.get("free_memory_bytes"):
        ok("kl destroy ends it; Keel's free memory is back (%d KiB)"
           % (after["free_memory_bytes"] >> 10))
    else:
        fail("kl destroy ends it; Keel's free memory is back",
             "output %r, list %r, free before %r after %r"
             % (out, doms, before.get("free_memory_bytes"),
                after.get("free_memory_bytes")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", default=[],
                        help="a Bochs CPU model to boot (repeatable)")
    args = parser.parse_args()
    models = [m for m in MODELS if not args.only or m.name in args.only]
    suite = keeltest.Suite("Keel boots Dom0 Linux on Bochs CPU models: " +
                           ", ".join(m.name for m in models))
    keel_elf = keeltest.out_path("keel.elf")
    kernel = keeltest.build_path("kernel", "vmlinuz")
    initramfs = keeltest.out_path("dom0-initramfs.cpio.gz")
    missing = keeltest.missing_files([keel_elf, kernel, initramfs])
    if missing:
        for path in missing:
            suite.fail("inputs exist", "%s is missing (make test-iso)" % path)
        suite.finish()
    iso = keeltest.out_path("cpu-models", "dom0.iso")
    keeltest.build_iso(iso, keel_elf,
                       [(kernel, DOM0_CMDLINE), (initramfs, "")])
    started = time.monotonic()

    def run_model(model):
        results = boot(suite, model, iso)
        for guest in model.guests:
            if guest.name == "triple" and "SVM" in model.backend_name:
                suite.skip("cpu-%s/triple" % model.name, SVM_TRIPLE_SKIP)
                continue
            test_vmx.run_guest(suite, guest, keel_elf, model=model.name,
                               backend=model.backend_name,
                               prefix="cpu-" + model.name)
        return results

    # Two lanes, one Bochs each: a 2-core machine runs two side by side.
    lanes = [models[0::2], models[1::2]]
    reports = keeltest.concurrently(
        *[lambda lane=lane: [(m, run_model(m)) for m in lane]
          for lane in lanes if lane])
    for model, results in [r for lane in reports for r in lane]:
        for good, name, why in results:
            if good == "keel":
                check_keel_lines(suite, model, name)
            elif good == "note":
                suite.note(name)
            elif good:
                suite.ok(name)
            else:
                suite.fail(name, why)
    print("# %d models in %.0f s" % (len(models), time.monotonic() - started),
          flush=True)
    suite.finish()


if __name__ == "__main__":
    main()
