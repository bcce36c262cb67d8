/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART at COM1 (ports 3F8h-3FFh, IRQ 4) for platform guests:
 * transmit to the console (console.h), receive from stdin, with the FIFO, scratch and
 * loopback Linux's 8250 driver probes for, and its interrupt on an I/O
 * APIC pin (hv_irq_line).  The register model is the National
 * Semiconductor PC16550D datasheet's.
 */
#ifndef MINIHV_RUN_UART_H
#define MINIHV_RUN_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv.h"

#define UART_COM1	0x3f8
#define UART_COM1_IRQ	4
#define UART_FIFO	16
#define UART_BACKLOG	1024	/* typed ahead on a terminal */

struct uart {
	pthread_mutex_t lock;
	pthread_cond_t room;		/* the backlog has room */
	struct hv *hv;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre;			/* THR-empty interrupt pending */
	bool irq;			/* the level last put on the pin */
	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_count;
	/* Read from stdin, not yet in the FIFO: the guest does not listen or has no room. */
	uint8_t backlog[UART_BACKLOG];
	unsigned int backlog_head, backlog_count;
	uint64_t lost;			/* typed while the backlog was full */
	bool escape;			/* stdin is the raw terminal (console_key()) */
	bool stop;			/* the run ends: no more input */
};

void uart_init(struct uart *u, struct hv *hv);
/* Returns true if @port is the UART's; IN data in *@val. */
bool uart_io(struct uart *u, uint16_t port, bool in, uint32_t *val);
/*
 * Starts the thread that feeds stdin to the receiver.  @escape: stdin is
 * the raw terminal; its bytes go through console_key() and are never held
 * back by a guest that does not read them (the escape keys must work).
 */
int uart_start_input(struct uart *u, bool escape);
void uart_stop_input(struct uart *u);

#endif
