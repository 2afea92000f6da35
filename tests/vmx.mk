# Intel VT-x tests: Keel's VMX backend under Bochs (model corei7_haswell_4770).
#
#   make test-vmx                        the test guests, then the Dom0 boot
#   make test-vmx VMX_GUESTS="cpuid smp"   only these guests (no Dom0 boot)
#   make test-vmx-guests                 every test guest and the two-CPU boot
#                                        (tests/system/test_vmx.py)
#   make test-vmx-dom0                   Debian's kernel as Dom0 to a root
#                                        shell, then its kl creates, lists
#                                        and destroys a test guest DomU
#                                        (tests/system/test_cpu_models.py
#                                        on the VMX reference model)
#   make test-hostile-vmx                the hostile guests' Bochs subset
#                                        (tests/system/test_hostile.py --bochs)
#   make test-cpus                       Dom0 and test guests on the richer
#                                        Bochs models: ryzen (SVM, next-RIP,
#                                        flush-by-ASID), tigerlake (VMX, host
#                                        x2APIC, TSC-deadline), and haswell

VMX_GUESTS ?=

.PHONY: test-vmx test-vmx-guests test-vmx-dom0 test-cpus test-hostile-vmx
test-vmx: test-vmx-guests $(if $(VMX_GUESTS),,test-vmx-dom0)

test-vmx-guests: keel guests
	/usr/bin/python3 tests/system/test_vmx.py $(foreach g,$(VMX_GUESTS),--only $(g))

test-hostile-vmx: keel guests
	/usr/bin/python3 tests/system/test_hostile.py --bochs

test-vmx-dom0: keel kernel initramfs
	/usr/bin/python3 tests/system/test_cpu_models.py --only corei7_haswell_4770

test-cpus: keel guests kernel initramfs
	scripts/deps.sh
	/usr/bin/python3 tests/system/test_cpu_models.py
