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
 * Oops, general protection fault, Call Trace:, soft lockup, KASAN...),
 * copied into @buf; false when the log is clean.
 */
bool kmsg_find_problem(const char *log, char *buf, size_t len);

/* finit_module()/delete_module(): 0 or -errno. */
int module_load(const char *path, const char *params);
int module_unload(const char *name);
bool module_is_loaded(const char *name);

/*
 * The vendor this machine was booted to test: "svm", "vmx" or "none",
 * from minihv_expect= on the kernel command line, else from CPUID.
 * Returns MINIHV_VENDOR_* or 0 when the CPU has neither.
 */
unsigned int expected_vendor(void);

#endif /* SELFTEST_SYSUTIL_H */
