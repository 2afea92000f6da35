#!/bin/bash
# Install Keel as a libvirt virtual machine (a KVM host with nested
# virtualization: see README.md), from the live ISO or the qcow2 image.
#
# Usage: scripts/virt-install.sh [options] (--cdrom ISO | --disk QCOW2 [--seed SEED.iso])
#   --name NAME        domain name (default keel)
#   --memory MIB       RAM (default 4096)
#   --vcpus N          vCPUs (default 2)
#   --uefi             boot through UEFI firmware (default: BIOS)
#   --network NAME     libvirt network for the NIC (default: default)
#   --bridge BR        attach the NIC to host bridge BR instead
#   --cdrom ISO        boot out/keel.iso (the live ISO)
#   --disk QCOW2       boot out/keel.qcow2 (used in place: copy it first)
#   --seed SEED.iso    NoCloud seed for the qcow2 (scripts/mk-seed.sh)
#   --connect URI      libvirt URI (default: qemu:///system)
#   --print-xml        print the domain XML and exit
#   --dry-run          print the XML and the virsh commands, run nothing
#
# The CPU is host-passthrough so that Keel finds SVM/NPT or VT-x/EPT; the
# serial console is where Keel and Dom0 talk (virsh console NAME).
set -euo pipefail

usage() {
	sed -n 's/^# \{0,1\}//; 2,/^set -euo/p' "$0" | sed '/^set -euo/d' >&2
	exit 2
}

name=keel
memory=4096
vcpus=2
uefi=0
network=default
bridge=
cdrom=
disk=
seed=
connect=qemu:///system
mode=run
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift ;;
	--memory) memory=$2; shift ;;
	--vcpus) vcpus=$2; shift ;;
	--uefi) uefi=1 ;;
	--network) network=$2; shift ;;
	--bridge) bridge=$2; shift ;;
	--cdrom) cdrom=$2; shift ;;
	--disk) disk=$2; shift ;;
	--seed) seed=$2; shift ;;
	--connect) connect=$2; shift ;;
	--print-xml) mode=print-xml ;;
	--dry-run) mode=dry-run ;;
	-h | --help) usage ;;
	*)
		echo "virt-install: unknown option $1" >&2
		usage
		;;
	esac
	shift
done

fail() {
	echo "virt-install: $*" >&2
	exit 2
}
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail "--name: letters, digits, . _ - only"
[[ $memory =~ ^[0-9]+$ ]] && [ "$memory" -ge 512 ] || fail "--memory: MiB, at least 512"
[[ $vcpus =~ ^[0-9]+$ ]] && [ "$vcpus" -ge 1 ] || fail "--vcpus: a positive number"
if [ -n "$cdrom" ] && [ -n "$disk" ]; then
	fail "give --cdrom or --disk, not both"
fi
[ -n "$cdrom" ] || [ -n "$disk" ] || fail "give --cdrom ISO or --disk QCOW2"
[ -z "$seed" ] || [ -n "$disk" ] || fail "--seed goes with --disk"
for f in $cdrom $disk $seed; do
	[ -f "$f" ] || fail "$f: no such file"
done

xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g" \
		-e 's/"/\&quot;/g' <<<"$1"
}
path_xml() {
	xml_escape "$(realpath "$1")"
}

domain_xml() {
	local firmware=""
	[ "$uefi" = 1 ] && firmware=" firmware='efi'"
	cat <<XML
<domain type='kvm'>
  <name>$name</name>
  <memory unit='MiB'>$memory</memory>
  <vcpu>$vcpus</vcpu>
  <os$firmware>
    <type arch='x86_64' machine='q35'>hvm</type>
XML
	if [ -n "$cdrom" ]; then
		echo "    <boot dev='cdrom'/>"
	else
		echo "    <boot dev='hd'/>"
	fi
	cat <<XML
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='host-passthrough'/>
  <clock offset='utc'/>
  <on_reboot>restart</on_reboot>
  <devices>
XML
	if [ -n "$disk" ]; then
		cat <<XML
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$(path_xml "$disk")'/>
      <target dev='vda' bus='virtio'/>
    </disk>
XML
	fi
	local iso
	for iso in $cdrom $seed; do
		local dev=sda
		[ "$iso" = "$seed" ] && [ -n "$seed" ] && dev=sdb
		cat <<XML
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$(path_xml "$iso")'/>
      <target dev='$dev' bus='sata'/>
      <readonly/>
    </disk>
XML
	done
	if [ -n "$bridge" ]; then
		echo "    <interface type='bridge'>"
		echo "      <source bridge='$(xml_escape "$bridge")'/>"
	else
		echo "    <interface type='network'>"
		echo "      <source network='$(xml_escape "$network")'/>"
	fi
	cat <<XML
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video>
      <model type='vga'/>
    </video>
  </devices>
</domain>
XML
}

case $mode in
print-xml)
	domain_xml
	;;
dry-run)
	domain_xml
	echo "# would run:"
	echo "virsh --connect $connect define <the XML above>"
	echo "virsh --connect $connect start $name"
	echo "virsh --connect $connect console $name"
	;;
run)
	command -v virsh >/dev/null || fail "virsh not found (apt-get install libvirt-clients)"
	xml=$(mktemp)
	trap 'rm -f "$xml"' EXIT
	domain_xml >"$xml"
	virsh --connect "$connect" define "$xml"
	virsh --connect "$connect" start "$name"
	echo "virt-install: $name started; its serial console: virsh --connect $connect console $name"
	;;
esac
