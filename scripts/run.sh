#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: boot a test machine, load minihv.ko and run minihv-run on a
# sample guest (the greeting by default), showing the guest's output and
# minihv-run's exit status.
#
#   BACKEND  qemu-svm (default), bochs-svm or bochs-vmx
#   KVER     guest kernel series (default 6.1)
#   GUEST    a file in userspace/guests (default hello.bin)
#   ARGS     minihv-run options for it (default none)

set -euo pipefail
source "$(dirname "$0")/lib.sh"

BACKEND=${BACKEND:-qemu-svm}
KVER=${KVER:-6.1}
GUEST=${GUEST:-hello.bin}
ARGS=${ARGS:-}

ensure_packages
make -s -C "$ROOT" userspace selftests >&2
[ -f "$ROOT/userspace/guests/$GUEST" ] || die "no guest userspace/guests/$GUEST"

case "$BACKEND" in
bochs-*) rel=$(kernel_release "$KVER" cloud);;
*) rel=$(kernel_release "$KVER" generic);;
esac
[ -n "$rel" ] || die "no installed $KVER kernel"
log "minihv: booting $BACKEND ($rel) to run $GUEST"
initrd=$(make_initramfs "$rel") || exit 2
console=$BUILD/logs/run-$BACKEND.console
# quiet: only the guest's output and minihv-run's messages on the console.
boot_machine "$BACKEND" "$rel" "$initrd" run "$console" "${LIMIT:-600}" \
	"${QUIET-quiet} minihv_guest=$GUEST minihv_args=${ARGS// /,}" 0 || true

tr -d '\r' <"$console" | sed -n '/^minihv-init:/,/^MINIHV-END/p' |
	grep -v -e '^minihv-init:' -e '^\[' -e '^MINIHV-END'
status=$(tr -d '\r' <"$console" | sed -n 's/^MINIHV-END run status=//p')
[ -n "$status" ] || die "the machine did not finish; console: $console"
echo "minihv-run exit status: $status"
