#!/usr/bin/python3
"""Keel survives a VMRUN that hands back its own state as the guest's.

The QEMU 7.2 TCG event of docs/testing-notes.md made on purpose: boot
out/keel-test.iso with QEMU's gdb stub, and once Dom0's shell is
up, stop at the instruction after a VMRUN (svm_vmrun_exit) three times and
write Keel's own RIP, RSP, CR3 and the VMCB address (what QEMU's
do_vmexit() stores when it runs twice) over the guest's save area. Keel
must enter the vCPU again each time: Dom0 still answers, Keel's log has
three recovery lines, and the debug key 't' counts 3.

A manual check (needs gdb; about two minutes), not part of `make test`.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

INJECTIONS = 3
RECOVERED = r"the CPU returned Keel's own state as the guest's"
# VMCB save-area offsets (hypervisor/arch/x86/svm/svm.h).
GDB_SCRIPT = """set pagination off
set confirm off
file {elf}
target remote 127.0.0.1:{port}
break svm_vmrun_exit
continue
delete
set *(unsigned long *)($rax + 0x578) = $pc
set *(unsigned long *)($rax + 0x5d8) = $rsp
set *(unsigned long *)($rax + 0x550) = $cr3
set *(unsigned long *)($rax + 0x5f8) = $rax
printf "injected into the VMCB at %lx\\n", $rax
detach
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    suite = keeltest.Suite("recovery from a VMRUN that lost the guest state")
    port = free_port()
    machine = keeltest.Machine(
        "lost-state-inject", iso=keeltest.out_path("keel-test.iso"),
        cpu="max", smp=2, mem="1G", timeout=600,
        extra_args=["-gdb", "tcp:127.0.0.1:%d" % port])
    with machine, tempfile.NamedTemporaryFile("w", suffix=".gdb") as script:
        script.write(GDB_SCRIPT.format(elf=keeltest.out_path("keel.elf"),
                                       port=port))
        script.flush()
        machine.wait_for_shell()
        for i in range(INJECTIONS):
            gdb = subprocess.run(["gdb", "-q", "-batch", "-x", script.name],
                                 capture_output=True, text=True, timeout=120)
            suite.check("injection %d" % (i + 1),
                        "injected into the VMCB" in gdb.stdout,
                        gdb.stdout + gdb.stderr)
        machine.sendline("echo alive-$((6 * 7))")
        machine.expect("alive-42", 120)
        suite.ok("Dom0 still runs commands")
        machine.send("\x01\x01\x01")
        machine.expect(r"Keel debug console", 60)
        machine.send("t")
        count = machine.expect(
            r"VM entries recovered from a lost guest state: (\d+)", 60)
        suite.check("debug key 't' counts %d recovered" % INJECTIONS,
                    int(count.group(1)) == INJECTIONS, count.group(0))
        machine.send("\x01\x01\x01")
        machine.expect(r"input goes to Dom0 again", 60)
        lines = re.findall(RECOVERED, machine.log_text())
        suite.check("Keel logged each recovery", len(lines) == INJECTIONS,
                    "%d lines" % len(lines))
        suite.check("no domain crashed",
                    "domain crashed" not in machine.log_text(),
                    machine.tail())
    suite.finish()


if __name__ == "__main__":
    main()
