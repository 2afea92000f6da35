/* SPDX-License-Identifier: MIT */
/*
 * The xl.cfg parser (toolstack/cfgfile.c, xlcfg.c, devspec.c, cpumap.c):
 * the syntax libxlu accepts, xl's semantics for the PVH keys, and the
 * exact file:line:column of every message a user would act on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <errno.h>
#include <kl/xlcfg.h>

static struct kl_cfg_result res;

static int teardown(void **state)
{
	(void)state;
	kl_cfg_result_free(&res);
	return 0;
}

static int parse_with(const char *text, const char *const *ov, size_t n)
{
	kl_cfg_result_free(&res);
	return kl_cfg_parse("vm.cfg", text, strlen(text), ov, n, &res);
}

static int parse(const char *text)
{
	return parse_with(text, NULL, 0);
}

/* Parses text and expects it to fail with exactly this message. */
static void expect_error(const char *text, const char *want)
{
	const struct kl_diag *d;
	int rc = parse(text);

	if (rc != -EINVAL)
		fail_msg("parse of <<%s>> returned %d, want -EINVAL", text, rc);
	d = kl_cfg_error(&res);
	assert_non_null(d);
	if (strcmp(d->text, want))
		fail_msg("got  '%s'\nwant '%s'", d->text, want);
}

static void expect_ok(const char *text)
{
	int rc = parse(text);

	if (rc) {
		const struct kl_diag *d = kl_cfg_error(&res);

		fail_msg("parse failed (%d): %s", rc, d ? d->text : "?");
	}
}

#define BASE "name = \"web\"\nkernel = \"/boot/vmlinuz\"\n"

static size_t count_warnings(void)
{
	size_t n = 0;

	for (size_t i = 0; i < res.nr_diags; i++)
		n += res.diags[i].level == KL_DIAG_WARNING;
	return n;
}

static void test_full_config(void **state)
{
	const struct kl_domain_config *c = &res.cfg;

	(void)state;
	expect_ok(
	    "# a Debian guest\n"
	    "name = \"deb1\"\n"
	    "type = 'pvh'\n"
	    "kernel = \"/srv/keel/vmlinuz\"\n"
	    "ramdisk = \"/srv/keel/initrd.img\"\n"
	    "memory = 1024\n"
	    "maxmem = 2048\n"
	    "vcpus = 2; maxvcpus = 4\n"
	    "cpus = \"0-3,^1\"\n"
	    "cpu_weight = 512\n"
	    "cap = 150\n"
	    "on_poweroff = \"destroy\"\n"
	    "on_reboot = \"restart\"\n"
	    "on_crash = \"preserve\"\n"
	    "root = \"/dev/vda1 ro\"\n"
	    "extra = \"console=ttyS0\"\n"
	    "disk = [ 'format=raw, vdev=xvda, access=rw, "
	    "target=/srv/keel/deb1.img',\n"
	    "         '/srv/keel/data.img,raw,xvdb,ro', ]\n"
	    "vif = [ 'mac=00:16:3e:12:34:56, bridge=br1, model=virtio' ]\n");
	assert_string_equal(c->name, "deb1");
	assert_string_equal(c->kernel, "/srv/keel/vmlinuz");
	assert_string_equal(c->ramdisk, "/srv/keel/initrd.img");
	assert_string_equal(c->cmdline, "root=/dev/vda1 ro console=ttyS0");
	assert_int_equal(c->memory_mib, 1024);
	assert_int_equal(c->maxmem_mib, 2048);
	assert_int_equal(c->vcpus, 2);
	assert_int_equal(c->maxvcpus, 4);
	assert_non_null(c->affinity);
	for (unsigned v = 0; v < 4; v++) {
		assert_true(kl_cpumap_test(&c->affinity[v], 0));
		assert_false(kl_cpumap_test(&c->affinity[v], 1));
		assert_true(kl_cpumap_test(&c->affinity[v], 2));
		assert_true(kl_cpumap_test(&c->affinity[v], 3));
		assert_false(kl_cpumap_test(&c->affinity[v], 4));
	}
	assert_int_equal(c->cpu_weight, 512);
	assert_int_equal(c->cap, 150);
	assert_int_equal(c->on_poweroff, KL_ACTION_DESTROY);
	assert_int_equal(c->on_reboot, KL_ACTION_RESTART);
	assert_int_equal(c->on_crash, KL_ACTION_PRESERVE);
	assert_int_equal(c->nr_disks, 2);
	assert_string_equal(c->disks[0].target, "/srv/keel/deb1.img");
	assert_string_equal(c->disks[0].vdev, "xvda");
	assert_int_equal(c->disks[0].index, 0);
	assert_int_equal(c->disks[0].format, KL_DISK_RAW);
	assert_false(c->disks[0].readonly);
	assert_string_equal(c->disks[1].target, "/srv/keel/data.img");
	assert_string_equal(c->disks[1].vdev, "xvdb");
	assert_int_equal(c->disks[1].index, 1);
	assert_true(c->disks[1].readonly);
	assert_int_equal(c->nr_vifs, 1);
	assert_true(c->vifs[0].has_mac);
	assert_memory_equal(c->vifs[0].mac,
			    ((uint8_t[]){0x00, 0x16, 0x3e, 0x12, 0x34, 0x56}),
			    6);
	assert_string_equal(c->vifs[0].bridge, "br1");
	assert_null(c->vifs[0].vifname);
	assert_int_equal(res.nr_diags, 0);
}

static void test_defaults(void **state)
{
	const struct kl_domain_config *c = &res.cfg;

	(void)state;
	expect_ok(BASE);
	assert_null(c->ramdisk);
	assert_string_equal(c->cmdline, "");
	assert_int_equal(c->memory_mib, KL_DEFAULT_MEMORY_MIB);
	assert_int_equal(c->maxmem_mib, KL_DEFAULT_MEMORY_MIB);
	assert_int_equal(c->vcpus, 1);
	assert_int_equal(c->maxvcpus, 1);
	assert_null(c->affinity);
	assert_int_equal(c->cpu_weight, 256);
	assert_int_equal(c->cap, 0);
	assert_int_equal(c->on_poweroff, KL_ACTION_DESTROY);
	assert_int_equal(c->on_reboot, KL_ACTION_RESTART);
	assert_int_equal(c->on_crash, KL_ACTION_DESTROY);
	assert_int_equal(c->nr_disks, 0);
	assert_int_equal(c->nr_vifs, 0);
	/* maxvcpus follows vcpus, maxmem follows memory. */
	expect_ok(BASE "vcpus = 3\nmemory = 300\n");
	assert_int_equal(c->maxvcpus, 3);
	assert_int_equal(c->maxmem_mib, 300);
}

static void test_cmdline_composition(void **state)
{
	(void)state;
	expect_ok(BASE "root = \"/dev/xvda1\"\n");
	assert_string_equal(res.cfg.cmdline, "root=/dev/xvda1");
	expect_ok(BASE "extra = \"quiet console=hvc0\"\n");
	assert_string_equal(res.cfg.cmdline, "quiet console=hvc0");
	expect_ok(BASE "extra = \"quiet\"\nroot = \"LABEL=r\"\n");
	assert_string_equal(res.cfg.cmdline, "root=LABEL=r quiet");
	expect_ok(BASE "cmdline = \"init=/bin/sh\"\nextra = \"quiet\"\n");
	assert_string_equal(res.cfg.cmdline, "init=/bin/sh");
	assert_int_equal(res.nr_diags, 1);
	assert_int_equal(res.diags[0].level, KL_DIAG_WARNING);
	assert_string_equal(res.diags[0].text,
			    "vm.cfg:3: warning: cmdline: ignoring root= and "
			    "extra= in favour of cmdline=");
}

static void test_syntax_forms(void **state)
{
	const struct kl_domain_config *c = &res.cfg;

	(void)state;
	/* Lists across lines with comments and a trailing comma, ';'
	 * separators, single quotes, escapes, hex and quoted numbers. */
	expect_ok("name='a-b_c.d' ; kernel=\"/k\" # the kernel\n"
		  "\n\t   \n"
		  "memory = 0x200\n"
		  "vcpus = \"2\"\n"
		  "extra = \"a\\\"b\\\\c\\x41\\td\"\n"
		  "disk = [\n"
		  "  # first disk\n"
		  "  '/a.img,,xvda',\n"
		  "\n"
		  "  '/b.img,qcow2,xvdc,r' ,  # trailing comma next\n"
		  "]\n"
		  "vif=[]");
	assert_string_equal(c->name, "a-b_c.d");
	assert_int_equal(c->memory_mib, 512);
	assert_int_equal(c->vcpus, 2);
	assert_string_equal(c->cmdline, "a\"b\\cA\td");
	assert_int_equal(c->nr_disks, 2);
	assert_string_equal(c->disks[0].target, "/a.img");
	assert_int_equal(c->disks[0].format, KL_DISK_RAW);
	assert_int_equal(c->disks[1].format, KL_DISK_QCOW2);
	assert_int_equal(c->disks[1].index, 2);
	assert_true(c->disks[1].readonly);
	assert_int_equal(c->nr_vifs, 0);
	/* The last setting of a key wins. */
	expect_ok(BASE "memory = 256\nmemory = 768\n");
	assert_int_equal(c->memory_mib, 768);
	/* CRLF line ends. */
	expect_ok("name = \"w\"\r\nkernel = \"/k\"\r\nmemory = 64\r\n");
	assert_int_equal(c->memory_mib, 64);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error(BASE "memory 512\n",
		     "vm.cfg:3:8: error: memory: expected '=' after the name, "
		     "found a number");
	expect_error(BASE "extra = \"quiet\n",
		     "vm.cfg:3:9: error: unterminated string");
	expect_error(
	    BASE "extra = quiet\n",
	    "vm.cfg:3:9: error: extra: unquoted string 'quiet' where a value "
	    "was expected (write \"quiet\")");
	expect_error(
	    BASE "disk = [ '/a,,xvda' '/b,,xvdb' ]\n",
	    "vm.cfg:3:21: error: disk: expected ',' or ']', found a string");
	expect_error(BASE "disk = [ [ '/a' ] ]\n",
		     "vm.cfg:3:10: error: disk: lists cannot be nested");
	expect_error(BASE "disk = [ '/a,,xvda',\n  '/b,,xvdb'\n",
		     "vm.cfg:3:8: error: disk: list is not closed with ']'");
	expect_error(
	    BASE "memory = 512 vcpus = 2\n",
	    "vm.cfg:3:14: error: memory: unquoted string 'vcpus' where a new "
	    "line or ';' after the value was expected (write \"vcpus\")");
	expect_error(
	    BASE "memory = -5\n",
	    "vm.cfg:3:10: error: unexpected '-' (strings need quotes)");
	expect_error(BASE "extra = \"a\\qb\"\n",
		     "vm.cfg:3:11: error: unknown escape sequence in string");
	expect_error(BASE "= 5\n",
		     "vm.cfg:3:1: error: expected a setting name, found '='");
	expect_error(
	    BASE "vcpus = \n",
	    "vm.cfg:3:9: error: vcpus: expected a value, found end of line");
	expect_error(
	    "name = \"a\"\n\t\tkernel = /boot/vmlinuz\n",
	    "vm.cfg:2:12: error: unexpected '/' (strings need quotes)");
	expect_error("", "vm.cfg:1: error: no settings (a PVH guest needs at "
			 "least name= and kernel=)");
	{
		static const char nul[] = "name = \"a\"\nkernel = \"/k\"\n\0";

		kl_cfg_result_free(&res);
		assert_int_equal(
		    kl_cfg_parse("vm.cfg", nul, sizeof(nul) - 1, NULL, 0, &res),
		    -EINVAL);
		assert_string_equal(
		    kl_cfg_error(&res)->text,
		    "vm.cfg:3:1: error: NUL byte in configuration");
	}
}

static void test_value_errors(void **state)
{
	(void)state;
	expect_error(
	    BASE "memory = abc\n",
	    "vm.cfg:3:10: error: memory: unquoted string 'abc' where a value "
	    "was expected (write \"abc\")");
	expect_error(BASE "memory = \"abc\"\n",
		     "vm.cfg:3:10: error: memory: 'abc' is not a number "
		     "(decimal, or hex with 0x)");
	expect_error(BASE "memory = 12abc\n",
		     "vm.cfg:3:10: error: memory: '12abc' is not a number "
		     "(decimal, or hex with 0x)");
	expect_error(BASE "memory = 010\n",
		     "vm.cfg:3:10: error: memory: '010' is not a number "
		     "(decimal, or hex with 0x)");
	expect_error(BASE "memory = 8\n",
		     "vm.cfg:3:10: error: memory: 8 is out of range: 16 to "
		     "1048576 MiB");
	expect_error(BASE "memory = 99999999999999999999999\n",
		     "vm.cfg:3:10: error: memory: 99999999999999999999999 is "
		     "out of range: 16 to 1048576 MiB");
	expect_error(
	    BASE "memory = [ 5 ]\n",
	    "vm.cfg:3:10: error: memory: expected a number, found a list");
	expect_error(BASE "memory = 512\nmaxmem = 256\n",
		     "vm.cfg:4:10: error: maxmem: maxmem (256 MiB) is below "
		     "memory (512 MiB)");
	expect_error(BASE "vcpus = 65\n",
		     "vm.cfg:3:9: error: vcpus: 65 is out of range: 1 to 64");
	expect_error(BASE "vcpus = 0\n",
		     "vm.cfg:3:9: error: vcpus: 0 is out of range: 1 to 64");
	expect_error(
	    BASE "vcpus = 4\nmaxvcpus = 2\n",
	    "vm.cfg:4:12: error: maxvcpus: maxvcpus (2) is below vcpus (4)");
	expect_error(
	    BASE "cpu_weight = 0\n",
	    "vm.cfg:3:14: error: cpu_weight: 0 is out of range: 1 to 65535");
	expect_error(
	    BASE "cap = 70000\n",
	    "vm.cfg:3:7: error: cap: 70000 is out of range: 0 to 65535 "
	    "percent");
	expect_error(BASE "kernel = 5\n",
		     "vm.cfg:3:10: error: kernel: expected a quoted string, "
		     "found a number");
	expect_error(
	    BASE "type = \"hvm\"\n",
	    "vm.cfg:3:8: error: type: 'hvm' is not supported: Keel runs "
	    "type = \"pvh\" guests only");
	expect_error(BASE "on_reboot = \"rename-restart\"\n",
		     "vm.cfg:3:13: error: on_reboot: 'rename-restart' is not "
		     "supported by Keel: use destroy, restart or preserve");
	expect_error(BASE "on_crash = \"coredump-destroy\"\n",
		     "vm.cfg:3:12: error: on_crash: 'coredump-destroy' is not "
		     "supported by Keel: use destroy, restart or preserve");
	expect_error(
	    BASE "on_poweroff = \"halt\"\n",
	    "vm.cfg:3:15: error: on_poweroff: unknown action 'halt': use "
	    "destroy, restart or preserve");
	expect_error("kernel = \"/k\"\n",
		     "vm.cfg:1: error: name: no name= given");
	expect_error("name = \"x\"\n",
		     "vm.cfg:1: error: kernel: a PVH guest needs kernel= "
		     "(its bzImage)");
	expect_error("name = \"42\"\nkernel = \"/k\"\n",
		     "vm.cfg:1:8: error: name: bad name '42': a name of digits "
		     "only would read as a domain id");
	expect_error(
	    "name = \"a b\"\nkernel = \"/k\"\n",
	    "vm.cfg:1:8: error: name: bad name 'a b': letters, digits, "
	    "'-', '_' and '.' only");
	expect_error("name = \"-x\"\nkernel = \"/k\"\n",
		     "vm.cfg:1:8: error: name: bad name '-x': 1 to 64 "
		     "characters, not starting with '-' or '.'");
}

static void test_unknown_keys_warn(void **state)
{
	(void)state;
	expect_ok(BASE "frobnicate = 1\n\npci = [ '01:00.0' ]\n");
	assert_int_equal(count_warnings(), 2);
	assert_string_equal(
	    res.diags[0].text,
	    "vm.cfg:3: warning: frobnicate: unknown key; ignored");
	assert_string_equal(res.diags[0].key, "frobnicate");
	assert_int_equal(res.diags[0].line, 3);
	assert_string_equal(
	    res.diags[1].text,
	    "vm.cfg:5: warning: pci: an xl.cfg key Keel does not "
	    "support; ignored");
	assert_null(kl_cfg_error(&res));
}

static void test_overrides(void **state)
{
	static const char *const ov[] = {"memory=2048",
					 "name=\"web2\"; vcpus=2",
					 "disk += [ '/c.img,,xvdc' ]"};
	static const char *const bad[] = {"vcpus=2", "memory=lots"};
	static const char *const bad_key[] = {"maxvcpus=1", "vcpus = 3"};

	(void)state;
	assert_int_equal(parse_with(BASE "memory = 512\n"
					 "disk = [ '/a.img,,xvda' ]\n",
				    ov, 3),
			 0);
	assert_int_equal(res.cfg.memory_mib, 2048);
	assert_string_equal(res.cfg.name, "web2");
	assert_int_equal(res.cfg.vcpus, 2);
	assert_int_equal(res.cfg.nr_disks, 2);
	assert_string_equal(res.cfg.disks[1].target, "/c.img");
	assert_int_equal(res.cfg.disks[1].index, 2);

	assert_int_equal(parse_with(BASE, bad, 2), -EINVAL);
	assert_string_equal(
	    kl_cfg_error(&res)->text,
	    "<command line>:2:8: error: memory: unquoted string "
	    "'lots' where a value was expected (write \"lots\")");
	/* A semantic error names where the winning value came from. */
	assert_int_equal(parse_with(BASE "maxvcpus = 4\n", bad_key, 2),
			 -EINVAL);
	assert_string_equal(
	    kl_cfg_error(&res)->text,
	    "<command line>:1:10: error: maxvcpus: maxvcpus (1) "
	    "is below vcpus (3)");
	/* += needs a list on both sides. */
	{
		static const char *const app[] = {"memory += [ 5 ]"};

		assert_int_equal(parse_with(BASE "memory = 5\n", app, 1),
				 -EINVAL);
		assert_string_equal(kl_cfg_error(&res)->text,
				    "<command line>:1:1: error: memory: '+=' "
				    "needs a list, but vm.cfg:3 sets a single "
				    "value");
	}
	/* An appended element's error points into the override. */
	{
		static const char *const app[] = {"disk += [ '/c,,xvdc1' ]"};

		assert_int_equal(
		    parse_with(BASE "disk = [ '/a,,xvda' ]\n", app, 1),
		    -EINVAL);
		assert_string_equal(
		    kl_cfg_error(&res)->text,
		    "<command line>:1:16: error: disk: bad vdev "
		    "'xvdc1': want xvdX, sdX or hdX (a whole "
		    "disk)");
	}
	/* += with nothing before is a plain assignment. */
	{
		static const char *const app[] = {"vif += [ '' ]"};

		assert_int_equal(parse_with(BASE, app, 1), 0);
		assert_int_equal(res.cfg.nr_vifs, 1);
		assert_string_equal(res.cfg.vifs[0].bridge, "br0");
		assert_false(res.cfg.vifs[0].has_mac);
	}
}

static void test_cpus(void **state)
{
	const struct kl_domain_config *c = &res.cfg;
	struct kl_cpumap m;
	size_t bad = 99;

	(void)state;
	expect_ok(BASE "vcpus = 2\ncpus = \"all\"\n");
	assert_true(kl_cpumap_test(&c->affinity[1], 0));
	assert_true(kl_cpumap_test(&c->affinity[1], KL_MAX_PCPUS - 1));
	expect_ok(BASE "maxvcpus = 3\ncpus = [ \"2\", \"3-5,^4\" ]\n");
	assert_true(kl_cpumap_test(&c->affinity[0], 2));
	assert_false(kl_cpumap_test(&c->affinity[0], 3));
	assert_true(kl_cpumap_test(&c->affinity[1], 3));
	assert_false(kl_cpumap_test(&c->affinity[1], 4));
	assert_true(kl_cpumap_test(&c->affinity[1], 5));
	assert_false(kl_cpumap_test(&c->affinity[1], 2));
	/* vCPUs past the list run anywhere. */
	assert_true(kl_cpumap_test(&c->affinity[2], 0));
	assert_true(kl_cpumap_test(&c->affinity[2], 700));
	expect_ok(BASE "cpus = 7\n");
	assert_true(kl_cpumap_test(&c->affinity[0], 7));
	assert_false(kl_cpumap_test(&c->affinity[0], 6));

	assert_int_equal(kl_cpumap_parse("^0", &m, &bad), 0);
	assert_false(kl_cpumap_test(&m, 0));
	assert_true(kl_cpumap_test(&m, 1));
	assert_int_equal(kl_cpumap_parse("^1, 0-3", &m, &bad), 0);
	assert_true(kl_cpumap_test(&m, 0));
	assert_false(kl_cpumap_test(&m, 1));
	assert_true(kl_cpumap_test(&m, 3));
	assert_int_equal(kl_cpumap_parse("0-3,x", &m, &bad), -EINVAL);
	assert_int_equal(bad, 4);
	assert_int_equal(kl_cpumap_parse("3-1", &m, &bad), -EINVAL);
	assert_int_equal(kl_cpumap_parse("1024", &m, &bad), -EINVAL);
	assert_int_equal(kl_cpumap_parse("", &m, &bad), -EINVAL);
	assert_int_equal(kl_cpumap_parse("0,", &m, &bad), -EINVAL);
	assert_int_equal(kl_cpumap_parse("1023", &m, &bad), 0);
	assert_true(kl_cpumap_test(&m, 1023));

	expect_error(
	    BASE "cpus = \"0-2,^0-2\"\n",
	    "vm.cfg:3:9: error: cpus: bad CPU list '0-2,^0-2': want "
	    "\"all\", \"N\", \"N-M\", \"^N\" items below 1024 selecting "
	    "at least one CPU");
	expect_error(
	    BASE "cpus = \"0-3;5\"\n",
	    "vm.cfg:3:12: error: cpus: bad CPU list '0-3;5': want "
	    "\"all\", \"N\", \"N-M\", \"^N\" items below 1024 selecting "
	    "at least one CPU");
	expect_error(BASE "cpus = \"nodes:0\"\n",
		     "vm.cfg:3:9: error: cpus: NUMA node affinity (nodes:) is "
		     "not supported");
	expect_error(BASE "vcpus = 1\ncpus = [ \"0\", \"1\" ]\n",
		     "vm.cfg:4:15: error: cpus: 2 CPU lists for 1 vCPUs");
}

static void test_disks(void **state)
{
	const struct kl_domain_config *c = &res.cfg;

	(void)state;
	/* The equivalent spellings of xl-disk-configuration(5). */
	static const char *const same[] = {
	    "disk = [ '/dev/vg/guest-volume,,hda' ]\n",
	    "disk = [ '/dev/vg/guest-volume,raw,hda,rw' ]\n",
	    "disk = [ 'format=raw, vdev=hda, access=rw, "
	    "target=/dev/vg/guest-volume' ]\n",
	    "disk = [ 'raw:/dev/vg/guest-volume,hda,w' ]\n",
	    "disk = [ 'phy:/dev/vg/guest-volume,hda,w' ]\n",
	    "disk = [ 'vdev=hda, /dev/vg/guest-volume' ]\n",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), BASE "%s", same[i]);
		expect_ok(text);
		assert_int_equal(c->nr_disks, 1);
		assert_string_equal(c->disks[0].target, "/dev/vg/guest-volume");
		assert_string_equal(c->disks[0].vdev, "hda");
		assert_int_equal(c->disks[0].index, 0);
		assert_int_equal(c->disks[0].format, KL_DISK_RAW);
		assert_false(c->disks[0].readonly);
	}
	/* target= takes the rest, commas and all. */
	expect_ok(BASE
		  "disk = [ 'vdev=xvdaa, access=ro, target=/a,b c.img' ]\n");
	assert_string_equal(c->disks[0].target, "/a,b c.img");
	assert_int_equal(c->disks[0].index, 26);
	assert_true(c->disks[0].readonly);
	expect_ok(BASE "disk = [ 'qcow2:/q.qcow2,sdb,r' ]\n");
	assert_int_equal(c->disks[0].format, KL_DISK_QCOW2);
	assert_int_equal(c->disks[0].index, 1);

	expect_error(BASE "disk = [ '/a.img,raw,xvda1' ]\n",
		     "vm.cfg:3:22: error: disk: bad vdev 'xvda1': want xvdX, "
		     "sdX or hdX (a whole disk)");
	expect_error(
	    BASE "disk = [ '/a.img,vmdk,xvda' ]\n",
	    "vm.cfg:3:18: error: disk: unknown disk format 'vmdk' (raw "
	    "or qcow2)");
	expect_error(BASE "disk = [ '/a.img,vhd,xvda' ]\n",
		     "vm.cfg:3:18: error: disk: disk format 'vhd' is not "
		     "supported (raw or qcow2)");
	expect_error(BASE "disk = [ '/a.iso,,hdc,cdrom' ]\n",
		     "vm.cfg:3:23: error: disk: CD-ROM disks are not supported "
		     "(virtio-blk has no removable media)");
	expect_error(BASE "disk = [ 'raw:/a.iso,hdc:cdrom,ro' ]\n",
		     "vm.cfg:3:22: error: disk: CD-ROM disks are not supported "
		     "(virtio-blk has no removable media)");
	expect_error(
	    BASE "disk = [ '/a.img,,xvda,rw,extra' ]\n",
	    "vm.cfg:3:27: error: disk: too many positional parameters");
	expect_error(
	    BASE "disk = [ '/a.img,,xvda,x' ]\n",
	    "vm.cfg:3:24: error: disk: bad access 'x': want ro, r, rw or w");
	expect_error(
	    BASE "disk = [ 'script=block, vdev=xvda, target=/a' ]\n",
	    "vm.cfg:3:11: error: disk: unknown disk parameter 'script'");
	expect_error(BASE "disk = [ 'vdev=xvda, vdev=xvdb, target=/a' ]\n",
		     "vm.cfg:3:27: error: disk: vdev is given twice");
	expect_error(BASE "disk = [ 'format=raw, target=/a' ]\n",
		     "vm.cfg:3:10: error: disk: no vdev (e.g. vdev=xvda)");
	expect_error(
	    BASE "disk = [ 'vdev=xvda' ]\n",
	    "vm.cfg:3:10: error: disk: no target (file or block device)");
	expect_error(
	    BASE "disk = [ '/a,,xvda', '/b,,sda' ]\n",
	    "vm.cfg:3:22: error: disk: vdev sda is the same disk as xvda");
	expect_error(BASE "disk = '/a,,xvda'\n",
		     "vm.cfg:3:8: error: disk: expected a list of strings: "
		     "disk = [ '...' ]");
	expect_error(BASE "disk = [ 5 ]\n",
		     "vm.cfg:3:10: error: disk: expected a quoted string");
}

static void test_vifs(void **state)
{
	const struct kl_domain_config *c = &res.cfg;

	(void)state;
	expect_ok(BASE "vif = [ '', 'mac=00:16:3E:aa:bb:cc,vifname=kl-web0,"
		       "mtu=9000,type=vif', 'bridge=br2, ip=10.0.0.2' ]\n");
	assert_int_equal(c->nr_vifs, 3);
	assert_false(c->vifs[0].has_mac);
	assert_string_equal(c->vifs[0].bridge, "br0");
	assert_int_equal(c->vifs[1].mac[3], 0xaa);
	assert_int_equal(c->vifs[1].mac[5], 0xcc);
	assert_string_equal(c->vifs[1].vifname, "kl-web0");
	assert_int_equal(c->vifs[1].mtu, 9000);
	assert_string_equal(c->vifs[2].bridge, "br2");
	assert_int_equal(count_warnings(), 1);
	assert_string_equal(res.diags[0].text,
			    "vm.cfg:3:85: warning: vif: 'ip' only applies to "
			    "Xen's netback; ignored");

	expect_error(
	    BASE "vif = [ 'mac=01:16:3e:00:00:01' ]\n",
	    "vm.cfg:3:14: error: vif: bad mac '01:16:3e:00:00:01': want "
	    "six hex pairs like 00:16:3e:00:00:01, unicast");
	expect_error(BASE "vif = [ 'mac=00:16:3e:00:00' ]\n",
		     "vm.cfg:3:14: error: vif: bad mac '00:16:3e:00:00': want "
		     "six hex pairs like 00:16:3e:00:00:01, unicast");
	expect_error(BASE "vif = [ 'model=e1000' ]\n",
		     "vm.cfg:3:16: error: vif: model 'e1000' is not supported: "
		     "Keel's network devices are virtio-net");
	expect_error(BASE "vif = [ 'colour=blue' ]\n",
		     "vm.cfg:3:10: error: vif: unknown vif parameter 'colour'");
	expect_error(BASE "vif = [ 'bridge' ]\n",
		     "vm.cfg:3:10: error: vif: 'bridge' is not KEY=VALUE");
	expect_error(BASE "vif = [ 'vifname=a-very-long-tap-name' ]\n",
		     "vm.cfg:3:18: error: vif: bad vifname "
		     "'a-very-long-tap-name': at most 15 characters, no '/', "
		     "':' or ' '");
	expect_error(BASE "vif = [ 'mtu=20' ]\n",
		     "vm.cfg:3:14: error: vif: bad mtu '20': want 68 to 65535");
	expect_error(BASE "vif = [ 'mac=00:16:3e:00:00:01', "
			  "'mac=00:16:3e:00:00:01' ]\n",
		     "vm.cfg:3:34: error: vif: mac repeats vif 0's");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/kl-xlcfg-XXXXXX";
	const char text[] = BASE "memory = 128\nbogus = 1\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)sizeof(text) - 1);
	close(fd);
	kl_cfg_result_free(&res);
	assert_int_equal(kl_cfg_load(path, NULL, 0, &res), 0);
	assert_int_equal(res.cfg.memory_mib, 128);
	assert_int_equal(res.nr_diags, 1);
	assert_string_equal(res.diags[0].file, path);
	assert_int_equal(res.diags[0].line, 4);
	unlink(path);

	kl_cfg_result_free(&res);
	assert_int_equal(kl_cfg_load(path, NULL, 0, &res), -ENOENT);
	assert_non_null(kl_cfg_error(&res));
	assert_non_null(
	    strstr(kl_cfg_error(&res)->text,
		   "error: cannot read: No such file or directory"));
	kl_cfg_result_free(&res);
	assert_int_equal(kl_cfg_load("/tmp", NULL, 0, &res), -EINVAL);
	assert_string_equal(kl_cfg_error(&res)->text,
			    "/tmp:0: error: cannot read: not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_full_config, teardown),
	    cmocka_unit_test_teardown(test_defaults, teardown),
	    cmocka_unit_test_teardown(test_cmdline_composition, teardown),
	    cmocka_unit_test_teardown(test_syntax_forms, teardown),
	    cmocka_unit_test_teardown(test_syntax_errors, teardown),
	    cmocka_unit_test_teardown(test_value_errors, teardown),
	    cmocka_unit_test_teardown(test_unknown_keys_warn, teardown),
	    cmocka_unit_test_teardown(test_overrides, teardown),
	    cmocka_unit_test_teardown(test_cpus, teardown),
	    cmocka_unit_test_teardown(test_disks, teardown),
	    cmocka_unit_test_teardown(test_vifs, teardown),
	    cmocka_unit_test_teardown(test_load_file, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
