# SPDX-License-Identifier: GPL-2.0
#
# minihv top-level Makefile.
#
#   make              minihv.ko (kbuild), userspace/minihv-run, the sample
#                     guests and the selftests
#   make check        boot the test machines and run the selftests in each
#                     (BACKEND=..., KVER=...: see scripts/check.sh)
#   make run          boot a test machine and run the greeting guest
#   make bench        minihv against KVM in the same boot (scripts/bench.sh)
#   make check-debug  make check on a KASAN/lockdep/kmemleak kernel
#   make lint         checkpatch.pl --strict (make check runs it too)
#   make install / uninstall   PREFIX=/usr/local, DESTDIR=
#   make htmldocs     Documentation/ rendered by Sphinx into build/htmldocs
#   make lab N        lab N of Documentation/labs (a copy in build/labs/N)
#   make check-labs   every lab's starter and known-wrong answer fails its
#                     tests, this tree passes (LAB="2 3": some labs only)
#   make labs-dist    build/minihv-labs.tar.gz: the starters, no answers
#   make deb          Debian packages minihv-dkms and minihv-utils
#   make check-packages  install them here, test, purge (root)
#   make clean
#
# KDIR is the kernel build tree.  It defaults to the running kernel's; where
# that has none (a machine whose kernel came without headers) the newest
# installed Debian linux-headers-*-amd64 is used, and the choice is printed.

RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
  ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
    KDIR := $(RUNNING_KDIR)
  else
    KDIR := $(lastword $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
		grep -v -- '-cloud-' | sort -V))
    ifneq ($(KDIR),)
      $(info minihv: no headers for the running kernel $(shell uname -r); building against $(KDIR))
    endif
  endif
endif

# kselftest's headers, from Debian's linux-source-6.1 (never copied in).
LINUX_SOURCE_TAR ?= $(lastword $(sort $(wildcard /usr/src/linux-source-6.1.tar.xz)))
KSFT_DIR := $(CURDIR)/build/kselftest
KSFT_HEADERS := $(KSFT_DIR)/kselftest.h $(KSFT_DIR)/kselftest_harness.h

all: module userspace selftests

module:
	@test -n "$(KDIR)" || { echo "minihv: no kernel headers found: install linux-headers-amd64 or set KDIR"; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

userspace:
	$(MAKE) -C userspace

$(KSFT_HEADERS):
	@test -f "$(LINUX_SOURCE_TAR)" || { echo "minihv: kselftest headers come from linux-source-6.1: apt-get install linux-source-6.1"; exit 1; }
	@mkdir -p $(KSFT_DIR)
	tar -xJf $(LINUX_SOURCE_TAR) -C $(KSFT_DIR) --strip-components=4 \
		--wildcards '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h'
	@touch $(KSFT_HEADERS)

kselftest-headers: $(KSFT_HEADERS)

selftests: $(KSFT_HEADERS)
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR)

check:
	scripts/check.sh

# The same machines on a kernel with KASAN, lockdep, kmemleak and fault
# injection (built once into /var/cache/minihv), the fuzzers run long.
check-debug:
	DEBUG=1 scripts/check.sh

# checkpatch.pl --strict over the module (also make check's first step).
lint:
	scripts/lint.sh

run:
	scripts/run.sh

bench:
	scripts/bench.sh

# make lab 3: the lab's number is a goal of its own, which does nothing.
LAB_NUMBERS := 1 2 3 4 5 6 7 8
lab:
	scripts/lab.sh $(filter $(LAB_NUMBERS),$(MAKECMDGOALS))
ifneq ($(filter lab,$(MAKECMDGOALS)),)
$(LAB_NUMBERS):
	@:
endif

check-labs:
	scripts/lab.sh --check-all "$(LAB)"

labs-dist:
	scripts/lab.sh --dist

# For those not on Debian (Debian: make deb).  The module goes to the
# release KDIR belongs to; DESTDIR stages everything (no depmod then).
PREFIX ?= /usr/local
KRELEASE = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
INSTALLED = $(DESTDIR)$(PREFIX)/bin/minihv-run $(DESTDIR)$(PREFIX)/bin/minihv-bench \
	    $(DESTDIR)$(PREFIX)/include/linux/minihv.h \
	    $(DESTDIR)/etc/udev/rules.d/60-minihv.rules \
	    $(DESTDIR)$(PREFIX)/share/man/man1/minihv-run.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/minihv-bench.1

install: module userspace
	install -D -m 644 minihv.ko $(DESTDIR)/lib/modules/$(KRELEASE)/extra/minihv.ko
	install -D -m 755 userspace/minihv-run $(DESTDIR)$(PREFIX)/bin/minihv-run
	install -D -m 755 userspace/minihv-bench $(DESTDIR)$(PREFIX)/bin/minihv-bench
	install -D -m 644 uapi/linux/minihv.h $(DESTDIR)$(PREFIX)/include/linux/minihv.h
	install -d $(DESTDIR)$(PREFIX)/share/minihv/guests
	install -m 644 userspace/guests/*.bin userspace/guests/*.elf $(DESTDIR)$(PREFIX)/share/minihv/guests/
	install -D -m 644 packaging/60-minihv.rules $(DESTDIR)/etc/udev/rules.d/60-minihv.rules
	install -D -m 644 packaging/minihv-run.1 $(DESTDIR)$(PREFIX)/share/man/man1/minihv-run.1
	install -D -m 644 packaging/minihv-bench.1 $(DESTDIR)$(PREFIX)/share/man/man1/minihv-bench.1
	test -n "$(DESTDIR)" || depmod $(KRELEASE)
	@echo "minihv: installed; 'groupadd minihv' and add users to it for /dev/minihv"

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KRELEASE)/extra/minihv.ko $(INSTALLED)
	rm -rf $(DESTDIR)$(PREFIX)/share/minihv
	test -n "$(DESTDIR)" || depmod $(KRELEASE)

# Documentation/*.rst through Sphinx into build/htmldocs (warnings fail).
htmldocs:
	scripts/htmldocs.sh

# Debian packages (minihv-dkms, minihv-utils) in build/deb.
deb:
	scripts/make-deb.sh

# As root: install the packages here, check what DKMS built in a machine, purge.
check-packages:
	scripts/check-packages.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build

.PHONY: all module userspace selftests kselftest-headers check check-debug lint run bench htmldocs \
	install uninstall deb check-packages clean lab check-labs labs-dist
