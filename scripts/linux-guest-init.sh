#!/bin/sh
# /init of the initramfs minihv-run gives a Linux guest in the test
# machines (make_initramfs puts it at /guests/linux-initrd.gz): busybox,
# this script, nothing else.
#
# Kernel command line:
#   minihv_bench   power off right after the first line (make bench's boot time)
#   minihv_workload  run make bench's workloads (workloads.sh, in the bench
#                  initramfs only), then power off
#   minihv_check   print what the boot test checks, then power off:
#                  "minihv-guest: nproc N", the timer and serial interrupt
#                  counts twice a little apart, and "minihv-guest: done"
#   minihv_virtio  with minihv_check: load the virtio modules, read 64
#                  bytes of /dev/hwrng, mount the read-write virtio disk
#                  (ext4), print hello.txt's SHA-256, write guest.txt,
#                  try to write the read-only disk; "minihv-guest: ..." lines
#   (otherwise)    a shell on the console; `poweroff` or `reboot` ends it
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

echo "minihv-guest: init started"
# make bench times the boot to this line: off at once.
case " $(cat /proc/cmdline) " in
*" minihv_bench "*) poweroff -f;;
esac

# The local APIC timer's line ("LOC") and COM1's (IRQ 4), summed over CPUs.
irq_count() {
	awk -v name="$1" '$1 == name ":" { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}

# linux_boot_test's device checks (minihv_virtio): one line each.
virtio_checks() {
	local m d rw="" ro=""
	for m in $(cat /lib/modules/order); do
		insmod "/lib/modules/$m.ko" || echo "minihv-guest: insmod $m failed"
	done
	echo "minihv-guest: hwrng $(head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \n')"
	for d in /sys/block/vd*; do
		[ -e "$d/ro" ] || continue
		if [ "$(cat "$d/ro")" = 1 ]; then ro=${d##*/}; else rw=${d##*/}; fi
	done
	echo "minihv-guest: disks rw=$rw ro=$ro"
	if mount -t ext4 "/dev/$rw" /mnt; then
		echo "minihv-guest: hello $(sha256sum /mnt/hello.txt | cut -d' ' -f1)"
		echo "written by the guest" >/mnt/guest.txt
		umount /mnt && echo "minihv-guest: unmounted"
	fi
	if dd if=/dev/zero of="/dev/$ro" bs=512 count=1 2>/dev/null; then
		echo "minihv-guest: ro written"
	else
		echo "minihv-guest: ro refused"
	fi
	echo "minihv-guest: ro head $(head -c 16 "/dev/$ro" | od -An -tx1 | tr -d ' \n')"
}

case " $(cat /proc/cmdline) " in
*" minihv_workload "*)
	mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
	sh /bin/workloads.sh
	poweroff -f
	;;
*" minihv_check "*)
	case " $(cat /proc/cmdline) " in
	*" minihv_virtio "*) virtio_checks;;
	esac
	echo "minihv-guest: nproc $(nproc)"
	echo "minihv-guest: irq LOC $(irq_count LOC) serial $(irq_count 4)"
	# Work that takes timer ticks and console interrupts to finish.
	i=0
	while [ $i -lt 20 ]; do
		echo "minihv-guest: tick $i"
		i=$((i + 1))
	done
	sleep 1
	echo "minihv-guest: irq LOC $(irq_count LOC) serial $(irq_count 4)"
	echo "minihv-guest: done"
	poweroff -f
	;;
esac

echo "minihv-guest: type commands; poweroff or reboot ends the guest"
setsid cttyhack sh
poweroff -f
