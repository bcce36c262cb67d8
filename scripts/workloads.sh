#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench rows 10-13: the classic comparison workloads, sized for an
# emulated machine.  The same script runs natively in the test machine and
# inside the Linux guest (busybox sh, awk); it prints one line per figure,
#   WORK <metric> <value>      (higher is better for each)
# and "WORK-FAILED <metric>" when a tool is missing or its output is not
# what this script parses.  The tools are Debian's: 7zip, openssl, mbw,
# postmark (bench.sh installs them; make_initramfs copies them in).

export PATH=/usr/bin:/bin:$PATH

# work METRIC VALUE: prints the line, or the failure when VALUE is empty.
work() {
	if [ -n "$2" ]; then echo "WORK $1 $2"; else echo "WORK-FAILED $1"; fi
}

# 10. 7-Zip's built-in benchmark, one thread, 64 KiB dictionary: the total
#     rating (MIPS), the last field of its "Tot:" line.
work sevenzip_mips "$(7zz b 1 -mmt1 -md16 2>/dev/null | awk '$1 == "Tot:" { print $NF }')"

# 11. OpenSSL: RSA-2048 signatures per second and SHA-256 bytes per second
#     on 16 KiB blocks, from -mr's machine-readable lines.
work openssl_rsa2048_sign_s "$(openssl speed -mr -seconds 2 rsa2048 2>/dev/null |
	awk -F: '$1 == "+F2" { print $4 }')"
work openssl_sha256_kbs "$(openssl speed -mr -seconds 2 -bytes 16384 sha256 2>/dev/null |
	awk -F: '$1 == "+F" { printf "%.0f", $4 / 1024 }')"

# 12. Memory bandwidth: mbw's memcpy test on 64 MiB, the average of 5 runs.
work mbw_memcpy_mibs "$(mbw -q -n 5 -t0 64 2>/dev/null |
	awk '$1 == "AVG" { for (i = 1; i < NF; i++) if ($i == "Copy:") print $(i + 1) }')"

# 13. File system: postmark on a tmpfs; its own figure counts whole
#     seconds, so the transactions are timed here from /proc/uptime.
pm=/tmp/postmark
mkdir -p $pm
mountpoint -q $pm 2>/dev/null || mount -t tmpfs -o size=64m tmpfs $pm 2>/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
done=$(printf 'set location %s\nset number 500\nset transactions 4000\nrun\nquit\n' $pm |
	postmark 2>/dev/null | awk '/transactions \(/ { print "yes" }')
t1=$(cut -d' ' -f1 /proc/uptime)
umount $pm 2>/dev/null
[ "$done" = yes ] || t1=""
work postmark_tps "$([ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { if (b > a) printf "%.0f", 4000 / (b - a) }')"
