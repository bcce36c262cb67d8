// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side virtio fuzzer: a Multiboot kernel (virtio-fuzz-pc.c is
 * its platform) that drives every virtio-mmio device minihv-run gives it
 * through the real registers, as a hostile driver would, with a seed from
 * its command line ("vfuzz.seed=0x... vfuzz.rounds=N", printed first).
 * selftests/virtio_guest_test.c runs it with --rng, two --disk (one ,ro)
 * and --net user; Documentation/testing.rst, "Hostile input".
 *
 * Each round, per device: a reset (Status reads 0 after it); a feature
 * negotiation, sometimes wrong (FEATURES_OK must stick exactly when the
 * driver asked for a subset of the offer with VERSION_1); queues of random
 * sizes at random places, some misaligned, outside RAM or across its end
 * (QueueReady must read 1 exactly when size and places are valid, and a
 * refusal must set DEVICE_NEEDS_RESET); random descriptor chains: loops,
 * next past the ring, huge and zero lengths, buffers outside RAM, over the
 * rings themselves, indirect tables (nested, looping, misnegotiated),
 * available indexes past the ring; a notification; register writes of
 * every width at random offsets; a reset in the middle.  Then a bounded
 * poll on the device's state (the used index, or DEVICE_NEEDS_RESET,
 * which must come with a new config generation and the config interrupt
 * bit).  Every fourth round, and at the end, a well-formed request whose
 * answer is checked: an rng read fills its buffer; a blk read returns what
 * the host wrote (virtio-fuzz.h's pattern), a write reads back, a write to
 * the read-only disk fails, GET_ID names the disk; an ARP request over
 * the network gets slirp's reply.  The first failed check is printed and
 * the run ends through port F4h; else "virtio-fuzz: done" and ACPI S5.
 *
 * What the devices may write is fenced: each device gets a 1 MiB region
 * of RAM (rings, headers, indirect tables, a data arena), and every
 * address the fuzzer hands it is in that region, outside RAM, or in the
 * runner's top 64 KiB.  The block devices are stricter, so that no write
 * can reach the read-write disk's canary sectors unless the device is
 * wrong: the first 16 readable bytes of every chain the device can start
 * from are a header the fuzzer built (a head descriptor, or entry 0 of an
 * indirect table, never writable by the device), and only a header with a
 * sector outside the canary says "write".
 */
#include "virtio-fuzz.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* The MMIO registers (virtio 1.2, 4.2.2). */
#define R_MAGIC			0x000
#define R_VERSION		0x004
#define R_DEVICE_ID		0x008
#define R_DEVICE_FEATURES	0x010
#define R_DEVICE_FEATURES_SEL	0x014
#define R_DRIVER_FEATURES	0x020
#define R_DRIVER_FEATURES_SEL	0x024
#define R_QUEUE_SEL		0x030
#define R_QUEUE_NUM_MAX		0x034
#define R_QUEUE_NUM		0x038
#define R_QUEUE_READY		0x044
#define R_QUEUE_NOTIFY		0x050
#define R_INTERRUPT_STATUS	0x060
#define R_INTERRUPT_ACK		0x064
#define R_STATUS		0x070
#define R_QUEUE_DESC		0x080	/* low, high at + 4 */
#define R_QUEUE_DRIVER		0x090
#define R_QUEUE_DEVICE		0x0a0
#define R_CONFIG_GENERATION	0x0fc
#define R_CONFIG		0x100

#define MMIO_BASE		0xd0000000u
#define MMIO_SIZE		0x200u
#define MAX_DEVS		8
#define MAGIC			0x74726976u
#define QUEUE_MAX		256

#define S_ACKNOWLEDGE		1
#define S_DRIVER		2
#define S_DRIVER_OK		4
#define S_FEATURES_OK		8
#define S_NEEDS_RESET		64

#define F_INDIRECT		28
#define F_VERSION_1		32
#define BLK_F_RO		5
#define BLK_F_FLUSH		9

#define D_NEXT			1
#define D_WRITE			2
#define D_INDIRECT		4

#define ID_NET			1
#define ID_BLOCK		2
#define ID_RNG			4

#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_S_OK		0
#define BLK_S_IOERR		1

#define NET_HDR			12

/*
 * Guest RAM: the fuzzer's image at 1 MiB, then a region per device.
 * Inside a region: queue q's three areas each in a window of their own
 * (desc, avail, used), the headers' slab (a slot per descriptor), the
 * indirect tables, and the arena the data buffers come from.
 */
#define REGION_BASE		0x400000u
#define REGION_SIZE		0x100000u
#define WIN			0x8000u
#define QUEUE_AREA(q)		((q) * 3 * WIN)
#define SLAB			0x30000u
#define SLOT			64
#define TABLES			0x34000u
#define TABLE_SIZE		0x2000u	/* 512 descriptors: the device's limit */
#define NTABLES			8
#define ARENA			(TABLES + NTABLES * TABLE_SIZE)
#define ARENA_END		REGION_SIZE

/* Polls of the device's state after a random request; the wait for a good one. */
#define RANDOM_POLLS		64
#define WAIT_SECONDS		10

#define barrier()		asm volatile("" ::: "memory")
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct queue {
	u32 num;
	u64 area[3];		/* desc, avail (driver), used (device) */
	bool mine[3];		/* inside the device's region: the fuzzer fills it */
};

struct dev {
	u32 base, id, nq, region, index;
	bool ro;		/* a block device's VIRTIO_BLK_F_RO */
	u64 features;		/* offered */
	u64 driver_features;	/* asked for */
	bool strict;		/* a block device: the canary's rules above */
	bool poked;		/* random register writes this round: no state checks */
	const char *name;
	u8 mac[6];
	struct queue q[2];
	u32 rounds, served, broken, pending, mid_resets, refused, good;
};

static struct dev devs[MAX_DEVS];
static u32 ndevs, round, failures, checks;
static u64 seed, rng_state;
/* This round: one descriptor or area in @wild is broken. */
static u32 wild;

/* ---- random numbers: splitmix64 to seed, xorshift64* to draw ---- */

static u32 rnd32(void)
{
	u64 x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (x * 0x2545f4914f6cdd1dull) >> 32;
}

static u64 rnd64(void)
{
	return (u64)rnd32() << 32 | rnd32();
}

/* 0 to @n - 1 (32-bit: no 64-bit division in a freestanding 32-bit build). */
static u32 rnd(u32 n)
{
	return n ? rnd32() % n : 0;
}

/* One time in @n. */
static bool chance(u32 n)
{
	return !rnd(n);
}

static u32 min32(u32 a, u32 b)
{
	return a < b ? a : b;
}

/* ---- checks ---- */

static bool check(struct dev *d, bool ok, const char *what, u32 a, u32 b)
{
	checks++;
	if (!ok && ++failures <= 10)
		vf_print("virtio-fuzz: FAIL %s round %u: %s (%x, %x)\n", d->name, round, what,
			 a, b);
	return ok;
}

/* ---- registers and RAM ---- */

static u32 rd(struct dev *d, u32 off)
{
	return vf_mmio_read(d->base + off, 4);
}

static void wr(struct dev *d, u32 off, u32 v)
{
	barrier();
	vf_mmio_write(d->base + off, 4, v);
}

static void wr64(struct dev *d, u32 off, u64 v)
{
	wr(d, off, (u32)v);
	wr(d, off + 4, v >> 32);
}

static bool in_region(struct dev *d, u64 gpa, u64 len)
{
	return gpa >= d->region && gpa <= d->region + REGION_SIZE &&
	       len <= d->region + REGION_SIZE - gpa;
}

/* [@gpa, + @len) inside RAM, as the device must judge it. */
static bool in_ram(u64 gpa, u64 len)
{
	return gpa <= vf_ram_size() && len <= vf_ram_size() - gpa;
}

static void fill(void *p, u8 v, u32 n)
{
	u8 *b = p;

	while (n--)
		*b++ = v;
}

static void copy(void *to, const void *from, u32 n)
{
	u8 *t = to;
	const u8 *f = from;

	while (n--)
		*t++ = *f++;
}

static void put_desc(u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct desc *t = vf_ram(table);

	t[i] = (struct desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static volatile u16 *avail_idx(struct queue *q)
{
	return vf_ram(q->area[1] + 2);
}

static u16 *avail_ring(struct queue *q)
{
	return vf_ram(q->area[1] + 4);
}

static volatile u16 *used_idx(struct queue *q)
{
	return vf_ram(q->area[2] + 2);
}

static volatile u32 *used_elem(struct queue *q, u32 i)
{
	return vf_ram(q->area[2] + 4 + 8 * (i % q->num));
}

/* ---- reset and negotiation (3.1.1) ---- */

static void dev_reset(struct dev *d)
{
	u32 i;

	wr(d, R_STATUS, 0);
	check(d, rd(d, R_STATUS) == 0, "Status after a reset", rd(d, R_STATUS), 0);
	check(d, rd(d, R_INTERRUPT_STATUS) == 0, "InterruptStatus after a reset",
	      rd(d, R_INTERRUPT_STATUS), 0);
	for (i = 0; i < d->nq; i++) {
		wr(d, R_QUEUE_SEL, i);
		check(d, rd(d, R_QUEUE_READY) == 0, "QueueReady after a reset", i, 0);
	}
	fill(d->q, 0, sizeof(d->q));
	d->poked = false;
}

static u64 read_features(struct dev *d)
{
	u64 f;

	wr(d, R_DEVICE_FEATURES_SEL, 0);
	f = rd(d, R_DEVICE_FEATURES);
	wr(d, R_DEVICE_FEATURES_SEL, 1);
	return f | (u64)rd(d, R_DEVICE_FEATURES) << 32;
}

/*
 * Negotiates @want (all of the offer's that @wrong is false, with
 * VERSION_1, else anything); returns whether FEATURES_OK stuck, which
 * must be exactly when @want is a subset of the offer with VERSION_1.
 */
static bool negotiate(struct dev *d, bool wrong)
{
	u64 offer, want, v1 = 1ull << F_VERSION_1;
	bool ok, expect;

	wr(d, R_STATUS, S_ACKNOWLEDGE);
	wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	offer = read_features(d);
	check(d, offer == d->features, "the offer changed", (u32)offer, offer >> 32);
	if (!wrong) {
		want = (offer & rnd64()) | v1;
	} else {
		switch (rnd(4)) {
		case 0: want = rnd64(); break;
		case 1: want = offer & ~v1; break;
		case 2: want = offer | 1ull << rnd(64); break;
		default: want = offer & rnd64(); break;
		}
	}
	wr(d, R_DRIVER_FEATURES_SEL, 0);
	wr(d, R_DRIVER_FEATURES, (u32)want);
	wr(d, R_DRIVER_FEATURES_SEL, 1);
	wr(d, R_DRIVER_FEATURES, want >> 32);
	if (chance(8)) {
		/* A selector past the two words: ignored. */
		wr(d, R_DRIVER_FEATURES_SEL, 2 + rnd(100));
		wr(d, R_DRIVER_FEATURES, rnd32());
	}
	wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	ok = rd(d, R_STATUS) & S_FEATURES_OK;
	expect = !(want & ~offer) && (want & v1);
	check(d, ok == expect, "FEATURES_OK for features", (u32)want, want >> 32);
	d->driver_features = want;
	return ok;
}

/* ---- queues ---- */

static const u32 area_align[3] = { 16, 2, 4 };	/* 2.7, Table 2.2 */

static u64 area_size(u32 which, u32 num)
{
	return which == 0 ? 16ull * num : which == 1 ? 6 + 2ull * num : 6 + 8ull * num;
}

/*
 * Where area @which of queue @qi goes: mostly aligned in its window; or
 * misaligned; outside RAM; across RAM's end; and for a lenient device
 * anywhere among its rings, overlapping the others.
 */
static u64 place(struct dev *d, u32 qi, u32 which, u64 size, bool good)
{
	u32 win = d->region + QUEUE_AREA(qi) + which * WIN;
	u32 room = size < WIN ? WIN - (u32)size : 0;
	u64 ram = vf_ram_size();
	u32 r = good || !chance(2 * wild) ? 0 : rnd(100);

	if (r < 20)
		return win + (rnd(room + 1) & ~(area_align[which] - 1));
	if (r < 40)
		return win + (rnd(room + 1) | 1);
	if (r < 60) {
		switch (rnd(3)) {
		case 0: return ram + rnd(1 << 20);
		case 1: return MMIO_BASE + rnd(0x1000);
		default: return rnd64() | 1ull << 40;
		}
	}
	if (r < 80 || d->strict)
		return (ram - rnd(size < (1 << 20) ? (u32)size : 1 << 20)) &
		       ~(area_align[which] - 1ull);
	return d->region + (rnd(QUEUE_AREA(2) - 0x1000) & ~(area_align[which] - 1));
}

static u32 random_num(bool good)
{
	static const u32 junk[] = { 0, 3, 255, 257, 512, 1000, 0x10000, 0xffffffff };

	if (good || !chance(2 * wild))
		return 1 << rnd(9);
	return chance(4) ? rnd32() : junk[rnd(ARRAY_SIZE(junk))];
}

/*
 * Sets queue @qi up, areas zeroed where they are the fuzzer's, not yet
 * ready.  Returns whether the device must take it: a power of 2 up to
 * QueueNumMax, each area inside RAM and aligned (4.2.3.2, 2.7).
 */
static bool queue_setup(struct dev *d, u32 qi, bool good)
{
	struct queue *q = &d->q[qi];
	bool valid;
	u32 i;

	wr(d, R_QUEUE_SEL, qi);
	check(d, rd(d, R_QUEUE_NUM_MAX) == QUEUE_MAX, "QueueNumMax", rd(d, R_QUEUE_NUM_MAX), qi);
	q->num = random_num(good);
	if (good && q->num < 8)
		q->num = 8;	/* a block request's five descriptors, eight receive buffers */
	valid = q->num && q->num <= QUEUE_MAX && !(q->num & (q->num - 1));
	for (i = 0; i < 3; i++) {
		u64 size = area_size(i, q->num);

		q->area[i] = place(d, qi, i, size, good);
		q->mine[i] = valid && in_region(d, q->area[i], size);
		valid &= in_ram(q->area[i], size) && !(q->area[i] & (area_align[i] - 1));
		if (q->mine[i])
			fill(vf_ram(q->area[i]), 0, size);
	}
	wr(d, R_QUEUE_NUM, q->num);
	wr64(d, R_QUEUE_DESC, q->area[0]);
	wr64(d, R_QUEUE_DRIVER, q->area[1]);
	wr64(d, R_QUEUE_DEVICE, q->area[2]);
	return valid;
}

/* QueueReady = 1: read back as @valid says, a refusal sets NEEDS_RESET. */
static bool queue_enable(struct dev *d, u32 qi, bool valid)
{
	u32 ready;

	wr(d, R_QUEUE_SEL, qi);
	wr(d, R_QUEUE_READY, 1);
	ready = rd(d, R_QUEUE_READY);
	check(d, ready == valid, "QueueReady for size and areas", d->q[qi].num, ready);
	if (!valid)
		check(d, rd(d, R_STATUS) & S_NEEDS_RESET, "NEEDS_RESET after a refused queue",
		      d->q[qi].num, 0);
	return ready;
}

/* ---- random descriptors ---- */

/*
 * A buffer for a random descriptor: in the arena, or (one time in
 * @wild) broken: empty, huge, outside RAM, across RAM's end, or over the
 * queue's own rings.  Writable buffers of a strict device never cover
 * its descriptors, available ring, headers or tables, so what it reads
 * as a header stays the fuzzer's.
 */
static void random_buf(struct dev *d, struct queue *q, bool write, u64 *addr, u32 *len)
{
	static const u32 huge[] = { 0x7fffffff, 0x80000000, 0xffffffff, 0x40000000 };
	u64 ram = vf_ram_size();
	u32 at = d->region + ARENA + rnd(ARENA_END - ARENA), which;

	*addr = at;
	*len = 1 + rnd(min32(d->region + ARENA_END - at, chance(3) ? 64 : 8192));
	if (!chance(wild))
		return;
	switch (rnd(6)) {
	case 0:
		*len = 0;
		break;
	case 1:
		*len = chance(2) ? (u32)(ram - at) + 1 + rnd(4096) : huge[rnd(4)];
		break;
	case 2:
		switch (rnd(4)) {
		case 0: *addr = ram + rnd(1 << 20); break;
		case 1: *addr = MMIO_BASE + rnd(0x1000); break;
		case 2: *addr = rnd64() | 1ull << 40; break;
		default: *addr = 0xfffffffffffff000ull + rnd(0x1000); break;
		}
		*len = 1 + rnd(4096);
		break;
	case 3:
		*addr = ram - 1 - rnd(64);
		*len = 1 + rnd(128);
		break;
	default:
		which = d->strict && write ? 2 : rnd(3);
		*addr = q->area[which] + rnd(64);
		*len = 1 + rnd(256);
		/* Areas outside the region the device may take: a buffer there too. */
		if (!in_region(d, *addr, *len) && in_ram(*addr, *len) && *addr < ram - 0x10000)
			*addr = at, *len = 1;
	}
}

/* The direction queue @qi's buffers have: writable but for sending and blk headers. */
static bool natural_write(struct dev *d, u32 qi)
{
	return !(d->id == ID_NET && qi == 1);
}

static void random_desc(struct dev *d, struct queue *q, u64 table, u32 i, u32 n)
{
	u16 flags = 0, next;
	u32 len;
	u64 addr;

	if (chance(2))
		flags |= D_NEXT;
	if (natural_write(d, q - d->q) != chance(wild))
		flags |= D_WRITE;
	if (chance(4 * wild))
		flags |= D_INDIRECT;
	if (chance(8 * wild))
		flags |= rnd32();
	random_buf(d, q, flags & D_WRITE, &addr, &len);
	next = chance(4 * wild) ? i : chance(wild) ? n + rnd(4) : rnd(n);
	put_desc(table, i, addr, len, flags, next);
}

/* A block request's header in slot @slot of the slab: may it say "write"? */
static u64 blk_header(struct dev *d, u32 slot, bool *out)
{
	u64 h = d->region + SLAB + slot * SLOT, sector;
	u32 *w = vf_ram(h), type;

	switch (rnd(10)) {
	case 0: case 1: case 2: type = BLK_T_OUT; break;
	case 3: case 4: case 5: type = BLK_T_IN; break;
	case 6: type = BLK_T_FLUSH; break;
	case 7: type = BLK_T_GET_ID; break;
	default: type = rnd32(); break;
	}
	*out = type == BLK_T_OUT;
	switch (chance(4) ? rnd(7) : 0) {
	case 0: sector = rnd(d->ro ? VF_RO_SECTORS : VF_RW_SECTORS); break;
	case 1: sector = VF_RW_SECTORS - rnd(4); break;
	case 2: sector = VF_RW_SECTORS + rnd(16); break;
	/* sector * 512 wraps to an offset in the canary: a device must not. */
	case 3: sector = (1ull << 55) + rnd(VF_RW_CANARY); break;
	case 4: sector = ~0ull - rnd(4); break;
	case 5: sector = rnd64() | 1ull << 40; break;
	default: sector = rnd(VF_RW_CANARY); break;
	}
	/* The read-write disk's canary is never a write's. */
	if (*out && !d->ro && sector < VF_RW_CANARY)
		sector += VF_RW_CANARY;
	w[0] = type;
	w[1] = rnd32();
	w[2] = (u32)sector;
	w[3] = sector >> 32;
	fill(w + 4, 0xa5, SLOT - 16);
	return h;
}

/*
 * The rest of a well-shaped request after its first descriptor, in
 * @lens and @write (at most 4 pieces): a block request's data in whole
 * sectors and its status byte, a frame, receive or entropy buffers.  One
 * piece in @wild is of any length.
 */
static u32 request_pieces(struct dev *d, u32 qi, bool out, u32 *lens, bool *write)
{
	u32 n = 0, k = chance(wild) ? rnd(4) : 1 + rnd(2), i;

	for (i = 0; i < k; i++, n++) {
		write[n] = d->id == ID_BLOCK ? !out : natural_write(d, qi);
		lens[n] = d->id == ID_BLOCK ? VF_SECTOR * (1 + rnd(4)) :
			  d->id == ID_NET && qi == 1 ? 14 + rnd(1500) : 1 + rnd(4096);
	}
	if (d->id == ID_BLOCK) {
		write[n] = true;
		lens[n++] = 1;
	}
	for (i = 0; i < n; i++)
		if (chance(2 * wild))
			lens[i] = 1 + rnd(4096);
	return n;
}

/* A random index of queue @q that is no head, or @q->num after a few tries. */
static u32 free_index(struct queue *q, const u8 *is_head)
{
	u32 i, tries;

	for (tries = 0; tries < 8; tries++) {
		i = rnd(q->num);
		if (!is_head[i])
			return i;
	}
	return q->num;
}

/*
 * The request queue @qi's head @i starts: for a block device its header
 * (directly, or as entry 0 of an indirect table @tables allows), else a
 * buffer of the right direction for the queue; mostly followed by a
 * well-shaped rest (request_pieces()) in descriptors that are no head
 * (@is_head) or in the table; sometimes anything.
 */
static void random_head(struct dev *d, struct queue *q, u32 qi, u32 i, u32 *tables,
			const u8 *is_head)
{
	u64 table = q->area[0], addr;
	u32 len, n = q->num, j, at, np = 0, lens[4], idx[5];
	u16 flags = 0;
	bool out = false, write[4], indirect;

	if (!d->strict && chance(wild)) {
		random_desc(d, q, q->area[0], i, q->num);
		return;
	}
	if (d->id == ID_BLOCK) {
		addr = blk_header(d, i, &out);
		/* A header it reads whole: a write's sector is all the fuzzer's. */
		len = out || !chance(wild) ? 16 + (chance(wild) ? rnd(SLOT - 16) : 0) : 4 + rnd(12);
		if (chance(4 * wild))
			flags |= D_WRITE;	/* no header at all */
	} else if (d->id == ID_NET && qi == 1) {
		addr = d->region + SLAB + i * SLOT;
		fill(vf_ram(addr), 0, SLOT);
		if (chance(wild))
			*(u8 *)vf_ram(addr + rnd(2)) = rnd32();	/* an offload never offered */
		len = chance(wild) ? rnd(NET_HDR) : NET_HDR;
	} else {
		random_buf(d, q, true, &addr, &len);
		flags |= D_WRITE;
	}
	if (!chance(wild))
		np = request_pieces(d, qi, out, lens, write);
	indirect = *tables < NTABLES && chance(4);
	if (indirect) {
		table = d->region + TABLES + (*tables)++ * TABLE_SIZE;
		n = np + 1 + rnd(8);
		for (j = 1; j < n; j++)
			random_desc(d, q, table, j, n);
	}
	idx[0] = indirect ? 0 : i;
	for (j = 0; j < np; j++) {
		idx[j + 1] = indirect ? j + 1 : free_index(q, is_head);
		if (idx[j + 1] >= n)
			break;
		at = d->region + ARENA + rnd(ARENA_END - ARENA - lens[j]);
		put_desc(table, idx[j + 1], at, lens[j], write[j] ? D_WRITE : 0, 0);
	}
	np = j;
	/* Each piece to the next; the last one ends the chain, or goes on at random. */
	put_desc(table, idx[0], addr, len, flags | (np || chance(2) ? D_NEXT : 0),
		 np ? idx[1] : chance(wild) ? rnd(n + 2) : rnd(n));
	for (j = 1; j <= np; j++) {
		struct desc *e = (struct desc *)vf_ram(table) + idx[j];

		if (j < np || chance(2 * wild))
			e->flags |= D_NEXT;
		e->next = j < np ? idx[j + 1] : rnd(n + 2);
	}
	if (!indirect)
		return;
	len = n * 16;
	if (chance(wild))
		len = chance(2) ? len + 1 + rnd(15) : chance(2) ? 0 : 0x2000 + 16 * rnd(100);
	put_desc(q->area[0], i, table, len, D_INDIRECT | (chance(2 * wild) ? D_NEXT : 0),
		 rnd(q->num));
}

/*
 * Fills queue @qi: heads at random indexes, every other descriptor
 * random, every available entry a head (or past the ring).  Returns the
 * available index to publish: the heads, or past the ring, or none.
 */
static u16 random_requests(struct dev *d, u32 qi)
{
	struct queue *q = &d->q[qi];
	u16 heads[8], *ring = avail_ring(q);
	u32 i, nheads, tables = 0;
	u8 is_head[QUEUE_MAX];

	fill(is_head, 0, q->num);
	nheads = 1 + rnd(min32(q->num, 8));
	for (i = 0; i < nheads; i++) {
		heads[i] = rnd(q->num);
		is_head[heads[i]] = 1;
	}
	for (i = 0; i < q->num; i++)
		if (!is_head[i])
			random_desc(d, q, q->area[0], i, q->num);
	/* After the rest: a head's pieces take descriptors no other head is. */
	for (i = 0; i < q->num; i++)
		if (is_head[i])
			random_head(d, q, qi, i, &tables, is_head);
	for (i = 0; i < q->num; i++)
		ring[i] = chance(16) ? q->num + rnd(16) :
			  d->strict || !chance(4) ? heads[rnd(nheads)] : rnd(q->num + 4);
	switch (rnd(12)) {
	case 0: return q->num + 1 + rnd(1000);
	case 1: return 0;
	case 2: return q->num;
	default: return 1 + rnd(nheads);
	}
}

/* A write of random width and value at a random offset of the window. */
static void poke(struct dev *d)
{
	static const u8 size[] = { 1, 2, 4, 4, 4 };
	u32 sz = size[rnd(5)], off = rnd(MMIO_SIZE);

	if (sz == 4 && !chance(8))
		off &= ~3;
	/*
	 * Not the queue's size, readiness or places: a queue the device took
	 * anywhere in RAM could write the fuzzer's own memory.
	 */
	if (sz == 4 && !(off & 3) &&
	    ((off >= R_QUEUE_NUM_MAX && off <= R_QUEUE_READY) ||
	     (off >= R_QUEUE_DESC && off < R_QUEUE_DEVICE + 8)))
		return;
	if (chance(2))
		vf_mmio_write(d->base + off, sz, off == R_STATUS && chance(2) ? 0 : rnd32());
	else
		vf_mmio_read(d->base + off, sz);
	d->poked = true;
}

/* ---- one random round ---- */

enum outcome { SERVED, BROKEN, PENDING };

static bool used_moved(struct dev *d)
{
	u32 i;

	for (i = 0; i < d->nq; i++)
		if (d->q[i].mine[2] && *used_idx(&d->q[i]))
			return true;
	return false;
}

static enum outcome poll_random(struct dev *d)
{
	u32 i;

	for (i = 0; i < RANDOM_POLLS; i++) {
		if (used_moved(d))
			return SERVED;
		if (rd(d, R_STATUS) & S_NEEDS_RESET)
			return BROKEN;
	}
	return PENDING;
}

static void random_round(struct dev *d)
{
	u32 qi, gen, status, isr, notify;
	bool ready[2] = { false, false }, valid;
	u16 publish[2] = { 0, 0 };
	enum outcome o;

	d->rounds++;
	wild = chance(4) ? 2 : chance(3) ? 6 : 40;
	dev_reset(d);
	negotiate(d, chance(5));
	for (qi = 0; qi < d->nq; qi++) {
		if (chance(10))
			continue;	/* a queue never set up */
		valid = queue_setup(d, qi, false);
		publish[qi] = 0;
		if (d->q[qi].mine[0] && d->q[qi].mine[1])
			publish[qi] = random_requests(d, qi);
		ready[qi] = queue_enable(d, qi, valid);
		d->refused += !valid;
	}
	if (!chance(10))
		wr(d, R_STATUS, rd(d, R_STATUS) | S_DRIVER_OK);
	gen = rd(d, R_CONFIG_GENERATION);
	status = rd(d, R_STATUS);
	for (qi = 0; qi < d->nq; qi++) {
		if (!ready[qi] || !d->q[qi].mine[1])
			continue;
		barrier();
		*avail_idx(&d->q[qi]) = publish[qi];
	}
	while (chance(4))
		poke(d);
	notify = rnd(d->nq + 1);
	wr(d, R_QUEUE_NOTIFY, notify < d->nq ? notify : chance(2) ? rnd32() : 0);
	if (chance(3))
		wr(d, R_QUEUE_NOTIFY, rnd(d->nq));
	while (chance(3))
		poke(d);
	if (chance(8)) {
		/* In the middle of whatever it does. */
		d->mid_resets++;
		dev_reset(d);
		return;
	}
	o = poll_random(d);
	d->served += o == SERVED;
	d->broken += o == BROKEN;
	d->pending += o == PENDING;
	if (o == BROKEN && !(status & S_NEEDS_RESET) && !d->poked) {
		isr = rd(d, R_INTERRUPT_STATUS);
		check(d, rd(d, R_CONFIG_GENERATION) != gen, "config generation after NEEDS_RESET",
		      gen, 0);
		check(d, isr & 2, "config interrupt after NEEDS_RESET", isr, 0);
	}
	/* The available index going back: pending past the ring. */
	if (chance(8) && ready[0] && d->q[0].mine[1]) {
		*avail_idx(&d->q[0]) = publish[0] - 1 - rnd(3);
		wr(d, R_QUEUE_NOTIFY, 0);
		poll_random(d);
	}
}

/* ---- well-formed requests, whose answers are checked ---- */

/* Waits for queue @q's used index to reach @want: false on NEEDS_RESET or after 10 s. */
static bool wait_used(struct dev *d, struct queue *q, u16 want)
{
	u32 last = vf_clock(), now, elapsed = 0;

	while (elapsed < WAIT_SECONDS * VF_CLOCK_HZ) {
		if ((u16)*used_idx(q) >= want)
			return true;
		if (rd(d, R_STATUS) & S_NEEDS_RESET)
			return false;
		now = vf_clock();
		elapsed += (now - last) & VF_CLOCK_MASK;
		last = now;
	}
	return false;
}

/* Reset, negotiate, every queue set up well and ready, DRIVER_OK. */
static bool good_start(struct dev *d)
{
	u32 qi;

	dev_reset(d);
	if (!check(d, negotiate(d, false), "a good negotiation", 0, 0))
		return false;
	for (qi = 0; qi < d->nq; qi++)
		if (!queue_enable(d, qi, queue_setup(d, qi, true)))
			return false;
	wr(d, R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return true;
}

/* Makes descriptor chain @head of queue @q available as entry @slot and notifies. */
static void submit(struct dev *d, u32 qi, u16 head, u16 slot)
{
	struct queue *q = &d->q[qi];

	avail_ring(q)[slot % q->num] = head;
	barrier();
	*avail_idx(q) = slot + 1;
	wr(d, R_QUEUE_NOTIFY, qi);
}

static u64 arena_buf(struct dev *d, u32 len)
{
	return d->region + ARENA + (rnd(ARENA_END - ARENA - len) & ~15u);
}

static bool good_rng(struct dev *d)
{
	struct queue *q = &d->q[0];
	u32 len = 16 + rnd(4096), i, head = rnd(q->num), nonzero = 0;
	u64 buf = arena_buf(d, len);
	u8 *p = vf_ram(buf);

	fill(p, 0, len);
	put_desc(q->area[0], head, buf, len, D_WRITE, 0);
	submit(d, 0, head, 0);
	if (!check(d, wait_used(d, q, 1), "an rng request served", len, 0))
		return false;
	check(d, used_elem(q, 0)[0] == head && used_elem(q, 0)[1] == len, "rng used element",
	      used_elem(q, 0)[0], used_elem(q, 0)[1]);
	for (i = 0; i < len; i++)
		nonzero += p[i] != 0;
	/* 16 random bytes all zero: one time in 2^128. */
	return check(d, nonzero > 0, "rng bytes", len, 0);
}

/*
 * One block request of @type at @sector moving @len bytes at @data, in
 * descriptor @head (a chain of header, data in one to three pieces,
 * status; or the same in an indirect table).  Returns the status byte,
 * or 0xff if it was not served; *@used the used element's length.
 */
static u8 blk_request(struct dev *d, u16 slot, u32 type, u64 sector, u64 data, u32 len,
		      u32 *used)
{
	struct queue *q = &d->q[0];
	u64 hdr = d->region + SLAB + (slot % 256) * SLOT, status = hdr + 32, table = q->area[0];
	u32 *h = vf_ram(hdr), pieces = len ? 1 + rnd(3) : 0, n = 0, i, cut, done = 0;
	u16 head = rnd(q->num - 4), in = type == BLK_T_OUT ? 0 : D_WRITE;
	bool indirect = (d->driver_features & 1ull << F_INDIRECT) && chance(2);

	h[0] = type;
	h[1] = 0;
	h[2] = (u32)sector;
	h[3] = sector >> 32;
	*(volatile u8 *)vf_ram(status) = 0xee;
	if (indirect) {
		table = d->region + TABLES;
		head = 0;
	}
	put_desc(table, head + n, hdr, 16, D_NEXT, head + n + 1);
	n++;
	for (i = 0; i < pieces && done < len; i++) {
		cut = i == pieces - 1 ? len - done : 1 + rnd(len - done);
		put_desc(table, head + n, data + done, cut, in | D_NEXT, head + n + 1);
		done += cut;
		n++;
	}
	put_desc(table, head + n, status, 1, D_WRITE, 0);
	n++;
	if (indirect) {
		head = rnd(q->num);
		put_desc(q->area[0], head, table, n * 16, D_INDIRECT, 0);
	}
	submit(d, 0, head, slot);
	if (!wait_used(d, q, slot + 1))
		return 0xff;
	*used = used_elem(q, slot)[1];
	check(d, used_elem(q, slot)[0] == head, "blk used id", used_elem(q, slot)[0], head);
	return *(volatile u8 *)vf_ram(status);
}

static bool good_blk(struct dev *d)
{
	u32 sectors = d->ro ? VF_RO_SECTORS : VF_RW_SECTORS, tag = d->ro ? VF_TAG_RO : VF_TAG_RW;
	u32 n = 1 + rnd(8), len = n * VF_SECTOR, used = 0, i, bad = 0;
	u64 buf = arena_buf(d, 2 * len), sector;
	u8 *p = vf_ram(buf), st, id[24];

	switch (rnd(d->ro ? 4 : 5)) {
	case 0:
		/* The host's pattern, from the canary or anywhere on the read-only disk. */
		sector = rnd((d->ro ? sectors : VF_RW_CANARY) - n + 1);
		fill(p, 0, len);
		st = blk_request(d, 0, BLK_T_IN, sector, buf, len, &used);
		if (!check(d, st == BLK_S_OK && used == len + 1, "blk read", st, used))
			return false;
		for (i = 0; i < len; i++)
			bad += p[i] != vf_pattern(tag, sector * VF_SECTOR + i);
		return check(d, !bad, "blk read: the host's bytes", (u32)sector, bad);
	case 1:
		id[20] = 0;
		st = blk_request(d, 0, BLK_T_GET_ID, 0, buf, 20, &used);
		copy(id, p, 20);
		return check(d, st == BLK_S_OK && id[0] == 'm' && id[11] == '0' + d->index,
			     "blk GET_ID", st, id[11]);
	case 2:
		if (!(d->driver_features & 1ull << BLK_F_FLUSH))
			return true;
		st = blk_request(d, 0, BLK_T_FLUSH, 0, 0, 0, &used);
		return check(d, st == BLK_S_OK && used == 1, "blk flush", st, used);
	default:
		/* A write: refused on the read-only disk, read back on the other. */
		sector = d->ro ? rnd(sectors) : VF_RW_CANARY + rnd(sectors - VF_RW_CANARY - n + 1);
		for (i = 0; i < len; i++)
			p[i] = vf_pattern((u32)seed ^ round, i);
		st = blk_request(d, 0, BLK_T_OUT, sector, buf, len, &used);
		if (d->ro)
			return check(d, st == BLK_S_IOERR && used == 1, "blk write, read-only disk",
				     st, used);
		if (!check(d, st == BLK_S_OK && used == 1, "blk write", st, used))
			return false;
		fill(p + len, 0, len);
		st = blk_request(d, 1, BLK_T_IN, sector, buf + len, len, &used);
		if (!check(d, st == BLK_S_OK && used == len + 1, "blk read back", st, used))
			return false;
		for (i = 0; i < len; i++)
			bad += p[i] != p[len + i];
		return check(d, !bad, "blk read back: the bytes written", (u32)sector, bad);
	}
}

/* An ARP request for the gateway 10.0.2.2 (slirp's): its reply must come in. */
static bool good_net(struct dev *d)
{
	static const u8 ip[4] = { 10, 0, 2, 15 }, gw[4] = { 10, 0, 2, 2 };
	struct queue *rx = &d->q[0], *tx = &d->q[1];
	u32 i, nrx = min32(rx->num, 8), got, len;
	u64 buf = arena_buf(d, 8 * 2048), frame = d->region + SLAB;
	u8 *f = vf_ram(frame), *e;
	bool found = false;

	for (i = 0; i < nrx; i++) {
		put_desc(rx->area[0], i, buf + i * 2048, 2048, D_WRITE, 0);
		avail_ring(rx)[i] = i;
	}
	barrier();
	*avail_idx(rx) = nrx;
	wr(d, R_QUEUE_NOTIFY, 0);
	fill(f, 0, NET_HDR + 42);
	e = f + NET_HDR;
	fill(e, 0xff, 6);			/* broadcast */
	copy(e + 6, d->mac, 6);
	e[12] = 0x08;				/* ARP (RFC 826) */
	e[13] = 0x06;
	e[15] = 1;				/* Ethernet */
	e[16] = 0x08;				/* IPv4 */
	e[18] = 6;
	e[19] = 4;
	e[21] = 1;				/* a request */
	copy(e + 22, d->mac, 6);
	copy(e + 28, ip, 4);
	copy(e + 38, gw, 4);
	put_desc(tx->area[0], 0, frame, NET_HDR + 42, 0, 0);
	submit(d, 1, 0, 0);
	if (!check(d, wait_used(d, tx, 1), "net transmit served", 0, 0))
		return false;
	check(d, used_elem(tx, 0)[1] == 0, "net transmit used length", used_elem(tx, 0)[1], 0);
	/* Frames slirp had for an earlier round may come first. */
	for (got = 0; !found && got < nrx; got++) {
		if (!check(d, wait_used(d, rx, got + 1), "an ARP reply from 10.0.2.2", got, 0))
			return false;
		len = used_elem(rx, got)[1];
		e = vf_ram(buf + used_elem(rx, got)[0] % nrx * 2048 + NET_HDR);
		found = len >= NET_HDR + 42 && e[12] == 0x08 && e[13] == 0x06 && e[21] == 2 &&
			e[28] == 10 && e[29] == 0 && e[30] == 2 && e[31] == 2;
	}
	return check(d, found, "an ARP reply among the frames", got, 0);
}

static void good_round(struct dev *d)
{
	bool ok;

	if (!good_start(d))
		return;
	switch (d->id) {
	case ID_RNG: ok = good_rng(d); break;
	case ID_BLOCK: ok = good_blk(d); break;
	default: ok = good_net(d); break;
	}
	ok &= check(d, !(rd(d, R_STATUS) & S_NEEDS_RESET), "no NEEDS_RESET after good requests",
		    rd(d, R_STATUS), 0);
	d->good += ok;
}

/* ---- the devices ---- */

static void find_devices(void)
{
	u32 i, j, base, blks = 0;
	struct dev *d;

	for (i = 0; i < MAX_DEVS; i++) {
		base = MMIO_BASE + i * MMIO_SIZE;
		if (vf_mmio_read(base + R_MAGIC, 4) != MAGIC ||
		    vf_mmio_read(base + R_VERSION, 4) != 2)
			break;
		d = &devs[ndevs];
		d->base = base;
		d->id = rd(d, R_DEVICE_ID);
		d->region = REGION_BASE + ndevs * REGION_SIZE;
		d->features = read_features(d);
		switch (d->id) {
		case ID_RNG: d->nq = 1; d->name = "rng"; break;
		case ID_BLOCK:
			d->nq = 1;
			d->strict = true;
			d->index = blks++;
			d->ro = d->features & 1ull << BLK_F_RO;
			d->name = d->ro ? "blk-ro" : "blk-rw";
			break;
		case ID_NET:
			d->nq = 2;
			d->name = "net";
			for (j = 0; j < 6; j++)
				d->mac[j] = vf_mmio_read(base + R_CONFIG + j, 1);
			break;
		default: continue;
		}
		ndevs++;
	}
}

/* The disks' capacities, as the host made the images. */
static void check_config(struct dev *d)
{
	u64 cap;

	if (d->id != ID_BLOCK)
		return;
	cap = rd(d, R_CONFIG) | (u64)rd(d, R_CONFIG + 4) << 32;
	check(d, cap == (d->ro ? VF_RO_SECTORS : VF_RW_SECTORS), "blk capacity", (u32)cap, 0);
}

static void report(void)
{
	u32 i;

	for (i = 0; i < ndevs; i++)
		vf_print("virtio-fuzz: %s: %u rounds: %u served, %u needs-reset, %u pending, "
			 "%u reset mid-request, %u queues refused; %u good requests checked\n",
			 devs[i].name, devs[i].rounds, devs[i].served, devs[i].broken,
			 devs[i].pending, devs[i].mid_resets, devs[i].refused, devs[i].good);
}

/* Clock ticks since *@last, which moves on (the 24-bit clock wraps in 4.7 s). */
static u32 ticks_since(u32 *last)
{
	u32 now = vf_clock(), d = (now - *last) & VF_CLOCK_MASK;

	*last = now;
	return d;
}

void vf_main(void)
{
	u32 rounds, seconds, i, clock, spent = 0;

	seed = vf_arg("vfuzz.seed=", 1);
	rounds = vf_arg("vfuzz.rounds=", 100);
	seconds = vf_arg("vfuzz.seconds=", 30);
	/* splitmix64's finaliser: a state never 0, from any seed. */
	rng_state = seed + 0x9e3779b97f4a7c15ull;
	rng_state = (rng_state ^ rng_state >> 30) * 0xbf58476d1ce4e5b9ull;
	rng_state = (rng_state ^ rng_state >> 27) * 0x94d049bb133111ebull;
	rng_state = (rng_state ^ rng_state >> 31) | 1;
	vf_print("virtio-fuzz: seed 0x%llx, at most %u rounds in %u s, %u MiB\n", seed, rounds,
		 seconds, (u32)(vf_ram_size() >> 20));
	find_devices();
	vf_print("virtio-fuzz: devices");
	for (i = 0; i < ndevs; i++)
		vf_print(" %s", devs[i].name);
	vf_print("\n");
	for (i = 0; i < ndevs; i++)
		check_config(&devs[i]);
	/* A budget of time as well as rounds: the same machine time on a slow emulator. */
	clock = vf_clock();
	for (round = 0; round < rounds && !failures && spent / VF_CLOCK_HZ < seconds; round++) {
		for (i = 0; i < ndevs; i++) {
			random_round(&devs[i]);
			if ((round + i) % 4 == 0)
				good_round(&devs[i]);
		}
		spent += ticks_since(&clock);
	}
	/* After all that, each device still serves a good request. */
	for (i = 0; i < ndevs && !failures; i++) {
		good_round(&devs[i]);
		dev_reset(&devs[i]);
	}
	report();
	if (failures) {
		vf_print("virtio-fuzz: %u of %u checks failed\n", failures, checks);
		vf_end(false, failures < 100 ? failures : 100);
	}
	vf_print("virtio-fuzz: done, %u rounds, %u checks\n", round, checks);
	vf_end(true, 0);
}
