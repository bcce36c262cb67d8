// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: every bad MINIHV_SET_USER_MEMORY_REGION argument gets its
 * documented errno and leaves the VM usable; guest writes are visible to
 * the host; read-only slots turn writes into MMIO exits; two VMs never
 * see each other's memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define GPA_EXTRA	0x10000000ULL	/* 256 MiB: above the RAM slot */

static int set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, uint64_t uaddr)
{
	struct minihv_userspace_memory_region mr = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = uaddr,
	};

	return ioctl(vm_fd, MINIHV_SET_USER_MEMORY_REGION, &mr) ? -errno : 0;
}

TEST(bad_memory_regions)
{
	struct mh_vm *vm = vm_create();
	int fd = vm_fd(vm), nslots;
	uint8_t *mem = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *ro = mmap(NULL, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t u = (uintptr_t)mem;

	ASSERT_NE(MAP_FAILED, mem);
	nslots = ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	ASSERT_LT(1, nslots);

	EXPECT_EQ(-EFAULT, ioctl(fd, MINIHV_SET_USER_MEMORY_REGION, (void *)8) ? -errno : 0);
	EXPECT_EQ(-EINVAL, set_region(fd, nslots, 0, GPA_EXTRA, 0x1000, u));
	EXPECT_EQ(-EINVAL, set_region(fd, 1, 1u << 7, GPA_EXTRA, 0x1000, u));
	EXPECT_EQ(-EINVAL, set_region(fd, 1, 0, GPA_EXTRA + 1, 0x1000, u));
	EXPECT_EQ(-EINVAL, set_region(fd, 1, 0, GPA_EXTRA, 0x1001, u));
	EXPECT_EQ(-EINVAL, set_region(fd, 1, 0, GPA_EXTRA, 0x1000, u + 1));
	EXPECT_EQ(-EINVAL, set_region(fd, 1, 0, -0x1000ULL, 0x2000, u));
	EXPECT_EQ(-E2BIG, set_region(fd, 1, 0, 1ULL << 48, 0x1000, u));
	EXPECT_EQ(-EEXIST, set_region(fd, 1, 0, 0x1000, 0x1000, u));	/* overlaps RAM */
	EXPECT_EQ(-EEXIST, set_region(fd, 0, 0, GPA_EXTRA, 0x1000, u));	/* slot 0 in use */
	EXPECT_EQ(-EFAULT, set_region(fd, 1, 0, GPA_EXTRA, 0x1000, 0x1000)); /* not mapped */
	EXPECT_EQ(-EFAULT, set_region(fd, 1, 0, GPA_EXTRA, 0x1000, (uintptr_t)ro)); /* not writable */
	EXPECT_EQ(-EFAULT, set_region(fd, 1, 0, GPA_EXTRA, 0x1000, 1ULL << 63));
	EXPECT_EQ(-ENOENT, set_region(fd, 5, 0, 0, 0, 0));		/* delete an empty slot */

	/* After all that, the VM still works. */
	EXPECT_EQ(0, set_region(fd, 1, MINIHV_MEM_READONLY, GPA_EXTRA, 0x1000, (uintptr_t)ro));
	EXPECT_EQ(0, set_region(fd, 2, 0, GPA_EXTRA + 0x1000, 0x4000, u));
	EXPECT_EQ(0, set_region(fd, 2, 0, 0, 0, 0));
	EXPECT_EQ(0, set_region(fd, 2, 0, GPA_EXTRA + 0x1000, 0x4000, u));
	vm_free(vm);
}

TEST(bad_vcpu_ids)
{
	struct mh_vm *vm = vm_create();
	int max = ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_MAX_VCPUS);
	int a;

	ASSERT_LE(16, max);
	EXPECT_EQ(-1, ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, max));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, ~0UL));
	EXPECT_EQ(EINVAL, errno);
	a = ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, 3);
	ASSERT_LE(0, a);
	EXPECT_EQ(-1, ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, 3));
	EXPECT_EQ(EEXIST, errno);
	close(a);
	a = ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, 3);	/* free again once closed */
	EXPECT_LE(0, a);
	close(a);
	vm_free(vm);
}

TEST(bad_vcpu_arguments)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, NULL);
	struct minihv_regs regs;
	long page = sysconf(_SC_PAGESIZE);
	int size = ioctl(vm_dev_fd(vm), MINIHV_GET_VCPU_MMAP_SIZE, 0);

	EXPECT_EQ(-1, ioctl(vcpu_fd(vcpu), MINIHV_RUN, 1));
	EXPECT_EQ(EINVAL, errno);
	vcpu_regs_get(vcpu, &regs);
	regs.rflags = 0;			/* bit 1 must be 1 */
	EXPECT_EQ(-1, ioctl(vcpu_fd(vcpu), MINIHV_SET_REGS, &regs));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vcpu_fd(vcpu), MINIHV_GET_REGS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(vcpu_fd(vcpu), _IO(MINIHVIO, 0x9f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size + page, PROT_READ, MAP_SHARED, vcpu_fd(vcpu), 0));
	EXPECT_EQ(-1, ioctl(vm_fd(vm), _IO(MINIHVIO, 0x9f), 0));
	EXPECT_EQ(ENOTTY, errno);
	vm_free(vm);
}

static void guest_write_pattern(uint64_t gpa, uint64_t value)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	int i;

	for (i = 0; i < 512; i++)
		p[i] = value + i;
	GUEST_DONE();
}

TEST(guest_writes_visible_to_host)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_write_pattern);
	uint64_t *host = addr_gpa2hva(vm, 0x2000000);
	struct ucall uc;

	vcpu_args_set(vcpu, 0x2000000, 0x5eed0000);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	EXPECT_EQ(0x5eed0000, host[0]);
	EXPECT_EQ(0x5eed0000 + 511, host[511]);
	vm_free(vm);
}

static void guest_rom(uint64_t gpa)
{
	volatile uint32_t *p = (volatile uint32_t *)gpa;

	GUEST_ASSERT_EQ(*p, 0x524f4d21);	/* reads come from the slot */
	*p = 0xdead;				/* writes exit as MMIO */
	GUEST_ASSERT_EQ(*p, 0x524f4d21);
	GUEST_DONE();
}

TEST(readonly_slot_writes_are_mmio)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_rom);
	struct minihv_run *run = vcpu_state(vcpu);
	uint32_t *rom = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ucall uc;
	uint32_t v;

	*rom = 0x524f4d21;
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, MINIHV_MEM_READONLY, GPA_EXTRA, 0x1000,
				(uintptr_t)rom));
	vcpu_args_set(vcpu, GPA_EXTRA, 0);
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_MMIO);
	EXPECT_EQ(GPA_EXTRA, run->mmio.phys_addr);
	EXPECT_TRUE(run->mmio.is_write);
	memcpy(&v, run->mmio.data, 4);
	EXPECT_EQ(0xdead, v);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	EXPECT_EQ(0x524f4d21, *rom);
	vm_free(vm);
}

static void guest_read_then_write(uint64_t gpa)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;

	GUEST_SYNC(*p);
	*p = 0x1111;
	GUEST_DONE();
}

TEST(two_vms_are_isolated)
{
	struct mh_vm *a = vm_create(), *b = vm_create();
	struct mh_vcpu *va = vm_vcpu_add(a, 0, guest_read_then_write);
	struct mh_vcpu *vb = vm_vcpu_add(b, 0, guest_read_then_write);
	struct ucall uc;

	*(uint64_t *)addr_gpa2hva(a, 0x3000000) = 0xaaaa;
	*(uint64_t *)addr_gpa2hva(b, 0x3000000) = 0xbbbb;
	vcpu_args_set(va, 0x3000000, 0);
	vcpu_args_set(vb, 0x3000000, 0);
	vcpu_run(va);
	assert_ucall(va, UCALL_SYNC, &uc);
	EXPECT_EQ(0xaaaa, uc.args[0]);
	vcpu_run(va);
	assert_ucall(va, UCALL_DONE, &uc);
	vcpu_run(vb);
	assert_ucall(vb, UCALL_SYNC, &uc);
	EXPECT_EQ(0xbbbb, uc.args[0]) TH_LOG("VM b saw VM a's memory");
	EXPECT_EQ(0xbbbb, *(uint64_t *)addr_gpa2hva(b, 0x3000000));
	EXPECT_EQ(0x1111, *(uint64_t *)addr_gpa2hva(a, 0x3000000));
	vm_free(a);
	vm_free(b);
}

TEST_HARNESS_MAIN
