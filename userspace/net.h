/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backends of virtio-net (virtio-net.c): --net tap=NAME and
 * --net user (net-user.c, on libslirp).  Each gives the device one file
 * descriptor, non-blocking, that carries an Ethernet frame per read() or
 * write().  Documentation/platform.rst, "Network".
 */
#ifndef MINIHV_RUN_NET_H
#define MINIHV_RUN_NET_H

#include <stdint.h>

/* The user network's addresses (QEMU's, which guests' docs assume). */
#define NET_USER_NETWORK	0x0a000200u	/* 10.0.2.0/24 */
#define NET_USER_NETMASK	0xffffff00u
#define NET_USER_GATEWAY	0x0a000202u	/* 10.0.2.2: also the host's loopback */
#define NET_USER_DNS		0x0a000203u	/* 10.0.2.3 */
#define NET_USER_GUEST		0x0a00020fu	/* 10.0.2.15: the first DHCP lease */

/*
 * Opens the backend that --net's @spec names ("tap=NAME[,mac=M]" or
 * "user[,hostfwd=...]...[,mac=M]") for network @index: its frame fd
 * in @fd and the guest's MAC address in @mac (a locally administered
 * 02:4d:48:56:00:<index + 1> unless mac= says).  0, or -1 after a
 * message on stderr.
 */
int net_open(const char *spec, unsigned int index, int *fd, uint8_t mac[6]);

/*
 * net-user.c: a user network whose thread serves the other end of @fd;
 * @hostfwd holds @nfwd forwards in QEMU's syntax
 * ("tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT").  0, or -1
 * after a message.
 */
int net_user_open(char *const *hostfwd, unsigned int nfwd, int *fd);

#endif
