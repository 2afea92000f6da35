"""Checks run at the root shell of the Dom0 test initramfs.

Shared by the boot tests in this folder: the rescue boot (Linux alone) runs
the same checks as the Keel boot, which shows the checks themselves are sound
on a working machine. Each check returns None on success or a string saying
what was wrong.
"""

import re
import time

import keeltest

# QEMU user networking hands out this address to the first DHCP client.
DHCP_ADDRESS = "10.0.2.15"
SLIRP_GATEWAY = "10.0.2.2"


def run_checks(named_checks):
    """Runs each (name, check) in turn; yields (name, problem), problem
    None when the check passed. A TestFailure (the shell did not answer)
    counts as that check's problem."""
    for name, check in named_checks:
        try:
            problem = check()
        except keeltest.TestFailure as e:
            problem = str(e)
        yield name, problem


def check_kernel_release(machine):
    expected = keeltest.expected_kernel_release()
    release = machine.run("uname -r")
    if release != expected:
        return "uname -r is %r, expected %r" % (release, expected)
    return None


def check_dhcp_address(machine):
    text = machine.run("ip -4 addr show dev eth0")
    if not re.search(r"inet %s/" % re.escape(DHCP_ADDRESS), text):
        return "eth0 has no %s:\n%s" % (DHCP_ADDRESS, text)
    return None


def check_disk_bytes(machine, size, sha256):
    """The guest's /dev/vda holds the bytes of the image created by
    keeltest.make_pattern_disk."""
    machine.run("echo 3 > /proc/sys/vm/drop_caches")
    text = machine.run("head -c %d /dev/vda | sha256sum" % size, timeout=60)
    digest = text.split()[0] if text.split() else ""
    if digest != sha256:
        return "sha256 of /dev/vda is %r, expected %r" % (text, sha256)
    return None


def parse_interrupts(text):
    """/proc/interrupts -> {label: total over all CPUs}. The label is the
    IRQ number (e.g. "22") or name ("LOC"), followed by the chip and device
    names for numbered IRQs so callers can search them."""
    lines = text.strip("\n").split("\n")
    if not lines:
        return {}
    cpus = len(lines[0].split())
    counts = {}
    for line in lines[1:]:
        head, sep, rest = line.partition(":")
        if not sep:
            continue
        fields = rest.split()
        numbers = []
        for field in fields[:cpus]:
            if not field.isdigit():
                break
            numbers.append(int(field))
        names = " ".join(fields[len(numbers):])
        counts[head.strip() + " " + names] = sum(numbers)
    return counts


def interrupt_total(counts, pattern):
    """Sum of the counters whose label matches the regular expression."""
    return sum(v for k, v in counts.items() if re.search(pattern, k))


def generate_device_traffic(machine):
    # Uncached disk reads interrupt through virtio-blk; pings through
    # virtio-net (the user-mode network's gateway answers ICMP echo).
    machine.run("echo 3 > /proc/sys/vm/drop_caches; "
                "head -c 262144 /dev/vda > /dev/null", timeout=60)
    machine.run("ping -c 3 -W 2 %s" % SLIRP_GATEWAY, timeout=60)


def check_interrupts_grow(machine):
    """The LAPIC timer and every virtio device take interrupts."""
    before = parse_interrupts(machine.run("cat /proc/interrupts"))
    devices = sorted(set(re.findall(r"\b(virtio\d+)", " ".join(before))))
    generate_device_traffic(machine)
    time.sleep(1)
    after = parse_interrupts(machine.run("cat /proc/interrupts"))
    problems = []
    patterns = [("LAPIC timer", r"^LOC ")]
    patterns += [(dev, r"\b%s\b" % dev) for dev in devices]
    if not devices:
        problems.append("no virtio interrupt lines in /proc/interrupts")
    for label, pattern in patterns:
        a = interrupt_total(before, pattern)
        b = interrupt_total(after, pattern)
        if b <= a:
            problems.append("%s interrupts did not grow (%d -> %d)"
                            % (label, a, b))
    if problems:
        return "\n".join(problems) + "\n" + machine.run("cat /proc/interrupts")
    return None


def check_dmesg(machine, pattern, what):
    text = machine.run("dmesg")
    if not re.search(pattern, text):
        return "dmesg shows no %s (/%s/)" % (what, pattern)
    return None


# What must never appear in Dom0's kernel log, on any CPU: Linux taking the
# CPU for an SEV/SME one, an MSR access that faulted where Linux did not
# expect it (Linux warns once per kind: Keel's log names each refused
# MSR), and the FPU/signal damage a wrong XSAVE policy causes.
DMESG_FORBIDDEN = [
    (r"\bSEV\b", "SEV"),
    (r"\bSME\b", "SME"),
    (r"unchecked MSR access", "an unchecked MSR access"),
    (r"bad frame in", "a bad signal frame"),
    (r"XSAVE consistency problem", "an XSAVE consistency problem"),
    (r"WARNING: CPU", "a kernel warning"),
]


def check_dmesg_clean(machine):
    text = machine.run("dmesg", timeout=60)
    problems = ["dmesg shows %s: %s" % (what, m.group(0))
                for pattern, what in DMESG_FORBIDDEN
                for m in [re.search(r"[^\n]*" + pattern + r"[^\n]*", text)]
                if m]
    return "\n".join(problems) or None


# Linux 6.1, init_hypervisor_platform() (arch/x86/kernel/cpu/hypervisor.c).
HYPERVISOR_DETECTED = r"Hypervisor detected: \S+"


def dom0_under_keel(machine):
    """The named checks every Dom0 boot under Keel passes, whatever the
    CPU: the pinned kernel, Keel's CPUID leaves seen, and a kernel log
    free of what a wrong guest CPU policy causes."""
    return [
        ("uname -r is the pinned Debian kernel",
         lambda: check_kernel_release(machine)),
        ("dmesg shows a hypervisor detected",
         lambda: check_dmesg(machine, HYPERVISOR_DETECTED,
                             "hypervisor detection")),
        ("dmesg shows no SEV/SME, unchecked MSR or FPU trouble",
         lambda: check_dmesg_clean(machine)),
    ]
