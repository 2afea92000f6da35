# Keel top-level build. Each part of the tree contributes one make fragment;
# this file only wires them together.
#
#   make          hypervisor (out/keel.elf) and the freestanding test guests
#   make iso      out/keel.iso: the live ISO (Keel + Debian Dom0), as root
#   make image    out/keel.iso and out/keel.qcow2 (image/README.md)
#   make run      boot out/keel.iso in QEMU on this terminal
#   make test     unit, functional (test guests) and system tests; boots
#                 out/keel-test.iso (make test-iso), a small busybox Dom0
#   make bench    benchmarks (tests/bench/bench.mk): tables, not verdicts

OUT ?= out
export OUT

.PHONY: all clean deps
all: keel guests

deps:
	@scripts/deps.sh

include hypervisor/hypervisor.mk
-include tests/guests/guests.mk
-include tests/unit/unit.mk
-include toolstack/toolstack.mk
-include image/image.mk
-include dom0-rootfs/kmod/kmod.mk
-include dom0-rootfs/domu.mk
-include tests/tests.mk
-include tests/vmx.mk
-include tests/fuzz/fuzz.mk
-include tests/bench/bench.mk

clean:
	rm -rf $(OUT)
