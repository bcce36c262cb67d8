// SPDX-License-Identifier: GPL-2.0
/*
 * minihv guest memory: the nested page tables (AMD NPT, Intel EPT) that
 * map the caller's pages, guest-physical reads and writes, and a walker
 * for the guest's own page tables.
 *
 * Both NPT and EPT are radix trees of 512 8-byte entries, each level
 * indexed by 9 bits of the guest-physical address above bit 12 (APM Vol 2
 * 15.25.5, SDM Vol 3 "EPT Translation Mechanism"); only the permission bits
 * differ, and the backend supplies those (minihv_vendor_ops.tdp_*), and the
 * depth: EPT is 4 levels as minihv programs it, NPT has as many as the
 * host's own paging (5 with CR4.LA57, APM 15.25.3), which the backend sets
 * in vm->tdp_levels.  A leaf maps 4 KiB at level 1, or 2 MiB or 1 GiB at
 * levels 2 and 3 (bit 7 set: PS in NPT, "page size" in EPT, the same
 * section's tables), where the VMM's own mapping is that large (a THP or
 * hugetlbfs page).  Only memory slots are mapped, on a nested fault; an
 * address outside every slot is MMIO.
 *
 * Nothing is kept pinned, as in KVM: a fault takes a reference to the
 * page the VMM's page tables hold now, maps it and drops the reference.
 * What keeps the page from being freed while the guest can reach it is
 * the MMU interval notifier of each slot: the kernel calls it before it
 * changes the VMM's mapping (reclaim, migration, KSM, THP splits and
 * collapses, munmap), and it clears the nested entries and makes every
 * vCPU leave the guest first (Documentation/design.rst, "Memory").  Why
 * nothing under mmu_lock may fault or allocate with reclaim, so that a
 * fault takes its page first and table pages from a per-vCPU cache:
 * Documentation/locking.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mmu_notifier.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uaccess.h>

#include <asm/io.h>
#include <asm/pgtable.h>

#include "minihv.h"

/*
 * Guest pages a nested fault holds a reference to at this moment, for
 * /sys/kernel/debug/minihv/pinned_pages (main.c): 0 whenever no fault is
 * in progress, so the tests see a reference an error path forgot.
 */
atomic_t minihv_nr_pinned = ATOMIC_INIT(0);

/* 0: every nested leaf 4 KiB (make bench compares the two). */
static bool tdp_huge = true;
module_param(tdp_huge, bool, 0444);
MODULE_PARM_DESC(tdp_huge, "Map 2 MiB and 1 GiB nested pages where the VMM's memory is that large (default: on)");

#define TDP_ADDR_MASK		0x000ffffffffff000ULL
#define TDP_PRESENT_MASK	0x7ULL
/* Entry bits both formats share: bit 1 allows writes, bit 7 a large page. */
#define TDP_WRITABLE		BIT_ULL(1)
#define TDP_LARGE		BIT_ULL(7)

static unsigned int tdp_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* Pages of 4 KiB a leaf at @level maps: 1, 512 (2 MiB), 512 * 512 (1 GiB). */
static u64 tdp_level_pages(int level)
{
	return 1ULL << (9 * (level - 1));
}

static bool tdp_is_leaf(u64 entry, int level)
{
	return level == 1 || (entry & TDP_LARGE);
}

int minihv_mmu_init(struct minihv_vm *vm)
{
	vm->tdp_root_page = alloc_page(MINIHV_GFP | __GFP_ZERO);
	if (!vm->tdp_root_page)
		return -ENOMEM;
	vm->tdp_root = page_to_phys(vm->tdp_root_page);
	/* vm_init gave what the CPU can map; the parameter may forbid it. */
	if (!tdp_huge)
		vm->tdp_max_leaf_level = 1;
	return 0;
}

/* Frees @table (at @level) and every table below it; leaves map no table. */
static void tdp_free_table(u64 *table, int level)
{
	int i;

	if (level > 1) {
		for (i = 0; i < 512; i++)
			if ((table[i] & TDP_PRESENT_MASK) && !tdp_is_leaf(table[i], level))
				tdp_free_table(__va(table[i] & TDP_ADDR_MASK),
					       level - 1);
	}
	free_page((unsigned long)table);
}

/* Every slot is already unmapped (minihv_vm_free). */
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
 * The entry at @level (1: a 4 KiB leaf) for @gpa, missing tables above it
 * taken from @vcpu's cache (minihv_mmu_topup_cache() filled it).  A
 * larger leaf above that covers @gpa already: NULL, or with @split it is
 * cleared (and flushed, minihv_flush_remote_tlbs()) to make room, so that
 * a fault which needs a smaller leaf than the one there always makes
 * progress.
 */
static u64 *tdp_entry(struct minihv_vm *vm, u64 gpa, int level, struct minihv_vcpu *vcpu,
		      bool split)
{
	u64 *table = page_address(vm->tdp_root_page);
	int l;

	lockdep_assert_held(&vm->mmu_lock);
	for (l = vm->tdp_levels; l > level; l--) {
		u64 *entry = &table[tdp_index(gpa, l)];

		if ((*entry & TDP_PRESENT_MASK) && tdp_is_leaf(*entry, l)) {
			if (!split)
				return NULL;
			*entry = 0;
			minihv_flush_remote_tlbs(vm);
		}
		if (!(*entry & TDP_PRESENT_MASK)) {
			struct page *page;

			if (WARN_ON_ONCE(!vcpu->tdp_cache_nr))
				return NULL;
			page = vcpu->tdp_cache[--vcpu->tdp_cache_nr];
			*entry = page_to_phys(page) | minihv_ops->tdp_nonleaf;
		}
		table = __va(*entry & TDP_ADDR_MASK);
	}
	return &table[tdp_index(gpa, level)];
}

/*
 * Clears every leaf that maps part of [start, end) below @table, a table
 * at @level whose first entry maps @base.  A large leaf is cleared whole:
 * the guest faults back what of it lay outside the range.  Tables stay,
 * empty, until the VM ends or a large leaf replaces them.  Returns whether
 * anything was cleared.
 */
static bool tdp_zap_range(u64 *table, int level, u64 base, u64 start, u64 end,
			  bool can_sleep)
{
	u64 size = tdp_level_pages(level) << PAGE_SHIFT;
	u64 gpa, stop = min(end, base + 512 * size);
	bool zapped = false;

	for (gpa = round_down(max(start, base), size); gpa < stop; gpa += size) {
		u64 *entry = &table[tdp_index(gpa, level)];

		if (!(*entry & TDP_PRESENT_MASK))
			continue;
		if (tdp_is_leaf(*entry, level)) {
			*entry = 0;
			zapped = true;
			continue;
		}
		zapped |= tdp_zap_range(__va(*entry & TDP_ADDR_MASK), level - 1, gpa,
					start, end, can_sleep);
		if (can_sleep && level == 2)
			cond_resched();
	}
	return zapped;
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
 * A 4 KiB fault maps the faulting page and the others of its aligned
 * block of MINIHV_FAULT_AROUND pages in the slot: a booting Linux touches
 * all of its RAM, and under an emulator each exit costs tens of
 * microseconds.  Where the VMM's memory is a huge page, one large leaf
 * does better.
 */
#define MINIHV_FAULT_AROUND	16

static unsigned long slot_hva(struct minihv_memslot *slot, u64 gfn)
{
	return slot->hva + ((gfn - slot->base_gfn) << PAGE_SHIFT);
}

/*
 * A reference to the page of @slot at @gfn, or NULL if nothing usable is
 * mapped there; not a long-term pin: the caller maps the page and drops
 * the reference at once (release_slot_page()).  A write fault takes the
 * page for writing, which breaks copy-on-write now.  Any other access
 * takes it writable only if the VMM's mapping already is, else read-only
 * (the zero page, a KSM page, a clean file page), as KVM does, so that a
 * guest reading memory never unshares it; *@writable says which.  With
 * @fast_only (fault-around) only a page the VMM's page tables hold now is
 * taken, nothing is faulted in.
 */
static struct page *hold_slot_page(struct minihv_memslot *slot, u64 gfn, bool write,
				   bool fast_only, bool *writable)
{
	unsigned long hva = slot_hva(slot, gfn);
	struct page *page;
	bool got;

	*writable = true;
	if (write) {
		got = get_user_pages_fast(hva, 1, FOLL_WRITE, &page) == 1;
	} else if (!(slot->flags & MINIHV_MEM_READONLY) &&
		   get_user_page_fast_only(hva, FOLL_WRITE, &page)) {
		got = true;
	} else {
		*writable = false;
		if (fast_only)
			got = get_user_page_fast_only(hva, 0, &page);
		else
			got = get_user_pages_fast(hva, 1, 0, &page) == 1;
	}
	if (!got)
		return NULL;
	atomic_inc(&minihv_nr_pinned);
	return page;
}

/*
 * Drops hold_slot_page()'s reference.  A page the fault mapped (@mapped)
 * is marked accessed, the only age reclaim gets (design.rst, "Accessed
 * bits"); one it did not map (the sequence check failed) is left as it
 * was, dirty bit included (tdp_set_leaf()).
 */
static void release_slot_page(struct page *page, bool mapped)
{
	if (mapped && !PageReserved(page))	/* the zero page has no age */
		mark_page_accessed(page);
	put_page(page);
	atomic_dec(&minihv_nr_pinned);
}

/*
 * How large the VMM's own mapping of @hva is now, as a nested level: 3
 * for a PUD leaf (1 GiB: hugetlbfs), 2 for a PMD leaf (2 MiB: a THP or
 * hugetlbfs), else 1.  Read without the mm's locks and with interrupts
 * off, as GUP-fast reads: x86 frees page tables only after an IPI or an
 * RCU grace period, which waits for this.  The answer can be stale at
 * once; the caller holds mmu_lock with no invalidation since it took its
 * page, so a change of this mapping after the read waits for mmu_lock in
 * minihv_slot_invalidate() and then clears what the caller mapped.
 */
static int host_mapping_level(struct mm_struct *mm, unsigned long hva)
{
	unsigned long flags;
	int level = 1;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (!pgd_present(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (!p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (!pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		level = 3;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_present(pmd) && pmd_leaf(pmd))
		level = 2;
out:
	local_irq_restore(flags);
	return level;
}

/*
 * The largest leaf that may map @gfn: no larger than the VMM's mapping or
 * than the CPU allows, wholly inside the slot, and with guest-physical and
 * host-virtual addresses agreeing within it, so that one aligned run of
 * host memory backs it.
 */
static int tdp_fault_level(struct minihv_vm *vm, struct minihv_memslot *slot, u64 gfn)
{
	unsigned long hva = slot_hva(slot, gfn);
	int level = vm->tdp_max_leaf_level;

	if (level > 1)
		level = min(level, host_mapping_level(slot->notifier.mm, hva));
	for (; level > 1; level--) {
		u64 n = tdp_level_pages(level), first = round_down(gfn, n);

		if (first >= slot->base_gfn &&
		    first + n <= slot->base_gfn + slot->npages &&
		    !(((hva >> PAGE_SHIFT) ^ gfn) & (n - 1)))
			break;
	}
	return level;
}

static u64 tdp_leaf_bits(bool writable)
{
	return writable ? minihv_ops->tdp_leaf_rw : minihv_ops->tdp_leaf_ro;
}

/*
 * Writes leaf @entry, under mmu_lock after the fault's sequence check.  A
 * page mapped writable is marked dirty here, as the VMM's page tables
 * know nothing of the guest's writes, and here rather than after the
 * lock (KVM's rule too): for the page to be cleaned or dropped from a
 * file's cache the kernel must first write-protect or unmap the VMM's
 * mapping (page_mkclean(), truncation, reclaim), which passes
 * minihv_slot_invalidate() and so waits for mmu_lock and takes the entry
 * away; dirtying a page this fault did not map could race with
 * write-back, or dirty a page its file system has let go.
 */
static void tdp_set_leaf(u64 *entry, u64 leaf, struct page *page, bool writable)
{
	*entry = leaf;
	if (writable)
		set_page_dirty(page);
}

/* Whether a nested table maps nothing at all. */
static bool tdp_table_empty(const u64 *table)
{
	int i;

	for (i = 0; i < 512; i++)
		if (table[i] & TDP_PRESENT_MASK)
			return false;
	return true;
}

/*
 * Maps @page's whole huge page at @level, under mmu_lock; false when it
 * cannot, and the caller tries a smaller leaf.  A table may already be
 * there: one left empty by an invalidation (the guest touched the range
 * while the VMM's memory there was small pages, since collapsed into a
 * THP) is replaced, once every CPU stopped walking it (the flush makes
 * each vCPU in the guest exit); one that still maps something stays,
 * and so do the small leaves a fetch asked for (tdp_large_noexec).
 */
static bool tdp_map_large(struct minihv_vcpu *vcpu, u64 gfn, int level,
			  struct page *page, bool writable)
{
	struct minihv_vm *vm = vcpu->vm;
	u64 n = tdp_level_pages(level), first = round_down(gfn, n);
	u64 hpa = page_to_phys(page) - ((gfn - first) << PAGE_SHIFT);
	u64 *entry, old;
	bool table;

	/* A huge page is aligned to its size in host-physical memory too. */
	if (WARN_ON_ONCE(hpa & ((n << PAGE_SHIFT) - 1)))
		return false;
	entry = tdp_entry(vm, first << PAGE_SHIFT, level, vcpu, true);
	if (!entry)
		return false;
	old = *entry;
	table = (old & TDP_PRESENT_MASK) && !tdp_is_leaf(old, level);
	if (table && !tdp_table_empty(__va(old & TDP_ADDR_MASK)))
		return false;
	tdp_set_leaf(entry, hpa | TDP_LARGE | (tdp_leaf_bits(writable) & ~vm->tdp_large_noexec),
		     page, writable);
	if (table) {
		minihv_flush_remote_tlbs(vm);
		tdp_free_table(__va(old & TDP_ADDR_MASK), level - 1);
	}
	return true;
}

/*
 * Maps @page at @gfn with a 4 KiB leaf, unless a leaf maps it already;
 * a read-only leaf is made writable (@upgrade: the guest wrote it).  The
 * old leaf maps the same page: had the VMM's mapping changed since, an
 * invalidation would have cleared it, and the caller's sequence check
 * would have failed.  Write permission only grows here, so nothing is
 * flushed: a CPU holding the read-only translation faults again.
 * Returns whether a leaf maps @page now.
 */
static bool tdp_map_small(struct minihv_vcpu *vcpu, u64 gfn, struct page *page,
			  bool writable, bool upgrade)
{
	u64 *pte = tdp_entry(vcpu->vm, gfn << PAGE_SHIFT, 1, vcpu, upgrade);

	if (!pte)
		return false;
	if (!(*pte & TDP_PRESENT_MASK) ||
	    (upgrade && writable && !(*pte & TDP_WRITABLE)))
		tdp_set_leaf(pte, page_to_phys(page) | tdp_leaf_bits(writable), page, writable);
	return true;
}

/*
 * The rest of a 4 KiB fault's block: each neighbour that @missing (bit
 * i: page @first + i) says is unmapped, if the VMM's page tables hold it
 * now (as KVM prefetches): writable if the VMM's mapping is.  Nothing is
 * faulted in, so memory the guest never touched stays unallocated, and
 * shared pages (KSM, the zero page) stay shared.
 */
static void tdp_fault_around(struct minihv_vcpu *vcpu, struct minihv_memslot *slot,
			     u64 first, unsigned long missing)
{
	struct minihv_vm *vm = vcpu->vm;
	struct page *pages[MINIHV_FAULT_AROUND] = {};
	unsigned long seq, writable = 0, mapped = 0;
	bool w;
	int i;

	if (minihv_mmu_topup_cache(vcpu))
		return;
	seq = mmu_interval_read_begin(&slot->notifier);
	for_each_set_bit(i, &missing, MINIHV_FAULT_AROUND) {
		pages[i] = hold_slot_page(slot, first + i, false, true, &w);
		if (w)
			__set_bit(i, &writable);
	}

	mutex_lock(&vm->mmu_lock);
	if (!mmu_interval_read_retry(&slot->notifier, seq)) {
		for (i = 0; i < MINIHV_FAULT_AROUND; i++)
			if (pages[i] && tdp_map_small(vcpu, first + i, pages[i],
						      test_bit(i, &writable), false))
				__set_bit(i, &mapped);
	}
	mutex_unlock(&vm->mmu_lock);
	for (i = 0; i < MINIHV_FAULT_AROUND; i++)
		if (pages[i])
			release_slot_page(pages[i], test_bit(i, &mapped));
}

/*
 * A nested fault at @gpa, a write if @write, an instruction fetch if
 * @fetch.  Returns 1 when mapped (or when the mapping changed meanwhile:
 * the guest faults again), 0 when @gpa is not RAM (MMIO), -EFAULT when
 * nothing usable is mapped at the slot's address, -ENOMEM.
 */
int minihv_mmu_map_gpa(struct minihv_vcpu *vcpu, u64 gpa, bool write, bool fetch)
{
	struct minihv_vm *vm = vcpu->vm;
	struct minihv_memslot *slot = minihv_gpa_to_slot(vm, gpa);
	u64 gfn = gpa >> PAGE_SHIFT, first, last, i;
	unsigned long missing = 0, seq;
	bool writable, mapped = false;
	struct page *page;
	int r, level;

	if (!slot)
		return 0;
	if (write && (slot->flags & MINIHV_MEM_READONLY))
		return 0;	/* a write to ROM is an MMIO write, as in KVM */
	r = minihv_mmu_topup_cache(vcpu);
	if (r)
		return r;

	/* The page first, outside mmu_lock (locking.rst). */
	seq = mmu_interval_read_begin(&slot->notifier);
	page = hold_slot_page(slot, gfn, write, false, &writable);
	if (!page)
		return -EFAULT;

	first = max(round_down(gfn, MINIHV_FAULT_AROUND), slot->base_gfn);
	last = min(round_down(gfn, MINIHV_FAULT_AROUND) + MINIHV_FAULT_AROUND,
		   slot->base_gfn + slot->npages);
	mutex_lock(&vm->mmu_lock);
	/* An invalidation ran since: the page may be an old one. */
	if (mmu_interval_read_retry(&slot->notifier, seq))
		goto out_unlock;
	level = tdp_fault_level(vm, slot, gfn);
	/* Large leaves cannot execute here: the page fetched from is small. */
	if (fetch && vm->tdp_large_noexec)
		level = 1;
	for (; level > 1; level--) {
		mapped = tdp_map_large(vcpu, gfn, level, page, writable);
		if (mapped)
			goto out_unlock;
	}
	mapped = tdp_map_small(vcpu, gfn, page, writable, true);
	for (i = first; i < last; i++) {
		u64 *pte = tdp_entry(vm, i << PAGE_SHIFT, 1, vcpu, false);

		if (pte && !(*pte & TDP_PRESENT_MASK))
			__set_bit(i - first, &missing);
	}
out_unlock:
	mutex_unlock(&vm->mmu_lock);
	release_slot_page(page, mapped);
	if (missing)
		tdp_fault_around(vcpu, slot, first, missing);
	return 1;
}

/*
 * The kernel is about to change [range->start, range->end) of the VMM's mm,
 * which overlaps @mni's slot: clear the nested entries there and make
 * sure no CPU still uses them before returning, after which the kernel
 * may free or reuse the pages.  Runs with mmap_lock held, sometimes with
 * a page of the range locked (truncation): only mmu_lock is taken.  The
 * OOM reaper cannot wait: it gets the lock only if it is free at once.
 */
static bool minihv_slot_invalidate(struct mmu_interval_notifier *mni,
				   const struct mmu_notifier_range *range,
				   unsigned long cur_seq)
{
	struct minihv_memslot *slot = container_of(mni, struct minihv_memslot, notifier);
	struct minihv_vm *vm = slot->vm;
	bool blockable = mmu_notifier_range_blockable(range);
	unsigned long start = max(range->start, slot->hva);
	unsigned long end = min(range->end, slot->hva + (slot->npages << PAGE_SHIFT));
	u64 gpa = (slot->base_gfn << PAGE_SHIFT) + (start - slot->hva);

	if (blockable)
		mutex_lock(&vm->mmu_lock);
	else if (!mutex_trylock(&vm->mmu_lock))
		return false;
	mmu_interval_set_seq(mni, cur_seq);
	if (start < end &&
	    tdp_zap_range(page_address(vm->tdp_root_page), vm->tdp_levels, 0,
			  gpa, gpa + (end - start), blockable))
		minihv_flush_remote_tlbs(vm);
	mutex_unlock(&vm->mmu_lock);
	return true;
}

static const struct mmu_interval_notifier_ops minihv_slot_notifier_ops = {
	.invalidate = minihv_slot_invalidate,
};

/*
 * Called with vm->lock and slots_rwsem (write) held, every field of @slot
 * set: starts following the caller's mm over the slot's range.
 */
int minihv_mmu_add_slot(struct minihv_vm *vm, struct minihv_memslot *slot)
{
	slot->vm = vm;
	return mmu_interval_notifier_insert(&slot->notifier, current->mm, slot->hva,
					    slot->npages << PAGE_SHIFT,
					    &minihv_slot_notifier_ops);
}

/*
 * Called with no vCPU in the guest (slots_rwsem held for write, or the VM
 * being freed): stops following the mm and clears the slot's entries.
 * vCPUs flush their TLB tag at their next entry (tlb_generation).
 */
void minihv_mmu_unmap_slot(struct minihv_vm *vm, struct minihv_memslot *slot)
{
	u64 gpa = slot->base_gfn << PAGE_SHIFT;

	if (!slot->npages)
		return;
	mmu_interval_notifier_remove(&slot->notifier);
	mutex_lock(&vm->mmu_lock);
	tdp_zap_range(page_address(vm->tdp_root_page), vm->tdp_levels, 0,
		      gpa, gpa + (slot->npages << PAGE_SHIFT), true);
	atomic64_inc(&vm->tlb_generation);
	mutex_unlock(&vm->mmu_lock);
}

/*
 * The listing stops after this many mappings (4 MiB of text, a 512 MiB
 * guest): seq_file holds a file's whole output in one buffer.
 */
#define TDP_SHOW_MAX		131072

static const char *const tdp_size_names[] = { "", "4K", "2M", "1G" };

/* What is wrong with leaf @e at @level mapping @gpa, or NULL. */
static const char *tdp_leaf_error(struct minihv_vm *vm, u64 gpa, u64 e, int level)
{
	u64 bytes = tdp_level_pages(level) << PAGE_SHIFT;
	struct minihv_memslot *slot = minihv_gpa_to_slot(vm, gpa);

	if (level > vm->tdp_max_leaf_level)
		return "a larger leaf than this VM maps";
	if ((e & TDP_ADDR_MASK) & (bytes - 1))
		return "a large leaf not aligned in host memory";
	if (!slot)
		return "outside every slot";
	if (gpa + bytes > (slot->base_gfn + slot->npages) << PAGE_SHIFT)
		return "a large leaf past its slot's end";
	if ((e & TDP_WRITABLE) && (slot->flags & MINIHV_MEM_READONLY))
		return "writable in a read-only slot";
	if (level > 1 && (e & vm->tdp_large_noexec))
		return "an executable large leaf (iTLB multihit)";
	return NULL;
}

/* counts[0]: leaves; counts[1]: errors; counts[2 + l]: leaves at level l. */
static void tdp_show_table(struct seq_file *m, struct minihv_vm *vm, u64 *table,
			   int level, u64 base, u64 *counts)
{
	int i;

	for (i = 0; i < 512; i++) {
		u64 e = table[i], gpa = base | ((u64)i << (PAGE_SHIFT + 9 * (level - 1)));
		const char *error;
		bool exec;

		if (!(e & TDP_PRESENT_MASK))
			continue;
		if (!tdp_is_leaf(e, level)) {
			tdp_show_table(m, vm, __va(e & TDP_ADDR_MASK), level - 1, gpa, counts);
			continue;
		}
		/* Every mapping is checked; the first TDP_SHOW_MAX are listed. */
		exec = !vm->tdp_large_noexec || (e & vm->tdp_large_noexec);
		if (counts[0]++ < TDP_SHOW_MAX)
			seq_printf(m, "%#llx %#llx %s %s %s\n", gpa, e & TDP_ADDR_MASK,
				   (e & TDP_WRITABLE) ? "w" : "r",
				   level <= 3 ? tdp_size_names[level] : "?", exec ? "x" : "nx");
		if (level <= 3)
			counts[2 + level]++;
		error = level <= 3 ? tdp_leaf_error(vm, gpa, e, level) : "a leaf above level 3";
		if (error) {
			seq_printf(m, "error %#llx: %s\n", gpa, error);
			counts[1]++;
		}
	}
}

/*
 * debugfs <pid>-<n>/tdp (vm.c; a test hook), with vm->lock held: every
 * nested leaf as "gpa hpa r|w 4K|2M|1G x|nx" (nx only where large leaves
 * may not execute, tdp_large_noexec), and an "error" line for each
 * that tdp_show_table() finds wrong; the last line counts them.  Tests
 * compare the host addresses with /proc/self/pagemap.
 */
void minihv_mmu_show(struct seq_file *m, struct minihv_vm *vm)
{
	u64 counts[6] = {};

	mutex_lock(&vm->mmu_lock);
	tdp_show_table(m, vm, page_address(vm->tdp_root_page), vm->tdp_levels, 0, counts);
	mutex_unlock(&vm->mmu_lock);
	seq_printf(m, "mappings %llu errors %llu 4K %llu 2M %llu 1G %llu\n", counts[0],
		   counts[1], counts[3], counts[4], counts[5]);
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
