#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: boot the test machines, run the selftests inside each, and
# judge the results from their consoles.
#
#   BACKEND  machines to boot, space or comma separated, from qemu-svm,
#            bochs-svm, bochs-vmx, qemu-none (default: all four; qemu-none
#            has neither VT-x nor AMD-V and checks that loading fails)
#   KVER     guest kernel series, 6.1 or 6.12 (default: 6.1 everywhere and
#            6.12 too on the QEMU machine)
#   JOBS     machines booted at once (default 2, one per core)
#   TESTS    selftest binaries to run, comma separated (default: all);
#            for iterating on one test, not for CI
#   FUZZ_CALLS, RANDOM_GUESTS, KVM_GUESTS
#            the ioctl fuzzer's calls, the random guests, and the random
#            guests run on minihv and then on KVM (differential_test),
#            per machine (default 20,000, 240 and 48; DEBUG's below);
#            the machine's time limit grows with them.  For long runs
#            by hand, not for CI
#   FUZZ_SEED
#            the seed of every seeded test (MINIHV_FUZZ_SEED): repeats
#            the run whose seed a console printed
#   LINT     0: no checkpatch step (make lab's copies; not for CI)
#   TCG_THREAD
#            multi: qemu-svm's TCG in a thread per CPU, to stress SMP
#            by hand (QEMU 7.2 then corrupts SVM guests now and then:
#            Documentation/testing.rst); default single
#   DEBUG    1: make check-debug.  Every machine boots a debug kernel
#            (scripts/debug-kernel.sh: KASAN, lockdep, kmemleak, fault
#            injection; built once into /var/cache/minihv; the Bochs
#            machines boot its flavour without KASAN), the fuzzers
#            run long (FUZZ_CALLS, default 1000000 on QEMU and 100000 in
#            Bochs, where a million calls take 1.5 to 5 hours;
#            RANDOM_GUESTS, default 10000 and 2000), kmemleak is
#            scanned at the end, and lockdep's and
#            kmemleak's reports fail the machine; the ioctl fuzzer's
#            KCOV corpus is kept in build/fuzz-corpus for the next run.
#            Default BACKEND: qemu-svm bochs-vmx.
#
# Before the machines boot, scripts/lint.sh (checkpatch.pl --strict, a
# clang build, the labs' patches) judges the tree; a finding is one
# failure in the total.
# A machine fails on any "not ok", on a missing end line (it crashed, hung
# or was stopped), and on a kernel problem in its log; one whose kernel
# died before the tests began (minihv not loaded) is booted once more.
# The last line is
# "total: N passed, N failed, N skipped"; the exit status is 1 on any
# failure.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

BACKEND=${BACKEND:-}
KVER=${KVER:-}
JOBS=${JOBS:-2}
LOGS=$BUILD/logs
# The module is built with its test hooks (Kbuild, build_module_for);
# MINIHV_TEST_HOOKS= (empty) builds it without, to see the tests skip.
export MINIHV_TEST_HOOKS=${MINIHV_TEST_HOOKS-1}

# Guest-kernel lines that mean the host kernel of a real user would have
# been hurt: crashes, and the three ways a CPU held in the kernel shows
# (an RCU stall, a soft lockup, a task blocked behind it).  A bare
# "WARNING:" is not here: 6.1 prints a harmless RETBleed one at boot.
PROBLEMS='BUG:|WARNING: CPU:|Oops|general protection fault|Call Trace:|soft lockup|detected stalls on CPUs|blocked for more than|Kernel panic|KASAN|WARNING: possible|WARNING: suspicious|inconsistent lock state|unreferenced object'
DEBUG=${DEBUG:-}
FUZZ_CALLS=${FUZZ_CALLS:-}
RANDOM_GUESTS=${RANDOM_GUESTS:-}
KVM_GUESTS=${KVM_GUESTS:-}
FUZZ_SEED=${FUZZ_SEED:-}
DEBUG_RELEASE=
DEBUG_LITE_RELEASE=

machines_wanted() {
	local all="qemu-svm bochs-svm bochs-vmx qemu-none" m s series
	local want=${BACKEND//,/ }
	[ -z "$DEBUG" ] || want=${want:-qemu-svm bochs-vmx}
	for m in ${want:-$all}; do
		case " $all " in
		*" $m "*) ;;
		*) die "unknown BACKEND '$m' (choose from: $all)";;
		esac
		if [ -n "$DEBUG" ]; then
			series=debug
		elif [ -n "$KVER" ]; then
			series=$KVER
		elif [ "$m" = qemu-svm ]; then
			series="6.1 6.12"
		else
			series=6.1
		fi
		for s in $series; do
			echo "$m:$s"
		done
	done
}

# The Bochs machines boot Debian's LZ4 cloud kernel (the generic one spends
# two minutes decompressing itself there); QEMU boots the generic one.
release_for() {
	local m=$1 s=$2 rel
	if [ "$s" = debug ]; then
		# Bochs interprets every instruction: KASAN's kernel does not
		# reach /init there in half an hour, so it boots the lite one.
		case "$m" in
		bochs-*) echo "$DEBUG_LITE_RELEASE";;
		*) echo "$DEBUG_RELEASE";;
		esac
		return
	fi
	case "$m" in
	bochs-*) rel=$(kernel_release "$s" cloud);;
	*) rel=$(kernel_release "$s" generic);;
	esac
	[ -n "$rel" ] || die "no installed $s kernel for $m (flavor: ${m%%-*})"
	echo "$rel"
}

# parse_console LOG: prints "PASSED FAILED SKIPPED" for the TAP 13 output.
# Each test case (a nested "ok"/"not ok" of a kselftest_harness binary)
# counts once; a binary that failed without a failing case (it crashed) and
# a top-level line with no nested cases (insmod) count on their own.
parse_console() {
	tr -d '\r' <"$1" | awk '
	/^# (not )?ok [0-9]+ / {
		nested++
		if ($2 == "not") { fail++; nested_fail++ }
		else if ($0 ~ /# SKIP/) skip++
		else pass++
		next
	}
	/^(not )?ok [0-9]+ selftests: / {
		if ($1 == "not") { if (!nested_fail) fail++ }
		else if (!nested) { if ($0 ~ /# SKIP/) skip++; else pass++ }
		nested = 0; nested_fail = 0
	}
	END { printf "%d %d %d\n", pass, fail, skip }'
}

# judge NAME LOG ENDED: prints the machine's closing line; returns 1 if it failed.
judge() {
	local label=$1 logf=$2 ended=$3 pass fail skip problem bad=0
	read -r pass fail skip < <(parse_console "$logf")
	if [ "$ended" != 0 ]; then
		log "$label: the machine did not finish (no end line); console: $logf"
		fail=$((fail + 1))
	fi
	problem=$(tr -d '\r' <"$logf" | grep -aE "$PROBLEMS" | grep -av '^# ' | head -n1 || true)
	if [ -n "$problem" ]; then
		log "$label: kernel problem in the guest log: $problem"
		fail=$((fail + 1))
	fi
	if grep -aq '^not ok' "$logf"; then
		tr -d '\r' <"$logf" | grep -aE '^(# )?not ok|^# # .*(Expected|FAIL)' | sed "s/^/$label: /" >&2
	fi
	[ "$pass" -gt 0 ] || { log "$label: no test passed"; fail=$((fail + 1)); }
	[ "$fail" = 0 ] || bad=1
	echo "$pass $fail $skip" >"$logf.result"
	echo "$label: $pass passed, $fail failed, $skip skipped"
	return $bad
}

# The coverage-guided fuzzer's corpus (KCOV, the debug kernel only): the
# inputs it printed join build/fuzz-corpus, which the next initramfs
# carries and the next fuzz_test replays first (at most 4096, newest kept).
keep_fuzz_corpus() {
	local logf=$1 corpus=$BUILD/fuzz-corpus
	{
		[ -f "$corpus" ] && cat "$corpus"
		tr -d '\r' <"$logf" | sed -n 's/^# # fuzz-corpus //p'
	} | awk '!seen[$0]++' | tail -n 4096 >"$corpus.new"
	mv "$corpus.new" "$corpus"
	log "fuzzer corpus: $(wc -l <"$corpus") inputs in $corpus"
}

run_machine() {
	local m=$1 s=$2 rel=$3 label=$4 logf=$5 limit ended=0
	local extra=${TESTS:+minihv_tests=$TESTS}
	case "$m" in
	bochs-*) limit=1100;;	# bochs-vmx boots Linux nested three times (~4 min)
	*) limit=420;;
	esac
	if [ -n "$DEBUG" ]; then
		local calls=${FUZZ_CALLS:-1000000} guests=${RANDOM_GUESTS:-10000}

		limit=$((limit * 8))	# KASAN and lockdep: several times slower
		# Guest time in Bochs follows its instruction count, and a
		# debug kernel's boot is long in it: RCU's own stall checks
		# get their longest timeout there.  The lite debug kernel
		# runs 55 to 210 fuzzer calls per second of wall time there
		# (350,000 in about 40 minutes, 502 s of the machine's time); the
		# limit allows 25.
		case "$m" in
		bochs-*)
			calls=${FUZZ_CALLS:-100000} guests=${RANDOM_GUESTS:-2000}
			limit=$((limit + calls / 25))
			extra="$extra rcupdate.rcu_cpu_stall_timeout=300";;
		esac
		extra="$extra minihv_fuzz_calls=$calls minihv_random_guests=$guests"
	else
		# Longer runs on the plain kernel, by hand.  Measured in
		# Bochs: 300,000 fuzzer calls in 277 s of wall time, boot
		# included; 1,000 random guests on minihv and then KVM in
		# 950 s.  The limit allows 500 calls a second, a tenth of a
		# second per random guest, a second per guest on both.
		extra="$extra${FUZZ_CALLS:+ minihv_fuzz_calls=$FUZZ_CALLS}"
		extra="$extra${RANDOM_GUESTS:+ minihv_random_guests=$RANDOM_GUESTS}"
		limit=$((limit + ${FUZZ_CALLS:-0} / 500 + ${RANDOM_GUESTS:-0} / 10))
	fi
	extra="$extra${FUZZ_SEED:+ minihv_fuzz_seed=$FUZZ_SEED}"
	if [ -n "$KVM_GUESTS" ]; then
		extra="$extra minihv_kvm_guests=$KVM_GUESTS"
		limit=$((limit + KVM_GUESTS))
	fi
	boot_machine "$m" "$rel" "$BUILD/$rel/initramfs.gz" check "$logf" "$limit" \
		"$extra" || ended=$?
	# The emulated machine's own kernel died before /init began the tests
	# (no TAP header: minihv was never loaded), as Debian's 6.12 once did
	# under QEMU's TCG (an int3 Oops while patching a static key in early
	# boot).  That is the emulator's, not minihv's: boot once more, and
	# say so.  A second such failure counts.
	if [ "$ended" != 0 ] && ! grep -aq '^TAP version 13' "$logf"; then
		log "$label: the machine's kernel failed before the tests began" \
			"($(tr -d '\r' <"$logf" | grep -aE "$PROBLEMS" | head -n1 || true));" \
			"booting it again (first console: $logf.first)"
		mv "$logf" "$logf.first"
		ended=0
		boot_machine "$m" "$rel" "$BUILD/$rel/initramfs.gz" check "$logf" "$limit" \
			"$extra" || ended=$?
	fi
	judge "$label" "$logf" "$ended" >"$logf.line" || true
	[ -z "$DEBUG" ] || keep_fuzz_corpus "$logf"
}

main() {
	local entries entry m s rel label accel start
	local total_pass=0 total_fail=0 total_skip=0 p f k running=0 lint_fail=0 lint_pid=""
	start=$SECONDS

	ensure_packages
	# Lint (checkpatch, clang) runs while the modules, the initramfs
	# images and the KVM probe are made; it is waited for before the
	# machines boot, so it never competes with them for a CPU.
	mkdir -p "$LOGS"
	if [ "${LINT:-1}" != 0 ]; then
		"$ROOT/scripts/lint.sh" >"$LOGS/lint.log" 2>&1 &
		lint_pid=$!
	fi
	make -s -C "$ROOT" userspace selftests >&2
	entries=$(machines_wanted)
	if [ -n "$DEBUG" ]; then
		if echo "$entries" | grep -qv '^bochs'; then
			DEBUG_RELEASE=$("$ROOT/scripts/debug-kernel.sh" kasan) ||
				die "the debug kernel did not build"
			log "minihv: make check-debug on $DEBUG_RELEASE"
		fi
		if echo "$entries" | grep -q '^bochs'; then
			DEBUG_LITE_RELEASE=$("$ROOT/scripts/debug-kernel.sh" lite) ||
				die "the lite debug kernel did not build"
			log "minihv: make check-debug on $DEBUG_LITE_RELEASE (Bochs)"
		fi
	fi

	mkdir -p "$LOGS"

	# One initramfs per guest kernel release.
	declare -A built=()
	for entry in $entries; do
		m=${entry%%:*} s=${entry##*:}
		rel=$(release_for "$m" "$s")
		if [ -z "${built[$rel]:-}" ]; then
			log "minihv: building module and initramfs for $rel"
			make_initramfs "$rel" >/dev/null
			built[$rel]=1
		fi
	done

	# Use the host's KVM where it can really run a nested guest.
	rel=$(kernel_release 6.1 generic)
	[ -f "$BUILD/$rel/initramfs.gz" ] || make_initramfs "$rel" >/dev/null
	accel=debug
	[ -n "$DEBUG" ] || accel=$(kvm_probe "$rel" "$BUILD/$rel/initramfs.gz")
	case "$accel" in
	debug) log "minihv: check-debug: the emulated machines, not the host's KVM";;
	svm|vmx) log "minihv: host /dev/kvm runs guests with nested $accel: using -accel kvm -cpu host for that vendor";;
	*) log "minihv: host /dev/kvm cannot run a guest with nested VMX or SVM (probe booted nothing within 30 s): using emulation";;
	esac
	export ACCEL_KVM=$accel
	if [ -n "$lint_pid" ]; then
		if wait "$lint_pid"; then lint_fail=0; else lint_fail=1; fi
		cat "$LOGS/lint.log" >&2
	fi

	# Longest first: the Bochs machines, then QEMU; at most $JOBS at once.
	for entry in $(echo "$entries" | grep '^bochs'; echo "$entries" | grep -v '^bochs'); do
		m=${entry%%:*} s=${entry##*:}
		label="$m-$s"
		# Nested KVM for this vendor replaces both of its emulators.
		if [ "$accel" = "$(machine_vendor "$m")" ] && [ "${m%%-*}" = bochs ]; then
			log "minihv: $m runs as qemu-$accel on KVM"
			m=qemu-$accel
		fi
		rel=$(release_for "$m" "$s")
		log "minihv: booting $label ($rel)"
		run_machine "$m" "$s" "$rel" "$label" "$LOGS/$label.console" &
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait -n || true
			running=$((running - 1))
		fi
	done
	wait || true

	echo
	for entry in $entries; do
		label="${entry%%:*}-${entry##*:}"
		if [ -f "$LOGS/$label.console.line" ]; then
			cat "$LOGS/$label.console.line"
			read -r p f k <"$LOGS/$label.console.result"
		else
			echo "$label: 0 passed, 1 failed, 0 skipped"
			p=0 f=1 k=0
		fi
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		total_skip=$((total_skip + k))
	done
	if [ "$lint_fail" = 1 ]; then
		echo "lint: checkpatch.pl, clang or a lab's patch found something ($LOGS/lint.log): 1 failed"
		total_fail=$((total_fail + 1))
	fi
	log "minihv: consoles in $LOGS; $((SECONDS - start)) s"
	echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" = 0 ]
}

main "$@"
