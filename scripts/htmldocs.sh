#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make htmldocs: Documentation/*.rst rendered by Sphinx (Debian's
# python3-sphinx, installed here as root if missing) into build/htmldocs.
# Any Sphinx warning fails the build, as the kernel's "make htmldocs" with
# SPHINXOPTS=-W does: a broken cross-reference or heading is a bug.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

out=$BUILD/htmldocs
if ! command -v sphinx-build >/dev/null; then
	[ "$(id -u)" = 0 ] || die "htmldocs needs python3-sphinx: apt-get install python3-sphinx"
	log "minihv: installing python3-sphinx"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -q --no-install-recommends \
		python3-sphinx >&2
fi
rm -rf "$out"
sphinx-build -W -q -b html -d "$BUILD/htmldocs.doctrees" "$ROOT/Documentation" "$out"
log "minihv: documentation in $out/index.html"
