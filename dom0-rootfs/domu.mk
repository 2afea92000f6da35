# The busybox DomU that `kl create` boots (dom0-rootfs/README.md):
#
#   make domu-initramfs   $(OUT)/domu-initramfs.cpio.gz: Debian's static
#                         busybox, dom0-rootfs/domu-initramfs/ and the
#                         virtio-mmio modules of the pinned kernel
#
# Its kernel is the one Dom0 boots. The test ISO's Dom0 carries both and
# the sample configuration (dom0-rootfs/initramfs/files).

DOMU_INITRAMFS := $(OUT)/domu-initramfs.cpio.gz

.PHONY: domu-initramfs
domu-initramfs: $(DOMU_INITRAMFS)

$(DOMU_INITRAMFS): $(KERNEL_STAMP) scripts/mkinitramfs.py \
		$(wildcard dom0-rootfs/domu-initramfs/*) | $(DEPS_STAMP)
	scripts/mkinitramfs.py --kernel-dir $(KERNEL_DIR) \
		--overlay dom0-rootfs/domu-initramfs -o $@

# The manifest names $BUILD as well as $OUT.
export BUILD
$(DOM0_INITRAMFS): $(DOMU_INITRAMFS) $(wildcard dom0-rootfs/examples/*)

# A small root file system on a virtio disk for test_kl_virtio.py: busybox
# and tests/domu-root/init, which the DomU initramfs hands over to when
# the command line says root=/dev/vda.
DOMU_TEST_ROOT := $(OUT)/domu-test-root.img
DOMU_TEST_ROOT_APPLETS := sh mount grep setsid cttyhack cat ls poweroff

$(DOMU_TEST_ROOT): tests/domu-root/init | $(DEPS_STAMP)
	rm -rf $@.d
	mkdir -p $@.d/bin $@.d/sbin $@.d/dev $@.d/proc $@.d/sys
	cp /bin/busybox $@.d/bin/busybox
	for a in $(DOMU_TEST_ROOT_APPLETS); do ln -s busybox $@.d/bin/$$a; done
	cp tests/domu-root/init $@.d/sbin/init
	rm -f $@
	mke2fs -q -t ext4 -d $@.d $@ 8M
	rm -rf $@.d

$(DOM0_INITRAMFS): $(DOMU_TEST_ROOT)

# A blank qcow2 disk for test_kl_virtio.py's qcow2 checks (kl exports it
# with qemu-nbd, which the Dom0 test initramfs carries).
DOMU_TEST_DISK := $(OUT)/domu-test-disk.qcow2

$(DOMU_TEST_DISK): | $(DEPS_STAMP)
	qemu-img create -q -f qcow2 $@ 16M

$(DOM0_INITRAMFS): $(DOMU_TEST_DISK)
