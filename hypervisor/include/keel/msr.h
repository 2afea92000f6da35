/* SPDX-License-Identifier: MIT */
/*
 * Model-specific register numbers Keel uses or emulates (Intel SDM vol. 4,
 * AMD APM vol. 2 appendix A). The VMX capability MSRs stay with the VMX
 * definitions (arch/x86/vmx/vmx.h).
 */
#ifndef KEEL_MSR_H
#define KEEL_MSR_H

#define MSR_TSC			   0x10
#define MSR_IA32_PLATFORM_ID	   0x17
#define MSR_APIC_BASE		   0x1B
#define MSR_IA32_FEATURE_CONTROL   0x3A
#define MSR_IA32_SPEC_CTRL	   0x48
#define MSR_IA32_PRED_CMD	   0x49 /* write-only: bit 0 issues an IBPB */
#define MSR_IA32_UCODE_REV	   0x8B /* AMD: PATCH_LEVEL */
#define MSR_PLATFORM_INFO	   0xCE
#define MSR_MTRR_CAP		   0xFE
#define MSR_IA32_ARCH_CAPABILITIES 0x10A
#define MSR_IA32_FLUSH_CMD	   0x10B /* write-only: bit 0 flushes the L1D */
#define MSR_IA32_SYSENTER_CS	   0x174
#define MSR_SYSENTER_ESP	   0x175
#define MSR_SYSENTER_EIP	   0x176
#define MSR_MCG_CAP		   0x179
#define MSR_MCG_STATUS		   0x17A
#define MSR_MISC_ENABLE		   0x1A0
#define MSR_IA32_PAT		   0x277
#define MSR_MTRR_DEF_TYPE	   0x2FF
#define MSR_TSC_DEADLINE	   0x6E0
#define MSR_X2APIC_FIRST	   0x800
#define MSR_KVM_WALL_CLOCK_NEW	   0x4B564D00
#define MSR_KVM_SYSTEM_TIME_NEW	   0x4B564D01
#define MSR_EFER		   0xC0000080
#define MSR_STAR		   0xC0000081
#define MSR_LSTAR		   0xC0000082
#define MSR_CSTAR		   0xC0000083
#define MSR_SFMASK		   0xC0000084
#define MSR_FS_BASE		   0xC0000100
#define MSR_GS_BASE		   0xC0000101
#define MSR_KERNEL_GS_BASE	   0xC0000102
#define MSR_TSC_AUX		   0xC0000103
#define MSR_AMD_SYSCFG		   0xC0010010
#define MSR_AMD_HWCR		   0xC0010015
#define MSR_AMD_NB_CFG		   0xC001001F
#define MSR_AMD_INT_PENDING	   0xC0010055
#define MSR_AMD_MMIO_CONF_BASE	   0xC0010058
#define MSR_VM_CR		   0xC0010114
#define VM_CR_LOCK		   (1u << 3)
#define VM_CR_SVMDIS		   (1u << 4) /* SVM disabled by the firmware */
#define MSR_AMD_TSEG_ADDR	   0xC0010112
#define MSR_AMD_TSEG_MASK	   0xC0010113
#define MSR_VM_HSAVE_PA		   0xC0010117
#define MSR_AMD_DC_CFG		   0xC0011022
#define MSR_AMD_DE_CFG		   0xC0011029
#define MSR_AMD_BU_CFG2		   0xC001102A

#endif
