/* SPDX-License-Identifier: MIT */
#include <keel/cpu.h>
#include <keel/io.h>

struct cpu_info boot_cpu;

void cpu_probe(void)
{
	struct cpu_info *c = &boot_cpu;
	uint32_t r[4];

	cpuid_count(0, 0, r);
	c->max_leaf = r[0];
	memcpy(c->vendor_str, &r[1], 4);
	memcpy(c->vendor_str + 4, &r[3], 4);
	memcpy(c->vendor_str + 8, &r[2], 4);
	c->vendor_str[12] = '\0';
	if (!strcmp(c->vendor_str, "AuthenticAMD") ||
	    !strcmp(c->vendor_str, "HygonGenuine"))
		c->vendor = CPU_VENDOR_AMD;
	else if (!strcmp(c->vendor_str, "GenuineIntel"))
		c->vendor = CPU_VENDOR_INTEL;

	cpuid_count(1, 0, r);
	c->family = (r[0] >> 8) & 0xF;
	c->model = (r[0] >> 4) & 0xF;
	if (c->family == 0xF)
		c->family += (r[0] >> 20) & 0xFF;
	if (c->family >= 6)
		c->model |= ((r[0] >> 16) & 0xF) << 4;
	c->stepping = r[0] & 0xF;
	c->vmx = r[2] & (1u << 5);
	c->x2apic = r[2] & (1u << 21);
	c->tsc_deadline = r[2] & (1u << 24);
	c->xsave = r[2] & (1u << 26);

	cpuid_count(0x80000000, 0, r);
	c->max_ext_leaf = r[0];
	if (c->max_ext_leaf >= 0x80000001) {
		cpuid_count(0x80000001, 0, r);
		c->svm = r[2] & (1u << 2);
		c->nx = r[3] & (1u << 20);
		c->pdpe1gb = r[3] & (1u << 26);
	}
	if (c->max_ext_leaf >= 0x80000004) {
		for (unsigned i = 0; i < 3; i++) {
			cpuid_count(0x80000002 + i, 0, r);
			memcpy(c->brand + 16 * i, r, 16);
		}
		c->brand[48] = '\0';
	}
	if (c->max_ext_leaf >= 0x80000007) {
		cpuid_count(0x80000007, 0, r);
		c->invariant_tsc = r[3] & (1u << 8);
	}
	c->phys_addr_bits = 36;
	if (c->max_ext_leaf >= 0x80000008) {
		cpuid_count(0x80000008, 0, r);
		c->phys_addr_bits = r[0] & 0xFF;
	}
	if (c->svm && c->max_ext_leaf >= 0x8000000A) {
		cpuid_count(0x8000000A, 0, r);
		c->svm_nasid = r[1];
		c->svm_features = r[3];
	}
}

void cpu_print(void)
{
	const struct cpu_info *c = &boot_cpu;
	const char *b = c->brand;

	while (*b == ' ')
		b++;
	printk("CPU: %s family %u model %u stepping %u: %s\n", c->vendor_str,
	       c->family, c->model, c->stepping, *b ? b : "(no brand string)");
	printk("CPU: %u physical address bits;%s%s%s%s%s%s%s\n",
	       c->phys_addr_bits, c->svm ? " svm" : "", c->vmx ? " vmx" : "",
	       c->x2apic ? " x2apic" : "",
	       c->tsc_deadline ? " tsc-deadline" : "",
	       c->invariant_tsc ? " invariant-tsc" : "",
	       c->pdpe1gb ? " 1g-pages" : "", c->xsave ? " xsave" : "");
}
