/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side helpers for the minihv selftests that look at the module from
 * outside: the kernel log, module load/unload, and what this test machine
 * is expected to be.
 */
#ifndef SELFTEST_SYSUTIL_H
#define SELFTEST_SYSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINIHV_DEV	"/dev/minihv"

/*
 * Where the test machine's /init puts the modules; overridable from the
 * environment (MINIHV_KO, KVM_MODDIR) when the tests run elsewhere.
 */
const char *minihv_ko_path(void);
const char *kvm_module_dir(void);

/*
 * A position in the kernel log (/dev/kmsg).  kmsg_cursor_open() starts at
 * the end; kmsg_cursor_read() returns the messages logged since, joined by
 * newlines (malloc'd, caller frees).
 */
struct kmsg_cursor {
	int fd;
};

int kmsg_cursor_open(struct kmsg_cursor *c);
char *kmsg_cursor_read(struct kmsg_cursor *c);
void kmsg_cursor_close(struct kmsg_cursor *c);

/*
 * The first line of @log that shows a kernel problem (BUG:, WARNING: CPU:,
 * Oops, general protection fault, Call Trace:, soft lockup, an RCU stall,
 * a hung task, KASAN...),
 * copied into @buf; false when the log is clean.
 */
bool kmsg_find_problem(const char *log, char *buf, size_t len);

/* finit_module()/delete_module(): 0 or -errno. */
int module_load(const char *path, const char *params);
int module_unload(const char *name);
bool module_is_loaded(const char *name);
/*
 * The /proc/self/pagemap entry of the page at @hva (bit 63 present, bit
 * 62 swapped, bits 54:0 the PFN, zero without CAP_SYS_ADMIN), 0 on error;
 * and the host-physical address of that page now, 0 if not present.
 */
uint64_t pagemap_entry(const void *hva);
uint64_t host_phys(const void *hva);
/* Advice newer than some libcs' headers (the kernels have them). */
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/* One nested leaf, as debugfs <vm>/tdp lists it. */
struct tdp_leaf {
	uint64_t gpa, hpa;
	char perm;		/* 'r' or 'w' */
	char size[4];		/* "4K", "2M" or "1G" */
	bool exec;		/* false: "nx" */
};
/*
 * The leaves in [@lo, @hi) of this process's newest VM (its debugfs tdp
 * file, a test hook), at most @max into @out; *@errors gets how many the
 * kernel's own check of every leaf found wrong, and each is printed.
 * Returns how many leaves, -1 if the file cannot be read.
 */
int tdp_read_leaves(uint64_t lo, uint64_t hi, struct tdp_leaf *out, int max, int *errors);
/* The number a sysfs, debugfs or proc file holds, or -1. */
long read_number(const char *path);
/* A value of a stats fd (GET_STATS_FD) by its name, or ~0 (also while the vCPU runs). */
uint64_t stat_by_name(int fd, const char *name);
/*
 * The path of @file in the debugfs directory of this process's newest VM
 * (/sys/kernel/debug/minihv/<pid>-<n>/), in @buf; false if there is none.
 */
bool vm_debugfs_path(const char *file, char *buf, size_t len);
/*
 * Whether minihv.ko has its test hooks, the debugfs files reboot_disable,
 * <vm>/break_entry and <vm>/tdp: built with MINIHV_TEST_HOOKS=1, as make
 * check builds it (Documentation/testing.rst); the packages leave them out.
 */
bool minihv_has_test_hooks(void);
#define NO_TEST_HOOKS "minihv.ko was built without MINIHV_TEST_HOOKS=1 (make check builds it with them)"
/* minihv.ko's reference count (/sys/module/minihv/refcnt), or -1. */
#define module_refcnt() ((int)read_number("/sys/module/minihv/refcnt"))

/*
 * The vendor this machine was booted to test: "svm", "vmx" or "none",
 * from minihv_expect= on the kernel command line, else from CPUID.
 * Returns MINIHV_VENDOR_* or 0 when the CPU has neither.
 */
unsigned int expected_vendor(void);

/* The test machine is a Bochs one (its BIOS says so), where 2.7's defects apply. */
bool machine_is_bochs(void);

/*
 * KVM's modules for this machine's vendor, from kvm_module_dir():
 * kvm_load() loads irqbypass, ccp (if there), kvm and kvm-intel or kvm-amd
 * (0 or -errno, -ENOENT when they are not there); kvm_unload() removes
 * them again.  kvm_vendor_module_name() is "kvm_intel" or "kvm_amd".
 */
int kvm_load_core(void);
int kvm_load_vendor(void);
void kvm_unload(void);
const char *kvm_vendor_module_name(void);

/*
 * Runs minihv-run (MINIHV_RUN, default /bin/minihv-run) with @args (NULL
 * terminated, at most 14) and then GUEST from MINIHV_GUESTS (default
 * /guests), unless @guest is NULL, its stdin /dev/null-like (empty).
 * Returns its exit status (128 + signal when killed) with stdout, and
 * with @with_stderr stderr too, in @out; -ENOENT when the runner or the
 * guest is missing.
 */
int run_runner(const char *guest, const char *const *args, char *out,
	       size_t len, bool with_stderr);
/* The same, with @input (at most a pipe's buffer) on its stdin. */
int run_runner_input(const char *guest, const char *const *args, const char *input,
		     char *out, size_t len, bool with_stderr);

#endif /* SELFTEST_SYSUTIL_H */
