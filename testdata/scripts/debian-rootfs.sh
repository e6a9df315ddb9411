#!/usr/bin/env bash
# Builds (once) a Debian bookworm minbase rootfs and a tar of it for tests and benchmarks.
#   debian-rootfs.sh [--with PKG,PKG...] OUTDIR
# Produces OUTDIR/rootfs/ and OUTDIR/rootfs.tar (GNU tar, numeric owners, xattrs, nanosecond mtimes).
# The result is cached: a second call with the same OUTDIR and package list returns at once.
set -euo pipefail
include=""
if [ "${1:-}" = "--with" ]; then include="$2"; shift 2; fi
out="${1:?usage: debian-rootfs.sh [--with PKGS] OUTDIR}"
stamp="$out/.complete-${include:-minbase}"
if [ -f "$stamp" ]; then exit 0; fi
command -v debootstrap >/dev/null || { echo "debian-rootfs.sh: debootstrap is not installed (apt-get install -y debootstrap)" >&2; exit 1; }
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rm -rf "$out/rootfs" "$out/rootfs.tar" "$out"/.complete-*
mkdir -p "$out"
args=(--variant=minbase)
[ -n "$include" ] && args+=(--include="$include")
debootstrap "${args[@]}" bookworm "$out/rootfs" "$mirror" >"$out/debootstrap.log" 2>&1 \
  || { echo "debian-rootfs.sh: debootstrap failed, see $out/debootstrap.log" >&2; exit 1; }
# Drop what differs between runs and is useless in an image.
rm -rf "$out/rootfs/var/cache/apt/archives/"*.deb "$out/rootfs/var/log/"*
tar --numeric-owner --xattrs --xattrs-include='*' --format=posix -C "$out/rootfs" -cf "$out/rootfs.tar.tmp" .
mv "$out/rootfs.tar.tmp" "$out/rootfs.tar"
touch "$stamp"
