/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-side virtio fuzzer (virtio-fuzz.c) and its test
 * (selftests/virtio_guest_test.c) share this: the two disk images, what
 * the host writes in them, and which sectors the guest may change.  The
 * rest, from "the guest's platform" on, is the guest's own.
 */
#ifndef VIRTIO_FUZZ_H
#define VIRTIO_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

#define VF_SECTOR		512
/*
 * The read-write disk: the host fills it with vf_pattern(VF_TAG_RW, ...).
 * Sectors below VF_RW_CANARY are the canary: the guest reads them and
 * checks the pattern, but no request it makes (well-formed or random)
 * names a sector there for a write, so the host finds them unchanged.
 * The sectors from VF_RW_CANARY to the end are the fuzzer's to write.
 */
#define VF_RW_SECTORS		256
#define VF_RW_CANARY		128
/* The read-only disk: vf_pattern(VF_TAG_RO, ...), never to change. */
#define VF_RO_SECTORS		64
#define VF_TAG_RW		0x52570000u
#define VF_TAG_RO		0x524f0000u

/* Byte @off of image @tag, as the host writes it (a hash: no two sectors alike). */
static inline uint8_t vf_pattern(uint32_t tag, uint32_t off)
{
	uint32_t x = (off >> 2) * 2654435761u ^ tag;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return x >> ((off & 3) * 8);
}

/* ---- the guest's platform (virtio-fuzz-pc.c) ---- */

/* Guest-physical @gpa as a pointer the fuzzer may use. */
void *vf_ram(uint64_t gpa);
uint64_t vf_ram_size(void);
uint32_t vf_mmio_read(uint64_t addr, unsigned int size);
void vf_mmio_write(uint64_t addr, unsigned int size, uint32_t v);
/* A free-running clock and its rate (the ACPI PM timer's 24 bits). */
uint32_t vf_clock(void);
#define VF_CLOCK_HZ		3579545u
#define VF_CLOCK_MASK		0xffffffu
void vf_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "key=" on the command line: its value (a number, 0x for hex), else @def. */
uint64_t vf_arg(const char *key, uint64_t def);
/* Powers off (@ok) or ends the run with exit status 2 * @code + 1. */
void vf_end(bool ok, uint32_t code) __attribute__((noreturn));

/* virtio-fuzz.c: the fuzzer, from the platform's entry. */
void vf_main(void) __attribute__((noreturn));

#endif /* VIRTIO_FUZZ_H */
