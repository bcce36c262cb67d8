// SPDX-License-Identifier: GPL-2.0
/*
 * The speculation mitigations around the world switch (module/spec.c):
 * each selected exactly as the host kernel reports it applies the same
 * mitigation to itself (/sys/devices/system/cpu/vulnerabilities/), and
 * the ones minihv runs in C run when selected and never otherwise.
 *
 * What this can and cannot show: the test machines are emulators, whose
 * CPUs are not vulnerable (or report no microcode for the barrier): no
 * barrier here stops a real attack.  The test checks the selection logic
 * and that each selected path runs; the sequences themselves are the
 * kernel's (IBPB, VERW, the RSB fill, the untraining, the BHB loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define VULN_DIR	"/sys/devices/system/cpu/vulnerabilities/"
#define MITIGATIONS	"/sys/kernel/debug/minihv/mitigations"

/* The host kernel's line for @name, "" when the file is not there. */
static const char *vuln(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), VULN_DIR "%s", name);
	buf[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return buf;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static bool has(const char *name, const char *text)
{
	char buf[512];

	return strstr(vuln(name, buf, sizeof(buf)), text);
}

/* A mitigation's state: @host, @used, as MINIHV_GET_FEATURES says. */
static void features(struct __test_metadata *_metadata, struct minihv_features *f)
{
	int fd = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		SKIP(return, "%s: %s", MINIHV_DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(fd, MINIHV_GET_FEATURES, f));
	close(fd);
}

#define BIT_OF(f, mask, bit)	(!!((f)->mask & (1ULL << (bit))))

TEST(selected_as_the_host_reports)
{
	struct minihv_features f = {};
	bool vmx;

	features(_metadata, &f);
	vmx = f.vendor == MINIHV_VENDOR_VMX;
	TH_LOG("mitigations (bit 0: IBPB on switch): host %#llx, minihv %#llx",
	       (unsigned long long)f.host >> 32, (unsigned long long)f.used >> 32);
	for (const char *const *n = (const char *const[]){ "spectre_v2", "retbleed",
		"spec_rstack_overflow", "mds", "tsx_async_abort", "mmio_stale_data",
		"l1tf", "tsa", "vmscape", NULL }; *n; n++) {
		char buf[512];

		TH_LOG("%s: %s", *n, vuln(*n, buf, sizeof(buf)));
	}

	/* IBPB between VMs: the host's own IBPB between processes is on. */
	EXPECT_EQ(has("spectre_v2", "IBPB: conditional") || has("spectre_v2", "IBPB: always-on"),
		  BIT_OF(&f, host, MINIHV_FEATURE_MIT_IBPB_SWITCH));
	/*
	 * The RSB fill after exit has no line of its own (spectre_v2's "RSB
	 * filling" is the context-switch fill; retbleed and SRSO choices set
	 * the VM-exit one too): it is the kernel's flag, read as is.
	 */
	/* VERW for guests: only where some buffer-sampling bug is there. */
	if (has("mds", "Not affected") && has("tsx_async_abort", "Not affected") &&
	    has("mmio_stale_data", "Not affected") && !has("tsa", "Mitigation"))
		EXPECT_EQ(0, BIT_OF(&f, host, MINIHV_FEATURE_MIT_VERW));
	/*
	 * "Vulnerable: Clear CPU buffers attempted, no microcode" (Bochs'
	 * Haswell) is not a mitigation for guests: without MD_CLEAR, VERW
	 * clears nothing, and the kernel leaves the VM flag off.
	 */
	if (has("mds", "Mitigation: Clear CPU buffers") ||
	    has("tsx_async_abort", "Mitigation: Clear CPU buffers"))
		EXPECT_EQ(1, BIT_OF(&f, host, MINIHV_FEATURE_MIT_VERW));
	/* L1TF: never flushed where the CPU is not affected. */
	if (!vmx || has("l1tf", "Not affected") || has("l1tf", "VMX: flush not necessary"))
		EXPECT_EQ(0, BIT_OF(&f, host, MINIHV_FEATURE_MIT_L1D_FLUSH));
	/* Return untraining: AMD-V, where retbleed or SRSO is mitigated so. */
	if (vmx || (has("retbleed", "Not affected") &&
		    !has("spec_rstack_overflow", "Mitigation")))
		EXPECT_EQ(0, BIT_OF(&f, host, MINIHV_FEATURE_MIT_UNTRAIN_RET));
	if (!vmx && (has("retbleed", "untrained return thunk") ||
		     has("spec_rstack_overflow", "Safe RET")))
		EXPECT_EQ(1, BIT_OF(&f, host, MINIHV_FEATURE_MIT_UNTRAIN_RET));
	/* BHI: the kernel clears branch history at VM exit for KVM too. */
	if (vmx)
		EXPECT_EQ(has("spectre_v2", "KVM: SW loop"),
			  BIT_OF(&f, host, MINIHV_FEATURE_MIT_BHB_CLEAR));
	/* VMSCAPE: an IBPB before the VMM's user mode runs again. */
	EXPECT_EQ(has("vmscape", "IBPB before exit to userspace"),
		  BIT_OF(&f, host, MINIHV_FEATURE_MIT_IBPB_EXIT_TO_USER));

	/* minihv applies whatever the host applies (L1D: where it can). */
	EXPECT_EQ(f.host >> 32, f.used >> 32) {
		TH_LOG("host %#llx, minihv %#llx", (unsigned long long)f.host >> 32,
		       (unsigned long long)f.used >> 32);
	}
}

/* The two counters of the C paths: IBPBs on VM switch, L1D flushes. */
static void counts(struct __test_metadata *_metadata, int *sel, long *n)
{
	FILE *f = fopen(MITIGATIONS, "re");
	char name[32];
	int i;

	ASSERT_NE(NULL, f) TH_LOG("%s: %s (debugfs mounted?)", MITIGATIONS, strerror(errno));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(3, fscanf(f, "%31s %d %ld", name, &sel[i], &n[i]));
	fclose(f);
}

static void guest_sync_loop(void)
{
	for (;;)
		GUEST_SYNC(0);
}

/*
 * Two VMs' vCPUs in turn on one CPU: each turn is a switch, an IBPB when
 * selected; every entry flushes L1D when that is selected.  Neither runs
 * otherwise.
 */
TEST(c_paths_run_when_selected)
{
	struct minihv_features f = {};
	struct mh_vm *vm[2];
	struct mh_vcpu *vcpu[2];
	struct ucall uc;
	cpu_set_t one;
	int sel[2], i;
	long before[2], after[2];

	features(_metadata, &f);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	for (i = 0; i < 2; i++) {
		vm[i] = vm_create();
		vcpu[i] = vm_vcpu_add(vm[i], 0, guest_sync_loop);
	}
	counts(_metadata, sel, before);
	EXPECT_EQ(BIT_OF(&f, used, MINIHV_FEATURE_MIT_IBPB_SWITCH), sel[0]);
	EXPECT_EQ(BIT_OF(&f, used, MINIHV_FEATURE_MIT_L1D_FLUSH), sel[1]);
	for (i = 0; i < 20; i++) {
		vcpu_run(vcpu[i % 2]);
		ASSERT_EQ(UCALL_SYNC, get_ucall(vcpu[i % 2], &uc));
	}
	counts(_metadata, sel, after);
	TH_LOG("IBPB on switch: selected %d, %ld times; L1D flush: selected %d, %ld times",
	       sel[0], after[0] - before[0], sel[1], after[1] - before[1]);
	/* 20 runs alternating: 19 switches at least (other tests may add). */
	if (sel[0]) {
		EXPECT_LE(19, after[0] - before[0]);
	} else {
		EXPECT_EQ(0, after[0]);
	}
	if (sel[1]) {
		EXPECT_LE(20, after[1] - before[1]);
	} else {
		EXPECT_EQ(0, after[1]);
	}
	for (i = 0; i < 2; i++)
		vm_free(vm[i]);
}

TEST_HARNESS_MAIN
