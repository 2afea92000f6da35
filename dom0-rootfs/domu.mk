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
# ... and the test guests that test_kl_domu.py creates (initramfs/files).
$(DOM0_INITRAMFS): $(foreach g,busy triple hvmem,$(GUEST_OUT)/$(g).bin)
