#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the minihv test machines (busybox-static only).
#
# The kernel command line says what to do:
#   minihv_mode=check   load minihv.ko, run every selftest, print TAP 13
#   minihv_mode=run     load minihv.ko, run minihv-run on minihv_guest=NAME
#   minihv_mode=probe   print which virtualization extension the CPU has
#   minihv_machine=NAME a label printed in the banner
#   minihv_expect=svm|vmx  the backend this machine must get (selftests)
#
# Everything goes to the serial console.  The host reads it and stops the
# machine when it sees the end line ("MINIHV-END ..."); that line is
# written only after the console has drained, so nothing before it is lost.

export PATH=/bin:/sbin
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Pseudo-terminals: runner_tty_test drives minihv-run on one.
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
# This machine's resolver, which libslirp asks for a guest's names:
# linux_boot_test answers there.
mkdir -p /etc && echo "nameserver 127.0.0.1" >/etc/resolv.conf
# The initramfs holds no device nodes, so the kernel could not give init a
# console; take it now that devtmpfs is there.
exec 0</dev/console 1>/dev/console 2>&1

arg() {
	for word in $(cat /proc/cmdline); do
		case "$word" in
		"$1"=*) echo "${word#*=}"; return;;
		esac
	done
}

# Wait until everything written to the console has left the UART
# (busybox stty applies settings with tcsetattr(TCSADRAIN)), then print
# the end line, drain again and power off.
finish() {
	stty -F /dev/console -echo 2>/dev/null
	echo "MINIHV-END $1"
	stty -F /dev/console -echo 2>/dev/null
	poweroff -f
}

MODE=$(arg minihv_mode)
echo "minihv-init: machine ${MACHINE:-$(arg minihv_machine)}, kernel $(uname -r), mode $MODE"

export MINIHV_KO=/lib/minihv/minihv.ko
export KVM_MODDIR=/lib/minihv/kvm

# Where the kernel has kmemleak (make check-debug): a scan once the tests
# are done, and each unreferenced object allocated from minihv.ko printed
# (make check fails on "unreferenced object").  The rest of the kernel's
# reports (boot-time false positives) are counted only.
kmemleak_report() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan >/sys/kernel/debug/kmemleak
	awk '/^unreferenced object/ { flush(); block = $0; next }
		{ block = block "\n" $0 }
		function flush() { if (block ~ /\[minihv\]|minihv_/) { print block; mine++ } else if (block != "") other++; block = "" }
		END { flush(); printf "minihv-init: kmemleak: %d objects from minihv, %d others\n", mine, other }' \
		/sys/kernel/debug/kmemleak
}

run_check() {
	tests=$(ls /selftests/ | grep '_test$' | grep -v '^novirt_test$')
	[ -n "$(arg minihv_tests)" ] && tests=$(arg minihv_tests | tr , ' ')
	if [ "$(arg minihv_expect)" = none ]; then
		# No VT-x or AMD-V here: what is tested is that loading fails.
		echo "TAP version 13"
		echo "1..1"
		echo "# selftests: minihv: novirt_test"
		( cd /selftests && ./novirt_test 2>&1; echo $? > /tmp/rc ) | sed 's/^/# /'
		case "$(cat /tmp/rc)" in
		0) echo "ok 1 selftests: minihv: novirt_test"; finish "check failed=0";;
		*) echo "not ok 1 selftests: minihv: novirt_test"; finish "check failed=1";;
		esac
	fi
	# The fuzzers' lengths and seed (make check-debug's, or FUZZ_CALLS,
	# RANDOM_GUESTS, KVM_GUESTS and FUZZ_SEED given to make check),
	# and debugfs for the fault injection and kmemleak.
	if [ -n "$(arg minihv_fuzz_calls)" ]; then
		export MINIHV_FUZZ_CALLS="$(arg minihv_fuzz_calls)"
	fi
	if [ -n "$(arg minihv_random_guests)" ]; then
		export MINIHV_RANDOM_GUESTS="$(arg minihv_random_guests)"
	fi
	if [ -n "$(arg minihv_kvm_guests)" ]; then
		export MINIHV_KVM_GUESTS="$(arg minihv_kvm_guests)"
	fi
	if [ -n "$(arg minihv_fuzz_seed)" ]; then
		export MINIHV_FUZZ_SEED="$(arg minihv_fuzz_seed)"
	fi
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -f /lib/minihv/msr.ko ] && insmod /lib/minihv/msr.ko 2>/dev/null
	n=$(( $(echo "$tests" | wc -w) + 1 ))
	failed=0
	echo "TAP version 13"
	echo "1..$n"
	if insmod "$MINIHV_KO" 2>/tmp/insmod.err; then
		echo "ok 1 selftests: minihv: insmod minihv.ko"
	else
		echo "# $(cat /tmp/insmod.err)"
		echo "not ok 1 selftests: minihv: insmod minihv.ko"
		failed=1
	fi
	i=1
	for t in $tests; do
		i=$((i + 1))
		echo "# selftests: minihv: $t"
		start=$(cut -d' ' -f1 /proc/uptime)
		( cd /selftests && ./"$t" 2>&1; echo $? > /tmp/rc ) | sed 's/^/# /'
		rc=$(cat /tmp/rc)
		# How long it took (the machine's clock): which tests make
		# make check long;
		# and the memory left after it (a leak shows as a fall).
		echo "# $t: $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime) s," \
			"MemAvailable $(awk '/^MemAvailable/ { print $2 }' /proc/meminfo) kB"
		case "$rc" in
		0) echo "ok $i selftests: minihv: $t";;
		4) echo "ok $i selftests: minihv: $t # SKIP";;
		*) echo "not ok $i selftests: minihv: $t # exit=$rc"; failed=1;;
		esac
	done
	kmemleak_report
	finish "check failed=$failed"
}

run_guest() {
	guest=$(arg minihv_guest)
	# minihv_kvm=1: the same run on KVM (minihv_args then holds
	# --device,/dev/kvm), for comparing a guest by hand.
	if [ -n "$(arg minihv_kvm)" ]; then
		kvm_insmod || finish "run status=insmod"
	elif ! insmod "$MINIHV_KO"; then
		finish "run status=insmod"
	fi
	args=$(arg minihv_args | tr ',' ' ')
	# minihv_append: the guest kernel's command line, words joined by '+'.
	append=$(arg minihv_append | tr '+' ' ')
	# shellcheck disable=SC2086
	/bin/minihv-run $args ${append:+--append "$append"} "/guests/${guest:-hello.bin}"
	finish "run status=$?"
}

# KVM's modules, as kvm_coexist_test loads them; 0 or insmod's failure.
kvm_insmod() {
	local d=$KVM_MODDIR m
	for m in irqbypass ccp kvm; do
		[ -f "$d/$m.ko" ] && [ ! -d "/sys/module/$m" ] || continue
		insmod "$d/$m.ko" 2>/dev/null || [ "$m" = ccp ] || return 1
	done
	if grep -qw vmx /proc/cpuinfo; then insmod "$d/kvm-intel.ko"; else insmod "$d/kvm-amd.ko"; fi
}

kvm_rmmod() {
	rmmod kvm_intel 2>/dev/null; rmmod kvm_amd 2>/dev/null; rmmod kvm
}

# One minihv-bench run, bounded: a hypervisor that hangs loses its round's
# remaining metrics, not the whole benchmark.
bench_one() {
	timeout 300 /bin/minihv-bench "$1" "$2" ||
		echo "minihv-init: minihv-bench on $2 ended with status $?"
}

# A Linux guest's boot, where the machine has one (the QEMU machines):
# from minihv-run's start to its exit after /init's first line powered
# the guest off, with one vCPU, from /proc/uptime (10 ms steps).
bench_linux() {
	local t0 t1 st
	[ -f /guests/vmlinuz ] || return 0
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 300 /bin/minihv-run -d "$1" -M 256M -t 200 --initrd /guests/linux-initrd.gz \
		--append "console=ttyS0 quiet minihv_bench" /guests/vmlinuz >/tmp/linux.out 2>&1
	st=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	if [ "$st" = 0 ] && grep -q "minihv-guest: init started" /tmp/linux.out; then
		echo "BENCH $2 linux_boot_s $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
	else
		echo "minihv-init: Linux boot on $2 ended with status $st"
	fi
}

# bench_lines FILE NAME: BENCH lines for NAME (a hypervisor, or native)
# from the WORK lines of workloads.sh or io-workloads.sh in FILE; a
# figure that could not be had is said, never printed as a value.
bench_lines() {
	tr -d '\r' <"$1" | awk -v hv="$2" '$1 == "WORK" { print "BENCH", hv, $2, $3 }
		$1 == "WORK-FAILED" { print "minihv-init: workload " $2 " failed on " hv }
		$1 == "io-workloads:" { print "minihv-init: on " hv ", " $0 }'
}

# Rows 10-13: workloads.sh in a 1-vCPU Linux guest ($1 the device, $2 the
# name), or natively in this machine (no device): BENCH lines from its
# WORK lines.  Only where make_initramfs put the bench initramfs.
bench_workloads() {
	[ -f /guests/linux-bench-initrd.gz ] && [ -f /bin/workloads.sh ] || return 0
	if [ -z "$1" ]; then
		sh /bin/workloads.sh >/tmp/work.out 2>&1
	else
		timeout 900 /bin/minihv-run -d "$1" -M 512M -t 800 --initrd /guests/linux-bench-initrd.gz \
			--append "console=ttyS0 quiet minihv_workload" /guests/vmlinuz >/tmp/work.out 2>&1 ||
			echo "minihv-init: the workloads on $2 ended with status $?"
	fi
	bench_lines /tmp/work.out "$2"
}

# Rows 15-18, disk and network, where make_initramfs put their tools and
# the guest's initramfs for them (/guests/linux-io-initrd.gz).  Set up
# once per boot: the guest's disk, an image on a tmpfs (so what is
# measured is the device path, never a disk), every page of it written
# (a read then copies data, not the zero page of a hole); the loop
# driver for the native side; a persistent TAP device at 10.0.3.1
# (iproute2's ip: busybox's has no tuntap) with iperf3's and tcp-rr's
# servers on it.  0 when ready; run_bench then sets IO.
IO_IMG=/bench-io/disk.img
IO_TAP=mhvtap0
IO=
io_setup() {
	local i=0
	mkdir -p /bench-io && mount -t tmpfs -o size=80m tmpfs /bench-io || return 1
	dd if=/dev/zero of=$IO_IMG bs=1M count=64 2>/dev/null || return 1
	for m in loop tun; do
		[ -d /sys/module/$m ] || insmod /lib/minihv/$m.ko || return 1
	done
	/usr/bin/ip tuntap add dev $IO_TAP mode tap && ip addr add 10.0.3.1/24 dev $IO_TAP &&
		ip link set $IO_TAP up || return 1
	/usr/bin/iperf3 -s -B 10.0.3.1 >/dev/null 2>&1 &
	/bin/tcp-rr -s >/dev/null 2>&1 &
	# Both listening before any guest connects; bounded, not timed.
	while [ $i -lt 2000 ] && [ "$(netstat -ltn | grep -cE ':520[12] ')" != 2 ]; do
		i=$((i + 1))
	done
	[ $i -lt 2000 ]
}

# The disk rows natively: the same fio jobs on a loop device on the same
# image file, so the native path also ends in tmpfs reads and writes.
bench_io_native() {
	local dev
	[ -n "$IO" ] || return 0
	dev=$(losetup -f) && losetup "$dev" $IO_IMG || { echo "minihv-init: no loop device"; return 0; }
	sh /bin/io-workloads.sh disk "$dev" >/tmp/io.out 2>&1
	losetup -d "$dev"
	bench_lines /tmp/io.out native
}

# The disk and network rows in a 1-vCPU Linux guest on hypervisor device
# $1 (name $2), the image as its virtio-blk disk and the TAP device as its
# virtio-net device.
bench_io() {
	local t0 st
	[ -n "$IO" ] || return 0
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 700 /bin/minihv-run -d "$1" -M 384M -t 600 --initrd /guests/linux-io-initrd.gz \
		--disk $IO_IMG --net tap=$IO_TAP --append "console=ttyS0 quiet minihv_io" \
		/guests/vmlinuz >/tmp/io.out 2>&1
	st=$?
	echo "minihv-init: the I/O guest on $2: status $st after" \
		"$(awk -v s="$t0" '{ printf "%.0f", $1 - s }' /proc/uptime) s"
	# Where it stopped, when it did not finish.
	[ "$st" = 0 ] || tail -n 30 /tmp/io.out | tr -d '\r' | sed 's/^/minihv-init: guest: /'
	bench_lines /tmp/io.out "$2"
}

# make check-packages: the module DKMS built, /dev/minihv given the udev
# rule's group and mode (minihv_rule, its fields joined by '+'; there is
# no udev here), and a guest run by a user in that group; one outside it
# is refused.
run_packages() {
	rule=$(arg minihv_rule | tr '+' ' ')
	group=$(echo "$rule" | tr ' ' '\n' | sed -n 's/^GROUP=//p')
	mode=$(echo "$rule" | tr ' ' '\n' | sed -n 's/^MODE=//p')
	insmod "$MINIHV_KO" || finish "packages failed=insmod"
	# busybox-static has su but no adduser: the two users by hand.
	mkdir -p /etc
	printf 'root:x:0:0:root:/:/bin/sh\nuser:x:1000:1000::/:/bin/sh\nother:x:1001:1001::/:/bin/sh\n' >/etc/passwd
	printf 'root:x:0:\nuser:x:1000:\nother:x:1001:\n%s:x:999:user\n' "$group" >/etc/group
	chgrp "$group" /dev/minihv && chmod "$mode" /dev/minihv
	ls -l /dev/minihv
	out=$(su user -c "/bin/minihv-run /guests/hello.bin" 2>&1)
	echo "$out"
	echo "$out" | grep -q "Hello from a minihv guest!" || finish "packages failed=user"
	out=$(su other -c "/bin/minihv-run /guests/hello.bin" 2>&1)
	echo "$out"
	echo "$out" | grep -q "Permission denied" || finish "packages failed=other"
	finish "packages ok"
}

# make bench: rounds of KVM and minihv (never loaded together), each
# printing "BENCH <hypervisor> <metric> <value>" lines for the host.
run_bench() {
	rounds=$(arg minihv_rounds)
	if [ -f /guests/linux-io-initrd.gz ]; then
		io_setup && IO=1 || echo "minihv-init: the disk and network benchmark's set-up failed"
	fi
	for r in $(seq "${rounds:-5}"); do
		echo "minihv-init: bench round $r"
		bench_workloads "" native
		bench_io_native
		kvm_insmod || finish "bench failed=insmod kvm"
		bench_one /dev/kvm kvm
		bench_linux /dev/kvm kvm
		bench_workloads /dev/kvm kvm
		bench_io /dev/kvm kvm
		kvm_rmmod
		insmod "$MINIHV_KO" || finish "bench failed=insmod minihv"
		bench_one /dev/minihv minihv
		bench_linux /dev/minihv minihv
		bench_workloads /dev/minihv minihv
		bench_io /dev/minihv minihv
		rmmod minihv
	done
	finish "bench done"
}

case "$MODE" in
check) run_check;;
run) run_guest;;
bench) run_bench;;
packages) run_packages;;
probe)
	if grep -qw vmx /proc/cpuinfo; then finish "probe vmx"
	elif grep -qw svm /proc/cpuinfo; then finish "probe svm"
	else finish "probe none"; fi;;
*) echo "minihv-init: unknown minihv_mode '$MODE'"; exec sh;;
esac
