// SPDX-License-Identifier: GPL-2.0
/*
 * minihv VM objects: the VM fd, its memory slots, and vCPU creation.
 *
 * Lifetime: a VM is referenced by its fd and by each of its vCPUs (kref);
 * the last reference frees it, whatever the order of closes.  Every fd holds
 * a reference on the module (fops->owner), so minihv.ko cannot be unloaded
 * while any exists.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "minihv.h"

/* VMs in existence, for /sys/kernel/debug/minihv/vms (main.c). */
atomic_t minihv_nr_vms = ATOMIC_INIT(0);

static void minihv_vm_free(struct kref *kref)
{
	struct minihv_vm *vm = container_of(kref, struct minihv_vm, kref);
	int i;

	/*
	 * First: waits for the irqfds' wake-ups to end, which raise lines
	 * and kick vCPUs, so that none reaches anything freed below.
	 */
	minihv_irqfd_free(vm);
	/* Waits for a reader of the VM's files to leave (debugfs' removal). */
	debugfs_remove_recursive(vm->debugfs);
	for (i = 0; i < MINIHV_MAX_MEMSLOTS; i++)
		minihv_mmu_unmap_slot(vm, &vm->slots[i]);
	minihv_mmu_destroy(vm);
	minihv_ops->vm_destroy(vm);
	minihv_ioeventfd_free(vm);
	minihv_pit_free(vm);
	minihv_pic_free(vm);
	minihv_ioapic_free(vm);
	mmdrop(vm->mm);
	kfree(vm);
	atomic_dec(&minihv_nr_vms);
}

void minihv_vm_get(struct minihv_vm *vm)
{
	kref_get(&vm->kref);
}

void minihv_vm_put(struct minihv_vm *vm)
{
	kref_put(&vm->kref, minihv_vm_free);
}

/*
 * The whole range must be mapped in the caller's address space, readable,
 * and writable unless the slot is read-only.  Checked once here so that a
 * bad address is an -EFAULT from the ioctl, not a surprise at run time.
 */
static int minihv_check_user_range(unsigned long start, unsigned long len,
				   bool writable)
{
	unsigned long end = start + len, addr = start;
	struct vm_area_struct *vma;
	int r = 0;

	if (!access_ok((void __user *)start, len))
		return -EFAULT;

	mmap_read_lock(current->mm);
	while (addr < end) {
		vma = find_vma(current->mm, addr);
		if (!vma || vma->vm_start > addr ||
		    !(vma->vm_flags & VM_READ) ||
		    (writable && !(vma->vm_flags & VM_WRITE)) ||
		    (vma->vm_flags & (VM_IO | VM_PFNMAP))) {
			r = -EFAULT;
			break;
		}
		addr = vma->vm_end;
	}
	mmap_read_unlock(current->mm);
	return r;
}

static bool minihv_slots_overlap(const struct minihv_memslot *a, u64 gfn,
				 u64 npages)
{
	return a->npages && gfn < a->base_gfn + a->npages &&
	       a->base_gfn < gfn + npages;
}

/*
 * Errors (Documentation/api.rst): -EFAULT unreadable argument or
 * inaccessible memory; -EINVAL bad slot, flags or alignment, or a range
 * that wraps; -E2BIG beyond the 48-bit guest-physical space or the slot
 * size limit; -EEXIST overlap with another slot, or a slot already in use;
 * -ENOENT delete of an empty slot.
 */
static int minihv_vm_set_memory_region(struct minihv_vm *vm,
				       const struct minihv_userspace_memory_region *mr)
{
	struct minihv_memslot *slot;
	u64 gfn, npages;
	int i, r;

	if (mr->slot >= MINIHV_MAX_MEMSLOTS)
		return -EINVAL;
	if (mr->flags & ~MINIHV_MEM_READONLY)
		return -EINVAL;
	if (!PAGE_ALIGNED(mr->guest_phys_addr) || !PAGE_ALIGNED(mr->memory_size) ||
	    !PAGE_ALIGNED(mr->userspace_addr))
		return -EINVAL;
	if (mr->guest_phys_addr + mr->memory_size < mr->guest_phys_addr ||
	    mr->userspace_addr + mr->memory_size < mr->userspace_addr)
		return -EINVAL;
	if (mr->guest_phys_addr + mr->memory_size > (1ULL << MINIHV_GPA_BITS))
		return -E2BIG;

	gfn = mr->guest_phys_addr >> PAGE_SHIFT;
	npages = mr->memory_size >> PAGE_SHIFT;

	mutex_lock(&vm->lock);
	slot = &vm->slots[mr->slot];
	if (!npages) {
		r = -ENOENT;
		if (!slot->npages)
			goto out;
		/*
		 * The write side waits for every vCPU to leave the guest
		 * (vCPUs hold it for read across entry and exit handling),
		 * so no guest can touch a page once its entries are cleared.
		 */
		down_write(&vm->slots_rwsem);
		minihv_mmu_unmap_slot(vm, slot);
		memset(slot, 0, sizeof(*slot));
		up_write(&vm->slots_rwsem);
		r = 0;
		goto out;
	}

	r = -EEXIST;
	if (slot->npages)
		goto out;
	for (i = 0; i < MINIHV_MAX_MEMSLOTS; i++)
		if (minihv_slots_overlap(&vm->slots[i], gfn, npages))
			goto out;

	r = minihv_check_user_range(mr->userspace_addr, mr->memory_size,
				    !(mr->flags & MINIHV_MEM_READONLY));
	if (r)
		goto out;

	down_write(&vm->slots_rwsem);
	slot->base_gfn = gfn;
	slot->hva = mr->userspace_addr;
	slot->flags = mr->flags;
	slot->npages = npages;
	r = minihv_mmu_add_slot(vm, slot);
	if (r)
		memset(slot, 0, sizeof(*slot));
	up_write(&vm->slots_rwsem);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * The interrupt controller comes before the vCPUs, as in KVM: a vCPU gets
 * its local APIC when it is created (-EBUSY once one exists).
 */
static int minihv_vm_create_irqchip(struct minihv_vm *vm)
{
	int r, i;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->ioapic)
		goto out;
	r = -EBUSY;
	for (i = 0; i < MINIHV_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			goto out;
	r = minihv_pic_create(vm);
	if (r)
		goto out;
	r = minihv_ioapic_create(vm);
	if (r)
		minihv_pic_free(vm);
out:
	mutex_unlock(&vm->lock);
	return r;
}

static int minihv_vm_irq_line(struct minihv_vm *vm, void __user *argp)
{
	struct minihv_irq_level irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	/* READ_ONCE: set once under vm->lock, then never changed or freed before the VM. */
	if (!READ_ONCE(vm->ioapic))
		return -ENXIO;
	/* ISA lines 0-15 reach the 8259 pair too, as KVM's GSIs below 16. */
	if (irq.irq < 16 && irq.level <= 1)
		minihv_pic_set_irq(vm, irq.irq, irq.level);
	return minihv_ioapic_set_irq(vm, irq.irq, irq.level);
}

static long minihv_vm_ioctl(struct file *filp, unsigned int ioctl,
			    unsigned long arg)
{
	struct minihv_vm *vm = filp->private_data;
	struct minihv_userspace_memory_region mr;
	int r;

	/* Like KVM: a VM belongs to the process that created it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case MINIHV_SET_USER_MEMORY_REGION:
		r = -EFAULT;
		if (copy_from_user(&mr, (void __user *)arg, sizeof(mr)))
			break;
		r = minihv_vm_set_memory_region(vm, &mr);
		break;
	case MINIHV_CREATE_VCPU:
		r = minihv_vcpu_fd_create(vm, arg);
		break;
	case MINIHV_CREATE_IRQCHIP:
		r = arg ? -EINVAL : minihv_vm_create_irqchip(vm);
		break;
	case MINIHV_IRQ_LINE:
		r = minihv_vm_irq_line(vm, (void __user *)arg);
		break;
	case MINIHV_CREATE_PIT2:
		r = minihv_pit_create(vm, (void __user *)arg);
		break;
	case MINIHV_IOEVENTFD:
		r = minihv_ioeventfd(vm, (void __user *)arg);
		break;
	case MINIHV_IRQFD:
		r = minihv_irqfd(vm, (void __user *)arg);
		break;
	default:
		r = -ENOTTY;
	}
	return r;
}

static int minihv_vm_release(struct inode *inode, struct file *filp)
{
	minihv_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations minihv_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = minihv_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = minihv_vm_release,
	.llseek = noop_llseek,
};

static int minihv_vm_tdp_show(struct seq_file *m, void *unused)
{
	struct minihv_vm *vm = m->private;

	mutex_lock(&vm->lock);		/* the slots stay as they are */
	minihv_mmu_show(m, vm);
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(minihv_vm_tdp);

/* "break_entry" (minihv_vendor_ops.entry_rules): read the rules, write one's name. */
static int minihv_vm_break_entry_show(struct seq_file *m, void *unused)
{
	const char *const *rule;

	for (rule = minihv_ops->entry_rules; *rule; rule++)
		seq_printf(m, "%s\n", *rule);
	return 0;
}

static int minihv_vm_break_entry_open(struct inode *inode, struct file *file)
{
	return single_open(file, minihv_vm_break_entry_show, inode->i_private);
}

static ssize_t minihv_vm_break_entry_write(struct file *file, const char __user *buf,
					   size_t len, loff_t *ppos)
{
	struct minihv_vm *vm = ((struct seq_file *)file->private_data)->private;
	char name[32];
	int rule;

	if (len >= sizeof(name))
		return -EINVAL;
	if (copy_from_user(name, buf, len))
		return -EFAULT;
	name[len] = '\0';
	rule = match_string(minihv_ops->entry_rules, -1, strim(name));
	if (rule < 0)
		return rule;
	atomic_set(&vm->break_entry, rule + 1);
	return len;
}

static const struct file_operations minihv_vm_break_entry_fops = {
	.owner = THIS_MODULE,
	.open = minihv_vm_break_entry_open,
	.read = seq_read,
	.write = minihv_vm_break_entry_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * /sys/kernel/debug/minihv/<pid>-<n>/ for the n-th VM since load, created
 * by process <pid>, as KVM's <pid>-<fd>.  With the test hooks
 * (MINIHV_TEST_HOOKS, Kbuild) it holds "tdp", the nested mappings checked
 * against the slots (minihv_mmu_show()), and on AMD-V "break_entry"
 * (above); without them it is empty.  Made before the VM fd exists and
 * removed when the VM is freed, so it never outlives the VM.
 */
static void minihv_vm_debugfs_init(struct minihv_vm *vm)
{
	static atomic_t nr_created = ATOMIC_INIT(0);
	char name[32];

	snprintf(name, sizeof(name), "%d-%d", task_tgid_nr(current),
		 atomic_inc_return(&nr_created));
	vm->debugfs = debugfs_create_dir(name, minihv_debugfs);
	/* Its irqfds, those still shutting down included (irqfd.c). */
	debugfs_create_u32("irqfds", 0444, vm->debugfs, &vm->nr_irqfds);
	if (!minihv_test_hooks())
		return;
	debugfs_create_file("tdp", 0400, vm->debugfs, vm, &minihv_vm_tdp_fops);
	if (minihv_ops->entry_rules)
		debugfs_create_file("break_entry", 0600, vm->debugfs, vm,
				    &minihv_vm_break_entry_fops);
}

int minihv_dev_create_vm(void)
{
	struct minihv_vm *vm;
	int r, fd;

	vm = kzalloc(sizeof(*vm), MINIHV_GFP);
	if (!vm)
		return -ENOMEM;
	kref_init(&vm->kref);
	vm->id = minihv_spec_new_vm_id();
	mutex_init(&vm->lock);
	spin_lock_init(&vm->irq_lock);
	INIT_LIST_HEAD(&vm->ioeventfds);
	spin_lock_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	init_waitqueue_head(&vm->irqfds_gone);
	init_rwsem(&vm->slots_rwsem);
	mutex_init(&vm->mmu_lock);
	vm->mm = current->mm;
	mmgrab(vm->mm);

	r = minihv_ops->vm_init(vm);
	if (r)
		goto err_drop_mm;
	r = minihv_mmu_init(vm);
	if (r)
		goto err_vm_destroy;
	minihv_vm_debugfs_init(vm);

	/* The fd is the last step: once it exists, userspace can use it. */
	fd = anon_inode_getfd("minihv-vm", &minihv_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_mmu_destroy;
	}
	atomic_inc(&minihv_nr_vms);
	return fd;

err_mmu_destroy:
	debugfs_remove_recursive(vm->debugfs);
	minihv_mmu_destroy(vm);
err_vm_destroy:
	minihv_ops->vm_destroy(vm);
err_drop_mm:
	mmdrop(vm->mm);
	kfree(vm);
	return r;
}
