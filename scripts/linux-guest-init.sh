#!/bin/sh
# /init of the initramfs minihv-run gives a Linux guest in the test
# machines (make_initramfs puts it at /guests/linux-initrd.gz): busybox,
# this script, nothing else.
#
# Kernel command line:
#   minihv_bench   power off right after the first line (make bench's boot time)
#   minihv_workload  run make bench's workloads (workloads.sh, in the bench
#                  initramfs only), then power off
#   minihv_io      run make bench's disk and network rows (io-workloads.sh,
#                  in the I/O initramfs only) on /dev/vda and the TAP
#                  network, then power off
#   minihv_check   print what the boot test checks, then power off:
#                  "minihv-guest: nproc N", the timer and serial interrupt
#                  counts twice a little apart, and "minihv-guest: done"
#   minihv_virtio  with minihv_check: load the virtio modules, read 64
#                  bytes of /dev/hwrng, mount the read-write virtio disk
#                  (ext4), print hello.txt's SHA-256, write guest.txt,
#                  try to write the read-only disk; "minihv-guest: ..." lines;
#                  with minihv_net too: fetch a file over the TAP network
#                  (10.0.3.1:8000) and over the user network (DHCP, then
#                  10.0.2.2:8000), look up minihv.test through the user
#                  network's DNS, serve a file on TCP port 8080 and echo
#                  datagrams on UDP port 8082 for the host's hostfwd, and
#                  print the SHA-256s and the address (linux_boot_test)
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

# The virtio drivers and ext4 (lib/modules/order: dependencies first).
load_modules() {
	local m
	for m in $(cat /lib/modules/order); do
		insmod "/lib/modules/$m.ko" || echo "minihv-guest: insmod $m failed"
	done
}

# linux_boot_test's device checks (minihv_virtio): one line each.
virtio_checks() {
	local d rw="" ro=""
	load_modules
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

# The interface with MAC address $1.
iface() {
	local i
	for i in /sys/class/net/*; do
		[ "$(cat "$i/address")" = "$1" ] && echo "${i##*/}"
	done
}

# linux_boot_test's network checks (minihv_net): --net tap= with the
# default MAC ...:01 and --net user,hostfwd=tcp::8081-:8080 with ...:02.
net_checks() {
	local tap user i
	tap=$(iface 02:4d:48:56:00:01)
	user=$(iface 02:4d:48:56:00:02)
	echo "minihv-guest: nics tap=$tap user=$user"
	ip addr add 10.0.3.2/24 dev "$tap" && ip link set "$tap" up
	echo "minihv-guest: tap $(nc 10.0.3.1 8000 </dev/null | sha256sum | cut -d' ' -f1)"
	# udhcpc's script: takes the lease and notes it for the test.
	printf '#!/bin/sh\n[ "$1" = bound ] || exit 0\nip addr add $ip/$mask dev $interface\necho "$ip router $router dns $dns" >/lease\n' >/dhcp.sh
	chmod 755 /dhcp.sh
	ip link set "$user" up
	udhcpc -i "$user" -n -q -f -s /dhcp.sh >/dev/null 2>&1
	echo "minihv-guest: dhcp $(cat /lease)"
	echo "minihv-guest: user $(nc 10.0.2.2 8000 </dev/null | sha256sum | cut -d' ' -f1)"
	# A name through libslirp's DNS (10.0.2.3), which asks the machine's
	# resolver: linux_boot_test answers minihv.test there.
	echo "minihv-guest: dns $(nslookup minihv.test 10.0.2.3 2>/dev/null |
		awk '$1 == "Address:" && $2 !~ /:53$/ { a = $2 } END { print a }')"
	# A file for the host to fetch through hostfwd, and a UDP echo for
	# hostfwd=udp: listen, then tell the host's server (port 8001), which
	# fetches the file and sends its datagram before it answers.
	head -c 100000 /dev/urandom >/served
	echo "minihv-guest: served $(sha256sum /served | cut -d' ' -f1)"
	nc -l -p 8080 </served >/dev/null &
	tcp=$!
	udp_echo 8082 &
	udp=$!
	i=0
	while [ $i -lt 200 ] && ! { netstat -ltn | grep -q ':8080 ' && netstat -lun | grep -q ':8082 '; }; do
		i=$((i + 1))
	done
	nc 10.0.2.2 8001 </dev/null >/dev/null
	kill $tcp $udp 2>/dev/null
	echo "minihv-guest: net done"
}

case " $(cat /proc/cmdline) " in
*" minihv_io "*)
	# make bench's disk and network rows: the one disk (/dev/vda), the
	# one NIC on the machine's TAP device (10.0.3.1).
	mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
	load_modules
	tap=$(iface 02:4d:48:56:00:01)
	ip addr add 10.0.3.2/24 dev "$tap" && ip link set "$tap" up
	# The network first: a disk request lost would end the disk rows.
	sh /bin/io-workloads.sh net 10.0.3.1
	sh /bin/io-workloads.sh disk /dev/vda
	poweroff -f
	;;
*" minihv_workload "*)
	mkdir -p /tmp && mount -t tmpfs tmpfs /tmp
	sh /bin/workloads.sh
	poweroff -f
	;;
*" minihv_check "*)
	case " $(cat /proc/cmdline) " in
	*" minihv_virtio "*) virtio_checks;;
	esac
	case " $(cat /proc/cmdline) " in
	*" minihv_net "*) net_checks;;
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
