// SPDX-License-Identifier: GPL-2.0
/*
 * The PC conformance kernel (userspace/guests/conform.c): a Multiboot
 * kernel that checks the platform a PC kernel expects and reports TAP on
 * COM1.  It runs once, with two vCPUs and no platform option (a Multiboot
 * kernel gets the PC platform by default), before the tests start: each
 * TEST is a forked child, and a run takes seconds in Bochs.  Each TEST
 * then reads one part's lines, so a failure names the part.
 *
 * Then, where KVM nested in the test machine is reliable (bochs-vmx, as
 * linux_boot_test says), the same image through the same runner on KVM:
 * every result line must be the same, but for the differences the table
 * below explains (also in Documentation/platform.rst).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

#define OUT_LEN		16384
#define GUEST		"conform.elf"

static const char *const conform_args[] = { "-t", "60", "--cpus", "2", NULL };

/*
 * Lines allowed to differ between minihv and KVM, by the start of the
 * check's name, and why.  Documentation/platform.rst lists the same.
 */
static const struct {
	const char *name;
	const char *why;
} explained[] = {
	{ NULL, NULL },
};

static bool on_qemu_svm(void)
{
	return !machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM;
}

static bool on_bochs_svm(void)
{
	return machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM;
}

/*
 * Checks that fail on one test machine because of its emulator, not
 * minihv (each in Documentation/testing.rst's list of emulator defects):
 * the TEST of that check is skipped there, saying why, and the kernel's
 * exit status counts the failures.  Each such check is a part of its own,
 * so that no other line is hidden with it.
 */
static const struct {
	const char *name;
	bool (*on_machine)(void);
	const char *why;
} emulator_defects[] = {
	{ "int1:", on_qemu_svm,
	  "QEMU 7.2's TCG raises #UD for ICEBP (INT1), even where SVM intercepts it" },
	{ "intn:", on_bochs_svm,
	  "Bochs 2.7's AMD-V puts the last external interrupt in EXITINTINFO, not the INT n" },
	{ "shadow:", on_bochs_svm,
	  "Bochs 2.7's AMD-V takes no V_IRQ when an interrupt shadow VMRUN loaded ends" },
	{ NULL, NULL, NULL },
};

static const char *defect_here(const char *name)
{
	size_t i;

	for (i = 0; emulator_defects[i].name; i++)
		if (!strncmp(name, emulator_defects[i].name, strlen(emulator_defects[i].name)) &&
		    emulator_defects[i].on_machine())
			return emulator_defects[i].why;
	return NULL;
}

struct conform_run {
	int status;
	char out[OUT_LEN];
};

static struct conform_run on_minihv;

/* The run on minihv, in the harness's process, before any TEST forks. */
static void __attribute__((constructor)) run_on_minihv(void)
{
	if (!module_is_loaded("minihv"))
		module_load(minihv_ko_path(), NULL);
	on_minihv.status = run_runner(GUEST, conform_args, on_minihv.out,
				      sizeof(on_minihv.out), false);
}

/* The next TAP result line of @out from *@pos ("ok N - ..." or "not ok ..."). */
static bool next_result(const char *out, size_t *pos, char *line, size_t len)
{
	const char *p, *end;
	size_t n;

	while (out[*pos]) {
		p = out + *pos;
		end = strchr(p, '\n');
		n = end ? (size_t)(end - p) : strlen(p);
		*pos += n + (end != NULL);
		if (strncmp(p, "ok ", 3) && strncmp(p, "not ok ", 7))
			continue;
		if (n >= len)
			n = len - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		return true;
	}
	return false;
}

/* The check's name in a result line: after " - ", up to " # ". */
static const char *result_name(const char *line, char *buf, size_t len)
{
	const char *p = strstr(line, " - "), *end;
	size_t n;

	if (!p)
		return "";
	p += 3;
	end = strstr(p, " # ");
	n = end ? (size_t)(end - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* The kernel ran: skip where guests cannot run, fail when it is missing. */
static bool ran(struct __test_metadata *_metadata)
{
	if (access(MINIHV_DEV, R_OK | W_OK))
		SKIP(return false, "minihv.ko is not loaded");
	EXPECT_NE(-ENOENT, on_minihv.status) TH_LOG("minihv-run or %s is not installed", GUEST);
	return on_minihv.status != -ENOENT;
}

/* Every line of part @prefix is "ok", and there are @want of them. */
static void check_part(struct __test_metadata *_metadata, const char *prefix, int want)
{
	char line[512], name[256];
	size_t pos = 0;
	int n = 0;

	const char *why = defect_here(prefix);

	if (!ran(_metadata))
		return;
	while (next_result(on_minihv.out, &pos, line, sizeof(line))) {
		if (strncmp(result_name(line, name, sizeof(name)), prefix, strlen(prefix)))
			continue;
		n++;
		if (why)
			printf("# %s\n", line);
		else
			EXPECT_EQ(0, strncmp(line, "ok ", 3)) TH_LOG("%s", line);
	}
	EXPECT_EQ(want, n) TH_LOG("%d lines for '%s', %d expected; exit status %d, output:\n%s",
				  n, prefix, want, on_minihv.status, on_minihv.out);
	fflush(stdout);
	if (why && _metadata->passed)
		SKIP(return, "an emulator defect on this machine: %s", why);
}

TEST(multiboot_handover) { check_part(_metadata, "multiboot:", 1); }
TEST(fw_cfg_against_multiboot_and_madt) { check_part(_metadata, "fw_cfg:", 5); }
TEST(acpi_tables) { check_part(_metadata, "acpi:", 2); }
TEST(real_mode_pit_irq0_8259) { check_part(_metadata, "real mode:", 6); }
TEST(smp_init_sipi_and_ipis) { check_part(_metadata, "smp:", 4); }
TEST(pm_timer_against_pit) { check_part(_metadata, "pm timer:", 2); }
TEST(model_msrs) { check_part(_metadata, "msr:", 1); }
TEST(cpuid_against_cr4_xcr0_efer) { check_part(_metadata, "cpuid:", 9); }
TEST(events_order_and_redelivery) { check_part(_metadata, "events:", 6); }
TEST(shadow_over_nested_fault) { check_part(_metadata, "shadow:", 1); }
TEST(intn_redelivery) { check_part(_metadata, "intn:", 1); }
TEST(int1_redelivery) { check_part(_metadata, "int1:", 1); }

/* The whole stream: the header, the plan kept, no bail-out, status 0. */
TEST(tap_plan_and_power_off)
{
	char line[512], name[256];
	size_t pos = 0;
	int plan = -1, n = 0, known = 0;

	if (!ran(_metadata))
		return;
	ASSERT_EQ(0, strncmp(on_minihv.out, "TAP version 13\n", 15))
		TH_LOG("output:\n%s", on_minihv.out);
	ASSERT_EQ(1, sscanf(on_minihv.out + 15, "1..%d", &plan))
		TH_LOG("no plan line:\n%s", on_minihv.out);
	while (next_result(on_minihv.out, &pos, line, sizeof(line))) {
		n++;
		known += !strncmp(line, "not ok ", 7) &&
			 defect_here(result_name(line, name, sizeof(name)));
	}
	EXPECT_EQ(plan, n) TH_LOG("output:\n%s", on_minihv.out);
	EXPECT_EQ(NULL, strstr(on_minihv.out, "Bail out!")) TH_LOG("output:\n%s", on_minihv.out);
	/*
	 * Powered off through ACPI when all passed; else 2 * failures + 1,
	 * where only the emulator's known defects may fail.
	 */
	EXPECT_EQ(known ? 2 * known + 1 : 0, on_minihv.status)
		TH_LOG("output:\n%s", on_minihv.out);
}

static const char *why_explained(const char *name)
{
	size_t i;

	for (i = 0; explained[i].name; i++)
		if (!strncmp(name, explained[i].name, strlen(explained[i].name)))
			return explained[i].why;
	return NULL;
}

/* Loading KVM's modules takes most of a minute on an emulated machine. */
FIXTURE(kvm) {};
FIXTURE_SETUP(kvm) {}
FIXTURE_TEARDOWN(kvm) {}

TEST_F_TIMEOUT(kvm, same_results_on_kvm, 480)
{
	static struct conform_run on_kvm;
	char a[512], b[512], name[256];
	size_t pa = 0, pb = 0;
	const char *why;
	int vendor, back;
	bool more_a, more_b;

	if (!ran(_metadata))
		return;
	if (!machine_is_bochs() || expected_vendor() != MINIHV_VENDOR_VMX)
		SKIP(return, "KVM is compared on bochs-vmx only (%s)",
			 "where nested KVM is reliable; in QEMU TCG it hangs at times");
	ASSERT_EQ(0, module_unload("minihv"));
	vendor = kvm_load_core();
	if (!vendor)
		vendor = kvm_load_vendor();
	if (!vendor) {
		static const char *const kvm_args[] = {
			"-d", "/dev/kvm", "-t", "60", "--cpus", "2", NULL
		};

		on_kvm.status = run_runner(GUEST, kvm_args, on_kvm.out, sizeof(on_kvm.out), false);
	}
	kvm_unload();
	back = module_load(minihv_ko_path(), NULL);
	ASSERT_EQ(0, back) TH_LOG("minihv.ko did not load again: %s", strerror(-back));
	if (vendor == -ENOENT)
		SKIP(return, "KVM modules not found in %s", kvm_module_dir());
	ASSERT_EQ(0, vendor) TH_LOG("loading KVM: %s", strerror(-vendor));

	printf("# on KVM (exit status %d):\n", on_kvm.status);
	for (;;) {
		more_a = next_result(on_minihv.out, &pa, a, sizeof(a));
		more_b = next_result(on_kvm.out, &pb, b, sizeof(b));
		if (!more_a && !more_b)
			break;
		if (!more_a)
			a[0] = '\0';
		if (!more_b)
			b[0] = '\0';
		printf("#   %s\n", b);
		if (!strcmp(a, b))
			continue;
		why = why_explained(result_name(more_a ? a : b, name, sizeof(name)));
		if (why) {
			printf("# explained difference (%s):\n#   minihv: %s\n#   KVM:    %s\n",
			       why, a, b);
			continue;
		}
		EXPECT_STREQ(a, b) TH_LOG("differs:\n  minihv: %s\n  KVM:    %s", a, b);
	}
	fflush(stdout);
}

TEST_HARNESS_MAIN
