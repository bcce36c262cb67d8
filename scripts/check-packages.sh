#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-packages (as root; it installs and purges on this machine):
# builds the Debian packages (make deb), installs them with apt, checks
# that DKMS built minihv.ko for each installed kernel that has headers
# (the test machines' 6.1, 6.1 cloud and 6.12), that the group, the udev
# rule and the tools are there, boots qemu-svm with the module DKMS built
# and runs a guest there as a user in the group minihv (the udev rule's
# group and mode applied to /dev/minihv), then purges both packages and
# checks that nothing is left.  Prints "packages: ok" or what failed.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "make check-packages installs packages: run it as root"
ensure_packages dkms
failed=0
fail() { log "packages: $*"; failed=1; }

debs=$("$ROOT/scripts/make-deb.sh")
dkms_deb=$(echo "$debs" | sed -n 1p)
utils_deb=$(echo "$debs" | sed -n 2p)
version=$(dpkg-deb -f "$dkms_deb" Version)
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$dkms_deb" "$utils_deb" >&2

# DKMS's module, for each kernel the test machines boot.
for rel in $(kernel_release 6.1 generic) $(kernel_release 6.1 cloud) $(kernel_release 6.12 generic); do
	ko=/lib/modules/$rel/updates/dkms/minihv.ko
	if [ ! -f "$ko" ] && [ -f "$ko.xz" ]; then ko=$ko.xz; fi
	if [ ! -f "$ko" ]; then
		fail "no DKMS-built module for $rel ($ko)"
		continue
	fi
	vermagic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$vermagic" = "$rel" ] || fail "$ko is for '$vermagic', not $rel"
	log "packages: DKMS built $ko"
done
getent group minihv >/dev/null || fail "no group minihv"
[ -f /lib/udev/rules.d/60-minihv.rules ] || fail "no udev rule"
/usr/bin/minihv-run --version >/dev/null || fail "minihv-run does not run"
[ -f /usr/share/minihv/guests/hello.bin ] || fail "no sample guests"
[ -f /usr/share/man/man1/minihv-run.1.gz ] || fail "no man page"

# The module DKMS built, loaded in a test machine, used by a user in the group.
rel=$(kernel_release 6.1 generic)
ko=/lib/modules/$rel/updates/dkms/minihv.ko
if [ -f "$ko" ]; then
	initrd=$(MINIHV_KO_FILE=$ko make_initramfs "$rel")
	console=$BUILD/logs/packages.console
	boot_machine qemu-svm "$rel" "$initrd" packages "$console" 300 \
		"minihv_rule=$(grep -v '^#' /lib/udev/rules.d/60-minihv.rules | tr -d ' "' | tr ',' '+')" || true
	if tr -d '\r' <"$console" | grep -q '^MINIHV-END packages ok'; then
		log "packages: a user in group minihv ran a guest on the DKMS-built module"
	else
		fail "the machine run with the DKMS-built module failed; console: $console"
	fi
fi

apt-get purge -y -qq minihv-utils minihv-dkms >&2
[ ! -e "/usr/src/minihv-$version" ] || fail "/usr/src/minihv-$version is left"
[ -z "$(dkms status minihv 2>/dev/null)" ] || fail "DKMS still lists minihv"
ls /lib/modules/*/updates/dkms/minihv.ko* >/dev/null 2>&1 && fail "a DKMS-built module is left"
getent group minihv >/dev/null && fail "the group minihv is left"
[ ! -e /lib/udev/rules.d/60-minihv.rules ] || fail "the udev rule is left"

if [ "$failed" = 0 ]; then echo "packages: ok"; else echo "packages: FAILED"; fi
exit "$failed"
