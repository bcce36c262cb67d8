/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * minihv userspace ABI.
 *
 * The shape is KVM's (Documentation/virt/kvm/api.rst): system ioctls on
 * /dev/minihv, VM ioctls on a VM fd, vCPU ioctls on a vCPU fd, and a run
 * structure that userspace mmap()s from the vCPU fd.  Only what the module
 * implements is declared here; Documentation/api.rst describes each ioctl.
 *
 * Rules for this file: fixed-width types only, explicit padding, every
 * field marked in or out, and an ioctl number is never reused once it has
 * been published.
 */
#ifndef _UAPI_LINUX_MINIHV_H
#define _UAPI_LINUX_MINIHV_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * MINIHV_GET_API_VERSION returns this.  It changes only when an existing
 * ioctl changes incompatibly; new ioctls are discovered with
 * MINIHV_CHECK_EXTENSION instead.
 */
#define MINIHV_API_VERSION	1

/*
 * Ioctl type 0xAF, numbers from 0x20: 0xAF 0x00-0x1F belongs to
 * linux/fsl_hypervisor.h (Documentation/userspace-api/ioctl/ioctl-number.rst).
 */
#define MINIHVIO		0xAF

/* System ioctls, on the /dev/minihv fd. */

/* Takes 0, returns MINIHV_API_VERSION. */
#define MINIHV_GET_API_VERSION	_IO(MINIHVIO, 0x20)
/* Takes a MINIHV_CAP_* number, returns 0 if unsupported, > 0 if supported. */
#define MINIHV_CHECK_EXTENSION	_IO(MINIHVIO, 0x21)

/*
 * Capabilities for MINIHV_CHECK_EXTENSION.  Every number not listed here
 * (and every number listed here that the running module does not know)
 * reports 0.
 */

/* Returns the hardware backend: MINIHV_VENDOR_VMX or MINIHV_VENDOR_SVM. */
#define MINIHV_CAP_VENDOR	1

#define MINIHV_VENDOR_VMX	1	/* Intel VT-x */
#define MINIHV_VENDOR_SVM	2	/* AMD-V */

#endif /* _UAPI_LINUX_MINIHV_H */
