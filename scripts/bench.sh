#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: minihv against KVM on the same guests in the same boot.  Each
# machine runs ROUNDS rounds; a round loads minihv, runs minihv-bench on
# /dev/minihv, unloads it, loads KVM, runs minihv-bench on /dev/kvm and
# unloads KVM.  The medians go into build/bench/MACHINE.md (a markdown
# table, also printed) and build/bench/MACHINE.png (gnuplot).  A benchmark
# reports: it fails only when a machine does not finish.
#
#   BACKEND  machines, comma or space separated (default: qemu-svm bochs-vmx)
#   ROUNDS   rounds per machine (default 5)
#   KVER     guest kernel series (default 6.1)
#   REPORT   a console kept from an earlier run: only redo the table and
#            chart from it (for BACKEND's first machine)
#   WORKLOADS which Linux-guest rows besides rows 1 to 9 and 14 (default:
#            all): 0 none, without the workloads of rows 10 to 13 and the
#            disk and network rows 15 to 18 (their tools and runs take most
#            of the time); io the disk and network rows only

set -euo pipefail
source "$(dirname "$0")/lib.sh"

BACKEND=${BACKEND:-qemu-svm bochs-vmx}
ROUNDS=${ROUNDS:-5}
KVER=${KVER:-6.1}
OUT=$BUILD/bench

# metric, what it is, the goal as "<= X" / ">= X" on minihv/KVM, in table
# order.  Kind "own": the goal is on minihv's own value.  Kind "native":
# the workloads in a Linux guest (workloads.sh), shown as guest / native
# in the same machine for each hypervisor; the goal is on minihv's own
# ratio, and it must not be below KVM's (a goal of "<=" or ">=" alone:
# only that, in that direction).
METRICS='cpuid_cycles|1. CPUID exit (TSC ticks)|<= 0.8
null_cycles|2. null exit, VMCALL/VMMCALL (ticks)|
pio_cycles|3. port I/O exit to userspace (ticks)|<= 0.8
mmio_cycles|4. MMIO exit to userspace (ticks)|<= 0.8
first_exit_p50_us|5. open to first exit, p50 (us)|<= 0.5
first_exit_p99_us|5. open to first exit, p99 (us)|
churn_per_s|6. create-run-destroy per second|>= 2
kmem_per_vm_kib|7. kernel memory per VM (KiB)|<= 0.5
compute_ratio|8. guest compute / native|>= 0.98|own
linux_boot_s|9. Linux boot to /init, 1 vCPU (s)|<= 0.8
sevenzip_mips|10. 7-Zip rating, guest / native|>= 0.97|native
openssl_rsa2048_sign_s|11. OpenSSL RSA-2048 sign, guest / native|>= 0.97|native
openssl_sha256_kbs|11. OpenSSL SHA-256, guest / native|>= 0.97|native
mbw_memcpy_mibs|12. mbw memcpy bandwidth, guest / native|>= 0.97|native
postmark_tps|13. postmark on tmpfs, guest / native|>= 0.97|native
memread_thp_ratio|14. random reads over 256 MiB, THP (2 MiB leaves), guest / native|>= 0.9|own
memread_4k_ratio|14. random reads over 256 MiB, 4 KiB pages, guest / native||own
disk_randread_qd1_iops|15. disk 4 KiB random read, iodepth 1 (IOPS), guest / native|>=|native
disk_randread_qd1_lat_us|15. disk 4 KiB random read, iodepth 1, mean latency (us), guest / native|<=|native
disk_randread_qd32_iops|15. disk 4 KiB random read, iodepth 32 (IOPS), guest / native|>=|native
disk_randwrite_qd1_iops|15. disk 4 KiB random write, iodepth 1 (IOPS), guest / native|>=|native
disk_randwrite_qd1_lat_us|15. disk 4 KiB random write, iodepth 1, mean latency (us), guest / native|<=|native
disk_randwrite_qd32_iops|15. disk 4 KiB random write, iodepth 32 (IOPS), guest / native|>=|native
disk_read_4k_mibs|16. disk sequential read, 4 KiB blocks (MiB/s), guest / native|>=|native
disk_read_64k_mibs|16. disk sequential read, 64 KiB blocks (MiB/s), guest / native|>=|native
disk_read_1m_mibs|16. disk sequential read, 1 MiB blocks (MiB/s), guest / native|>= 0.9|native
disk_read_4m_mibs|16. disk sequential read, 4 MiB blocks (MiB/s), guest / native|>=|native
disk_read_16m_mibs|16. disk sequential read, 16 MiB blocks (MiB/s), guest / native|>=|native
disk_write_4k_mibs|16. disk sequential write, 4 KiB blocks (MiB/s), guest / native|>=|native
disk_write_64k_mibs|16. disk sequential write, 64 KiB blocks (MiB/s), guest / native|>=|native
disk_write_1m_mibs|16. disk sequential write, 1 MiB blocks (MiB/s), guest / native|>= 0.9|native
disk_write_4m_mibs|16. disk sequential write, 4 MiB blocks (MiB/s), guest / native|>=|native
disk_write_16m_mibs|16. disk sequential write, 16 MiB blocks (MiB/s), guest / native|>=|native
net_tx_mbits|17. TCP stream, guest to machine (iperf3, Mbit/s)|>= 1
net_rx_mbits|17. TCP stream, machine to guest (iperf3, Mbit/s)|>= 1
net_rr_tps|18. TCP 1-byte request/response (tcp-rr, per second)|>= 1'

# The block sizes of row 16, in the chart's order.
SWEEP='4k 64k 1m 4m 16m'

# median HV METRIC < console: the median of that hypervisor's values.
median() {
	tr -d '\r' | awk -v hv="$1" -v m="$2" '$1 == "BENCH" && $2 == hv && $3 == m { print $4 }' |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# quotient A B FORMAT: A / B, or "-" when either is missing or B is 0.
quotient() {
	awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf f, a / b }'
}

# report MACHINE CONSOLE: the table and the chart.
report() {
	local m=$1 console=$2 md=$OUT/$1.md dat=$OUT/$1.dat
	local key what goal a k ratio met cpuid null judged
	{
		echo "## $m: minihv and KVM, medians of $ROUNDS rounds"
		echo
		echo "Emulated machine: every time here is scaled by the emulator, so only"
		echo "the ratios between minihv and KVM, taken in the same boot, mean anything."
		echo
		echo "| metric | minihv | KVM | minihv/KVM | goal | met |"
		echo "|---|---:|---:|---:|---|---|"
	} >"$md"
	: >"$dat"
	while IFS='|' read -r key what goal kind; do
		a=$(median minihv "$key" <"$console")
		k=$(median kvm "$key" <"$console")
		if [ "$kind" = native ]; then
			n=$(median native "$key" <"$console")
			a=$(quotient "$a" "$n" %.3f)
			k=$(quotient "$k" "$n" %.3f)
		fi
		ratio=$(quotient "$a" "$k" %.2f)
		judged=$ratio
		floor=-
		[ "$kind" = own ] && judged=$a
		[ "$kind" = native ] && judged=$a && floor=$k
		met=""
		if [ -n "$goal" ] && [ "$judged" != - ]; then
			met=$(awk -v v="$judged" -v g="$goal" -v f="$floor" 'BEGIN {
				split(g, p, " "); le = p[1] == "<="
				ok = p[2] == "" || (le ? v <= p[2] : v >= p[2])
				# The figure on KVM: a floor, or for "<=" a ceiling.
				if (f != "-" && (le ? v > f : v < f)) ok = 0
				print ok ? "yes" : "no" }')
		fi
		[ "$kind" = own ] && [ -n "$goal" ] && goal="minihv $goal"
		if [ "$kind" = native ]; then
			case "$goal" in
			*" "*) goal="minihv $goal, ${goal%% *} KVM";;
			*) goal="minihv $goal KVM";;
			esac
		fi
		echo "| $what | $a | $k | $ratio | $goal | $met |" >>"$md"
		# Row 16 has a chart of its own (sweep).
		case "$key" in
		disk_read_* | disk_write_*) ;;
		*) [ "$ratio" != - ] && echo "\"${what%% (*}\" $ratio" >>"$dat";;
		esac
	done <<<"$METRICS"
	cpuid=$(median minihv cpuid_cycles <"$console")
	null=$(median minihv null_cycles <"$console")
	awk -v c="$cpuid" -v n="$null" 'BEGIN {
		if (c == "-" || n == "-" || n == 0) exit
		printf "\nCPUID exit / null exit on minihv: %.2f (goal <= 1.2: %s)\n", c / n, c / n <= 1.2 ? "yes" : "no" }' >>"$md"

	gnuplot <<EOF
set terminal png size 1200,600
set output "$OUT/$m.png"
set title "$m: minihv / KVM (below 1: minihv takes less; for churn, compute and rows 15 to 18 but latency, above 1 is better)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set logscale y
set yrange [0.01:100]
set xtics rotate by -25 font ",9"
set grid ytics
plot "$dat" using 2:xtic(1) title "minihv / KVM", 1 with lines lw 2 title "KVM"
EOF
	natives "$console" >>"$md"
	sweep "$m" "$console"
	cat "$md"
	log "minihv: $md, $OUT/$m.png"
}

# natives CONSOLE: the native medians behind the guest / native rows, the
# machine's own figures (for the disk rows: a loop device on the image).
natives() {
	local key what goal kind n shown=""
	while IFS='|' read -r key what goal kind; do
		[ "$kind" = native ] || continue
		n=$(median native "$key" <"$1")
		[ "$n" = - ] && continue
		[ -n "$shown" ] || printf '\nNative in the machine, medians:\n\n'
		shown=1
		echo "- ${what%, guest / native}: $n"
	done <<<"$METRICS"
}

# sweep MACHINE CONSOLE: row 16, guest / native by block size, for both
# hypervisors, as MACHINE-disk.png (none when there are no figures).
sweep() {
	local m=$1 dat=$OUT/$1-disk.dat bs dir hv v line any=""
	: >"$dat"
	for bs in $SWEEP; do
		line=$bs
		for dir in read write; do
			for hv in minihv kvm; do
				v=$(quotient "$(median "$hv" "disk_${dir}_${bs}_mibs" <"$2")" \
					"$(median native "disk_${dir}_${bs}_mibs" <"$2")" %.3f)
				[ "$v" = - ] || any=1
				line="$line $v"
			done
		done
		echo "$line" >>"$dat"
	done
	[ -n "$any" ] || return 0
	gnuplot <<EOF
set terminal png size 900,520
set output "$OUT/$m-disk.png"
set termoption noenhanced
set title "$m: sequential disk throughput, guest / native (fio, O_DIRECT, one request at a time)"
set datafile missing "-"
set xlabel "block size"
set ylabel "guest / native"
set yrange [0:1.2<*]
set key bottom right
set grid ytics
plot "$dat" using 0:2:xtic(1) with linespoints lw 2 title "minihv, read", \\
	"" using 0:3 with linespoints lw 2 dt 2 title "KVM, read", \\
	"" using 0:4 with linespoints lw 2 title "minihv, write", \\
	"" using 0:5 with linespoints lw 2 dt 2 title "KVM, write", \\
	0.9 with lines lc rgb "gray" title "goal at 1 MiB: 0.9", \\
	1 with lines lc rgb "black" title "native"
EOF
	log "minihv: $OUT/$m-disk.png"
}

ensure_packages gnuplot-nox 7zip openssl mbw postmark fio iperf3 iproute2
mkdir -p "$OUT"
if [ -n "${REPORT:-}" ]; then
	report "${BACKEND%%[ ,]*}" "$REPORT"
	exit 0
fi
make -s -C "$ROOT" userspace selftests >&2
case "${WORKLOADS:-1}" in
1) tools="work io";;
0) tools="";;
io) tools="io";;
*) die "WORKLOADS is 1, 0 or io, not '$WORKLOADS'";;
esac
failed=0
for m in ${BACKEND//,/ }; do
	case "$m" in
	bochs-*) rel=$(kernel_release "$KVER" cloud); limit=$((ROUNDS * 700));;
	qemu-*) rel=$(kernel_release "$KVER" generic); limit=$((ROUNDS * 700));;
	*) die "unknown BACKEND '$m'";;
	esac
	[ -n "$rel" ] || die "no installed $KVER kernel"
	# The disk and network rows: a native run and two guests, some 5
	# minutes each under TCG.
	case "$tools" in *io*) limit=$((limit + ROUNDS * 1200));; esac
	log "minihv: benchmarking on $m ($rel), $ROUNDS rounds"
	initrd=$(BENCH_TOOLS=$tools make_initramfs "$rel") || exit 2
	console=$OUT/$m.console
	boot_machine "$m" "$rel" "$initrd" bench "$console" "$limit" "minihv_rounds=$ROUNDS" || true
	if ! tr -d '\r' <"$console" | grep -q '^MINIHV-END bench done'; then
		log "minihv: $m did not finish the benchmark; console: $console"
		failed=1
		continue
	fi
	report "$m" "$console"
done
exit $failed
