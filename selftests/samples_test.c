// SPDX-License-Identifier: GPL-2.0
/*
 * The sample guests under minihv-run: each prints its line and ends with
 * its documented exit status (userspace/guests/expected.txt), in real,
 * protected and long mode, from flat binaries and ELF files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"

/* 0: the device runs guests; else why not, for SKIP. */
static const char *cannot_run_guests(void)
{
	int fd = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	int slots;

	if (fd < 0)
		return "minihv.ko is not loaded";
	slots = ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	close(fd);
	return slots > 0 ? NULL : "this backend does not run guests yet";
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v ? v : def;
}

/* Runs minihv-run ARGS... GUEST; returns its exit status, output in @out. */
static int run_sample(const char *guest, const char *const *args, char *out, size_t len)
{
	const char *runner = env_or("MINIHV_RUN", "/bin/minihv-run");
	char path[256];
	const char *argv[8];
	int pipefd[2], status, n = 0;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", env_or("MINIHV_GUESTS", "/guests"), guest);
	if (access(runner, X_OK) || access(path, R_OK))
		return -ENOENT;
	argv[n++] = runner;
	while (*args && n < 6)
		argv[n++] = *args++;
	argv[n++] = path;
	argv[n] = NULL;
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execv(runner, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got < len - 1 && (r = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += r;
	out[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define SAMPLE(name, guest, status, text, ...)					\
TEST(name)									\
{										\
	static const char *const args[] = { __VA_ARGS__ };			\
	const char *why = cannot_run_guests();					\
	char out[512];								\
	int r;									\
										\
	if (why)								\
		SKIP(return, "%s", why);					\
	r = run_sample(guest, args, out, sizeof(out));				\
	if (r == -ENOENT)							\
		SKIP(return, "minihv-run or %s not installed", guest);		\
	EXPECT_EQ(status, r) TH_LOG("output: %s", out);				\
	EXPECT_STREQ(text "\n", out);						\
}

SAMPLE(real_mode_greeting, "hello.bin", 0, "Hello from a minihv guest!", NULL)
SAMPLE(protected_mode_flat, "protected.bin", 0, "Hello from 32-bit protected mode!",
       "-m", "protected", NULL)
SAMPLE(protected_mode_elf32, "protected.elf", 0, "Hello from 32-bit protected mode!", NULL)
SAMPLE(long_mode_flat_exit_port, "long.bin", 43, "Hello from 64-bit long mode!",
       "-m", "long", NULL)
SAMPLE(long_mode_elf64_c, "hello64.elf", 0, "Hello from a 64-bit ELF guest in C!", NULL)

TEST_HARNESS_MAIN
