/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv-run's side of the user's terminal: the guest's console output
 * and the terminal's state, which a guest must neither stall nor keep.
 *
 * Output: every byte the guest sends to its console (port E9h, COM1) goes
 * through a bounded buffer that one thread drains to stdout, so a reader
 * that does not read stalls that thread only, never a vCPU or the thread
 * that enforces --timeout.  A write that does not fit is dropped whole and
 * counted.  On a terminal, control characters are shown, not obeyed
 * (cat -v's notation), unless --raw-console.
 *
 * The terminal: raw while a platform guest reads it, and restored on every
 * way out: exit, the terminating signals and the crash signals (their
 * handlers restore it and re-raise with the default action).  While raw,
 * Ctrl-A is the escape key, as in QEMU: Ctrl-A x quits, c prints a status
 * line, h the keys, Ctrl-A Ctrl-A sends one Ctrl-A.
 */
#ifndef MINIHV_RUN_CONSOLE_H
#define MINIHV_RUN_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CONSOLE_ESCAPE		0x01	/* Ctrl-A */
#define CONSOLE_EXIT_QUIT	6	/* Ctrl-A x: even, as no guest's status is */

/* What the escape keys do; called from the thread that reads stdin. */
struct console_keys {
	void (*quit)(void *arg);
	void (*status)(void *arg);
	void *arg;
};

/*
 * Installs the signal handlers and starts the output thread; @raw passes
 * control characters to a terminal unchanged.  0 or -errno.
 */
int console_init(bool raw);
/* Queues @len bytes for stdout, all or nothing; never waits for the reader. */
void console_write(const void *buf, size_t len);
/*
 * Makes stdin raw if it is a terminal, with @keys on Ctrl-A; returns true
 * if it did (the escape keys are on).
 */
bool console_take_tty(const struct console_keys *keys);
/* A byte read from the raw terminal: the byte for the guest, or -1. */
int console_key(uint8_t c);
/* Gives the terminal its settings back (also from a signal handler). */
void console_restore_tty(void);
/*
 * The end: writes out what is queued, waiting until @deadline at most
 * (CLOCK_MONOTONIC; NULL: as long as it takes), and reports on stderr
 * what was dropped or left unwritten.
 */
void console_finish(const struct timespec *deadline);
/* Bytes written to stdout and dropped so far. */
void console_counts(uint64_t *written, uint64_t *dropped);
/* The line ending stderr needs now: "\r\n" while the terminal is raw. */
const char *console_eol(void);

#endif
