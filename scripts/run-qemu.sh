#!/bin/bash
# Boot a Keel ISO in QEMU with its serial console on this terminal.
#
# Usage: scripts/run-qemu.sh [--uefi] [ISO] [extra QEMU options...]
#        scripts/run-qemu.sh -h | --help     this text
#   ISO defaults to out/keel.iso (the live ISO; `make test-iso` builds the
#   small out/keel-test.iso). With a usable /dev/kvm the machine runs
#   under KVM with the host CPU (nested virtualization must be enabled on
#   the host); otherwise QEMU emulates an AMD CPU with SVM (TCG, -cpu max).
#   KEEL_ACCEL=kvm|tcg forces one.
#
# The console escape is Ctrl-] (not QEMU's usual Ctrl-A, which Keel's own
# console uses to switch between domains): Ctrl-] x quits, Ctrl-] c toggles
# the QEMU monitor. In the machine, Ctrl-A three times switches the serial
# input between Dom0 and Keel's debug console (h lists its keys).
set -euo pipefail

case ${1:-} in
-h | --help)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 0
	;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
firmware=()
if [ "${1:-}" = "--uefi" ]; then
	firmware=(-bios /usr/share/ovmf/OVMF.fd)
	shift
fi
iso=$repo/${OUT:-out}/keel.iso
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	iso=$1
	shift
fi
if [ ! -f "$iso" ]; then
	echo "run-qemu: $iso not found (make iso)" >&2
	exit 1
fi

# A /dev/kvm node is not proof that KVM works (some sandboxes expose one
# that fails at the first vCPU register load): start a paused machine with
# it and quit.
kvm_works() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	echo quit | timeout 30 qemu-system-x86_64 -accel kvm -cpu host \
		-machine q35 -m 64 -nodefaults -display none -S \
		-monitor stdio >/dev/null 2>&1
}

case ${KEEL_ACCEL:-auto} in
kvm) accel=(-accel kvm -cpu host -smp 2) ;;
tcg) accel=(-accel tcg,thread=single -cpu max -smp 1) ;;
auto)
	if kvm_works; then
		accel=(-accel kvm -cpu host -smp 2)
	else
		# One CPU, emulated in one thread: QEMU 7.2's multi-threaded
		# TCG can crash while Dom0 sizes PCI BARs with other vCPU
		# threads running, and can hold back a due LAPIC timer until
		# the next key press (README, Testing).
		echo "run-qemu: KVM not usable here; emulating (TCG, -cpu max, 1 CPU)" >&2
		accel=(-accel tcg,thread=single -cpu max -smp 1)
	fi
	;;
*)
	echo "run-qemu: KEEL_ACCEL must be kvm, tcg or auto" >&2
	exit 2
	;;
esac

exec qemu-system-x86_64 "${accel[@]}" -machine q35 -m 2G \
	"${firmware[@]}" -cdrom "$iso" -nic user,model=virtio-net-pci \
	-nographic -serial mon:stdio -echr 0x1d -no-reboot "$@"
