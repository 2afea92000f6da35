#!/usr/bin/python3
"""Build Keel's Dom0 test initramfs (see dom0-rootfs/README.md).

The archive holds Debian's static busybox with its applet links, the files
of dom0-rootfs/initramfs/ (init, udhcpc script, profile) and the kernel
modules listed in dom0-rootfs/initramfs/modules plus everything they depend
on. The cpio (newc) archive is written here rather than with cpio(1) so that
device nodes and root ownership need no privileges and the output is
reproducible (all times are 0).

Dependencies come from each module's own `depends=` entry in its .modinfo
section: modpost derives it from the symbols the module imports, and it is
what depmod writes into modules.dep (the Debian package ships no
modules.dep: depmod runs at install time).
"""

import argparse
import gzip
import lzma
import os
import stat
import struct
import subprocess
import sys

# ---------------------------------------------------------------------------
# cpio "newc" format (see the kernel's Documentation/driver-api/early-userspace/
# buffer-format.rst): a 110-byte ASCII header, the NUL-terminated name, the
# data, each padded to 4 bytes; an entry named TRAILER!!! ends the archive.
# ---------------------------------------------------------------------------


class CpioWriter:
    def __init__(self):
        self.parts = []
        self.inode = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        if name in self.names:
            raise ValueError("duplicate initramfs entry " + name)
        self.names.add(name)
        encoded = name.encode() + b"\0"
        header = "070701" + "".join("%08X" % v for v in (
            self.inode, mode, 0, 0, nlink, 0, len(data), 0, 0,
            rdev[0], rdev[1], len(encoded), 0))
        self.inode += 1
        self.parts.append(header.encode() + encoded)
        self._pad()
        self.parts.append(data)
        self._pad()

    def _pad(self):
        size = sum(len(p) for p in self.parts)
        self.parts.append(b"\0" * (-size % 4))

    def directory(self, name, perm=0o755):
        self._entry(name, stat.S_IFDIR | perm, nlink=2)

    def file(self, name, data, perm=0o644):
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def directories_for(self, path):
        """Create each missing parent directory of path."""
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.names:
                self.directory(d)

    def archive(self):
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)


# ---------------------------------------------------------------------------
# Kernel modules
# ---------------------------------------------------------------------------

def read_module(path):
    """Return a module's ELF image, decompressing .ko.xz / .ko.zst (busybox
    insmod loads only plain ELF)."""
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def modinfo(elf):
    """The key=value entries of an ELF64 module's .modinfo section."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise ValueError("not an ELF64 module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i):
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", elf, base)
        offset, size = struct.unpack_from("<QQ", elf, base + 0x18)
        return name, offset, size

    _, strtab, _ = section(shstrndx)
    for i in range(shnum):
        name, offset, size = section(i)
        end = elf.index(b"\0", strtab + name)
        if elf[strtab + name:end] == b".modinfo":
            info = {}
            for item in elf[offset:offset + size].split(b"\0"):
                key, sep, value = item.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(key, value)
            return info
    return {}


def index_modules(moddir):
    """Map module name (with '-' as '_') to its file under moddir."""
    index = {}
    for root, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            for suffix in (".ko", ".ko.xz", ".ko.zst"):
                if f.endswith(suffix):
                    name = f[:-len(suffix)].replace("-", "_")
                    index[name] = os.path.join(root, f)
    return index


def builtin_modules(moddir):
    names = set()
    path = os.path.join(moddir, "modules.builtin")
    if os.path.exists(path):
        for line in open(path):
            base = os.path.basename(line.strip())
            names.add(base.split(".ko")[0].replace("-", "_"))
    return names


def resolve(wanted, moddir, index, builtin, extra):
    """Return [(name, elf_bytes, relative_path, [dep names])] with every
    module after its dependencies."""
    ordered = []
    state = {}  # name -> "visiting" | "done"

    def visit(name, chain):
        name = name.replace("-", "_")
        if state.get(name) == "done" or name in builtin:
            return
        if state.get(name) == "visiting":
            raise SystemExit("module dependency cycle: " +
                             " -> ".join(chain + [name]))
        if name in extra:
            path = extra[name]
            rel = "extra/" + name + ".ko"
        elif name in index:
            path = index[name]
            rel = os.path.relpath(path, moddir).split(".ko")[0] + ".ko"
        else:
            raise SystemExit("kernel module not found: " + name)
        state[name] = "visiting"
        elf = read_module(path)
        deps = [d for d in modinfo(elf).get("depends", "").split(",") if d]
        for dep in deps:
            visit(dep, chain + [name])
        state[name] = "done"
        ordered.append((name, elf, rel,
                        [d.replace("-", "_") for d in deps
                         if d.replace("-", "_") not in builtin]))

    for name in wanted:
        visit(name, [])
    return ordered


# ---------------------------------------------------------------------------

# (file in the overlay directory, path in the initramfs, mode)
OVERLAY_FILES = [
    ("init", "init", 0o755),
    ("udhcpc.script", "etc/udhcpc/default.script", 0o755),
    ("profile", "etc/profile", 0o644),
    ("inittab", "etc/inittab", 0o644),
]


def shared_libraries(path):
    """The libraries a dynamic executable loads (the loader included), as
    ldd resolves them on the build host: the Dom0 test initramfs runs the
    host's Debian binaries, e.g. qemu-nbd."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return []
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    libs = []
    for line in out.splitlines():
        fields = line.split()
        if "=>" in fields and fields[fields.index("=>") + 1].startswith("/"):
            libs.append(fields[fields.index("=>") + 1])
        elif fields and fields[0].startswith("/"):
            libs.append(fields[0])
    return libs


def manifest_files(overlay):
    """The overlay's `files` manifest as --extra-file PATH:DEST specs: one
    "PATH DEST" a line, PATH relative to the repository, $OUT and $BUILD
    replaced by the build's directories (Makefile's OUT and BUILD)."""
    path = os.path.join(overlay, "files")
    if not os.path.exists(path):
        return []
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {"OUT": os.environ.get("OUT", "out"),
           "BUILD": os.environ.get("BUILD", "build")}
    specs = []
    for number, line in enumerate(open(path), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise SystemExit("%s:%d: want PATH DEST" % (path, number))
        src = fields[0].replace("$OUT", env["OUT"]).replace(
            "$BUILD", env["BUILD"])
        specs.append("%s:%s" % (os.path.join(repo, src), fields[1]))
    return specs


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel-dir", default=os.path.join(repo, "build/kernel"),
                    help="unpacked kernel package (scripts/fetch-kernel.sh)")
    ap.add_argument("--overlay",
                    default=os.path.join(repo, "dom0-rootfs/initramfs"))
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--extra-module", action="append", default=[],
                    metavar="PATH.ko", help="also load this module (last)")
    ap.add_argument("--extra-file", action="append", default=[],
                    metavar="PATH:DEST", help="also install PATH as DEST "
                    "(e.g. usr/sbin/kl), executable if PATH is")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    release = open(os.path.join(args.kernel_dir, "release")).read().strip()
    moddir = os.path.join(args.kernel_dir, "lib/modules", release)
    wanted = [line.split("#")[0].strip()
              for line in open(os.path.join(args.overlay, "modules"))]
    wanted = [w for w in wanted if w]
    extra = {}
    for path in args.extra_module:
        name = os.path.basename(path).split(".ko")[0].replace("-", "_")
        extra[name] = path
        wanted.append(name)
    modules = resolve(wanted, moddir, index_modules(moddir), builtin_modules(moddir),
                      extra)

    cpio = CpioWriter()
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc",
              "sys", "run", "tmp", "root", "etc", "etc/udhcpc", "lib",
              "lib/modules", "lib/modules/" + release):
        cpio.directory(d, 0o1777 if d == "tmp" else 0o755)
    # The kernel opens /dev/console for init's stdio before /init can
    # mount devtmpfs.
    cpio.char_device("dev/console", 5, 1)
    cpio.char_device("dev/null", 1, 3, 0o666)

    with open(args.busybox, "rb") as f:
        cpio.file("bin/busybox", f.read(), 0o755)
    applets = subprocess.run([args.busybox, "--list-full"], check=True,
                             stdout=subprocess.PIPE).stdout.decode().split()
    for applet in applets:
        if applet != "bin/busybox" and applet not in cpio.names:
            cpio.directories_for(applet)
            cpio.symlink(applet, "/bin/busybox")

    # The overlay's files and where they go; init is the only one every
    # overlay has (the Dom0 and the DomU initramfs differ in the rest).
    for name, dest, perm in OVERLAY_FILES:
        path = os.path.join(args.overlay, name)
        if name == "init" or os.path.exists(path):
            with open(path, "rb") as f:
                cpio.file(dest, f.read(), perm)
    # nobody: an unprivileged user for `su -s /bin/sh nobody -c ...`.
    cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
              b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    cpio.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    for spec in args.extra_file + manifest_files(args.overlay):
        path, sep, dest = spec.partition(":")
        dest = dest.strip("/")
        if not sep or not dest:
            raise SystemExit("--extra-file wants PATH:DEST, not " + spec)
        with open(path, "rb") as f:
            data = f.read()
        cpio.directories_for(dest)
        cpio.file(dest, data, 0o755 if os.access(path, os.X_OK) else 0o644)
        for lib in shared_libraries(path):
            name = lib.strip("/")
            if name not in cpio.names:
                cpio.directories_for(name)
                with open(lib, "rb") as f:
                    cpio.file(name, f.read(), 0o755)

    base = "lib/modules/" + release + "/"
    dep_lines = []
    rel_of = {name: rel for name, _, rel, _ in modules}
    for name, elf, rel, deps in modules:
        cpio.directories_for(base + rel)
        cpio.file(base + rel, elf)
        # /init loads by name; a flat link per module keeps that simple.
        cpio.symlink(base + name + ".ko", rel)
        dep_lines.append("%s: %s\n" % (rel, " ".join(
            rel_of[d] for d in reversed(deps))))
    # For busybox modprobe at the shell.
    cpio.file(base + "modules.dep", "".join(dep_lines).encode())
    cpio.file(base + "load-order",
              "".join(name + "\n" for name, _, _, _ in modules).encode())

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(cpio.archive())
    os.replace(tmp, args.output)
    print("mkinitramfs: %s (%s; modules: %s)" % (
        args.output, release, " ".join(name for name, _, _, _ in modules)))


if __name__ == "__main__":
    sys.exit(main())
