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
 * (5 with CR4.LA57, APM 15.25.3), which the backend sets in vm->tdp_levels.
 * minihv maps 4 KiB pages of memory slots only, on a nested fault; an
 * address outside every slot is MMIO.
 *
 * The nested tables follow the VMM's mm as KVM's do, through an MMU
 * interval notifier per slot, and a page stays pinned while an entry maps
 * it (Documentation/design.rst, "Memory").  Why nothing under mmu_lock may
 * fault or allocate with reclaim, so that a fault pins first and takes
 * table pages from a per-vCPU cache: Documentation/locking.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
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
	vm->tdp_root_page = alloc_page(MINIHV_GFP | __GFP_ZERO);
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
 * The vCPU's cache holds the table pages one fault may need
 * (MINIHV_TDP_CACHE_PAGES): one per level below the root, as the pages of
 * one fault-around block share their level-1 table.
 */
int minihv_mmu_topup_cache(struct minihv_vcpu *vcpu)
{
	while (vcpu->tdp_cache_nr < vcpu->vm->tdp_levels - 1) {
		struct page *page = alloc_page(MINIHV_GFP | __GFP_ZERO);

		if (!page)
			return -ENOMEM;
		vcpu->tdp_cache[vcpu->tdp_cache_nr++] = page;
	}
	return 0;
}

void minihv_mmu_free_cache(struct minihv_vcpu *vcpu)
{
	while (vcpu->tdp_cache_nr)
		__free_page(vcpu->tdp_cache[--vcpu->tdp_cache_nr]);
}

/*
 * The level-1 entry for @gpa.  With @vcpu, missing tables are taken from
 * its cache (minihv_mmu_topup_cache() filled it); without, NULL when the
 * entry does not exist.
 */
static u64 *tdp_leaf_entry(struct minihv_vm *vm, u64 gpa, struct minihv_vcpu *vcpu)
{
	u64 *table = page_address(vm->tdp_root_page);
	int level;

	lockdep_assert_held(&vm->mmu_lock);
	for (level = vm->tdp_levels; level > 1; level--) {
		u64 *entry = &table[tdp_index(gpa, level)];

		if (!(*entry & TDP_PRESENT_MASK)) {
			struct page *page;

			if (!vcpu || WARN_ON_ONCE(!vcpu->tdp_cache_nr))
				return NULL;
			page = vcpu->tdp_cache[--vcpu->tdp_cache_nr];
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
 * block of MINIHV_FAULT_AROUND pages in the slot: a booting Linux touches
 * all of its RAM, and under an emulator each exit costs tens of
 * microseconds (KVM maps huge pages instead).  The neighbours are pinned
 * as the faulting page is; one that cannot be is left for its own fault.
 */
#define MINIHV_FAULT_AROUND	16

/*
 * Long-term pin of page @i of @slot: the page cannot move or be freed
 * while the guest may reach it.  NULL if nothing can be pinned there.
 */
static struct page *pin_slot_page(struct minihv_memslot *slot, u64 i)
{
	unsigned long hva = slot->hva + (i << PAGE_SHIFT);
	bool readonly = slot->flags & MINIHV_MEM_READONLY;
	struct page *page;

	if (pin_user_pages_fast(hva, 1, FOLL_LONGTERM | (readonly ? 0 : FOLL_WRITE),
				&page) != 1)
		return NULL;
	return page;
}

/*
 * Returns 1 when mapped (or when the mapping changed meanwhile: the guest
 * faults again), 0 when @gpa is not RAM (MMIO), -EFAULT when the slot's
 * memory can no longer be pinned, -ENOMEM.
 */
int minihv_mmu_map_gpa(struct minihv_vcpu *vcpu, u64 gpa, bool write)
{
	struct minihv_vm *vm = vcpu->vm;
	struct minihv_memslot *slot = minihv_gpa_to_slot(vm, gpa);
	struct page *pinned[MINIHV_FAULT_AROUND] = {};
	u64 gfn = gpa >> PAGE_SHIFT, first, last, i;
	unsigned long seq;
	bool readonly;
	int r;

	if (!slot)
		return 0;
	readonly = slot->flags & MINIHV_MEM_READONLY;
	if (write && readonly)
		return 0;	/* a write to ROM is an MMIO write, as in KVM */

	first = max(round_down(gfn, MINIHV_FAULT_AROUND), slot->base_gfn);
	last = min(round_down(gfn, MINIHV_FAULT_AROUND) + MINIHV_FAULT_AROUND,
		   slot->base_gfn + slot->npages);
	r = minihv_mmu_topup_cache(vcpu);
	if (r)
		return r;

	/* Pin outside mmu_lock (locking.rst). */
	seq = mmu_interval_read_begin(&slot->notifier);
	for (i = first; i < last; i++) {
		if (READ_ONCE(slot->pages[i - slot->base_gfn]))
			continue;
		pinned[i - first] = pin_slot_page(slot, i - slot->base_gfn);
		if (!pinned[i - first] && i == gfn) {
			r = -EFAULT;
			goto out_unpin;
		}
	}

	r = 1;
	mutex_lock(&vm->mmu_lock);
	/* An invalidation ran since: the pins may be of old pages. */
	if (mmu_interval_read_retry(&slot->notifier, seq))
		goto out_unlock;
	for (i = first; i < last; i++) {
		struct page **page = &slot->pages[i - slot->base_gfn];
		u64 *pte;

		if (!*page && pinned[i - first]) {
			WRITE_ONCE(*page, pinned[i - first]);
			pinned[i - first] = NULL;
			atomic_inc(&minihv_nr_pinned);
		}
		if (!*page)
			continue;
		pte = tdp_leaf_entry(vm, i << PAGE_SHIFT, vcpu);
		if (!pte) {
			r = -ENOMEM;
			break;
		}
		*pte = page_to_phys(*page) |
		       (readonly ? minihv_ops->tdp_leaf_ro : minihv_ops->tdp_leaf_rw);
	}
out_unlock:
	mutex_unlock(&vm->mmu_lock);
out_unpin:
	for (i = 0; i < MINIHV_FAULT_AROUND; i++)
		if (pinned[i])
			unpin_user_page(pinned[i]);
	return r;
}

/* Nothing but an interrupt: its arrival made the guest on that CPU exit. */
static void minihv_ipi_nop(void *info)
{
}

/*
 * After nested entries were cleared, no CPU may go on using them: bump the
 * generation, so every vCPU flushes its TLB tag before its next entry, and
 * make each vCPU that is in the guest now exit, waiting until it has (KVM's
 * kvm_flush_remote_tlbs()).  The barrier pairs with minihv_exit_request()'s:
 * a vCPU either reads the new generation before it enters, or has already
 * published its CPU, which then gets the IPI.  A vCPU in exit handling gets
 * one it did not need.
 */
static void minihv_flush_remote_tlbs(struct minihv_vm *vm)
{
	int cpus[MINIHV_MAX_VCPUS], n = 0, i;

	atomic64_inc(&vm->tlb_generation);
	/* Pairs with minihv_exit_request()'s smp_mb(), as said above. */
	smp_mb__after_atomic();
	spin_lock_irq(&vm->irq_lock);	/* keeps vcpus[] alive */
	for (i = 0; i < MINIHV_MAX_VCPUS; i++) {
		int cpu = vm->vcpus[i] ? READ_ONCE(vm->vcpus[i]->guest_cpu) : -1;

		if (cpu >= 0)
			cpus[n++] = cpu;
	}
	spin_unlock_irq(&vm->irq_lock);
	for (i = 0; i < n; i++)
		smp_call_function_single(cpus[i], minihv_ipi_nop, NULL, 1);
}

/*
 * The kernel is about to change [range->start, range->end) of the VMM's mm,
 * which overlaps @mni's slot: clear the nested entries of the slot's pages
 * there, flush, unpin.  Runs with mmap_lock held, sometimes with a page of
 * the range locked (truncation): only mmu_lock is taken, and pages are
 * unpinned without locking them (the host PTE was made dirty when the page
 * was pinned for write, and writeback write-protects it through here).
 */
static bool minihv_slot_invalidate(struct mmu_interval_notifier *mni,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq)
{
	struct minihv_memslot *slot = container_of(mni, struct minihv_memslot, notifier);
	struct minihv_vm *vm = slot->vm;
	unsigned long start = max(range->start, slot->hva);
	unsigned long end = min(range->end, slot->hva + (slot->npages << PAGE_SHIFT));
	u64 first = (start - slot->hva) >> PAGE_SHIFT;
	u64 last = (end - slot->hva + PAGE_SIZE - 1) >> PAGE_SHIFT;
	bool zapped = false;
	u64 i;

	/* The OOM reaper cannot wait; it skips this mm (our pages are pinned anyway). */
	if (!mmu_notifier_range_blockable(range))
		return false;

	mutex_lock(&vm->mmu_lock);
	mmu_interval_set_seq(mni, cur_seq);
	for (i = first; i < last; i++) {
		u64 *pte;

		if (!(i % 512))
			cond_resched();
		if (!slot->pages[i])
			continue;
		pte = tdp_leaf_entry(vm, (slot->base_gfn + i) << PAGE_SHIFT, NULL);
		if (pte)
			*pte = 0;
		zapped = true;
	}
	if (zapped) {
		minihv_flush_remote_tlbs(vm);
		for (i = first; i < last; i++) {
			if (!slot->pages[i])
				continue;
			unpin_user_page(slot->pages[i]);
			WRITE_ONCE(slot->pages[i], NULL);
			atomic_dec(&minihv_nr_pinned);
		}
	}
	mutex_unlock(&vm->mmu_lock);
	return true;
}

static const struct mmu_interval_notifier_ops minihv_slot_notifier_ops = {
	.invalidate = minihv_slot_invalidate,
};

/*
 * Called with vm->lock and slots_rwsem (write) held, every field of @slot
 * but pages set: allocates the pinned-page array and starts following the
 * caller's mm over the slot's range.
 */
int minihv_mmu_add_slot(struct minihv_vm *vm, struct minihv_memslot *slot)
{
	int r;

	slot->vm = vm;
	slot->pages = kvcalloc(slot->npages, sizeof(*slot->pages),
			       MINIHV_GFP | __GFP_NOWARN);
	if (!slot->pages)
		return -ENOMEM;
	r = mmu_interval_notifier_insert(&slot->notifier, current->mm, slot->hva,
					 slot->npages << PAGE_SHIFT,
					 &minihv_slot_notifier_ops);
	if (r) {
		kvfree(slot->pages);
		slot->pages = NULL;
	}
	return r;
}

/*
 * Called with no vCPU in the guest (slots_rwsem held for write, or the VM
 * being freed): stops following the mm, clears the slot's entries, then
 * unpins its pages.  vCPUs flush their TLB tag at the next entry
 * (tlb_generation).  Pages are unpinned (and locked to be marked dirty)
 * after mmu_lock is dropped: another slot's notifier may be waiting for
 * the lock while holding one of them.
 */
void minihv_mmu_unmap_slot(struct minihv_vm *vm, struct minihv_memslot *slot)
{
	bool writable = !(slot->flags & MINIHV_MEM_READONLY);
	u64 i;

	if (!slot->pages)
		return;
	mmu_interval_notifier_remove(&slot->notifier);
	mutex_lock(&vm->mmu_lock);
	for (i = 0; i < slot->npages; i++) {
		u64 *pte;

		if (!slot->pages[i])
			continue;
		pte = tdp_leaf_entry(vm, (slot->base_gfn + i) << PAGE_SHIFT, NULL);
		if (pte)
			*pte = 0;
	}
	atomic64_inc(&vm->tlb_generation);
	mutex_unlock(&vm->mmu_lock);
	for (i = 0; i < slot->npages; i++) {
		if (!slot->pages[i])
			continue;
		unpin_user_pages_dirty_lock(&slot->pages[i], 1, writable);
		atomic_dec(&minihv_nr_pinned);
		if (!(i % 512))
			cond_resched();
	}
	kvfree(slot->pages);
	slot->pages = NULL;
}

/*
 * The listing stops after this many mappings (4 MiB of text, a 512 MiB
 * guest): seq_file holds a file's whole output in one buffer.
 */
#define TDP_SHOW_MAX		131072

/* Entry bits both formats share: bit 1 allows writes, bit 7 a large page. */
#define TDP_WRITABLE		BIT_ULL(1)
#define TDP_LARGE		BIT_ULL(7)

static void tdp_show_table(struct seq_file *m, struct minihv_vm *vm, u64 *table,
			   int level, u64 base, u64 *counts)
{
	int i;

	for (i = 0; i < 512; i++) {
		u64 e = table[i], gpa = base | ((u64)i << (PAGE_SHIFT + 9 * (level - 1)));
		struct minihv_memslot *slot;
		struct page *page = NULL;

		if (!(e & TDP_PRESENT_MASK))
			continue;
		if (level > 1 && (e & TDP_LARGE)) {
			seq_printf(m, "error %#llx: a large page, never mapped\n", gpa);
			counts[1]++;
			continue;
		}
		if (level > 1) {
			tdp_show_table(m, vm, __va(e & TDP_ADDR_MASK), level - 1, gpa, counts);
			continue;
		}
		/* Every mapping is checked; the first TDP_SHOW_MAX are listed. */
		if (counts[0]++ < TDP_SHOW_MAX)
			seq_printf(m, "%#llx %#llx %s\n", gpa, e & TDP_ADDR_MASK,
				   (e & TDP_WRITABLE) ? "w" : "r");
		slot = minihv_gpa_to_slot(vm, gpa);
		if (slot)
			page = slot->pages[(gpa >> PAGE_SHIFT) - slot->base_gfn];
		if (!slot)
			seq_printf(m, "error %#llx: outside every slot\n", gpa);
		else if (!page || page_to_phys(page) != (e & TDP_ADDR_MASK))
			seq_printf(m, "error %#llx: not the page pinned for it\n", gpa);
		else if ((e & TDP_WRITABLE) && (slot->flags & MINIHV_MEM_READONLY))
			seq_printf(m, "error %#llx: writable in a read-only slot\n", gpa);
		else
			continue;
		counts[1]++;
	}
}

/*
 * debugfs <pid>-<n>/tdp (vm.c; a test hook), with vm->lock held: every
 * nested mapping as "gpa hpa r|w", and an "error" line for each that
 * tdp_show_table() finds wrong; the last line counts both.  Tests compare
 * the host addresses with /proc/self/pagemap.
 */
void minihv_mmu_show(struct seq_file *m, struct minihv_vm *vm)
{
	u64 counts[2] = {};

	mutex_lock(&vm->mmu_lock);
	tdp_show_table(m, vm, page_address(vm->tdp_root_page), vm->tdp_levels, 0, counts);
	mutex_unlock(&vm->mmu_lock);
	seq_printf(m, "mappings %llu errors %llu\n", counts[0], counts[1]);
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
static int minihv_gva_to_gpa(struct minihv_vm *vm, const struct minihv_paging *pg,
			     u64 gva, u64 *gpa)
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

		r = minihv_gva_to_gpa(vm, pg, gva, &gpa);
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
