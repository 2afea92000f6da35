/* SPDX-License-Identifier: MIT */
/*
 * Boot image of a test guest: a minimal bzImage.
 *
 * The file starts with the real-mode "setup" area (boot sector + one setup
 * sector) carrying the Linux x86 boot protocol header, followed by the
 * protected-mode image linked at PREF_ADDRESS (Linux
 * Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header" and
 * "64-bit Boot Protocol"). A loader that speaks the protocol starts the
 * guest the way it starts Linux:
 *
 *   load + 0x000  startup_32: 32-bit protected mode, paging off,
 *                 ESI = boot_params (GRUB's `linux` command uses this)
 *   load + 0x200  startup_64: long mode, identity-mapped paging,
 *                 RSI = boot_params (Keel uses this)
 *
 * A loader may put a non-relocatable image at 1 MiB (GRUB does) or at
 * pref_address (Keel does); both entries move the image to its link
 * address when needed. They then switch to the guest's own GDT and page
 * tables (an identity map of the first 4 GiB) so nothing the loader built
 * is used after entry, zero .bss and call runtime_start().
 */

#include "layout.h"

/* boot_params offsets (boot.rst, "The zero page"). */
#define BP_SCRATCH 0x1e4

#define X86_CR0_PE   0x00000001
#define X86_CR0_PG   0x80000000
#define X86_CR4_PAE  0x00000020
#define MSR_EFER     0xc0000080
#define EFER_LME     0x00000100
#define X86_EFLAGS_DF 0x00000400

/* Page-table entry bits (Intel SDM vol. 3A §4.5, tables 4-15..4-19). */
#define PTE_PRESENT  0x001
#define PTE_WRITE    0x002
#define PTE_PWT      0x008
#define PTE_PCD      0x010
#define PTE_LARGE    0x080

/* ---------------------------------------------------------------------- */
/* Real-mode setup area: file offset 0, (SETUP_SECTS + 1) * 512 bytes.     */
/* ---------------------------------------------------------------------- */

	.section .setup, "a"
	.code16
	/* Boot sector: nothing runs from here; a BIOS that boots the file
	 * directly just stops. */
	cli
1:	hlt
	jmp	1b

	.org	0x1f1
hdr_setup_sects:	.byte	SETUP_SECTS
hdr_root_flags:		.word	0
hdr_syssize:		.long	guest_syssize	/* 16-byte units, see link.ld */
hdr_ram_size:		.word	0
hdr_vid_mode:		.word	0xffff		/* "normal" */
hdr_root_dev:		.word	0
hdr_boot_flag:		.word	0xaa55
	/* 0x200: the real-mode entry. Test guests have no real-mode code. */
hdr_jump:		.byte	0xeb, realmode_stop - 1f
1:
hdr_header:		.ascii	"HdrS"
hdr_version:		.word	0x020f
hdr_realmode_swtch:	.long	0
hdr_start_sys_seg:	.word	0x1000		/* obsolete, as in Linux */
hdr_kernel_version:	.word	0
hdr_type_of_loader:	.byte	0
hdr_loadflags:		.byte	0x01		/* LOADED_HIGH */
hdr_setup_move_size:	.word	0x8000
	/* The protocol's fixed value: loaders treat code32_start as the
	 * 32-bit entry relative to 0x100000, where they put the image of a
	 * non-relocatable kernel (GRUB computes load + code32_start -
	 * 0x100000). Keel ignores it and uses pref_address instead. */
hdr_code32_start:	.long	0x100000
hdr_ramdisk_image:	.long	0
hdr_ramdisk_size:	.long	0
hdr_bootsect_kludge:	.long	0
hdr_heap_end_ptr:	.word	0
hdr_ext_loader_ver:	.byte	0
hdr_ext_loader_type:	.byte	0
hdr_cmd_line_ptr:	.long	0
hdr_initrd_addr_max:	.long	0x7fffffff
hdr_kernel_alignment:	.long	0x200000
hdr_relocatable:	.byte	0
hdr_min_alignment:	.byte	21		/* log2(kernel_alignment) */
hdr_xloadflags:		.word	0x0001		/* XLF_KERNEL_64 */
hdr_cmdline_size:	.long	COMMAND_LINE_SIZE - 1
hdr_hardware_subarch:	.long	0
hdr_hardware_subarch_data: .quad 0
hdr_payload_offset:	.long	0
hdr_payload_length:	.long	0
hdr_setup_data:		.quad	0
hdr_pref_address:	.quad	PREF_ADDRESS
hdr_init_size:		.long	guest_init_size	/* image + .bss, see link.ld */
hdr_handover_offset:	.long	0
hdr_kernel_info_offset:	.long	guest_kernel_info_offset /* see link.ld */

realmode_stop:
	cli
1:	hlt
	jmp	1b

	.org	(SETUP_SECTS + 1) * 512

/* ---------------------------------------------------------------------- */
/* Protected-mode image: file offset (SETUP_SECTS + 1) * 512, linked at    */
/* PREF_ADDRESS.                                                           */
/* ---------------------------------------------------------------------- */

	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	cld
	/* Find the load address with call/pop. There is no stack yet: borrow
	 * boot_params' 4-byte scratch field as one, as Linux's startup_32
	 * does. */
	leal	(BP_SCRATCH + 4)(%esi), %esp
	call	1f
1:	popl	%ebp
	subl	$(1b - startup_32), %ebp
	pushfl
	popl	%edx			/* EFLAGS at entry, recorded below */
	movl	%esi, %ebx		/* boot_params */

	movl	$startup_32, %edi
	cmpl	%edi, %ebp
	je	3f
	movl	%ebp, %esi
	movl	$guest_file_image_size, %ecx
	cmpl	%esi, %edi
	jb	2f
	/* Destination above the source: copy from the top down so an
	 * overlapping move does not overwrite bytes not yet copied. */
	leal	-1(%esi, %ecx), %esi
	leal	-1(%edi, %ecx), %edi
	std
2:	rep movsb
	cld
	movl	$3f, %eax
	jmp	*%eax

	/* Running at the link address from here on. */
3:	movl	%ebx, boot_params_phys
	movl	%ebp, boot_load_address
	movl	%edx, boot_entry_flags
	movw	%cs, boot_entry_cs
	movw	%ds, boot_entry_ds
	movl	$32, boot_entry_mode

	lgdt	boot_gdt_desc
	ljmp	$SEL_CODE32, $4f
4:	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss

	/* Enter long mode (Intel SDM vol. 3A §9.8.5): PAE, CR3, EFER.LME,
	 * then paging. */
	movl	%cr4, %eax
	orl	$X86_CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(X86_CR0_PG | X86_CR0_PE), %eax
	movl	%eax, %cr0
	/* Continue through the 64-bit entry, as Linux's startup_32 does, so
	 * a bare-metal boot runs the same code Keel enters. */
	ljmp	$SEL_CODE64, $startup_32_to_64

	.org	0x200
	.code64
	.globl	startup_64
startup_64:
	cli
	cld
	leaq	startup_32(%rip), %rbp	/* where the loader put us */
	/* Our own .bss in the loaded copy is inside init_size, so it can
	 * serve as a stack before the move. */
	leaq	boot_stack_top(%rip), %rsp
	pushfq
	popq	%rdx
	movq	%rsi, %rbx

	movq	$startup_32, %rdi
	cmpq	%rdi, %rbp
	je	2f
	movq	%rbp, %rsi
	movq	$guest_file_image_size, %rcx
	cmpq	%rsi, %rdi
	jb	1f
	leaq	-1(%rsi, %rcx), %rsi
	leaq	-1(%rdi, %rcx), %rdi
	std
1:	rep movsb
	cld
	movq	$2f, %rax
	jmp	*%rax

	/* startup_32 has already recorded how the guest was entered. */
2:	cmpl	$0, boot_entry_mode
	jne	3f
	movq	%rbx, boot_params_phys
	movq	%rbp, boot_load_address
	movq	%rdx, boot_entry_flags
	movw	%cs, boot_entry_cs
	movw	%ds, boot_entry_ds
	movl	$64, boot_entry_mode

3:	lgdt	boot_gdt_desc
	pushq	$SEL_CODE64
	pushq	$long_mode_common
	lretq

long_mode_common:
	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$boot_pml4, %rax
	movq	%rax, %cr3

	movq	$__bss_start, %rdi
	movq	$guest_bss_size, %rcx
	xorl	%eax, %eax
	rep stosb

	movq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp
	call	runtime_start
5:	cli
	hlt
	jmp	5b

startup_32_to_64:
	/* The upper halves of the registers are undefined after the switch
	 * from 32-bit code (SDM vol. 1 §3.4.1.1). */
	movl	%esi, %esi
	jmp	startup_64

/* ---------------------------------------------------------------------- */
/* Data the entry code fills in or uses.                                   */
/* ---------------------------------------------------------------------- */

	.section .rodata
	/* kernel_info (boot.rst, "The kernel_info"): header, size, size_total,
	 * setup_type_max. The guests read no setup_data. */
	.balign	4
	.globl	kernel_info
kernel_info:
	.ascii	"LToP"
	.long	kernel_info_end - kernel_info
	.long	kernel_info_end - kernel_info
	.long	0
kernel_info_end:

	/* Also loaded by the application processors (trampoline.S). */
	.balign	8
	.globl	boot_gdt, boot_gdt_limit
boot_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: 32-bit code, flat */
	.quad	0x00af9a000000ffff	/* 0x10: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x18: data, flat */
boot_gdt_end:
	.set	boot_gdt_limit, boot_gdt_end - boot_gdt - 1
boot_gdt_desc:
	.word	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.data
	/* Filled in before .bss is cleared, so they live in .data. */
	.balign	8
	.globl	boot_params_phys, boot_load_address, boot_entry_flags
	.globl	boot_entry_cs, boot_entry_ds, boot_entry_mode
boot_params_phys:	.quad	0
boot_load_address:	.quad	0
boot_entry_flags:	.quad	0
boot_entry_cs:		.word	0
boot_entry_ds:		.word	0
boot_entry_mode:	.long	0

	/* Identity map of the first 4 GiB with 2 MiB pages. The top GiB
	 * holds the LAPIC and IOAPIC: map it uncached (PCD|PWT select PAT
	 * entry 3, UC, with the power-on PAT; SDM vol. 3A §11.12.4). */
	.balign	4096
	.globl	boot_pml4
boot_pml4:
	.quad	boot_pdpt + PTE_PRESENT + PTE_WRITE
	.fill	511, 8, 0
boot_pdpt:
	.quad	boot_pd + 0x0000 + PTE_PRESENT + PTE_WRITE
	.quad	boot_pd + 0x1000 + PTE_PRESENT + PTE_WRITE
	.quad	boot_pd + 0x2000 + PTE_PRESENT + PTE_WRITE
	.quad	boot_pd + 0x3000 + PTE_PRESENT + PTE_WRITE
	.fill	508, 8, 0
boot_pd:
	.set	page, 0
	.rept	3 * 512
	.quad	(page << 21) + PTE_PRESENT + PTE_WRITE + PTE_LARGE
	.set	page, page + 1
	.endr
	.rept	512
	.quad	(page << 21) + PTE_PRESENT + PTE_WRITE + PTE_LARGE + PTE_PCD + PTE_PWT
	.set	page, page + 1
	.endr

	.bss
	.balign	16
boot_stack:
	.skip	BOOT_STACK_SIZE
	.globl	boot_stack_top
boot_stack_top:
