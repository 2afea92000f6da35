#!/bin/bash
# The live ISO's root file system image (/LiveOS/squashfs.img).
#
# Usage: scripts/mk-squashfs.sh LIVE_ROOT OUTPUT
#   LIVE_ROOT: scripts/mk-image-root.sh BASE live DIR
# The kernel and initramfs are on the medium itself (/boot of the ISO): the
# squashfs leaves out its copy. zstd decompresses fastest, which matters on
# the emulated machines the tests boot.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 LIVE_ROOT OUTPUT" >&2
	exit 2
fi
mkdir -p "$(dirname "$2")"
rm -f "$2.tmp"
mksquashfs "$1" "$2.tmp" -noappend -quiet -comp zstd -Xcompression-level 15 \
	-wildcards -e 'boot/*' >/dev/null
mv "$2.tmp" "$2"
echo "mk-squashfs: $2 ($(du -h "$2" | cut -f1))"
