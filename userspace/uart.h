/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 16550A UART at COM1 (ports 3F8h-3FFh, IRQ 4) for platform guests:
 * transmit to stdout, receive from stdin, with the FIFO, scratch and
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

struct uart {
	pthread_mutex_t lock;
	pthread_cond_t room;		/* the receive FIFO has room */
	struct hv *hv;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thre;			/* THR-empty interrupt pending */
	bool irq;			/* the level last put on the pin */
	uint8_t rx[UART_FIFO];
	unsigned int rx_head, rx_count;
	bool stop;			/* the run ends: no more input, output never waits */
};

void uart_init(struct uart *u, struct hv *hv);
/* Returns true if @port is the UART's; IN data in *@val. */
bool uart_io(struct uart *u, uint16_t port, bool in, uint32_t *val);
/* Starts the thread that feeds stdin to the receiver (raw if a tty). */
int uart_start_input(struct uart *u);
/* Before the vCPU threads are kicked out at the end: no write waits. */
void uart_stop(struct uart *u);
void uart_stop_input(struct uart *u);

#endif
