// SPDX-License-Identifier: GPL-2.0
/*
 * minihv guest memory: the nested page tables (AMD NPT, Intel EPT), the
 * pinning of the caller's pages behind them, guest-physical reads and
 * writes, and a walker for the guest's own page tables.
 *
 * Both NPT and EPT are radix trees of 512 8-byte entries, each level
 * indexed by 9 bits of the guest-physical address above bit 12 (APM Vol 2
 * 15.25.5, SDM Vol 3 29.3.2); only the permission bits differ, and the
 * backend supplies those (minihv_vendor_ops.tdp_*), and the depth: EPT is
 * 4 levels as minihv programs it, NPT has as many as the host's own paging
 * (5 with CR4.LA57, APM 15.25.3), which the backend sets in vm->tdp_levels.  minihv maps 4 KiB
 * pages only, one at a time, on the first nested fault: simple, and a guest
 * pays only for the memory it touches.
 *
 * Nested tables map nothing but memory slots: a guest-physical address
 * outside every slot faults to the exit handler, which makes it MMIO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/io.h>

#include "minihv.h"

/* Guest pages pinned, for /sys/kernel/debug/minihv/pinned_pages (main.c). */
atomic_t minihv_nr_pinned = ATOMIC_INIT(0);

#define TDP_ADDR_MASK		0x000ffffffffff000ULL
#define TDP_PRESENT_MASK	0x7ULL

static unsigned int tdp_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

int minihv_mmu_init(struct minihv_vm *vm)
{
	vm->tdp_root_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vm->tdp_root_page)
		return -ENOMEM;
	vm->tdp_root = page_to_phys(vm->tdp_root_page);
	return 0;
}

static void tdp_free_table(u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < 512; i++)
			if (table[i] & TDP_PRESENT_MASK)
				tdp_free_table(__va(table[i] & TDP_ADDR_MASK),
					       level - 1);
	}
	free_page((unsigned long)table);
}

/* Every slot is already unmapped and unpinned (minihv_vm_free). */
void minihv_mmu_destroy(struct minihv_vm *vm)
{
	tdp_free_table(page_address(vm->tdp_root_page), vm->tdp_levels);
}

/*
 * The level-1 entry for @gpa; with @alloc, missing tables are created.
 * NULL when the entry does not exist (and !alloc) or memory ran out.
 */
static u64 *tdp_leaf_entry(struct minihv_vm *vm, u64 gpa, bool alloc)
{
	u64 *table = page_address(vm->tdp_root_page);
	int level;

	lockdep_assert_held(&vm->mmu_lock);
	for (level = vm->tdp_levels; level > 1; level--) {
		u64 *entry = &table[tdp_index(gpa, level)];

		if (!(*entry & TDP_PRESENT_MASK)) {
			struct page *page;

			if (!alloc)
				return NULL;
			page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
			if (!page)
				return NULL;
			*entry = page_to_phys(page) | minihv_ops->tdp_nonleaf;
		}
		table = __va(*entry & TDP_ADDR_MASK);
	}
	return &table[tdp_index(gpa, 1)];
}

/* Slots change only with slots_rwsem held for write, so readers hold it. */
struct minihv_memslot *minihv_gpa_to_slot(struct minihv_vm *vm, u64 gpa)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	int i;

	for (i = 0; i < MINIHV_MAX_MEMSLOTS; i++) {
		struct minihv_memslot *slot = &vm->slots[i];

		if (slot->npages && gfn >= slot->base_gfn &&
		    gfn < slot->base_gfn + slot->npages)
			return slot;
	}
	return NULL;
}

/*
 * A nested fault maps the faulting page and the others of its aligned
 * block of MINIHV_FAULT_AROUND pages in the slot.  A booting Linux touches
 * all of its RAM, and one exit per 4 KiB page was most of the difference
 * between its boot on minihv and on KVM (which maps huge pages) under an
 * emulator, where each exit costs tens of microseconds.  The neighbours
 * are pinned as the faulting page is; one that cannot be is left for its
 * own fault.
 */
#define MINIHV_FAULT_AROUND	16

/* Pins page @i of @slot if it is not yet: true when it is pinned. */
static bool pin_slot_page(struct minihv_memslot *slot, u64 i, bool readonly)
{
	unsigned long hva = slot->hva + (i << PAGE_SHIFT);

	if (slot->pages[i])
		return true;
	/*
	 * Long-term pin: the page cannot move or be freed while the guest
	 * may reach it; it is unpinned when the slot goes.
	 */
	if (pin_user_pages_fast(hva, 1, FOLL_LONGTERM | (readonly ? 0 : FOLL_WRITE),
				&slot->pages[i]) != 1) {
		slot->pages[i] = NULL;
		return false;
	}
	atomic_inc(&minihv_nr_pinned);
	return true;
}

int minihv_mmu_map_gpa(struct minihv_vcpu *vcpu, u64 gpa, bool write)
{
	struct minihv_vm *vm = vcpu->vm;
	struct minihv_memslot *slot = minihv_gpa_to_slot(vm, gpa);
	u64 gfn = gpa >> PAGE_SHIFT, first, last, i;
	bool readonly;
	u64 *pte;
	int r = 1;

	if (!slot)
		return 0;
	readonly = slot->flags & MINIHV_MEM_READONLY;
	if (write && readonly)
		return 0;	/* a write to ROM is an MMIO write, as in KVM */

	first = max(round_down(gfn, MINIHV_FAULT_AROUND), slot->base_gfn);
	last = min(round_down(gfn, MINIHV_FAULT_AROUND) + MINIHV_FAULT_AROUND,
		   slot->base_gfn + slot->npages);
	mutex_lock(&vm->mmu_lock);
	if (!pin_slot_page(slot, gfn - slot->base_gfn, readonly)) {
		r = -EFAULT;
		goto out;
	}
	for (i = first; i < last; i++) {
		if (i != gfn && !pin_slot_page(slot, i - slot->base_gfn, readonly))
			continue;
		pte = tdp_leaf_entry(vm, i << PAGE_SHIFT, true);
		if (!pte) {
			r = -ENOMEM;
			goto out;
		}
		*pte = page_to_phys(slot->pages[i - slot->base_gfn]) |
		       (readonly ? minihv_ops->tdp_leaf_ro : minihv_ops->tdp_leaf_rw);
	}
out:
	mutex_unlock(&vm->mmu_lock);
	return r;
}

/*
 * Called with no vCPU in the guest (slots_rwsem held for write, or the VM
 * being freed): clears the slot's entries, then unpins its pages.  vCPUs
 * flush their TLB tag at the next entry (tlb_generation).
 */
void minihv_mmu_unmap_slot(struct minihv_vm *vm, struct minihv_memslot *slot)
{
	bool writable = !(slot->flags & MINIHV_MEM_READONLY);
	u64 i;

	if (!slot->pages)
		return;
	mutex_lock(&vm->mmu_lock);
	for (i = 0; i < slot->npages; i++) {
		u64 *pte;

		if (!slot->pages[i])
			continue;
		pte = tdp_leaf_entry(vm, (slot->base_gfn + i) << PAGE_SHIFT, false);
		if (pte)
			*pte = 0;
		unpin_user_pages_dirty_lock(&slot->pages[i], 1, writable);
		slot->pages[i] = NULL;
		atomic_dec(&minihv_nr_pinned);
	}
	atomic64_inc(&vm->tlb_generation);
	mutex_unlock(&vm->mmu_lock);
	kvfree(slot->pages);
	slot->pages = NULL;
}

/*
 * Guest-physical access through the caller's own mapping of the slot:
 * vCPU ioctls run in the VM's mm (checked at the ioctl), so plain
 * copy_{from,to}_user is both correct and safe.
 */
static int minihv_guest_phys_rw(struct minihv_vm *vm, u64 gpa, void *buf,
				size_t len, bool write)
{
	while (len) {
		struct minihv_memslot *slot = minihv_gpa_to_slot(vm, gpa);
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(gpa));
		void __user *hva;

		if (!slot)
			return -ENOENT;
		if (write && (slot->flags & MINIHV_MEM_READONLY))
			return -EPERM;
		hva = (void __user *)(slot->hva +
				      (gpa - (slot->base_gfn << PAGE_SHIFT)));
		if (write ? copy_to_user(hva, buf, n) : copy_from_user(buf, hva, n))
			return -EFAULT;
		gpa += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int minihv_read_guest_phys(struct minihv_vm *vm, u64 gpa, void *buf, size_t len)
{
	return minihv_guest_phys_rw(vm, gpa, buf, len, false);
}

int minihv_write_guest_phys(struct minihv_vm *vm, u64 gpa, const void *buf,
			    size_t len)
{
	return minihv_guest_phys_rw(vm, gpa, (void *)buf, len, true);
}

/* ---- the guest's own page tables (SDM Vol 3 4.3-4.5, APM Vol 2 5.3) ---- */

#define PTE_P		BIT_ULL(0)
#define PTE_PS		BIT_ULL(7)

static int walk_read(struct minihv_vm *vm, u64 gpa, u64 *val, int bytes)
{
	*val = 0;
	return minihv_read_guest_phys(vm, gpa, val, bytes);
}

/*
 * Walks levels @level..1 of 8-byte entries (4- and 5-level paging, and PAE
 * below its PDPTE) from @table; a PS bit ends the walk with a large page
 * at levels 3 and 2 (1 GiB, 2 MiB).
 */
static int walk_64(struct minihv_vm *vm, u64 table, u64 gva, int level, u64 *gpa)
{
	u64 entry, mask;
	int shift, r;

	for (; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		r = walk_read(vm, table + ((gva >> shift) & 511) * 8, &entry, 8);
		if (r)
			return r;
		if (!(entry & PTE_P))
			return -EFAULT;
		if (level == 1 || (level <= 3 && (entry & PTE_PS))) {
			mask = (1ULL << shift) - 1;
			*gpa = (entry & TDP_ADDR_MASK & ~mask) | (gva & mask);
			return 0;
		}
		table = entry & TDP_ADDR_MASK;
	}
	return -EFAULT;
}

/*
 * Translates a linear address the way the guest's MMU would, for reading
 * instruction bytes and string I/O operands.  Accessed/dirty bits are not
 * set and permissions are not checked: the access being emulated already
 * passed the hardware's own checks (or will, when the guest retries).
 * Returns -EFAULT for a non-present translation.
 */
int minihv_gva_to_gpa(struct minihv_vm *vm, const struct minihv_paging *pg,
		      u64 gva, bool write, u64 *gpa)
{
	u64 entry;
	int r;

	if (!(pg->cr0 & X86_CR0_PG)) {
		*gpa = (pg->efer & EFER_LMA) ? gva : (u32)gva;
		return 0;
	}
	if (pg->efer & EFER_LMA)
		return walk_64(vm, pg->cr3 & TDP_ADDR_MASK, gva,
			       (pg->cr4 & X86_CR4_LA57) ? 5 : 4, gpa);

	gva = (u32)gva;
	if (pg->cr4 & X86_CR4_PAE) {
		/* PAE: four PDPTEs at CR3[31:5], then 2 levels of 8-byte entries. */
		r = walk_read(vm, (pg->cr3 & ~0x1fULL) + (gva >> 30) * 8, &entry, 8);
		if (r)
			return r;
		if (!(entry & PTE_P))
			return -EFAULT;
		return walk_64(vm, entry & TDP_ADDR_MASK, gva, 2, gpa);
	}

	/* 32-bit paging: 2 levels of 4-byte entries, 4 MiB pages with PSE. */
	r = walk_read(vm, (pg->cr3 & 0xfffff000) + (gva >> 22) * 4, &entry, 4);
	if (r)
		return r;
	if (!(entry & PTE_P))
		return -EFAULT;
	if ((pg->cr4 & X86_CR4_PSE) && (entry & PTE_PS)) {
		*gpa = (entry & 0xffc00000) | (gva & 0x3fffff);
		return 0;
	}
	r = walk_read(vm, (entry & 0xfffff000) + ((gva >> 12) & 1023) * 4, &entry, 4);
	if (r)
		return r;
	if (!(entry & PTE_P))
		return -EFAULT;
	*gpa = (entry & 0xfffff000) | (gva & 0xfff);
	return 0;
}

static int minihv_guest_virt_rw(struct minihv_vm *vm, const struct minihv_paging *pg,
				u64 gva, void *buf, size_t len, bool write)
{
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(gva));
		u64 gpa;
		int r;

		r = minihv_gva_to_gpa(vm, pg, gva, write, &gpa);
		if (!r)
			r = minihv_guest_phys_rw(vm, gpa, buf, n, write);
		if (r)
			return r;
		gva += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int minihv_read_guest_virt(struct minihv_vm *vm, const struct minihv_paging *pg,
			   u64 gva, void *buf, size_t len)
{
	return minihv_guest_virt_rw(vm, pg, gva, buf, len, false);
}

int minihv_write_guest_virt(struct minihv_vm *vm, const struct minihv_paging *pg,
			    u64 gva, const void *buf, size_t len)
{
	return minihv_guest_virt_rw(vm, pg, gva, (void *)buf, len, true);
}
