// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for selftests that watch the module from outside: see sysutil.h.
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "sysutil.h"

const char *minihv_ko_path(void)
{
	const char *p = getenv("MINIHV_KO");

	return p ? p : "/lib/minihv/minihv.ko";
}

const char *kvm_module_dir(void)
{
	const char *p = getenv("KVM_MODDIR");

	return p ? p : "/lib/minihv/kvm";
}

int kmsg_cursor_open(struct kmsg_cursor *c)
{
	c->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	if (lseek(c->fd, 0, SEEK_END) < 0) {
		close(c->fd);
		return -errno;
	}
	return 0;
}

/*
 * At most this much of the log: a kernel that prints without end (a
 * message that is not rate-limited, in a loop) must fail the test that
 * reads it, not grow it until the OOM killer ends it without a report.
 */
#define KMSG_READ_MAX	(4 << 20)

char *kmsg_cursor_read(struct kmsg_cursor *c)
{
	static const char cut[] = "minihv selftests: the kernel log goes on; the rest is not read\n";
	size_t used = 0, cap = 4096;
	char *out = malloc(cap);
	char rec[8192];

	if (!out)
		return NULL;
	out[0] = '\0';
	for (;;) {
		ssize_t n = read(c->fd, rec, sizeof(rec) - 1);
		char *text, *end;
		size_t len;

		if (n < 0 && errno == EPIPE)	/* overwritten: skip ahead */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n[ KEY=value\n...]" */
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		end = strchr(text, '\n');
		len = end ? (size_t)(end - text) : strlen(text);
		if (used + len + sizeof(cut) > KMSG_READ_MAX) {
			len = sizeof(cut) - 2;
			text = (char *)cut;
		}
		if (used + len + 2 > cap) {
			char *bigger;

			cap = 2 * (used + len + 2);
			bigger = realloc(out, cap);
			if (!bigger)
				break;
			out = bigger;
		}
		memcpy(out + used, text, len);
		used += len;
		out[used++] = '\n';
		out[used] = '\0';
		if (text == cut)
			break;
	}
	return out;
}

void kmsg_cursor_close(struct kmsg_cursor *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

bool kmsg_find_problem(const char *log, char *buf, size_t len)
{
	static const char *const patterns[] = {
		"BUG:", "WARNING: CPU:", "Oops", "general protection fault",
		"Call Trace:", "soft lockup", "detected stalls on CPUs",
		"blocked for more than", "Kernel panic", "KASAN",
		"the kernel log goes on",	/* kmsg_cursor_read()'s cut */
	};
	size_t i;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const char *hit = strstr(log, patterns[i]);
		const char *bol, *eol;

		if (!hit)
			continue;
		for (bol = hit; bol > log && bol[-1] != '\n'; bol--)
			;
		eol = strchrnul(hit, '\n');
		snprintf(buf, len, "%.*s", (int)(eol - bol), bol);
		return true;
	}
	return false;
}

int module_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = syscall(SYS_finit_module, fd, params ? params : "", 0);
	r = r ? -errno : 0;
	close(fd);
	return r;
}

int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

uint64_t pagemap_entry(const void *hva)
{
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || pread(fd, &entry, 8, (uintptr_t)hva / 4096 * 8) != 8)
		entry = 0;
	if (fd >= 0)
		close(fd);
	return entry;
}

uint64_t host_phys(const void *hva)
{
	uint64_t entry = pagemap_entry(hva);

	return (entry >> 63) ? (entry & ((1ULL << 55) - 1)) << 12 : 0;
}

int tdp_read_leaves(uint64_t lo, uint64_t hi, struct tdp_leaf *out, int max, int *errors)
{
	unsigned long long gpa, hpa, nr_map, nr_err;
	char path[128], line[160], perm, size[4], exec[4];
	int n = 0;
	FILE *f;

	*errors = 0;
	if (!vm_debugfs_path("tdp", path, sizeof(path)))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mappings %llu errors %llu", &nr_map, &nr_err) == 2) {
			*errors = nr_err;
			break;
		}
		if (!strncmp(line, "error", 5)) {
			printf("# %s: %s", path, line);
			continue;
		}
		if (sscanf(line, "%llx %llx %c %3s %3s", &gpa, &hpa, &perm, size, exec) != 5 ||
		    gpa < lo || gpa >= hi || n >= max)
			continue;
		out[n] = (struct tdp_leaf){ .gpa = gpa, .hpa = hpa, .perm = perm,
					    .exec = strcmp(exec, "nx") };
		memcpy(out[n++].size, size, sizeof(size));
	}
	fclose(f);
	return n;
}

bool vm_debugfs_path(const char *file, char *buf, size_t len)
{
	DIR *dir = opendir("/sys/kernel/debug/minihv");
	char prefix[16];
	struct dirent *d;
	int newest = 0;

	if (!dir)
		return false;
	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, strlen(prefix)) &&
		    atoi(d->d_name + strlen(prefix)) > newest)
			newest = atoi(d->d_name + strlen(prefix));
	closedir(dir);
	if (!newest)
		return false;
	snprintf(buf, len, "/sys/kernel/debug/minihv/%s%d/%s", prefix, newest, file);
	return true;
}

bool minihv_has_test_hooks(void)
{
	return !access("/sys/kernel/debug/minihv/reboot_disable", F_OK);
}

long read_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

bool module_is_loaded(const char *name)
{
	FILE *f = fopen("/proc/modules", "re");
	size_t nlen = strlen(name);
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, nlen) && line[nlen] == ' ';
	fclose(f);
	return found;
}

bool machine_is_bochs(void)
{
	char vendor[64] = "";
	FILE *f = fopen("/sys/class/dmi/id/bios_vendor", "re");

	if (f) {
		if (!fgets(vendor, sizeof(vendor), f))
			vendor[0] = '\0';
		fclose(f);
	}
	return strstr(vendor, "Bochs");
}

unsigned int expected_vendor(void)
{
	unsigned int eax, ebx, ecx, edx;
	char cmdline[4096] = "";
	const char *p;
	FILE *f;

	f = fopen("/proc/cmdline", "re");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	p = strstr(cmdline, "minihv_expect=");
	if (p) {
		p += strlen("minihv_expect=");
		if (!strncmp(p, "vmx", 3))
			return MINIHV_VENDOR_VMX;
		if (!strncmp(p, "svm", 3))
			return MINIHV_VENDOR_SVM;
		if (!strncmp(p, "none", 4))
			return 0;
	}

	__cpuid(1, eax, ebx, ecx, edx);
	if (ecx & (1u << 5))
		return MINIHV_VENDOR_VMX;
	__cpuid(0x80000000, eax, ebx, ecx, edx);
	if (eax >= 0x80000001) {
		__cpuid(0x80000001, eax, ebx, ecx, edx);
		if (ecx & (1u << 2))
			return MINIHV_VENDOR_SVM;
	}
	return 0;
}

/* ---- KVM's modules ---- */

static int load_from_kvm_dir(const char *file)
{
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/%s", kvm_module_dir(), file);
	if (access(path, R_OK))
		return -ENOENT;
	r = module_load(path, NULL);
	return r == -EEXIST ? 0 : r;
}

int kvm_load_core(void)
{
	int r = load_from_kvm_dir("irqbypass.ko");

	if (!r)
		r = load_from_kvm_dir("ccp.ko");	/* kvm-amd's, if present */
	if (r == -ENOENT)
		r = 0;
	if (!r)
		r = load_from_kvm_dir("kvm.ko");
	return r;
}

int kvm_load_vendor(void)
{
	return load_from_kvm_dir(expected_vendor() == MINIHV_VENDOR_VMX ?
				 "kvm-intel.ko" : "kvm-amd.ko");
}

const char *kvm_vendor_module_name(void)
{
	return expected_vendor() == MINIHV_VENDOR_VMX ? "kvm_intel" : "kvm_amd";
}

void kvm_unload(void)
{
	module_unload(kvm_vendor_module_name());
	module_unload("kvm");
}

/* ---- minihv-run ---- */

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v ? v : def;
}

int run_runner(const char *guest, const char *const *args, char *out,
	       size_t len, bool with_stderr)
{
	return run_runner_input(guest, args, NULL, out, len, with_stderr);
}

/* The same, with @input (or nothing: /dev/null) on the runner's stdin. */
int run_runner_input(const char *guest, const char *const *args, const char *input,
		     char *out, size_t len, bool with_stderr)
{
	const char *runner = env_or("MINIHV_RUN", "/bin/minihv-run");
	const char *argv[25];
	int pipefd[2], infd[2], status, n = 0;
	char rec[4096];
	char path[256];
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", env_or("MINIHV_GUESTS", "/guests"),
		 guest ? guest : "");
	if (access(runner, X_OK) || (guest && access(path, R_OK)))
		return -ENOENT;
	argv[n++] = runner;
	while (*args && n < 23)
		argv[n++] = *args++;
	if (guest)
		argv[n++] = path;
	argv[n] = NULL;
	if (pipe(pipefd))
		return -errno;
	if (pipe(infd)) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		dup2(infd[0], 0);
		close(infd[1]);
		dup2(pipefd[1], 1);
		if (with_stderr)
			dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(runner, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	close(infd[0]);
	/* Small enough for the pipe's buffer: written whole, then EOF. */
	if (input && write(infd[1], input, strlen(input)) < 0)
		got = 0;
	close(infd[1]);
	while (got < len - 1 && (r = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += r;
	out[got] = '\0';
	/* The rest is read and dropped: a runner blocked on a full pipe never ends. */
	while (read(pipefd[0], rec, sizeof(rec)) > 0)
		;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

uint64_t stat_by_name(int fd, const char *name)
{
	struct minihv_stats_header h;
	static char buf[sizeof(struct minihv_stats_desc) + 256];
	struct minihv_stats_desc *d = (void *)buf;
	uint64_t val;
	size_t dsize;
	uint32_t i;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.name_size > 256)
		return ~0ULL;
	dsize = sizeof(*d) + h.name_size;
	for (i = 0; i < h.num_desc; i++) {
		if (pread(fd, d, dsize, h.desc_offset + i * dsize) != (ssize_t)dsize)
			return ~0ULL;
		if (strcmp(d->name, name))
			continue;
		if (pread(fd, &val, sizeof(val), h.data_offset + d->offset) != sizeof(val))
			return ~0ULL;
		return val;
	}
	return ~0ULL;
}
