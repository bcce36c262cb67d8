// SPDX-License-Identifier: GPL-2.0
/*
 * minihv and KVM never own VMX/SVM at the same time.  When KVM has turned
 * virtualization on, loading minihv fails with -EBUSY and names the likely
 * owner; when minihv holds it, KVM cannot turn it on; and each recovers
 * once the other lets go.
 *
 * The KVM modules come from the test machine's kernel package (the /init
 * of the test machine copies them to KVM_MODDIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

#define KVM_CREATE_VM	_IO(0xAE, 0x01)

/*
 * Loading KVM's modules takes most of a minute on an emulated two-CPU
 * machine, beyond the harness's 30 s default: these tests have their own
 * limit (a fixture is how kselftest_harness.h takes one).
 */
FIXTURE(kvm) {};
FIXTURE_SETUP(kvm) {}
FIXTURE_TEARDOWN(kvm) {}

TEST_F_TIMEOUT(kvm, minihv_busy_while_kvm_owns_hardware, 300)
{
	const char *kvm_name = kvm_vendor_module_name();
	struct kmsg_cursor log;
	int kvm_fd, vm_fd, r;
	char *text;

	if (module_is_loaded("minihv"))
		ASSERT_EQ(0, module_unload("minihv"));
	r = kvm_load_core();
	if (r == -ENOENT)
		SKIP(return, "KVM modules not found in %s", kvm_module_dir());
	ASSERT_EQ(0, r) TH_LOG("loading kvm.ko: %s", strerror(-r));
	r = kvm_load_vendor();
	ASSERT_EQ(0, r) TH_LOG("loading %s: %s", kvm_name, strerror(-r));

	/* Creating a VM makes KVM turn VMX/SVM on (at load on 6.12). */
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, kvm_fd);
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm_fd) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	ASSERT_EQ(0, kmsg_cursor_open(&log));
	EXPECT_EQ(-EBUSY, module_load(minihv_ko_path(), NULL));
	EXPECT_FALSE(module_is_loaded("minihv"));
	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "another hypervisor (likely"))
		TH_LOG("log: %s", text);
	EXPECT_NE(NULL, strstr(text, kvm_name)) TH_LOG("log: %s", text);
	free(text);
	kmsg_cursor_close(&log);

	close(vm_fd);
	close(kvm_fd);
	kvm_unload();
	ASSERT_FALSE(module_is_loaded(kvm_name));

	/* KVM let go: minihv loads again. */
	EXPECT_EQ(0, module_load(minihv_ko_path(), NULL));
}

TEST_F_TIMEOUT(kvm, kvm_refused_while_minihv_loaded, 300)
{
	int kvm_fd, vm_fd = -1, r, fd;
	struct kmsg_cursor log;
	char *text;

	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	r = kvm_load_core();
	if (r == -ENOENT)
		SKIP(return, "KVM modules not found in %s", kvm_module_dir());
	ASSERT_EQ(0, r);

	/*
	 * KVM turns virtualization on either at load (6.12's default
	 * enable_virt_at_load) or at the first KVM_CREATE_VM (6.1); whichever
	 * it is, it must find VMX/SVM taken, say so, and fail: 6.1 returns
	 * KVM's -EBUSY from KVM_CREATE_VM, 6.12's module load turns it into
	 * -EIO.
	 */
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	r = kvm_load_vendor();
	if (r == 0) {
		kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, kvm_fd);
		vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
		r = vm_fd < 0 ? -errno : 0;
		if (vm_fd >= 0)
			close(vm_fd);
		close(kvm_fd);
	}
	EXPECT_TRUE(r == -EBUSY || r == -EIO) TH_LOG("KVM got %d", r);
	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "kvm: enabling virtualization on CPU"))
		TH_LOG("log: %s", text);
	free(text);
	kmsg_cursor_close(&log);
	kvm_unload();

	/* minihv was not disturbed. */
	fd = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(MINIHV_API_VERSION, ioctl(fd, MINIHV_GET_API_VERSION, 0));
	close(fd);
}

TEST_HARNESS_MAIN
