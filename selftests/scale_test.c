// SPDX-License-Identifier: GPL-2.0
/*
 * Many objects at once: 64 VMs alive together (more vCPUs than QEMU's 16
 * ASIDs, so some share one and flush at every entry), and the 16 vCPUs of
 * one VM running concurrently, each on its own thread, faulting in their
 * own memory through the same nested page table.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define NR_VMS		64
#define NR_VCPUS	16
#define AREA		0x2000000ULL	/* 32 MiB: one 64 KiB area per vCPU */

/* Writes a pattern over its own area, reads it back, reports the sum. */
static void guest_fill(uint64_t id, uint64_t area)
{
	volatile uint64_t *p = (volatile uint64_t *)area;
	uint64_t i, sum = 0;

	for (i = 0; i < 8192; i++)
		p[i] = id * 100000 + i;
	for (i = 0; i < 8192; i++)
		sum += p[i];
	GUEST_SYNC(sum);
	GUEST_DONE();
}

static uint64_t expected_sum(uint64_t id)
{
	return id * 100000 * 8192 + 8191ULL * 8192 / 2;
}

FIXTURE(scale) {};
FIXTURE_SETUP(scale) {}
FIXTURE_TEARDOWN(scale) {}

TEST_F_TIMEOUT(scale, sixty_four_vms_at_once, 600)
{
	struct mh_vm *vms[NR_VMS];
	struct mh_vcpu *vcpus[NR_VMS];
	struct ucall uc;
	int i;

	for (i = 0; i < NR_VMS; i++) {
		vms[i] = vm_create();
		vcpus[i] = vm_vcpu_add(vms[i], 0, guest_fill);
		vcpu_args_set(vcpus[i], i, AREA);
	}
	/* Interleaved: every VM is entered while all the others exist. */
	for (i = 0; i < NR_VMS; i++) {
		vcpu_run(vcpus[i]);
		assert_ucall(vcpus[i], UCALL_SYNC, &uc);
		EXPECT_EQ(expected_sum(i), uc.args[0]) TH_LOG("VM %d", i);
	}
	for (i = 0; i < NR_VMS; i++) {
		vcpu_run(vcpus[i]);
		assert_ucall(vcpus[i], UCALL_DONE, &uc);
		/* The host sees each VM's own pattern, not another's. */
		EXPECT_EQ((uint64_t)i * 100000 + 5,
			  ((uint64_t *)addr_gpa2hva(vms[i], AREA))[5]);
	}
	for (i = 0; i < NR_VMS; i++)
		vm_free(vms[i]);
}

struct runner {
	struct mh_vcpu *vcpu;
	uint64_t id;
	int ok;
};

static void *run_one(void *arg)
{
	struct runner *r = arg;
	struct ucall uc;

	if (_vcpu_run(r->vcpu) || get_ucall(r->vcpu, &uc) != UCALL_SYNC ||
	    uc.args[0] != expected_sum(r->id))
		return NULL;
	if (_vcpu_run(r->vcpu) || get_ucall(r->vcpu, &uc) != UCALL_DONE)
		return NULL;
	r->ok = 1;
	return NULL;
}

TEST_F_TIMEOUT(scale, sixteen_vcpus_on_their_own_threads, 600)
{
	struct mh_vm *vm = vm_create();
	struct runner r[NR_VCPUS];
	pthread_t t[NR_VCPUS];
	int i;

	for (i = 0; i < NR_VCPUS; i++) {
		r[i].vcpu = vm_vcpu_add(vm, i, guest_fill);
		r[i].id = i;
		r[i].ok = 0;
		vcpu_args_set(r[i].vcpu, i, AREA + i * 0x10000ULL);
	}
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, run_one, &r[i]));
	for (i = 0; i < NR_VCPUS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_TRUE(r[i].ok) TH_LOG("vCPU %d", i);
	}
	vm_free(vm);
}

TEST_HARNESS_MAIN
