// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run under a hostile guest, the terminal's side: the
 * runner owns the user's terminal, so a guest must not be able to keep it
 * raw, stall the runner past its --timeout, write control sequences to it
 * or pass its F4h status off as a signal.
 *
 * minihv-run runs on a pseudo-terminal (its stdin and stdout on the
 * slave) or with its stdout on a pipe; the guests are a few real-mode
 * instructions each, written to a file at run time.  Each wait is bounded
 * by a watchdog: a runner that does not end fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"

#define WATCHDOG	20	/* seconds; the harness gives a test 30 */
#define CTRL_A		"\x01"

static const char *runner(void)
{
	const char *p = getenv("MINIHV_RUN");

	return p ? p : "/bin/minihv-run";
}

/* MINIHV_DEVICE=/dev/kvm runs these on a host's KVM too. */
static const char *device(void)
{
	const char *p = getenv("MINIHV_DEVICE");

	return p ? p : "/dev/minihv";
}

/* NULL: the device runs guests; else why not, for SKIP. */
static const char *cannot_run_guests(void)
{
	int fd = open(device(), O_RDWR | O_CLOEXEC);
	int slots;

	if (fd < 0)
		return "the hypervisor device is not there";
	if (strcmp(device(), "/dev/minihv")) {
		close(fd);
		return NULL;
	}
	slots = ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	close(fd);
	return slots > 0 ? NULL : "this backend does not run guests yet";
}

/* ---- the guests: 16-bit code, loaded at 7C00h ---- */

#define MOV_AL(v)	0xb0, (v)
#define MOV_DX(v)	0xba, (v) & 0xff, (v) >> 8
#define OUT_IMM(p)	0xe6, (p)
#define OUT_DX		0xee
#define IN_DX		0xec
#define HLT		0xf4

/*
 * "R\n" on port E9h (a console line is written at its newline), then
 * spins with interrupts on (no device raises one): Bochs 2.7's SVM lets
 * a host interrupt end the entry only while the guest's IF is set, as
 * for userspace/guests/spin.S.
 */
static const uint8_t ready_spin[] = {
	MOV_AL('R'), OUT_IMM(0xe9), MOV_AL('\n'), OUT_IMM(0xe9),
	0xfb, 0xeb, 0xfe,			/* sti; jmp $ */
};

/* 'x' on port E9h forever, an exit a byte. */
static const uint8_t flood_e9[] = {
	MOV_AL('x'), OUT_IMM(0xe9),
	0xeb, 0xfc,				/* jmp back to the OUT */
};

/*
 * 4 KiB at a time (whatever the first page holds) on port @port forever:
 * fast enough, even emulated, to fill a pipe and the console's queue
 * within a 2 s timeout.
 */
#define FLOOD_REP_OUTSB(port)					\
	MOV_DX(port), 0xb9, 0x00, 0x10,	/* 03: mov cx, 1000h */	\
	0x31, 0xf6, 0xf3, 0x6e,		/* xor si, si; rep outsb */ \
	0xeb, 0xf7			/* jmp 03h */

static const uint8_t flood_e9_string[] = { FLOOD_REP_OUTSB(0xe9) };
/* To COM1's transmitter, with --platform. */
static const uint8_t flood_com1_string[] = { FLOOD_REP_OUTSB(0x3f8) };

/*
 * Opens COM1 (IER receive interrupt, MCR OUT2: what minihv-run's UART
 * waits for before it delivers input), says "R\n", then echoes every
 * byte it receives to port E9h until a '.', and exits with 0 to F4h
 * (status 1).
 */
static const uint8_t echo_com1[] = {
	MOV_DX(0x3f9), MOV_AL(0x01), OUT_DX,		/* 00: IER = RDI */
	MOV_DX(0x3fc), MOV_AL(0x08), OUT_DX,		/* 06: MCR = OUT2 */
	MOV_AL('R'), OUT_IMM(0xe9), MOV_AL('\n'), OUT_IMM(0xe9),
	MOV_DX(0x3fd), IN_DX,				/* 14: LSR */
	0xa8, 0x01, 0x74, 0xf8,				/* test al, DR; jz 14h */
	MOV_DX(0x3f8), IN_DX, OUT_IMM(0xe9),		/* 1c: RBR to E9h */
	0x3c, '.', 0x75, 0xee,				/* cmp al, '.'; jne 14h */
	MOV_AL('\n'), OUT_IMM(0xe9), MOV_AL(0), OUT_IMM(0xf4), HLT,
};

/* A guest file in /tmp, in @path; unlinked by the caller. */
static void write_guest(struct __test_metadata *_metadata, char *path,
			const uint8_t *code, size_t len)
{
	int fd;

	strcpy(path, "/tmp/runner_tty_XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd) TH_LOG("mkstemp: %s", strerror(errno));
	ASSERT_EQ((ssize_t)len, write(fd, code, len));
	close(fd);
}

/* Port E9h gets @text, byte by byte, then the guest halts. */
static void write_text_guest(struct __test_metadata *_metadata, char *path, const char *text)
{
	uint8_t code[1024];
	size_t n = 0;

	for (; *text && n + 5 < sizeof(code); text++) {
		code[n++] = 0xb0;
		code[n++] = *text;
		code[n++] = 0xe6;
		code[n++] = 0xe9;
	}
	code[n++] = HLT;
	write_guest(_metadata, path, code, n);
}

/* A temporary file for the runner's stderr, open for reading back. */
static int temp_file(struct __test_metadata *_metadata, char *path)
{
	int fd;

	strcpy(path, "/tmp/runner_tty_err_XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd) TH_LOG("mkstemp: %s", strerror(errno));
	unlink(path);
	return fd;
}

static void read_back(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/*
 * minihv-run -d DEVICE @args... GUEST with @in, @out and @err as its
 * stdin, stdout and stderr, in a session of its own (no controlling
 * terminal: the pty is only its stdin and stdout), with every signal at
 * its default and no core dumps.
 */
static pid_t spawn(const char *const *args, const char *guest, int in, int out, int err)
{
	const char *argv[16];
	struct rlimit no_core = { 0, 0 };
	sigset_t none;
	int n = 0, sig;
	pid_t pid;

	argv[n++] = runner();
	argv[n++] = "-d";
	argv[n++] = device();
	while (*args && n < 14)
		argv[n++] = *args++;
	argv[n++] = guest;
	argv[n] = NULL;
	pid = fork();
	if (pid)
		return pid;
	setsid();
	setrlimit(RLIMIT_CORE, &no_core);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

/* The wait status, or -1 when the runner was still there after WATCHDOG s (killed). */
static int wait_for(pid_t pid)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int status;

	if (pidfd < 0 || poll(&p, 1, WATCHDOG * 1000) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (pidfd >= 0)
			close(pidfd);
		return -1;
	}
	close(pidfd);
	waitpid(pid, &status, 0);
	return status;
}

/* Reads @fd into @buf until @what is in it; false after WATCHDOG s or at EOF. */
static bool read_until(int fd, const char *what, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	buf[0] = '\0';
	while (!strstr(buf, what) && got < len - 1) {
		if (poll(&p, 1, WATCHDOG * 1000) != 1)
			return false;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			return false;
		got += n;
		buf[got] = '\0';
	}
	return strstr(buf, what);
}

/* ---- the pty ---- */

struct pty {
	int master, slave;
	struct termios cooked;		/* as a new pty is: canonical, echo, signals */
};

static void open_pty(struct __test_metadata *_metadata, struct pty *p)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, p->master) TH_LOG("posix_openpt: %s (devpts at /dev/pts?)", strerror(errno));
	ASSERT_EQ(0, grantpt(p->master));
	ASSERT_EQ(0, unlockpt(p->master));
	p->slave = ioctl(p->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		p->slave = open(ptsname(p->master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, p->slave) TH_LOG("the pty's slave: %s", strerror(errno));
	ASSERT_EQ(0, tcgetattr(p->slave, &p->cooked));
	ASSERT_TRUE(p->cooked.c_lflag & ICANON);
	ASSERT_TRUE(p->cooked.c_lflag & ISIG);
}

static void close_pty(struct pty *p)
{
	close(p->master);
	close(p->slave);
}

/* The slave's settings are the ones it had before minihv-run. */
static void expect_cooked(struct __test_metadata *_metadata, const struct pty *p)
{
	struct termios t;

	ASSERT_EQ(0, tcgetattr(p->slave, &t));
	EXPECT_EQ(p->cooked.c_lflag, t.c_lflag);
	EXPECT_EQ(p->cooked.c_iflag, t.c_iflag);
	EXPECT_EQ(p->cooked.c_oflag, t.c_oflag);
	EXPECT_EQ(p->cooked.c_cflag, t.c_cflag);
	EXPECT_EQ(0, memcmp(p->cooked.c_cc, t.c_cc, sizeof(t.c_cc)));
}

/* minihv-run took the terminal: else a restore proves nothing. */
static void expect_raw(struct __test_metadata *_metadata, const struct pty *p)
{
	struct termios t;

	ASSERT_EQ(0, tcgetattr(p->slave, &t));
	ASSERT_FALSE(t.c_lflag & (ICANON | ISIG | ECHO)) TH_LOG("lflag %#x", t.c_lflag);
}

/*
 * A platform guest (it reads the terminal, so minihv-run makes it raw)
 * that never ends; the runner is then killed by @sig from outside.  It
 * must die of that signal, with the terminal as it found it.
 */
static void killed_by(struct __test_metadata *_metadata, int sig)
{
	static const char *const args[] = { "--platform", NULL };
	const char *why = cannot_run_guests();
	char guest[64], out[256];
	struct pty p;
	int status;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, ready_spin, sizeof(ready_spin));
	open_pty(_metadata, &p);
	pid = spawn(args, guest, p.slave, p.slave, p.slave);
	ASSERT_LT(0, pid);
	EXPECT_TRUE(read_until(p.master, "R", out, sizeof(out))) TH_LOG("output: %s", out);
	expect_raw(_metadata, &p);
	kill(pid, sig);
	status = wait_for(pid);
	unlink(guest);
	ASSERT_NE(-1, status) TH_LOG("minihv-run did not end after signal %d", sig);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
		TH_LOG("wait status %#x, not killed by %d", status, sig);
	expect_cooked(_metadata, &p);
	close_pty(&p);
}

#define KILLED_BY(name, sig)		\
TEST(terminal_restored_after_##name)	\
{					\
	killed_by(_metadata, sig);	\
}

KILLED_BY(sigterm, SIGTERM)
KILLED_BY(sighup, SIGHUP)
KILLED_BY(sigint, SIGINT)
KILLED_BY(sigquit, SIGQUIT)
KILLED_BY(sigpipe, SIGPIPE)
KILLED_BY(sigsegv, SIGSEGV)
KILLED_BY(sigbus, SIGBUS)
KILLED_BY(sigfpe, SIGFPE)
KILLED_BY(sigill, SIGILL)
KILLED_BY(sigabrt, SIGABRT)

/*
 * minihv-run --platform ... | head: stdin the terminal, stdout a pipe
 * whose reader goes away while the guest still prints.  SIGPIPE ends the
 * runner, and the terminal is back.
 */
TEST(terminal_restored_when_the_reader_goes)
{
	static const char *const args[] = { "--platform", NULL };
	const char *why = cannot_run_guests();
	char guest[64], out[512];
	int pipefd[2], null, status;
	struct pty p;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, flood_e9, sizeof(flood_e9));
	open_pty(_metadata, &p);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = spawn(args, guest, p.slave, pipefd[1], null);
	ASSERT_LT(0, pid);
	close(pipefd[1]);
	close(null);
	EXPECT_TRUE(read_until(pipefd[0], "xxx", out, sizeof(out)));
	expect_raw(_metadata, &p);
	close(pipefd[0]);
	status = wait_for(pid);
	unlink(guest);
	ASSERT_NE(-1, status) TH_LOG("minihv-run did not end once its stdout was closed");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		TH_LOG("wait status %#x", status);
	expect_cooked(_metadata, &p);
	close_pty(&p);
}

/*
 * Ctrl-A x ends a guest that never ends and never reads its input: exit
 * status 6, a message, the terminal back.
 */
TEST(ctrl_a_x_quits)
{
	static const char *const args[] = { "--platform", NULL };
	const char *why = cannot_run_guests();
	char guest[64], errpath[64], out[256], err[1024];
	int errfd, status;
	struct pty p;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, ready_spin, sizeof(ready_spin));
	errfd = temp_file(_metadata, errpath);
	open_pty(_metadata, &p);
	pid = spawn(args, guest, p.slave, p.slave, errfd);
	ASSERT_LT(0, pid);
	EXPECT_TRUE(read_until(p.master, "R", out, sizeof(out))) TH_LOG("output: %s", out);
	expect_raw(_metadata, &p);
	ASSERT_EQ(2, write(p.master, CTRL_A "x", 2));
	status = wait_for(pid);
	unlink(guest);
	read_back(errfd, err, sizeof(err));
	ASSERT_NE(-1, status) TH_LOG("Ctrl-A x did not end the run; stderr: %s", err);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 6)
		TH_LOG("wait status %#x; stderr: %s", status, err);
	EXPECT_NE(NULL, strstr(err, "quit")) TH_LOG("stderr: %s", err);
	expect_cooked(_metadata, &p);
	close(errfd);
	close_pty(&p);
}

/*
 * The other keys: Ctrl-A Ctrl-A is one Ctrl-A for the guest, Ctrl-A c a
 * status line and Ctrl-A h the keys, both on stderr; neither reaches the
 * guest, which echoes what it gets (to the terminal: Ctrl-A shown as ^A).
 */
TEST(ctrl_a_keys)
{
	static const char *const args[] = { "--platform", NULL };
	const char *why = cannot_run_guests();
	char guest[64], errpath[64], out[256], err[4096];
	int errfd, status;
	struct pty p;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, echo_com1, sizeof(echo_com1));
	errfd = temp_file(_metadata, errpath);
	open_pty(_metadata, &p);
	pid = spawn(args, guest, p.slave, p.slave, errfd);
	ASSERT_LT(0, pid);
	EXPECT_TRUE(read_until(p.master, "R", out, sizeof(out))) TH_LOG("output: %s", out);
	ASSERT_EQ(11, write(p.master, "a" CTRL_A CTRL_A "b" CTRL_A "c" CTRL_A "hc.", 11));
	EXPECT_TRUE(read_until(p.master, ".", out, sizeof(out))) TH_LOG("output: %s", out);
	status = wait_for(pid);
	unlink(guest);
	read_back(errfd, err, sizeof(err));
	ASSERT_NE(-1, status) TH_LOG("the guest did not get its '.'; output: %s", out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
		TH_LOG("wait status %#x; stderr: %s", status, err);
	/* The guest's line, raw terminal: no \r added by the pty. */
	EXPECT_NE(NULL, strstr(out, "a^Abc.")) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(err, "vCPU 0: running")) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "escape keys")) TH_LOG("stderr: %s", err);
	expect_cooked(_metadata, &p);
	close(errfd);
	close_pty(&p);
}

/*
 * A guest writes an OSC title sequence, BEL, a raw CSI (9Bh) and a UTF-8
 * one (C2h 9Bh) between letters, then a UTF-8 dash (E2h 80h 94h: its
 * continuation bytes are no C1 controls).  On a terminal they are shown
 * as cat -v shows them, unless --raw-console.
 */
static void control_sequences(struct __test_metadata *_metadata, bool raw, const char *expected)
{
	const char *const args[] = { raw ? "--raw-console" : NULL, NULL };
	const char *why = cannot_run_guests();
	char guest[64], out[512];
	struct pty p;
	int null, status;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_text_guest(_metadata, guest, "A\x1b]0;pwned\x07" "B\x9b" "C\xc2\x9b" "D\xe2\x80\x94" "E\n");
	open_pty(_metadata, &p);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = spawn(args, guest, null, p.slave, null);
	ASSERT_LT(0, pid);
	close(null);
	EXPECT_TRUE(read_until(p.master, "E\r\n", out, sizeof(out))) TH_LOG("output: %s", out);
	status = wait_for(pid);
	unlink(guest);
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("wait status %#x", status);
	EXPECT_STREQ(expected, out);
	close_pty(&p);
}

TEST(control_sequences_shown_on_a_terminal)
{
	control_sequences(_metadata, false, "A^[]0;pwned^GBM-^[CM-^[D\xe2\x80\x94" "E\r\n");
}

TEST(control_sequences_passed_with_raw_console)
{
	control_sequences(_metadata, true, "A\x1b]0;pwned\x07" "B\x9b" "C\xc2\x9b" "D\xe2\x80\x94" "E\r\n");
}

/*
 * stdout a pipe nobody reads, a guest that prints forever: --timeout 2
 * still ends the run, with status 124, while the pipe is unread, and
 * stderr counts what was not written (so the writer was stalled indeed:
 * the pipe is made one page small for that).
 */
static void stalled_reader(struct __test_metadata *_metadata, const uint8_t *code,
			   size_t len, bool platform)
{
	const char *const args[] = { "--timeout", "2", platform ? "--platform" : NULL, NULL };
	const char *why = cannot_run_guests();
	char guest[64], errpath[64], err[4096];
	int pipefd[2], null, errfd, status;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, code, len);
	errfd = temp_file(_metadata, errpath);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	fcntl(pipefd[1], F_SETPIPE_SZ, 4096);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = spawn(args, guest, null, pipefd[1], errfd);
	ASSERT_LT(0, pid);
	close(null);
	close(pipefd[1]);
	status = wait_for(pid);		/* the pipe is not read meanwhile */
	unlink(guest);
	read_back(errfd, err, sizeof(err));
	ASSERT_NE(-1, status) TH_LOG("still running %d s after a 2 s timeout; stderr: %s",
				     WATCHDOG, err);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 124)
		TH_LOG("wait status %#x; stderr: %s", status, err);
	EXPECT_NE(NULL, strstr(err, "timeout")) TH_LOG("stderr: %s", err);
	EXPECT_NE(NULL, strstr(err, "not written")) TH_LOG("stderr: %s", err);
	close(pipefd[0]);
	close(errfd);
}

TEST(timeout_with_a_stalled_reader_port_e9)
{
	stalled_reader(_metadata, flood_e9, sizeof(flood_e9), false);
}

TEST(timeout_with_a_stalled_reader_port_e9_string)
{
	stalled_reader(_metadata, flood_e9_string, sizeof(flood_e9_string), false);
}

TEST(timeout_with_a_stalled_reader_com1_string)
{
	stalled_reader(_metadata, flood_com1_string, sizeof(flood_com1_string), true);
}

/*
 * OUT F4h, V: status (V << 1) | 1 in 8 bits.  80h aliases 0 (status 1),
 * 45h gives 139, which a shell reads as SIGSEGV: stderr says what the
 * guest wrote in both cases, and nothing for 0 and 1.
 */
static void exit_port(struct __test_metadata *_metadata, uint8_t v, int expected,
		      const char *message)
{
	static const char *const args[] = { NULL };
	const uint8_t code[] = { MOV_AL(v), OUT_IMM(0xf4), HLT };
	const char *why = cannot_run_guests();
	char guest[64], errpath[64], err[4096];
	int null, errfd, status;
	pid_t pid;

	if (why)
		SKIP(return, "%s", why);
	write_guest(_metadata, guest, code, sizeof(code));
	errfd = temp_file(_metadata, errpath);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = spawn(args, guest, null, null, errfd);
	ASSERT_LT(0, pid);
	close(null);
	status = wait_for(pid);
	unlink(guest);
	read_back(errfd, err, sizeof(err));
	ASSERT_NE(-1, status);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == expected)
		TH_LOG("wait status %#x; stderr: %s", status, err);
	if (message) {
		EXPECT_NE(NULL, strstr(err, message)) TH_LOG("stderr: %s", err);
	} else {
		EXPECT_EQ(NULL, strstr(err, "port 0xf4")) TH_LOG("stderr: %s", err);
	}
	close(errfd);
}

TEST(exit_port_0)
{
	exit_port(_metadata, 0x00, 1, NULL);
}

TEST(exit_port_1)
{
	exit_port(_metadata, 0x01, 3, NULL);
}

TEST(exit_port_45h_is_no_signal)
{
	exit_port(_metadata, 0x45, 139, "the guest wrote 0x45 to port 0xf4: exit status 139");
}

TEST(exit_port_80h_aliases_0)
{
	exit_port(_metadata, 0x80, 1, "the guest wrote 0x80 to port 0xf4: (V << 1) | 1 = 257");
}

TEST_HARNESS_MAIN
