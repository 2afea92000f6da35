/* SPDX-License-Identifier: MIT */
/* Start-up, result reporting and command-line access for test guests. */
#include "guest.h"

void trap_init(void);
void smp_init_boot_cpu(void);
void runtime_start(void);

struct boot_params boot_params;
static char cmdline_buf[COMMAND_LINE_SIZE];

/* The identity map built by head.S ends here. */
#define IDENTITY_MAP_END 0x100000000ULL

static char first_failure[160];
static unsigned int failed_checks;
/* Set by the first CPU to report a result. */
static bool result_reported;

__noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* True for the first caller only: one result line per run. */
static bool claim_result(void)
{
	return !__atomic_exchange_n(&result_reported, true, __ATOMIC_ACQ_REL);
}

__noreturn void test_pass(void)
{
	if (claim_result())
		printf("TEST %s: PASS\n", test_name);
	halt_forever();
}

__noreturn void test_fail(const char *fmt, ...)
{
	char reason[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (claim_result())
		printf("TEST %s: FAIL %s\n", test_name, reason);
	halt_forever();
}

bool check(bool cond, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("%s: %s: %s\n", test_name, cond ? "ok" : "FAILED", what);
	if (!cond &&
	    __atomic_fetch_add(&failed_checks, 1, __ATOMIC_ACQ_REL) == 0)
		memcpy(first_failure, what,
		       sizeof(what) < sizeof(first_failure)
			   ? sizeof(what)
			   : sizeof(first_failure));
	return cond;
}

unsigned int checks_failed(void)
{
	return __atomic_load_n(&failed_checks, __ATOMIC_ACQUIRE);
}

__noreturn void test_finish(void)
{
	unsigned int failed = __atomic_load_n(&failed_checks, __ATOMIC_ACQUIRE);

	if (!failed)
		test_pass();
	if (failed == 1)
		test_fail("%s", first_failure);
	test_fail("%s (and %u more failed checks)", first_failure, failed - 1);
}

const char *cmdline(void)
{
	return cmdline_buf;
}

bool cmdline_find(const char *key, const char **value, size_t *len)
{
	size_t key_len = strlen(key);
	const char *p = cmdline_buf;

	while (*p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - word) > key_len && word[key_len] == '=' &&
		    !strncmp(word, key, key_len)) {
			*value = word + key_len + 1;
			*len = (size_t)(p - *value);
			return true;
		}
	}
	return false;
}

bool cmdline_u64(const char *key, uint64_t *out)
{
	const char *s;
	size_t len;

	if (!cmdline_find(key, &s, &len) || len == 0)
		return false;
	unsigned int base = 10;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	uint64_t value = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned int digit;
		char c = s[i];
		if (c >= '0' && c <= '9')
			digit = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = (unsigned int)(c - 'A' + 10);
		else
			return false;
		if (value > (UINT64_MAX - digit) / base)
			return false;
		value = value * base + digit;
	}
	*out = value;
	return true;
}

/* Copies the loader's boot_params and command line into the image, so the
 * guests never depend on where the loader put them. */
static void copy_boot_params(void)
{
	if (boot_params_phys == 0 ||
	    boot_params_phys > IDENTITY_MAP_END - sizeof(boot_params))
		test_fail("boot_params at 0x%lx is outside the identity map",
			  boot_params_phys);
	memcpy(&boot_params, (const void *)boot_params_phys,
	       sizeof(boot_params));

	uint64_t cmd = boot_params.hdr.cmd_line_ptr |
		       ((uint64_t)boot_params.ext_cmd_line_ptr << 32);
	if (cmd == 0)
		return;
	if (cmd > IDENTITY_MAP_END - sizeof(cmdline_buf))
		test_fail("command line at 0x%lx is outside the identity map",
			  cmd);
	const char *src = (const char *)cmd;
	size_t i;
	for (i = 0; i + 1 < sizeof(cmdline_buf) && src[i]; i++)
		cmdline_buf[i] = src[i];
	cmdline_buf[i] = '\0';
}

void runtime_start(void)
{
	smp_init_boot_cpu();
	trap_init();
	printf("%s: entered via %u-bit entry, image at 0x%lx, boot_params at "
	       "0x%lx\n",
	       test_name, boot_entry_mode, boot_load_address, boot_params_phys);
	copy_boot_params();
	printf("%s: command line \"%s\"\n", test_name, cmdline_buf);
	test_main();
	test_fail("test_main() returned without a result");
}
