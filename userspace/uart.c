// SPDX-License-Identifier: GPL-2.0
/* minihv-run's 16550A: see uart.h.  Register numbers are the datasheet's. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "uart.h"

/* Registers (offset from the base; DLAB = LCR bit 7 selects the divisor). */
#define RBR_THR_DLL	0
#define IER_DLM		1
#define IIR_FCR		2
#define LCR		3
#define MCR		4
#define LSR		5
#define MSR		6
#define SCR		7

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* THR empty */
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0	/* FIFOs enabled: a 16550A */
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the interrupt onto the PC's IRQ line */
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

static pthread_t input_thread;

void uart_init(struct uart *u, struct hv *hv)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->room, NULL);
	u->hv = hv;
	u->dll = 12;	/* 9600 baud, as firmware leaves it */
}

/* The interrupt identification: receive before transmit (table 4). */
static uint8_t uart_iir(struct uart *u)
{
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre)
		return IIR_THRI;
	return IIR_NONE;
}

/* The pin follows the pending interrupt, gated by OUT2 as on a PC. */
static void uart_update_irq(struct uart *u)
{
	bool level = uart_iir(u) != IIR_NONE && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);

	if (level != u->irq) {
		u->irq = level;
		hv_irq_line(u->hv, UART_COM1_IRQ, level);
	}
}

static void uart_receive(struct uart *u, uint8_t c)
{
	if (u->rx_count < UART_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = c;
		u->rx_count++;
	}
}

/* Queued, never written here: a reader that does not read stalls no vCPU. */
static void uart_transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		uart_receive(u, c);
	else
		console_write(&c, 1);
}

static uint8_t uart_read(struct uart *u, unsigned int reg)
{
	uint8_t v, iir;

	switch (reg) {
	case RBR_THR_DLL:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->rx_count)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO;
		u->rx_count--;
		return v;
	case IER_DLM:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR_FCR:
		iir = uart_iir(u);
		/* Reading IIR with THR empty as its answer clears that interrupt. */
		if (iir == IIR_THRI)
			u->thre = false;
		return iir | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case MSR:
		/* Loopback wires the modem outputs to the inputs (8.6.4). */
		if (u->mcr & MCR_LOOP)
			return ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
			       ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			       ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
			       ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR_DLL:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		/* Sent at once: THR is empty again, which is an interrupt. */
		uart_transmit(u, v);
		u->thre = true;
		break;
	case IER_DLM:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling the THR-empty interrupt with THR empty raises it. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thre = true;
		u->ier = v & 0x0f;
		break;
	case IIR_FCR:
		u->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		break;
	case SCR:
		u->scr = v;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
}

/*
 * The guest listens once a driver opened the port: receive interrupts on
 * and OUT2 set (the PC's interrupt gate), outside loopback.  A probe that
 * turns IER on for a moment, and the FIFO clearing at open, come before.
 */
static bool uart_listening(struct uart *u)
{
	return (u->ier & IER_RDI) && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
}

/* The backlog into the FIFO, as far as the guest listens and has room. */
static void uart_fill(struct uart *u)
{
	bool moved = false;

	while (u->backlog_count && u->rx_count < UART_FIFO && uart_listening(u)) {
		uart_receive(u, u->backlog[u->backlog_head]);
		u->backlog_head = (u->backlog_head + 1) % UART_BACKLOG;
		u->backlog_count--;
		moved = true;
	}
	if (moved)
		pthread_cond_signal(&u->room);
}

bool uart_io(struct uart *u, uint16_t port, bool in, uint32_t *val)
{
	if (port < UART_COM1 || port > UART_COM1 + 7)
		return false;
	pthread_mutex_lock(&u->lock);
	if (in)
		*val = uart_read(u, port - UART_COM1);
	else
		uart_write(u, port - UART_COM1, *val);
	/* A read made room; a write may have opened the port. */
	uart_fill(u);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return true;
}

/*
 * stdin to the receive FIFO through the backlog, which uart_fill()
 * empties as the guest reads and while it listens (uart_listening()).
 * From a pipe or a file the backlog holds one byte and the thread waits
 * for room: nothing piped is lost, not even what comes before the guest
 * is up (flow control, as RTS/CTS gives a real line), and no more is read
 * than the guest takes.  From the raw terminal it reads on, whatever the
 * guest does, so that the escape keys always work; what is typed beyond
 * the backlog is lost, as on a line without flow control.  At end of
 * input the thread ends; the guest sees no more data.
 */
static void *uart_input(void *arg)
{
	struct uart *u = arg;
	unsigned int limit = u->escape ? UART_BACKLOG : 1;
	uint8_t c;
	ssize_t n;
	int key;

	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (u->escape) {
			key = console_key(c);
			if (key < 0)
				continue;
			c = key;
		}
		pthread_mutex_lock(&u->lock);
		while (!u->escape && u->backlog_count == limit && !u->stop)
			pthread_cond_wait(&u->room, &u->lock);
		if (u->stop) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		if (u->backlog_count < limit) {
			u->backlog[(u->backlog_head + u->backlog_count) % UART_BACKLOG] = c;
			u->backlog_count++;
		} else {
			u->lost++;
		}
		uart_fill(u);
		uart_update_irq(u);
		pthread_mutex_unlock(&u->lock);
	}
	return NULL;
}

int uart_start_input(struct uart *u, bool escape)
{
	u->escape = escape;
	return -pthread_create(&input_thread, NULL, uart_input, u);
}

/*
 * The run ends: the input thread stops feeding (it may be blocked in
 * read(): it is detached, not joined).
 */
void uart_stop_input(struct uart *u)
{
	pthread_mutex_lock(&u->lock);	/* the vCPU threads are gone */
	u->stop = true;
	pthread_cond_broadcast(&u->room);
	pthread_mutex_unlock(&u->lock);
	pthread_detach(input_thread);
}
