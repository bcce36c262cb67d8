#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The labs of Documentation/labs/.
#
#   make lab N         lab N: the first time, build/labs/N/ gets a copy of
#                      this tree with the lab's part taken out (its patch);
#                      each time, that copy's module and selftests are built
#                      and the lab's tests run in a test machine
#   make check-labs    for the teacher: every lab's starter and every known
#                      wrong answer fails its tests, and this tree (the
#                      answer) passes them; LAB="2 4" for some labs only
#   make labs-dist     a tarball of this tree for students, without the
#                      labs' answers (labs_dist below)
#
#   LAB_MACHINE  machine for the tests (default qemu-svm; bochs-vmx for
#                VT-x; scripts/check.sh lists them)
#   LAB_LOCK     a file each machine run takes with flock(1), for a
#                computer shared with others (check-labs boots many)
#
# A lab's answer is this tree itself: each patch only takes code out.  The
# known-wrong answers, Documentation/labs/wrong/N-*.patch, apply to this
# tree and make a plausible mistake; their "Fails on:" line names the
# machines whose tests catch it (a VT-x mistake cannot fail on AMD-V).
# Neither the patches nor the wrong answers go into a student's copy.

set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LAB_MACHINE=${LAB_MACHINE:-qemu-svm}

# number name tests
LABS="
1 first-entry first_entry_test
2 handling-an-exit cpuid_test,exits_test,interrupts_test
3 nested-paging memory_test,exits_test
4 injecting-an-interrupt interrupts_test
5 apic-timer apic_test
6 failed-entry entry_checks_test,exits_test
7 world-switch exits_test,intercepts_test
8 reinjection interrupts_test
"

lab_field() {
	echo "$LABS" | awk -v n="$1" -v f="$2" '$1 == n { print $f }'
}

# tree_files: the tree's source files, NUL-separated, relative to ROOT.  In
# a git checkout those git tracks; in a release tarball (git archive, no
# .git) every file but what .gitignore names as a build product, so that
# a tree already built with "make" gives a copy without its objects.
tree_files() {
	local pat args=()
	# Only ROOT's own repository: a tarball unpacked inside another one
	# is none of its files.
	if [ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)" = "$ROOT" ]; then
		git -C "$ROOT" ls-files -z
		return
	fi
	while read -r pat; do
		pat=${pat%/}
		case "$pat" in
		'' | '#'*) continue;;
		/*) args+=(-o -path ".$pat");;
		*) args+=(-o -name "$pat");;
		esac
	done <"$ROOT/.gitignore"
	(cd "$ROOT" && find . \( -path ./.git "${args[@]}" \) -prune -o -type f -printf '%P\0')
}

# answers: the files a student's copy leaves out (tree-relative paths on
# stdin, NUL-separated): the labs' patches and the wrong answers.
without_answers() {
	grep -zv -e '^Documentation/labs/[^/]*\.patch$' -e '^Documentation/labs/wrong/'
}

# make_copy DIR PATCH: the tree's sources, without the answers, in DIR,
# with PATCH applied (a lab's starter, or a wrong answer).
make_copy() {
	local dir=$1 p=$2
	rm -rf "$dir" && mkdir -p "$dir/build"
	tree_files | without_answers | (cd "$ROOT" && xargs -0 cp --parents -t "$dir")
	patch -s -d "$dir" -p1 <"$p" || die "$p no longer applies to this tree"
	# kselftest's headers, as this tree extracted them (saves a minute).
	[ -d "$BUILD/kselftest" ] && cp -r "$BUILD/kselftest" "$dir/build/"
	return 0
}

# make_starter N DIR: a copy of the tree's sources in DIR with lab N's
# part out; its .lab says which lab it is, for "make lab N" run inside it.
make_starter() {
	make_copy "$2" "$ROOT/Documentation/labs/$1-$(lab_field "$1" 2).patch"
	echo "$1" >"$2/.lab"
}

# machine CMD...: CMD, under LAB_LOCK when there is one.
machine() {
	if [ -n "${LAB_LOCK:-}" ]; then
		flock "$LAB_LOCK" "$@"
	else
		"$@"
	fi
}

# run_lab_tests N DIR: the lab's tests on DIR's module, the machine's
# output in DIR/build/lab.log; 0 if all passed.
run_lab_tests() {
	local n=$1 dir=$2
	mkdir -p "$dir/build"
	machine env LINT=0 BACKEND=$LAB_MACHINE KVER=6.1 TESTS="$(lab_field "$n" 3)" \
		"$dir/scripts/check.sh" >"$dir/build/lab.log" 2>&1
}

# console DIR: the test machine's console of DIR's last run.
console() {
	echo "$1/build/logs/$LAB_MACHINE-6.1.console"
}

# tests_ran N DIR: the machine ran each of lab N's test programs to its
# end (so a failure is the tests', not a build's or a crash's).
tests_ran() {
	local t c lines
	c=$(console "$2")
	[ -f "$c" ] || return 1
	lines=$(tr -d '\r' <"$c" | grep -aE '^MINIHV-END|^(not )?ok [0-9]+ selftests: ')
	grep -q '^MINIHV-END' <<<"$lines" || return 1
	for t in $(lab_field "$1" 3 | tr , ' '); do
		grep -Eq "^(not )?ok [0-9]+ selftests: minihv: $t( |\$)" <<<"$lines" || return 1
	done
}

# summary N DIR: each test case of lab N's programs, and for each that
# failed, what it said; insmod and the machine's own lines are left out.
summary() {
	local c
	c=$(console "$2")
	[ -f "$c" ] || return 0
	if grep -aq '^not ok 1 selftests: minihv: insmod' "$c"; then
		echo "  the module did not load: $(tr -d '\r' <"$c" |
			grep -aB1 '^not ok 1 selftests: minihv: insmod' | head -n1 | sed 's/^# //')"
	fi
	tr -d '\r' <"$c" | awk -v tests=",$(lab_field "$1" 3)," '
	/^# selftests: minihv: / { prog = $4; mine = index(tests, "," prog ","); next }
	!mine { next }
	/^# # +RUN / { said = ""; next }
	/^# # +(OK|FAIL|SKIP) / { next }
	/^# # / { sub(/^# # /, ""); said = said "      " $0 "\n"; next }
	/^# ok [0-9]+ .*# SKIP/ { skip++; sub(/^# ok [0-9]+ /, ""); printf "  skip  %s: %s\n", prog, $0; next }
	/^# ok [0-9]+ / { pass++; next }
	/^# not ok [0-9]+ / {
		fail++; sub(/^# not ok [0-9]+ /, "")
		printf "  FAIL  %s: %s\n%s", prog, $0, said; said = ""; next
	}
	END { printf "  %d passed, %d failed, %d skipped\n", pass, fail, skip }'
}

lab() {
	local n=$1 name dir
	name=$(lab_field "$n" 2)
	[ -n "$name" ] || die "usage: make lab N, N from 1 to $(echo "$LABS" | awk 'NF' | wc -l)"
	dir=$BUILD/labs/$n
	# A starter of make labs-dist: the lab is this tree.
	if [ -f "$ROOT/.lab" ]; then
		[ "$(cat "$ROOT/.lab")" = "$n" ] ||
			die "this tree is the starter of lab $(cat "$ROOT/.lab"), not of lab $n"
		dir=$ROOT
	fi
	if [ ! -d "$dir" ]; then
		make_starter "$n" "$dir"
		log "lab $n ($name): your copy is $dir"
		log "  (Documentation/labs/$n-$name.rst says what to change there);"
		log "  its tests fail until you have."
	fi
	log "lab $n ($name): building $dir and running $(lab_field "$n" 3) on $LAB_MACHINE"
	if run_lab_tests "$n" "$dir"; then
		summary "$n" "$dir"
		log "lab $n: passed"
		return 0
	fi
	if tests_ran "$n" "$dir"; then
		summary "$n" "$dir"
		log "lab $n: not yet (the console: $(console "$dir"))"
	else
		# A build error, or a machine that did not get to the end.
		grep -av '^minihv: ' "$dir/build/lab.log" | tail -n 30 >&2 || true
		log "lab $n: the tests did not run to their end (above;" \
			"all of it in $dir/build/lab.log, the console in $(console "$dir"))"
	fi
	return 1
}

# expect_failure WHAT N DIR: DIR (a starter or a wrong answer of lab N)
# must fail lab N's tests, with the tests run to their end; 0 if it did.
expect_failure() {
	local what=$1 n=$2 dir=$3 said
	if run_lab_tests "$n" "$dir"; then
		log "lab $n: $what passed its tests: they cannot tell (output: $dir/build/lab.log)"
		return 1
	fi
	if ! tests_ran "$n" "$dir"; then
		log "lab $n: $what failed before its tests ran (output: $dir/build/lab.log)"
		return 1
	fi
	# A test case, or the module's loading: not only the machine's log
	# (a wrong answer once showed as an RCU stall with every test passed).
	said=$(summary "$n" "$dir" | grep -a -e '^  FAIL' -e '^  the module did not load' || true)
	if [ -z "$said" ]; then
		log "lab $n: $what failed, but no test of the lab did (output: $dir/build/lab.log)"
		return 1
	fi
	log "lab $n: $what fails, as it must:"
	echo "$said" | sed 's/^  FAIL  /    /' >&2
}

# fails_here PATCH: its "Fails on:" line names LAB_MACHINE.
fails_here() {
	sed -n 's/^Fails on://p' "$1" | tr ' ' '\n' | grep -qx "$LAB_MACHINE"
}

# Each starter and each wrong answer for this machine must fail its
# tests, with the machine ending normally; this tree must pass them.
check_labs() {
	local n w dir bad=0 all wanted=${1:-} out=$BUILD/labs-check
	[ -n "$wanted" ] || wanted=$(echo "$LABS" | awk 'NF { print $1 }')
	for n in $wanted; do
		[ -n "$(lab_field "$n" 2)" ] || die "no lab $n"
		make_starter "$n" "$out/$n"
		expect_failure "the starter" "$n" "$out/$n" || bad=1
		for w in "$ROOT"/Documentation/labs/wrong/"$n"-*.patch; do
			[ -f "$w" ] || continue
			if ! fails_here "$w"; then
				log "lab $n: $(basename "$w" .patch) is not for $LAB_MACHINE"
				continue
			fi
			dir=$out/$(basename "$w" .patch)
			make_copy "$dir" "$w"
			expect_failure "the wrong answer $(basename "$w" .patch)" "$n" "$dir" || bad=1
		done
	done
	all=$(for n in $wanted; do lab_field "$n" 3; done | tr , '\n' | sort -u | paste -sd,)
	mkdir -p "$out"
	if machine env LINT=0 BACKEND=$LAB_MACHINE KVER=6.1 TESTS="$all" "$ROOT/scripts/check.sh" \
		>"$out/answer.out" 2>&1; then
		log "labs: this tree passes the tests of lab(s) $(echo $wanted)"
	else
		log "labs: this tree fails a lab's tests (output: $out/answer.out)"
		bad=1
	fi
	return $bad
}

# labs_dist: build/minihv-labs.tar.gz, what a course gives its students:
# each lab's starter, made as make lab N makes it (the sources without
# the answers, the lab's part out), in minihv-labs/N-name/, where "make
# lab N" builds and tests it in place.  The teacher keeps this tree.
labs_dist() {
	local stage=$BUILD/labs-dist out=$BUILD/minihv-labs.tar.gz n name
	rm -rf "$stage" && mkdir -p "$stage/minihv-labs"
	for n in $(echo "$LABS" | awk 'NF { print $1 }'); do
		name=$(lab_field "$n" 2)
		make_starter "$n" "$stage/minihv-labs/$n-$name"
		rm -rf "$stage/minihv-labs/$n-$name/build"
	done
	tar -C "$stage" --owner=0 --group=0 --sort=name -czf "$out" minihv-labs
	rm -rf "$stage"
	if tar -tzf "$out" | grep -E '\.patch$|/wrong/'; then
		die "$out holds an answer (above)"
	fi
	log "labs: $out, the starters of labs $(echo "$LABS" | awk 'NF { printf "%s ", $1 }')(no answers)"
}

# Sourced (by a course's own grading script, say): the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

case "${1:-}" in
--check-all) check_labs "${2:-}";;
--dist) labs_dist;;
*) lab "${1:-}";;
esac
