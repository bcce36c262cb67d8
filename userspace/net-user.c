// SPDX-License-Identifier: GPL-2.0
/*
 * --net user: rootless networking on libslirp, the TCP/IP stack in user
 * space that QEMU uses.  The guest sees a router at 10.0.2.2 that gives
 * it 10.0.2.15 by DHCP, a DNS proxy at 10.0.2.3 (to the host's
 * resolv.conf servers), and the host's own loopback behind 10.0.2.2;
 * its connections become the host's sockets, owned by the user who runs
 * minihv-run.  hostfwd= listens on a host port and connects each client
 * to a port of the guest.
 *
 * The stack runs on a thread of its own, the only one that calls into
 * it: frames come and go over a SOCK_SEQPACKET socket pair (a frame a
 * message), whose other end the virtio-net device (virtio-net.c) treats
 * as it treats a TAP device.  So the device's thread never waits on
 * libslirp, and libslirp needs no lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "net.h"

#define FRAME_MAX	65550
#define TIMERS_MAX	8
#define GUEST_MSGS	10	/* messages a guest can cause, at most */

struct user_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;	/* -1: not armed */
	bool used;
};

/* The thread's own data: nothing here is shared. */
struct user_net {
	Slirp *slirp;
	int fd;				/* our end of the socket pair */
	struct pollfd *pfd;		/* fd, then libslirp's sockets */
	unsigned int npfd, max_pfd;
	struct user_timer timers[TIMERS_MAX];
	unsigned int guest_msgs;
	uint8_t frame[FRAME_MAX];
};

static int64_t clock_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A frame for the guest; a full socket drops it, as a full wire would. */
static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct user_net *u = opaque;

	if (send(u->fd, buf, len, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		fprintf(stderr, "minihv-run: --net user: %s\n", strerror(errno));
	return len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct user_net *u = opaque;

	if (u->guest_msgs >= GUEST_MSGS)
		return;
	u->guest_msgs++;
	fprintf(stderr, "minihv-run: --net user: guest error: %s\n", msg);
}

static void *timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user_net *u = opaque;
	unsigned int i;

	for (i = 0; i < TIMERS_MAX; i++) {
		if (!u->timers[i].used) {
			u->timers[i] = (struct user_timer){ cb, cb_opaque, -1, true };
			return &u->timers[i];
		}
	}
	/* libslirp 4.7 makes one (IPv6 router advertisements): never reached. */
	fprintf(stderr, "minihv-run: --net user: out of timers\n");
	abort();
}

static void timer_free(void *timer, void *opaque)
{
	(void)opaque;
	((struct user_timer *)timer)->used = false;
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct user_timer *)timer)->expire_ms = expire_ms;
}

static void poll_fd_nop(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void notify_nop(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_ns,
	.timer_new = timer_new,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = poll_fd_nop,
	.unregister_poll_fd = poll_fd_nop,
	.notify = notify_nop,	/* only this thread calls libslirp: nothing to wake */
};

/* slirp_pollfds_fill()'s callback: one more pollfd; its index. */
static int add_poll(int fd, int events, void *opaque)
{
	struct user_net *u = opaque;
	struct pollfd *p;

	if (u->npfd == u->max_pfd) {
		p = realloc(u->pfd, 2 * u->max_pfd * sizeof(*p));
		if (!p)
			return -1;	/* not polled this round */
		u->pfd = p;
		u->max_pfd *= 2;
	}
	u->pfd[u->npfd] = (struct pollfd){
		.fd = fd,
		.events = (events & SLIRP_POLL_IN ? POLLIN : 0) |
			  (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
			  (events & SLIRP_POLL_PRI ? POLLPRI : 0),
	};
	return u->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct user_net *u = opaque;
	short r;

	if (idx < 1 || (unsigned int)idx >= u->npfd)
		return 0;
	r = u->pfd[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* Runs the timers that are due; the milliseconds to the next, or -1. */
static int run_timers(struct user_net *u)
{
	int64_t now = clock_ns(NULL) / 1000000, next = -1;
	struct user_timer *t;
	unsigned int i;

	for (i = 0; i < TIMERS_MAX; i++) {
		t = &u->timers[i];
		if (!t->used || t->expire_ms < 0)
			continue;
		if (t->expire_ms <= now) {
			t->expire_ms = -1;
			t->cb(t->cb_opaque);	/* may re-arm it */
		}
		if (t->expire_ms >= 0 && (next < 0 || t->expire_ms - now < next))
			next = t->expire_ms > now ? t->expire_ms - now : 0;
	}
	return next;
}

/* Until the device's end of the pair closes (minihv-run's exit ends it anyway). */
static void *user_thread(void *arg)
{
	struct user_net *u = arg;
	uint32_t timeout;
	ssize_t len;
	int r, t;

	for (;;) {
		t = run_timers(u);
		timeout = t < 0 ? UINT32_MAX : (uint32_t)t;
		u->npfd = 1;
		u->pfd[0] = (struct pollfd){ .fd = u->fd, .events = POLLIN };
		slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
		r = poll(u->pfd, u->npfd, timeout == UINT32_MAX ? -1 : (int)timeout);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "minihv-run: --net user: poll: %s\n", strerror(errno));
			break;
		}
		if (r > 0 && (u->pfd[0].revents & POLLHUP))
			break;
		if (r > 0 && (u->pfd[0].revents & POLLIN))
			while ((len = recv(u->fd, u->frame, sizeof(u->frame), MSG_DONTWAIT)) > 0)
				slirp_input(u->slirp, u->frame, len);
		slirp_pollfds_poll(u->slirp, r < 0, get_revents, u);
	}
	return NULL;
}

/* "[ADDR]:PORT" at *@s: the address ("" if none) and the port; moves *@s past them. */
static int parse_endpoint(const char **s, char addr[16], unsigned int *port)
{
	int n = 0;

	addr[0] = '\0';
	if (**s != ':' && sscanf(*s, "%15[0-9.]", addr) != 1)
		return -1;
	*s += strlen(addr);
	if (sscanf(*s, ":%5u%n", port, &n) != 1 || !n || !*port || *port > 65535)
		return -1;
	*s += n;
	return 0;
}

/* "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT", as QEMU spells it. */
static int add_hostfwd(Slirp *slirp, const char *spec)
{
	char proto[4], haddr[16], gaddr[16];
	unsigned int hport, gport;
	struct in_addr host = { INADDR_ANY }, guest = { 0 };
	const char *orig = spec;
	int n = 0;

	if (sscanf(spec, "%3[a-z]:%n", proto, &n) != 1 || !n ||
	    (strcmp(proto, "tcp") && strcmp(proto, "udp")))
		goto bad;
	spec += n;
	if (parse_endpoint(&spec, haddr, &hport) || *spec++ != '-' ||
	    parse_endpoint(&spec, gaddr, &gport) || *spec)
		goto bad;
	if ((*haddr && !inet_aton(haddr, &host)) || (*gaddr && !inet_aton(gaddr, &guest)))
		goto bad;
	/* A guest address of 0 is the first DHCP lease, 10.0.2.15. */
	if (slirp_add_hostfwd(slirp, !strcmp(proto, "udp"), host, hport, guest, gport)) {
		fprintf(stderr, "minihv-run: --net user: hostfwd=%s: cannot listen on port %u\n",
			orig, hport);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "minihv-run: --net user: bad hostfwd=%s (tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)\n",
		orig);
	return -1;
}

int net_user_open(char *const *hostfwd, unsigned int nfwd, int *fd)
{
	SlirpConfig cfg = {
		.version = 1,
		.in_enabled = true,
		.vnetwork.s_addr = htonl(NET_USER_NETWORK),
		.vnetmask.s_addr = htonl(NET_USER_NETMASK),
		.vhost.s_addr = htonl(NET_USER_GATEWAY),
		.vdhcp_start.s_addr = htonl(NET_USER_GUEST),
		.vnameserver.s_addr = htonl(NET_USER_DNS),
	};
	struct user_net *u;
	pthread_t thread;
	unsigned int i;
	int sv[2];

	u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	u->max_pfd = 16;
	u->pfd = calloc(u->max_pfd, sizeof(*u->pfd));
	if (!u->pfd)
		goto err_free;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "minihv-run: --net user: socketpair: %s\n", strerror(errno));
		goto err_free;
	}
	u->fd = sv[1];
	u->slirp = slirp_new(&cfg, &callbacks, u);
	if (!u->slirp) {
		fprintf(stderr, "minihv-run: --net user: libslirp failed to start\n");
		goto err_close;
	}
	for (i = 0; i < nfwd; i++)
		if (add_hostfwd(u->slirp, hostfwd[i]))
			goto err_slirp;
	if (pthread_create(&thread, NULL, user_thread, u)) {
		fprintf(stderr, "minihv-run: --net user: cannot create its thread\n");
		goto err_slirp;
	}
	pthread_detach(thread);
	*fd = sv[0];
	return 0;

err_slirp:
	slirp_cleanup(u->slirp);
err_close:
	close(sv[0]);
	close(sv[1]);
err_free:
	free(u->pfd);
	free(u);
	return -1;
}
