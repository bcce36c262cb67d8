# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by scripts/check.sh and scripts/run.sh: Debian packages, guest
# kernels, the module built for each kernel, the initramfs and boot ISO,
# and booting one test machine.
#
# Test machines (BACKEND names):
#   qemu-svm   AMD-V, qemu-system-x86_64 -accel tcg,thread=single -cpu max
#              (NPT, VGIF; no NRIP save; full TLB flush on every VMRUN).
#              One TCG thread for both CPUs: QEMU 7.2's multi-threaded
#              TCG entered SVM guests with the host's state about once
#              in 150 SMP guests (Documentation/testing.rst);
#              TCG_THREAD=multi brings it back, to stress by hand
#   bochs-svm  AMD-V, Bochs cpu model zambezi (NRIP save, flush by ASID)
#   bochs-vmx  Intel VT-x, Bochs cpu model corei7_haswell_4770
#              (EPT, VPID, unrestricted guest, EPT A/D, VMCS shadowing)
#   qemu-none  neither: qemu64 without SVM, where loading must fail
# When the host's /dev/kvm can run a guest with nested SVM or VMX, the
# machines of that vendor run as qemu -accel kvm -cpu host instead.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# ---- packages ----------------------------------------------------------

BASE_PACKAGES="qemu-system-x86 bochs bochsbios vgabios busybox-static cpio
isolinux syslinux-common xorriso xz-utils linux-image-amd64 linux-headers-amd64
linux-image-cloud-amd64 linux-headers-cloud-amd64 linux-source-6.1 gcc make
libc6-dev binutils sparse clang e2fsprogs libslirp-dev"
BACKPORTS_LIST=/etc/apt/sources.list.d/minihv-bookworm-backports.list

pkg_installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'install ok installed'
}

have_backports_source() {
	grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
		grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/*.sources
}

# The versioned 6.12 image package behind bookworm-backports' linux-image-amd64.
backports_kernel_package() {
	local ver
	ver=$(apt-cache madison linux-image-amd64 2>/dev/null | awk '/bpo/ {print $3; exit}')
	[ -n "$ver" ] || return 1
	apt-cache show "linux-image-amd64=$ver" |
		sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n1
}

have_kernel_612() {
	compgen -G '/boot/vmlinuz-6.12.*-amd64' >/dev/null &&
		compgen -G '/usr/src/linux-headers-6.12.*-amd64' >/dev/null
}

# Installs what is missing (as root) or prints the command and stops;
# arguments are packages wanted besides BASE_PACKAGES.
ensure_packages() {
	local missing="" p img
	for p in $BASE_PACKAGES "$@"; do
		pkg_installed "$p" || missing="$missing $p"
	done
	if [ -z "$missing" ] && have_kernel_612; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		log "minihv: missing packages. As root, run:"
		have_backports_source ||
			log "  echo 'deb http://deb.debian.org/debian bookworm-backports main' > $BACKPORTS_LIST"
		log "  apt-get update && apt-get install -y$missing &&"
		log "  apt-get install -y -t bookworm-backports linux-image-amd64 linux-headers-amd64"
		log "(the last line is the 6.12 kernel; it leaves the 6.1 one installed)"
		exit 2
	fi
	log "minihv: installing:${missing:- (none)} and the 6.12 kernel"
	if ! have_backports_source; then
		echo 'deb http://deb.debian.org/debian bookworm-backports main' >"$BACKPORTS_LIST"
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	[ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing >&2
	if ! have_kernel_612; then
		img=$(backports_kernel_package) || die "no 6.12 kernel in bookworm-backports"
		apt-get install -y -q --no-install-recommends "$img" \
			"${img/linux-image/linux-headers}" >&2
	fi
}

# ---- kernels -----------------------------------------------------------

# kernel_release SERIES FLAVOR: newest installed release, e.g.
# "kernel_release 6.1 cloud" -> 6.1.0-56-cloud-amd64.
kernel_release() {
	local series=$1 flavor=$2 re
	re="^vmlinuz-${series//./\\.}\\.[0-9].*-amd64$"
	# shellcheck disable=SC2010
	ls /boot | grep -E "$re" | sed 's/^vmlinuz-//' |
		if [ "$flavor" = cloud ]; then grep -- '-cloud-amd64$'; else grep -v -- '-cloud-'; fi |
		sort -V | tail -n1
}

# Where a kernel release's files are: Debian's packages, or for the debug
# kernels of make check-debug (releases *-minihv-debug, built with KASAN,
# and *-minihv-debug-lite, without) their builds in DEBUG_CACHE
# (scripts/debug-kernel.sh).
DEBUG_CACHE=${DEBUG_CACHE:-/var/cache/minihv}
is_debug_release() { [[ $1 == *-minihv-debug || $1 == *-minihv-debug-lite ]]; }
debug_tree() {
	case "$1" in
	lite | *-minihv-debug-lite) echo "$DEBUG_CACHE/linux-6.1-lite";;
	*) echo "$DEBUG_CACHE/linux-6.1";;
	esac
}
kernel_headers() {
	if is_debug_release "$1"; then debug_tree "$1"; else echo "/usr/src/linux-headers-$1"; fi
}
kernel_image() {
	if is_debug_release "$1"; then echo "$(debug_tree "$1")/arch/x86/boot/bzImage"; else echo "/boot/vmlinuz-$1"; fi
}
kernel_modules() {
	if is_debug_release "$1"; then echo "$DEBUG_CACHE/modules/lib/modules/$1"; else echo "/lib/modules/$1"; fi
}

# Builds minihv.ko for release $1 in its own tree; prints the .ko path.
build_module_for() {
	local rel=$1 hdr out
	hdr=$(kernel_headers "$rel")
	[ -d "$hdr" ] || die "headers for $rel not installed ($hdr)"
	out=$BUILD/$rel/src
	rm -rf "$out" && mkdir -p "$out"
	cp -r "$ROOT/Kbuild" "$ROOT/module" "$ROOT/uapi" "$out/"
	# W=1 and -Werror: the module builds without a warning on every
	# kernel; C=1: sparse checks each file as it is compiled, and any
	# report of its fails the build too (make lint's other half).
	# MINIHV_TEST_HOOKS=1 (check.sh): with the tests' debugfs hooks.
	make -s -C "$hdr" M="$out" W=1 KCFLAGS=-Werror C=1 \
		MINIHV_TEST_HOOKS="${MINIHV_TEST_HOOKS:-}" modules >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; die "module build failed for $rel"; }
	if grep -E ': (warning|error):' "$out/build.log" >&2; then
		die "sparse (C=1) is not clean for $rel (above)"
	fi
	grep -v -e 'Skipping BTF generation' "$out/build.log" >&2 || true
	strip --strip-debug "$out/minihv.ko"
	echo "$out/minihv.ko"
}

# ---- boot images -------------------------------------------------------

# copy_libs ROOTDIR BINARY...: the shared libraries the binaries load
# (ldd), at the same paths under ROOTDIR.
copy_libs() {
	local root=$1 f
	shift
	for f in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do
		[ -f "$f" ] || continue
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}

# copy_with_libs ROOTDIR BINARY...: the binaries and the shared libraries
# they load (ldd), at the same paths under ROOTDIR.
copy_with_libs() {
	local root=$1 f
	shift
	copy_libs "$root" "$@"
	for f in "$@"; do
		[ -f "$f" ] || continue
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}

# guest_modules REL DIR NAME...: the modules NAME of release REL and what
# they need (modules.dep), uncompressed into DIR/lib/modules, and their
# load order in DIR/lib/modules/order; a module built into the kernel
# (modules.builtin) is left out.
guest_modules() {
	local rel=$1 dir=$2 moddir name line path dep
	shift 2
	moddir=$(kernel_modules "$rel")
	mkdir -p "$dir/lib/modules"
	for name in "$@"; do
		grep -qE "/$name\.ko(\.xz)?\$" "$moddir/modules.builtin" 2>/dev/null && continue
		line=$(grep -E "(^|/)$name\.ko(\.xz)?:" "$moddir/modules.dep") ||
			die "$rel: no module $name"
		path=${line%%:*}
		for dep in ${line#*:}; do
			dep=${dep##*/}
			guest_modules "$rel" "$dir" "${dep%%.ko*}"
		done
		grep -qx "$name" "$dir/lib/modules/order" 2>/dev/null && continue
		case "$path" in
		*.xz) xz -dc "$moddir/$path" >"$dir/lib/modules/$name.ko";;
		*) cp "$moddir/$path" "$dir/lib/modules/$name.ko";;
		esac
		echo "$name" >>"$dir/lib/modules/order"
	done
}

# guest_disks DIR: linux_boot_test's images in DIR/guests: disk.ext4, an
# ext4 file system holding hello.txt (its SHA-256 in hello.sha256), and
# ro.img, a raw disk for --disk ro.img,ro; the host's e2fsprogs (mkfs.ext4 -d).
guest_disks() {
	local dir=$1 src
	src=$(mktemp -d)
	head -c 100000 /dev/urandom >"$src/hello.txt"
	sha256sum "$src/hello.txt" | cut -d' ' -f1 >"$dir/guests/hello.sha256"
	rm -f "$dir/guests/disk.ext4"
	mkfs.ext4 -q -F -d "$src" -L minihv "$dir/guests/disk.ext4" 8M >/dev/null
	rm -rf "$src"
	head -c 65536 /dev/urandom >"$dir/guests/ro.img"
	# debugfs and e2fsck read the disk back after the guest.
	copy_with_libs "$dir" /usr/sbin/debugfs /usr/sbin/e2fsck
}

# make_initramfs REL: busybox, /init, minihv.ko, KVM's modules, the
# selftests, minihv-run, minihv-bench and the sample guests; prints the
# image path.  BENCH_TOOLS adds make bench's tools: "work" its workloads
# (workloads.sh), "io" its disk and network rows (io-workloads.sh).
make_initramfs() {
	local rel=$1 ko dir m f
	# MINIHV_KO_FILE: a module built elsewhere (DKMS's, check-packages.sh).
	if [ -n "${MINIHV_KO_FILE:-}" ]; then
		ko=$MINIHV_KO_FILE
	else
		ko=$(build_module_for "$rel") || exit 2
	fi
	dir=$BUILD/$rel/initramfs
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp,selftests,guests,lib/minihv/kvm}
	cp /bin/busybox "$dir/bin/busybox"
	ln -s busybox "$dir/bin/sh"
	cp "$ROOT/scripts/guest-init.sh" "$dir/init"
	chmod 755 "$dir/init"
	cp "$ko" "$dir/lib/minihv/minihv.ko"
	for m in irqbypass kvm kvm-amd kvm-intel ccp; do
		f=$(find "$(kernel_modules "$rel")/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
		[ -n "$f" ] || continue
		case "$f" in
		*.xz) xz -dc "$f" >"$dir/lib/minihv/kvm/$m.ko";;
		*) cp "$f" "$dir/lib/minihv/kvm/$m.ko";;
		esac
	done
	# msr.ko: hoststate_test reads the host's MSRs through /dev/cpu/N/msr;
	# tun.ko: linux_boot_test's TAP device for the guest's network (and
	# make bench's); loop.ko: make bench's native disk rows.
	for m in msr tun loop; do
		f=$(find "$(kernel_modules "$rel")/kernel" -name $m.ko -o -name $m.ko.xz | head -n1)
		case "$f" in
		*.xz) xz -dc "$f" >"$dir/lib/minihv/$m.ko";;
		?*) cp "$f" "$dir/lib/minihv/$m.ko";;
		esac
	done
	# zram and what it needs, in /lib/minihv/swap/lib/modules (and their
	# order): hostmem_test swaps guest memory out to it.  6.1's zram
	# compresses through the crypto API: its default, lzo-rle, is a
	# module in the cloud kernel.
	if grep -q '/lzo-rle\.ko' "$(kernel_modules "$rel")/modules.dep"; then
		guest_modules "$rel" "$dir/lib/minihv/swap" lzo-rle
	fi
	guest_modules "$rel" "$dir/lib/minihv/swap" zram
	for f in "$ROOT"/selftests/*_test; do
		[ -x "$f" ] && cp "$f" "$dir/selftests/"
	done
	# What the coverage-guided fuzzer learnt on this machine (check.sh).
	if [ -f "$BUILD/fuzz-corpus" ]; then cp "$BUILD/fuzz-corpus" "$dir/selftests/"; fi
	for f in minihv-run minihv-bench; do
		[ -x "$ROOT/userspace/$f" ] && cp "$ROOT/userspace/$f" "$dir/bin/"
	done
	# minihv-run links libslirp (--net user), and so glib and the C library.
	[ -x "$ROOT/userspace/minihv-run" ] && copy_libs "$dir" "$ROOT/userspace/minihv-run"
	for f in "$ROOT"/userspace/guests/*.bin "$ROOT"/userspace/guests/*.elf; do
		[ -f "$f" ] && cp "$f" "$dir/guests/"
	done
	# The machine's own kernel as a guest (linux_boot_test; the Bochs
	# machines boot the LZ4 cloud kernel, in about a minute nested).
	# (A debug kernel boots the Debian one it was built from: KASAN
	# would make the nested boot several times slower.)
	if is_debug_release "$rel"; then
		cp "/boot/vmlinuz-$(kernel_release 6.1 generic)" "$dir/guests/vmlinuz"
	else
		cp "$(kernel_image "$rel")" "$dir/guests/vmlinuz"
	fi
	# The Linux guest's own initramfs: busybox and linux-guest-init.sh,
	# and the virtio modules of the guest's kernel with ext4.
	rm -rf "$dir.guest" && mkdir -p "$dir.guest"/{bin,dev,proc,sys,mnt}
	cp /bin/busybox "$dir.guest/bin/busybox"
	for f in sh mount awk cat nproc sleep poweroff reboot setsid cttyhack ls echo \
		insmod head od tr wc sha256sum cut umount dd ip nc udhcpc netstat grep chmod; do
		ln -s busybox "$dir.guest/bin/$f"
	done
	if is_debug_release "$rel"; then f=$(kernel_release 6.1 generic); else f=$rel; fi
	guest_modules "$f" "$dir.guest" virtio virtio_ring virtio_mmio virtio-rng virtio_blk \
		crc32c_generic ext4 virtio_net
	guest_disks "$dir"
	# linux_boot_test's UDP echo, behind hostfwd=udp: (static).
	[ -x "$ROOT/selftests/udp_echo" ] && cp "$ROOT/selftests/udp_echo" "$dir.guest/bin/"
	cp "$ROOT/scripts/linux-guest-init.sh" "$dir.guest/init"
	chmod 755 "$dir.guest/init"
	(cd "$dir.guest" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/guests/linux-initrd.gz"
	# make bench's tools, natively and in a guest initramfs of their own,
	# so make check's stays small: BENCH_TOOLS "work" for the workloads
	# (rows 10-13, linux-bench-initrd.gz), "io" for disk and network
	# (rows 15-18, linux-io-initrd.gz: fio and its libraries alone are
	# some 80 MiB, which the workloads' guest need not unpack).
	case " ${BENCH_TOOLS:-} " in
	*" io "*)
		rm -rf "$dir.io" && cp -a "$dir.guest" "$dir.io"
		for f in mkdir timeout; do
			ln -s busybox "$dir.io/bin/$f"
		done
		for f in "$dir" "$dir.io"; do
			copy_with_libs "$f" /usr/bin/fio /usr/bin/iperf3
			cp "$ROOT/userspace/tcp-rr" "$f/bin/tcp-rr"
			cp "$ROOT/scripts/io-workloads.sh" "$f/bin/io-workloads.sh"
		done
		# The machine's TAP device for the guest: busybox's ip has no tuntap.
		copy_with_libs "$dir" /usr/bin/ip
		(cd "$dir.io" && find . | cpio -o -H newc --quiet | gzip -1) \
			>"$dir/guests/linux-io-initrd.gz"
		;;
	esac
	case " ${BENCH_TOOLS:-} " in
	*" work "*)
		for f in cut mkdir umount mountpoint; do
			ln -s busybox "$dir.guest/bin/$f"
		done
		for f in "$dir" "$dir.guest"; do
			copy_with_libs "$f" /usr/bin/7zz /usr/bin/openssl /usr/bin/mbw /usr/bin/postmark
			cp "$ROOT/scripts/workloads.sh" "$f/bin/workloads.sh"
		done
		(cd "$dir.guest" && find . | cpio -o -H newc --quiet | gzip -1) \
			>"$dir/guests/linux-bench-initrd.gz"
		;;
	esac
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$BUILD/$rel/initramfs.gz"
	echo "$BUILD/$rel/initramfs.gz"
}

# make_iso NAME REL INITRAMFS CMDLINE: an isolinux CD for Bochs machine
# NAME; prints its path.  Each machine has its own, as machines boot in
# parallel.
make_iso() {
	local name=$1 rel=$2 initrd=$3 cmdline=$4 dir iso
	dir=$BUILD/$rel/iso-$name
	iso=$BUILD/$rel/boot-$name.iso
	rm -rf "$dir" && mkdir -p "$dir/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/isolinux/"
	cp "$(kernel_image "$rel")" "$dir/vmlinuz"
	cp "$initrd" "$dir/initrd.gz"
	cat >"$dir/isolinux/isolinux.cfg" <<-EOF
	DEFAULT minihv
	PROMPT 0
	TIMEOUT 0
	LABEL minihv
	  KERNEL /vmlinuz
	  APPEND initrd=/initrd.gz $cmdline
	EOF
	xorriso -as mkisofs -quiet -o "$iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$dir" 2>/dev/null ||
		die "xorriso failed"
	echo "$iso"
}

# ---- the host's own KVM --------------------------------------------------

# Prints "svm", "vmx" or "none": what a guest of the host's /dev/kvm sees,
# found by booting a guest there under a time limit.  The machines here
# have a /dev/kvm that starts real-mode firmware and then hangs, so only a
# guest that reaches its shell counts.
kvm_probe() {
	local rel=$1 initrd=$2 out
	if [ ! -w /dev/kvm ]; then
		echo none; return
	fi
	out=$BUILD/kvm-probe.log
	rm -f "$out"
	timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 512 -nodefaults -display none \
		-no-reboot -serial "file:$out" -kernel "$(kernel_image "$rel")" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 minihv_mode=probe" </dev/null >/dev/null 2>&1 || true
	sed -n 's/^MINIHV-END probe \([a-z]*\).*/\1/p' "$out" 2>/dev/null | head -n1 | grep . || echo none
}

# ---- booting a machine -------------------------------------------------

machine_vendor() {
	case "$1" in
	*-svm) echo svm;;
	*-vmx) echo vmx;;
	*-none) echo none;;
	esac
}

# Kernel command line common to every machine.  panic_on_warn and
# oops=panic turn any kernel warning into a stopped machine, which the host
# sees as a missing end line and a "Kernel panic" in the log.
#
# Bochs machines idle with HLT (idle=halt).  Linux idles an Intel CPU with
# MONITOR/MWAIT and wakes it by a plain store to the monitored line, with
# no IPI; Bochs 2.7 sometimes misses that store, and the CPU sleeps until
# its next interrupt, which a tickless idle CPU may not have for minutes.
# Seen on bochs-vmx: boots stalled for 300 to 630 s of the machine's time
# at random places, once ending in RCU's "grace period not started"
# warning.  A halted CPU is woken by an interrupt, which Bochs delivers.
#
# A QEMU machine has 2 GiB more memory than a Bochs one, of which 1 GiB is
# reserved at boot as one huge page: hostmem_test's 1 GiB nested leaf.
# (With 2 GiB the initrd, which QEMU loads below 2 GiB, breaks up the one
# aligned GiB there could be.)
machine_cmdline() {
	local name=$1 mode=$2 extra=$3 idle="" huge=""
	case "$name" in
	bochs-*) idle="idle=halt ";;
	qemu-*) huge="hugepagesz=1G hugepages=1 ";;
	esac
	echo "console=ttyS0,115200 panic=-1 panic_on_warn=1 oops=panic" \
		"${idle}${huge}minihv_mode=$mode minihv_machine=$name minihv_expect=$(machine_vendor "$name") $extra"
}

bochs_cpu_model() {
	case "$1" in
	bochs-svm) echo zambezi;;
	bochs-vmx) echo corei7_haswell_4770;;
	esac
}

write_bochsrc() {
	local rc=$1 model=$2 iso=$3 console=$4 bxlog=$5
	cat >"$rc" <<-EOF
	megs: 1024
	cpu: model=$model, count=2, ips=50000000, reset_on_triple_fault=0
	romimage: file=/usr/share/bochs/BIOS-bochs-latest
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	ata0-master: type=cdrom, path=$iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$console
	display_library: rfb, options="timeout=0"
	# ALSA's mixer thread aborts Bochs 2.7 on a machine with no sound card.
	clock: sync=none, time0=local
	log: $bxlog
	panic: action=fatal
	error: action=report
	info: action=report
	debug: action=ignore
	sound: driver=dummy
	speaker: enabled=0
	EOF
}

# boot_machine NAME REL INITRAMFS MODE CONSOLE TIMEOUT [EXTRA_CMDLINE] [FOLLOW]
# Boots, waits for the end line (or a panic, or the time limit), stops the
# emulator and returns.  With FOLLOW=1 the console is copied to stdout live.
# Returns 0 if the end line was seen, 1 otherwise.
boot_machine() {
	local name=$1 rel=$2 initrd=$3 mode=$4 console=$5 limit=$6 extra=${7:-} follow=${8:-0}
	local cmdline accel=${ACCEL_KVM:-} pid dir iso="" start shown=0 ended=1 lines stopped last gap
	cmdline=$(machine_cmdline "$name" "$mode" "$extra")
	dir=$(dirname "$console")
	mkdir -p "$dir"
	: >"$console"

	case "$name" in
	qemu-*)
		local cpu="-accel tcg,thread=${TCG_THREAD:-single} -cpu max"
		[ "$accel" = "$(machine_vendor "$name")" ] && cpu="-accel kvm -cpu host"
		[ "$name" = qemu-none ] && cpu="-accel tcg -cpu qemu64,-svm"
		# shellcheck disable=SC2086
		# QEMU_EXTRA: more options while debugging (-s: the gdb stub).
		setsid qemu-system-x86_64 $cpu -m 3072 -smp 2 -nodefaults -display none ${QEMU_EXTRA:-} \
			-no-reboot -serial "file:$console" -kernel "$(kernel_image "$rel")" \
			-initrd "$initrd" -append "$cmdline" </dev/null >"${console%.console}.qemu.log" 2>&1 &
		pid=$!
		;;
	bochs-*)
		iso=$(make_iso "$name" "$rel" "$initrd" "$cmdline")
		write_bochsrc "$dir/$name.bochsrc" "$(bochs_cpu_model "$name")" "$iso" \
			"$console" "$dir/$name.bochs.log"
		echo c >"$dir/$name.bochs.rc"
		# The debugger build stops at a prompt: -rc answers it with
		# "continue", stdin from /dev/null ends it at exit.
		(cd "$dir" && exec setsid bochs -q -f "$name.bochsrc" -rc "$name.bochs.rc" \
			</dev/null >"$dir/$name.bochs.out" 2>&1) &
		pid=$!
		;;
	*) die "unknown machine $name";;
	esac

	# The emulator has a session of its own: take it down with this script.
	# shellcheck disable=SC2064
	trap "kill -TERM -- -$pid 2>/dev/null; exit 143" INT TERM
	start=$SECONDS
	stopped=0
	last=$EPOCHSECONDS
	while kill -0 "$pid" 2>/dev/null || { stopped=1; false; }; do
		# One pass takes about a second.  A long gap means this host
		# itself did not run (its VM paused, say): every emulated clock
		# then jumps, and a machine may report a CPU "stuck" that long.
		gap=$((EPOCHSECONDS - last))
		[ "$gap" -lt 15 ] || log "$(basename "$console" .console): this host did" \
			"not run for ${gap}s (until $(date +%T)); a CPU the machine reports" \
			"stuck about that long was the pause's, not minihv's"
		last=$EPOCHSECONDS
		if [ "$follow" = 1 ]; then
			lines=$(wc -l <"$console")
			if [ "$lines" -gt "$shown" ]; then
				sed -n "$((shown + 1)),${lines}p" "$console" | tr -d '\r'
				shown=$lines
			fi
		fi
		if grep -aq '^MINIHV-END' "$console"; then
			ended=0
			break
		fi
		# A panicked guest reboots (panic=-1); Bochs would boot it again.
		if grep -aq 'end Kernel panic' "$console"; then
			break
		fi
		if [ $((SECONDS - start)) -ge "$limit" ]; then
			log "$name: no end line after ${limit}s, stopping it"
			echo "MINIHV-HOST: timeout after ${limit}s" >>"$console"
			break
		fi
		sleep 1
	done
	# Gone before its end line: the machine reset (-no-reboot), crashed,
	# or the emulator failed; say so, with what the emulator said.
	if [ "$stopped" = 1 ] && ! grep -aq '^MINIHV-END' "$console"; then
		echo "MINIHV-HOST: the emulator exited before the end line (a reset or a crash)" >>"$console"
		[ -s "${console%.console}.qemu.log" ] && tail -n 20 "${console%.console}.qemu.log" >>"$console"
		log "$name: the emulator exited before the end line; console: $console"
	fi
	kill -TERM -- -"$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	trap - INT TERM
	grep -aq '^MINIHV-END' "$console" && ended=0
	if [ "$follow" = 1 ]; then
		sed -n "$((shown + 1)),\$p" "$console" | tr -d '\r'
	fi
	[ -n "$iso" ] && rm -f "$iso"
	return $ended
}
