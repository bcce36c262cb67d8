// SPDX-License-Identifier: GPL-2.0
/*
 * udp_echo PORT: sends every datagram it receives on UDP port PORT back to
 * where it came from, until killed.  Not a test: linux_boot_test's Linux
 * guest runs it (make_initramfs puts it in the guest's initramfs), so that
 * a datagram through minihv-run's hostfwd=udp: comes back to the test;
 * busybox's nc speaks TCP only.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len;
	char buf[2048];
	ssize_t n;
	int s;

	if (argc != 2) {
		fprintf(stderr, "usage: udp_echo PORT\n");
		return 2;
	}
	a.sin_port = htons(atoi(argv[1]));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_echo");
		return 1;
	}
	for (;;) {
		len = sizeof(a);
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&a, &len);
		if (n >= 0)
			sendto(s, buf, n, 0, (struct sockaddr *)&a, len);
	}
}
