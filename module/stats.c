// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's statistics as a file in KVM's binary stats format
 * (KVM_GET_STATS_FD; Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD"),
 * so that what reads KVM's per-vCPU stats reads minihv's: a header, an id
 * string, one descriptor per statistic, then the values.  Names are KVM's
 * where the meaning is.  The file holds a reference to the vCPU's file;
 * values are read at each read(), racing with the running vCPU as KVM's.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "minihv.h"

/* The statistics, in file order; MINIHV_STAT_NR for the total of exits. */
static const struct {
	const char *name;
	int stat;
} minihv_stats[] = {
	{ "exits",		MINIHV_STAT_NR },
	{ "io_exits",		MINIHV_STAT_IO },
	{ "mmio_exits",		MINIHV_STAT_MMIO },
	{ "halt_exits",		MINIHV_STAT_HLT },
	{ "cpuid_exits",	MINIHV_STAT_CPUID },
	{ "msr_exits",		MINIHV_STAT_MSR },
	{ "page_fault_exits",	MINIHV_STAT_PAGE_FAULT },
	{ "irq_exits",		MINIHV_STAT_HOST_EVENT },
	{ "cr_access_exits",	MINIHV_STAT_CR_ACCESS },
	{ "refused_exits",	MINIHV_STAT_REFUSED },
	{ "shutdown_exits",	MINIHV_STAT_SHUTDOWN },
	{ "fail_entry_exits",	MINIHV_STAT_FAIL_ENTRY },
	{ "other_exits",	MINIHV_STAT_OTHER },
	{ "irq_window_exits",	MINIHV_STAT_WINDOW },	/* NMI windows too */
	{ "hypercalls",		MINIHV_STAT_HYPERCALL },
	{ "irqchip_exits",	MINIHV_STAT_IRQCHIP },
	{ "exception_exits",	MINIHV_STAT_EXCEPTION },
	{ "ioeventfd_exits",	MINIHV_STAT_IOEVENTFD },
};

#define STATS_ID_SIZE	MINIHV_STATS_NAME_SIZE
#define STATS_DESC_SIZE	(sizeof(struct minihv_stats_desc) + MINIHV_STATS_NAME_SIZE)
#define STATS_ID_OFF	sizeof(struct minihv_stats_header)
#define STATS_DESC_OFF	(STATS_ID_OFF + STATS_ID_SIZE)
#define STATS_DATA_OFF	(STATS_DESC_OFF + ARRAY_SIZE(minihv_stats) * STATS_DESC_SIZE)
#define STATS_SIZE	(STATS_DATA_OFF + ARRAY_SIZE(minihv_stats) * sizeof(u64))

static ssize_t minihv_stats_read(struct file *file, char __user *buf, size_t len,
				 loff_t *pos)
{
	struct file *vcpu_file = file->private_data;
	struct minihv_vcpu *vcpu = vcpu_file->private_data;
	struct minihv_stats_header *h;
	struct minihv_stats_desc *d;
	u64 *data;
	ssize_t r;
	size_t i;
	u8 *blob;

	blob = kzalloc(STATS_SIZE, MINIHV_GFP);
	if (!blob)
		return -ENOMEM;
	h = (void *)blob;
	*h = (struct minihv_stats_header){
		.name_size = MINIHV_STATS_NAME_SIZE,
		.num_desc = ARRAY_SIZE(minihv_stats),
		.id_offset = STATS_ID_OFF,
		.desc_offset = STATS_DESC_OFF,
		.data_offset = STATS_DATA_OFF,
	};
	snprintf(blob + STATS_ID_OFF, STATS_ID_SIZE, "minihv-%d/vcpu-%u",
		 task_tgid_nr(current), vcpu->id);
	data = (u64 *)(blob + STATS_DATA_OFF);
	for (i = 0; i < ARRAY_SIZE(minihv_stats); i++) {
		int stat = minihv_stats[i].stat;

		d = (void *)(blob + STATS_DESC_OFF + i * STATS_DESC_SIZE);
		d->size = 1;
		d->offset = i * sizeof(u64);
		strscpy(d->name, minihv_stats[i].name, MINIHV_STATS_NAME_SIZE);
		data[i] = stat == MINIHV_STAT_NR ? READ_ONCE(vcpu->exits) :
						   READ_ONCE(vcpu->exit_stats[stat]);
	}
	r = simple_read_from_buffer(buf, len, pos, blob, STATS_SIZE);
	kfree(blob);
	return r;
}

static int minihv_stats_release(struct inode *inode, struct file *file)
{
	fput(file->private_data);	/* the vCPU's file */
	return 0;
}

static const struct file_operations minihv_stats_fops = {
	.owner = THIS_MODULE,
	.read = minihv_stats_read,
	.release = minihv_stats_release,
	.llseek = noop_llseek,
};

/* MINIHV_GET_STATS_FD on @vcpu_file: a new read-only fd, or -errno. */
int minihv_vcpu_stats_fd(struct file *vcpu_file)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	get_file(vcpu_file);
	file = anon_inode_getfile("minihv-vcpu-stats", &minihv_stats_fops, vcpu_file,
				  O_RDONLY);
	if (IS_ERR(file)) {
		fput(vcpu_file);
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	/* Readers use pread() at the header's offsets, as KVM's do. */
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;
}
