#!/bin/bash
# Fetch Debian's Dom0 kernel package and unpack it (no root install on the
# host): gives build/kernel/vmlinuz, build/kernel/lib/modules/<release>/
# and build/kernel/release (the `uname -r` string).
#
# The ABI version is pinned in image/kernel-version. The archive drops old
# ABIs; then the kernel that linux-image-amd64 currently depends on is used
# and a notice says so.
#
# Usage: scripts/fetch-kernel.sh [BUILD_DIR]   (default: build)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$repo/build}")
pinned=$(tr -d '[:space:]' < "$repo/image/kernel-version")
dest=$build/kernel
downloads=$build/kernel-deb

mkdir -p "$downloads"
cd "$downloads"

download() {
	rm -f ./*.deb
	apt-get download "$1" >/dev/null 2>&1
}

package=linux-image-$pinned-amd64
if ! download "$package"; then
	# The package lists may be stale or missing on a fresh machine.
	apt-get update -qq >/dev/null 2>&1 || true
	if ! download "$package"; then
		current=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' |
			head -n1)
		if [ -z "$current" ]; then
			echo "fetch-kernel: cannot find $package nor linux-image-amd64 in the archive" >&2
			exit 1
		fi
		echo "fetch-kernel: NOTICE: pinned $package (image/kernel-version) is" \
			"no longer in the archive; using $current instead." >&2
		echo "fetch-kernel: NOTICE: update image/kernel-version to keep builds reproducible." >&2
		package=$current
		download "$package"
	fi
fi

deb=$(ls ./*.deb)
rm -rf "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp"
release=$(ls "$dest.tmp/lib/modules")
cp "$dest.tmp/boot/vmlinuz-$release" "$dest.tmp/vmlinuz"
echo "$release" > "$dest.tmp/release"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-kernel: $package ($(dpkg-deb -f "$deb" Version)) -> $dest (release $release)"
