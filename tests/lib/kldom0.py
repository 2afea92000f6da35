"""Driving `kl` at the test ISO's Dom0 shell, for the system tests that
create DomUs (tests/system/test_labs.py and the test_kl_* tests).

keeltest.Machine runs one command at a time at Dom0's root shell; this
module adds what those tests share: reading kl's JSON and tables through
the serial console that Keel's own tagged lines also write to, waiting
for a domain to be gone, attaching to and leaving a DomU's console.
"""

import json
import time

import pexpect

import keeltest

# The busybox DomU of /etc/keel/examples/debian.cfg
# (dom0-rootfs/domu-initramfs): its banner and its shell's prompt.
DOMU_BANNER = "Keel DomU ready"
DOMU_PROMPT = r"domU:[^\r\n]*# "
# Debian's kernel decompressing and booting inside a DomU under Keel under
# TCG: slower than Dom0's own boot.
DOMU_DEADLINE = 600
# `kl console` detaches on Ctrl-].
CTRL_RIGHT_BRACKET = "\x1d"


def parse_json(out):
    """The first JSON value in a command's output, Keel's tagged lines
    (which may cut one of Dom0's in two) dropped (raises ValueError)."""
    text = keeltest.dom0_stream(out)
    start = min([i for i in (text.find("["), text.find("{")) if i >= 0],
                default=-1)
    if start < 0:
        raise ValueError("no JSON in %r" % out)
    return json.JSONDecoder().raw_decode(text, start)[0]


def domains(machine):
    """`kl list --json` as Python objects."""
    return parse_json(machine.run("kl list --json", timeout=60))


def find(doms, name):
    return next((d for d in doms if d.get("name") == name), None)


def owner_alive(machine, name):
    """Whether the kl process that owns domain `name` still runs (a
    killed owner leaves its pid file behind)."""
    return "owner=alive" in machine.run(
        "p=$(cat /run/keel/kl-%s.pid 2>/dev/null); "
        "if [ -n \"$p\" ] && kill -0 $p 2>/dev/null; "
        "then echo owner=alive; else echo owner=gone; fi" % name,
        timeout=30)


def wait_gone(machine, name, timeout=60):
    """True once `kl list` no longer shows `name` and its owner exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if find(domains(machine), name) is None and \
                not owner_alive(machine, name):
            return True
        time.sleep(2)
    return False


def forget_output(machine):
    """Consume what has come but was not matched yet (an earlier prompt),
    so that the next expect() sees only new output."""
    try:
        while machine.child.expect([r"(?s).+", pexpect.TIMEOUT],
                                   timeout=0.3) == 0:
            pass
    except pexpect.EOF:
        raise keeltest.TestFailure("the emulator exited:\n" + machine.tail())


def detach(machine):
    """Ctrl-] leaves `kl console`; Dom0's prompt comes back."""
    forget_output(machine)
    machine.send(CTRL_RIGHT_BRACKET)
    machine.sendline()
    machine.expect(keeltest.DOM0_PROMPT, timeout=60)


def console_text(machine, name, seconds=3):
    """What `kl console NAME` shows in `seconds` (the ring's backlog, then
    what comes), captured in a Dom0 file so that Keel's own copy of the
    DomU's output on the serial line cannot be mistaken for it; after
    `status=N`, kl's exit status."""
    return keeltest.dom0_stream(machine.run(
        "sleep %d | kl console %s > /tmp/console-%s.txt; echo status=$?; "
        "cat /tmp/console-%s.txt" % (seconds, name, name, name), timeout=60))


def console_until(machine, name, marker, timeout):
    """`kl console NAME` read a few seconds at a time until `marker` came
    or `timeout` passed; everything it showed. Each read consumes the
    console ring's backlog, so what came is kept."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline and marker not in text:
        text += console_text(machine, name, seconds=2)
    return text


def top_table(out):
    """The reports of `kl top -b` (text): a list, one per report, of
    {name: {"cpu": CPU %, "exits": exits/s}}."""
    reports = []
    for line in out.replace("\r", "").split("\n"):
        if line.startswith("kl top - "):
            reports.append({})
            continue
        fields = line.split()
        if reports and len(fields) >= 10 and fields[1].isdigit():
            reports[-1][fields[0]] = {"cpu": float(fields[4]),
                                      "exits": float(fields[7])}
    return reports


def dom0_machine(suite, name, keel_cmdline="maxcpus=2 dom0_max_vcpus=1",
                 boot_deadline=300, mttcg=False):
    """A Machine for Keel and the test ISO's Dom0 on two physical CPUs
    with 2 GiB, from an ISO of its own with keel_cmdline: by default
    Dom0 has one vCPU (with more, QEMU 7.2's multi-threaded TCG can crash
    while Dom0 sizes its PCI BARs: docs/testing-notes.md). Ends the suite
    if Keel or the Dom0 is not built."""
    needed = [keeltest.out_path("keel.elf")] + \
        [path for path, _ in keeltest.dom0_modules()]
    missing = keeltest.missing_files(needed)
    if missing:
        suite.fail("Keel and the test ISO's Dom0 are built",
                   "missing %s: run 'make test-iso' first" % missing)
        suite.finish()
    iso = keeltest.out_path("test-%s.iso" % name)
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"),
                       keeltest.dom0_modules(), keel_cmdline=keel_cmdline)
    return keeltest.Machine(name, iso=iso, cpu="max", smp=2, mem="2G",
                            timeout=boot_deadline, mttcg=mttcg)


def wait_for_dom0(suite, machine):
    """Dom0's shell, or the suite ends with the boot's failure."""
    try:
        machine.wait_for_shell()
    except keeltest.TestFailure as e:
        suite.fail("Dom0 shell", e)
        suite.finish()
