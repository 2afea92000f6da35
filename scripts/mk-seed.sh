#!/bin/bash
# Make a cloud-init NoCloud seed with cloud-localds (Debian package
# cloud-image-utils): an ISO 9660 volume labelled "cidata" that holds
# user-data and meta-data (and network-config if given). Attach it to a
# machine booting out/keel.qcow2 as a CD-ROM or disk.
#
# Usage: scripts/mk-seed.sh [-u USER_DATA] [-m META_DATA] [-n NETWORK_CONFIG]
#                           [-k KEY.pub]... OUTPUT.iso
#   -u, -m      default: image/cloud-init/user-data and .../meta-data
#   -n          a network-config (version 1 or 2) for the seed
#   -k KEY.pub  your SSH public key for every user of the user-data (it
#               replaces the sample's placeholder key); repeatable, and
#               `-k ~/.ssh/id_*.pub` takes every key the pattern matches
#   -h          this text
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
repo=$(cd "$(dirname "$0")/.." && pwd)
user_data=$repo/image/cloud-init/user-data
meta_data=$repo/image/cloud-init/meta-data
network_config=
keys=()
positional=()
while [ $# -gt 0 ]; do
	OPTIND=1
	while getopts "u:m:n:k:h" opt; do
		case $opt in
		u) user_data=$OPTARG ;;
		m) meta_data=$OPTARG ;;
		n) network_config=$OPTARG ;;
		k) keys+=("$OPTARG") ;;
		h)
			usage
			exit 0
			;;
		*)
			usage >&2
			exit 2
			;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $# -gt 0 ]; then
		positional+=("$1")
		shift
	fi
done
# `-k ~/.ssh/id_*.pub` with two keys gives "-k a.pub b.pub OUTPUT": the
# output is the last word, the other words must be more keys.
if [ ${#positional[@]} -eq 0 ]; then
	usage >&2
	exit 2
fi
output=${positional[-1]}
for extra in "${positional[@]:0:${#positional[@]}-1}"; do
	case $extra in
	*.pub) keys+=("$extra") ;;
	*)
		echo "mk-seed: unexpected argument $extra (one OUTPUT.iso; keys end in .pub)" >&2
		exit 2
		;;
	esac
done
case $output in
*.pub)
	echo "mk-seed: the last argument must be the OUTPUT.iso, not $output" >&2
	exit 2
	;;
esac
command -v cloud-localds >/dev/null ||
	{ echo "mk-seed: cloud-localds not found (apt-get install cloud-image-utils)" >&2 && exit 1; }

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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ${#keys[@]} -gt 0 ]; then
	for key in "${keys[@]}"; do
		[ -r "$key" ] || { echo "mk-seed: $key: cannot read" >&2 && exit 1; }
		grep -qE '^(ssh-|ecdsa-|sk-)[^ ]+ [A-Za-z0-9+/=]+' "$key" ||
			{ echo "mk-seed: $key is not an OpenSSH public key" >&2 && exit 1; }
	done
	head -n1 "$user_data" | grep -q '^#cloud-config' ||
		{ echo "mk-seed: -k needs #cloud-config user-data" >&2 && exit 1; }
	# Every user the user-data creates gets the keys; a "default" user (or
	# none listed) gets them through the top-level ssh_authorized_keys.
	/usr/bin/python3 - "$user_data" "$tmp/user-data" "${keys[@]}" <<'EOF'
import sys
import yaml

source, dest, key_files = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(source) as f:
    config = yaml.safe_load(f) or {}
keys = []
for path in key_files:
    with open(path) as f:
        keys += [line.strip() for line in f if line.strip()]
placeholder = "ExampleKeyReplaceMe"
users = config.get("users")
named = [u for u in users or [] if isinstance(u, dict)]
for user in named:
    old = [k for k in user.get("ssh_authorized_keys", [])
           if placeholder not in k]
    user["ssh_authorized_keys"] = old + [k for k in keys if k not in old]
if not named or any(u == "default" for u in users or []):
    old = [k for k in config.get("ssh_authorized_keys", [])
           if placeholder not in k]
    config["ssh_authorized_keys"] = old + [k for k in keys if k not in old]
with open(dest, "w") as f:
    f.write("#cloud-config\n")
    yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False,
                   width=1 << 20)
EOF
	user_data=$tmp/user-data
fi

args=()
if [ -n "$network_config" ]; then
	args+=(--network-config "$network_config")
fi
mkdir -p "$(dirname "$output")"
cloud-localds "${args[@]}" "$output.tmp" "$user_data" "$meta_data"
mv "$output.tmp" "$output"
echo "mk-seed: $output"
