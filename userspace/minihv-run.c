// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run: load a guest, run it on /dev/minihv, serve its I/O.
 *
 * Guest-physical memory is one slot from address 0.  The last 64 KiB of it
 * belong to the runner in protected and long mode ("the system area"):
 *
 *   RAM - 64K  GDT (null, 64-bit code 08h, data 10h, 32-bit code 18h)
 *   RAM - 60K  PML4, then PDPT at RAM - 56K, then up to four page
 *              directories from RAM - 52K (2 MiB pages, identity map of all
 *              RAM, at most 4 GiB); for a Multiboot kernel (protected
 *              mode) the information structure instead (multiboot.c)
 *   below it   the stack: RSP starts at RAM - 64K and grows down
 *
 * Real mode: every segment 0, SP = 7000h.  A loaded image may not overlap
 * the system area; the runner refuses it with exit status 2.
 *
 * With --cpus N, vCPU 0 (the bootstrap processor) starts as above and the
 * others wait, each in its own thread, until a running vCPU starts them:
 *   OUT F0h (32-bit)  the address where the next started vCPU begins
 *   OUT F1h (8-bit)   start vCPU n (ignored for 0, n >= N, a running one)
 *   IN  F1h           the number of vCPUs, N
 * A started vCPU has the boot vCPU's initial mode and segments, RIP at the
 * address, RAX = n (vCPU 0 starts with RAX = 0 too) and its own stack: SP
 * 400h * n below 7000h in real mode, RSP 4000h * n below the system area
 * otherwise.  A vCPU other than 0 that halts waits to be started again.
 * Console lines (COM1, port E9h) are written whole, one vCPU at a time,
 * through console.c's queue: output never waits for the reader.
 *
 * Exit status: 0 vCPU 0 halted; (V << 1) | 1 a vCPU wrote V to port F4h
 * (QEMU's isa-debug-exit; only its low 8 bits reach the parent, see
 * exit_status()); 4 the guest crashed (diagnosis on stderr); 2 usage or
 * load error; 6 the user quit (Ctrl-A x); 124 timeout.  The first of
 * these ends every vCPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "acpi.h"
#include "boot.h"
#include "bzimage.h"
#include "console.h"
#include "fwcfg.h"
#include "hv.h"
#include "load.h"
#include "multiboot.h"
#include "pc.h"
#include "uart.h"
#include "virtio-dev.h"

#define VERSION		"0.1"
#define REAL_MODE_STACK	0x400		/* per vCPU */
#define STACK		0x4000		/* per vCPU, protected and long mode */
#define MAX_RAM		(4ULL << 30)
#define MAX_CPUS	16
#define LINE_MAX_LEN	256

#define EXIT_USAGE	2
#define EXIT_CRASH	4
#define EXIT_QUIT	CONSOLE_EXIT_QUIT
#define EXIT_TIMEOUT	124

#define PORT_COM1	0x3f8
#define PORT_COM1_LSR	0x3fd
#define PORT_DEBUGCON	0xe9
#define PORT_AP_ENTRY	0xf0
#define PORT_AP_START	0xf1
#define PORT_EXIT	0xf4
#define LSR_THRE_TEMT	0x60	/* transmitter holding register and shift register empty */


struct options {
	const char *guest;
	const char *device;
	const char *append;		/* kernel command line */
	const char *initrd;		/* Multiboot: module 0 */
	enum mode mode;
	bool have_load, have_entry;
	uint64_t load, entry, mem;
	unsigned int timeout;
	unsigned int cpus;
	bool stats;
	bool trace;			/* print the exit log at each return */
	bool probe;			/* print the host's features and stop */
	uint64_t mb_info;		/* Multiboot: the info structure, EBX */
	bool linux_boot;		/* bzImage: RSI = the zero page */
	bool platform;			/* the PC platform: irqchip, ACPI, devices */
	bool raw_console;		/* control characters to a terminal as they are */
	bool bare;			/* --bare: no platform for a Multiboot kernel */
	bool rng;			/* --rng: virtio-rng */
	bool mem_hugetlb;		/* --mem-backend hugetlb */
	bool mem_merge;			/* --mem-merge: KSM */
	bool mem_prealloc;		/* --mem-prealloc */
	unsigned int ndisks;		/* --disk: virtio-blk */
	struct virtio_disk_opt disks[VIRTIO_MAX_DEVS];
	unsigned int nnets;		/* --net: virtio-net */
	const char *nets[VIRTIO_MAX_DEVS];
};

enum { NR_EXIT_NAMES = MINIHV_EXIT_INTERNAL_ERROR + 1 };

/* What a vCPU's thread does, for Ctrl-A c. */
enum vcpu_state { VCPU_WAITING, VCPU_RUNNING, VCPU_ENDED };

struct vcpu {
	struct vm *vm;
	unsigned int id;
	struct hv_vcpu hv;
	pthread_t thread;
	bool started;			/* [vm->lock] a start request came */
	uint64_t entry;			/* [vm->lock] where it starts */
	char line[LINE_MAX_LEN];	/* console output not yet written */
	size_t line_len;
	uint64_t counts[NR_EXIT_NAMES];	/* [atomic] runs ending in userspace, by reason */
	uint64_t traced;		/* --trace: exits printed so far */
	int state;			/* [atomic] enum vcpu_state */
};

struct vm {
	struct hv hv;
	uint8_t *ram;
	uint64_t ram_size;
	const struct options *o;
	struct minihv_sregs boot_sregs;	/* the mode every vCPU starts in */
	struct timespec deadline;	/* --timeout: from before the load */
	unsigned int ncpus;
	struct vcpu vcpus[MAX_CPUS];
	/* Never held across I/O: the main thread needs it to end the run. */
	pthread_mutex_t lock;		/* what is marked [vm->lock] */
	pthread_cond_t cond;		/* start requests, the end */
	pthread_mutex_t report_lock;	/* a vCPU's report on stderr in one piece */
	struct timespec started;	/* when the run began (before the load) */
	uint64_t ap_entry;		/* [vm->lock] last OUT to port F0h */
	int status;			/* [vm->lock] -1 while the guest runs */
	/* The PC platform (--platform, and always for a Linux kernel). */
	struct uart uart;
	struct pc pc;
	struct fw_cfg fw_cfg;
	struct virtio_pc virtio;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: minihv-run [options] GUEST\n"
		"  GUEST          a Multiboot kernel, an ELF32/ELF64 executable, or a flat\n"
		"                 binary (by its magic, in that order)\n"
		"  -m, --mode real|protected|long   CPU mode for a flat binary (default real)\n"
		"  -l, --load ADDR   guest-physical load address of a flat binary\n"
		"                    (default 7C00h in real mode, 100000h otherwise)\n"
		"  -e, --entry ADDR  first instruction (default: the load address; ELF: e_entry)\n"
		"  -M, --mem SIZE    guest RAM from address 0, with K/M/G suffixes (default 16M)\n"
		"      --mem-backend anon|hugetlb  RAM from anonymous memory, 2 MiB-aligned\n"
		"                    and given to THP (default), or from 2 MiB hugetlbfs pages\n"
		"                    (/proc/sys/vm/nr_hugepages; SIZE a multiple of 2M)\n"
		"      --mem-merge   let KSM merge the guest's pages with identical ones\n"
		"      --mem-prealloc  allocate all guest RAM before the guest starts\n"
		"  -c, --cpus N      N vCPUs (1-%d, default 1); vCPU 0 starts the others\n"
		"  -t, --timeout SEC stop the guest after SEC seconds (exit status 124)\n"
		"  -s, --stats       print exit counts by reason on stderr at the end\n"
		"  -T, --trace       print every exit on stderr (minihv's exit log, read\n"
		"                    at each return to userspace)\n"
		"  -k, --kernel FILE the guest (instead of the GUEST argument)\n"
		"  -a, --append STR  the kernel command line (Linux, Multiboot)\n"
		"  -i, --initrd FILE the initial ramdisk (Linux), module 0 (Multiboot)\n"
		"  -P, --platform    the PC platform (APICs, ACPI, COM1 with input, CMOS,\n"
		"                    fw_cfg, reset); the default for a Multiboot kernel,\n"
		"                    always on for a Linux kernel\n"
		"  -B, --bare        a Multiboot kernel without the platform\n"
		"  -d, --device DEV  the hypervisor device (default /dev/minihv)\n"
		"      --rng         a virtio-rng device (entropy from the host's getrandom)\n"
		"      --disk FILE[,ro]  a virtio-blk disk on the raw image FILE, read-only\n"
		"                    with ,ro\n"
		"      --net tap=NAME[,mac=M]  a virtio-net device on the existing TAP device\n"
		"                    NAME (ip tuntap add NAME mode tap user $USER)\n"
		"      --net user[,hostfwd=tcp|udp:[HADDR]:HPORT-[GADDR]:GPORT]...[,mac=M]\n"
		"                    a virtio-net device on rootless user networking: DHCP\n"
		"                    gives 10.0.2.15, DNS at 10.0.2.3, the host's loopback\n"
		"                    at 10.0.2.2; hostfwd forwards a host port to the guest\n"
		"                    (up to %d devices of --rng, --disk, --net; platform guests)\n"
		"      --raw-console guest output to a terminal as it is, control\n"
		"                    characters included (default: shown as ^[ etc.)\n"
		"  -p, --probe       print the CPU's virtualization features, which of them\n"
		"                    minihv uses, and stop (no guest)\n"
		"  -h, --help; -V, --version\n", MAX_CPUS, VIRTIO_MAX_DEVS);
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "minihv-run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

static uint64_t parse_size(const char *s, bool suffixes)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		die_usage("bad number '%s'", s);
	if (suffixes && *end) {
		int shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: die_usage("bad size suffix in '%s'", s);
		}
		if (v > (~0ULL >> shift))
			die_usage("size '%s' too large", s);
		v <<= shift;
		end++;
	}
	if (*end)
		die_usage("trailing characters in '%s'", s);
	return v;
}

/* --disk FILE[,ro] */
static void add_disk(struct options *o, const char *arg)
{
	struct virtio_disk_opt *d = &o->disks[o->ndisks];
	size_t len = strlen(arg);
	char *path;

	if (o->ndisks == VIRTIO_MAX_DEVS)
		die_usage("--disk %s: too many devices", arg);
	path = strdup(arg);
	if (!path)
		die_usage("--disk %s: out of memory", arg);
	if (len > 3 && !strcmp(path + len - 3, ",ro")) {
		path[len - 3] = '\0';
		d->ro = true;
	}
	d->path = path;
	o->ndisks++;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "load", required_argument, NULL, 'l' },
		{ "entry", required_argument, NULL, 'e' },
		{ "mem", required_argument, NULL, 'M' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 's' },
		{ "trace", no_argument, NULL, 'T' },
		{ "probe", no_argument, NULL, 'p' },
		{ "append", required_argument, NULL, 'a' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "platform", no_argument, NULL, 'P' },
		{ "bare", no_argument, NULL, 'B' },
		{ "device", required_argument, NULL, 'd' },
		{ "raw-console", no_argument, NULL, 'R' },
		{ "rng", no_argument, NULL, 'N' },
		{ "disk", required_argument, NULL, 'D' },
		{ "mem-backend", required_argument, NULL, 'H' },
		{ "mem-merge", no_argument, NULL, 'G' },
		{ "mem-prealloc", no_argument, NULL, 'A' },
		{ "net", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->device = "/dev/minihv";
	o->mem = 16 << 20;
	o->cpus = 1;
	while ((c = getopt_long(argc, argv, "m:l:e:M:c:t:sTa:i:k:PBd:phV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "real"))
				o->mode = MODE_REAL;
			else if (!strcmp(optarg, "protected"))
				o->mode = MODE_PROTECTED;
			else if (!strcmp(optarg, "long"))
				o->mode = MODE_LONG;
			else
				die_usage("unknown mode '%s' (real, protected, long)", optarg);
			break;
		case 'l': o->load = parse_size(optarg, false); o->have_load = true; break;
		case 'e': o->entry = parse_size(optarg, false); o->have_entry = true; break;
		case 'M':
			o->mem = parse_size(optarg, true);
			if (o->mem < (1 << 20) || o->mem > MAX_RAM || o->mem % 4096)
				die_usage("--mem %s: RAM must be a multiple of 4K from 1M to 4G", optarg);
			break;
		case 'c':
			o->cpus = parse_size(optarg, false);
			if (o->cpus < 1 || o->cpus > MAX_CPUS)
				die_usage("--cpus %s: from 1 to 16", optarg);
			break;
		case 't': o->timeout = parse_size(optarg, false); break;
		case 's': o->stats = true; break;
		case 'T': o->trace = true; break;
		case 'p': o->probe = true; break;
		case 'a':
			if (strlen(optarg) >= MAX_CMDLINE)
				die_usage("--append: a command line of at most %s characters", "2047");
			o->append = optarg;
			break;
		case 'i':
			if (strlen(optarg) >= 1024)
				die_usage("--initrd %s: path too long", optarg);
			o->initrd = optarg;
			break;
		case 'k': o->guest = optarg; break;
		case 'P': o->platform = true; break;
		case 'B': o->bare = true; break;
		case 'd': o->device = optarg; break;
		case 'R': o->raw_console = true; break;
		case 'N': o->rng = true; break;
		case 'D':
			add_disk(o, optarg);
			break;
		case 'H':
			if (strcmp(optarg, "anon") && strcmp(optarg, "hugetlb"))
				die_usage("--mem-backend %s: anon or hugetlb", optarg);
			o->mem_hugetlb = !strcmp(optarg, "hugetlb");
			break;
		case 'G': o->mem_merge = true; break;
		case 'A': o->mem_prealloc = true; break;
		case 'n':
			if (o->nnets == VIRTIO_MAX_DEVS)
				die_usage("--net %s: too many devices", optarg);
			o->nets[o->nnets++] = optarg;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("minihv-run %s (API %d)\n", VERSION, MINIHV_API_VERSION); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (o->bare && o->platform)
		die_usage("--bare and --platform: choose one%s", "");
	if (o->rng + o->ndisks + o->nnets > VIRTIO_MAX_DEVS)
		die_usage("--rng, --disk and --net: at most %s virtio devices", "8");
	if (o->mem_hugetlb && o->mem % (2 << 20))
		die_usage("--mem-backend hugetlb: --mem must be a multiple of %s", "2M");
	if (o->probe && optind == argc)
		return;
	if (optind != argc - !o->guest) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if (!o->guest)
		o->guest = argv[optind];
	if (!o->have_load)
		o->load = o->mode == MODE_REAL ? 0x7c00 : 0x100000;
}

/* ---- loading ---- */

/* A file's contents, mapped (NULL when empty); the caller unmaps. */
static uint8_t *map_file(const char *path, uint64_t *size)
{
	struct stat st;
	uint8_t *img;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "minihv-run: %s: %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	img = st.st_size ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (img == MAP_FAILED)
		die_usage("%s: cannot map it", path);
	close(fd);
	*size = st.st_size;
	return img;
}

/* The guest and its initrd (load.c); a bad image ends the runner. */
static void load_guest(struct vm *vm, struct options *o)
{
	static struct load l;
	uint64_t size, initrd_size = 0;
	uint8_t *img = map_file(o->guest, &size), *initrd = NULL;

	if (o->initrd)
		initrd = map_file(o->initrd, &initrd_size);
	l = (struct load){
		.ram = vm->ram, .ram_size = vm->ram_size, .mode = o->mode,
		.flat_load = o->load, .cmdline = o->append, .initrd_path = o->initrd,
		.initrd = initrd, .initrd_size = initrd_size,
		.tsc_khz = hv_tsc_khz(&vm->hv),
	};
	if (load_image(&l, img, size)) {
		fprintf(stderr, "minihv-run: %s: %s\n", o->guest, l.error);
		exit(EXIT_USAGE);
	}
	o->mode = l.mode;
	if (!o->have_entry)
		o->entry = l.entry;
	o->mb_info = l.mb_info;
	o->linux_boot = l.linux_boot;
	if (l.linux_boot && o->bare)
		die_usage("--bare: a Linux kernel needs the platform (%s)", o->guest);
	/* A Multiboot kernel was written for a PC, as QEMU's -kernel gives it one. */
	o->platform |= l.linux_boot || (l.mb_info && !o->bare);
	if (initrd)
		munmap(initrd, initrd_size);
	if (img)
		munmap(img, size);
}

/* ---- CPU state ---- */

static void or_die(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "minihv-run: %s: %s\n", what, strerror(-r));
		exit(EXIT_USAGE);
	}
}

/* The boot vCPU's mode and registers; the others copy the mode. */
static void setup_cpu(struct vm *vm, const struct options *o)
{
	struct minihv_sregs sregs;
	struct minihv_regs regs;

	or_die(hv_get_sregs(&vm->hv, &vm->vcpus[0].hv, &sregs), "GET_SREGS");
	boot_state(vm->ram, vm->ram_size, o->mode, o->entry, &sregs, &regs);
	if (o->mb_info) {
		regs.rax = MB_LOADER_MAGIC;
		regs.rbx = o->mb_info;
	}
	if (o->linux_boot) {
		uint64_t *gdt = (uint64_t *)(vm->ram + sregs.gdt.base);

		/*
		 * The boot protocol's selectors: __BOOT_CS 10h (here 64-bit
		 * code) and __BOOT_DS 18h, flat (boot.rst, "64-bit Boot
		 * Protocol"); RSI = the zero page.
		 */
		gdt[2] = 0x00af9b000000ffffULL;
		gdt[3] = 0x00cf93000000ffffULL;
		sregs.cs.selector = 0x10;
		sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0x18;
		sregs.fs.selector = sregs.gs.selector = 0x18;
		regs.rsi = BZ_BOOT_PARAMS;
	}
	vm->boot_sregs = sregs;
	or_die(hv_set_sregs(&vm->hv, &vm->vcpus[0].hv, &sregs), "SET_SREGS");
	or_die(hv_set_regs(&vm->hv, &vm->vcpus[0].hv, &regs), "SET_REGS");
}

/* A started vCPU: the boot mode, its entry, RAX = its number, its stack. */
static int start_ap(struct vcpu *v)
{
	const struct options *o = v->vm->o;
	struct minihv_sregs sregs = v->vm->boot_sregs;
	struct minihv_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = v->entry;
	regs.rax = v->id;
	if (o->mode == MODE_REAL)
		regs.rsp = REAL_MODE_SP - v->id * REAL_MODE_STACK;
	else
		regs.rsp = v->vm->ram_size - SYS_AREA - v->id * STACK;
	int r = hv_set_sregs(&v->vm->hv, &v->hv, &sregs);

	if (!r)
		r = hv_set_regs(&v->vm->hv, &v->hv, &regs);
	if (r) {
		fprintf(stderr, "minihv-run: starting vCPU %u: %s\n", v->id, strerror(-r));
		return EXIT_CRASH;
	}
	return -1;
}

/*
 * Guest RAM (design.rst, "Huge leaves").  By default anonymous memory
 * aligned to 2 MiB and given to transparent huge pages, so that the
 * kernel backs it with 2 MiB pages where it can and the hypervisor maps
 * those with 2 MiB nested leaves: guest-physical 0 sits at a 2 MiB
 * boundary.  --mem-backend hugetlb takes 2 MiB hugetlbfs pages instead
 * (a memfd: mmap fails at once when the pool has too few).
 */
static uint8_t *alloc_guest_ram(const struct options *o)
{
	const uint64_t align = 2 << 20;
	int flags = o->mem_prealloc ? MAP_POPULATE : 0;
	uint8_t *p, *ram;
	int fd;

	if (o->mem_hugetlb) {
		fd = memfd_create("minihv-ram", MFD_HUGETLB | MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, o->mem))
			die_usage("--mem-backend hugetlb: %s", strerror(errno));
		ram = mmap(NULL, o->mem, PROT_READ | PROT_WRITE, MAP_SHARED | flags, fd, 0);
		if (ram == MAP_FAILED)
			die_usage("--mem-backend hugetlb: %s (too few free huge pages? "
				  "/proc/sys/vm/nr_hugepages)", strerror(errno));
		close(fd);
	} else {
		p = mmap(NULL, o->mem + align, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			die_usage("cannot allocate guest RAM: %s", strerror(errno));
		ram = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
		if (ram > p)
			munmap(p, ram - p);
		munmap(ram + o->mem, p + align - ram);
		/* Advice only: a kernel without THP goes on with small pages. */
		madvise(ram, o->mem, MADV_HUGEPAGE);
		if (o->mem_prealloc)
			memset(ram, 0, o->mem);
	}
	if (o->mem_merge && madvise(ram, o->mem, MADV_MERGEABLE))
		die_usage("--mem-merge: %s (a kernel without KSM?)", strerror(errno));
	return ram;
}

/* ---- the VM ---- */

static void create_vm(struct vm *vm, const struct options *o)
{
	int r;

	vm->o = o;
	vm->status = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->report_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->cond, &ca);
	}

	r = hv_open(&vm->hv, o->device);
	if (r) {
		fprintf(stderr, "minihv-run: %s: %s%s\n", o->device,
			r == -EPROTONOSUPPORT ? "neither minihv nor KVM (API version)" : strerror(-r),
			r == -ENOENT ? " (is minihv.ko loaded?)" : "");
		exit(EXIT_USAGE);
	}
	r = hv_max_vcpus(&vm->hv);
	if (r < (int)o->cpus) {
		fprintf(stderr, "minihv-run: %s runs at most %d vCPUs per VM\n", o->device, r);
		exit(EXIT_USAGE);
	}
	or_die(hv_create_vm(&vm->hv), "CREATE_VM");
	vm->ram_size = o->mem;
	vm->ram = alloc_guest_ram(o);
	or_die(hv_set_memory(&vm->hv, 0, 0, vm->ram_size, vm->ram), "SET_USER_MEMORY_REGION");
}

/* The virtio devices and the ACPI tables that announce them. */
static void create_virtio(struct vm *vm, const struct options *o)
{
	struct acpi_mmio_dev devs[VIRTIO_MAX_DEVS];
	unsigned int n;
	int r;

	if ((o->rng || o->ndisks || o->nnets) && vm->ram_size > VIRTIO_MMIO_BASE)
		die_usage("--rng, --disk, --net: the devices sit at 0xd0000000; at most 3328M of RAM%s", "");
	r = virtio_pc_create(&vm->virtio, &vm->hv, vm->ram, vm->ram_size, o->rng, o->disks,
			     o->ndisks, o->nets, o->nnets);
	if (r)
		exit(EXIT_USAGE);
	n = virtio_pc_acpi(&vm->virtio, devs);
	acpi_write_tables(vm->ram, o->cpus, devs, n);
}

/*
 * The vCPUs, after the guest is loaded (which says whether it gets the
 * platform): the interrupt controller must exist before them.
 */
static void create_vcpus(struct vm *vm, const struct options *o)
{
	unsigned int i;

	if (!o->platform && (o->rng || o->ndisks || o->nnets))
		die_usage("--rng, --disk, --net: only for a guest on the PC platform (%s)", o->guest);
	if (o->platform) {
		or_die(hv_create_irqchip(&vm->hv), "CREATE_IRQCHIP");
		or_die(hv_create_pit2(&vm->hv), "CREATE_PIT2");
		create_virtio(vm, o);
		uart_init(&vm->uart, &vm->hv);
		pc_init(&vm->pc);
		fw_cfg_init(&vm->fw_cfg, vm->ram_size, vm->ram_size - SYS_AREA, o->cpus);
	}
	vm->ncpus = o->cpus;
	for (i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		or_die(hv_create_vcpu(&vm->hv, i, &vm->vcpus[i].hv), "CREATE_VCPU");
	}
}

/* ---- exits ---- */

static const char *const exit_names[NR_EXIT_NAMES] = {
	[MINIHV_EXIT_UNKNOWN] = "unknown",
	[MINIHV_EXIT_IO] = "io",
	[MINIHV_EXIT_HLT] = "hlt",
	[MINIHV_EXIT_MMIO] = "mmio",
	[MINIHV_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[MINIHV_EXIT_SHUTDOWN] = "shutdown",
	[MINIHV_EXIT_FAIL_ENTRY] = "fail_entry",
	[MINIHV_EXIT_INTR] = "intr",
	[MINIHV_EXIT_INTERNAL_ERROR] = "internal_error",
};

static const char *exit_name(uint32_t reason)
{
	return reason < NR_EXIT_NAMES && exit_names[reason] ? exit_names[reason] : "?";
}

/* Entries @from.. of an exit log, one line each, after @prefix. */
static void print_log_entries(const struct minihv_exit_log *log, uint32_t from,
			      const char *prefix)
{
	uint32_t i, j;

	for (i = from; i < log->count; i++) {
		const struct minihv_exit_log_entry *e = &log->entries[i];

		fprintf(stderr, "%s%#6llx %#llx %#llx %#llx:", prefix,
			(unsigned long long)e->reason, (unsigned long long)e->info1,
			(unsigned long long)e->info2, (unsigned long long)e->rip);
		for (j = 0; j < e->insn_len; j++)
			fprintf(stderr, " %02x", e->insn[j]);
		fprintf(stderr, "\n");
	}
}

/* The vCPU's last exits (minihv only), oldest first: how the guest got here. */
static void print_exit_log(struct vcpu *v)
{
	static struct minihv_exit_log log;

	if (hv_get_exit_log(&v->vm->hv, &v->hv, &log))
		return;
	fprintf(stderr, "  last %u of %llu exits (vendor reason, qualification/EXITINFO1, "
		"EXITINFO2/interruption info, RIP: bytes now at RIP):\n",
		log.count, (unsigned long long)log.total);
	print_log_entries(&log, 0, "  ");
}

/*
 * --trace: the exits since the last call, in the kernel or not.  Up to 64
 * are kept between two returns to userspace; more are counted as lost.
 */
static void trace_exits(struct vcpu *v)
{
	struct minihv_exit_log log;
	uint64_t fresh;
	char prefix[32];

	if (hv_get_exit_log(&v->vm->hv, &v->hv, &log))
		return;
	fresh = log.total - v->traced;
	pthread_mutex_lock(&v->vm->report_lock);
	if (fresh > log.count)
		fprintf(stderr, "minihv-run: trace vCPU %u: %llu exits not kept\n", v->id,
			(unsigned long long)(fresh - log.count));
	snprintf(prefix, sizeof(prefix), "minihv-run: trace vCPU %u: ", v->id);
	print_log_entries(&log, fresh > log.count ? 0 : log.count - fresh, prefix);
	pthread_mutex_unlock(&v->vm->report_lock);
	v->traced = log.total;
}

static void diagnose(struct vcpu *v, const char *what)
{
	struct minihv_run *run = v->hv.exit;
	uint32_t reason = *v->hv.exit_reason;
	struct minihv_sregs sregs;
	struct minihv_regs regs;
	uint64_t field, value;
	const char *rule;
	char who[16] = "";
	uint32_t i;

	if (v->vm->ncpus > 1)
		snprintf(who, sizeof(who), " (vCPU %u)", v->id);
	pthread_mutex_lock(&v->vm->report_lock);
	fprintf(stderr, "minihv-run: guest crashed%s: %s (exit reason %u, %s)\n",
		who, what, reason, exit_name(reason));
	if (reason == MINIHV_EXIT_FAIL_ENTRY) {
		fprintf(stderr, "  entry failure %#llx on cpu %u\n",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		rule = hv_fail_entry_reason(&v->vm->hv, &v->hv, &field, &value);
		if (rule)
			fprintf(stderr, "  %.*s\n  field %#llx = %#llx\n",
				(int)sizeof(run->fail_entry.reason), rule,
				(unsigned long long)field, (unsigned long long)value);
	}
	if (reason == MINIHV_EXIT_INTERNAL_ERROR) {
		fprintf(stderr, "  suberror %u, data:", run->internal.suberror);
		for (i = 0; i < run->internal.ndata && i < 16; i++)
			fprintf(stderr, " %#llx", (unsigned long long)run->internal.data[i]);
		fprintf(stderr, "\n");
	}
	if (hv_get_regs(&v->vm->hv, &v->hv, &regs) ||
	    hv_get_sregs(&v->vm->hv, &v->hv, &sregs)) {
		fprintf(stderr, "  (registers unavailable)\n");
	} else {
		fprintf(stderr, "  RIP %#018llx RSP %#018llx RFLAGS %#llx\n"
			"  CR0 %#llx CR3 %#llx CR4 %#llx EFER %#llx\n",
			(unsigned long long)regs.rip, (unsigned long long)regs.rsp,
			(unsigned long long)regs.rflags, (unsigned long long)sregs.cr0,
			(unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
			(unsigned long long)sregs.efer);
	}
	print_exit_log(v);
	pthread_mutex_unlock(&v->vm->report_lock);
}

/* Whole lines only, so that the lines of several vCPUs never mix. */
static void console_flush(struct vcpu *v)
{
	if (v->line_len)
		console_write(v->line, v->line_len);
	v->line_len = 0;
}

static void console_putc(struct vcpu *v, char c)
{
	v->line[v->line_len++] = c;
	if (c == '\n' || v->line_len == sizeof(v->line))
		console_flush(v);
}

/* OUT F1h: start vCPU @id at the last address written to port F0h. */
static void request_start(struct vm *vm, unsigned int id)
{
	pthread_mutex_lock(&vm->lock);
	if (id > 0 && id < vm->ncpus && !vm->vcpus[id].started) {
		vm->vcpus[id].entry = vm->ap_entry;
		vm->vcpus[id].started = true;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

/*
 * The PC platform's ports, an item at a time.  Returns -1 to keep
 * running, the runner's exit status when the guest powered off or reset
 * the machine, or -2 when the port is none of the platform's.
 */
static int platform_io(struct vcpu *v, uint16_t port, int size, bool in, uint8_t *data)
{
	struct vm *vm = v->vm;
	bool off = false, reset = false;
	uint32_t val = 0;

	if (!in)
		memcpy(&val, data, size);
	if (!uart_io(&vm->uart, port, in, &val) &&
	    !pc_io(&vm->pc, port, size, in, &val, &reset) &&
	    !fw_cfg_io(&vm->fw_cfg, port, size, in, &val) &&
	    !acpi_pm_io(port, size, in, &val, &off))
		return -2;
	if (in)
		memcpy(data, &val, size);
	if (off || reset) {
		fprintf(stderr, "minihv-run: the guest %s\n",
			off ? "powered off" : "reset the machine");
		return 0;
	}
	return -1;
}

/* Returns -1 to keep running, or the runner's exit status. */
static int handle_io(struct vcpu *v)
{
	struct minihv_run *run = v->hv.exit;
	uint8_t *data = (uint8_t *)v->hv.run + run->io.data_offset;
	uint32_t i, n = run->io.count * run->io.size;
	uint32_t val = 0;
	int r = -2;

	for (i = 0; v->vm->o->platform && i < run->io.count; i++) {
		r = platform_io(v, run->io.port, run->io.size,
				run->io.direction == MINIHV_EXIT_IO_IN,
				data + i * run->io.size);
		if (r != -1)
			break;
	}
	if (r != -2)
		return r;

	if (run->io.direction == MINIHV_EXIT_IO_OUT) {
		memcpy(&val, data, run->io.size);
		switch (run->io.port) {
		case PORT_COM1:
		case PORT_DEBUGCON:
			for (i = 0; i < run->io.count; i++)
				console_putc(v, data[i * run->io.size]);
			break;
		case PORT_AP_ENTRY:
			pthread_mutex_lock(&v->vm->lock);
			v->vm->ap_entry = val;
			pthread_mutex_unlock(&v->vm->lock);
			break;
		case PORT_AP_START:
			request_start(v->vm, val & 0xff);
			break;
		case PORT_EXIT:
			return (data[0] << 1) | 1;
		}
		return -1;
	}
	if (run->io.port == PORT_COM1_LSR && run->io.size == 1)
		memset(data, LSR_THRE_TEMT, n);
	else if (run->io.port == PORT_AP_START && run->io.count == 1)
		memcpy(data, &v->vm->ncpus, run->io.size);
	else
		memset(data, 0xff, n);	/* nothing there: the bus floats high */
	return -1;
}

/*
 * The run structure is the kernel's to fill, but a bug there must not
 * become an overflow here: an I/O exit's items (size 1, 2 or 4, at least
 * one) lie inside the mapping, an MMIO exit's access inside its 8 data
 * bytes.  Anything else stops the VM (api.rst, "MINIHV_RUN").
 */
static bool exit_is_sane(struct vcpu *v, uint32_t reason)
{
	const struct minihv_run *run = v->hv.exit;
	uint64_t run_size = v->vm->hv.run_size, bytes;

	if (reason == MINIHV_EXIT_IO) {
		bytes = (uint64_t)run->io.count * run->io.size;
		if ((run->io.size == 1 || run->io.size == 2 || run->io.size == 4) &&
		    run->io.count >= 1 && run->io.direction <= MINIHV_EXIT_IO_OUT &&
		    run->io.data_offset <= run_size && bytes <= run_size - run->io.data_offset)
			return true;
		fprintf(stderr, "minihv-run: vCPU %u: malformed I/O exit from the kernel (port %#x, direction %u, size %u, count %u, data_offset %#llx in a %#llx-byte run structure); stopping the guest\n",
			v->id, run->io.port, run->io.direction, run->io.size, run->io.count,
			(unsigned long long)run->io.data_offset, (unsigned long long)run_size);
		return false;
	}
	if (reason == MINIHV_EXIT_MMIO) {
		if (run->mmio.len >= 1 && run->mmio.len <= sizeof(run->mmio.data))
			return true;
		fprintf(stderr, "minihv-run: vCPU %u: malformed MMIO exit from the kernel (address %#llx, len %u); stopping the guest\n",
			v->id, (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return false;
	}
	return true;
}

static bool guest_ended(struct vm *vm)
{
	bool ended;

	pthread_mutex_lock(&vm->lock);
	ended = vm->status >= 0;
	pthread_mutex_unlock(&vm->lock);
	return ended;
}

/*
 * Runs one vCPU until it halts or the guest ends.  Returns the runner's
 * exit status, or -1 when a vCPU other than 0 halted or the guest ended
 * elsewhere.
 */
static int run_vcpu(struct vcpu *v)
{
	struct minihv_run *run = v->hv.exit;
	struct minihv_regs regs;
	uint32_t reason;
	int status, r;

	for (;;) {
		r = hv_run(&v->vm->hv, &v->hv);
		if (v->vm->o->trace)
			trace_exits(v);
		if (r < 0) {
			if (r == -EINTR) {
				__atomic_fetch_add(&v->counts[MINIHV_EXIT_INTR], 1, __ATOMIC_RELAXED);
				if (guest_ended(v->vm))
					return -1;
				continue;
			}
			fprintf(stderr, "minihv-run: RUN: %s\n", strerror(-r));
			diagnose(v, "RUN failed");
			return EXIT_CRASH;
		}
		reason = *v->hv.exit_reason;
		if (reason < NR_EXIT_NAMES)
			__atomic_fetch_add(&v->counts[reason], 1, __ATOMIC_RELAXED);
		if (!exit_is_sane(v, reason))
			return EXIT_CRASH;
		switch (reason) {
		case MINIHV_EXIT_IO:
			status = handle_io(v);
			if (status >= 0)
				return status;
			break;
		case MINIHV_EXIT_MMIO:
			if (virtio_pc_mmio(&v->vm->virtio, run->mmio.phys_addr, run->mmio.data,
					   run->mmio.len, run->mmio.is_write))
				break;
			/* No device: reads are all ones, writes vanish, as on a PC. */
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case MINIHV_EXIT_HLT:
			if (v->id)
				return -1;
			if (!hv_get_regs(&v->vm->hv, &v->hv, &regs) && (regs.rflags & 0x200))
				fprintf(stderr, "minihv-run: guest halted with interrupts enabled; nothing can wake it\n");
			return 0;
		case MINIHV_EXIT_SHUTDOWN:
			diagnose(v, "triple fault");
			return EXIT_CRASH;
		case MINIHV_EXIT_FAIL_ENTRY:
			diagnose(v, "the CPU refused to enter the guest");
			return EXIT_CRASH;
		default:
			diagnose(v, "an exit minihv cannot handle");
			return EXIT_CRASH;
		}
	}
}

/* The first status wins; the main thread then stops every vCPU. */
static void guest_end(struct vm *vm, int status)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->status < 0)
		vm->status = status;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	int status;

	for (;;) {
		if (v->id && !vm->o->platform) {
			/* Wait for a start request (again, after a HLT). */
			__atomic_store_n(&v->state, VCPU_WAITING, __ATOMIC_RELAXED);
			pthread_mutex_lock(&vm->lock);
			while (!v->started && vm->status < 0)
				pthread_cond_wait(&vm->cond, &vm->lock);
			pthread_mutex_unlock(&vm->lock);
			if (guest_ended(vm))
				break;
			__atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELAXED);
			status = start_ap(v);
			if (status < 0)
				status = run_vcpu(v);
			pthread_mutex_lock(&vm->lock);
			v->started = false;
			pthread_mutex_unlock(&vm->lock);
		} else {
			__atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELAXED);
			status = run_vcpu(v);
		}
		if (status >= 0) {
			guest_end(vm, status);
			break;
		}
		if (guest_ended(vm))
			break;
	}
	__atomic_store_n(&v->state, VCPU_ENDED, __ATOMIC_RELAXED);
	return NULL;
}

static void on_kick(int sig)
{
	(void)sig;	/* only there to end MINIHV_RUN with EINTR */
}

/* Ctrl-A x, from the input thread: the run ends as at a timeout. */
static void quit_key(void *arg)
{
	struct vm *vm = arg;

	fprintf(stderr, "%sminihv-run: quit (Ctrl-A x)%s", console_eol(), console_eol());
	guest_end(vm, EXIT_QUIT);
}

/* Ctrl-A c, from the input thread: uptime, console, each vCPU. */
static void status_key(void *arg)
{
	static const char *const states[] = {
		[VCPU_WAITING] = "waiting for a start",
		[VCPU_RUNNING] = "running",
		[VCPU_ENDED] = "ended",
	};
	const char *eol = console_eol();
	struct vm *vm = arg;
	uint64_t written, dropped, n, all;
	struct timespec now;
	unsigned int i, r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	console_counts(&written, &dropped);
	pthread_mutex_lock(&vm->uart.lock);
	n = vm->uart.lost;
	pthread_mutex_unlock(&vm->uart.lock);
	fprintf(stderr, "%sminihv-run: up %.1f s on %s, %u vCPU%s; console %llu bytes out, %llu dropped, %llu typed lost%s",
		eol, (now.tv_sec - vm->started.tv_sec) + (now.tv_nsec - vm->started.tv_nsec) / 1e9,
		hv_name(&vm->hv), vm->ncpus, vm->ncpus > 1 ? "s" : "",
		(unsigned long long)written, (unsigned long long)dropped,
		(unsigned long long)n, eol);
	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		fprintf(stderr, "  vCPU %u: %s", i,
			states[__atomic_load_n(&v->state, __ATOMIC_RELAXED)]);
		for (r = 0, all = 0; r < NR_EXIT_NAMES; r++)
			all += __atomic_load_n(&v->counts[r], __ATOMIC_RELAXED);
		fprintf(stderr, ", %llu exits to userspace", (unsigned long long)all);
		for (r = 0; r < NR_EXIT_NAMES; r++) {
			n = __atomic_load_n(&v->counts[r], __ATOMIC_RELAXED);
			if (n)
				fprintf(stderr, " %s %llu", exit_name(r), (unsigned long long)n);
		}
		fprintf(stderr, "%s", eol);
	}
}

/*
 * How long the console may take to write out what is queued: the
 * deadline if there is one, not at all once it passed (the user asked for
 * an end, not for the rest of a flood), a second after Ctrl-A x.  NULL:
 * as long as it takes, as cat would.
 */
static const struct timespec *flush_deadline(int status, const struct options *o,
					     struct timespec *deadline)
{
	if (status == EXIT_QUIT) {
		clock_gettime(CLOCK_MONOTONIC, deadline);
		deadline->tv_sec++;
		return deadline;
	}
	return o->timeout ? deadline : NULL;
}

/*
 * The main thread starts one thread per vCPU and waits for the guest to
 * end or the timeout; then it kicks every vCPU out of the guest
 * (immediate_exit first, so that a kick just before MINIHV_RUN is not
 * lost) and waits for the threads.  Nothing it waits for waits on the
 * console's reader: console output is queued (console.c), and vm->lock is
 * never held across I/O.
 */
static int run_guest(struct vm *vm, const struct options *o)
{
	struct sigaction sa = { .sa_handler = on_kick };	/* no SA_RESTART */
	const struct console_keys keys = { quit_key, status_key, vm };
	unsigned int i;
	int status, r = 0;

	sigaction(SIGUSR1, &sa, NULL);
	/* Raw only when the guest reads the terminal; otherwise ^C still works. */
	if (o->platform && uart_start_input(&vm->uart, console_take_tty(&keys)))
		die_usage("cannot create the UART's input thread%s", "");
	if (virtio_pc_start(&vm->virtio))
		die_usage("cannot create a virtio device's thread%s", "");
	for (i = 0; i < vm->ncpus; i++)
		if (pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]))
			die_usage("cannot create a vCPU thread%s", "");

	pthread_mutex_lock(&vm->lock);
	while (vm->status < 0 && r != ETIMEDOUT)
		r = o->timeout ? pthread_cond_timedwait(&vm->cond, &vm->lock, &vm->deadline)
			       : pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->status < 0)
		vm->status = EXIT_TIMEOUT;
	status = vm->status;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);

	for (i = 0; i < vm->ncpus; i++) {
		__atomic_store_n(vm->vcpus[i].hv.immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vm->vcpus[i].thread, SIGUSR1);
	}
	for (i = 0; i < vm->ncpus; i++) {
		pthread_join(vm->vcpus[i].thread, NULL);
		console_flush(&vm->vcpus[i]);
	}
	virtio_pc_stop(&vm->virtio);
	if (o->platform) {
		uart_stop_input(&vm->uart);
		console_restore_tty();
		if (vm->uart.lost)
			fprintf(stderr, "minihv-run: COM1: %llu typed bytes lost (the guest did not read them)\n",
				(unsigned long long)vm->uart.lost);
	}
	console_finish(flush_deadline(status, o, &vm->deadline));
	if (status == EXIT_TIMEOUT)
		fprintf(stderr, "minihv-run: timeout after %u s\n", o->timeout);
	return status;
}

/*
 * What backs guest RAM now, from /proc/self/smaps: its resident size and
 * how much of it is in huge pages (THP or hugetlbfs), and KSM's share.
 */
static void print_memory(const struct vm *vm)
{
	unsigned long start, end, v, rss = 0, huge = 0, ksm = 0;
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[256], key[64];
	bool in = false;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = start <= (uintptr_t)vm->ram && (uintptr_t)vm->ram < end;
			continue;
		}
		if (!in || sscanf(line, "%63s %lu kB", key, &v) != 2)
			continue;
		if (!strcmp(key, "Rss:"))
			rss += v;
		else if (!strcmp(key, "AnonHugePages:") || !strcmp(key, "Shared_Hugetlb:") ||
			 !strcmp(key, "Private_Hugetlb:"))
			huge += v;
		else if (!strcmp(key, "KSM:"))
			ksm += v;
	}
	fclose(f);
	fprintf(stderr, "memory: %lu MiB of %lu resident, %lu MiB in huge pages, %lu MiB merged by KSM\n",
		rss >> 10, (unsigned long)(vm->ram_size >> 20), huge >> 10, ksm >> 10);
}

/*
 * Every exit by kind, as the kernel counted them (MINIHV_GET_EXIT_STATS),
 * then the runs that ended in userspace by exit reason; all vCPUs summed.
 */
static void print_stats(struct vm *vm)
{
	static const char *const stat_names[MINIHV_STAT_NR] = {
		[MINIHV_STAT_IO] = "io",
		[MINIHV_STAT_MMIO] = "mmio",
		[MINIHV_STAT_HLT] = "hlt",
		[MINIHV_STAT_CPUID] = "cpuid",
		[MINIHV_STAT_MSR] = "msr",
		[MINIHV_STAT_PAGE_FAULT] = "page_fault",
		[MINIHV_STAT_HOST_EVENT] = "host_event",
		[MINIHV_STAT_CR_ACCESS] = "cr_access",
		[MINIHV_STAT_REFUSED] = "refused_insn",
		[MINIHV_STAT_SHUTDOWN] = "shutdown",
		[MINIHV_STAT_FAIL_ENTRY] = "fail_entry",
		[MINIHV_STAT_OTHER] = "other",
		[MINIHV_STAT_WINDOW] = "event_window",
		[MINIHV_STAT_HYPERCALL] = "hypercall",
		[MINIHV_STAT_IRQCHIP] = "irqchip",
		[MINIHV_STAT_EXCEPTION] = "exception",
		[MINIHV_STAT_IOEVENTFD] = "ioeventfd",
	};
	uint64_t kinds[MINIHV_STAT_NR] = { 0 }, counts[NR_EXIT_NAMES] = { 0 }, all = 0;
	bool have_kinds = true;
	struct hv_stats stats;
	unsigned int i, c;
	int r;

	for (c = 0; c < vm->ncpus; c++) {
		for (i = 0; i < NR_EXIT_NAMES; i++)
			counts[i] += vm->vcpus[c].counts[i];
		r = hv_get_stats(&vm->hv, &vm->vcpus[c].hv, &stats);
		if (r == -EPROTO)
			fprintf(stderr, "minihv-run: vCPU %u: the kernel's binary stats header is malformed (name_size); exit kinds not shown\n", c);
		if (r) {
			have_kinds = false;
			continue;
		}
		all += stats.all;
		for (i = 0; i < MINIHV_STAT_NR; i++)
			kinds[i] += stats.count[i];
	}
	if (have_kinds) {
		fprintf(stderr, "minihv-run: %llu exits in all (%s)\n",
			(unsigned long long)all, hv_name(&vm->hv));
		fprintf(stderr, "  by kind (kernel):\n");
		for (i = 0; i < MINIHV_STAT_NR; i++)
			if (kinds[i])
				fprintf(stderr, "    %-16s %llu\n", stat_names[i],
					(unsigned long long)kinds[i]);
	}
	fprintf(stderr, "  runs ending in userspace, by exit reason:\n");
	for (i = 0; i < NR_EXIT_NAMES; i++)
		if (counts[i])
			fprintf(stderr, "    %-16s %llu\n", exit_name(i),
				(unsigned long long)counts[i]);
}

/*
 * --probe: what the CPU offers for virtualization and what minihv makes
 * of it (MINIHV_GET_FEATURES), one line per feature; then each
 * speculation mitigation, whether the host kernel applies it on this CPU
 * and whether minihv does around the world switch.
 */
static int probe(const struct options *o)
{
	static const struct { int bit; const char *name; } names[] = {
		{ MINIHV_FEATURE_EPT, "EPT" },
		{ MINIHV_FEATURE_EPT_AD, "EPT accessed/dirty flags" },
		{ MINIHV_FEATURE_VPID, "VPID" },
		{ MINIHV_FEATURE_UNRESTRICTED_GUEST, "unrestricted guest" },
		{ MINIHV_FEATURE_PREEMPTION_TIMER, "VMX-preemption timer" },
		{ MINIHV_FEATURE_VMCS_SHADOWING, "VMCS shadowing" },
		{ MINIHV_FEATURE_APICV, "APICv (APIC virtualization)" },
		{ MINIHV_FEATURE_NPT, "NPT" },
		{ MINIHV_FEATURE_NRIP_SAVE, "NRIP save" },
		{ MINIHV_FEATURE_VMCB_CLEAN, "VMCB clean bits" },
		{ MINIHV_FEATURE_FLUSH_BY_ASID, "flush by ASID" },
		{ MINIHV_FEATURE_DECODE_ASSISTS, "decode assists" },
		{ MINIHV_FEATURE_VGIF, "VGIF" },
		{ MINIHV_FEATURE_AVIC, "AVIC" },
	};
	/* Speculation mitigations: "host" is the host kernel's choice. */
	static const struct { int bit; const char *name; } mitigations[] = {
		{ MINIHV_FEATURE_MIT_IBPB_SWITCH, "IBPB on VM switch" },
		{ MINIHV_FEATURE_MIT_RSB_FILL, "RSB fill after exit" },
		{ MINIHV_FEATURE_MIT_VERW, "VERW before entry" },
		{ MINIHV_FEATURE_MIT_L1D_FLUSH, "L1D flush before entry" },
		{ MINIHV_FEATURE_MIT_UNTRAIN_RET, "return untraining" },
		{ MINIHV_FEATURE_MIT_BHB_CLEAR, "BHB clear after exit" },
		{ MINIHV_FEATURE_MIT_IBPB_EXIT_TO_USER, "IBPB before the VMM" },
	};
	struct minihv_features f;
	struct hv hv;
	bool vmx;
	size_t i;
	int r;

	r = hv_open(&hv, o->device);
	if (r) {
		fprintf(stderr, "minihv-run: %s: %s (is minihv.ko loaded?)\n", o->device,
			strerror(-r));
		return EXIT_CRASH;
	}
	r = hv_get_features(&hv, &f);
	hv_close(&hv);
	if (r) {
		fprintf(stderr, "minihv-run: --probe: %s on %s (it describes minihv only)\n",
			strerror(-r), o->device);
		return EXIT_CRASH;
	}
	vmx = f.vendor == MINIHV_VENDOR_VMX;
	printf("%s, %u %s\n%-30s %-5s %s\n", vmx ? "Intel VT-x" : "AMD-V", f.nr_tags,
	       vmx ? "VPIDs" : "ASIDs", "feature", "CPU", "minihv");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((names[i].bit < MINIHV_FEATURE_NPT) != vmx)
			continue;
		printf("%-30s %-5s %s\n", names[i].name,
		       f.host & (1ULL << names[i].bit) ? "yes" : "no",
		       f.used & (1ULL << names[i].bit) ? "uses" : "-");
	}
	printf("%-30s %-5s %s\n", "mitigation", "host", "minihv");
	for (i = 0; i < sizeof(mitigations) / sizeof(mitigations[0]); i++) {
		bool vmx_only = mitigations[i].bit == MINIHV_FEATURE_MIT_L1D_FLUSH ||
				mitigations[i].bit == MINIHV_FEATURE_MIT_BHB_CLEAR;

		if ((vmx_only && !vmx) ||
		    (mitigations[i].bit == MINIHV_FEATURE_MIT_UNTRAIN_RET && vmx))
			continue;
		printf("%-30s %-5s %s\n", mitigations[i].name,
		       f.host & (1ULL << mitigations[i].bit) ? "on" : "off",
		       f.used & (1ULL << mitigations[i].bit) ? "applies" : "-");
	}
	return 0;
}

/*
 * The status the parent sees has 8 bits, and a shell reads 129-255 as
 * "killed by signal N - 128".  (V << 1) | 1 from port F4h stays, as
 * isa-debug-exit has it and test suites expect, but when it aliases (V
 * and V + 80h give the same status) or looks like a signal, stderr says
 * what the guest wrote.
 */
static int exit_status(int status)
{
	if (status > 255)
		fprintf(stderr, "minihv-run: the guest wrote %#x to port 0xf4: (V << 1) | 1 = %d, exit status %d in 8 bits\n",
			status >> 1, status, status & 0xff);
	else if (status > 128)
		fprintf(stderr, "minihv-run: the guest wrote %#x to port 0xf4: exit status %d = (V << 1) | 1, not a signal\n",
			status >> 1, status);
	return status & 0xff;
}

int main(int argc, char **argv)
{
	static struct vm vm;
	struct options o;
	int status;

	parse_options(argc, argv, &o);
	if (o.probe)
		return probe(&o);
	if (console_init(o.raw_console))
		die_usage("cannot create the console's output thread%s", "");
	/* Loading a huge image or initrd counts against --timeout too. */
	clock_gettime(CLOCK_MONOTONIC, &vm.started);
	vm.deadline = vm.started;
	vm.deadline.tv_sec += o.timeout;
	create_vm(&vm, &o);
	load_guest(&vm, &o);
	create_vcpus(&vm, &o);
	setup_cpu(&vm, &o);

	status = run_guest(&vm, &o);
	if (o.stats) {
		print_stats(&vm);
		print_memory(&vm);
	}
	return exit_status(status);
}
