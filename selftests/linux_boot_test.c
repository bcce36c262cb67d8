// SPDX-License-Identifier: GPL-2.0
/*
 * linux_boot_test: the test machine's own Debian kernel (/guests/vmlinuz)
 * boots under minihv-run to its initramfs (/guests/linux-initrd.gz,
 * scripts/linux-guest-init.sh) on the PC platform: the in-kernel local
 * APICs and I/O APIC, ACPI, COM1 with its interrupt: a real operating system,
 * unmodified.
 *
 *   four_vcpus_power_off  --cpus 4: the guest counts its CPUs, reads its
 *                         local APIC timer and serial interrupt counts
 *                         twice (both must rise: the timer ticks, the
 *                         console is interrupt driven), and powers off
 *                         through ACPI; minihv-run exits 0.  The same
 *                         boot checks the virtio devices (--rng, --disk):
 *                         /dev/hwrng gives 64 bytes; the guest mounts
 *                         the ext4 disk (host-made, mkfs.ext4 -d), checks
 *                         hello.txt's SHA-256, writes guest.txt, which
 *                         debugfs finds in the image afterwards (e2fsck
 *                         clean); the read-only disk refuses a write and
 *                         its image is unchanged.  And the network
 *                         (--net tap=, --net user,hostfwd=): the guest
 *                         fetches a file from a server in this machine
 *                         over the TAP device (10.0.3.1) and, after a
 *                         DHCP lease (10.0.2.15, DNS 10.0.2.3), over user
 *                         networking through the gateway 10.0.2.2 (this
 *                         machine's loopback); the server fetches the
 *                         guest's file through the hostfwd port; every
 *                         SHA-256 matches.  The guest looks up a name
 *                         through libslirp's DNS (10.0.2.3), which this
 *                         test answers as the machine's resolver, and a
 *                         datagram comes back through hostfwd=udp:.
 *   one_vcpu_shell_reboot one vCPU and a shell: commands piped to
 *                         minihv-run's stdin reach the guest's shell
 *                         through the UART's receive path, and `reboot -f`
 *                         (the i8042 or CF9h reset) ends the run with 0.
 *   kvm_boots_the_same    the first boot again on KVM (--device /dev/kvm)
 *                         where KVM runs in this machine (bochs-vmx): the
 *                         same report and the same clean log.
 *
 * Every machine boots its own kernel: the QEMU ones Debian's generic
 * image (about 20 s), the Bochs ones the LZ4 cloud image (about a minute).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

#define KERNEL	"vmlinuz"
#define INITRD	"/guests/linux-initrd.gz"
/* The images guest_disks (lib.sh) made, and the copies a boot uses. */
#define DISK_ORIG	"/guests/disk.ext4"
#define RO_ORIG		"/guests/ro.img"
#define DISK		"/tmp/linux_boot_disk.ext4"
#define RO		"/tmp/linux_boot_ro.img"
#define VIRTIO_APPEND	"console=ttyS0 minihv_check minihv_virtio minihv_net panic=-1"
/*
 * The network boot (linux-guest-init.sh, net_checks): the TAP device and
 * this machine's address on it, the file the guest fetches, the ports.
 */
#define TAP		"mhvtap0"
#define TAP_ADDR	"10.0.3.1"
#define NET_FILE	"/tmp/linux_boot_net.bin"
#define FWD_GOT		"/tmp/linux_boot_fwd.bin"
#define PORT_FILE	8000	/* a connection gets NET_FILE */
#define PORT_READY	8001	/* the guest listens: fetch its file through hostfwd */
#define PORT_FWD	8081	/* hostfwd=tcp::8081-:8080 */
#define PORT_UDP_FWD	8083	/* hostfwd=udp::8083-:8082, the guest's udp_echo */
#define UDP_GOT		"/tmp/linux_boot_udp.txt"
#define UDP_MSG		"a datagram through hostfwd=udp:"
/* What this machine's resolver (127.0.0.1:53, guest-init.sh) answers. */
#define DNS_NAME	"\6minihv\4test"
#define DNS_ADDR	"10.9.8.7"

static char out[1 << 20];

static const char *cannot_boot(void)
{
	int fd, vendor = 0;

	if (access("/guests/" KERNEL, R_OK) || access(INITRD, R_OK))
		return "no /guests/vmlinuz or linux-initrd.gz (make_initramfs puts them there)";
	fd = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		vendor = ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR);
		close(fd);
	}
	/*
	 * Bochs 2.7's SVM masks the host's interrupts while a guest runs
	 * with IF = 0 (design.rst, "What ends a run"), which a booting kernel
	 * does for seconds at a time: the first try did not finish in 10
	 * minutes there.  bochs-vmx and the QEMU machines boot it.
	 */
	if (vendor == MINIHV_VENDOR_SVM && machine_is_bochs())
		return "Bochs 2.7's SVM holds a host CPU while the guest has IF = 0; a Linux boot did not finish there";
	if (access("/dev/minihv", R_OK | W_OK))
		return "no /dev/minihv (minihv.ko not loaded)";
	return NULL;
}

/* The number after "@key " on the last line holding it, or -1. */
static long last_number(const char *text, const char *key)
{
	const char *p = text, *hit = NULL;

	while ((p = strstr(p, key))) {
		hit = p;
		p += strlen(key);
	}
	return hit ? strtol(hit + strlen(key), NULL, 10) : -1;
}

static long first_number(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The last @n characters of @text: where a failed boot says why. */
static const char *tail(const char *text, size_t n)
{
	size_t len = strlen(text);

	return len > n ? text + len - n : text;
}

/* Checks the minihv_check boot's report (linux-guest-init.sh). */
static void check_report(struct __test_metadata *_metadata, const char *text, int cpus)
{
	char want[64];

	/* The guest's tty ends its lines with \r\n. */
	snprintf(want, sizeof(want), "minihv-guest: nproc %d\r\n", cpus);
	ASSERT_NE(NULL, strstr(text, "minihv-guest: init started")) TH_LOG("output: %s", tail(text, 4000));
	EXPECT_NE(NULL, strstr(text, want)) TH_LOG("the APs' start: %.2000s",
						   strstr(text, "smp: Bringing up") ?: text);
	ASSERT_NE(NULL, strstr(text, "minihv-guest: done")) TH_LOG("output: %s", tail(text, 4000));
	/* Both counts rose between the two readings. */
	EXPECT_LT(first_number(text, "irq LOC "), last_number(text, "irq LOC "));
	EXPECT_LT(first_number(text, " serial "), last_number(text, " serial "));
	EXPECT_LT(0, first_number(text, "irq LOC "));
}

/* A 4-vCPU boot that powered off, and what Linux says of a platform it does not like. */
static void check_clean(struct __test_metadata *_metadata, const char *text)
{
	const char *trace = strstr(text, "Call Trace");

	EXPECT_NE(NULL, strstr(text, "minihv-run: the guest powered off"));
	/* The lines before a Call Trace name what went wrong. */
	EXPECT_EQ(NULL, trace) TH_LOG("before the trace: %.1500s",
				      trace - text > 1000 ? trace - 1000 : text);
	EXPECT_EQ(NULL, strstr(text, "unchecked MSR access"))
		TH_LOG("%.200s", strstr(text, "unchecked MSR access"));
	EXPECT_EQ(NULL, strstr(text, "ACPI Error")) TH_LOG("%.400s", strstr(text, "ACPI Error"));
}

/* A whole file into a new buffer (NUL-terminated), or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

static int copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf = slurp(from, &len);
	FILE *f = buf ? fopen(to, "wb") : NULL;
	int r = f && fwrite(buf, 1, len, f) == len ? 0 : -1;

	if (f && fclose(f))
		r = -1;
	free(buf);
	return r;
}

/* The first @n bytes of @path as lowercase hex. */
static void file_hex(const char *path, size_t n, char *hex)
{
	size_t len, i;
	char *buf = slurp(path, &len);

	hex[0] = '\0';
	for (i = 0; buf && i < n && i < len; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)buf[i]);
	free(buf);
}

/*
 * Whether a kernel message starts at @p: "[", spaces, digits, ".", digits,
 * "]".  The guest's kernel prints on the console its init writes to, so
 * a message can land inside a line of init's before its newline (seen:
 * "hrtimer: interrupt took ..." after the hwrng bytes).
 */
static bool printk_at(const char *p)
{
	if (*p++ != '[')
		return false;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '.' || *p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ']';
}

/*
 * The rest of the guest's line after @key, without the \r\n or a kernel
 * message that landed in it.
 */
static void guest_line(const char *text, const char *key, char *buf, size_t len)
{
	const char *p = strstr(text, key);
	size_t n = 0;

	if (p)
		for (p += strlen(key); p[n] && p[n] != '\r' && p[n] != '\n' &&
		     !printk_at(p + n); n++)
			;
	snprintf(buf, len, "%.*s", (int)n, p ? p : "");
}

/* A command's output (at most @len - 1 bytes) and exit status, or -1. */
static int command(const char *cmd, char *buf, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;
	int st;

	buf[0] = '\0';
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The device checks of a minihv_virtio boot: the guest's lines, then the
 * images as the guest left them.
 */
static void check_virtio(struct __test_metadata *_metadata, const char *text)
{
	char line[256], want[256], cmd[256], res[4096];
	size_t i, len, len2;
	char *a, *b;

	guest_line(text, "minihv-guest: hwrng ", line, sizeof(line));
	EXPECT_EQ(128, strlen(line)) TH_LOG("hwrng: '%s'; %s", line,
					     strstr(text, "virtio") ?: "no virtio line");
	for (i = 0; line[i] == '0'; i++)
		;
	EXPECT_LT(i, strlen(line)) TH_LOG("64 zero bytes from /dev/hwrng");
	guest_line(text, "minihv-guest: disks ", line, sizeof(line));
	EXPECT_STREQ("rw=vda ro=vdb", line);
	a = slurp("/guests/hello.sha256", &len);
	ASSERT_NE(NULL, a);
	snprintf(want, sizeof(want), "%.64s", a);
	free(a);
	guest_line(text, "minihv-guest: hello ", line, sizeof(line));
	EXPECT_STREQ(want, line) TH_LOG("hello.txt read back wrong: %s", tail(text, 3000));
	EXPECT_NE(NULL, strstr(text, "minihv-guest: unmounted"));
	EXPECT_NE(NULL, strstr(text, "minihv-guest: ro refused"));
	file_hex(RO_ORIG, 16, want);
	guest_line(text, "minihv-guest: ro head ", line, sizeof(line));
	EXPECT_STREQ(want, line);

	/* The guest's file, in the image the guest wrote. */
	snprintf(cmd, sizeof(cmd), "/usr/sbin/debugfs -R 'cat /guest.txt' %s 2>/dev/null", DISK);
	EXPECT_EQ(0, command(cmd, res, sizeof(res)));
	EXPECT_STREQ("written by the guest\n", res);
	snprintf(cmd, sizeof(cmd), "/usr/sbin/e2fsck -fn %s 2>&1", DISK);
	EXPECT_EQ(0, command(cmd, res, sizeof(res))) TH_LOG("e2fsck: %s", res);
	/* The read-only disk, byte for byte. */
	a = slurp(RO_ORIG, &len);
	b = slurp(RO, &len2);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_TRUE(len == len2 && !memcmp(a, b, len)) TH_LOG("the read-only image changed");
	free(a);
	free(b);
}

/* Sets an IPv4 address (@req SIOCSIFADDR or SIOCSIFNETMASK) of @name. */
static int if_addr(int s, const char *name, unsigned long req, const char *addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	return ioctl(s, req, &ifr);
}

static int if_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/*
 * The machine's side of the network: a persistent TAP device at
 * 10.0.3.1/24 (minihv-run only opens one), the loopback up (the user
 * network's 10.0.2.2), the file to serve.  0, or a failing step's -errno.
 */
static int net_setup(const char **step)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	char buf[4096];
	int fd, s, r, i;

	/* A module in Debian's kernels and the debug ones (debug-kernel.sh). */
	*step = "tun.ko";
	r = module_load("/lib/minihv/tun.ko", NULL);
	if (r && r != -EEXIST && access("/dev/net/tun", F_OK))
		return r;
	*step = "TUNSETIFF";
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	strcpy(ifr.ifr_name, TAP);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, 1))
		return -errno;
	close(fd);
	*step = "addresses";
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || if_addr(s, TAP, SIOCSIFADDR, TAP_ADDR) ||
	    if_addr(s, TAP, SIOCSIFNETMASK, "255.255.255.0") || if_up(s, TAP) || if_up(s, "lo"))
		return -errno;
	close(s);
	*step = NET_FILE;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != sizeof(buf))
		return -EIO;
	close(fd);
	fd = open(NET_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	/* 200 KiB: many frames, several TCP windows. */
	for (i = 0; fd >= 0 && i < 50; i++) {
		buf[i] ^= i;
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			return -EIO;
	}
	if (fd < 0 || close(fd))
		return -EIO;
	unlink(FWD_GOT);
	unlink(UDP_GOT);
	return 0;
}

static int listener(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Copies @in to @out until the end of @in; false on an error. */
static bool copy_fd(int in, int out)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return false;
	return !n;
}

/* The guest's file, through minihv-run's hostfwd port, into FWD_GOT. */
static void fetch_forwarded(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT_FWD),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int out = open(FWD_GOT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (s >= 0 && out >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a)))
		copy_fd(s, out);
	close(out);
	close(s);
}

/*
 * A datagram to the guest's echo server through hostfwd=udp: and back,
 * into UDP_GOT: five tries of two seconds, as UDP may lose one.
 */
static void udp_forwarded(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT_UDP_FWD),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), i, out;
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	char buf[128];
	ssize_t n = -1;

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		return;
	for (i = 0; i < 5 && n < 0; i++)
		if (send(s, UDP_MSG, strlen(UDP_MSG), 0) > 0 && poll(&pfd, 1, 2000) == 1)
			n = recv(s, buf, sizeof(buf), 0);
	close(s);
	out = open(UDP_GOT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out >= 0 && n > 0 && write(out, buf, n) != n)
		n = -1;
	close(out);
}

/*
 * This machine's resolver, for libslirp's DNS forwarding (RFC 1035 4.1):
 * a query for DNS_NAME's A record gets DNS_ADDR, any other an answer
 * with no record.
 */
static void dns_answer(int s)
{
	static const uint8_t rr[] = {
		0xc0, 12,		/* the name: a pointer to the question's */
		0, 1, 0, 1,		/* type A, class IN */
		0, 0, 0, 60,		/* TTL */
		0, 4,			/* the address's length */
	};
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	uint8_t q[512];
	struct in_addr addr;
	size_t end = 12, name = strlen(DNS_NAME) + 1;
	ssize_t n = recvfrom(s, q, sizeof(q) - sizeof(rr) - 4, 0, (struct sockaddr *)&from, &flen);

	if (n < 12)
		return;
	while (end < (size_t)n && q[end])	/* the question's name, label by label */
		end += q[end] + 1;
	if (end + 5 > (size_t)n)
		return;
	end += 5;				/* its end, type and class */
	q[2] = 0x81, q[3] = 0x80;		/* a response, recursion: NOERROR */
	q[4] = 0, q[5] = 1;			/* one question */
	memset(q + 6, 0, 6);			/* no answer yet, no others */
	if (end - 12 == name + 4 && !memcmp(q + 12, DNS_NAME, name) &&
	    q[end - 4] == 0 && q[end - 3] == 1) {
		memcpy(q + end, rr, sizeof(rr));
		inet_pton(AF_INET, DNS_ADDR, &addr);
		memcpy(q + end + sizeof(rr), &addr, 4);
		q[7] = 1;
		end += sizeof(rr) + 4;
	}
	sendto(s, q, end, 0, (struct sockaddr *)&from, flen);
}

/* This machine's 127.0.0.1:53 over UDP, or -1. */
static int dns_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * The server, a child process until killed: on PORT_FILE it sends
 * NET_FILE and closes; a connection on PORT_READY says the guest
 * listens, and is closed once its file is fetched and its UDP echo
 * answered; and the resolver on port 53.  The sockets listen before the
 * guest starts.  Its pid, or -1.
 */
static pid_t net_server(void)
{
	struct pollfd pfd[3] = {
		{ .fd = listener(PORT_FILE), .events = POLLIN },
		{ .fd = listener(PORT_READY), .events = POLLIN },
		{ .fd = dns_socket(), .events = POLLIN },
	};
	int c, f;
	pid_t pid;

	if (pfd[0].fd < 0 || pfd[1].fd < 0 || pfd[2].fd < 0)
		return -1;
	pid = fork();
	if (pid) {
		close(pfd[0].fd);
		close(pfd[1].fd);
		close(pfd[2].fd);
		return pid;
	}
	for (;;) {
		if (poll(pfd, 3, -1) < 0)
			_exit(1);
		if (pfd[2].revents & POLLIN)
			dns_answer(pfd[2].fd);
		if (pfd[0].revents & POLLIN) {
			c = accept(pfd[0].fd, NULL, NULL);
			f = open(NET_FILE, O_RDONLY | O_CLOEXEC);
			if (c >= 0 && f >= 0)
				copy_fd(f, c);
			close(f);
			close(c);
		}
		if (pfd[1].revents & POLLIN) {
			c = accept(pfd[1].fd, NULL, NULL);
			fetch_forwarded();
			udp_forwarded();
			close(c);
		}
	}
}

/* The SHA-256 of @path (busybox sha256sum), or "". */
static void file_sha(const char *path, char *sha, size_t len)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	command(cmd, sha, len);
	if (strlen(sha) > 64)
		sha[64] = '\0';
}

/* The network checks of a minihv_net boot. */
static void check_net(struct __test_metadata *_metadata, const char *text)
{
	char line[256], want[128];
	int f;

	guest_line(text, "minihv-guest: nics ", line, sizeof(line));
	EXPECT_TRUE(strstr(line, "tap=eth") && strstr(line, " user=eth"))
		TH_LOG("interfaces: '%s'", line);
	file_sha(NET_FILE, want, sizeof(want));
	ASSERT_EQ(64, strlen(want));
	guest_line(text, "minihv-guest: tap ", line, sizeof(line));
	EXPECT_STREQ(want, line) TH_LOG("the file over TAP");
	guest_line(text, "minihv-guest: dhcp ", line, sizeof(line));
	EXPECT_STREQ("10.0.2.15 router 10.0.2.2 dns 10.0.2.3", line);
	guest_line(text, "minihv-guest: user ", line, sizeof(line));
	EXPECT_STREQ(want, line) TH_LOG("the file over user networking");
	guest_line(text, "minihv-guest: served ", line, sizeof(line));
	file_sha(FWD_GOT, want, sizeof(want));
	EXPECT_EQ(64, strlen(line));
	EXPECT_STREQ(line, want) TH_LOG("the guest's file through hostfwd");
	guest_line(text, "minihv-guest: dns ", line, sizeof(line));
	EXPECT_STREQ(DNS_ADDR, line) TH_LOG("minihv.test through the user network's DNS");
	memset(want, 0, sizeof(want));
	f = open(UDP_GOT, O_RDONLY | O_CLOEXEC);
	EXPECT_LT(0, f);
	if (f >= 0 && read(f, want, sizeof(want) - 1) < 0)
		want[0] = '\0';
	close(f);
	EXPECT_STREQ(UDP_MSG, want) TH_LOG("the datagram through hostfwd=udp:");
	EXPECT_NE(NULL, strstr(text, "minihv-guest: net done"));
}

static int boot(struct __test_metadata *_metadata, const char *device, const char *cpus,
		const char *append, const char *input)
{
	bool virtio = strstr(append, "minihv_virtio");
	const char *args[] = {
		/*
		 * 300 s: under the qemu machines' 420 s for every test, so a
		 * boot that hangs ends here with its console in the report.
		 */
		"-M", "256M", "-t", "300", "-c", cpus, "-d", device,
		"--initrd", INITRD, "--append", append,
		virtio ? "--rng" : NULL, "--disk", DISK, "--disk", RO ",ro",
		"--net", "tap=" TAP,
		"--net", "user,hostfwd=tcp::8081-:8080,hostfwd=udp::8083-:8082", NULL,
	};
	const char *step = "";
	pid_t server = -1;
	int r;

	if (virtio) {
		ASSERT_EQ(0, copy_file(DISK_ORIG, DISK)) TH_LOG("%s: %s", DISK_ORIG, strerror(errno));
		ASSERT_EQ(0, copy_file(RO_ORIG, RO)) TH_LOG("%s: %s", RO_ORIG, strerror(errno));
		r = net_setup(&step);
		ASSERT_EQ(0, r) TH_LOG("the network, %s: %s", step, strerror(-r));
		server = net_server();
		ASSERT_LT(0, server) TH_LOG("the server: %s", strerror(errno));
	}

	r = run_runner_input(KERNEL, args, input, out, sizeof(out), true);
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	return r;
}

/* Each boot starts a kernel-log cursor; the host's log must stay clean. */
FIXTURE(guest_os) {
	struct kmsg_cursor log;
	const char *why;
};

FIXTURE_SETUP(guest_os)
{
	self->why = cannot_boot();
	ASSERT_EQ(0, kmsg_cursor_open(&self->log));
}

FIXTURE_TEARDOWN(guest_os)
{
	char problem[256];
	char *log = kmsg_cursor_read(&self->log);

	kmsg_cursor_close(&self->log);
	ASSERT_NE(NULL, log);
	EXPECT_FALSE(kmsg_find_problem(log, problem, sizeof(problem)))
		TH_LOG("the host's log after the guest: %s", problem);
	free(log);
}

TEST_F_TIMEOUT(guest_os, four_vcpus_power_off, 480)
{
	int r;

	if (self->why)
		SKIP(return, "%s", self->why);
	r = boot(_metadata, "/dev/minihv", "4", VIRTIO_APPEND, NULL);
	check_report(_metadata, out, 4);
	EXPECT_EQ(0, r) TH_LOG("output: %s", tail(out, 4000));
	check_clean(_metadata, out);
	check_virtio(_metadata, out);
	check_net(_metadata, out);
}

TEST_F_TIMEOUT(guest_os, one_vcpu_shell_reboot, 480)
{
	/* Typed before the guest is up: the UART holds it until a reader listens. */
	static const char input[] =
		"echo shell-$((6 * 7))\n"
		"reboot -f\n";
	int r;

	if (self->why)
		SKIP(return, "%s", self->why);
	r = boot(_metadata, "/dev/minihv", "1", "console=ttyS0 quiet", input);
	EXPECT_EQ(0, r) TH_LOG("output: %s", tail(out, 4000));
	/* Only the shell's output has the product; its echo has the expression. */
	EXPECT_NE(NULL, strstr(out, "shell-42")) TH_LOG("output: %s", tail(out, 4000));
	EXPECT_NE(NULL, strstr(out, "minihv-run: the guest reset the machine"))
		TH_LOG("output: %s", tail(out, 4000));
}

/*
 * The same boot on KVM, through the same runner, in the same machine:
 * minihv.ko goes out, KVM's modules in, and back.  KVM nested in QEMU's
 * TCG hangs the machine at times (differential_test says the same), so
 * it runs on bochs-vmx.  It first never reached /init: KVM leaves the
 * TSC-deadline timer out of its supported CPUID, and without it Linux
 * waited for a PIT to calibrate its APIC timer (hv.c now adds it).
 */
TEST_F_TIMEOUT(guest_os, kvm_boots_the_same, 480)
{
	int vendor, back, r = -1;

	if (self->why)
		SKIP(return, "%s", self->why);
	if (!machine_is_bochs())
		SKIP(return, "KVM nested in QEMU TCG hangs the machine at times");
	ASSERT_EQ(0, module_unload("minihv"));
	vendor = kvm_load_core();
	if (!vendor)
		vendor = kvm_load_vendor();
	if (!vendor)
		r = boot(_metadata, "/dev/kvm", "4", VIRTIO_APPEND, NULL);
	kvm_unload();
	back = module_load(minihv_ko_path(), NULL);
	ASSERT_EQ(0, back) TH_LOG("minihv.ko did not load again: %s", strerror(-back));
	ASSERT_EQ(0, vendor) TH_LOG("loading KVM: %s", strerror(-vendor));
	check_report(_metadata, out, 4);
	EXPECT_EQ(0, r) TH_LOG("output: %s", tail(out, 4000));
	check_clean(_metadata, out);
	check_virtio(_metadata, out);
	check_net(_metadata, out);
}

TEST_HARNESS_MAIN
