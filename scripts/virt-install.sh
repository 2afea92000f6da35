#!/bin/bash
# Keel as a libvirt virtual machine: a thin wrapper over virt-install
# (Debian package virtinst) that adds what Keel needs and first checks
# that the host has nested virtualization on.
#
# Usage: scripts/virt-install.sh (--live ISO | --qcow2 DISK) [--seed SEED.iso]
#                                [virt-install options...]
#   --live ISO      boot the live ISO (out/keel.iso): --cdrom ISO, and
#                   --disk none unless you give a --disk (for a kickstart
#                   install, e.g. --disk size=20,bus=virtio)
#   --qcow2 DISK    import a copy of out/keel.qcow2 (used in place):
#                   --import --disk DISK,format=qcow2,bus=virtio
#   --seed SEED.iso attach a NoCloud seed (scripts/mk-seed.sh) as a CD-ROM;
#                   or let virt-install make one: --cloud-init user-data=FILE
#   -h, --help      this text
#
# Everything else goes to virt-install unchanged (--name, --memory,
# --vcpus, --network bridge=br0, --connect URI, --cloud-init ...,
# --print-xml, --dry-run, --noautoconsole, ...). Added unless you give
# them yourself: --name keel --memory 4096 --vcpus 2 --graphics none
# --console pty,target_type=serial, and always --cpu host-passthrough
# (Keel needs SVM+NPT or VT-x+EPT inside the VM) and --osinfo debian12
# (debian11 where the host's osinfo-db does not know debian12 yet).
#
# Firmware: UEFI without Secure Boot (Keel's GRUB is unsigned), an explicit
# OVMF loader and its variables template, the first pair found of
#   /usr/share/OVMF/OVMF_CODE_4M.fd     OVMF_VARS_4M.fd  (Debian 12, Ubuntu)
#   /usr/share/OVMF/OVMF_CODE.fd        OVMF_VARS.fd
#   /usr/share/edk2/ovmf/OVMF_CODE.fd   OVMF_VARS.fd     (Fedora, RHEL)
#   /usr/share/edk2/x64/OVMF_CODE.fd    OVMF_VARS.fd     (Arch)
# (KEEL_OVMF_CODE and KEEL_OVMF_VARS choose others). An explicit loader,
# not "--boot uefi": Debian's first firmware descriptor for "uefi" is the
# Secure Boot one with Microsoft's keys enrolled. Give your own --boot to
# replace this (--boot bios=... or --boot uefi,...).
#
# Before a real install (not with --print-xml or --dry-run, not for a
# remote --connect) the host's nested virtualization setting is checked:
# /sys/module/kvm_intel/parameters/nested or .../kvm_amd/... must be Y or
# 1; if not, this says how to turn it on and exits with status 3.
# KEEL_SYSFS=DIR reads DIR/module/... instead of /sys/module/... .
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
fail() {
	echo "virt-install.sh: $*" >&2
	exit 2
}

live=
qcow2=
seed=
passthrough=()
while [ $# -gt 0 ]; do
	case $1 in
	--live | --qcow2 | --seed)
		[ $# -ge 2 ] || fail "$1 needs a file"
		case $1 in
		--live) live=$2 ;;
		--qcow2) qcow2=$2 ;;
		--seed) seed=$2 ;;
		esac
		shift 2
		;;
	--live=* | --qcow2=* | --seed=*)
		value=${1#*=}
		case $1 in
		--live=*) live=$value ;;
		--qcow2=*) qcow2=$value ;;
		--seed=*) seed=$value ;;
		esac
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		passthrough+=("$1")
		shift
		;;
	esac
done

if [ -n "$live" ] && [ -n "$qcow2" ]; then
	fail "give --live or --qcow2, not both"
fi
[ -n "$live" ] || [ -n "$qcow2" ] || fail "give --live ISO or --qcow2 DISK (--help)"
[ -z "$seed" ] || [ -n "$qcow2" ] || fail "--seed goes with --qcow2"
for f in $live $qcow2 $seed; do
	[ -f "$f" ] || fail "$f: no such file"
done
command -v virt-install >/dev/null ||
	fail "virt-install not found (apt-get install virtinst)"

# Which virt-install options the caller gave (--opt and --opt=value).
given() {
	local want arg
	for arg in "${passthrough[@]}"; do
		for want in "$@"; do
			case $arg in
			"$want" | "$want"=*) return 0 ;;
			esac
		done
	done
	return 1
}
# The value of --connect / -c, if given.
connect_uri() {
	local i
	for ((i = 0; i < ${#passthrough[@]}; i++)); do
		case ${passthrough[i]} in
		--connect=*) echo "${passthrough[i]#--connect=}" && return ;;
		--connect | -c) echo "${passthrough[i + 1]:-}" && return ;;
		esac
	done
}

# The host's nested virtualization: KVM must let a guest use SVM or VMX.
check_nested() {
	local sysfs=${KEEL_SYSFS:-/sys} module file value found=0
	for module in kvm_intel kvm_amd; do
		file=$sysfs/module/$module/parameters/nested
		[ -r "$file" ] || continue
		found=1
		value=$(cat "$file")
		case $value in
		Y | y | 1) return 0 ;;
		esac
		cat >&2 <<EOF
virt-install.sh: nested virtualization is off on this host
  ($file is $value): Keel would find no SVM or VT-x in the VM.
Turn it on (no virtual machine may be running while the module reloads):
  echo "options $module nested=1" | sudo tee /etc/modprobe.d/kvm-nested.conf
  sudo modprobe -r $module && sudo modprobe $module
  cat $file    # now Y or 1
EOF
		exit 3
	done
	if [ "$found" = 0 ]; then
		cat >&2 <<EOF
virt-install.sh: neither kvm_intel nor kvm_amd is loaded on this host
  (no $sysfs/module/kvm_intel/parameters/nested nor .../kvm_amd/...):
  libvirt cannot run a KVM guest here. Load the module with nesting on:
  sudo modprobe kvm_intel nested=1    # or: sudo modprobe kvm_amd nested=1
EOF
		exit 3
	fi
}

uri=$(connect_uri)
if ! given --print-xml --dry-run; then
	case $uri in
	*://?*/*)
		echo "virt-install.sh: $uri is another host: check its" \
			"/sys/module/kvm_*/parameters/nested yourself" >&2
		;;
	*) check_nested ;;
	esac
fi

args=()
given --name -n || args+=(--name keel)
given --memory --ram -r || args+=(--memory 4096)
given --vcpus || args+=(--vcpus 2)
given --graphics || args+=(--graphics none)
given --console || args+=(--console "pty,target_type=serial")
given --cpu || args+=(--cpu host-passthrough)
if ! given --osinfo --os-variant; then
	# Debian 12's osinfo-db (2022-11) has no debian12 entry yet; its
	# debian11 entry describes the same virtio devices and q35.
	osinfo=debian12
	if ! virt-install --osinfo list 2>/dev/null | grep -q '^debian12\b'; then
		osinfo=debian11
	fi
	args+=(--osinfo "$osinfo")
fi
if ! given --boot; then
	code=${KEEL_OVMF_CODE:-}
	vars=${KEEL_OVMF_VARS:-}
	if [ -z "$code" ]; then
		for pair in /usr/share/OVMF/OVMF_CODE_4M.fd:/usr/share/OVMF/OVMF_VARS_4M.fd \
			/usr/share/OVMF/OVMF_CODE.fd:/usr/share/OVMF/OVMF_VARS.fd \
			/usr/share/edk2/ovmf/OVMF_CODE.fd:/usr/share/edk2/ovmf/OVMF_VARS.fd \
			/usr/share/edk2/x64/OVMF_CODE.fd:/usr/share/edk2/x64/OVMF_VARS.fd; do
			if [ -f "${pair%%:*}" ] && [ -f "${pair#*:}" ]; then
				code=${pair%%:*}
				vars=${pair#*:}
				break
			fi
		done
	fi
	if [ -z "$code" ] || [ -z "$vars" ]; then
		fail "no OVMF firmware without Secure Boot found (apt-get install ovmf, or set KEEL_OVMF_CODE and KEEL_OVMF_VARS)"
	fi
	args+=(--boot "loader=$code,loader.readonly=yes,loader.type=pflash,loader.secure=no,nvram.template=$vars")
fi
if [ -n "$live" ]; then
	args+=(--cdrom "$(realpath "$live")")
	given --disk || args+=(--disk none)
else
	args+=(--import --disk "path=$(realpath "$qcow2"),format=qcow2,bus=virtio")
	if [ -n "$seed" ]; then
		args+=(--disk "path=$(realpath "$seed"),device=cdrom,readonly=on")
	fi
fi

exec virt-install "${args[@]}" "${passthrough[@]}"
