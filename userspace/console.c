// SPDX-License-Identifier: GPL-2.0
/* minihv-run's console output and terminal: see console.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

#define RING_SIZE	(64 << 10)	/* a screenful many times over */
#define CHUNK		1024		/* taken from the ring per write() */

/*
 * The output queue.  The lock is never held across write(): a vCPU that
 * queues output waits for another vCPU's memcpy at most.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t data;		/* bytes queued, or closing */
	pthread_cond_t drained;		/* the output thread wrote a chunk */
	char ring[RING_SIZE];		/* [lock] */
	size_t head, count;		/* [lock] */
	size_t inflight;		/* [lock] taken, being written */
	bool closing;			/* [lock] console_finish() waits */
	bool broken;			/* [lock] stdout failed: drop the rest */
	uint64_t written, dropped;	/* [lock] */
	bool filter;			/* stdout is a terminal, no --raw-console */
	pthread_t thread;
} out = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.data = PTHREAD_COND_INITIALIZER,
};

/* The terminal as it was; tty_raw while it is not. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_raw;
static struct console_keys keys;	/* the input thread's only */
static bool escape_seen;		/* the input thread's only */

/* ---- the terminal ---- */

/* Async-signal-safe: tcsetattr() is on POSIX's list (signal-safety(7)). */
void console_restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_raw = 0;
}

const char *console_eol(void)
{
	return tty_raw ? "\r\n" : "\n";
}

/*
 * A signal that ends the process: the terminal first, then the signal's
 * own default action (SA_RESETHAND put it back, SA_NODEFER leaves it
 * unblocked), so that the parent sees what killed us, and a crash dumps
 * its core where it happened.
 */
static void on_fatal_signal(int sig)
{
	console_restore_tty();
	raise(sig);
}

/*
 * The signals that end the process by default.  A terminating one the
 * parent ignores (nohup's SIGHUP) stays ignored; the crash signals are
 * always caught.
 */
static void install_signal_handlers(void)
{
	static const int terminating[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGPIPE };
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa = {
		.sa_handler = on_fatal_signal,
		.sa_flags = SA_RESETHAND | SA_NODEFER,
	};
	struct sigaction old;
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(terminating) / sizeof(terminating[0]); i++)
		if (!sigaction(terminating[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(terminating[i], &sa, NULL);
	for (i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		sigaction(crash[i], &sa, NULL);
}

bool console_take_tty(const struct console_keys *k)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty))
		return false;
	keys = *k;
	t = saved_tty;
	cfmakeraw(&t);	/* every key to the guest; its tty layer sends \r\n itself */
	/* Marked first: a signal in between restores a terminal not yet raw, harmless. */
	tty_raw = 1;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t)) {
		tty_raw = 0;
		return false;
	}
	return true;
}

static void print_keys(void)
{
	const char *e = console_eol();

	fprintf(stderr, "minihv-run: escape keys: Ctrl-A, then%s"
		"  x       quit (exit status %d)%s"
		"  c       status: vCPUs, exits, console, uptime%s"
		"  h       these keys%s"
		"  Ctrl-A  send one Ctrl-A to the guest%s",
		e, CONSOLE_EXIT_QUIT, e, e, e, e);
}

/*
 * QEMU's multiplexer keys (its -nographic), so that hands know them;
 * any other key after Ctrl-A is dropped with it.
 */
int console_key(uint8_t c)
{
	if (!escape_seen) {
		if (c != CONSOLE_ESCAPE)
			return c;
		escape_seen = true;
		return -1;
	}
	escape_seen = false;
	switch (c) {
	case CONSOLE_ESCAPE:
		return c;
	case 'x':
	case 'X':
		keys.quit(keys.arg);
		break;
	case 'c':
	case 'C':
		keys.status(keys.arg);
		break;
	case 'h':
	case 'H':
	case '?':
		print_keys();
		break;
	}
	return -1;
}

/* ---- output ---- */

/*
 * A terminal obeys C0 controls (ESC starts the sequences that set its
 * title, remap keys, answer back...) and C1 ones (CSI 9Bh, OSC 9Dh...):
 * as bytes on an 8-bit terminal and as U+0080-U+009F (C2h 80h-9Fh) on a
 * UTF-8 one.  Each is shown instead, as cat -v shows it (^[ for ESC, M-^[
 * for CSI).  Newline, carriage return, tab, backspace and the rest of
 * UTF-8 pass, its continuation bytes 80h-9Fh included.
 */
struct filter {
	unsigned int need;	/* continuation bytes still expected */
	bool lead_c2;		/* a C2h held back: it may start a C1 control */
};

static size_t show(uint8_t c, char *o)
{
	size_t n = 0;

	if (c & 0x80) {
		o[n++] = 'M';
		o[n++] = '-';
	}
	o[n++] = '^';
	o[n++] = (c & 0x7f) ^ 0x40;
	return n;
}

static bool is_control(uint8_t c)
{
	if (c < 0x20)
		return c != '\n' && c != '\r' && c != '\t' && c != '\b';
	return c >= 0x80 && c <= 0x9f;
}

/* Writes at most 5 bytes to @o (a held C2h, then M-^x); returns how many. */
static size_t filter_byte(struct filter *f, uint8_t c, char *o)
{
	size_t n = 0;

	if (f->lead_c2) {
		f->lead_c2 = false;
		if (c >= 0x80 && c <= 0x9f)
			return show(c, o);
		o[n++] = (char)0xc2;
		if (c >= 0xa0 && c <= 0xbf) {
			o[n++] = c;
			return n;
		}
	} else if (f->need) {
		if (c >= 0x80 && c <= 0xbf) {
			f->need--;
			o[n++] = c;
			return n;
		}
		f->need = 0;	/* not UTF-8 after all: c on its own */
	}
	if (is_control(c))
		return n + show(c, o + n);
	if (c == 0xc2) {
		f->lead_c2 = true;
		return n;
	}
	if (c >= 0xc3 && c <= 0xdf)
		f->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		f->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		f->need = 3;
	o[n++] = c;
	return n;
}

/* All of it, or false when stdout failed (a closed pipe without SIGPIPE...). */
static bool write_all(const char *p, size_t len)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {	/* a non-blocking stdout we inherited */
			poll(&pfd, 1, -1);
			continue;
		}
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static void *console_output(void *arg)
{
	static char chunk[CHUNK], shown[5 * CHUNK];
	struct filter f = { 0 };
	size_t n, len, i;
	bool ok;

	(void)arg;
	pthread_mutex_lock(&out.lock);
	for (;;) {
		while (!out.count && !out.closing)
			pthread_cond_wait(&out.data, &out.lock);
		if (!out.count)
			break;
		n = out.count < CHUNK ? out.count : CHUNK;
		if (n > RING_SIZE - out.head)
			n = RING_SIZE - out.head;
		memcpy(chunk, out.ring + out.head, n);
		out.head = (out.head + n) % RING_SIZE;
		out.count -= n;
		out.inflight = n;
		pthread_mutex_unlock(&out.lock);

		if (out.filter) {
			for (i = 0, len = 0; i < n; i++)
				len += filter_byte(&f, chunk[i], shown + len);
			ok = write_all(shown, len);
		} else {
			ok = write_all(chunk, n);
		}

		pthread_mutex_lock(&out.lock);
		out.inflight = 0;
		if (ok) {
			out.written += n;
		} else {
			out.broken = true;
			out.dropped += n + out.count;
			out.count = 0;
		}
		pthread_cond_broadcast(&out.drained);
	}
	pthread_mutex_unlock(&out.lock);
	return NULL;
}

void console_write(const void *buf, size_t len)
{
	size_t tail, first;

	pthread_mutex_lock(&out.lock);
	if (out.broken || len > RING_SIZE - out.count) {
		out.dropped += len;
	} else {
		tail = (out.head + out.count) % RING_SIZE;
		first = len < RING_SIZE - tail ? len : RING_SIZE - tail;
		memcpy(out.ring + tail, buf, first);
		memcpy(out.ring, (const char *)buf + first, len - first);
		out.count += len;
		pthread_cond_signal(&out.data);
	}
	pthread_mutex_unlock(&out.lock);
}

void console_counts(uint64_t *written, uint64_t *dropped)
{
	pthread_mutex_lock(&out.lock);
	*written = out.written;
	*dropped = out.dropped;
	pthread_mutex_unlock(&out.lock);
}

int console_init(bool raw)
{
	pthread_condattr_t ca;

	install_signal_handlers();
	atexit(console_restore_tty);
	out.filter = !raw && isatty(STDOUT_FILENO);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&out.drained, &ca);
	pthread_condattr_destroy(&ca);
	return -pthread_create(&out.thread, NULL, console_output, NULL);
}

void console_finish(const struct timespec *deadline)
{
	uint64_t dropped, left;
	bool done;
	int r = 0;

	pthread_mutex_lock(&out.lock);
	out.closing = true;
	pthread_cond_signal(&out.data);
	while ((out.count || out.inflight) && r != ETIMEDOUT)
		r = deadline ? pthread_cond_timedwait(&out.drained, &out.lock, deadline)
			     : pthread_cond_wait(&out.drained, &out.lock);
	left = out.count + out.inflight;
	done = !left;
	dropped = out.dropped;
	pthread_mutex_unlock(&out.lock);

	/* Else it stays blocked in write() until the process exits. */
	if (done)
		pthread_join(out.thread, NULL);
	if (dropped)
		fprintf(stderr, "minihv-run: console: %llu bytes dropped (stdout did not keep up)\n",
			(unsigned long long)dropped);
	if (left)
		fprintf(stderr, "minihv-run: console: %llu bytes not written (stdout still blocked at the end)\n",
			(unsigned long long)left);
}
