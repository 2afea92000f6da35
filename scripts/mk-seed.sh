#!/bin/bash
# Make a cloud-init NoCloud seed: an ISO 9660 volume labelled "cidata" that
# holds user-data and meta-data (and network-config if given). Attach it to
# a machine booting out/keel.qcow2 as a CD-ROM or disk.
#
# Usage: scripts/mk-seed.sh [-u USER_DATA] [-m META_DATA] [-n NETWORK_CONFIG] OUTPUT.iso
#   defaults: image/cloud-init/user-data and image/cloud-init/meta-data
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
user_data=$repo/image/cloud-init/user-data
meta_data=$repo/image/cloud-init/meta-data
network_config=
while getopts "u:m:n:" opt; do
	case $opt in
	u) user_data=$OPTARG ;;
	m) meta_data=$OPTARG ;;
	n) network_config=$OPTARG ;;
	*)
		echo "usage: $0 [-u USER_DATA] [-m META_DATA] [-n NETWORK_CONFIG] OUTPUT.iso" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
if [ $# -ne 1 ]; then
	echo "usage: $0 [-u USER_DATA] [-m META_DATA] [-n NETWORK_CONFIG] OUTPUT.iso" >&2
	exit 2
fi
output=$1

# cloud-init reads user-data only if it starts with a known header.
if ! head -n1 "$user_data" | grep -qE '^(#cloud-config|#!|#include|#cloud-boothook|Content-Type:)'; then
	echo "mk-seed: $user_data does not start with #cloud-config (or another cloud-init header)" >&2
	exit 1
fi
if ! grep -qE '^(instance-id|"instance-id"):' "$meta_data" &&
	! grep -q '"instance-id"' "$meta_data"; then
	echo "mk-seed: $meta_data has no instance-id" >&2
	exit 1
fi

files=(user-data="$user_data" meta-data="$meta_data")
if [ -n "$network_config" ]; then
	files+=(network-config="$network_config")
fi
mkdir -p "$(dirname "$output")"
xorriso -as mkisofs -quiet -output "$output.tmp" -volid cidata -joliet -rock \
	-graft-points "${files[@]}"
mv "$output.tmp" "$output"
echo "mk-seed: $output"
