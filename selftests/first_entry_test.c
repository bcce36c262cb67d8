// SPDX-License-Identifier: GPL-2.0
/*
 * A whole virtual machine monitor in one test, on the raw ioctls and no
 * helper: device, VM, memory, vCPU, its run structure, its registers, and
 * the run loop.  The guest is four real-mode instructions at 0x1000:
 *
 *	mov al, 0x42
 *	out 0x80, al
 *	hlt
 *
 * and the VMM must see the OUT (port 0x80, one byte, 0x42), then the HLT.
 *
 * Lab 1 of Documentation/labs starts from this file with the VMM's setup
 * (between the LAB 1 markers) taken out: the student writes it from
 * Documentation/api.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define GUEST_MEM_SIZE	0x10000		/* 64 KiB from guest-physical 0 */
#define GUEST_CODE	0x1000

static const unsigned char guest_code[] = {
	0xb0, 0x42,		/* mov al, 0x42 */
	0xe6, 0x80,		/* out 0x80, al */
	0xf4,			/* hlt */
};

TEST(first_entry)
{
	int dev = -1, vm = -1, vcpu = -1;
	struct minihv_run *run = MAP_FAILED;
	struct minihv_regs after;
	void *mem = MAP_FAILED;
	long run_size = 0;
	uint8_t *data;

	if (access("/dev/minihv", F_OK))
		SKIP(return, "no /dev/minihv");

	/* LAB 1 BEGIN: open the device, make a VM with memory and a vCPU, set it up */
	struct minihv_userspace_memory_region region;
	struct minihv_sregs sregs;
	struct minihv_regs regs;

	/* The system fd; each VM is an fd of its own, each vCPU too. */
	dev = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("open /dev/minihv: %s", strerror(errno));
	vm = ioctl(dev, MINIHV_CREATE_VM, 0);
	ASSERT_LE(0, vm) TH_LOG("MINIHV_CREATE_VM: %s", strerror(errno));

	/* Guest RAM is ordinary memory of this process, declared as a slot. */
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memcpy((char *)mem + GUEST_CODE, guest_code, sizeof(guest_code));
	region = (struct minihv_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	ASSERT_EQ(0, ioctl(vm, MINIHV_SET_USER_MEMORY_REGION, &region))
		TH_LOG("MINIHV_SET_USER_MEMORY_REGION: %s", strerror(errno));

	/* vCPU 0, and the shared page where each exit is described. */
	vcpu = ioctl(vm, MINIHV_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu) TH_LOG("MINIHV_CREATE_VCPU: %s", strerror(errno));
	run_size = ioctl(dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, run_size);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);

	/*
	 * A new vCPU is in the state of a CPU after reset: real mode, CS base
	 * 0xffff0000, RIP 0xfff0 (SDM Vol 3 10.1.4).  Start it at 0:0x1000.
	 */
	ASSERT_EQ(0, ioctl(vcpu, MINIHV_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ASSERT_EQ(0, ioctl(vcpu, MINIHV_SET_SREGS, &sregs));
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE;
	regs.rflags = 0x2;		/* bit 1 is always 1 */
	ASSERT_EQ(0, ioctl(vcpu, MINIHV_SET_REGS, &regs));
	/* LAB 1 END */

	ASSERT_LE(0, vcpu) TH_LOG("no vCPU");
	ASSERT_NE(MAP_FAILED, run) TH_LOG("no run structure");

	/* The run loop: each MINIHV_RUN returns at an exit userspace must see. */
	ASSERT_EQ(0, ioctl(vcpu, MINIHV_RUN, 0)) TH_LOG("MINIHV_RUN: %s", strerror(errno));
	ASSERT_EQ(MINIHV_EXIT_IO, run->exit_reason)
		TH_LOG("exit %s, wanted IO", exit_reason_str(run->exit_reason));
	EXPECT_EQ(MINIHV_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(0x80, run->io.port);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(1, run->io.count);
	data = (uint8_t *)run + run->io.data_offset;
	EXPECT_EQ(0x42, *data);

	ASSERT_EQ(0, ioctl(vcpu, MINIHV_RUN, 0));
	ASSERT_EQ(MINIHV_EXIT_HLT, run->exit_reason)
		TH_LOG("exit %s, wanted HLT", exit_reason_str(run->exit_reason));
	/* As after KVM_EXIT_HLT, RIP is past the HLT: the guest's last byte. */
	ASSERT_EQ(0, ioctl(vcpu, MINIHV_GET_REGS, &after));
	EXPECT_EQ(GUEST_CODE + sizeof(guest_code), after.rip);

	munmap(run, run_size);
	munmap(mem, GUEST_MEM_SIZE);
	close(vcpu);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
