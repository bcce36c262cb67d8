#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench rows 15-18: disk and network.  Like workloads.sh it runs
# natively in the test machine and inside the Linux guest (busybox sh,
# awk), and prints one line per figure,
#   WORK <metric> <value>
# or "WORK-FAILED <metric>" when a tool is missing, fails or prints what
# this script does not parse (never a 0 in its place).
#
#   io-workloads.sh disk DEVICE   fio on a block device: the guest's
#                                 /dev/vda, or natively a loop device on
#                                 the image file the guest's disk is on
#   io-workloads.sh net ADDRESS   from the guest to the machine at ADDRESS,
#                                 where iperf3 -s and tcp-rr -s listen
#
# The tools are Debian's fio and iperf3 (bench.sh installs them,
# make_initramfs copies them in) and our tcp-rr (userspace/tcp-rr.c).

export PATH=/usr/bin:/bin:$PATH
# iperf3 keeps each stream's buffer in a file it makes there.
export TMPDIR=/tmp

# Seconds each fio job measures, after a second of warm-up that it does
# not count; each iperf3 and tcp-rr run's length (IO_RUNTIME and
# IO_NET_TIME: other lengths, for a try by hand).
RUNTIME=${IO_RUNTIME:-3}
NET_TIME=${IO_NET_TIME:-5}

work() {
	if [ -n "$2" ]; then echo "WORK $1 $2"; else echo "WORK-FAILED $1"; fi
}

# fio_job DEVICE RW BS IODEPTH: one fio job; its terse (version 3) line
# in /tmp/fio.out, empty when the job failed.  O_DIRECT, so the page
# cache on either side of the device is out of the path; libaio, so an
# iodepth above 1 really has that many requests in flight.  A time-based
# job loops over the device, whatever its size.
#
# A device that loses a request leaves fio waiting for it for ever, in a
# state no signal ends: the job runs in the background, and one not done
# a minute after its time (1 s steps: a bound, not a synchronisation)
# sets STUCK, and the disk rows after it fail at once.
STUCK=
fio_job() {
	local pid i=0
	: >/tmp/fio.out
	[ -z "$STUCK" ] || return 0
	fio --name=bench --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" \
		--ioengine=libaio --direct=1 --time_based --runtime="$RUNTIME" --ramp_time=1 \
		--norandommap --randrepeat=0 --output-format=terse --terse-version=3 \
		>/tmp/fio.out 2>/dev/null &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $((RUNTIME + 60)) ]; then
			echo "io-workloads: fio $2 $3 iodepth $4 on $1 not done after $i s"
			STUCK=1
			return 0
		fi
		sleep 1
	done
}

# terse FIELD: that field of /tmp/fio.out's terse line from a job
# without error (field 5), or nothing; nothing for a 0 too (fio reports
# an empty device's jobs as done at 0 IOPS).  In version 3, reads are
# fields 6-46 and writes 47-87: KiB/s at 7 and 48, IOPS at 8 and 49,
# mean total latency (us: submission and completion) at 40 and 81.
terse() {
	awk -F';' -v f="$1" '$1 == 3 && $5 == 0 && NF >= 87 && $f ~ /^[0-9.]+$/ && $f > 0 { print $f }' \
		/tmp/fio.out
}

disk() {
	local dev=$1 rw dir bs f
	if [ ! -b "$dev" ] || ! command -v fio >/dev/null; then
		echo "io-workloads: no block device $dev or no fio"
		STUCK=1
	fi
	# 4 KiB random at queue depth 1: IOPS and the mean latency of one
	# request (lower is better).
	for rw in randread randwrite; do
		fio_job "$dev" $rw 4k 1
		case $rw in randread) f=8;; *) f=49;; esac
		work "disk_${rw}_qd1_iops" "$(terse $f)"
		work "disk_${rw}_qd1_lat_us" "$(terse $((f + 32)))"
	done
	# Sequential, from 4 KiB to 16 MiB blocks, one at a time: MiB/s.
	for dir in read write; do
		case $dir in read) f=7;; *) f=48;; esac
		for bs in 4k 64k 1m 4m 16m; do
			fio_job "$dev" $dir $bs 1
			work "disk_${dir}_${bs}_mibs" "$(terse $f | awk '{ printf "%.1f", $1 / 1024 }')"
		done
	done
	# 4 KiB random, 32 in flight: IOPS.  Last: the likeliest to find a
	# device that loses a request.
	for rw in randread randwrite; do
		fio_job "$dev" $rw 4k 32
		case $rw in randread) f=8;; *) f=49;; esac
		work "disk_${rw}_qd32_iops" "$(terse $f)"
	done
}

# iperf3's receiver line: its Mbits/sec ("-f m").
iperf_mbits() {
	awk '$NF == "receiver" { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }'
}

net() {
	local addr=$1 limit=$((NET_TIME + 30))
	# TCP bulk, one stream, guest to machine, and (-R) the machine
	# sending to the guest.  Each run bounded: a network that does not
	# answer costs its figure, not the rest.
	work net_tx_mbits "$(timeout $limit iperf3 -c "$addr" -t "$NET_TIME" -f m 2>&1 | iperf_mbits)"
	work net_rx_mbits "$(timeout $limit iperf3 -c "$addr" -t "$NET_TIME" -f m -R 2>&1 | iperf_mbits)"
	# Round trips: 1-byte request, 1-byte answer.
	work net_rr_tps "$(timeout $limit tcp-rr -c "$addr" -t "$NET_TIME" 2>&1 |
		awk '$1 == "tcp-rr:" && $NF == "second" { print $(NF - 2) }')"
}

mkdir -p /tmp
case "$1" in
disk) disk "$2";;
net) net "$2";;
*) echo "usage: io-workloads.sh disk DEVICE | net ADDRESS" >&2; exit 2;;
esac
