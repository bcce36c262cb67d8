#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: two Debian packages in build/deb, made with dpkg-deb:
#   minihv-dkms   the module's source in /usr/src/minihv-VERSION, built by
#                 DKMS for every installed kernel with headers (and again
#                 for each kernel installed later)
#   minihv-utils  minihv-run, minihv-bench (and their man pages), the sample guests
#                 (/usr/share/minihv/guests), the uapi header, and the udev
#                 rule giving /dev/minihv to the group minihv (mode 0660),
#                 which the package creates
# Prints the two package paths.

set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
OUT=$BUILD/deb
ARCH=$(dpkg --print-architecture)

rm -rf "$OUT" && mkdir -p "$OUT"
make -s -C "$ROOT" userspace >&2

# ---- minihv-dkms ----
d=$OUT/minihv-dkms
src=$d/usr/src/minihv-$VERSION
mkdir -p "$src" "$d/DEBIAN"
cp -r "$ROOT/Kbuild" "$ROOT/dkms.conf" "$ROOT/module" "$ROOT/uapi" "$src/"
find "$src" \( -name '*.o' -o -name '*.cmd' -o -name '*.ko' -o -name '*.mod*' \) -delete
cat >"$d/DEBIAN/control" <<EOF
Package: minihv-dkms
Version: $VERSION
Architecture: all
Depends: dkms (>= 3), make, gcc
Maintainer: minihv developers <minihv@localhost>
Section: kernel
Priority: optional
Description: minihv hypervisor module, built by DKMS
 minihv.ko turns on Intel VT-x or AMD-V and runs guests behind /dev/minihv,
 with a KVM-shaped ioctl interface.  DKMS builds it for every installed
 kernel that has its headers.
EOF
cat >"$d/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
	dkms add -m minihv -v $VERSION >/dev/null 2>&1 || true
	# Every kernel with headers; one that fails is named, not hidden.
	for k in \$(ls /lib/modules); do
		[ -e "/lib/modules/\$k/build/Makefile" ] || continue
		dkms install -m minihv -v $VERSION -k "\$k" ||
			echo "minihv-dkms: the module did not build for \$k (see /var/lib/dkms/minihv/$VERSION/build/make.log)" >&2
	done
fi
EOF
cat >"$d/DEBIAN/prerm" <<EOF
#!/bin/sh
set -e
dkms remove -m minihv -v $VERSION --all >/dev/null 2>&1 || true
EOF
chmod 755 "$d/DEBIAN/postinst" "$d/DEBIAN/prerm"

# ---- minihv-utils ----
u=$OUT/minihv-utils
mkdir -p "$u/DEBIAN" "$u/usr/bin" "$u/usr/share/minihv/guests" "$u/usr/include/linux" \
	"$u/lib/udev/rules.d" "$u/usr/share/doc/minihv-utils" "$u/usr/share/man/man1"
install -m 755 "$ROOT/userspace/minihv-run" "$ROOT/userspace/minihv-bench" "$u/usr/bin/"
install -m 644 "$ROOT"/userspace/guests/*.bin "$ROOT"/userspace/guests/*.elf \
	"$u/usr/share/minihv/guests/"
install -m 644 "$ROOT/uapi/linux/minihv.h" "$u/usr/include/linux/"
install -m 644 "$ROOT/packaging/60-minihv.rules" "$u/lib/udev/rules.d/"
for f in "$ROOT"/packaging/*.1; do
	gzip -9n <"$f" >"$u/usr/share/man/man1/$(basename "$f").gz"
done
install -m 644 "$ROOT/README.md" "$ROOT"/Documentation/*.rst "$u/usr/share/doc/minihv-utils/"
cat >"$u/DEBIAN/control" <<EOF
Package: minihv-utils
Version: $VERSION
Architecture: $ARCH
Depends: libc6, libslirp0
Recommends: minihv-dkms
Maintainer: minihv developers <minihv@localhost>
Section: admin
Priority: optional
Description: minihv hypervisor: runner, benchmark and sample guests
 minihv-run loads a guest (flat binary, ELF, Multiboot, Linux bzImage) and
 runs it on /dev/minihv or /dev/kvm; minihv-bench compares the two.  The
 udev rule gives /dev/minihv to the group minihv.
EOF
cat >"$u/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	getent group minihv >/dev/null || addgroup --system minihv >/dev/null
	udevadm control --reload-rules >/dev/null 2>&1 || true
	udevadm trigger --name-match=minihv >/dev/null 2>&1 || true
fi
EOF
cat >"$u/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ] && getent group minihv >/dev/null; then
	delgroup --system minihv >/dev/null 2>&1 || true
fi
EOF
chmod 755 "$u/DEBIAN/postinst" "$u/DEBIAN/postrm"

for p in minihv-dkms minihv-utils; do
	dpkg-deb --root-owner-group -Zxz --build "$OUT/$p" "$OUT" >&2
done
ls "$OUT"/minihv-dkms_"$VERSION"_all.deb "$OUT"/minihv-utils_"$VERSION"_"$ARCH".deb
