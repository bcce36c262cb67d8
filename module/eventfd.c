// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfd (MINIHV_IOEVENTFD, KVM_IOEVENTFD's shape): a guest's write to
 * a port or an MMIO address signals an eventfd from the vCPU's thread in
 * the kernel, so a device model in userspace (a virtqueue's notify
 * register) learns of it on its own thread while the vCPU goes on.  The
 * uapi header says what a registration is and which errno each bad one
 * gets; api.rst says how a VMM uses them.
 *
 * A VM's registrations are a list the vCPUs read under RCU while the VM
 * fd's ioctls add and remove entries under vm->lock, so a write never
 * waits for a registration and a removed entry (with its eventfd
 * reference) is freed only after every reader has left it.
 */
#include <linux/eventfd.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minihv.h"

struct minihv_ioeventfd_entry {
	struct list_head list;		/* in vm->ioeventfds */
	struct eventfd_ctx *ctx;	/* referenced */
	u64 addr, datamatch;
	u32 len;
	bool pio, match;
};

#define IOEVENTFD_FLAGS		(MINIHV_IOEVENTFD_FLAG_DATAMATCH | MINIHV_IOEVENTFD_FLAG_PIO | \
				 MINIHV_IOEVENTFD_FLAG_DEASSIGN)

static bool ioeventfd_same(const struct minihv_ioeventfd_entry *e,
			   const struct minihv_ioeventfd_entry *n)
{
	return e->pio == n->pio && e->addr == n->addr && e->len == n->len;
}

static int ioeventfd_assign(struct minihv_vm *vm, struct minihv_ioeventfd_entry *n)
{
	struct minihv_ioeventfd_entry *e;

	lockdep_assert_held(&vm->lock);
	/* KVM's rule: one entry per place and value, a wildcard takes them all. */
	list_for_each_entry(e, &vm->ioeventfds, list)
		if (ioeventfd_same(e, n) &&
		    (!e->match || !n->match || e->datamatch == n->datamatch))
			return -EEXIST;
	if (vm->nr_ioeventfds >= MINIHV_MAX_IOEVENTFDS)
		return -ENOSPC;
	list_add_tail_rcu(&n->list, &vm->ioeventfds);
	vm->nr_ioeventfds++;
	return 0;
}

/*
 * Unlinks the entry @n names and returns it, for the caller to free once
 * the lock is dropped and readers have left it; NULL if there is none.
 */
static struct minihv_ioeventfd_entry *ioeventfd_unlink(struct minihv_vm *vm,
						       const struct minihv_ioeventfd_entry *n)
{
	struct minihv_ioeventfd_entry *e;

	lockdep_assert_held(&vm->lock);
	list_for_each_entry(e, &vm->ioeventfds, list) {
		if (!ioeventfd_same(e, n) || e->ctx != n->ctx || e->match != n->match ||
		    (e->match && e->datamatch != n->datamatch))
			continue;
		list_del_rcu(&e->list);
		vm->nr_ioeventfds--;
		return e;
	}
	return NULL;
}

int minihv_ioeventfd(struct minihv_vm *vm, void __user *argp)
{
	struct minihv_ioeventfd_entry *n, *old;
	struct minihv_ioeventfd args;
	u64 limit;
	int r;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	limit = (args.flags & MINIHV_IOEVENTFD_FLAG_PIO) ? 0x10000 : 0;
	if ((args.flags & ~IOEVENTFD_FLAGS) || memchr_inv(args.pad, 0, sizeof(args.pad)) ||
	    (args.len != 1 && args.len != 2 && args.len != 4 && args.len != 8) ||
	    args.addr + args.len < args.addr || (limit && (args.len > 4 ||
						       args.addr + args.len > limit)))
		return -EINVAL;
	n = kzalloc(sizeof(*n), MINIHV_GFP);
	if (!n)
		return -ENOMEM;
	n->ctx = eventfd_ctx_fdget(args.fd);
	if (IS_ERR(n->ctx)) {
		r = PTR_ERR(n->ctx);
		goto err_free;
	}
	n->addr = args.addr;
	n->len = args.len;
	n->pio = args.flags & MINIHV_IOEVENTFD_FLAG_PIO;
	n->match = args.flags & MINIHV_IOEVENTFD_FLAG_DATAMATCH;
	n->datamatch = n->match ? args.datamatch : 0;

	if (args.flags & MINIHV_IOEVENTFD_FLAG_DEASSIGN) {
		mutex_lock(&vm->lock);
		old = ioeventfd_unlink(vm, n);
		mutex_unlock(&vm->lock);
		r = old ? 0 : -ENOENT;
		if (old) {
			/*
			 * No vCPU still signals through it once synchronize_rcu()
			 * returns; waited for without vm->lock, which the VM's
			 * other ioctls and vCPUs' slow paths need meanwhile.
			 */
			synchronize_rcu();
			eventfd_ctx_put(old->ctx);
			kfree(old);
		}
		goto err_put;
	}
	mutex_lock(&vm->lock);
	r = ioeventfd_assign(vm, n);
	mutex_unlock(&vm->lock);
	/* Assigned: the list holds n and its reference now. */
	if (!r)
		return 0;
err_put:
	eventfd_ctx_put(n->ctx);
err_free:
	kfree(n);
	return r;
}

/* Adds 1 to @ctx's count and wakes its waiters (irqfd.c's resamplefds too). */
void minihv_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef MINIHV_EVENTFD_SIGNAL_NO_COUNT	/* Kbuild: Linux 6.8 and later */
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * A guest write of @len bytes at @addr (a port if @pio), the data little
 * endian at @data: true if it signalled a registration, and the write is
 * done.  Any context; the vCPU's thread.
 */
bool minihv_ioeventfd_write(struct minihv_vm *vm, bool pio, u64 addr, u32 len,
			    const void *data)
{
	struct minihv_ioeventfd_entry *e;
	bool found = false;
	u64 val = 0;

	if (list_empty(&vm->ioeventfds) || len > sizeof(val))
		return false;
	memcpy(&val, data, len);
	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->ioeventfds, list) {
		if (e->pio != pio || e->addr != addr || e->len != len ||
		    (e->match && e->datamatch != val))
			continue;
		minihv_eventfd_signal(e->ctx);
		found = true;
		break;
	}
	rcu_read_unlock();
	return found;
}

/* The VM is going: no vCPU is left to read the list. */
void minihv_ioeventfd_free(struct minihv_vm *vm)
{
	struct minihv_ioeventfd_entry *e, *tmp;

	list_for_each_entry_safe(e, tmp, &vm->ioeventfds, list) {
		list_del(&e->list);
		eventfd_ctx_put(e->ctx);
		kfree(e);
	}
	vm->nr_ioeventfds = 0;
}
