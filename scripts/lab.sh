#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The labs of Documentation/labs/.
#
#   make lab N         lab N: the first time, build/labs/N/ gets a copy of
#                      this tree with the lab's part taken out (its patch);
#                      each time, that copy's module and selftests are built
#                      and the lab's tests run in a test machine
#   make check-labs    for the teacher: every lab's starter fails its
#                      tests, and this tree (the answer) passes them
#
#   LAB_MACHINE  machine for the tests (default qemu-svm; bochs-vmx for
#                VT-x; scripts/check.sh lists them)
#
# A lab's answer is this tree itself: each patch only takes code out.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

LAB_MACHINE=${LAB_MACHINE:-qemu-svm}

# number name tests
LABS="
1 first-entry first_entry_test
2 handling-an-exit cpuid_test,exits_test
3 nested-paging memory_test,exits_test
4 injecting-an-interrupt interrupts_test
5 apic-timer apic_test
6 failed-entry entry_checks_test,exits_test
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

# make_starter N DIR: a copy of the tree's sources in DIR with lab N's part out.
make_starter() {
	local n=$1 dir=$2 name
	name=$(lab_field "$n" 2)
	rm -rf "$dir" && mkdir -p "$dir/build"
	tree_files | (cd "$ROOT" && xargs -0 cp --parents -t "$dir")
	patch -s -d "$dir" -p1 <"$ROOT/Documentation/labs/$n-$name.patch" ||
		die "lab $n: its patch no longer applies to this tree"
	# kselftest's headers, as this tree extracted them (saves a minute).
	[ -d "$BUILD/kselftest" ] && cp -r "$BUILD/kselftest" "$dir/build/"
	return 0
}

# run_lab_tests N DIR: the lab's tests on DIR's module; 0 if all passed.
run_lab_tests() {
	local n=$1 dir=$2
	LINT=0 BACKEND=$LAB_MACHINE KVER=6.1 TESTS=$(lab_field "$n" 3) \
		"$dir/scripts/check.sh"
}

lab() {
	local n=$1 name dir
	name=$(lab_field "$n" 2)
	[ -n "$name" ] || die "usage: make lab N, N from 1 to $(echo "$LABS" | awk 'NF' | wc -l)"
	dir=$BUILD/labs/$n
	if [ ! -d "$dir" ]; then
		make_starter "$n" "$dir"
		log "lab $n ($name): your copy is $dir (Documentation/labs/$n-$name.rst"
		log "  says what to change there); its tests fail until you have."
	fi
	log "lab $n ($name): building $dir and running $(lab_field "$n" 3) on $LAB_MACHINE"
	if run_lab_tests "$n" "$dir"; then
		log "lab $n: passed"
	else
		log "lab $n: not yet (the failures are above; consoles in $dir/build/logs)"
		return 1
	fi
}

# Each starter must fail its tests (so the tests can tell), with the
# machine ending normally; this tree must pass them.
check_labs() {
	local n dir bad=0 result all
	for n in $(echo "$LABS" | awk 'NF { print $1 }'); do
		dir=$BUILD/labs-check/$n
		make_starter "$n" "$dir"
		if run_lab_tests "$n" "$dir" >"$dir.out" 2>&1; then
			log "lab $n: the starter passed its tests: they cannot tell (output: $dir.out)"
			bad=1
			continue
		fi
		result=$(cat "$dir/build/logs/$LAB_MACHINE-6.1.console.result" 2>/dev/null || true)
		if [ -z "$result" ] || [ "$(echo "$result" | cut -d' ' -f2)" = 0 ]; then
			log "lab $n: the starter failed before its tests ran (output: $dir.out)"
			bad=1
			continue
		fi
		log "lab $n: the starter fails its tests, as it must ($result: passed failed skipped)"
	done
	all=$(echo "$LABS" | awk 'NF { print $3 }' | tr , '\n' | sort -u | paste -sd,)
	if LINT=0 BACKEND=$LAB_MACHINE KVER=6.1 TESTS=$all "$ROOT/scripts/check.sh" \
		>"$BUILD/labs-check/answer.out" 2>&1; then
		log "labs: this tree passes every lab's tests"
	else
		log "labs: this tree fails a lab's tests (output: $BUILD/labs-check/answer.out)"
		bad=1
	fi
	return $bad
}

case "${1:-}" in
--check-all) check_labs;;
*) lab "${1:-}";;
esac
