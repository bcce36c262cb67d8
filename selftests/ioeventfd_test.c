// SPDX-License-Identifier: GPL-2.0
/*
 * MINIHV_IOEVENTFD: a guest's port or MMIO write that matches a
 * registration signals its eventfd in the kernel, and the vCPU goes on
 * without an exit; one that does not match exits as before.  Every bad
 * argument gets its errno, a registration can be taken back, and one whose
 * eventfd userspace has closed still works until then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define PORT		0x500
#define EVENT_GPA	0xd0000000ULL	/* above RAM, below the APICs */
#define MAX_IOEVENTFDS	1000		/* MINIHV_CAP_IOEVENTFD, as KVM's bus */

static int ioeventfd(struct mh_vm *vm, uint64_t addr, uint32_t len, int fd, uint32_t flags,
		     uint64_t datamatch)
{
	struct minihv_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd, .flags = flags,
	};

	return ioctl(vm_fd(vm), MINIHV_IOEVENTFD, &a) ? -errno : 0;
}

static uint64_t exit_count(struct mh_vcpu *vcpu, int i)
{
	struct minihv_exit_stats st;

	TEST_ASSERT(!ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &st), "GET_EXIT_STATS");
	return st.count[i];
}

/* The eventfd's count, 0 if it was never signalled (non-blocking). */
static uint64_t drain(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Runs until a ucall; counts the port and MMIO exits on the way. */
static uint64_t run_to_ucall(struct mh_vcpu *vcpu, struct ucall *uc)
{
	struct minihv_run *run = vcpu_state(vcpu);
	uint64_t exits = 0;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason == MINIHV_EXIT_IO && run->io.port != UCALL_PORT) {
			memset((char *)run + run->io.data_offset, 0xff, run->io.size);
			exits++;
			continue;
		}
		if (run->exit_reason == MINIHV_EXIT_MMIO) {
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			exits++;
			continue;
		}
		get_ucall(vcpu, uc);
		return exits;
	}
}

static void guest_outs(uint64_t first, uint64_t second)
{
	__asm__ volatile("outb %b0, %w1" : : "a"((uint8_t)first), "Nd"(PORT));
	__asm__ volatile("outb %b0, %w1" : : "a"((uint8_t)second), "Nd"(PORT));
	__asm__ volatile("outb %b0, %w1" : : "a"((uint8_t)second), "Nd"(PORT));
	GUEST_DONE();
}

TEST(port_write_signals_without_an_exit)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_outs);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	ASSERT_EQ(0, ioeventfd(vm, PORT, 1, efd, MINIHV_IOEVENTFD_FLAG_PIO, 0));
	vcpu_args_set(vcpu, 1, 2);
	EXPECT_EQ(0, run_to_ucall(vcpu, &uc));
	EXPECT_EQ(UCALL_DONE, uc.cmd);
	EXPECT_EQ(3, drain(efd));
	EXPECT_EQ(3, exit_count(vcpu, MINIHV_STAT_IOEVENTFD));
	close(efd);
	vm_free(vm);
}

/* Only the value 42h signals; 41h exits to userspace as before. */
TEST(datamatch_signals_only_its_value)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_outs);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	ASSERT_EQ(0, ioeventfd(vm, PORT, 1, efd,
			       MINIHV_IOEVENTFD_FLAG_PIO | MINIHV_IOEVENTFD_FLAG_DATAMATCH, 0x42));
	vcpu_args_set(vcpu, 0x41, 0x42);
	EXPECT_EQ(1, run_to_ucall(vcpu, &uc));
	EXPECT_EQ(UCALL_DONE, uc.cmd);
	EXPECT_EQ(2, drain(efd));
	close(efd);
	vm_free(vm);
}

static void guest_mmio(void)
{
	volatile uint32_t *reg = (volatile uint32_t *)EVENT_GPA;
	uint32_t v;

	reg[0] = 1;
	reg[0] = 2;
	v = reg[0];		/* a read still exits */
	reg[1] = 3;		/* another register: exits */
	GUEST_SYNC(v);
	reg[0] = 4;
	GUEST_DONE();
}

/* An MMIO write signals; a read, or another register, exits. */
TEST(mmio_write_signals_until_deassigned)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_mmio);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	ASSERT_EQ(0, ioeventfd(vm, EVENT_GPA, 4, efd, 0, 0));
	EXPECT_EQ(2, run_to_ucall(vcpu, &uc));
	EXPECT_EQ(UCALL_SYNC, uc.cmd);
	EXPECT_EQ(2, drain(efd));
	EXPECT_EQ(2, exit_count(vcpu, MINIHV_STAT_IOEVENTFD));
	/* Taken back: the last write exits to userspace. */
	ASSERT_EQ(0, ioeventfd(vm, EVENT_GPA, 4, efd, MINIHV_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, EVENT_GPA, 4, efd, MINIHV_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(1, run_to_ucall(vcpu, &uc));
	EXPECT_EQ(UCALL_DONE, uc.cmd);
	EXPECT_EQ(0, drain(efd));
	close(efd);
	vm_free(vm);
}

/* The VM keeps its own reference: closing the fd breaks nothing. */
TEST(eventfd_closed_by_userspace_still_signals)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_outs);
	int efd = eventfd(0, EFD_NONBLOCK), dup_fd = dup(efd);
	struct ucall uc;

	ASSERT_EQ(0, ioeventfd(vm, PORT, 1, efd, MINIHV_IOEVENTFD_FLAG_PIO, 0));
	close(efd);
	vcpu_args_set(vcpu, 1, 2);
	EXPECT_EQ(0, run_to_ucall(vcpu, &uc));
	EXPECT_EQ(UCALL_DONE, uc.cmd);
	EXPECT_EQ(3, drain(dup_fd));
	close(dup_fd);
	vm_free(vm);
}

TEST(bad_arguments_get_their_errno)
{
	struct mh_vm *vm = vm_create();
	int efd = eventfd(0, EFD_NONBLOCK), null = open("/dev/null", O_RDONLY);
	const uint32_t pio = MINIHV_IOEVENTFD_FLAG_PIO, dm = MINIHV_IOEVENTFD_FLAG_DATAMATCH;
	struct minihv_ioeventfd a = { .addr = PORT, .len = 1, .fd = efd, .flags = pio };
	int i;

	EXPECT_EQ(MAX_IOEVENTFDS,
		  ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_IOEVENTFD));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 1, efd, pio | (1u << 3), 0));
	a.pad[35] = 1;
	EXPECT_EQ(-1, ioctl(vm_fd(vm), MINIHV_IOEVENTFD, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 3, efd, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 0, efd, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 8, efd, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, 0xffff, 2, efd, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, ~0ULL - 1, 4, efd, 0, 0));
	EXPECT_EQ(-EBADF, ioeventfd(vm, PORT, 1, -1, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm, PORT, 1, null, pio, 0));
	EXPECT_EQ(-EFAULT, ioctl(vm_fd(vm), MINIHV_IOEVENTFD, (void *)8) ? -errno : 0);

	/* The same place twice, or a value beside a wildcard: -EEXIST. */
	ASSERT_EQ(0, ioeventfd(vm, PORT, 1, efd, pio | dm, 1));
	EXPECT_EQ(0, ioeventfd(vm, PORT, 1, efd, pio | dm, 2));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, PORT, 1, efd, pio | dm, 1));
	EXPECT_EQ(-EEXIST, ioeventfd(vm, PORT, 1, efd, pio, 0));
	/* Same number, other space, other length: no clash. */
	EXPECT_EQ(0, ioeventfd(vm, PORT, 1, efd, 0, 0));
	EXPECT_EQ(0, ioeventfd(vm, PORT, 2, efd, pio, 0));
	/* Deassign needs every field as assigned. */
	EXPECT_EQ(-ENOENT, ioeventfd(vm, PORT, 1, efd, pio | MINIHV_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(vm, PORT, 1, efd,
				     pio | dm | MINIHV_IOEVENTFD_FLAG_DEASSIGN, 3));
	EXPECT_EQ(0, ioeventfd(vm, PORT, 1, efd, pio | dm | MINIHV_IOEVENTFD_FLAG_DEASSIGN, 2));

	/* Three in place; fill to the limit, then -ENOSPC. */
	for (i = 0; i < MAX_IOEVENTFDS - 3; i++)
		ASSERT_EQ(0, ioeventfd(vm, 0x10000 + 8ULL * i, 8, efd, 0, 0)) TH_LOG("%d", i);
	EXPECT_EQ(-ENOSPC, ioeventfd(vm, 0x8000000, 8, efd, 0, 0));
	close(null);
	close(efd);
	vm_free(vm);
}

TEST_HARNESS_MAIN
