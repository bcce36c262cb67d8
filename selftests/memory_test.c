// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: every bad MINIHV_SET_USER_MEMORY_REGION argument gets its
 * documented errno and leaves the VM usable; guest writes are visible to
 * the host; read-only slots turn writes into MMIO exits; two VMs never
 * see each other's memory; a slot follows its user mapping as it changes
 * (the guest sees the new contents, or MINIHV_RUN fails with EFAULT).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

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

static void guest_read_loop(uint64_t gpa)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;

	for (;;) {
		GUEST_SYNC(p[0]);
		p[1]++;			/* a write too: the page must be writable */
	}
}

/* One pass of guest_read_loop: what the guest read at @gpa. */
static uint64_t guest_reads(struct mh_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	return uc.args[0];
}

#define FOLLOW_SIZE	0x20000		/* more than one fault-around block */

/*
 * Reads the newest VM of this process's debugfs "tdp" file (the kernel's
 * walk of the nested tables, each mapping checked against the slots) and
 * checks each mapping of the extra slot against what @mem's pages are now,
 * and that it allows writes exactly if @perm is 'w'.  Returns how many
 * mappings the extra slot has, -1 on any error.
 */
static int tdp_check(struct __test_metadata *_metadata, uint64_t *mem, char perm)
{
	static struct tdp_leaf leaves[4096];
	int n, i, errors;

	n = tdp_read_leaves(GPA_EXTRA, ~0ULL, leaves, 4096, &errors);
	EXPECT_EQ(0, errors);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(host_phys((char *)mem + (leaves[i].gpa - GPA_EXTRA)), leaves[i].hpa)
			TH_LOG("gpa %#lx maps another page than the slot's mapping has",
			       (unsigned long)leaves[i].gpa);
		EXPECT_EQ(perm, leaves[i].perm) TH_LOG("gpa %#lx", (unsigned long)leaves[i].gpa);
	}
	return errors ? -1 : n;
}

/*
 * Each way the host can change the pages under a slot: the guest's next
 * read sees what the mapping holds now (a page held by minihv would be the
 * old one), or the run fails with EFAULT while nothing usable is mapped,
 * and works again once something is.  A fault maps, besides its own page,
 * the neighbours of its 16-page block that the VMM's page tables hold.
 */
TEST(slot_follows_the_mm)
{
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	uint64_t *mem, *other, v = 0x4444;
	int memfd;

	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs tdp: " NO_TEST_HOOKS);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_read_loop);
	mem = mmap(NULL, FOLLOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, FOLLOW_SIZE);
	mem[0] = 0x1111;
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, 0, GPA_EXTRA, FOLLOW_SIZE, (uintptr_t)mem));
	vcpu_args_set(vcpu, GPA_EXTRA, 0);
	EXPECT_EQ(0x1111, guest_reads(vcpu));
	if (!host_phys(mem))
		SKIP(return, "no PFNs in /proc/self/pagemap (needs CAP_SYS_ADMIN)");
	/* One fault-around block (16 pages) mapped, each the mapping's page. */
	EXPECT_EQ(16, tdp_check(_metadata, mem, 'w'));

	/* A new anonymous mapping in its place. */
	ASSERT_EQ(mem, mmap(mem, FOLLOW_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_EQ(0, tdp_check(_metadata, mem, 'w')) TH_LOG("nested entries left after munmap");
	mem[0] = 0x2222;
	EXPECT_EQ(0x2222, guest_reads(vcpu)) TH_LOG("guest kept the unmapped page");
	EXPECT_EQ(1, mem[1]);
	/* The other pages of the new mapping were never touched: not mapped. */
	EXPECT_EQ(1, tdp_check(_metadata, mem, 'w'));

	/* MADV_DONTNEED: the next touch is a fresh zero page. */
	ASSERT_EQ(0, madvise(mem, FOLLOW_SIZE, MADV_DONTNEED));
	EXPECT_EQ(0, guest_reads(vcpu));

	/* mremap of another page over the slot's first page. */
	other = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, other);
	other[0] = 0x3333;
	ASSERT_EQ(mem, mremap(other, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED, mem));
	EXPECT_EQ(0x3333, guest_reads(vcpu));
	EXPECT_EQ(1, tdp_check(_metadata, mem, 'w'));

	/* Shared file pages: writes through the file reach the guest... */
	memfd = syscall(SYS_memfd_create, "minihv-slot", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, FOLLOW_SIZE));
	ASSERT_EQ(mem, mmap(mem, FOLLOW_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED, memfd, 0));
	ASSERT_EQ(8, pwrite(memfd, &v, 8, 0));
	EXPECT_EQ(0x4444, guest_reads(vcpu));
	/* ...the guest's writes reach the file, and truncation drops the page. */
	ASSERT_EQ(8, pread(memfd, &v, 8, 8));
	EXPECT_EQ(1, v);
	ASSERT_EQ(0, ftruncate(memfd, 0));
	ASSERT_EQ(0, ftruncate(memfd, FOLLOW_SIZE));
	EXPECT_EQ(0, guest_reads(vcpu)) TH_LOG("guest kept a truncated page");
	EXPECT_EQ(1, tdp_check(_metadata, mem, 'w'));
	close(memfd);

	/*
	 * Read-only: the guest's reads work (a read-only nested mapping, as
	 * in KVM), its write (p[1]++) fails with EFAULT each time.  Then
	 * nothing: EFAULT, and the vCPU recovers once memory is back.
	 */
	ASSERT_EQ(0, mprotect(mem, FOLLOW_SIZE, PROT_READ));
	EXPECT_EQ(-EFAULT, _vcpu_run(vcpu));
	EXPECT_EQ(-EFAULT, _vcpu_run(vcpu));
	EXPECT_EQ(1, tdp_check(_metadata, mem, 'r'));
	ASSERT_EQ(0, munmap(mem, FOLLOW_SIZE));
	EXPECT_EQ(-EFAULT, _vcpu_run(vcpu));
	EXPECT_EQ(-EFAULT, _vcpu_run(vcpu));
	EXPECT_EQ(0, tdp_check(_metadata, mem, 'w'));
	ASSERT_EQ(mem, mmap(mem, FOLLOW_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	mem[0] = 0x5555;
	EXPECT_EQ(0x5555, guest_reads(vcpu));
	EXPECT_EQ(1, tdp_check(_metadata, mem, 'w'));
	vm_free(vm);
	munmap(mem, FOLLOW_SIZE);
}

static void guest_wait_for_change(uint64_t gpa)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	uint64_t last = 0;

	/*
	 * IF=1 (nothing is injected): Bochs 2.7 lets no host interrupt
	 * reach a guest spinning with IF=0, the IPI included (exits_test).
	 */
	__asm__ volatile("sti");
	for (;;) {
		while (p[0] == last)
			;
		last = p[0];
		GUEST_SYNC(last);
	}
}

#define REMAPS	200

struct remap_race {
	struct mh_vcpu *vcpu;
	_Atomic uint64_t seen;
};

static void *remap_vcpu_thread(void *arg)
{
	struct remap_race *race = arg;

	while (atomic_load(&race->seen) != REMAPS)
		atomic_store(&race->seen, guest_reads(race->vcpu));
	return NULL;
}

/*
 * The mapping changes while the guest spins on it in another thread: the
 * kernel must take the translation away from a running guest (an IPI, then
 * a TLB flush before it enters again), or the guest spins forever on the
 * old page and the harness's timeout fails the test.
 */
TEST(remap_under_a_running_guest)
{
	struct mh_vm *vm = vm_create();
	struct remap_race race = { .vcpu = vm_vcpu_add(vm, 0, guest_wait_for_change) };
	uint64_t *mem = mmap(NULL, FOLLOW_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_t t;
	uint64_t i;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, 0, GPA_EXTRA, FOLLOW_SIZE, (uintptr_t)mem));
	vcpu_args_set(race.vcpu, GPA_EXTRA, 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, remap_vcpu_thread, &race));
	for (i = 1; i <= REMAPS; i++) {
		ASSERT_EQ(mem, mmap(mem, FOLLOW_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		mem[0] = i;
		/* The guest reports each value once it sees it. */
		while (atomic_load(&race.seen) != i)
			sched_yield();
	}
	pthread_join(t, NULL);
	EXPECT_EQ(REMAPS, atomic_load(&race.seen));
	vm_free(vm);
	munmap(mem, FOLLOW_SIZE);
}

TEST_HARNESS_MAIN
