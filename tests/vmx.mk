# Intel VT-x tests: Keel's VMX backend under Bochs (model corei7_haswell_4770).
#
#   make test-vmx                        the test guests, then the Dom0 boot
#   make test-vmx VMX_GUESTS="cpuid smp"   only these guests (no Dom0 boot)
#   make test-vmx-guests                 every test guest and the two-CPU boot
#                                        (tests/system/test_vmx.py)
#   make test-vmx-dom0                   Debian's kernel as Dom0 to a root
#                                        shell (tests/system/test_vmx_dom0.py)

VMX_GUESTS ?=

.PHONY: test-vmx test-vmx-guests test-vmx-dom0
test-vmx: test-vmx-guests $(if $(VMX_GUESTS),,test-vmx-dom0)

test-vmx-guests: keel guests
	/usr/bin/python3 tests/system/test_vmx.py $(foreach g,$(VMX_GUESTS),--only $(g))

test-vmx-dom0: keel kernel initramfs
	/usr/bin/python3 tests/system/test_vmx_dom0.py
