// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/minihv itself: it exists with the right owner and mode, answers the
 * system ioctls, and refuses what it does not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

static int open_dev(struct __test_metadata *_metadata)
{
	int fd = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		SKIP(return -1, "%s missing: is minihv.ko loaded?", MINIHV_DEV);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", MINIHV_DEV, strerror(errno));
	return fd;
}

TEST(device_node_is_root_only)
{
	struct stat st;

	ASSERT_EQ(0, stat(MINIHV_DEV, &st)) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0600, st.st_mode & 07777);
}

TEST(device_opens)
{
	int fd = open_dev(_metadata);

	if (fd < 0)
		return;
	EXPECT_EQ(0, close(fd));
}

TEST(api_version)
{
	int fd = open_dev(_metadata);

	if (fd < 0)
		return;
	EXPECT_EQ(MINIHV_API_VERSION, ioctl(fd, MINIHV_GET_API_VERSION, 0));
	/* The argument is reserved, as in KVM_GET_API_VERSION. */
	EXPECT_EQ(-1, ioctl(fd, MINIHV_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(check_extension_unknown_is_zero)
{
	static const unsigned long unknown[] = {
		0, 0x7fff, 0xdeadbeef, ~0UL,
	};
	int fd = open_dev(_metadata);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		EXPECT_EQ(0, ioctl(fd, MINIHV_CHECK_EXTENSION, unknown[i]))
			TH_LOG("capability %#lx", unknown[i]);
	close(fd);
}

TEST(check_extension_reports_vendor)
{
	unsigned int want = expected_vendor();
	int fd = open_dev(_metadata);

	if (fd < 0)
		return;
	ASSERT_NE(0, want) TH_LOG("this CPU has neither VMX nor SVM");
	EXPECT_EQ(want, ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR));
	close(fd);
}

/*
 * MINIHV_GET_FEATURES: the vendor's own features only, what minihv
 * requires among them (EPT and unrestricted guest, or NPT), nothing used
 * that the CPU lacks; and minihv-run --probe prints the same.
 */
TEST(features_reported)
{
	unsigned int want = expected_vendor();
	struct minihv_features f;
	uint64_t required, other_vendor;
	const char *const args[] = { "--probe", NULL };
	char out[2048];
	int fd = open_dev(_metadata), r;

	if (fd < 0)
		return;
	ASSERT_EQ(0, ioctl(fd, MINIHV_GET_FEATURES, &f));
	EXPECT_EQ(want, f.vendor);
	if (want == MINIHV_VENDOR_VMX) {
		required = (1ULL << MINIHV_FEATURE_EPT) | (1ULL << MINIHV_FEATURE_UNRESTRICTED_GUEST);
		/* Bits 16-31; from 32 on, the mitigations (mitigations_test). */
		other_vendor = 0xffffULL << MINIHV_FEATURE_NPT;
	} else {
		required = 1ULL << MINIHV_FEATURE_NPT;
		other_vendor = (1ULL << MINIHV_FEATURE_NPT) - 1;
	}
	EXPECT_EQ(required, f.used & required);
	EXPECT_EQ(0, f.host & other_vendor);
	EXPECT_EQ(f.used, f.used & f.host) TH_LOG("minihv uses what the CPU lacks");
	EXPECT_EQ(-1, ioctl(fd, MINIHV_GET_FEATURES, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	close(fd);

	r = run_runner(NULL, args, out, sizeof(out), true);
	ASSERT_NE(-ENOENT, r) TH_LOG("minihv-run is not installed");
	EXPECT_EQ(0, r) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, want == MINIHV_VENDOR_VMX ? "EPT " : "NPT "));
	EXPECT_NE(NULL, strstr(out, want == MINIHV_VENDOR_VMX ? "Intel VT-x" : "AMD-V"));
	EXPECT_NE(NULL, strstr(out, "uses")) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "IBPB on VM switch")) TH_LOG("output: %s", out);
}

TEST(unknown_ioctl_is_enotty)
{
	static const unsigned long unknown[] = {
		_IO(MINIHVIO, 0x7f),		/* our type, unused number */
		_IOR(MINIHVIO, 0x20, int),	/* a known number, wrong shape */
		_IO(0xAE, 0x00),		/* KVM_GET_API_VERSION */
		_IO('x', 1),
		0,
	};
	int fd = open_dev(_metadata);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		EXPECT_EQ(-1, ioctl(fd, unknown[i], 0))
			TH_LOG("ioctl %#lx", unknown[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("ioctl %#lx", unknown[i]);
	}
	close(fd);
}

TEST(non_root_open_refused)
{
	int status, fd;
	pid_t pid;

	fd = open_dev(_metadata);
	if (fd < 0)
		return;
	close(fd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* nobody:nogroup, with no supplementary groups. */
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		fd = open(MINIHV_DEV, O_RDWR);
		if (fd >= 0)
			_exit(11);
		_exit(errno == EACCES ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: could not drop privileges, 11: open succeeded, 12: wrong errno");
}

TEST_HARNESS_MAIN
