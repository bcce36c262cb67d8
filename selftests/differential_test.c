// SPDX-License-Identifier: GPL-2.0
/*
 * One runner, two hypervisors: every sample guest goes through minihv-run
 * on /dev/minihv, then on /dev/kvm (KVM's own modules, loaded while
 * minihv is out: the two never own VT-x/AMD-V at once), and must print the
 * same and end with the same exit status.  A difference is a bug in one
 * of them; minihv is the usual suspect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

#define MAX_ARGS	8
#define OUT_LEN		2048

static const struct sample {
	const char *guest;
	const char *args[MAX_ARGS];
	bool any_order;		/* lines from several vCPUs */
	const char *timeout;	/* seconds; NULL: 20 */
} samples[] = {
	{ "hello.bin", { NULL } },
	{ "protected.bin", { "-m", "protected", NULL } },
	{ "protected.elf", { NULL } },
	{ "long.bin", { "-m", "long", NULL } },
	{ "hello64.elf", { NULL } },
	{ "pm16.bin", { "-m", "protected", NULL } },
	{ "devices.bin", { "-m", "protected", NULL } },
	{ "realmmio.bin", { "-M", "1M", NULL } },
	{ "smp.bin", { "-m", "protected", "-c", "4", NULL }, true },
	{ "spin.bin", { NULL }, false, "1" },	/* stopped by the timeout */
};
#define NR_SAMPLES	(sizeof(samples) / sizeof(samples[0]))

struct result {
	int status;
	char out[OUT_LEN];
};

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of @out in place (the order vCPUs print in is free). */
static void sort_lines(char *out)
{
	char *lines[64], copy[OUT_LEN], *save, *l;
	size_t n = 0, i;

	strcpy(copy, out);
	for (l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
}

/* Every sample through minihv-run with @device. */
static void run_samples(const char *device, struct result *res)
{
	const char *argv[MAX_ARGS + 5];
	size_t i, n;

	for (i = 0; i < NR_SAMPLES; i++) {
		n = 0;
		argv[n++] = "-t";
		argv[n++] = samples[i].timeout ? samples[i].timeout : "20";
		argv[n++] = "-d";
		argv[n++] = device;
		while (samples[i].args[n - 4] && n < MAX_ARGS + 4) {
			argv[n] = samples[i].args[n - 4];
			n++;
		}
		argv[n] = NULL;
		res[i].status = run_runner(samples[i].guest, argv, res[i].out,
					   sizeof(res[i].out), false);
		if (samples[i].any_order)
			sort_lines(res[i].out);
	}
}

/*
 * KVM nested in QEMU's TCG stops making progress at times (the whole test
 * machine goes silent: seen in make check and make bench on 6.1), so on
 * QEMU machines this test would make make check fail at random.  The two
 * Bochs machines, AMD-V and VT-x, run it.
 */
static bool qemu_machine(void)
{
	char vendor[64] = "";
	FILE *f = fopen("/sys/class/dmi/id/sys_vendor", "re");

	if (f) {
		if (!fgets(vendor, sizeof(vendor), f))
			vendor[0] = '\0';
		fclose(f);
	}
	return strstr(vendor, "QEMU");
}

/* Loading KVM's modules takes most of a minute on an emulated machine. */
FIXTURE(kvm) {};
FIXTURE_SETUP(kvm) {}
FIXTURE_TEARDOWN(kvm) {}

TEST_F_TIMEOUT(kvm, sample_guests_same_on_minihv_and_kvm, 600)
{
	static struct result on_minihv[NR_SAMPLES], on_kvm[NR_SAMPLES];
	int core, vendor, back;
	size_t i;

	if (qemu_machine())
		SKIP(return, "KVM nested in QEMU TCG hangs the machine at times; the Bochs machines run this");
	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	run_samples(MINIHV_DEV, on_minihv);

	ASSERT_EQ(0, module_unload("minihv"));
	core = kvm_load_core();
	vendor = core ? core : kvm_load_vendor();
	if (!vendor)
		run_samples("/dev/kvm", on_kvm);
	kvm_unload();
	back = module_load(minihv_ko_path(), NULL);

	ASSERT_EQ(0, back) TH_LOG("minihv.ko did not load again: %s", strerror(-back));
	if (vendor == -ENOENT)
		SKIP(return, "KVM modules not found in %s", kvm_module_dir());
	ASSERT_EQ(0, vendor) TH_LOG("loading KVM: %s", strerror(-vendor));

	for (i = 0; i < NR_SAMPLES; i++) {
		EXPECT_NE(-ENOENT, on_minihv[i].status)
			TH_LOG("%s or minihv-run is not installed", samples[i].guest);
		EXPECT_EQ(on_kvm[i].status, on_minihv[i].status)
			TH_LOG("%s: exit status, KVM %d, minihv %d", samples[i].guest,
			       on_kvm[i].status, on_minihv[i].status);
		EXPECT_STREQ(on_kvm[i].out, on_minihv[i].out)
			TH_LOG("%s: output differs", samples[i].guest);
	}
}

TEST_HARNESS_MAIN
