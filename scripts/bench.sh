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
#   WORKLOADS 0: rows 1 to 9 and 14 only, without the Linux workloads of
#            rows 10 to 13 (their tools and runs take most of the time)

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
# ratio, and it must not be below KVM's.
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
memread_4k_ratio|14. random reads over 256 MiB, 4 KiB pages, guest / native||own'

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
				split(g, p, " "); ok = p[1] == "<=" ? v <= p[2] : v >= p[2]
				if (f != "-" && v < f) ok = 0
				print ok ? "yes" : "no" }')
		fi
		[ "$kind" = own ] && [ -n "$goal" ] && goal="minihv $goal"
		[ "$kind" = native ] && goal="minihv $goal, >= KVM"
		echo "| $what | $a | $k | $ratio | $goal | $met |" >>"$md"
		[ "$ratio" != - ] && echo "\"${what%% (*}\" $ratio" >>"$dat"
	done <<<"$METRICS"
	cpuid=$(median minihv cpuid_cycles <"$console")
	null=$(median minihv null_cycles <"$console")
	awk -v c="$cpuid" -v n="$null" 'BEGIN {
		if (c == "-" || n == "-" || n == 0) exit
		printf "\nCPUID exit / null exit on minihv: %.2f (goal <= 1.2: %s)\n", c / n, c / n <= 1.2 ? "yes" : "no" }' >>"$md"

	gnuplot <<EOF
set terminal png size 1000,560
set output "$OUT/$m.png"
set title "$m: minihv / KVM (below 1: minihv takes less; for churn and compute, above 1 is better)"
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set logscale y
set yrange [0.01:100]
set xtics rotate by -25 font ",9"
set grid ytics
plot "$dat" using 2:xtic(1) title "minihv / KVM", 1 with lines lw 2 title "KVM"
EOF
	cat "$md"
	log "minihv: $md, $OUT/$m.png"
}

ensure_packages gnuplot-nox 7zip openssl mbw postmark
mkdir -p "$OUT"
if [ -n "${REPORT:-}" ]; then
	report "${BACKEND%%[ ,]*}" "$REPORT"
	exit 0
fi
make -s -C "$ROOT" userspace selftests >&2
failed=0
for m in ${BACKEND//,/ }; do
	case "$m" in
	bochs-*) rel=$(kernel_release "$KVER" cloud); limit=$((ROUNDS * 700));;
	qemu-*) rel=$(kernel_release "$KVER" generic); limit=$((ROUNDS * 700));;
	*) die "unknown BACKEND '$m'";;
	esac
	[ -n "$rel" ] || die "no installed $KVER kernel"
	log "minihv: benchmarking on $m ($rel), $ROUNDS rounds"
	tools=1
	[ "${WORKLOADS:-1}" = 0 ] && tools=
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
