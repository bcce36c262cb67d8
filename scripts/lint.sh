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
# Also: each lab's patch (Documentation/labs/*.patch, make lab N) still
# applies to the tree, so that a change to the code a lab is about is
# seen at once.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

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

for p in Documentation/labs/*.patch; do
	patch -s -p1 --dry-run -d "$ROOT" <"$p" >/dev/null ||
		die "minihv: $p no longer applies: the lab needs updating with the code"
done
log "minihv: the labs' patches apply"
