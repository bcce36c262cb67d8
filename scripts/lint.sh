#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint (and the first step of make check): the kernel's own
# checkpatch.pl --strict, from Debian's linux-source-6.1, over the module
# and the uapi header.  Clean means no line of output but the totals.
#
# Ignored, each for a reason that holds for the whole tree:
#   CAMELCASE               the kernel's own names (MSR_MTRRcap, MSR_MTRRdefType)
#   MACRO_ARG_REUSE         the typed VMCS accessors name their field twice,
#                           a compile-time constant (vmx/vmcs.h)
#   MACRO_WITH_FLOW_CONTROL the consistency-check tables return from a
#                           macro, one rule per line (svm.c, vmx_check.c)
#   BIT_MACRO               (uapi only) BIT() is not part of the uapi
# and in trace.h only the layout of TRACE_EVENT() (OPEN_ENDED_LINE,
# PARENTHESIS_ALIGNMENT), as in the kernel's own trace headers.  A
# report on a line holding "%l[" (an asm goto label, which checkpatch
# reads as a modulo) is dropped too.
#
# Then clang and sparse: the module is compiled with clang (Debian's, 14)
# with W=1 and -Werror, and checked by sparse (C=1: among others, the
# __vmm_mapped pages of minihv.h are touched only through their accessors),
# against the 6.1 headers, through scripts/clang-cc, which turns
# the gcc-built kernel's flags into what the kernel's own Makefiles give a
# clang build.  Not against 6.12's: configured for gcc, they use gcc's
# named address spaces (__seg_gs, CONFIG_USE_X86_SEG_SUPPORT) in a way
# clang 14 rejects in the kernel's own headers; a clang-built 6.12 would
# have that option off.  (The gcc build, W=1, -Werror and sparse,
# is every make check's module build: lib.sh, build_module_for.)
#
# Also: each lab's patch (Documentation/labs/*.patch, make lab N) and
# each known-wrong answer (Documentation/labs/wrong/, make check-labs) still
# applies to the tree, so that a change to the code a lab is about is
# seen at once.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_packages

LINUX_SOURCE_TAR=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
[ -n "$LINUX_SOURCE_TAR" ] || die "checkpatch.pl comes from linux-source-6.1: apt-get install linux-source-6.1"
CP=$BUILD/checkpatch
if [ ! -x "$CP/checkpatch.pl" ]; then
	mkdir -p "$CP"
	tar -xf "$LINUX_SOURCE_TAR" -C "$CP" --strip-components=2 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
fi

IGNORE=CAMELCASE,MACRO_ARG_REUSE,MACRO_WITH_FLOW_CONTROL

# checkpatch FILE... with extra --ignore types in $EXTRA: its reports,
# one per paragraph, without those on asm goto label lines.
checkpatch() {
	perl "$CP/checkpatch.pl" --no-tree --strict --show-types --quiet --no-summary \
		--ignore "$IGNORE${EXTRA:+,$EXTRA}" -f "$@" |
		awk 'BEGIN { RS = ""; ORS = "\n\n" } !/%l\[/'
}

cd "$ROOT"
out=$(
	checkpatch $(ls module/*.c module/*.h module/*/*.c module/*/*.h | grep -v '^module/trace.h$')
	EXTRA=OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT checkpatch module/trace.h
	EXTRA=BIT_MACRO checkpatch uapi/linux/minihv.h
)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	log "minihv: checkpatch.pl --strict is not clean (above)"
	exit 1
fi
log "minihv: checkpatch.pl --strict: clean"

# clang_build RELEASE: the module compiled by clang; its diagnostics, if any.
clang_build() {
	local hdr out
	hdr=$(kernel_headers "$1")
	out=$BUILD/clang/$1
	rm -rf "$out" && mkdir -p "$out"
	cp -r "$ROOT/Kbuild" "$ROOT/module" "$ROOT/uapi" "$out/"
	# objtool judges code generation, which the dropped gcc flags change.
	make -s -C "$hdr" M="$out" CC="$ROOT/scripts/clang-cc" W=1 KCFLAGS=-Werror C=1 \
		OBJECT_FILES_NON_STANDARD=y modules 2>&1 | grep -v 'Skipping BTF generation' || true
	[ -f "$out/minihv.ko" ] || echo "clang: no minihv.ko for $1"
}

rel=$(kernel_release 6.1 generic)
out=$(clang_build "$rel")
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	log "minihv: clang or sparse ($rel) is not clean (above)"
	exit 1
fi
log "minihv: clang W=1 -Werror and sparse ($rel): clean"

for p in Documentation/labs/*.patch Documentation/labs/wrong/*.patch; do
	patch -s -p1 --dry-run -d "$ROOT" <"$p" >/dev/null ||
		die "minihv: $p no longer applies: the lab needs updating with the code"
done
log "minihv: the labs' patches apply"
