// SPDX-License-Identifier: GPL-2.0
/*
 * --net: which backend a virtio-net device gets (net.h).  A TAP device
 * must exist already ("ip tuntap add NAME mode tap user USER" as root
 * once): opening it then needs no privilege, and minihv-run never
 * creates or configures host interfaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "net.h"

#define NET_MAX_FWD	16

/* The TAP device @name, without packet information (no offloads: no vnet header). */
static int tap_open(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd;

	if (strlen(name) >= IFNAMSIZ || !if_nametoindex(name)) {
		fprintf(stderr, "minihv-run: --net tap=%s: no such interface (%s)\n", name,
			"ip tuntap add NAME mode tap user USER");
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "minihv-run: --net tap=%s: /dev/net/tun: %s\n", name, strerror(errno));
		return -1;
	}
	strcpy(ifr.ifr_name, name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		fprintf(stderr, "minihv-run: --net tap=%s: %s (another user's TAP device?)\n",
			name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* "xx:xx:xx:xx:xx:xx", unicast. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || (b[0] & 1))
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

int net_open(const char *spec, unsigned int index, int *fd, uint8_t mac[6])
{
	/* Locally administered (02h), "MHV", then the network's number. */
	static const uint8_t base_mac[6] = { 0x02, 0x4d, 0x48, 0x56, 0x00, 0x00 };
	char *copy, *opt, *save, *tap = NULL, *fwd[NET_MAX_FWD];
	unsigned int nfwd = 0;
	bool user = false;
	int r = -1;

	memcpy(mac, base_mac, 6);
	mac[5] = index + 1;
	copy = strdup(spec);
	if (!copy)
		return -1;
	for (opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (opt == copy && !strcmp(opt, "user")) {
			user = true;
		} else if (opt == copy && !strncmp(opt, "tap=", 4) && opt[4]) {
			tap = opt + 4;
		} else if (!strncmp(opt, "mac=", 4)) {
			if (parse_mac(opt + 4, mac)) {
				fprintf(stderr, "minihv-run: --net %s: bad MAC address '%s'\n", spec,
					opt + 4);
				goto out;
			}
		} else if (user && !strncmp(opt, "hostfwd=", 8) && nfwd < NET_MAX_FWD) {
			fwd[nfwd++] = opt + 8;
		} else {
			fprintf(stderr, "minihv-run: --net %s: unknown or misplaced '%s' (%s, at most %d)\n",
				spec, opt, "tap=NAME or user first; hostfwd= for user", NET_MAX_FWD);
			goto out;
		}
	}
	if (tap) {
		*fd = tap_open(tap);
		r = *fd < 0 ? -1 : 0;
	} else if (user) {
		r = net_user_open(fwd, nfwd, fd);
	} else {
		fprintf(stderr, "minihv-run: --net %s: tap=NAME or user\n", spec);
	}
out:
	free(copy);
	return r;
}
