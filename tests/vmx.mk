# Intel VT-x tests: Keel's VMX backend booting the test guests under Bochs
# (tests/system/test_vmx.py; Bochs model corei7_haswell_4770).
#
#   make test-vmx                        every VMX guest check
#   make test-vmx VMX_GUESTS="cpuid e820"  only these guests

VMX_GUESTS ?=

.PHONY: test-vmx
test-vmx: keel guests
	/usr/bin/python3 tests/system/test_vmx.py $(foreach g,$(VMX_GUESTS),--only $(g))
