// SPDX-License-Identifier: GPL-2.0
/*
 * tcp-rr: make bench's TCP request/response rate (netperf's TCP_RR, which
 * Debian main does not ship, in a few lines of our own).  The client sends
 * one byte and waits for the server's one-byte answer, again and again for
 * a fixed time, on one connection with Nagle off: each transaction is a
 * round trip through both network stacks and, for a guest, through the
 * virtio-net device both ways, so the rate is a latency figure.
 *
 *   tcp-rr -s [-p PORT]                   serve until killed, one
 *                                         connection at a time
 *   tcp-rr -c ADDR [-p PORT] [-t SECONDS] prints "tcp-rr: N transactions
 *                                         in S s, R per second"
 *
 * Static, like minihv-bench: the test machines copy it in without libraries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT	5202	/* beside iperf3's 5201 */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Nagle would hold each 1-byte write for the peer's ACK. */
static int nodelay(int s)
{
	int one = 1;

	return setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Echo each byte back until the client closes; the next client then. */
static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s, c, one = 1;
	char b;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		fprintf(stderr, "tcp-rr: port %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "tcp-rr: accept: %s\n", strerror(errno));
			return 1;
		}
		nodelay(c);
		while (read(c, &b, 1) == 1 && write(c, &b, 1) == 1)
			;
		close(c);
	}
}

static int client(const char *addr, int port, double seconds)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long n = 0;
	double t0, t1;
	char b = 'x';
	int s;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "tcp-rr: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) || nodelay(s)) {
		fprintf(stderr, "tcp-rr: %s:%d: %s\n", addr, port, strerror(errno));
		return 1;
	}
	/* The clock is read once per transaction: a vDSO call, no exit. */
	t0 = now();
	do {
		errno = 0;
		if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) {
			fprintf(stderr, "tcp-rr: transaction %lu: %s\n", n,
				errno ? strerror(errno) : "connection closed");
			return 1;
		}
		n++;
		t1 = now();
	} while (t1 - t0 < seconds);
	close(s);
	printf("tcp-rr: %lu transactions in %.2f s, %.0f per second\n", n, t1 - t0, n / (t1 - t0));
	return 0;
}

static void bad_usage(void)
{
	fprintf(stderr, "usage: tcp-rr -s [-p PORT]\n"
		"       tcp-rr -c ADDR [-p PORT] [-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = NULL;
	int opt, server = 0, port = DEFAULT_PORT;
	double seconds = 5;

	while ((opt = getopt(argc, argv, "sc:p:t:")) != -1) {
		switch (opt) {
		case 's':
			server = 1;
			break;
		case 'c':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		default:
			bad_usage();
		}
	}
	if (server == !!addr || port <= 0 || port > 65535 || seconds <= 0)
		bad_usage();
	/* A client gone mid-write must not end the server. */
	signal(SIGPIPE, SIG_IGN);
	return server ? serve(port) : client(addr, port, seconds);
}
