#!/usr/bin/python3
"""Guest FPU, SSE and AVX state and XCR0 survive Keel's vCPU switches.

The fpu guest (tests/guests/fpu) fills its x87, vector and control
registers with values of its own, keeps them live across preemption, HLT
naps and an XSAVE/XRSTOR round of its own, and checks every value and its
XCR0 afterwards. Three of them, with different seeds and XCR0s (x87+SSE,
and x87+SSE+AVX), run in two boots of Keel under QEMU TCG:

  1 pCPU   (maxcpus=1): Dom0 and two DomUs share the one CPU, so every
           switch between them saves one vCPU's state and loads another's
           with a different XCR0
  2 pCPUs  (maxcpus=2): Dom0 with 2 vCPUs pinned one per CPU beside two
           DomUs with 2 unpinned vCPUs each, which Keel moves between the
           CPUs as they nap and wake, so a vCPU's state follows it

Each guest prints its rounds and how many of them were preempted; every
vCPU must have been preempted at least once with its registers live.
"""
# suite-timeout: 900
# suite-parallel: yes

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
from guestboot import DOM0, Boot, Guest, binary_path, run_boot  # noqa: E402

BOOT_TIMEOUT = 300
SECONDS = "seconds=10"

BOOTS = [
    Boot("1 pCPU", 1,
         "maxcpus=1 dom0_mem=128M "
         "domu=sse:1,mem=32M domu=avx:2,mem=32M",
         [("fpu", "seed=1 " + SECONDS),
          ("fpu", "seed=2 xcr0=0x3 " + SECONDS),
          ("fpu", "seed=3 " + SECONDS)],
         [Guest("fpu", DOM0, 1), Guest("fpu", "sse", 1),
          Guest("fpu", "avx", 1)]),
    Boot("2 pCPUs", 2,
         "maxcpus=2 dom0_max_vcpus=2 dom0_mem=128M "
         "domu=sse:1,mem=32M,vcpus=2 domu=avx:2,mem=32M,vcpus=2",
         [("fpu", "seed=1 " + SECONDS),
          ("fpu", "seed=2 xcr0=0x3 cpus=2 " + SECONDS),
          ("fpu", "seed=3 cpus=2 " + SECONDS)],
         [Guest("fpu", DOM0, 2), Guest("fpu", "sse", 2),
          Guest("fpu", "avx", 2)]),
]

MEASURES = {"fpu": r"fpu: cpu\d+: xcr0 0x[0-9a-f]+, \d+ rounds, \d+ preempted"}


def main():
    suite = keeltest.Suite("guest FPU state across vCPU switches")
    missing = keeltest.missing_files([binary_path("fpu"),
                                      keeltest.out_path("keel.elf")])
    if missing:
        suite.fail("the fpu guest and keel.elf are built",
                   "missing: %s (run 'make')" % missing)
        suite.finish()
    for index, boot in enumerate(BOOTS):
        run_boot(suite, "fpu-switch-%d" % index, boot, MEASURES,
                 BOOT_TIMEOUT)
    suite.finish()


if __name__ == "__main__":
    main()
