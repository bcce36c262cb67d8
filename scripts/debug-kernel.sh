#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of make check-debug: Debian's linux-source-6.1 built
# with the kernel's own sanitizers, once, in a cache outside the checkout
# (DEBUG_CACHE, default /var/cache/minihv).  Prints the kernel release.
# Later runs reuse the build: it is redone only when the configuration
# below changes (its hash is kept beside the build).
#
#   debug-kernel.sh [kasan|lite]
#
# Two flavours, each in its own tree:
#   kasan  (release *-minihv-debug) everything below; for QEMU.
#   lite   (release *-minihv-debug-lite) the same without KASAN, for the
#          Bochs machines: Bochs interprets every instruction, and KASAN's
#          shadow checks on each memory access made the kernel's boot
#          alone outlast 27 minutes there (RCU then warned of a stalled
#          grace period before /init).  Lockdep, kmemleak, DEBUG_LIST,
#          fault injection and KCOV stay on.
#
# Configuration: x86_64_defconfig (the QEMU and Bochs machines' drivers:
# 8250 serial, ACPI, initramfs; LZ4, which Bochs decompresses fastest),
# KVM as modules (minihv is compared with
# it), TUN as a module (linux_boot_test's TAP device), and the checkers:
#   KASAN (generic, inline)      out-of-bounds and use-after-free
#   PROVE_LOCKING                lockdep
#   DEBUG_ATOMIC_SLEEP           sleeping in atomic context
#   DEBUG_KMEMLEAK               leaks (scanned by the tests)
#   DEBUG_LIST                   list corruption
#   FAILSLAB, FAIL_PAGE_ALLOC    fault injection (debugfs)
#   KCOV                         coverage for the fuzzer
#   DEBUG_FS, FTRACE             what the tests read
#   SOFTLOCKUP_DETECTOR,         a CPU held in the kernel (20 s), a task
#   DETECT_HUNG_TASK,            blocked (120 s), a workqueue stuck
#   WQ_WATCHDOG                  (30 s): how a hang shows, as on
#                                Debian's own kernel (no hard-lockup
#                                detector: it needs a perf NMI, which
#                                the emulators do not give)
# On a 2-CPU machine the first build takes about 25 minutes.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

FLAVOUR=${1:-kasan}
SRC=$(debug_tree "$FLAVOUR")
TAR=/usr/src/linux-source-6.1.tar.xz

OPTIONS_KASAN="KASAN KASAN_GENERIC KASAN_INLINE"
OPTIONS_ON="PROVE_LOCKING DEBUG_ATOMIC_SLEEP
DEBUG_KMEMLEAK DEBUG_LIST FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC
FAULT_INJECTION_DEBUG_FS KCOV DEBUG_FS FTRACE FUNCTION_TRACER
VIRTUALIZATION KVM KVM_INTEL KVM_AMD MODULES MODULE_UNLOAD BLK_DEV_INITRD
DEVTMPFS TMPFS SERIAL_8250 SERIAL_8250_CONSOLE ACPI HOTPLUG_CPU MEMCG
CGROUPS PROC_FS SYSFS PRINTK_TIME KERNEL_LZ4
SOFTLOCKUP_DETECTOR DETECT_HUNG_TASK WQ_WATCHDOG"
OPTIONS_OFF="DEBUG_KMEMLEAK_DEFAULT_OFF RANDOMIZE_BASE DEBUG_INFO
DEBUG_INFO_DWARF5 DEBUG_INFO_DWARF4 DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT
DEBUG_INFO_BTF MODULE_SIG WERROR DRM SOUND USB_SUPPORT WLAN WIRELESS
NETWORK_FILESYSTEMS KERNEL_GZIP"
OPTIONS_MOD="KVM KVM_INTEL KVM_AMD TUN"
SUFFIX=-minihv-debug
case "$FLAVOUR" in
kasan) OPTIONS_ON="$OPTIONS_KASAN $OPTIONS_ON";;
lite) OPTIONS_OFF="$OPTIONS_KASAN $OPTIONS_OFF" SUFFIX=-minihv-debug-lite;;
*) die "debug-kernel.sh: unknown flavour '$FLAVOUR' (kasan or lite)";;
esac

ensure_packages linux-source-6.1 flex bison bc libelf-dev libssl-dev lz4 >&2
# The configuration's fingerprint: a change to the lists rebuilds.
stamp=$(printf '%s\n' "$OPTIONS_ON" "$OPTIONS_MOD" "$OPTIONS_OFF" | sha256sum | cut -c1-16)
if [ -f "$SRC/.minihv-stamp" ] && [ "$(cat "$SRC/.minihv-stamp")" = "$stamp" ] &&
	[ -f "$SRC/arch/x86/boot/bzImage" ]; then
	make -s -C "$SRC" kernelrelease
	exit 0
fi

mkdir -p "$DEBUG_CACHE"
if [ ! -f "$SRC/Makefile" ]; then
	log "minihv: unpacking $TAR into $SRC"
	rm -rf "$SRC" && mkdir -p "$SRC"
	tar -xJf "$TAR" -C "$SRC" --strip-components=1
fi
log "minihv: configuring the debug kernel"
make -s -C "$SRC" x86_64_defconfig >&2
for o in $OPTIONS_ON; do "$SRC/scripts/config" --file "$SRC/.config" --enable "$o"; done
for o in $OPTIONS_MOD; do "$SRC/scripts/config" --file "$SRC/.config" --module "$o"; done
for o in $OPTIONS_OFF; do "$SRC/scripts/config" --file "$SRC/.config" --disable "$o"; done
"$SRC/scripts/config" --file "$SRC/.config" --set-str LOCALVERSION "$SUFFIX"
"$SRC/scripts/config" --file "$SRC/.config" --disable LOCALVERSION_AUTO
make -s -C "$SRC" olddefconfig >&2
for o in $OPTIONS_ON; do
	case " $OPTIONS_MOD " in *" $o "*) continue;; esac
	grep -q "^CONFIG_$o=y" "$SRC/.config" || die "debug kernel: CONFIG_$o did not stay on"
done
log "minihv: building the $FLAVOUR debug kernel ($(nproc) CPUs; about 25 minutes the first time)"
start=$(date +%s)
make -s -C "$SRC" -j"$(nproc)" bzImage modules >&2
make -s -C "$SRC" modules_install INSTALL_MOD_PATH="$DEBUG_CACHE/modules" INSTALL_MOD_STRIP=1 >&2
log "minihv: $FLAVOUR debug kernel built in $(( ($(date +%s) - start) / 60 )) minutes"
echo "$stamp" >"$SRC/.minihv-stamp"
make -s -C "$SRC" kernelrelease
