// SPDX-License-Identifier: GPL-2.0
/*
 * irqfd (MINIHV_IRQFD, KVM_IRQFD's shape): a signal of an eventfd raises
 * a GSI, so a device model on its own thread (or another driver in the
 * kernel) interrupts the guest without an ioctl and without stopping a
 * vCPU.  The uapi header says what a registration is and which errno each
 * bad one gets; api.rst says how a VMM uses them.
 *
 * How the signal arrives: the irqfd puts its own entry on the eventfd's
 * wait queue (vfs_poll() with a poll table whose queue proc adds it, as
 * KVM's virt/kvm/eventfd.c and VFIO's virqfd do), and the eventfd's
 * wake-up calls irqfd_wakeup() with EPOLLIN on each signal and EPOLLHUP
 * when the file is released.  The wake-up runs with the wait queue's
 * spinlock held, interrupts off, perhaps in a hard interrupt (a driver
 * may signal from its handler): it must not sleep.  The GSI is raised
 * from there directly, not from a work item, because the whole path is
 * spinlocks with interrupts off and wake-ups: pic->lock, ioapic->lock,
 * vm->irq_lock and minihv_vcpu_kick(), the same path the PIT's hrtimer
 * takes in hard interrupt context.  KVM raises an I/O APIC route from a
 * work item (its kvm_arch_set_irq_inatomic() takes MSIs only), through
 * its GSI routing table; minihv has no routing table, GSI n is pin n.
 *
 * Lifetime (Documentation/locking.rst, "irqfds"): an irqfd is on
 * vm->irqfds while active.  Deactivating it (deassign, EPOLLHUP, the VM's
 * end) takes it off under vm->irqfds_lock, exactly once, and queues its
 * shutdown on minihv_irqfd_wq; the shutdown takes the entry off the
 * eventfd's wait queue (after which no wake-up can be running in it),
 * waits for RCU readers if it resamples, and frees it.  A deassign and
 * the VM's end flush the workqueue, so when they return nothing of the
 * irqfd is left to touch the VM.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "minihv.h"

struct minihv_irqfd_entry {
	struct minihv_vm *vm;		/* [const] no reference: the VM flushes us */
	struct eventfd_ctx *ctx;	/* [const] referenced */
	struct eventfd_ctx *resample;	/* [const] referenced, or NULL */
	u32 gsi;			/* [const] */
	bool active;			/* [vm->irqfds_lock] on vm->irqfds */
	struct list_head list;		/* [vm->irqfds_lock] in vm->irqfds; RCU readers */
	wait_queue_entry_t wait;	/* on ctx's wait queue until the shutdown */
	poll_table pt;			/* [const] vfs_poll()'s, at assign */
	struct work_struct shutdown;
	struct rcu_head rcu;		/* the EOI path may still be reading it */
};

#define IRQFD_FLAGS	(MINIHV_IRQFD_FLAG_DEASSIGN | MINIHV_IRQFD_FLAG_RESAMPLE)

/* Shutdowns run here; a private queue so that a flush waits for ours only. */
static struct workqueue_struct *minihv_irqfd_wq;

/* Drives GSI @gsi as MINIHV_IRQ_LINE does: the 8259 input too below 16. */
static void irqfd_set_line(struct minihv_vm *vm, u32 gsi, u32 level)
{
	if (gsi < 16)
		minihv_pic_set_irq(vm, gsi, level);
	minihv_ioapic_set_irq(vm, gsi, level);
}

/* Any context, with the eventfd's wait queue lock held. */
static void irqfd_inject(struct minihv_irqfd_entry *irqfd)
{
	struct minihv_vm *vm = irqfd->vm;

	irqfd_set_line(vm, irqfd->gsi, 1);
	/* A resampling line stays up until the guest's EOI (minihv_irqfd_ack()). */
	if (!irqfd->resample)
		irqfd_set_line(vm, irqfd->gsi, 0);
}

/*
 * Takes @irqfd off the VM's list, unless that happened already: true
 * when it did, and the caller then shuts it down (irqfd_release()).  The
 * caller holds vm->irqfds_lock.
 */
static bool irqfd_deactivate(struct minihv_irqfd_entry *irqfd)
{
	struct minihv_vm *vm = irqfd->vm;

	lockdep_assert_held(&vm->irqfds_lock);
	if (!irqfd->active)
		return false;
	irqfd->active = false;
	list_del_rcu(&irqfd->list);
	vm->nr_irqfds_dying++;
	if (irqfd->resample && !--vm->irqfd_resamplers[irqfd->gsi])
		clear_bit(irqfd->gsi, &vm->irqfd_resample_pins);
	return true;
}

/* The end of a deactivated irqfd, in process context (may sleep). */
static void irqfd_release(struct minihv_irqfd_entry *irqfd)
{
	struct minihv_vm *vm = irqfd->vm;
	unsigned long flags;
	u64 cnt;

	/*
	 * Under the wait queue's lock: a wake-up running in the entry ends
	 * before this returns, and none starts after.
	 */
	eventfd_ctx_remove_wait_queue(irqfd->ctx, &irqfd->wait, &cnt);
	if (irqfd->resample) {
		/*
		 * The last resampler of its pin leaves it low, as KVM's does;
		 * under the lock, so that one assigned meanwhile on the same
		 * pin, which raises it, is not undone.
		 */
		spin_lock_irqsave(&vm->irqfds_lock, flags);
		if (!vm->irqfd_resamplers[irqfd->gsi])
			irqfd_set_line(vm, irqfd->gsi, 0);
		spin_unlock_irqrestore(&vm->irqfds_lock, flags);
		/* An EOI may still be walking the list to signal it. */
		synchronize_rcu();
		eventfd_ctx_put(irqfd->resample);
	}
	eventfd_ctx_put(irqfd->ctx);
	/*
	 * Counted until now, so that irqfds on their way out count against
	 * the limit too (a loop of assign and close must not outrun this
	 * work).  The VM's end waits for the count to reach 0, and can
	 * see it only after this unlock: the VM is not touched after it.
	 */
	spin_lock_irqsave(&vm->irqfds_lock, flags);
	vm->nr_irqfds--;
	vm->nr_irqfds_dying--;
	wake_up(&vm->irqfds_gone);
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	/* An EOI may be walking past it: freed after the readers leave. */
	kfree_rcu(irqfd, rcu);
}

static void irqfd_shutdown(struct work_struct *work)
{
	irqfd_release(container_of(work, struct minihv_irqfd_entry, shutdown));
}

/* The eventfd's wake-up: wait queue lock held, interrupts off (see the top). */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct minihv_irqfd_entry *irqfd =
		container_of(wait, struct minihv_irqfd_entry, wait);
	__poll_t events = key_to_poll(key);
	struct minihv_vm *vm = irqfd->vm;
	unsigned long flags;
	u64 cnt;

	if (events & EPOLLIN) {
		/* The count is ours: consumed, so a later signal is news (KVM does too). */
		eventfd_ctx_do_read(irqfd->ctx, &cnt);
		irqfd_inject(irqfd);
	}
	if (events & EPOLLHUP) {
		/* Its last file is going: the irqfd goes with it. */
		spin_lock_irqsave(&vm->irqfds_lock, flags);
		if (irqfd_deactivate(irqfd))
			queue_work(minihv_irqfd_wq, &irqfd->shutdown);
		spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	}
	return 0;
}

/* vfs_poll()'s callback from eventfd_poll(): our entry on its wait queue. */
static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct minihv_irqfd_entry *irqfd =
		container_of(pt, struct minihv_irqfd_entry, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

/* An eventfd's context from a file descriptor: -EBADF not open, -EINVAL no eventfd. */
static struct eventfd_ctx *irqfd_ctx_get(u32 fd, struct file **filep)
{
	struct eventfd_ctx *ctx;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx) || !filep)
		fput(file);
	else
		*filep = file;
	return ctx;
}

/*
 * True when none of the VM's irqfds are left (@room false), or when one
 * more may be assigned without waiting, below the limit or with nothing
 * left to wait for (@room true).
 */
static bool irqfds_settled(struct minihv_vm *vm, bool room)
{
	unsigned long flags;
	bool settled;

	spin_lock_irqsave(&vm->irqfds_lock, flags);
	if (room)
		settled = vm->nr_irqfds < MINIHV_MAX_IRQFDS || !vm->nr_irqfds_dying;
	else
		settled = !vm->nr_irqfds;
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	return settled;
}

static int irqfd_assign(struct minihv_vm *vm, const struct minihv_irqfd *args)
{
	struct minihv_irqfd_entry *irqfd, *e;
	struct file *file;
	unsigned long flags;
	__poll_t events;
	int r;

	irqfd = kzalloc(sizeof(*irqfd), MINIHV_GFP);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->list);
	INIT_WORK(&irqfd->shutdown, irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue_proc);

	/* The file is held until the entry is queued: no EPOLLHUP before. */
	irqfd->ctx = irqfd_ctx_get(args->fd, &file);
	if (IS_ERR(irqfd->ctx)) {
		r = PTR_ERR(irqfd->ctx);
		goto err_free;
	}
	if (args->flags & MINIHV_IRQFD_FLAG_RESAMPLE) {
		irqfd->resample = irqfd_ctx_get(args->resamplefd, NULL);
		if (IS_ERR(irqfd->resample)) {
			r = PTR_ERR(irqfd->resample);
			goto err_put_ctx;
		}
	}

	/*
	 * At the limit with irqfds of this VM still shutting down (their
	 * eventfds closed just now): room is coming, wait for it rather
	 * than fail, killably (a thousand shutdowns may take a while).
	 * -ENOSPC below only when the live ones fill it.
	 */
	if (wait_event_killable(vm->irqfds_gone, irqfds_settled(vm, true))) {
		r = -EINTR;
		goto err_put_resample;
	}
	/*
	 * vm->lock orders this against a deassign, which must not find the
	 * irqfd before its entry is on the wait queue; irqfds_lock against
	 * an EPOLLHUP of another irqfd and the EOI path's readers.
	 */
	mutex_lock(&vm->lock);
	spin_lock_irqsave(&vm->irqfds_lock, flags);
	r = -EBUSY;
	list_for_each_entry(e, &vm->irqfds, list)
		if (e->ctx == irqfd->ctx)
			goto err_unlock;
	r = -ENOSPC;
	if (vm->nr_irqfds >= MINIHV_MAX_IRQFDS)
		goto err_unlock;
	irqfd->active = true;
	list_add_tail_rcu(&irqfd->list, &vm->irqfds);
	vm->nr_irqfds++;
	if (irqfd->resample && !vm->irqfd_resamplers[irqfd->gsi]++)
		set_bit(irqfd->gsi, &vm->irqfd_resample_pins);
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);

	events = vfs_poll(file, &irqfd->pt);
	/*
	 * Signalled before it was ours: that signal counts, as in KVM.
	 * Still under vm->lock, which keeps a deassign from freeing it.
	 */
	if (events & EPOLLIN)
		irqfd_inject(irqfd);
	mutex_unlock(&vm->lock);
	fput(file);
	return 0;

err_unlock:
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	mutex_unlock(&vm->lock);
err_put_resample:
	if (irqfd->resample)
		eventfd_ctx_put(irqfd->resample);
err_put_ctx:
	eventfd_ctx_put(irqfd->ctx);
	fput(file);
err_free:
	kfree(irqfd);
	return r;
}

static int irqfd_deassign(struct minihv_vm *vm, const struct minihv_irqfd *args)
{
	struct minihv_irqfd_entry *e;
	struct eventfd_ctx *ctx;
	unsigned long flags;
	int r = -ENOENT;

	ctx = irqfd_ctx_get(args->fd, NULL);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->lock);
	spin_lock_irqsave(&vm->irqfds_lock, flags);
	list_for_each_entry(e, &vm->irqfds, list) {
		if (e->ctx == ctx && e->gsi == args->gsi && irqfd_deactivate(e)) {
			r = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	mutex_unlock(&vm->lock);
	eventfd_ctx_put(ctx);
	/*
	 * Gone when we return, its wake-up unable to run; here rather than
	 * on the workqueue, which would make this wait for other VMs'.
	 */
	if (!r)
		irqfd_release(e);
	return r;
}

int minihv_irqfd(struct minihv_vm *vm, void __user *argp)
{
	struct minihv_irqfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if ((args.flags & ~IRQFD_FLAGS) || memchr_inv(args.pad, 0, sizeof(args.pad)) ||
	    args.gsi >= MINIHV_IOAPIC_PINS)
		return -EINVAL;
	/* READ_ONCE: set once under vm->lock, never cleared before the VM goes. */
	if (!READ_ONCE(vm->ioapic))
		return -ENXIO;
	if (args.flags & MINIHV_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, &args);
	return irqfd_assign(vm, &args);
}

/*
 * The guest's EOI of the interrupts of the pins in @pins, which have
 * resampling irqfds: each line falls (the chip that saw the EOI dropped
 * its side already, before it looked at the line again) and each
 * resamplefd is signalled.  From a vCPU's thread with no irqchip lock
 * held: the signal takes the resamplefd's wait queue lock, whose wake-ups
 * may raise lines themselves.
 */
void minihv_irqfd_ack(struct minihv_vm *vm, unsigned long pins)
{
	struct minihv_irqfd_entry *e;
	unsigned int pin;

	for_each_set_bit(pin, &pins, MINIHV_IOAPIC_PINS)
		irqfd_set_line(vm, pin, 0);
	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->irqfds, list)
		if (e->resample && (pins & BIT(e->gsi)))
			minihv_eventfd_signal(e->resample);
	rcu_read_unlock();
}

/* The VM is going: no fd is left to assign or deassign; wake-ups may still come. */
void minihv_irqfd_free(struct minihv_vm *vm)
{
	struct minihv_irqfd_entry *e, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&vm->irqfds_lock, flags);
	list_for_each_entry_safe(e, tmp, &vm->irqfds, list)
		if (irqfd_deactivate(e))
			queue_work(minihv_irqfd_wq, &e->shutdown);
	spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	/* Ours, and those an EPOLLHUP queued earlier: not other VMs'. */
	wait_event(vm->irqfds_gone, irqfds_settled(vm, false));
}

int minihv_irqfd_init(void)
{
	minihv_irqfd_wq = alloc_workqueue("minihv-irqfd", 0, 0);
	return minihv_irqfd_wq ? 0 : -ENOMEM;
}

/* Every VM is gone (each fd holds the module), so is every irqfd. */
void minihv_irqfd_exit(void)
{
	destroy_workqueue(minihv_irqfd_wq);
}
